"""Store benchmark: bulk ingest of 1M readings and one meter-year read back, on both engines.

    ./scripts/bench store [--quick] [--engine=sqlite|postgresql] [--pg=URL] [--cpu] [--read]

Ingest: 10,000 meters x 96 15-minute readings in one message (one transaction), with
versioning (every reading is probed against the stored ones) and attribution (every meter is
linked to a usage point; 1% change usage point at noon, so attribution really splits blocks).
In the same run, the floors: the same rows (the exact columns cimmeter stores, built from the
same numpy columns) written the plain way (SQLite `executemany`, PostgreSQL binary `COPY`)
into a bare table, and into a table with the same primary key as `readings`. Each figure is the
best of N runs on a fresh database (the machine is noisy), N=3 (1 with --quick).

Read-back: one meter-year (35,040 readings) by meter, reading type and time range, median of 20.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store, open_store
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

METERS = 10_000
PER_METER = 96
READ_BACK = 35_040
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
DAY = datetime(2026, 3, 1, tzinfo=UTC)
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"

COLUMNS = "meter_id, reading_type_id, series, ts, value, quality_id, usage_point_id, kind, batch_id"
SQLITE_TABLE = (
    "CREATE TABLE {name} (meter_id INTEGER NOT NULL, reading_type_id INTEGER NOT NULL, "
    "series INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, "
    "quality_id INTEGER NOT NULL, usage_point_id INTEGER NOT NULL, kind INTEGER NOT NULL, "
    "batch_id INTEGER NOT NULL{key})"
)
PG_TABLE = (  # the column order of `readings` (by alignment)
    "CREATE TABLE {name} (meter_id bigint NOT NULL, ts timestamptz NOT NULL, "
    "value double precision NOT NULL, usage_point_id bigint NOT NULL, batch_id bigint NOT NULL, "
    "reading_type_id integer NOT NULL, quality_id integer NOT NULL, series smallint NOT NULL, "
    "kind smallint NOT NULL{key})"
)
KEY = ", PRIMARY KEY (meter_id, reading_type_id, series, ts)"


def blocks(rng: np.random.Generator) -> list[ReadingBlock]:
    ts = int(DAY.timestamp()) + 900 * np.arange(1, PER_METER + 1, dtype=np.int64)
    result = []
    for i in range(METERS):
        values = np.round(rng.gamma(2.0, 0.15, PER_METER), 3)
        quality = np.zeros(PER_METER, dtype=np.int32)
        sets: tuple[tuple[str, ...], ...] = ((),)
        if i % 100 == 0:  # 1% of meters report an estimated interval
            sets = ((), ("2.8.0",))
            quality[7] = 1
        result.append(
            ReadingBlock(RT, ts, values, quality, sets, meter=ObjectRef(mrid=f"meter-{i:05d}"))
        )
    return result


def master_data(store: Store) -> None:
    with store.transaction() as tx:
        for i in range(METERS):
            tx.put_object(MasterObject(ObjectKind.METER, f"meter-{i:05d}", updated_at=DAY))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"up-{i:05d}", updated_at=DAY))
            if i % 100 == 1:  # 1% move to another usage point at noon
                noon = DAY + timedelta(hours=12)
                tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"up-b{i:05d}", updated_at=DAY))
                tx.open_linkage(
                    Linkage(
                        LinkageKind.METER_USAGE_POINT,
                        f"meter-{i:05d}",
                        f"up-{i:05d}",
                        DAY - timedelta(days=400),
                        noon,
                    )
                )
                tx.open_linkage(
                    Linkage(LinkageKind.METER_USAGE_POINT, f"meter-{i:05d}", f"up-b{i:05d}", noon)
                )
            else:
                tx.open_linkage(
                    Linkage(
                        LinkageKind.METER_USAGE_POINT,
                        f"meter-{i:05d}",
                        f"up-{i:05d}",
                        DAY - timedelta(days=400),
                    )
                )


CLOCK = time.perf_counter
"""Wall time; `--cpu` switches to this process's CPU time, the steadier measure for SQLite
(which runs in-process) on a machine shared with other work. For PostgreSQL it would leave the
server's work out, so `--cpu` is for `--engine=sqlite`."""


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = CLOCK()
    fn()
    return CLOCK() - start


