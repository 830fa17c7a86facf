"""Fixtures for the service tests: a real store of each engine, a clock, message builders.

The same tests run on SQLite and on PostgreSQL (a throw-away database on the server at
`CIMMETER_TEST_PG`, default postgresql://postgres@127.0.0.1:5432/test; a missing server fails in
CI and skips elsewhere). Until the store engines are on main (branch `store`), tests that need
a store skip, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from cimmeter.service.clock import ManualClock
from cimmeter.store.base import Store
from tests.conftest import need_server

PG_ADMIN_URL = os.environ.get("CIMMETER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _open_store() -> Callable[..., Store]:
    try:
        from cimmeter.store import open_store  # type: ignore[attr-defined]
    except ImportError:
        pytest.skip("the store engines (open_store) are not on main yet: branch `store`")
    opener: Callable[..., Store] = open_store
    return opener


class PgSchemas:
    """One throw-away PostgreSQL database per test session; each test gets a fresh schema in
    it (via `search_path` in the URL), dropped afterwards. Much faster than a database each."""

    def __init__(self) -> None:
        import psycopg
        from psycopg import sql

        self.name = f"cimmeter_svc_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        except psycopg.OperationalError as error:
            self.error: str | None = f"{PG_ADMIN_URL}: {error}"
            return
        self.error = None
        # a postgresql:// URL (open_store picks the engine by the scheme)
        self.url = urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{self.name}"))

    def schema_url(self, schema: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        return f"{self.url}?options=-csearch_path%3D{schema}"

    def drop_schema(self, schema: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )

    def drop(self) -> None:
        import psycopg
        from psycopg import sql

        if self.error is not None:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


@pytest.fixture(scope="session")
def pg_schemas() -> Iterator[PgSchemas]:
    schemas = PgSchemas()
    try:
        yield schemas
    finally:
        schemas.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An upgraded, empty store of each engine."""
    open_store = _open_store()
    if request.param == "sqlite":
        with open_store(f"sqlite:///{tmp_path / 'service.db'}", upgrade=True) as opened:
            yield opened
        return
    schemas: PgSchemas = request.getfixturevalue("pg_schemas")
    if schemas.error is not None:
        need_server("PostgreSQL", schemas.error)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = schemas.schema_url(schema)
    try:
        with open_store(url, upgrade=True) as opened:
            yield opened
    finally:
        schemas.drop_schema(schema)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


class Ids:
    """Deterministic ids for what the service sends (`id-1`, `id-2`, ...)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id-{self.n}"


@pytest.fixture
def ids() -> Ids:
    return Ids()


def errors_of(result: Any) -> list[tuple[str, str]]:
    """(code, level) of every Error of a HandleResult's reply."""
    return [(e.code, e.level.value if e.level else "") for e in result.reply.reply.errors]
