"""The engine-neutral SQL implementation of the store interface.

`SqlSession` implements every `StoreTransaction` method once, in SQL that SQLite and
PostgreSQL both understand (`?` placeholders, `ON CONFLICT`, `RETURNING`); an engine subclass
supplies how statements run, how datetimes and JSON are represented, and the bulk paths for
readings (`executemany` on SQLite, binary `COPY` on PostgreSQL). A snapshot is a session on a
read-only transaction.
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from cimmeter.codes.errors import CodeError
from cimmeter.codes.syntax import split_code
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import NO_QUALITY, QualitySet, ReadingBlock
from cimmeter.store.attribution import Interval, epoch_floor
from cimmeter.store.base import (
    ControlTransitionError,
    DuplicateMessageError,
    EventQuery,
    LinkageConflict,
    ReadingQuery,
    ResolveError,
    Series,
    StoreError,
    StoreTransaction,
)
from cimmeter.store.ingest import (
    KIND_CODES,
    READING_TYPE_FIELDS,
    SERIES_CODES,
    TS_MAX,
    TS_MIN,
    ExistingRows,
    ProbeRanges,
    ReadingRows,
    WriteOutcome,
    canonical_reading_type,
    classify,
    ingest_blocks,
    probe_ranges,
    quality_text,
)
from cimmeter.store.records import (
    ControlRecord,
    ControlState,
    EventRecord,
    IngestResult,
    Job,
    Linkage,
    LinkageKind,
    MasterObject,
    MessageDirection,
    MessageLogEntry,
    Name,
    ObjectKind,
    OutboxMessage,
    ReadingTypeRecord,
    ReadingVersion,
    RejectCode,
    RejectedItem,
    VeeFinding,
    VeeRun,
)

Int64Array = npt.NDArray[np.int64]

EXCLUSIVE_FROM: Mapping[LinkageKind, bool] = {
    LinkageKind.METER_USAGE_POINT: True,
    LinkageKind.METER_COM_MODULE: True,
    LinkageKind.USAGE_POINT_AGREEMENT: True,
    LinkageKind.AGREEMENT_ACCOUNT: True,
    LinkageKind.ACCOUNT_CUSTOMER: True,
    LinkageKind.USAGE_POINT_LOCATION: True,
    LinkageKind.GROUP_MEMBER: False,
    LinkageKind.CHECK_METER: False,
}
"""Whether the first-named object has at most one partner of that kind at a time (a meter is at
one usage point, digest 4.10); overlapping linkages of such an object are refused."""

CONTROL_NEXT: Mapping[ControlState, frozenset[ControlState]] = {
    ControlState.REQUESTED: frozenset(
        {
            ControlState.SENT,
            ControlState.ACKNOWLEDGED,
            ControlState.EXECUTED,
            ControlState.FAILED,
            ControlState.CANCELLED,
            ControlState.EXPIRED,
        }
    ),
    ControlState.SENT: frozenset(
        {
            ControlState.ACKNOWLEDGED,
            ControlState.EXECUTED,
            ControlState.FAILED,
            ControlState.CANCELLED,
            ControlState.EXPIRED,
        }
    ),
    ControlState.ACKNOWLEDGED: frozenset(
        {ControlState.EXECUTED, ControlState.FAILED, ControlState.CANCELLED, ControlState.EXPIRED}
    ),
    ControlState.EXECUTED: frozenset(),
    ControlState.FAILED: frozenset(),
    ControlState.CANCELLED: frozenset(),
    ControlState.EXPIRED: frozenset(),
}
"""Forward moves of a control request's lifecycle; a head-end may skip steps (a synchronous
connect goes from requested to executed), a terminal state is final."""

DEVICE_KINDS = (ObjectKind.METER, ObjectKind.END_DEVICE, ObjectKind.COM_MODULE)
"""Kinds an end device event's device may be, in the order they are tried."""

EVENT_TYPE_FIELDS = ("type", "domain", "subDomain", "eventOrAction")

