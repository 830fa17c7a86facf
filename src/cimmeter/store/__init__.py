"""The store: one interface (`Store`), SQLite (embedded default) and PostgreSQL engines.

    from cimmeter.store import open_store
    with open_store("cimmeter.db", upgrade=True) as store, store.transaction() as tx:
        tx.ingest_readings(blocks, received_at=now, source="HES-1")

`open_store` takes a file path or `sqlite:///path` (options: `?synchronous=normal`,
`?busy_timeout=30`) for SQLite, and `postgresql://...` for PostgreSQL.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from cimmeter.store.base import (
    ControlTransitionError,
    DuplicateMessageError,
    EventQuery,
    LinkageConflict,
    ReadingQuery,
    ResolveError,
    SchemaOutdated,
    Store,
    StoreError,
    StoreInfo,
    StoreReader,
    StoreTransaction,
    StoreUnavailable,
)

DEFAULT_URL = "sqlite:///cimmeter.db"
_CONNINFO = re.compile(r"^\s*(host|hostaddr|dbname|user|port|password|service)\s*=")


def open_store(url: str, *, upgrade: bool = False) -> Store:
    """Open the store a URL names; with `upgrade`, apply pending migrations first.

    Without `upgrade`, a database whose schema is not current raises `SchemaOutdated` at the
    first transaction (run `cimmeter db upgrade`).
    """
    store: Store
    if url.startswith(("postgresql://", "postgres://")):
        from cimmeter.store.postgres import PostgresStore

        store = PostgresStore(url)
    elif _CONNINFO.match(url):
        raise StoreError(
            f"{url!r} looks like a libpq connection string; give a postgresql://... URL "
            "(a bare path means a SQLite file)"
        )
    else:
        from cimmeter.store.sqlite import SqliteStore

        path, options = url, {}
        if url.startswith("sqlite:"):
            parts = urlsplit(url)
            if parts.netloc:
                raise StoreError(
                    f"{url}: a SQLite URL is sqlite:///relative or sqlite:////absolute"
                )
            path = parts.path[1:] if parts.path.startswith("/") else parts.path
            options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"synchronous", "busy_timeout"}
        if unknown:
            raise StoreError(f"{url}: unknown SQLite option(s) {', '.join(sorted(unknown))}")
        if not path:
            raise StoreError(f"{url}: no database file named")
        store = SqliteStore(
            path,
            synchronous=options.get("synchronous", "FULL"),
            busy_timeout=float(options.get("busy_timeout", 60.0)),
        )
    if upgrade:
        store.upgrade()
    return store


__all__ = [
    "DEFAULT_URL",
    "ControlTransitionError",
    "DuplicateMessageError",
    "EventQuery",
    "LinkageConflict",
    "ReadingQuery",
    "ResolveError",
    "SchemaOutdated",
    "Store",
    "StoreError",
    "StoreInfo",
    "StoreReader",
    "StoreTransaction",
    "StoreUnavailable",
    "open_store",
]
