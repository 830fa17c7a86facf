"""PostgreSQL specifics: monthly partitions created on demand, the DEFAULT partition fallback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store, open_store
from cimmeter.store.records import MasterObject, ObjectKind
from tests.store.conftest import RT, T0, PgDatabase

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg() -> Iterator[tuple[Store, str]]:
    database = PgDatabase()
    try:
        with open_store(database.url, upgrade=True) as store:
            with store.transaction() as tx:
                tx.put_object(MasterObject(ObjectKind.METER, "m0", updated_at=T0))
            yield store, database.url
    finally:
        database.drop()


def month_block(year: int, month: int) -> ReadingBlock:
    start = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
    return ReadingBlock.build(
        RT, start + 900 * np.arange(1, 5), np.arange(4.0), meter=ObjectRef.of("m0")
    )


def partitions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT c.relname, (SELECT count(*) FROM readings r WHERE r.tableoid = c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'readings'::regclass AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()
    return {name: int(count) for name, count in rows}


def test_readings_go_to_monthly_partitions(pg: tuple[Store, str]) -> None:
    store, url = pg
    for month in (1, 2):
        with store.transaction() as tx:
            tx.ingest_readings([month_block(2026, month)], received_at=T0)
    assert partitions(url) == {"readings_default": 0, "readings_p202601": 4, "readings_p202602": 4}


def test_rows_land_in_default_when_a_partition_cannot_be_made_at_once(
    pg: tuple[Store, str],
) -> None:
    store, url = pg
    with store.transaction() as tx:
        tx.ingest_readings([month_block(2026, 3)], received_at=T0)
        # This transaction now holds a lock on `readings`: DDL would wait for it.
        tx.ingest_readings([month_block(2026, 5)], received_at=T0)
    assert partitions(url) == {"readings_default": 4, "readings_p202603": 4}
    with store.snapshot() as snap:
        got = list(snap.read_readings(ReadingQuery(meters=["m0"])))
    assert sum(len(b) for b in got) == 8
    assert store.info().counts["readings_in_default_partition"] == 4


def test_relax_commit_applies_to_its_own_transaction_only(pg: tuple[Store, str]) -> None:
    store, _ = pg

    def setting(tx: object) -> str:
        row = tx._c.execute("SHOW synchronous_commit").fetchone()  # type: ignore[attr-defined]
        return str(row[0])

    with store.transaction() as tx:
        assert setting(tx) == "on"
        tx.relax_commit()
        assert setting(tx) == "off"
    with store.transaction() as tx:
        assert setting(tx) == "on"  # SET LOCAL: gone with the transaction