def rows_of(data: list[ReadingBlock]) -> dict[str, np.ndarray]:
    """The columns cimmeter stores for these blocks (ids as a fresh store assigns them)."""
    n = len(data) * PER_METER
    return {
        "meter_id": np.repeat(2 * np.arange(len(data), dtype=np.int64) + 1, PER_METER),
        "reading_type_id": np.ones(n, dtype=np.int64),
        "ts": np.concatenate([b.timestamps for b in data]),
        "value": np.concatenate([b.values for b in data]),
        "quality_id": np.concatenate([b.quality for b in data]).astype(np.int64),
        "usage_point_id": np.repeat(2 * np.arange(len(data), dtype=np.int64) + 2, PER_METER),
    }


# -- SQLite ------------------------------------------------------------------------------------


def sqlite_floor(folder: Path, rows: dict[str, np.ndarray], key: str) -> float:
    import sqlite3

    path = folder / f"floor-{uuid.uuid4().hex}.db"
    connection = sqlite3.connect(path, isolation_level=None)
    # The same connection settings as SqliteStore, so only the work differs.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA temp_store = MEMORY")
    connection.execute("PRAGMA cache_size = -65536")
    suffix = " WITHOUT ROWID" if key else ""
    connection.execute(SQLITE_TABLE.format(name="floor", key=key) + suffix)

    def write() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO floor (meter_id, reading_type_id, ts, value, quality_id, "
            "usage_point_id, series, kind, batch_id) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 1)",
            zip(
                rows["meter_id"].tolist(),
                rows["reading_type_id"].tolist(),
                rows["ts"].tolist(),
                rows["value"].tolist(),
                rows["quality_id"].tolist(),
                rows["usage_point_id"].tolist(),
                strict=True,
            ),
        )
        connection.execute("COMMIT")

    seconds = timed(write)
    connection.close()
    return seconds


# -- PostgreSQL --------------------------------------------------------------------------------


