"""The store: one interface (`Store`), SQLite (embedded default) and PostgreSQL engines."""

from cimmeter.store.base import (
    EventQuery,
    ReadingQuery,
    ResolveError,
    Store,
    StoreError,
    StoreReader,
    StoreTransaction,
    StoreUnavailable,
)

__all__ = [
    "EventQuery",
    "ReadingQuery",
    "ResolveError",
    "Store",
    "StoreError",
    "StoreReader",
    "StoreTransaction",
    "StoreUnavailable",
]
