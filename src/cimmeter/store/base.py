"""The one `Store` interface, implemented by the SQLite (embedded) and PostgreSQL engines.

Rules it enforces for every engine (DESIGN.md, "Data that must never be lost"):

1. One message, one transaction: `with store.transaction() as tx:` writes the message's data, its
   message-log entry and its outbox rows; they commit together when the block ends without an
   exception, or not at all.
2. Readings are versioned: a different value (or quality set) for an existing (meter, reading
   type, time) keeps the old one as a prior version; the same value again is a no-op.
3. Time is explicit: every datetime passed in must be timezone-aware (`StoreError` otherwise);
   the store keeps UTC.
4. Bad items do not sink good ones: `ingest_readings` and `add_events` reject items one by one
   with a `RejectedItem` and store the rest.

The interface is synchronous; async transports call it from a worker thread. Engines are opened
by URL with `open_store` (`cimmeter.store`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store.records import (
    ControlRecord,
    ControlState,
    EventRecord,
    IngestResult,
    Job,
    Linkage,
    LinkageKind,
    MasterObject,
    MessageLogEntry,
    ObjectKind,
    OutboxMessage,
    ReadingTypeRecord,
    ReadingVersion,
    RejectedItem,
    VeeFinding,
    VeeRun,
)


class StoreError(Exception):
    """A store operation that cannot be done as asked (bad argument, broken invariant)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened; says which URL and why."""


class SchemaOutdated(StoreError):
    """The database's schema is older (or newer) than this code; `cimmeter db upgrade` fixes
    the first case."""


class DuplicateMessageError(StoreError):
    """An inbound message with the same (Source, MessageID) is already logged: another worker
    handled it concurrently. Roll back and answer from `find_message` (idempotency)."""


class LinkageConflict(StoreError):
    """A linkage that would overlap another one it may not overlap (digest 4.10: "meter already
    linked to another usage point"), or a close/cancel of a linkage that is not there."""


class ControlTransitionError(StoreError):
    """A control request moved to a state its lifecycle does not allow from where it is."""


class ResolveError(StoreError):
    """A reference that matches no object, or more than one; names the identifier that failed."""

    def __init__(self, kind: ObjectKind, ref: ObjectRef, matches: int) -> None:
        what = "no" if matches == 0 else f"{matches}"
        super().__init__(f"{what} {kind.value} found for {ref.describe()}")
        self.kind = kind
        self.ref = ref
        self.matches = matches


Series = Literal["raw", "final"]
"""The two series a reading is written to: as received (`raw`) and after VEE (`final`)."""

ReadSeries = Literal["raw", "final", "best"]
"""What a read returns: one of the two series, or `best`: per channel (meter, reading type), the
final series over the span VEE has written it and the raw series outside that span, so data
that VEE has not reached yet is still there (what billing and a CIS should see)."""


@dataclass(frozen=True, slots=True)
class ReadingQuery:
    """Which readings to return. Time range is half-open: start < timestamp <= end (decisions).

    Several values of one selector are ORed; different selectors are ANDed (digest 3.2).
    Usage points select the readings attributed to them (by the linkage valid at each reading's
    time), whichever meter measured them.
    """

    meters: Sequence[str] = ()
    """Meter mRIDs (resolve Names first with `resolve`); unknown ones match nothing."""
    usage_points: Sequence[str] = ()
    """Usage point mRIDs."""
    reading_types: Sequence[str] = ()
    """ReadingType codes (any spelling `split_code` accepts)."""
    start: datetime | None = None
    end: datetime | None = None
    series: ReadSeries = "raw"
    kind: Literal["interval", "register"] | None = None
    quality_prefixes: Sequence[str] = ()
    """Only readings having a quality code starting with one of these (e.g. `3.8`)."""


@dataclass(frozen=True, slots=True)
class EventQuery:
    devices: Sequence[str] = ()
    usage_points: Sequence[str] = ()
    type_patterns: Sequence[str] = ()
    """EndDeviceEventType codes; a `*` field matches anything (e.g. `*.26.0.85`)."""
    start: datetime | None = None
    end: datetime | None = None
    limit: int | None = None


class StoreReader(ABC):
    """Everything that reads. A transaction is also a reader and sees its own writes."""

    # -- master data ------------------------------------------------------------------------

    @abstractmethod
    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None:
        """The object of that kind and mRID (deleted ones included, flagged), or None."""

    @abstractmethod
    def resolve(self, kind: ObjectKind, ref: ObjectRef) -> MasterObject:
        """The one live object the reference names: by mRID, then (name, NameType), then a bare
        name, then serial number. Raises `ResolveError` for none or several."""

    @abstractmethod
    def list_objects(
        self, kind: ObjectKind, *, after_mrid: str | None = None, limit: int = 100
    ) -> list[MasterObject]:
        """Live objects of a kind in mRID order, keyset-paginated by `after_mrid`."""

    @abstractmethod
    def count_objects(self, kind: ObjectKind) -> int:
        """How many live objects of that kind there are."""

    @abstractmethod
    def object_history(self, kind: ObjectKind, mrid: str) -> list[MasterObject]:
        """Every stored version of the object, oldest first."""

    # -- linkages ---------------------------------------------------------------------------

    @abstractmethod
    def linkages(
        self,
        kind: LinkageKind,
        *,
        from_mrid: str | None = None,
        to_mrid: str | None = None,
        at: datetime | None = None,
        include_cancelled: bool = False,
    ) -> list[Linkage]:
        """Linkages of a kind, filtered; with `at`, only those valid at that instant. History
        (closed linkages) is included unless `at` excludes it. Ordered by valid_from."""

    # -- reading types ------------------------------------------------------------------------

    @abstractmethod
    def get_reading_type(self, code: str) -> ReadingTypeRecord | None:
        """A registered ReadingType by its 18-field code."""

    @abstractmethod
    def list_reading_types(self) -> list[ReadingTypeRecord]:
        """All registered ReadingTypes, by code."""

    # -- readings -----------------------------------------------------------------------------

    @abstractmethod
    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]:
        """Current readings matching the query, one block per (meter, usage point, reading type,
        kind), timestamps ascending. Blocks carry mRIDs in their ObjectRefs."""

    @abstractmethod
    def reading_versions(
        self, meter_mrid: str, reading_type: str, timestamp: datetime, *, series: Series = "raw"
    ) -> list[ReadingVersion]:
        """All versions of one reading, oldest first; the last is current."""

    # -- events and controls ------------------------------------------------------------------

    @abstractmethod
    def query_events(self, query: EventQuery) -> list[EventRecord]:
        """Events matching the query, oldest first."""

    @abstractmethod
    def get_control(self, mrid: str) -> ControlRecord | None:
        """One control request with its transitions."""

    @abstractmethod
    def find_controls(
        self,
        *,
        correlation_id: str | None = None,
        device_mrid: str | None = None,
        states: Sequence[ControlState] = (),
    ) -> list[ControlRecord]:
        """Control requests by correlation, device and/or state, oldest first."""

    # -- message log, outbox, jobs -------------------------------------------------------------

    @abstractmethod
    def find_message(self, source: str | None, message_id: str) -> MessageLogEntry | None:
        """The logged inbound message with that (Source, MessageID), for idempotent retries."""

    @abstractmethod
    def find_by_correlation(
        self, correlation_id: str, *, direction: str | None = None
    ) -> list[MessageLogEntry]:
        """Logged messages with that CorrelationID (to match async replies), oldest first."""

    @abstractmethod
    def pending_outbox(self, limit: int = 100) -> list[OutboxMessage]:
        """Committed, not yet sent outbox messages, oldest first."""

    @abstractmethod
    def due_jobs(self, now: datetime, limit: int = 100) -> list[Job]:
        """Jobs due at or before `now`, not done, oldest due first."""

    # -- VEE (schema 2) -------------------------------------------------------------------------

    @abstractmethod
    def vee_findings(
        self,
        *,
        meters: Sequence[str] = (),
        usage_points: Sequence[str] = (),
        reading_types: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[VeeFinding]:
        """Current findings overlapping (start, end], by channel and time."""

    @abstractmethod
    def vee_runs(self, limit: int = 20) -> list[VeeRun]:
        """The latest VEE runs, newest first."""

    @abstractmethod
    def get_vee_config(self, name: str = "default") -> dict[str, Any] | None:
        """The stored VEE rule configuration of that name (`VeeConfig.to_mapping` form)."""


class StoreTransaction(StoreReader):
    """Everything that writes, inside one transaction (see the module docstring)."""

    def relax_commit(self) -> None:
        """This transaction only records what was read (the message log of a `get` with
        nothing in the outbox): its commit need not wait for the disk. A crash right after
        may lose that log entry, never data; a retry is then answered afresh. PostgreSQL:
        `synchronous_commit = off` for this transaction; engines without such a switch keep
        their full durability."""

    # -- master data ------------------------------------------------------------------------

    @abstractmethod
    def put_object(self, obj: MasterObject) -> MasterObject:
        """Insert or replace the object (keeping the previous version in its history); returns
        it with its new version number. Names are indexed for `resolve`."""

    @abstractmethod
    def delete_object(self, kind: ObjectKind, mrid: str, at: datetime) -> bool:
        """Mark the object deleted (history kept). False when there was no live object."""

    # -- linkages ---------------------------------------------------------------------------

    @abstractmethod
    def open_linkage(self, linkage: Linkage) -> Linkage:
        """Start a linkage. Raises `StoreError` when it would overlap a live linkage of the
        same kind and the same pair."""

    @abstractmethod
    def close_linkage(
        self, kind: LinkageKind, from_mrid: str, to_mrid: str, at: datetime
    ) -> Linkage:
        """End the open linkage of that pair at `at`. `StoreError` when none is open."""

    @abstractmethod
    def cancel_linkage(self, linkage_id: int) -> Linkage:
        """Mark a linkage as never having held (kept in history as cancelled)."""

    # -- reading types ------------------------------------------------------------------------

    @abstractmethod
    def put_reading_type(self, record: ReadingTypeRecord) -> None:
        """Register a ReadingType (idempotent)."""

    # -- readings -----------------------------------------------------------------------------

    @abstractmethod
    def ingest_readings(
        self,
        blocks: Sequence[ReadingBlock],
        *,
        received_at: datetime,
        source: str | None = None,
        series: Series = "raw",
    ) -> IngestResult:
        """Store readings in bulk, versioned, attributed to the usage point linked to the meter
        at each reading's time (see `cimmeter.store.ingest`). Rejects per item with a
        `RejectCode` (unknown or ambiguous meter/usage point, malformed reading type, NaN or
        infinite value, timestamp outside 1990..2100, a usage point the linkage contradicts, no
        or several meters linked to a usage-point-only block) and stores the rest. Reading
        types are registered on first use, in their canonical text. `received_at` and `source`
        (a block's own `source` wins) are kept per ingest batch: they are the recorded time and
        source of the versions this call writes."""

    # -- events and controls ------------------------------------------------------------------

    @abstractmethod
    def add_events(self, events: Sequence[EventRecord]) -> list[RejectedItem]:
        """Store events; an event whose mRID is already stored with the same content is a no-op.
        Returns the rejected ones with reasons."""

    @abstractmethod
    def put_control(self, control: ControlRecord) -> ControlRecord:
        """Record a new control request (state and first transition)."""

    @abstractmethod
    def transition_control(
        self, mrid: str, state: ControlState, at: datetime, detail: str | None = None
    ) -> ControlRecord:
        """Move a control to a new state, appending to its transitions."""

    # -- message log, outbox, jobs -------------------------------------------------------------

    @abstractmethod
    def log_message(self, entry: MessageLogEntry) -> MessageLogEntry:
        """Append to the message log; returns the entry with its id. An inbound entry whose
        (Source, MessageID) is already logged raises `DuplicateMessageError` (the transaction
        must then be rolled back; answer from `find_message`)."""

    @abstractmethod
    def update_message(self, entry_id: int, *, status: str, reply: bytes | None) -> None:
        """Set the outcome of a logged message (its Result and the serialized reply)."""

    @abstractmethod
    def enqueue(self, message: OutboxMessage) -> OutboxMessage:
        """Add a message to the outbox; it is visible to the relay once this transaction commits."""

    @abstractmethod
    def mark_sent(self, outbox_id: int, at: datetime) -> None:
        """The peer or broker confirmed the message."""

    @abstractmethod
    def mark_failed(self, outbox_id: int, error: str) -> None:
        """A delivery attempt failed; counts the attempt and keeps the message pending."""

    @abstractmethod
    def schedule_job(self, job: Job) -> Job:
        """Add time-driven internal work."""

    @abstractmethod
    def finish_job(self, job_id: int, at: datetime) -> None:
        """Mark a job done."""

    # -- VEE (schema 2) -------------------------------------------------------------------------

    @abstractmethod
    def add_vee_run(self, run: VeeRun) -> VeeRun:
        """Record a VEE run; returns it with its id."""

    @abstractmethod
    def replace_vee_findings(
        self,
        meters: Sequence[str],
        start: datetime,
        end: datetime,
        findings: Sequence[VeeFinding],
    ) -> None:
        """Replace the findings of these meters that start in (start, end] by `findings`
        (re-running VEE over a range is idempotent); `edit` findings are kept."""

    @abstractmethod
    def add_vee_findings(self, findings: Sequence[VeeFinding]) -> None:
        """Append findings (edits) without replacing any."""

    @abstractmethod
    def put_vee_config(self, document: dict[str, Any], at: datetime, name: str = "default") -> None:
        """Store (replace) a VEE rule configuration."""


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What `cimmeter db info` prints: where the database is and what it holds."""

    engine: str
    url: str
    """The URL with any password masked."""
    schema_version: int
    latest_version: int
    counts: dict[str, int]
    """Rows per table of interest (objects per kind as `objects.<Kind>`, readings, events, ...)."""


class Store(ABC):
    """A database holding everything cimmeter keeps. Open with `cimmeter.store.open_store(url)`."""

    url: str

    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """One atomic unit of work; commits on normal exit, rolls back on an exception."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[StoreReader]:
        """A consistent read-only view."""

    @abstractmethod
    def schema_version(self) -> int:
        """The migration version the database is at (0 = empty)."""

    @abstractmethod
    def upgrade(self) -> list[int]:
        """Apply pending migrations in order; returns the versions applied."""

    @abstractmethod
    def info(self) -> StoreInfo:
        """Engine, schema version and row counts (for `cimmeter db info`)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
