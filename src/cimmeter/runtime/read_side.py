"""The REST read side over a store: each call in its own snapshot, complete when it returns.

Readings are read into memory inside the snapshot (columnar, bounded by the query's time range
and the service's range limit) so that no snapshot (a SQLite connection bound to its thread)
outlives the worker-thread call that opened it; the route streams what was read.
"""

from __future__ import annotations

from collections.abc import Iterator

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


__all__ = ["StoreReadSide"]
