-- cimmeter schema 2 for SQLite: VEE (issue 10).
-- The final series itself lives in `readings` / `reading_versions` with series = 1 (schema 1
-- already keys every reading by series); each final version's batch source names why it was
-- written (`vee:actual`, `vee:estimate:linear`, `edit:<user>`). These tables keep the rest of
-- the why: each run, each finding (rule or method, intervals, reason, quality code, actor), and
-- the rule configuration set with `cimmeter vee rules set`.

CREATE TABLE vee_runs (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    range_start INTEGER NOT NULL,
    range_end INTEGER NOT NULL,
    scope TEXT NOT NULL,
    stats TEXT NOT NULL
);

-- Current findings: a re-run over a range replaces the findings of the channels it ran
-- (rule 'edit' rows are kept: they are the record of a person's change).
CREATE TABLE vee_findings (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    meter_id INTEGER NOT NULL,
    reading_type_id INTEGER NOT NULL,
    usage_point_mrid TEXT,
    rule TEXT NOT NULL,
    ts_from INTEGER NOT NULL,
    ts_to INTEGER NOT NULL,
    count INTEGER NOT NULL,
    reason TEXT NOT NULL,
    quality TEXT NOT NULL,
    actor TEXT
);
CREATE INDEX vee_findings_channel ON vee_findings (meter_id, reading_type_id, ts_from);
CREATE INDEX vee_findings_usage_point ON vee_findings (usage_point_mrid, ts_from);

CREATE TABLE vee_config (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
