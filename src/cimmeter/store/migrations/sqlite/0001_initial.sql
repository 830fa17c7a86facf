-- cimmeter schema 1 for SQLite.
-- Datetimes are INTEGER microseconds since 1970-01-01 UTC; reading timestamps are INTEGER
-- seconds (the ReadingBlock unit, end of interval). Surrogate keys are INTEGER PRIMARY KEY.
-- No foreign keys: the PostgreSQL twin of this schema is laid out for Citus, and both stay alike.

CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    mrid TEXT NOT NULL,
    serial_number TEXT,
    status TEXT,
    names TEXT NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, mrid)
);
CREATE INDEX objects_serial ON objects (kind, serial_number) WHERE serial_number IS NOT NULL;

CREATE TABLE object_names (
    object_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_type TEXT,
    authority TEXT
);
CREATE INDEX object_names_lookup ON object_names (kind, name, name_type);
CREATE INDEX object_names_object ON object_names (object_id);

CREATE TABLE object_history (
    object_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    serial_number TEXT,
    status TEXT,
    names TEXT NOT NULL,
    document TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    PRIMARY KEY (object_id, version)
) WITHOUT ROWID;

CREATE TABLE linkages (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    from_mrid TEXT NOT NULL,
    to_mrid TEXT NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_to INTEGER,
    role TEXT,
    reason TEXT,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX linkages_from ON linkages (kind, from_mrid, valid_from);
CREATE INDEX linkages_to ON linkages (kind, to_mrid, valid_from);

CREATE TABLE reading_types (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    macro_period INTEGER NOT NULL,
    aggregate INTEGER NOT NULL,
    measuring_period INTEGER NOT NULL,
    accumulation INTEGER NOT NULL,
    flow_direction INTEGER NOT NULL,
    commodity INTEGER NOT NULL,
    measurement_kind INTEGER NOT NULL,
    interharmonic_numerator INTEGER NOT NULL,
    interharmonic_denominator INTEGER NOT NULL,
    argument_numerator INTEGER NOT NULL,
    argument_denominator INTEGER NOT NULL,
    tou INTEGER NOT NULL,
    cpp INTEGER NOT NULL,
    consumption_tier INTEGER NOT NULL,
    phases INTEGER NOT NULL,
    multiplier INTEGER NOT NULL,
    unit INTEGER NOT NULL,
    currency INTEGER NOT NULL,
    names TEXT NOT NULL,
    document TEXT NOT NULL
);

-- Dictionary of quality sets: codes sorted and joined by ';'. Id 0 is the empty set.
CREATE TABLE quality_sets (
    id INTEGER PRIMARY KEY,
    codes TEXT NOT NULL UNIQUE
);
INSERT INTO quality_sets (id, codes) VALUES (0, '');

-- One row per ingest call and source: when readings were received and from whom.
CREATE TABLE ingest_batches (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    source TEXT
);

-- Current readings. series: 0 raw, 1 final; kind: 0 interval, 1 register;
-- usage_point_id 0 = not attributed (no linkage at that time).
CREATE TABLE readings (
    meter_id INTEGER NOT NULL,
    reading_type_id INTEGER NOT NULL,
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    quality_id INTEGER NOT NULL,
    usage_point_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    batch_id INTEGER NOT NULL,
    PRIMARY KEY (meter_id, reading_type_id, series, ts)
) WITHOUT ROWID;

-- Prior versions: the row as it was, and the batch that replaced it.
CREATE TABLE reading_versions (
    id INTEGER PRIMARY KEY,
    meter_id INTEGER NOT NULL,
    reading_type_id INTEGER NOT NULL,
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    quality_id INTEGER NOT NULL,
    batch_id INTEGER NOT NULL,
    superseded_batch_id INTEGER NOT NULL
);
CREATE INDEX reading_versions_key ON reading_versions (meter_id, reading_type_id, series, ts);

-- Rare per-reading attributes (ReadingBlock.extras), tied to the version that carried them.
CREATE TABLE reading_extras (
    meter_id INTEGER NOT NULL,
    reading_type_id INTEGER NOT NULL,
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    batch_id INTEGER NOT NULL,
    extras TEXT NOT NULL,
    PRIMARY KEY (meter_id, reading_type_id, series, ts, batch_id)
) WITHOUT ROWID;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL,
    mrid TEXT NOT NULL,
    type_code TEXT NOT NULL,
    created INTEGER NOT NULL,
    device_mrid TEXT NOT NULL,
    usage_point_mrid TEXT,
    reason TEXT,
    severity TEXT,
    issuer_id TEXT,
    details TEXT NOT NULL,
    document TEXT NOT NULL,
    correlation_id TEXT,
    received_at INTEGER,
    content_hash TEXT NOT NULL,
    UNIQUE (device_id, mrid)
);
CREATE INDEX events_device_time ON events (device_id, created);
CREATE INDEX events_usage_point_time ON events (usage_point_mrid, created);
CREATE INDEX events_time ON events (created);

CREATE TABLE controls (
    id INTEGER PRIMARY KEY,
    mrid TEXT NOT NULL UNIQUE,
    type_code TEXT NOT NULL,
    device_mrid TEXT,
    state TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    correlation_id TEXT,
    reply_address TEXT,
    scheduled_at INTEGER,
    expires_at INTEGER,
    document TEXT NOT NULL
);
CREATE INDEX controls_correlation ON controls (correlation_id);
CREATE INDEX controls_device ON controls (device_mrid);
CREATE INDEX controls_state ON controls (state);

CREATE TABLE control_transitions (
    control_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT,
    PRIMARY KEY (control_id, seq)
) WITHOUT ROWID;

CREATE TABLE message_log (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL,
    verb TEXT NOT NULL,
    noun TEXT NOT NULL,
    message_id TEXT,
    correlation_id TEXT,
    source TEXT,
    received_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    content_hash TEXT,
    reply BLOB,
    reply_address TEXT
);
-- Idempotency key (Source, MessageID) of inbound messages (DECISIONS.md).
CREATE UNIQUE INDEX message_log_idempotency ON message_log (coalesce(source, ''), message_id)
    WHERE direction = 'in' AND message_id IS NOT NULL;
CREATE INDEX message_log_correlation ON message_log (correlation_id)
    WHERE correlation_id IS NOT NULL;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    destination TEXT NOT NULL,
    verb TEXT NOT NULL,
    noun TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    correlation_id TEXT,
    message_id TEXT,
    created_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    done_at INTEGER
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE done_at IS NULL;
