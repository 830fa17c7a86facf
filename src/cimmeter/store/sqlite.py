"""The embedded engine: one SQLite file in WAL mode.

Durability: a transaction is committed before anything is acknowledged (DESIGN.md rule 1). In
WAL mode a COMMIT appends the transaction to the write-ahead log; with `synchronous=FULL` (the
default here) the log is fsync'ed at every commit, so an acknowledged message survives a killed
process *and* a power loss or OS crash. `synchronous=NORMAL` (URL option `?synchronous=normal`)
skips that fsync: still safe against a killed process (the log is in the OS page cache), and
never corrupt, but the last transactions before a power loss may be lost, which breaks "commit
before acknowledge" for that case. One fsync per message is cheap next to parsing it, so FULL
is the default.

Concurrency: many readers and one writer at a time across all processes. A write transaction
starts with `BEGIN IMMEDIATE` (it takes the write lock up front, so the readings it probes
cannot change under it) and waits up to the busy timeout for another writer.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cimmeter.store.base import (
    SchemaOutdated,
    Store,
    StoreError,
    StoreInfo,
    StoreReader,
    StoreTransaction,
    StoreUnavailable,
)
from cimmeter.store.ingest import TS_MIN, ExistingRows, ProbeRanges, ReadingRows
from cimmeter.store.migrate import SCHEMA_VERSION_TABLE, latest_version, migrations
from cimmeter.store.records import ObjectKind
from cimmeter.store.sql import INFO_COUNTS, Int64Array, SqlSession

ENGINE = "sqlite"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
SYNCHRONOUS_MODES = ("FULL", "NORMAL", "EXTRA")


class SqliteSession(SqlSession):
    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__()
        self._c = connection

    # -- hooks ------------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._c.execute(sql, params).fetchall()

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._c.execute(sql, params).rowcount

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)

    def _dt(self, value: datetime) -> int:
        return (value - _EPOCH) // _MICROSECOND

    def _from_dt(self, value: Any) -> datetime:
        return _EPOCH + timedelta(microseconds=int(value))

    def _ts(self, epoch_seconds: int) -> int:
        return int(epoch_seconds)

    def _json(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def _from_json(self, value: Any) -> Any:
        return json.loads(value)

    def _any(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def _values(self, alias: str, values: Sequence[Any]) -> tuple[str, Any]:
        return f"json_each(?) AS {alias}", json.dumps(list(values))

    _JOIN = "CROSS JOIN"

    # -- bulk readings ----------------------------------------------------------------------

    def _probe_readings(self, series: int, ranges: ProbeRanges) -> ExistingRows:
        c = self._c
        c.execute(
            "CREATE TEMP TABLE IF NOT EXISTS probe_ranges "
            "(id INTEGER PRIMARY KEY, meter_id INTEGER, reading_type_id INTEGER, "
            "lo INTEGER, hi INTEGER)"
        )
        c.execute("DELETE FROM probe_ranges")
        c.executemany(
            "INSERT INTO probe_ranges VALUES (?, ?, ?, ?, ?)",
            zip(
                range(len(ranges)),
                ranges.meter_id.tolist(),
                ranges.reading_type_id.tolist(),
                ranges.lo.tolist(),
                ranges.hi.tolist(),
                strict=True,
            ),
        )
        # CROSS JOIN fixes the loop order: one primary-key range scan per probed range. Rows
        # come back packed into exact float64 integers (few Python objects per row): the
        # range's rowid with the time, and the batch with the quality set id.
        rows = c.execute(
            f"SELECT (p.id << 32) + (r.ts - {TS_MIN}), r.value, "
            f"(r.batch_id << {_QUALITY_BITS}) + r.quality_id "
            "FROM probe_ranges p CROSS JOIN readings r ON r.meter_id = p.meter_id "
            "AND r.reading_type_id = p.reading_type_id AND r.series = ? "
            "AND r.ts >= p.lo AND r.ts <= p.hi",
            (series,),
        ).fetchall()
        if not rows:
            return ExistingRows.empty()
        matrix = np.fromiter(
            itertools.chain.from_iterable(rows), dtype=np.float64, count=3 * len(rows)
        ).reshape(len(rows), 3)
        where = matrix[:, 0].astype(np.int64)
        packed = matrix[:, 2].astype(np.int64)
        range_index = where >> 32
        return ExistingRows(
            ranges.meter_id[range_index],
            ranges.reading_type_id[range_index],
            (where & 0xFFFFFFFF) + TS_MIN,
            matrix[:, 1].copy(),
            packed & ((1 << _QUALITY_BITS) - 1),
            packed >> _QUALITY_BITS,
        )

    def _insert_readings(self, series: int, rows: ReadingRows) -> None:
        # Columns that are constant over the rows (series always; usually kind and batch) are
        # written as literals: fewer values to bind per row is the main cost of executemany.
        literal = _constants(rows)
        columns = ["meter_id", "reading_type_id", "ts", "value", "quality_id", "usage_point_id"]
        bound: list[Any] = [
            rows.meter_id.tolist(),
            rows.reading_type_id.tolist(),
            rows.ts.tolist(),
            rows.value.tolist(),
            rows.quality_id.tolist(),
            rows.usage_point_id.tolist(),
        ]
        marks = ["?"] * len(columns) + [str(int(series))]
        columns.append("series")
        for name, array in (("kind", rows.kind), ("batch_id", rows.batch_id)):
            columns.append(name)
            if name in literal:
                marks.append(str(literal[name]))
            else:
                marks.append("?")
                bound.append(array.tolist())
        self._c.executemany(
            f"INSERT INTO readings ({', '.join(columns)}) VALUES ({', '.join(marks)})",
            zip(*bound, strict=True),
        )

    def _update_readings(self, series: int, rows: ReadingRows, previous: ExistingRows) -> None:
        # BEGIN IMMEDIATE holds the write lock since the probe: `previous` is still current.
        self._c.executemany(
            "UPDATE readings SET value = ?, quality_id = ?, usage_point_id = ?, kind = ?, "
            "batch_id = ? WHERE meter_id = ? AND reading_type_id = ? AND series = ? AND ts = ?",
            zip(
                rows.value.tolist(),
                rows.quality_id.tolist(),
                rows.usage_point_id.tolist(),
                rows.kind.tolist(),
                rows.batch_id.tolist(),
                rows.meter_id.tolist(),
                rows.reading_type_id.tolist(),
                [series] * len(rows),
                rows.ts.tolist(),
                strict=True,
            ),
        )

    def _insert_versions(
        self, series: int, previous: ExistingRows, superseded_by: Int64Array
    ) -> None:
        self._c.executemany(
            "INSERT INTO reading_versions (meter_id, reading_type_id, series, ts, value, "
            "quality_id, batch_id, superseded_batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            zip(
                previous.meter_id.tolist(),
                previous.reading_type_id.tolist(),
                [series] * len(previous),
                previous.ts.tolist(),
                previous.value.tolist(),
                previous.quality_id.tolist(),
                previous.batch_id.tolist(),
                superseded_by.tolist(),
                strict=True,
            ),
        )

    def _fetch_readings(
        self,
        series: int,
        meter_id: int,
        reading_type_ids: Sequence[int],
        lo: int,
        hi: int,
        with_batch: bool,
    ) -> dict[str, npt.NDArray[Any]]:
        # Python objects per value are the cost here: small columns travel packed into one
        # integer ((usage_point_id * 2 + kind) * 2**20 + quality_id, exact below 2**53), the
        # reading type only when several are asked for, the batch only when extras exist.
        ids = ", ".join(str(int(i)) for i in reading_type_ids)
        columns = f"ts, value, (usage_point_id * 2 + kind) * {1 << _QUALITY_BITS} + quality_id"
        several = len(reading_type_ids) > 1
        if several:
            columns += ", reading_type_id"
        if with_batch:
            columns += ", batch_id"
        rows = self._c.execute(
            f"SELECT {columns} FROM readings WHERE meter_id = ? AND reading_type_id IN ({ids}) "
            "AND series = ? AND ts > ? AND ts <= ? ORDER BY reading_type_id, ts",
            (meter_id, series, lo, hi),
        ).fetchall()
        n = len(rows)
        width = 3 + several + with_batch
        matrix = np.fromiter(
            itertools.chain.from_iterable(rows), dtype=np.float64, count=n * width
        ).reshape(n, width)
        packed = matrix[:, 2].astype(np.int64)
        rest = packed >> _QUALITY_BITS
        result: dict[str, npt.NDArray[Any]] = {
            "ts": matrix[:, 0].astype(np.int64),
            "value": matrix[:, 1].copy(),
            "quality_id": packed & ((1 << _QUALITY_BITS) - 1),
            "usage_point_id": rest >> 1,
            "kind": rest & 1,
            "reading_type_id": (
                matrix[:, 3].astype(np.int64)
                if several
                else np.full(n, int(reading_type_ids[0]), dtype=np.int64)
            ),
        }
        if with_batch:
            result["batch_id"] = matrix[:, -1].astype(np.int64)
        return result


_QUALITY_BITS = 20
"""Quality set ids stay below 2**20 (distinct quality sets number in the hundreds)."""


def _constants(rows: ReadingRows) -> dict[str, int]:
    """Columns among kind and batch_id that hold one value over all rows."""
    found: dict[str, int] = {}
    for name, array in (("kind", rows.kind), ("batch_id", rows.batch_id)):
        if array.shape[0] and bool(np.all(array == array[0])):
            found[name] = int(array[0])
    return found


def split_statements(script: str) -> list[str]:
    """The statements of a migration file, for running them one by one in a transaction."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
    ):
        raise StoreError(f"incomplete SQL statement at the end of a migration: {buffer[:80]!r}")
    return statements


