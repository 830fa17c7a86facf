"""The REST read side over a store: each call in its own snapshot, complete when it returns.

Readings are read into memory inside the snapshot (columnar, bounded by the query's time range
and the service's range limit) so that no snapshot (a SQLite connection bound to its thread)
outlives the worker-thread call that opened it; the route streams what was read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from cimmeter.model.readings import ReadingBlock
from cimmeter.store.base import EventQuery, ReadingQuery, Store
from cimmeter.store.records import EventRecord, MasterObject, ObjectKind


class StoreReadSide:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None:
        with self.store.snapshot() as reader:
            return reader.get_object(kind, mrid)

    def list_objects(
        self, kind: ObjectKind, *, after_mrid: str | None = None, limit: int = 100
    ) -> list[MasterObject]:
        with self.store.snapshot() as reader:
            return reader.list_objects(kind, after_mrid=after_mrid, limit=limit)

    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]:
        with self.store.snapshot() as reader:
            blocks = list(reader.read_readings(query))
        return iter(blocks)

    def query_events(self, query: EventQuery) -> list[EventRecord]:
        with self.store.snapshot() as reader:
            return reader.query_events(query)

    def vee_findings(
        self, usage_point: str, start: datetime | None, end: datetime | None
    ) -> list[dict[str, Any]]:
        with self.store.snapshot() as reader:
            found = reader.vee_findings(usage_points=[usage_point], start=start, end=end)
        return [
            {
                "meter": f.meter_mrid,
                "readingType": f.reading_type,
                "rule": f.rule,
                "start": f.start.isoformat(),
                "end": f.end.isoformat(),
                "count": f.count,
                "reason": f.reason,
                "quality": f.quality,
                "actor": f.actor,
            }
            for f in found
        ]

    def vee_report(self, period: str) -> list[dict[str, Any]]:
        from cimmeter.vee.editing import parse_period, report

        start, end = parse_period(period)
        with self.store.snapshot() as reader:
            return [r.as_dict() for r in report(reader, start, end)]


__all__ = ["StoreReadSide"]