INFO_COUNTS: tuple[tuple[str, str], ...] = (
    ("reading_types", "SELECT count(*) FROM reading_types"),
    ("readings", "SELECT count(*) FROM readings"),
    ("reading_versions", "SELECT count(*) FROM reading_versions"),
    ("linkages", "SELECT count(*) FROM linkages"),
    ("events", "SELECT count(*) FROM events"),
    ("controls", "SELECT count(*) FROM controls"),
    ("message_log", "SELECT count(*) FROM message_log"),
    ("outbox_pending", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"),
    ("jobs_pending", "SELECT count(*) FROM jobs WHERE done_at IS NULL"),
)
"""Row counts shown by `cimmeter db info` (same on both engines)."""


_INSERT_TRANSITION = (
    "INSERT INTO control_transitions (control_id, seq, state, at, detail) VALUES (?, ?, ?, ?, ?)"
)


def require_aware(value: datetime | None, what: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise StoreError(f"{what} must be timezone-aware, got {value!r} (DESIGN.md rule 6)")


def _names_json(names: Sequence[Name]) -> list[list[str | None]]:
    return [[n.name, n.name_type, n.name_type_authority] for n in names]


def _names_of(data: Sequence[Sequence[str | None]]) -> tuple[Name, ...]:
    return tuple(Name(str(n[0]), n[1], n[2]) for n in data)


def _overlaps(
    a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None
) -> bool:
    """Half-open intervals (from, to] overlap (None = open end)."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def _event_hash(event: EventRecord) -> str:
    content = {
        "type_code": event.type_code,
        "created": event.created.astimezone(UTC).isoformat(),
        "device": event.device_mrid,
        "usage_point": event.usage_point_mrid,
        "reason": event.reason,
        "severity": event.severity,
        "issuer_id": event.issuer_id,
        "details": dict(event.details),
        "document": event.document,
        "correlation_id": event.correlation_id,
    }
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SqlSession(StoreTransaction):
    """One transaction (or read-only snapshot) on one connection."""

    def __init__(self) -> None:
        self._quality_cache: dict[int, QualitySet] = {0: NO_QUALITY}

    # -- engine hooks -----------------------------------------------------------------------

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""

    @abstractmethod
    def _is_unique_violation(self, error: Exception) -> bool: ...

    @abstractmethod
    def _dt(self, value: datetime) -> Any: ...

    @abstractmethod
    def _from_dt(self, value: Any) -> datetime: ...

    @abstractmethod
    def _ts(self, epoch_seconds: int) -> Any:
        """A reading timestamp as a statement parameter."""

    @abstractmethod
    def _json(self, value: Any) -> Any: ...

    @abstractmethod
    def _from_json(self, value: Any) -> Any: ...

    @abstractmethod
    def _any(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        """A condition `column` is one of `values`, with its single parameter."""

    @abstractmethod
    def _values(self, alias: str, values: Sequence[Any]) -> tuple[str, Any]:
        """A one-column table `alias(value)` of `values`, to drive a join, with its parameter."""

    _JOIN = "JOIN"
    """The join that keeps the written order (SQLite's planner needs CROSS JOIN for that)."""

    @abstractmethod
    def _probe_readings(self, series: int, ranges: ProbeRanges) -> ExistingRows: ...

    @abstractmethod
    def _insert_readings(self, series: int, rows: ReadingRows) -> None: ...

    @abstractmethod
    def _update_readings(self, series: int, rows: ReadingRows, previous: ExistingRows) -> None:
        """Replace stored rows by `rows`; `previous` is what the probe saw (aligned)."""

    @abstractmethod
    def _insert_versions(
        self, series: int, previous: ExistingRows, superseded_by: Int64Array
    ) -> None: ...

    @abstractmethod
    def _fetch_readings(
        self,
        series: int,
        meter_id: int,
        reading_type_ids: Sequence[int],
        lo: int,
        hi: int,
        with_batch: bool,
    ) -> dict[str, npt.NDArray[Any]]:
        """Current rows of one meter, `lo < ts <= hi`, ordered by (reading type, ts), as columns
        reading_type_id, ts, value, quality_id, usage_point_id, kind (and batch_id when asked:
        it ties rows to their extras)."""

    # -- small helpers ----------------------------------------------------------------------

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _insert_id(self, sql: str, params: Sequence[Any]) -> int:
        row = self._one(sql + " RETURNING id", params)
        assert row is not None
        return int(row[0])

    def _opt_dt(self, value: datetime | None) -> Any:
        return None if value is None else self._dt(value)

    def _from_opt_dt(self, value: Any) -> datetime | None:
        return None if value is None else self._from_dt(value)

    # -- master data ------------------------------------------------------------------------

    _OBJECT_COLUMNS = (
        "id, kind, mrid, serial_number, status, names, document, version, updated_at, deleted"
    )

    def _object(self, row: tuple[Any, ...]) -> MasterObject:
        return MasterObject(
            kind=ObjectKind(row[1]),
            mrid=row[2],
            names=_names_of(self._from_json(row[5])),
            serial_number=row[3],
            status=row[4],
            document=self._from_json(row[6]),
            version=int(row[7]),
            updated_at=self._from_dt(row[8]),
            deleted=bool(row[9]),
        )

    def _object_row(self, kind: ObjectKind, mrid: str) -> tuple[Any, ...] | None:
        return self._one(
            f"SELECT {self._OBJECT_COLUMNS} FROM objects WHERE kind = ? AND mrid = ?",
            (kind.value, mrid),
        )

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None:
        row = self._object_row(kind, mrid)
        return None if row is None else self._object(row)

    def resolve(self, kind: ObjectKind, ref: ObjectRef) -> MasterObject:
        found = self.resolve_ids(kind, [ref])[ref]
        if isinstance(found, ResolveError):
            raise found
        row = self._one(f"SELECT {self._OBJECT_COLUMNS} FROM objects WHERE id = ?", (found,))
        assert row is not None
        return self._object(row)

    def resolve_ids(
        self, kind: ObjectKind, refs: Collection[ObjectRef]
    ) -> dict[ObjectRef, int | ResolveError]:
        """Resolve many references at once: mRID, then (name, NameType[, authority]), then a
        bare name (any NameType), then serial number (digest 2.2.3, 1.3.6). The first
        identifier that matches decides; several matches are an error, not a guess."""
        result: dict[ObjectRef, int | ResolveError] = {}
        pending = list(refs)
        with_mrid = sorted({r.mrid for r in pending if r.mrid})
        if with_mrid:
            cond, param = self._any("mrid", with_mrid)
            found = {
                m: i
                for i, m in self._rows(
                    f"SELECT id, mrid FROM objects WHERE kind = ? AND deleted = ? AND {cond}",
                    (kind.value, False, param),
                )
            }
            for ref in pending:
                if ref.mrid in found:
                    result[ref] = int(found[ref.mrid])
        pending = [r for r in pending if r not in result]
        names = sorted({r.name for r in pending if r.name})
        if names:
            cond, param = self._any("n.name", names)
            candidates: dict[str, list[tuple[int, str | None, str | None]]] = {}
            for object_id, name, name_type, authority in self._rows(
                "SELECT n.object_id, n.name, n.name_type, n.authority FROM object_names n "
                "JOIN objects o ON o.id = n.object_id "
                f"WHERE n.kind = ? AND o.deleted = ? AND {cond}",
                (kind.value, False, param),
            ):
                candidates.setdefault(name, []).append((int(object_id), name_type, authority))
            for ref in pending:
                if not ref.name:
                    continue
                matches = candidates.get(ref.name, [])
                if ref.name_type is not None:
                    matches = [
                        c
                        for c in matches
                        if c[1] == ref.name_type
                        and (ref.name_type_authority is None or c[2] == ref.name_type_authority)
                    ]
                ids = {c[0] for c in matches}
                if len(ids) == 1:
                    result[ref] = ids.pop()
                elif ids:
                    result[ref] = ResolveError(kind, ref, len(ids))
        pending = [r for r in pending if r not in result]
        serials = sorted({r.serial_number for r in pending if r.serial_number})
        if serials:
            cond, param = self._any("serial_number", serials)
            by_serial: dict[str, set[int]] = {}
            for object_id, serial in self._rows(
                f"SELECT id, serial_number FROM objects WHERE kind = ? AND deleted = ? AND {cond}",
                (kind.value, False, param),
            ):
                by_serial.setdefault(serial, set()).add(int(object_id))
            for ref in pending:
                ids = by_serial.get(ref.serial_number or "", set())
                if len(ids) == 1:
                    result[ref] = next(iter(ids))
                elif ids:
                    result[ref] = ResolveError(kind, ref, len(ids))
        for ref in refs:
            if ref not in result:
                result[ref] = ResolveError(kind, ref, 0)
        return result

    def list_objects(
        self, kind: ObjectKind, *, after_mrid: str | None = None, limit: int = 100
    ) -> list[MasterObject]:
        rows = self._rows(
            f"SELECT {self._OBJECT_COLUMNS} FROM objects WHERE kind = ? AND deleted = ? "
            "AND mrid > ? ORDER BY mrid LIMIT ?",
            (kind.value, False, after_mrid or "", limit),
        )
        return [self._object(r) for r in rows]

    def count_objects(self, kind: ObjectKind) -> int:
        row = self._one(
            "SELECT count(*) FROM objects WHERE kind = ? AND deleted = ?", (kind.value, False)
        )
        return int(row[0]) if row else 0

    def object_history(self, kind: ObjectKind, mrid: str) -> list[MasterObject]:
        rows = self._rows(
            "SELECT h.object_id, o.kind, o.mrid, h.serial_number, h.status, h.names, h.document, "
            "h.version, h.updated_at, h.deleted FROM object_history h "
            "JOIN objects o ON o.id = h.object_id WHERE o.kind = ? AND o.mrid = ? "
            "ORDER BY h.version",
            (kind.value, mrid),
        )
        return [self._object(r) for r in rows]

    def put_object(self, obj: MasterObject) -> MasterObject:
        if obj.updated_at is None:
            raise StoreError(
                f"{obj.kind.value} {obj.mrid}: updated_at is required (the store reads no clock)"
            )
        require_aware(obj.updated_at, "updated_at")
        if not obj.mrid:
            raise StoreError(f"a {obj.kind.value} needs an mRID to be stored")
        row = self._object_row(obj.kind, obj.mrid)
        names = _names_json(obj.names)
        document = dict(obj.document)
        if row is not None:
            current = self._object(row)
            if (
                not current.deleted
                and current.names == obj.names
                and current.serial_number == obj.serial_number
                and current.status == obj.status
                and dict(current.document) == document
            ):
                return current
            object_id, version = int(row[0]), int(row[7]) + 1
            self._exec(
                "UPDATE objects SET serial_number = ?, status = ?, names = ?, document = ?, "
                "version = ?, updated_at = ?, deleted = ? WHERE id = ?",
                (
                    obj.serial_number,
                    obj.status,
                    self._json(names),
                    self._json(document),
                    version,
                    self._dt(obj.updated_at),
                    False,
                    object_id,
                ),
            )
            self._exec("DELETE FROM object_names WHERE object_id = ?", (object_id,))
            revived = current.deleted
        else:
            version = 1
            object_id = self._insert_id(
                "INSERT INTO objects (kind, mrid, serial_number, status, names, document, "
                "version, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    obj.kind.value,
                    obj.mrid,
                    obj.serial_number,
                    obj.status,
                    self._json(names),
                    self._json(document),
                    version,
                    self._dt(obj.updated_at),
                    False,
                ),
            )
            revived = True
        for n in obj.names:
            self._exec(
                "INSERT INTO object_names (object_id, kind, name, name_type, authority) "
                "VALUES (?, ?, ?, ?, ?)",
                (object_id, obj.kind.value, n.name, n.name_type, n.name_type_authority),
            )
        self._history(
            object_id,
            version,
            obj.serial_number,
            obj.status,
            names,
            document,
            obj.updated_at,
            False,
        )
        if revived and obj.kind is ObjectKind.USAGE_POINT:
            # Readings may already sit on meters linked to this (so far unknown) usage point.
            for link in self.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=obj.mrid):
                self._reattribute(link.from_mrid, link.valid_from, link.valid_to)
        return MasterObject(
            kind=obj.kind,
            mrid=obj.mrid,
            names=tuple(obj.names),
            serial_number=obj.serial_number,
            status=obj.status,
            document=document,
            version=version,
            updated_at=obj.updated_at,
            deleted=False,
        )

    def _history(
        self,
        object_id: int,
        version: int,
        serial: str | None,
        status: str | None,
        names: Any,
        document: Any,
        at: datetime,
        deleted: bool,
    ) -> None:
        self._exec(
            "INSERT INTO object_history (object_id, version, serial_number, status, names, "
            "document, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                object_id,
                version,
                serial,
                status,
                self._json(names),
                self._json(document),
                self._dt(at),
                deleted,
            ),
        )

    def delete_object(self, kind: ObjectKind, mrid: str, at: datetime) -> bool:
        require_aware(at, "at")
        row = self._object_row(kind, mrid)
        if row is None or bool(row[9]):
            return False
        current = self._object(row)
        version = current.version + 1
        self._exec(
            "UPDATE objects SET deleted = ?, version = ?, updated_at = ? WHERE id = ?",
            (True, version, self._dt(at), int(row[0])),
        )
        self._history(
            int(row[0]),
            version,
            current.serial_number,
            current.status,
            _names_json(current.names),
            dict(current.document),
            at,
            True,
        )
        return True

    # -- linkages ---------------------------------------------------------------------------

    _LINKAGE_COLUMNS = "id, kind, from_mrid, to_mrid, valid_from, valid_to, role, reason, cancelled"

    def _linkage(self, row: tuple[Any, ...]) -> Linkage:
        return Linkage(
            kind=LinkageKind(row[1]),
            from_mrid=row[2],
            to_mrid=row[3],
            valid_from=self._from_dt(row[4]),
            valid_to=self._from_opt_dt(row[5]),
            role=row[6],
            reason=row[7],
            cancelled=bool(row[8]),
            id=int(row[0]),
        )

    def linkages(
        self,
        kind: LinkageKind,
        *,
        from_mrid: str | None = None,
        to_mrid: str | None = None,
        at: datetime | None = None,
        include_cancelled: bool = False,
    ) -> list[Linkage]:
        require_aware(at, "at")
        sql = f"SELECT {self._LINKAGE_COLUMNS} FROM linkages WHERE kind = ?"
        params: list[Any] = [kind.value]
        if from_mrid is not None:
            sql += " AND from_mrid = ?"
            params.append(from_mrid)
        if to_mrid is not None:
            sql += " AND to_mrid = ?"
            params.append(to_mrid)
        if at is not None:
            sql += " AND valid_from < ? AND (valid_to IS NULL OR valid_to >= ?)"
            params += [self._dt(at), self._dt(at)]
        if at is not None or not include_cancelled:
            sql += " AND cancelled = ?"
            params.append(False)
        sql += " ORDER BY valid_from, id"
        return [self._linkage(r) for r in self._rows(sql, params)]

    def open_linkage(self, linkage: Linkage) -> Linkage:
        require_aware(linkage.valid_from, "valid_from")
        require_aware(linkage.valid_to, "valid_to")
        if linkage.cancelled:
            raise StoreError("a cancelled linkage cannot be opened")
        if linkage.valid_to is not None and linkage.valid_to <= linkage.valid_from:
            raise StoreError(
                f"linkage {linkage.from_mrid} -> {linkage.to_mrid}: valid_to "
                f"{linkage.valid_to.isoformat()} is not after valid_from "
                f"{linkage.valid_from.isoformat()}"
            )
        for other in self.linkages(linkage.kind, from_mrid=linkage.from_mrid):
            if not _overlaps(
                linkage.valid_from, linkage.valid_to, other.valid_from, other.valid_to
            ):
                continue
            if other.to_mrid == linkage.to_mrid or EXCLUSIVE_FROM[linkage.kind]:
                until = other.valid_to.isoformat() if other.valid_to else "open"
                raise LinkageConflict(
                    f"{linkage.kind.value}: {linkage.from_mrid} is already linked to "
                    f"{other.to_mrid} over ({other.valid_from.isoformat()}, {until}] "
                    f"(linkage {other.id}); close it first"
                )
        linkage_id = self._insert_id(
            "INSERT INTO linkages (kind, from_mrid, to_mrid, valid_from, valid_to, role, reason, "
            "cancelled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                linkage.kind.value,
                linkage.from_mrid,
                linkage.to_mrid,
                self._dt(linkage.valid_from),
                self._opt_dt(linkage.valid_to),
                linkage.role,
                linkage.reason,
                False,
            ),
        )
        if linkage.kind is LinkageKind.METER_USAGE_POINT:
            self._reattribute(linkage.from_mrid, linkage.valid_from, linkage.valid_to)
        return Linkage(
            kind=linkage.kind,
            from_mrid=linkage.from_mrid,
            to_mrid=linkage.to_mrid,
            valid_from=linkage.valid_from,
            valid_to=linkage.valid_to,
            role=linkage.role,
            reason=linkage.reason,
            cancelled=False,
            id=linkage_id,
        )

    def _linkage_by_id(self, linkage_id: int) -> Linkage:
        row = self._one(f"SELECT {self._LINKAGE_COLUMNS} FROM linkages WHERE id = ?", (linkage_id,))
        if row is None:
            raise LinkageConflict(f"no linkage with id {linkage_id}")
        return self._linkage(row)

    def close_linkage(
        self, kind: LinkageKind, from_mrid: str, to_mrid: str, at: datetime
    ) -> Linkage:
        require_aware(at, "at")
        row = self._one(
            f"SELECT {self._LINKAGE_COLUMNS} FROM linkages WHERE kind = ? AND from_mrid = ? "
            "AND to_mrid = ? AND valid_to IS NULL AND cancelled = ?",
            (kind.value, from_mrid, to_mrid, False),
        )
        if row is None:
            raise LinkageConflict(
                f"{kind.value}: no open linkage {from_mrid} -> {to_mrid} to close"
            )
        current = self._linkage(row)
        if at <= current.valid_from:
            raise StoreError(
                f"{kind.value} {from_mrid} -> {to_mrid}: cannot close at {at.isoformat()}, "
                f"it starts at {current.valid_from.isoformat()}"
            )
        self._exec("UPDATE linkages SET valid_to = ? WHERE id = ?", (self._dt(at), current.id))
        if kind is LinkageKind.METER_USAGE_POINT:
            self._reattribute(from_mrid, at, None)
        return self._linkage_by_id(int(row[0]))

    def cancel_linkage(self, linkage_id: int) -> Linkage:
        current = self._linkage_by_id(linkage_id)
        if current.cancelled:
            return current
        self._exec("UPDATE linkages SET cancelled = ? WHERE id = ?", (True, linkage_id))
        if current.kind is LinkageKind.METER_USAGE_POINT:
            self._reattribute(current.from_mrid, current.valid_from, current.valid_to)
        return self._linkage_by_id(linkage_id)

    def _reattribute(self, meter_mrid: str, start: datetime, end: datetime | None) -> None:
        """Keep the stored attribution of a meter's readings over (start, end] equal to what
        its linkages say now (after a linkage was opened, closed or cancelled)."""
        lo = max(epoch_floor(start), TS_MIN - 1)
        hi = TS_MAX if end is None else min(epoch_floor(end), TS_MAX)
        if hi <= lo:
            return
        # Usually there is nothing to redo (master data comes before readings): one query.
        meter = self._one(
            "SELECT m.id FROM objects m WHERE m.kind = ? AND m.mrid = ? AND EXISTS "
            "(SELECT 1 FROM readings r WHERE r.meter_id = m.id AND r.ts > ? AND r.ts <= ?)",
            (ObjectKind.METER.value, meter_mrid, self._ts(lo), self._ts(hi)),
        )
        if meter is None:
            return
        meter_id = int(meter[0])
        self._exec(
            "UPDATE readings SET usage_point_id = 0 WHERE meter_id = ? AND ts > ? AND ts <= ?",
            (meter_id, self._ts(lo), self._ts(hi)),
        )
        for interval in self.meter_intervals(np.array([meter_id], dtype=np.int64)):
            a, b = max(lo, interval.start), min(hi, interval.end)
            if a < b:
                self._exec(
                    "UPDATE readings SET usage_point_id = ? "
                    "WHERE meter_id = ? AND ts > ? AND ts <= ?",
                    (interval.target, meter_id, self._ts(a), self._ts(b)),
                )

    # -- reading types ----------------------------------------------------------------------

    def _reading_type(self, row: tuple[Any, ...]) -> ReadingTypeRecord:
        return ReadingTypeRecord(
            code=row[0], names=_names_of(self._from_json(row[1])), document=self._from_json(row[2])
        )

    def get_reading_type(self, code: str) -> ReadingTypeRecord | None:
        try:
            code = canonical_reading_type(code)
        except CodeError:
            return None
        row = self._one("SELECT code, names, document FROM reading_types WHERE code = ?", (code,))
        return None if row is None else self._reading_type(row)

    def list_reading_types(self) -> list[ReadingTypeRecord]:
        rows = self._rows("SELECT code, names, document FROM reading_types ORDER BY code")
        return [self._reading_type(r) for r in rows]

    def put_reading_type(self, record: ReadingTypeRecord) -> None:
        try:
            code = canonical_reading_type(record.code)
        except CodeError as error:
            raise StoreError(str(error)) from error
        self.reading_type_ids([code])
        if record.names or record.document:
            self._exec(
                "UPDATE reading_types SET names = ?, document = ? WHERE code = ?",
                (self._json(_names_json(record.names)), self._json(dict(record.document)), code),
            )

    def reading_type_ids(self, codes: Collection[str]) -> dict[str, int]:
        """Ids of canonical codes, registering unknown ones (auto-registration on ingest)."""
        if not codes:
            return {}
        ordered = sorted(codes)
        cond, param = self._any("code", ordered)
        found = {
            c: int(i)
            for i, c in self._rows(f"SELECT id, code FROM reading_types WHERE {cond}", (param,))
        }
        missing = [c for c in ordered if c not in found]
        if missing:
            columns = ", ".join(READING_TYPE_FIELDS)
            marks = ", ".join("?" * len(READING_TYPE_FIELDS))
            for code in missing:
                fields = split_code(
                    code,
                    kind="ReadingType",
                    field_names=READING_TYPE_FIELDS,
                    signed_fields=frozenset({15}),
                )
                self._exec(
                    f"INSERT INTO reading_types (code, {columns}, names, document) "
                    f"VALUES (?, {marks}, ?, ?) ON CONFLICT (code) DO NOTHING",
                    (code, *fields, self._json([]), self._json({})),
                )
            cond, param = self._any("code", missing)
            found.update(
                {
                    c: int(i)
                    for i, c in self._rows(
                        f"SELECT id, code FROM reading_types WHERE {cond}", (param,)
                    )
                }
            )
        return found

    def quality_ids(self, sets: Collection[QualitySet]) -> dict[QualitySet, int]:
        result: dict[QualitySet, int] = {}
        texts = {quality_text(s): s for s in sets}
        if not texts:
            return result
        cond, param = self._any("codes", sorted(texts))
        found = {
            t: int(i)
            for i, t in self._rows(f"SELECT id, codes FROM quality_sets WHERE {cond}", (param,))
        }
        for text in texts:
            if text not in found:
                self._exec(
                    "INSERT INTO quality_sets (codes) VALUES (?) ON CONFLICT (codes) DO NOTHING",
                    (text,),
                )
                row = self._one("SELECT id FROM quality_sets WHERE codes = ?", (text,))
                assert row is not None
                found[text] = int(row[0])
        for text, qs in texts.items():
            result[qs] = found[text]
            self._quality_cache[found[text]] = tuple(sorted(set(qs)))
        return result

    def _quality_sets(self, ids: Collection[int]) -> dict[int, QualitySet]:
        missing = [i for i in ids if i not in self._quality_cache]
        if missing:
            cond, param = self._any("id", missing)
            for i, text in self._rows(f"SELECT id, codes FROM quality_sets WHERE {cond}", (param,)):
                self._quality_cache[int(i)] = tuple(text.split(";")) if text else NO_QUALITY
        return {i: self._quality_cache[i] for i in ids}

    # -- readings: ingest -------------------------------------------------------------------

    def ingest_readings(
        self,
        blocks: Sequence[ReadingBlock],
        *,
        received_at: datetime,
        source: str | None = None,
        series: Series = "raw",
    ) -> IngestResult:
        return ingest_blocks(self, blocks, received_at=received_at, source=source, series=series)

    def meter_intervals(self, meter_ids: Int64Array) -> list[Interval]:
        if not meter_ids.shape[0]:
            return []
        values, param = self._values("v", [int(i) for i in meter_ids])
        rows = self._rows(
            f"SELECT m.id, u.id, l.valid_from, l.valid_to FROM {values} "
            f"{self._JOIN} objects m ON m.id = v.value "
            f"{self._JOIN} linkages l ON l.kind = ? AND l.from_mrid = m.mrid AND l.cancelled = ? "
            "JOIN objects u ON u.kind = ? AND u.mrid = l.to_mrid WHERE m.kind = ?",
            (
                param,
                LinkageKind.METER_USAGE_POINT.value,
                False,
                ObjectKind.USAGE_POINT.value,
                ObjectKind.METER.value,
            ),
        )
        return [
            Interval.of(int(m), int(u), self._from_dt(a), self._from_opt_dt(b))
            for m, u, a, b in rows
        ]

    def usage_point_intervals(self, usage_point_ids: Int64Array) -> dict[int, list[Interval]]:
        if not usage_point_ids.shape[0]:
            return {}
        values, param = self._values("v", [int(i) for i in usage_point_ids])
        rows = self._rows(
            f"SELECT u.id, m.id, l.valid_from, l.valid_to FROM {values} "
            f"{self._JOIN} objects u ON u.id = v.value "
            f"{self._JOIN} linkages l ON l.kind = ? AND l.to_mrid = u.mrid AND l.cancelled = ? "
            "JOIN objects m ON m.kind = ? AND m.mrid = l.from_mrid AND m.deleted = ? "
            "WHERE u.kind = ?",
            (
                param,
                LinkageKind.METER_USAGE_POINT.value,
                False,
                ObjectKind.METER.value,
                False,
                ObjectKind.USAGE_POINT.value,
            ),
        )
        result: dict[int, list[Interval]] = {}
        for u, m, a, b in rows:
            result.setdefault(int(u), []).append(
                Interval.of(int(u), int(m), self._from_dt(a), self._from_opt_dt(b))
            )
        return result

    def new_batch(self, received_at: datetime, source: str | None) -> int:
        return self._insert_id(
            "INSERT INTO ingest_batches (received_at, source) VALUES (?, ?)",
            (self._dt(received_at), source),
        )

    def write_rows(self, series: int, rows: ReadingRows) -> WriteOutcome:
        existing = self._probe_readings(series, probe_ranges(rows))
        split = classify(rows, existing)
        if split.new.size == len(rows):
            self._insert_readings(series, rows)  # all new: no copy
        elif split.new.size:
            self._insert_readings(series, rows.take(split.new))
        if split.changed.size:
            self._insert_versions(series, split.previous, rows.batch_id[split.changed])
            self._update_readings(series, rows.take(split.changed), split.previous)
        written = np.zeros(len(rows), dtype=np.bool_)
        written[split.new] = True
        written[split.changed] = True
        return WriteOutcome(int(split.new.size), split.unchanged, int(split.changed.size), written)

    def write_extras(
        self, series: int, rows: ReadingRows, extras: Sequence[dict[str, str]]
    ) -> None:
        for i, values in enumerate(extras):
            self._exec(
                "INSERT INTO reading_extras "
                "(meter_id, reading_type_id, series, ts, batch_id, extras) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    int(rows.meter_id[i]),
                    int(rows.reading_type_id[i]),
                    series,
                    self._ts(int(rows.ts[i])),
                    int(rows.batch_id[i]),
                    self._json(dict(values)),
                ),
            )

    # -- readings: queries ------------------------------------------------------------------

    def _ids_by_mrid(self, kind: ObjectKind, mrids: Sequence[str]) -> dict[int, str]:
        if not mrids:
            return {}
        cond, param = self._any("mrid", list(mrids))
        rows = self._rows(
            f"SELECT id, mrid FROM objects WHERE kind = ? AND {cond}", (kind.value, param)
        )
        return {int(i): m for i, m in rows}

    def _mrids_by_id(self, ids: Collection[int]) -> dict[int, str]:
        if not ids:
            return {}
        cond, param = self._any("id", sorted(ids))
        return {
            int(i): m for i, m in self._rows(f"SELECT id, mrid FROM objects WHERE {cond}", (param,))
        }

    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]:
        require_aware(query.start, "start")
        require_aware(query.end, "end")
        best = query.series == "best"
        series = SERIES_CODES["final" if best else query.series]
        lo = TS_MIN - 1 if query.start is None else max(epoch_floor(query.start), TS_MIN - 1)
        hi = TS_MAX if query.end is None else min(epoch_floor(query.end), TS_MAX)
        if hi <= lo:
            return
        if query.reading_types:
            codes = []
            for code in query.reading_types:
                try:
                    codes.append(canonical_reading_type(code))
                except CodeError:
                    continue
            cond, param = self._any("code", codes)
            rt_rows = (
                self._rows(f"SELECT id, code FROM reading_types WHERE {cond}", (param,))
                if codes
                else []
            )
        else:
            rt_rows = self._rows("SELECT id, code FROM reading_types")
        rt_code = {int(i): c for i, c in rt_rows}
        if not rt_code:
            return
        rt_ids = sorted(rt_code)
        allowed_quality: set[int] | None = None
        if query.quality_prefixes:
            allowed_quality = set()
            for i, text in self._rows("SELECT id, codes FROM quality_sets"):
                codes_ = text.split(";") if text else []
                if any(
                    c == p or c.startswith(p + ".") for c in codes_ for p in query.quality_prefixes
                ):
                    allowed_quality.add(int(i))
            if not allowed_quality:
                return
        up_filter: dict[int, str] | None = None
        if query.usage_points:
            up_filter = self._ids_by_mrid(ObjectKind.USAGE_POINT, query.usage_points)
            meter_mrids = sorted(
                {
                    link.from_mrid
                    for up in query.usage_points
                    for link in self.linkages(
                        LinkageKind.METER_USAGE_POINT, to_mrid=up, include_cancelled=True
                    )
                }
            )
            meters = self._ids_by_mrid(ObjectKind.METER, meter_mrids)
            if query.meters:
                wanted = set(query.meters)
                meters = {i: m for i, m in meters.items() if m in wanted}
        elif query.meters:
            meters = self._ids_by_mrid(ObjectKind.METER, query.meters)
        else:
            meters = {
                int(i): m
                for i, m in self._rows(
                    "SELECT id, mrid FROM objects WHERE kind = ? ORDER BY mrid",
                    (ObjectKind.METER.value,),
                )
            }
        up_mrids: dict[int, str] = dict(up_filter or {})
        kind_code = None if query.kind is None else KIND_CODES[query.kind]
        for meter_id, meter_mrid in sorted(meters.items(), key=lambda item: item[1]):
            if best:
                cols, extras = self._best_columns(meter_id, rt_ids, lo, hi)
            else:
                extras = self._fetch_extras(series, meter_id, rt_ids, lo, hi)
                cols = self._fetch_readings(series, meter_id, rt_ids, lo, hi, bool(extras))
            n = cols["ts"].shape[0]
            if not n:
                continue
            mask = np.ones(n, dtype=np.bool_)
            if up_filter is not None:
                mask &= np.isin(cols["usage_point_id"], list(up_filter))
            if allowed_quality is not None:
                mask &= np.isin(cols["quality_id"], list(allowed_quality))
            if kind_code is not None:
                mask &= cols["kind"] == kind_code
            if not mask.all():
                cols = {k: v[mask] for k, v in cols.items()}
                if not cols["ts"].shape[0]:
                    continue
            missing_ups = set(np.unique(cols["usage_point_id"]).tolist()) - set(up_mrids) - {0}
            up_mrids.update(self._mrids_by_id(missing_ups))
            yield from self._blocks(meter_mrid, cols, rt_code, up_mrids, extras)

    def _best_columns(
        self, meter_id: int, rt_ids: Sequence[int], lo: int, hi: int
    ) -> tuple[dict[str, npt.NDArray[Any]], dict[tuple[int, int, int], dict[str, str]]]:
        """Series `best` of one meter (`ReadSeries`): final rows, and the raw rows of each
        reading type outside the span [first, last] of its final rows, ordered by (reading
        type, ts) like `_fetch_readings`."""
        final_codes, raw_codes = SERIES_CODES["final"], SERIES_CODES["raw"]
        extras = self._fetch_extras(final_codes, meter_id, rt_ids, lo, hi)
        raw_extras = self._fetch_extras(raw_codes, meter_id, rt_ids, lo, hi)
        with_batch = bool(extras or raw_extras)
        final = self._fetch_readings(final_codes, meter_id, rt_ids, lo, hi, with_batch)
        raw = self._fetch_readings(raw_codes, meter_id, rt_ids, lo, hi, with_batch)
        if not final["ts"].shape[0]:
            return raw, raw_extras
        if not raw["ts"].shape[0]:
            return final, extras
        covered = np.zeros(raw["ts"].shape[0], dtype=np.bool_)
        frt, fts = final["reading_type_id"], final["ts"]
        for rt in np.unique(frt).tolist():
            span = fts[frt == rt]
            covered |= (
                (raw["reading_type_id"] == rt)
                & (raw["ts"] >= span.min())
                & (raw["ts"] <= span.max())
            )
        keep = ~covered
        cols = {k: np.concatenate([final[k], raw[k][keep]]) for k in final}
        order = np.lexsort((cols["ts"], cols["reading_type_id"]))
        cols = {k: v[order] for k, v in cols.items()}
        return cols, {**raw_extras, **extras}

    def _fetch_extras(
        self, series: int, meter_id: int, reading_type_ids: Sequence[int], lo: int, hi: int
    ) -> dict[tuple[int, int, int], dict[str, str]]:
        cond, param = self._any("reading_type_id", list(reading_type_ids))
        rows = self._rows(
            "SELECT reading_type_id, ts, batch_id, extras FROM reading_extras "
            f"WHERE meter_id = ? AND series = ? AND ts > ? AND ts <= ? AND {cond}",
            (meter_id, series, self._ts(lo), self._ts(hi), param),
        )
        return {(int(r), self._epoch(t), int(b)): self._from_json(e) for r, t, b, e in rows}

    def _epoch(self, ts: Any) -> int:
        """A stored reading timestamp as epoch seconds."""
        return int(ts)

    def _blocks(
        self,
        meter_mrid: str,
        cols: dict[str, npt.NDArray[Any]],
        rt_code: dict[int, str],
        up_mrids: dict[int, str],
        extras: dict[tuple[int, int, int], dict[str, str]],
    ) -> Iterator[ReadingBlock]:
        rt, up, kind = cols["reading_type_id"], cols["usage_point_id"], cols["kind"]
        # Rows come ordered by (reading type, ts); a meter that moved between usage points in
        # the range gives one block per usage point.
        group = (up << 2) | kind
        boundaries = np.flatnonzero(np.r_[True, rt[1:] != rt[:-1]])
        ends = np.r_[boundaries[1:], rt.shape[0]]
        meter_ref = ObjectRef(mrid=meter_mrid)
        for start, end in zip(boundaries.tolist(), ends.tolist(), strict=True):
            part = slice(start, end)
            sub_groups = group[part]
            if bool(np.all(sub_groups == sub_groups[0])):
                selections: list[npt.NDArray[np.intp] | slice] = [part]
            else:
                selections = [
                    np.flatnonzero(sub_groups == g) + start
                    for g in dict.fromkeys(sub_groups.tolist())
                ]
            for sel in selections:
                yield self._block(meter_ref, cols, sel, rt_code, up_mrids, extras)

    def _block(
        self,
        meter_ref: ObjectRef,
        cols: dict[str, npt.NDArray[Any]],
        sel: npt.NDArray[np.intp] | slice,
        rt_code: dict[int, str],
        up_mrids: dict[int, str],
        extras: dict[tuple[int, int, int], dict[str, str]],
    ) -> ReadingBlock:
        quality = cols["quality_id"][sel]
        if bool(np.all(quality == 0)):
            local = np.zeros(quality.shape[0], dtype=np.int32)
            sets: tuple[QualitySet, ...] = (NO_QUALITY,)
        else:
            distinct = np.unique(quality).tolist()
            if 0 in distinct:
                distinct.remove(0)
            known = self._quality_sets(distinct)
            ordered = [0, *distinct]
            sets = tuple(NO_QUALITY if i == 0 else known[i] for i in ordered)
            local = np.searchsorted(np.array(ordered), quality).astype(np.int32)
            # `ordered` is sorted except for the leading 0, which is the smallest id anyway.
        ts = cols["ts"][sel]
        rt = int(cols["reading_type_id"][sel][0])
        up = int(cols["usage_point_id"][sel][0])
        block_extras: dict[int, dict[str, str]] = {}
        if extras:
            batch = cols["batch_id"][sel]
            for j in range(ts.shape[0]):
                found = extras.get((rt, int(ts[j]), int(batch[j])))
                if found is not None:
                    block_extras[j] = dict(found)
        return ReadingBlock(
            rt_code[rt],
            np.ascontiguousarray(ts, dtype=np.int64),
            np.ascontiguousarray(cols["value"][sel], dtype=np.float64),
            local,
            sets,
            meter=meter_ref,
            usage_point=ObjectRef(mrid=up_mrids[up]) if up and up in up_mrids else None,
            kind="register" if int(cols["kind"][sel][0]) == KIND_CODES["register"] else "interval",
            extras=block_extras,
        )

    def reading_versions(
        self, meter_mrid: str, reading_type: str, timestamp: datetime, *, series: Series = "raw"
    ) -> list[ReadingVersion]:
        require_aware(timestamp, "timestamp")
        meter = self._ids_by_mrid(ObjectKind.METER, [meter_mrid])
        try:
            code = canonical_reading_type(reading_type)
        except CodeError:
            return []
        rt = self._one("SELECT id FROM reading_types WHERE code = ?", (code,))
        if not meter or rt is None:
            return []
        key = (
            next(iter(meter)),
            int(rt[0]),
            SERIES_CODES[series],
            self._ts(epoch_floor(timestamp)),
        )
        prior = self._rows(
            "SELECT value, quality_id, batch_id, superseded_batch_id FROM reading_versions "
            "WHERE meter_id = ? AND reading_type_id = ? AND series = ? AND ts = ? ORDER BY id",
            key,
        )
        current = self._rows(
            "SELECT value, quality_id, batch_id FROM readings "
            "WHERE meter_id = ? AND reading_type_id = ? AND series = ? AND ts = ?",
            key,
        )
        batch_ids = {int(r[2]) for r in prior + current} | {int(r[3]) for r in prior}
        cond, param = self._any("id", sorted(batch_ids))
        batches = {
            int(i): (self._from_dt(at), src)
            for i, at, src in (
                self._rows(
                    f"SELECT id, received_at, source FROM ingest_batches WHERE {cond}", (param,)
                )
                if batch_ids
                else []
            )
        }
        qualities = self._quality_sets({int(r[1]) for r in prior + current})
        versions = [
            ReadingVersion(
                value=float(v),
                qualities=qualities[int(q)],
                recorded_at=batches[int(b)][0],
                superseded_at=batches[int(s)][0],
                source=batches[int(b)][1],
                series=series,
            )
            for v, q, b, s in prior
        ]
        versions += [
            ReadingVersion(
                value=float(v),
                qualities=qualities[int(q)],
                recorded_at=batches[int(b)][0],
                superseded_at=None,
                source=batches[int(b)][1],
                series=series,
            )
            for v, q, b in current
        ]
        return versions

    # -- events -----------------------------------------------------------------------------

    _EVENT_COLUMNS = (
        "mrid, type_code, created, device_mrid, usage_point_mrid, reason, severity, issuer_id, "
        "details, document, correlation_id, received_at"
    )

    def _event(self, row: tuple[Any, ...]) -> EventRecord:
        return EventRecord(
            mrid=row[0],
            type_code=row[1],
            created=self._from_dt(row[2]),
            device_mrid=row[3],
            usage_point_mrid=row[4],
            reason=row[5],
            severity=row[6],
            issuer_id=row[7],
            details=self._from_json(row[8]),
            document=self._from_json(row[9]),
            correlation_id=row[10],
            received_at=self._from_opt_dt(row[11]),
        )

    def add_events(self, events: Sequence[EventRecord]) -> list[RejectedItem]:
        rejected: list[RejectedItem] = []
        for index, event in enumerate(events):
            problem = self._add_event(event)
            if problem is not None:
                code, reason = problem
                rejected.append(
                    RejectedItem(
                        reason, code, object_id=event.device_mrid or event.mrid, block_index=index
                    )
                )
        return rejected

    def _add_event(self, event: EventRecord) -> tuple[RejectCode, str] | None:
        for value, what in ((event.created, "createdDateTime"), (event.received_at, "received_at")):
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                return (
                    RejectCode.TIMESTAMP_WITHOUT_ZONE,
                    f"event {event.mrid}: {what} has no time zone",
                )
        try:
            split_code(event.type_code, kind="EndDeviceEventType", field_names=EVENT_TYPE_FIELDS)
        except CodeError as error:
            return RejectCode.MALFORMED_EVENT_TYPE, f"event {event.mrid}: {error}"
        device_id: int | None = None
        device_mrid = event.device_mrid
        usage_point_mrid = event.usage_point_mrid
        if device_mrid:
            kinds = [k.value for k in DEVICE_KINDS]
            cond, param = self._any("kind", kinds)
            found = {
                k: int(i)
                for i, k in self._rows(
                    f"SELECT id, kind FROM objects WHERE mrid = ? AND deleted = ? AND {cond}",
                    (device_mrid, False, param),
                )
            }
            device_id = next((found[k] for k in kinds if k in found), None)
            if device_id is None:
                return (
                    RejectCode.UNKNOWN_DEVICE,
                    f"event {event.mrid}: unknown device mRID {device_mrid}",
                )
            if usage_point_mrid is None and ObjectKind.METER.value in found:
                links = self.linkages(
                    LinkageKind.METER_USAGE_POINT, from_mrid=device_mrid, at=event.created
                )
                usage_point_mrid = links[0].to_mrid if links else None
        elif usage_point_mrid:
            links = self.linkages(
                LinkageKind.METER_USAGE_POINT, to_mrid=usage_point_mrid, at=event.created
            )
            if len(links) != 1:
                code = RejectCode.NO_LINKED_METER if not links else RejectCode.SEVERAL_LINKED_METERS
                return code, (
                    f"event {event.mrid}: {len(links)} meters linked to usage point "
                    f"{usage_point_mrid} at {event.created.isoformat()}"
                )
            device_mrid = links[0].from_mrid
            ids = self._ids_by_mrid(ObjectKind.METER, [device_mrid])
            if not ids:
                return RejectCode.UNKNOWN_DEVICE, f"event {event.mrid}: unknown meter {device_mrid}"
            device_id = next(iter(ids))
        else:
            return (
                RejectCode.MISSING_IDENTITY,
                f"event {event.mrid}: names neither a device nor a usage point",
            )
        stored = EventRecord(
            mrid=event.mrid,
            type_code=event.type_code,
            created=event.created,
            device_mrid=device_mrid,
            usage_point_mrid=usage_point_mrid,
            reason=event.reason,
            severity=event.severity,
            issuer_id=event.issuer_id,
            details=event.details,
            document=event.document,
            correlation_id=event.correlation_id,
            received_at=event.received_at,
        )
        digest = _event_hash(stored)
        existing = self._one(
            "SELECT content_hash FROM events WHERE device_id = ? AND mrid = ?",
            (device_id, event.mrid),
        )
        if existing is not None:
            if existing[0] == digest:
                return None
            return RejectCode.DUPLICATE_EVENT, (
                f"event {event.mrid} of device {device_mrid} is already stored with other content"
            )
        self._exec(
            "INSERT INTO events (device_id, mrid, type_code, created, device_mrid, "
            "usage_point_mrid, reason, severity, issuer_id, details, document, correlation_id, "
            "received_at, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                device_id,
                event.mrid,
                event.type_code,
                self._dt(event.created),
                device_mrid,
                usage_point_mrid,
                event.reason,
                event.severity,
                event.issuer_id,
                self._json(dict(event.details)),
                self._json(dict(event.document)),
                event.correlation_id,
                self._opt_dt(event.received_at),
                digest,
            ),
        )
        return None

    def query_events(self, query: EventQuery) -> list[EventRecord]:
        require_aware(query.start, "start")
        require_aware(query.end, "end")
        sql = f"SELECT {self._EVENT_COLUMNS} FROM events WHERE 1 = 1"
        params: list[Any] = []
        if query.devices:
            cond, param = self._any("device_mrid", list(query.devices))
            sql += f" AND {cond}"
            params.append(param)
        if query.usage_points:
            cond, param = self._any("usage_point_mrid", list(query.usage_points))
            sql += f" AND {cond}"
            params.append(param)
        if query.start is not None:
            sql += " AND created > ?"
            params.append(self._dt(query.start))
        if query.end is not None:
            sql += " AND created <= ?"
            params.append(self._dt(query.end))
        sql += " ORDER BY created, id"
        patterns = [p.split(".") for p in query.type_patterns]
        result: list[EventRecord] = []
        for row in self._rows(sql, params):
            if patterns:
                fields = str(row[1]).split(".")
                if not any(
                    len(p) == len(fields)
                    and all(a in ("*", b) for a, b in zip(p, fields, strict=True))
                    for p in patterns
                ):
                    continue
            result.append(self._event(row))
            if query.limit is not None and len(result) >= query.limit:
                break
        return result

    # -- controls ---------------------------------------------------------------------------

    _CONTROL_COLUMNS = (
        "id, mrid, type_code, device_mrid, state, requested_at, correlation_id, reply_address, "
        "scheduled_at, expires_at, document"
    )

    def _controls(self, rows: list[tuple[Any, ...]]) -> list[ControlRecord]:
        if not rows:
            return []
        cond, param = self._any("control_id", [int(r[0]) for r in rows])
        transitions: dict[int, list[tuple[ControlState, datetime, str | None]]] = {}
        for control_id, state, at, detail in self._rows(
            f"SELECT control_id, state, at, detail FROM control_transitions WHERE {cond} "
            "ORDER BY control_id, seq",
            (param,),
        ):
            transitions.setdefault(int(control_id), []).append(
                (ControlState(state), self._from_dt(at), detail)
            )
        return [
            ControlRecord(
                mrid=r[1],
                type_code=r[2],
                device_mrid=r[3],
                state=ControlState(r[4]),
                requested_at=self._from_dt(r[5]),
                correlation_id=r[6],
                reply_address=r[7],
                scheduled_at=self._from_opt_dt(r[8]),
                expires_at=self._from_opt_dt(r[9]),
                document=self._from_json(r[10]),
                transitions=tuple(transitions.get(int(r[0]), ())),
            )
            for r in rows
        ]

    def get_control(self, mrid: str) -> ControlRecord | None:
        rows = self._rows(f"SELECT {self._CONTROL_COLUMNS} FROM controls WHERE mrid = ?", (mrid,))
        found = self._controls(rows)
        return found[0] if found else None

    def find_controls(
        self,
        *,
        correlation_id: str | None = None,
        device_mrid: str | None = None,
        states: Sequence[ControlState] = (),
    ) -> list[ControlRecord]:
        sql = f"SELECT {self._CONTROL_COLUMNS} FROM controls WHERE 1 = 1"
        params: list[Any] = []
        if correlation_id is not None:
            sql += " AND correlation_id = ?"
            params.append(correlation_id)
        if device_mrid is not None:
            sql += " AND device_mrid = ?"
            params.append(device_mrid)
        if states:
            cond, param = self._any("state", [s.value for s in states])
            sql += f" AND {cond}"
            params.append(param)
        return self._controls(self._rows(sql + " ORDER BY requested_at, id", params))

    def put_control(self, control: ControlRecord) -> ControlRecord:
        for value, what in (
            (control.requested_at, "requested_at"),
            (control.scheduled_at, "scheduled_at"),
            (control.expires_at, "expires_at"),
        ):
            require_aware(value, what)
        if self._one("SELECT id FROM controls WHERE mrid = ?", (control.mrid,)) is not None:
            raise StoreError(f"control {control.mrid} is already recorded")
        control_id = self._insert_id(
            "INSERT INTO controls (mrid, type_code, device_mrid, state, requested_at, "
            "correlation_id, reply_address, scheduled_at, expires_at, document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                control.mrid,
                control.type_code,
                control.device_mrid,
                control.state.value,
                self._dt(control.requested_at),
                control.correlation_id,
                control.reply_address,
                self._opt_dt(control.scheduled_at),
                self._opt_dt(control.expires_at),
                self._json(dict(control.document)),
            ),
        )
        transitions = control.transitions or ((control.state, control.requested_at, None),)
        for seq, (state, at, detail) in enumerate(transitions):
            require_aware(at, "transition time")
            self._exec(
                _INSERT_TRANSITION,
                (control_id, seq, ControlState(state).value, self._dt(at), detail),
            )
        stored = self.get_control(control.mrid)
        assert stored is not None
        return stored

    def transition_control(
        self, mrid: str, state: ControlState, at: datetime, detail: str | None = None
    ) -> ControlRecord:
        require_aware(at, "at")
        row = self._one("SELECT id, state FROM controls WHERE mrid = ?", (mrid,))
        if row is None:
            raise StoreError(f"no control {mrid}")
        current = ControlState(row[1])
        if state not in CONTROL_NEXT[current]:
            raise ControlTransitionError(
                f"control {mrid} is {current.value}; it cannot become {state.value} "
                f"(allowed: {', '.join(sorted(s.value for s in CONTROL_NEXT[current])) or 'none'})"
            )
        seq = self._one(
            "SELECT max(seq) FROM control_transitions WHERE control_id = ?", (int(row[0]),)
        )
        next_seq = 0 if seq is None or seq[0] is None else int(seq[0]) + 1
        self._exec("UPDATE controls SET state = ? WHERE id = ?", (state.value, int(row[0])))
        self._exec(
            _INSERT_TRANSITION,
            (int(row[0]), next_seq, state.value, self._dt(at), detail),
        )
        stored = self.get_control(mrid)
        assert stored is not None
        return stored

    # -- message log ------------------------------------------------------------------------

    _MESSAGE_COLUMNS = (
        "id, direction, verb, noun, message_id, correlation_id, source, received_at, status, "
        "content_hash, reply, reply_address"
    )

    def _message(self, row: tuple[Any, ...]) -> MessageLogEntry:
        return MessageLogEntry(
            direction=MessageDirection(row[1]),
            verb=row[2],
            noun=row[3],
            message_id=row[4],
            correlation_id=row[5],
            source=row[6],
            received_at=self._from_dt(row[7]),
            status=row[8],
            content_hash=row[9],
            reply=None if row[10] is None else bytes(row[10]),
            reply_address=row[11],
            id=int(row[0]),
        )

    def log_message(self, entry: MessageLogEntry) -> MessageLogEntry:
        require_aware(entry.received_at, "received_at")
        try:
            entry_id = self._insert_id(
                "INSERT INTO message_log (direction, verb, noun, message_id, correlation_id, "
                "source, received_at, status, content_hash, reply, reply_address) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    MessageDirection(entry.direction).value,
                    entry.verb,
                    entry.noun,
                    entry.message_id,
                    entry.correlation_id,
                    entry.source,
                    self._dt(entry.received_at),
                    entry.status,
                    entry.content_hash,
                    entry.reply,
                    entry.reply_address,
                ),
            )
        except Exception as error:
            if self._is_unique_violation(error):
                source = entry.source or "(no source)"
                raise DuplicateMessageError(
                    f"message {entry.message_id} from {source} is already logged"
                ) from error
            raise
        row = self._one(
            f"SELECT {self._MESSAGE_COLUMNS} FROM message_log WHERE id = ?", (entry_id,)
        )
        assert row is not None
        return self._message(row)

    def update_message(self, entry_id: int, *, status: str, reply: bytes | None) -> None:
        if not self._exec(
            "UPDATE message_log SET status = ?, reply = ? WHERE id = ?", (status, reply, entry_id)
        ):
            raise StoreError(f"no message log entry {entry_id}")

    def find_message(self, source: str | None, message_id: str) -> MessageLogEntry | None:
        row = self._one(
            f"SELECT {self._MESSAGE_COLUMNS} FROM message_log WHERE direction = ? "
            "AND message_id = ? AND coalesce(source, '') = ?",
            (MessageDirection.INBOUND.value, message_id, source or ""),
        )
        return None if row is None else self._message(row)

    def find_by_correlation(
        self, correlation_id: str, *, direction: str | None = None
    ) -> list[MessageLogEntry]:
        sql = f"SELECT {self._MESSAGE_COLUMNS} FROM message_log WHERE correlation_id = ?"
        params: list[Any] = [correlation_id]
        if direction is not None:
            sql += " AND direction = ?"
            params.append(MessageDirection(direction).value)
        return [self._message(r) for r in self._rows(sql + " ORDER BY id", params)]

    # -- outbox and jobs --------------------------------------------------------------------

    _OUTBOX_COLUMNS = (
        "id, destination, verb, noun, body, content_type, correlation_id, message_id, created_at, "
        "attempts, sent_at, last_error"
    )

    def _outbox(self, row: tuple[Any, ...]) -> OutboxMessage:
        return OutboxMessage(
            destination=row[1],
            verb=row[2],
            noun=row[3],
            body=bytes(row[4]),
            content_type=row[5],
            correlation_id=row[6],
            message_id=row[7],
            created_at=self._from_opt_dt(row[8]),
            attempts=int(row[9]),
            sent_at=self._from_opt_dt(row[10]),
            last_error=row[11],
            id=int(row[0]),
        )

    def enqueue(self, message: OutboxMessage) -> OutboxMessage:
        require_aware(message.created_at, "created_at")
        outbox_id = self._insert_id(
            "INSERT INTO outbox (destination, verb, noun, body, content_type, correlation_id, "
            "message_id, created_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message.destination,
                message.verb,
                message.noun,
                message.body,
                message.content_type,
                message.correlation_id,
                message.message_id,
                self._opt_dt(message.created_at),
                0,
            ),
        )
        row = self._one(f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (outbox_id,))
        assert row is not None
        return self._outbox(row)

    def pending_outbox(self, limit: int = 100) -> list[OutboxMessage]:
        rows = self._rows(
            f"SELECT {self._OUTBOX_COLUMNS} FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [self._outbox(r) for r in rows]

    def mark_sent(self, outbox_id: int, at: datetime) -> None:
        require_aware(at, "at")
        if not self._exec(
            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
            (self._dt(at), outbox_id),
        ):
            raise StoreError(f"no outbox message {outbox_id}")

    def mark_failed(self, outbox_id: int, error: str) -> None:
        if not self._exec(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error, outbox_id),
        ):
            raise StoreError(f"no outbox message {outbox_id}")

    def schedule_job(self, job: Job) -> Job:
        require_aware(job.due_at, "due_at")
        job_id = self._insert_id(
            "INSERT INTO jobs (kind, due_at, payload) VALUES (?, ?, ?)",
            (job.kind, self._dt(job.due_at), self._json(dict(job.payload))),
        )
        return Job(job.kind, job.due_at, dict(job.payload), id=job_id)

    def due_jobs(self, now: datetime, limit: int = 100) -> list[Job]:
        require_aware(now, "now")
        rows = self._rows(
            "SELECT id, kind, due_at, payload, done_at FROM jobs "
            "WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (self._dt(now), limit),
        )
        return [
            Job(r[1], self._from_dt(r[2]), self._from_json(r[3]), id=int(r[0]), done_at=None)
            for r in rows
        ]

    def finish_job(self, job_id: int, at: datetime) -> None:
        require_aware(at, "at")
        if not self._exec("UPDATE jobs SET done_at = ? WHERE id = ?", (self._dt(at), job_id)):
            raise StoreError(f"no job {job_id}")

    # -- VEE (schema 2) -----------------------------------------------------------------------

    def _vee_channel(self, meter_mrid: str, reading_type: str) -> tuple[int, int] | None:
        meter = self._ids_by_mrid(ObjectKind.METER, [meter_mrid])
        try:
            code = canonical_reading_type(reading_type)
        except CodeError:
            return None
        rt = self._one("SELECT id FROM reading_types WHERE code = ?", (code,))
        if not meter or rt is None:
            return None
        return next(iter(meter)), int(rt[0])

    def add_vee_run(self, run: VeeRun) -> VeeRun:
        for name in ("started_at", "start", "end"):
            require_aware(getattr(run, name), name)
        run_id = self._insert_id(
            "INSERT INTO vee_runs (started_at, range_start, range_end, scope, stats) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                self._dt(run.started_at),
                self._dt(run.start),
                self._dt(run.end),
                run.scope,
                self._json(dict(run.stats)),
            ),
        )
        return VeeRun(run.started_at, run.start, run.end, run.scope, dict(run.stats), id=run_id)

    def vee_runs(self, limit: int = 20) -> list[VeeRun]:
        rows = self._rows(
            "SELECT id, started_at, range_start, range_end, scope, stats FROM vee_runs "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            VeeRun(
                self._from_dt(r[1]),
                self._from_dt(r[2]),
                self._from_dt(r[3]),
                r[4],
                self._from_json(r[5]),
                id=int(r[0]),
            )
            for r in rows
        ]

    def _insert_vee_findings(self, findings: Sequence[VeeFinding]) -> None:
        channels: dict[tuple[str, str], tuple[int, int] | None] = {}
        for f in findings:
            require_aware(f.start, "start")
            require_aware(f.end, "end")
            key = (f.meter_mrid, f.reading_type)
            if key not in channels:
                channels[key] = self._vee_channel(*key)
            ids = channels[key]
            if ids is None:
                raise StoreError(f"no stored channel {f.meter_mrid} / {f.reading_type}")
            self._exec(
                "INSERT INTO vee_findings (run_id, meter_id, reading_type_id, usage_point_mrid, "
                "rule, ts_from, ts_to, count, reason, quality, actor) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f.run_id or 0,
                    ids[0],
                    ids[1],
                    f.usage_point_mrid,
                    f.rule,
                    self._ts(epoch_floor(f.start)),
                    self._ts(epoch_floor(f.end)),
                    f.count,
                    f.reason,
                    f.quality,
                    f.actor,
                ),
            )

    def replace_vee_findings(
        self,
        meters: Sequence[str],
        start: datetime,
        end: datetime,
        findings: Sequence[VeeFinding],
    ) -> None:
        require_aware(start, "start")
        require_aware(end, "end")
        ids = self._ids_by_mrid(ObjectKind.METER, list(meters)) if meters else {}
        if ids:
            cond, param = self._any("meter_id", sorted(ids))
            self._exec(
                f"DELETE FROM vee_findings WHERE {cond} "
                "AND ts_from > ? AND ts_from <= ? AND rule <> 'edit'",
                (param, self._ts(epoch_floor(start)), self._ts(epoch_floor(end))),
            )
        self._insert_vee_findings(findings)

    def add_vee_findings(self, findings: Sequence[VeeFinding]) -> None:
        self._insert_vee_findings(findings)

    def vee_findings(
        self,
        *,
        meters: Sequence[str] = (),
        usage_points: Sequence[str] = (),
        reading_types: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[VeeFinding]:
        where: list[str] = []
        params: list[Any] = []
        if meters:
            ids = self._ids_by_mrid(ObjectKind.METER, list(meters))
            if not ids:
                return []
            cond, param = self._any("f.meter_id", sorted(ids))
            where.append(cond)
            params.append(param)
        if usage_points:
            cond, param = self._any("f.usage_point_mrid", list(usage_points))
            where.append(cond)
            params.append(param)
        if reading_types:
            codes = []
            for rt in reading_types:
                try:
                    codes.append(canonical_reading_type(rt))
                except CodeError:
                    continue
            if not codes:
                return []
            cond, param = self._any("t.code", codes)
            where.append(cond)
            params.append(param)
        if start is not None:
            require_aware(start, "start")
            where.append("f.ts_to > ?")
            params.append(self._ts(epoch_floor(start)))
        if end is not None:
            require_aware(end, "end")
            where.append("f.ts_from <= ?")
            params.append(self._ts(epoch_floor(end)))
        rows = self._rows(
            "SELECT o.mrid, t.code, f.rule, f.ts_from, f.ts_to, f.count, f.reason, f.quality, "
            "f.usage_point_mrid, f.actor, f.run_id FROM vee_findings f "
            "JOIN objects o ON o.id = f.meter_id JOIN reading_types t ON t.id = f.reading_type_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY o.mrid, t.code, f.ts_from, f.rule",
            params,
        )
        return [
            VeeFinding(
                r[0],
                r[1],
                r[2],
                datetime.fromtimestamp(self._epoch(r[3]), UTC),
                datetime.fromtimestamp(self._epoch(r[4]), UTC),
                int(r[5]),
                r[6],
                r[7],
                usage_point_mrid=r[8],
                actor=r[9],
                run_id=int(r[10]) or None,
            )
            for r in rows
        ]

    def put_vee_config(self, document: dict[str, Any], at: datetime, name: str = "default") -> None:
        require_aware(at, "at")
        self._exec("DELETE FROM vee_config WHERE name = ?", (name,))
        self._exec(
            "INSERT INTO vee_config (name, document, updated_at) VALUES (?, ?, ?)",
            (name, self._json(document), self._dt(at)),
        )

    def get_vee_config(self, name: str = "default") -> dict[str, Any] | None:
        row = self._one("SELECT document FROM vee_config WHERE name = ?", (name,))
        if row is None:
            return None
        document: dict[str, Any] = self._from_json(row[0])
        return document