class SqliteStore(Store):
    """A SQLite database file; one connection per thread (see the module docstring)."""

    def __init__(
        self, path: str | Path, *, synchronous: str = "FULL", busy_timeout: float = 60.0
    ) -> None:
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise StoreError(f"synchronous must be one of {SYNCHRONOUS_MODES}, got {synchronous!r}")
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.synchronous = mode
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._schema_checked = False

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        if not self.path.parent.is_dir():
            raise StoreUnavailable(f"{self.url}: folder {self.path.parent} does not exist")
        try:
            connection = sqlite3.connect(
                str(self.path),
                isolation_level=None,
                check_same_thread=False,
                timeout=self.busy_timeout,
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self.synchronous}")
            connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            connection.execute("PRAGMA temp_store = MEMORY")
            connection.execute("PRAGMA cache_size = -65536")
        except sqlite3.Error as error:
            raise StoreUnavailable(f"{self.url}: cannot open: {error}") from error
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    def _check_schema(self, connection: sqlite3.Connection) -> None:
        if self._schema_checked:
            return
        version = self._version(connection)
        latest = latest_version(ENGINE)
        if version != latest:
            raise SchemaOutdated(
                f"{self.url} is at schema version {version}, this cimmeter needs {latest}: "
                "run `cimmeter db upgrade`"
            )
        self._schema_checked = True

    @staticmethod
    def _version(connection: sqlite3.Connection) -> int:
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not exists:
            return 0
        row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        connection = self._connection()
        if connection.in_transaction:
            raise StoreError("a transaction is already open on this store in this thread")
        self._check_schema(connection)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield SqliteSession(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[StoreReader]:
        connection = self._connection()
        if connection.in_transaction:
            raise StoreError("a transaction is already open on this store in this thread")
        self._check_schema(connection)
        connection.execute("PRAGMA query_only = ON")
        connection.execute("BEGIN")
        try:
            yield SqliteSession(connection)
        finally:
            connection.execute("ROLLBACK")
            connection.execute("PRAGMA query_only = OFF")

    def schema_version(self) -> int:
        return self._version(self._connection())

    def upgrade(self) -> list[int]:
        connection = self._connection()
        applied: list[int] = []
        for migration in migrations(ENGINE):
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(SCHEMA_VERSION_TABLE)
                # Checked under the write lock: another process may have just applied it.
                if self._version(connection) >= migration.version:
                    connection.execute("COMMIT")
                    continue
                for statement in split_statements(migration.sql):
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (migration.version,)
                )
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                connection.execute("ROLLBACK")
                raise StoreError(
                    f"{self.url}: migration {migration.name} failed: {error}"
                ) from error
            applied.append(migration.version)
        self._schema_checked = False
        return applied

    def info(self) -> StoreInfo:
        connection = self._connection()
        version = self._version(connection)
        counts: dict[str, int] = {}
        if version:
            for kind, count in connection.execute(
                "SELECT kind, count(*) FROM objects WHERE deleted = 0 GROUP BY kind ORDER BY kind"
            ):
                counts[f"objects.{ObjectKind(kind).value}"] = int(count)
            for label, sql in INFO_COUNTS:
                counts[label] = int(connection.execute(sql).fetchone()[0])
        return StoreInfo(ENGINE, self.url, version, latest_version(ENGINE), counts)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
