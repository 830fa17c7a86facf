"""Fixtures for the store tests: the same tests run on SQLite and on PostgreSQL.

PostgreSQL tests create a uniquely named database on the server at `CIMMETER_TEST_PG`
(default postgresql://postgres@127.0.0.1:5432/test) and drop it afterwards; a missing server
is a failure in CI and a skip elsewhere (`need_server`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from cimmeter.store import Store, open_store
from tests.conftest import need_server

PG_ADMIN_URL = os.environ.get("CIMMETER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
RT2 = "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"


class PgDatabase:
    """A throw-away PostgreSQL database."""

    def __init__(self) -> None:
        self.name = f"cimmeter_test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        except psycopg.OperationalError as error:
            need_server("PostgreSQL", f"{PG_ADMIN_URL}: {error}")
        self.url = urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{self.name}"))

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    database = PgDatabase()
    try:
        yield database.url
    finally:
        database.drop()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An upgraded, empty store of each engine."""
    with open_store(store_url, upgrade=True) as opened:
        yield opened
