"""What the REST resource routes read, and how reading sets are paged and written out.

`ReadSide` is the narrow read-only protocol the routes need: a subset of the store's reader
(`cimmeter.store.StoreReader`), so that the runtime can hand a store snapshot adapter and tests
an in-memory one. Calls are synchronous and run in a worker thread; each call is complete in
itself (an implementation over SQLite opens and closes its snapshot inside the call).

Reading sets are returned as columnar blocks and written out without building a document: as
JSON (streamed in chunks), NDJSON (one reading a line) or CSV (the columns of DECISIONS.md).
Pagination uses an opaque cursor (series key + last timestamp), so a page boundary may fall in
the middle of a series and the next page continues exactly after it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store.base import EventQuery, ReadingQuery
from cimmeter.store.records import EventRecord, MasterObject, ObjectKind
from cimmeter.xml.datetimes import format_epochs
from cimmeter.xml.readings_csv import COLUMNS


class ReadSide(Protocol):
    """Read-only queries for the REST resource routes (a subset of `StoreReader`)."""

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None: ...

    def list_objects(
        self, kind: ObjectKind, *, after_mrid: str | None = None, limit: int = 100
    ) -> list[MasterObject]: ...

    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]: ...

    def query_events(self, query: EventQuery) -> list[EventRecord]: ...


@runtime_checkable
class VeeReadSide(Protocol):
    """What the VEE routes read (issue 10), when the read side offers it."""

    def vee_findings(
        self, usage_point: str, start: datetime | None, end: datetime | None
    ) -> list[dict[str, Any]]: ...

    def vee_report(self, period: str) -> list[dict[str, Any]]:
        """Per usage point over a period `YYYY-MM` or `YYYY-MM-DD` (UTC); ValueError if bad."""
        ...


class CursorError(ValueError):
    """A pagination cursor that this server did not write."""


SeriesKey = tuple[str, str, str, str]
"""(meter, usage point, reading type, kind): the order series are paged in."""


def _ref_text(ref: ObjectRef | None) -> str:
    if ref is None:
        return ""
    return ref.mrid or ref.name or ref.serial_number or ""


def series_key(block: ReadingBlock) -> SeriesKey:
    return (_ref_text(block.meter), _ref_text(block.usage_point), block.reading_type, block.kind)


@dataclass(frozen=True, slots=True)
class ReadingCursor:
    """Where a page of readings ended: the series and the last timestamp in it."""

    key: SeriesKey
    timestamp: int

    def encode(self) -> str:
        raw = json.dumps([list(self.key), self.timestamp], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> ReadingCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            key, timestamp = json.loads(raw)
            if len(key) != 4 or not all(isinstance(k, str) for k in key):
                raise ValueError("bad key")
            return cls((key[0], key[1], key[2], key[3]), int(timestamp))
        except (ValueError, TypeError) as exc:
            raise CursorError(f"not a cursor of this server: {text!r} ({exc})") from None


@dataclass(frozen=True, slots=True)
class ReadingPage:
    blocks: list[ReadingBlock]
    next: ReadingCursor | None

    @property
    def count(self) -> int:
        return sum(len(b) for b in self.blocks)


def page_readings(
    blocks: Iterable[ReadingBlock], *, after: ReadingCursor | None, limit: int | None
) -> ReadingPage:
    """Order blocks by series, continue after `after`, stop at `limit` readings."""
    ordered = sorted((b for b in blocks if len(b)), key=series_key)
    page: list[ReadingBlock] = []
    count = 0
    for block in ordered:
        key = series_key(block)
        if after is not None and key <= after.key:
            if key < after.key:
                continue
            block = block.take(block.timestamps > after.timestamp)
            if not len(block):
                continue
        if limit is not None and count + len(block) > limit:
            take = limit - count
            if take > 0:
                page.append(block.take(np.arange(take)))
            last = page[-1]
            return ReadingPage(page, ReadingCursor(series_key(last), int(last.timestamps[-1])))
        page.append(block)
        count += len(block)
    return ReadingPage(page, None)


# -- writing -------------------------------------------------------------------------------------

ReadingFormat = Literal["json", "ndjson", "csv"]
READING_MEDIA_TYPES: dict[ReadingFormat, str] = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
_ROWS_PER_CHUNK = 4096


def _value(value: float) -> float | str:
    # JSON has no NaN/Infinity: as the JSON form of messages does, write them as strings.
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    return value


def _row_chunks(block: ReadingBlock) -> Iterator[tuple[list[str], list[float], list[int]]]:
    stamps = format_epochs(block.timestamps)
    values = block.values.tolist()
    quality = block.quality.tolist()
    for start in range(0, len(block), _ROWS_PER_CHUNK):
        end = start + _ROWS_PER_CHUNK
        yield stamps[start:end], values[start:end], quality[start:end]


def _series_head(block: ReadingBlock) -> dict[str, object]:
    return {
        "meter": _ref_text(block.meter) or None,
        "usagePoint": _ref_text(block.usage_point) or None,
        "readingType": block.reading_type,
        "kind": block.kind,
    }


def readings_json(page: ReadingPage, head: Mapping[str, object]) -> Iterator[bytes]:
    """`{...head, "series": [{meter, usagePoint, readingType, kind, readings: [...]}], "next"}`,
    in chunks of a few thousand readings."""
    opening = json.dumps(head)[:-1] + (', "series": [' if head else '"series": [')
    yield opening.encode()
    for n, block in enumerate(page.blocks):
        series = json.dumps(_series_head(block))[:-1] + ', "readings": ['
        yield (("," if n else "") + series).encode()
        first = True
        for stamps, values, quality in _row_chunks(block):
            rows = [
                json.dumps(
                    {
                        "timestamp": s,
                        "value": _value(v),
                        "quality": list(block.quality_sets[q]),
                    }
                )
                for s, v, q in zip(stamps, values, quality, strict=True)
            ]
            yield (("" if first else ",") + ",".join(rows)).encode()
            first = False
        yield b"]}"
    cursor = page.next.encode() if page.next else None
    yield f'], "count": {page.count}, "next": {json.dumps(cursor)}}}'.encode()


def readings_ndjson(page: ReadingPage) -> Iterator[bytes]:
    """One JSON object per reading and line; the cursor of the next page, if any, last."""
    for block in page.blocks:
        head = _series_head(block)
        for stamps, values, quality in _row_chunks(block):
            lines = [
                json.dumps(
                    {
                        **head,
                        "timestamp": s,
                        "value": _value(v),
                        "quality": list(block.quality_sets[q]),
                    }
                )
                for s, v, q in zip(stamps, values, quality, strict=True)
            ]
            yield ("\n".join(lines) + "\n").encode()
    if page.next is not None:
        yield (json.dumps({"next": page.next.encode()}) + "\n").encode()


def readings_csv(page: ReadingPage) -> Iterator[bytes]:
    """The readings CSV of DECISIONS.md (header, one row per reading)."""
    yield (",".join(COLUMNS) + "\n").encode()
    for block in page.blocks:
        meter, usage_point = (
            _csv_field(_ref_text(block.meter)),
            _csv_field(_ref_text(block.usage_point)),
        )
        reading_type = block.reading_type
        qualities = [";".join(codes) for codes in block.quality_sets]
        for stamps, values, quality in _row_chunks(block):
            rows = [
                f"{meter},{usage_point},{reading_type},{s},{_csv_value(v)},{qualities[q]}\n"
                for s, v, q in zip(stamps, values, quality, strict=True)
            ]
            yield "".join(rows).encode()


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_value(value: float) -> str:
    text = repr(value)
    return {"nan": "NaN", "inf": "INF", "-inf": "-INF"}.get(text, text)


# -- other resources ----------------------------------------------------------------------------


def object_view(obj: MasterObject) -> dict[str, object]:
    """A master-data object as the REST routes show it."""
    return {
        "mRID": obj.mrid,
        "kind": obj.kind.value,
        "names": [
            {"name": n.name, "nameType": n.name_type, "nameTypeAuthority": n.name_type_authority}
            for n in obj.names
        ],
        "serialNumber": obj.serial_number,
        "status": obj.status,
        "version": obj.version,
        "updatedAt": obj.updated_at.isoformat() if obj.updated_at else None,
        "deleted": obj.deleted,
        "document": dict(obj.document),
    }


def event_view(event: EventRecord) -> dict[str, object]:
    return {
        "mRID": event.mrid,
        "type": event.type_code,
        "createdDateTime": event.created.isoformat(),
        "device": event.device_mrid,
        "usagePoint": event.usage_point_mrid,
        "reason": event.reason,
        "severity": event.severity,
        "issuerID": event.issuer_id,
        "details": dict(event.details),
        "correlationID": event.correlation_id,
    }


def event_cursor(event: EventRecord) -> str:
    raw = json.dumps([event.created.isoformat(), event.mrid]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_event_cursor(text: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        created, mrid = json.loads(raw)
        return str(created), str(mrid)
    except (ValueError, TypeError) as exc:
        raise CursorError(f"not a cursor of this server: {text!r} ({exc})") from None


def selector(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(v for v in (values or ()) if v)


__all__ = [
    "READING_MEDIA_TYPES",
    "CursorError",
    "ReadSide",
    "ReadingCursor",
    "ReadingFormat",
    "ReadingPage",
    "decode_event_cursor",
    "event_cursor",
    "event_view",
    "object_view",
    "page_readings",
    "readings_csv",
    "readings_json",
    "readings_ndjson",
    "selector",
    "series_key",
]
