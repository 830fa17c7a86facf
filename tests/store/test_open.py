"""Opening stores by URL, migrations, and the `cimmeter db` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.store import SchemaOutdated, StoreError, open_store
from cimmeter.store.migrate import latest_version, migrations
from cimmeter.store.sqlite import SqliteStore, split_statements


def test_urls_select_the_engine(tmp_path: Path) -> None:
    plain = open_store(str(tmp_path / "a.db"))
    assert isinstance(plain, SqliteStore)
    url = open_store(f"sqlite:///{tmp_path / 'b.db'}?synchronous=normal&busy_timeout=5")
    assert isinstance(url, SqliteStore)
    assert (url.synchronous, url.busy_timeout) == ("NORMAL", 5.0)
    with pytest.raises(StoreError, match="unknown SQLite option"):
        open_store(f"sqlite:///{tmp_path / 'c.db'}?journal=off")
    with pytest.raises(StoreError, match="libpq connection string"):
        open_store("user=postgres dbname=x host=127.0.0.1")
    with pytest.raises(StoreError, match="synchronous"):
        open_store(f"sqlite:///{tmp_path / 'c.db'}?synchronous=off")


def test_schema_must_be_current_and_upgrade_is_idempotent(store_url: str) -> None:
    with open_store(store_url) as store:
        assert store.schema_version() == 0
        with pytest.raises(SchemaOutdated, match="cimmeter db upgrade"), store.snapshot():
            pass
        assert store.upgrade() == [m.version for m in migrations(_engine(store_url))]
        assert store.upgrade() == []
        assert store.schema_version() == latest_version(_engine(store_url))
        with store.snapshot() as snap:
            assert snap.list_reading_types() == []


def _engine(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def test_split_statements_keeps_every_statement() -> None:
    for migration in migrations("sqlite"):
        statements = split_statements(migration.sql)
        assert statements
        assert all(s.endswith(";") for s in statements)
    assert split_statements("-- c\nCREATE TABLE a (x);\n\nINSERT INTO a VALUES (';');\n") == [
        "-- c\nCREATE TABLE a (x);",
        "INSERT INTO a VALUES (';');",
    ]


def test_db_commands(store_url: str) -> None:
    runner = CliRunner()
    before = runner.invoke(app, ["db", "info", "--json", "--db", store_url])
    assert before.exit_code == 1  # not current
    assert json.loads(before.output)["schema_version"] == 0
    upgraded = runner.invoke(app, ["db", "upgrade", "--db", store_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert "applied migrations 1" in upgraded.output
    again = runner.invoke(app, ["db", "upgrade", "--json", "--db", store_url])
    assert json.loads(again.output)["applied"] == []
    after = runner.invoke(app, ["db", "info", "--json", "--db", store_url])
    assert after.exit_code == 0
    info = json.loads(after.output)
    assert info["schema_version"] == info["latest_version"] == latest_version(_engine(store_url))
    assert info["counts"]["readings"] == 0
    text = runner.invoke(app, ["db", "info", "--db", store_url])
    assert "current" in text.output


def test_db_command_reports_a_missing_server() -> None:
    result = CliRunner().invoke(
        app, ["db", "info", "--db", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"]
    )
    assert result.exit_code == 2
    assert "cannot connect" in result.output