def pg_database(base_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg
    from psycopg import sql

    name = f"cimmeter_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    return url, drop


def pg_floor(base_url: str, rows: dict[str, np.ndarray], key: str) -> float:
    import psycopg

    from cimmeter.store.ingest import ReadingRows
    from cimmeter.store.postgres import _COPY_HEADER, _COPY_TRAILER, _READING_COLUMNS, _READING_ROW

    url, drop = pg_database(base_url)
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(PG_TABLE.format(name="floor", key=key))
            n = rows["ts"].shape[0]
            ones = np.ones(n, dtype=np.int64)
            reading_rows = ReadingRows(
                rows["meter_id"],
                rows["reading_type_id"],
                rows["ts"],
                rows["value"],
                rows["quality_id"],
                rows["usage_point_id"],
                0 * ones,
                ones,
                ones,
                ones,
            )

            def write() -> None:
                # The same binary buffer as cimmeter builds (see PostgresSession._insert_readings).
                data = np.zeros(n, dtype=_READING_ROW)
                data["_n"] = len(_READING_COLUMNS)
                for name, kind in _READING_COLUMNS:
                    data[f"_len_{name}"] = np.dtype(kind).itemsize
                data["meter_id"] = reading_rows.meter_id
                data["reading_type_id"] = reading_rows.reading_type_id
                data["series"] = 0
                data["ts"] = (reading_rows.ts - 946_684_800) * 1_000_000
                data["value"] = reading_rows.value
                data["quality_id"] = reading_rows.quality_id
                data["usage_point_id"] = reading_rows.usage_point_id
                data["kind"] = reading_rows.kind
                data["batch_id"] = reading_rows.batch_id
                with (
                    connection.transaction(),
                    connection.cursor() as cursor,
                    cursor.copy(f"COPY floor ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
                ):
                    copy.write(_COPY_HEADER)
                    copy.write(data.tobytes())
                    copy.write(_COPY_TRAILER)

            return timed(write)
    finally:
        drop()


# -- cimmeter ----------------------------------------------------------------------------------


def cimmeter_ingest(url: str, data: list[ReadingBlock]) -> tuple[float, float, float]:
    """Seconds to ingest `data` once (all new), again (all unchanged), and with 1% changed."""
    with open_store(url, upgrade=True) as store:
        master_data(store)

        def ingest(blocks_: list[ReadingBlock], at: datetime) -> None:
            with store.transaction() as tx:
                result = tx.ingest_readings(blocks_, received_at=at, source="bench")
            assert not result.rejected, result.rejected[:3]

        first = timed(lambda: ingest(data, DAY + timedelta(days=1)))
        again = timed(lambda: ingest(data, DAY + timedelta(days=2)))
        changed = [
            ReadingBlock(
                b.reading_type,
                b.timestamps,
                b.values + (i % 100 == 0),
                b.quality,
                b.quality_sets,
                meter=b.meter,
            )
            for i, b in enumerate(data)
        ]
        third = timed(lambda: ingest(changed, DAY + timedelta(days=3)))
        with store.snapshot() as snap:
            stored = sum(len(b) for b in snap.read_readings(ReadingQuery(meters=["meter-00001"])))
        assert stored == PER_METER, stored
    return first, again, third


def read_back(url: str) -> tuple[float, float | None, float]:
    """Median seconds of 20 reads of one meter-year by meter, reading type and time range,
    right after loading and (PostgreSQL) again after `VACUUM ANALYZE`, the state autovacuum
    brings a table to after a bulk insert."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with open_store(url, upgrade=True) as store:
        with store.transaction() as tx:
            tx.put_object(MasterObject(ObjectKind.METER, "year-meter", updated_at=start))
            ts = int(start.timestamp()) + 900 * np.arange(1, READ_BACK + 1, dtype=np.int64)
            block = ReadingBlock.build(
                RT,
                ts,
                np.random.default_rng(1).random(READ_BACK),
                meter=ObjectRef(mrid="year-meter"),
            )
            tx.ingest_readings([block], received_at=start + timedelta(days=400))
        query = ReadingQuery(
            meters=["year-meter"],
            reading_types=[RT],
            start=start,
            end=start + timedelta(days=365),
        )

        def median_read() -> float:
            times = []
            for _ in range(20):
                gc.collect()
                begin = time.perf_counter()
                with store.snapshot() as snap:
                    got = list(snap.read_readings(query))
                times.append(time.perf_counter() - begin)
                assert sum(len(b) for b in got) == READ_BACK
            return statistics.median(times)

        cold = median_read()
        vacuumed = None
        if url.startswith("postgresql"):
            import psycopg

            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute("VACUUM ANALYZE readings")
            vacuumed = median_read()
        floor = read_floor(url, start)
    return cold, vacuumed, floor


def read_floor(url: str, start: datetime) -> float:
    """The plain way, in the same run: select (ts, value) of the meter-year and fetch the rows
    into numpy (SQLite `fetchall`; PostgreSQL binary `fetchall`), median of 20."""
    lo, hi = int(start.timestamp()), int(start.timestamp()) + 365 * 86400
    times = []
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            for _ in range(20):
                gc.collect()
                begin = time.perf_counter()
                with connection.cursor(binary=True) as cursor:
                    cursor.execute(
                        "SELECT extract(epoch FROM ts)::bigint, value FROM readings "
                        "WHERE meter_id = (SELECT id FROM objects WHERE mrid = 'year-meter') "
                        "AND reading_type_id = 1 AND series = 0 "
                        "AND ts > to_timestamp(%s) AND ts <= to_timestamp(%s) ORDER BY ts",
                        (lo, hi),
                    )
                    rows = cursor.fetchall()
                np.array(rows, dtype=np.float64)
                times.append(time.perf_counter() - begin)
    else:
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        for _ in range(20):
            gc.collect()
            begin = time.perf_counter()
            rows = connection.execute(
                "SELECT ts, value FROM readings WHERE meter_id = "
                "(SELECT id FROM objects WHERE mrid = 'year-meter') AND reading_type_id = 1 "
                "AND series = 0 AND ts > ? AND ts <= ? ORDER BY ts",
                (lo, hi),
            ).fetchall()
            np.array(rows, dtype=np.float64)
            times.append(time.perf_counter() - begin)
        connection.close()
    assert len(rows) == READ_BACK
    return statistics.median(times)


def report(
    engine: str,
    floor_bare: float,
    floor_keyed: float,
    ours: tuple[float, float, float],
    read: tuple[float, float | None, float],
) -> None:
    n = METERS * PER_METER
    first, again, changed = ours
    clock = "process CPU time" if CLOCK is time.process_time else "wall time"
    print(f"\n{engine}: {n:,} readings ({METERS:,} meters x {PER_METER}), one transaction, {clock}")
    print(f"  {'way':<58} {'readings/s':>12} {'x floor':>8} {'x keyed':>8}")
    for label, seconds in (
        ("floor: same rows, bare table", floor_bare),
        ("floor: same rows, table keyed like readings", floor_keyed),
        ("cimmeter ingest, all new (versioning + attribution)", first),
        ("cimmeter ingest, same message again (all unchanged)", again),
        ("cimmeter ingest, 1% of meters changed (versions kept)", changed),
    ):
        print(
            f"  {label:<58} {n / seconds:12,.0f} {seconds / floor_bare:8.2f} "
            f"{seconds / floor_keyed:8.2f}"
        )
    after = f", after VACUUM ANALYZE {read[1] * 1000:.1f} ms" if read[1] is not None else ""
    print(
        f"  meter-year read back ({READ_BACK:,} readings), median of 20: "
        f"{read[0] * 1000:.1f} ms{after}; floor (plain select of ts, value into numpy) "
        f"{read[2] * 1000:.1f} ms"
    )


def interleaved(
    runs: int,
    bare: Callable[[], float],
    keyed: Callable[[], float],
    ours: Callable[[], tuple[float, float, float]],
) -> tuple[float, float, tuple[float, float, float]]:
    """Best of `runs` of each way, the ways taking turns so that a noisy stretch of the
    machine does not fall on one of them only."""
    results: list[tuple[float, float, tuple[float, float, float]]] = [
        (bare(), keyed(), ours()) for _ in range(runs)
    ]
    return (
        min(r[0] for r in results),
        min(r[1] for r in results),
        (
            min(r[2][0] for r in results),
            min(r[2][1] for r in results),
            min(r[2][2] for r in results),
        ),
    )


def main(argv: list[str]) -> int:
    global CLOCK
    runs = 1 if "--quick" in argv else 3
    if "--cpu" in argv:
        CLOCK = time.process_time
    engines = ["sqlite", "postgresql"]
    pg = PG_DEFAULT
    for arg in argv:
        if arg.startswith("--engine="):
            engines = [arg.split("=", 1)[1]]
        if arg.startswith("--pg="):
            pg = arg.split("=", 1)[1]
    if "--read" in argv:
        with tempfile.TemporaryDirectory(prefix="cimmeter-bench-") as tmp:
            for engine in engines:
                if engine == "sqlite":
                    read = read_back(f"sqlite:///{Path(tmp) / 'read.db'}")
                else:
                    url, drop = pg_database(pg)
                    try:
                        read = read_back(url)
                    finally:
                        drop()
                after = f", after VACUUM ANALYZE {read[1] * 1000:.1f} ms" if read[1] else ""
                print(
                    f"{engine}: meter-year read back, median of 20: {read[0] * 1000:.1f} ms"
                    f"{after}; floor {read[2] * 1000:.1f} ms"
                )
        return 0
    data = blocks(np.random.default_rng(7))
    rows = rows_of(data)
    with tempfile.TemporaryDirectory(prefix="cimmeter-bench-") as tmp:
        folder = Path(tmp)
        if "sqlite" in engines:
            bare, keyed, ours = interleaved(
                runs,
                lambda: sqlite_floor(folder, rows, ""),
                lambda: sqlite_floor(folder, rows, KEY),
                lambda: cimmeter_ingest(str(folder / f"c-{uuid.uuid4().hex}.db"), data),
            )
            read = read_back(f"sqlite:///{folder / 'read.db'}")
            report("SQLite (WAL, synchronous=FULL)", bare, keyed, ours, read)
        if "postgresql" in engines:

            def pg_ours() -> tuple[float, float, float]:
                url, drop = pg_database(pg)
                try:
                    return cimmeter_ingest(url, data)
                finally:
                    drop()

            bare, keyed, ours = interleaved(
                runs,
                lambda: pg_floor(pg, rows, ""),
                lambda: pg_floor(pg, rows, KEY),
                pg_ours,
            )
            url, drop = pg_database(pg)
            try:
                read = read_back(url)
            finally:
                drop()
            report("PostgreSQL (binary COPY)", bare, keyed, ours, read)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
