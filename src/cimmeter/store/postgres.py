"""The production engine: PostgreSQL 15+ through psycopg 3.

Readings go in with binary `COPY` built straight from the numpy columns (one structured array,
no Python object per reading) and come out as one bytea per column (`string_agg` of the
columns' binary send functions) read by numpy. Never `executemany` on these paths (DESIGN.md,
bulk insert anchors).

Concurrency: transactions run at READ COMMITTED and the probe of stored readings takes no lock
(re-ingesting unchanged data writes nothing). Races are caught where they matter and the round
is retried under a savepoint, now seeing the other writer's committed rows:
- two writers inserting the same new reading collide on the primary key;
- a version replaces the stored row only if it is still the one probed (same value, quality
  and batch); otherwise the UPDATE changes fewer rows than expected.
A reading classified unchanged while another writer changes it is equivalent to this writer
going first. Nothing is lost, doubled, or versioned from a stale value.

`readings` is partitioned by month. A missing partition is created on demand on a separate
autocommit connection (DDL takes a lock on the whole table, which must not wait inside a
message's transaction); when that is not possible at once the rows land in the DEFAULT
partition, where they are as safe and visible, only not pruned.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import errors, sql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.types.json import Jsonb

from cimmeter.store.base import (
    SchemaOutdated,
    Store,
    StoreError,
    StoreInfo,
    StoreReader,
    StoreTransaction,
    StoreUnavailable,
)
from cimmeter.store.ingest import ExistingRows, ProbeRanges, ReadingRows, WriteOutcome
from cimmeter.store.migrate import SCHEMA_VERSION_TABLE, latest_version, migrations
from cimmeter.store.records import ObjectKind
from cimmeter.store.sql import INFO_COUNTS, Int64Array, SqlSession

ENGINE = "postgresql"
PG_EPOCH = 946_684_800
"""2000-01-01T00:00:00Z: PostgreSQL's binary timestamps count microseconds from here."""
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_TRAILER = b"\xff\xff"
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
"""The bounds of a range partition as `pg_get_expr` prints them (timestamps in UTC)."""
_MIGRATION_LOCK = 0x63696D6D  # advisory lock key taken while migrating ("cimm")
_WRITE_RETRIES = 8

# Binary COPY rows of `readings`: field count, then (length, value) per column, big-endian.
_READING_COLUMNS = (
    ("meter_id", ">i8"),
    ("reading_type_id", ">i4"),
    ("series", ">i2"),
    ("ts", ">i8"),
    ("value", ">f8"),
    ("quality_id", ">i4"),
    ("usage_point_id", ">i8"),
    ("kind", ">i2"),
    ("batch_id", ">i8"),
)


def _row_dtype(columns: Sequence[tuple[str, str]]) -> np.dtype[Any]:
    fields: list[tuple[str, str]] = [("_n", ">i2")]
    for name, kind in columns:
        fields += [(f"_len_{name}", ">i4"), (name, kind)]
    return np.dtype(fields)


_READING_ROW = _row_dtype(_READING_COLUMNS)


def _array_type(values: Sequence[Any]) -> str:
    """The cast that gives a parameter list its SQL array type: without it a list of Python
    ints may travel as numeric[], and `bigint = numeric` defeats every index and hash join."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "::bigint[]"
    if values and all(isinstance(v, str) for v in values):
        return "::text[]"
    return ""


def _to_pg_ts(epoch_seconds: Int64Array) -> Int64Array:
    return (epoch_seconds - PG_EPOCH) * 1_000_000


def _from_pg_ts(micros: Int64Array) -> Int64Array:
    return micros // 1_000_000 + PG_EPOCH


def _month_start(epoch_seconds: int) -> datetime:
    at = datetime.fromtimestamp(epoch_seconds, UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(month: datetime) -> str:
    return f"readings_p{month.year:04d}{month.month:02d}"


class _LostRace(Exception):
    """Another transaction changed a reading between our probe and our update."""


class PostgresSession(SqlSession):
    def __init__(self, connection: psycopg.Connection[Any], store: PostgresStore) -> None:
        super().__init__()
        self._c = connection
        self._store = store

    def relax_commit(self) -> None:
        self._c.execute("SET LOCAL synchronous_commit TO off")

    # -- hooks ------------------------------------------------------------------------------

    @staticmethod
    def _pg(statement: str) -> str:
        return statement.replace("?", "%s")

    def _rows(self, sql_text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._c.cursor() as cursor:
            cursor.execute(self._pg(sql_text), params)
            return cursor.fetchall() if cursor.description else []

    def _exec(self, sql_text: str, params: Sequence[Any] = ()) -> int:
        with self._c.cursor() as cursor:
            cursor.execute(self._pg(sql_text), params)
            return cursor.rowcount

    def _is_unique_violation(self, error: Exception) -> bool:
        return isinstance(error, errors.UniqueViolation)

    def _dt(self, value: datetime) -> datetime:
        return value

    def _from_dt(self, value: Any) -> datetime:
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    def _ts(self, epoch_seconds: int) -> datetime:
        return datetime.fromtimestamp(int(epoch_seconds), UTC)

    def _json(self, value: Any) -> Jsonb:
        return Jsonb(value)

    def _from_json(self, value: Any) -> Any:
        return value

    def _any(self, column: str, values: Sequence[Any]) -> tuple[str, Any]:
        return f"{column} = ANY(?{_array_type(values)})", list(values)

    def _values(self, alias: str, values: Sequence[Any]) -> tuple[str, Any]:
        return f"unnest(?{_array_type(values)}) AS {alias}(value)", list(values)

    def _epoch(self, ts: Any) -> int:
        return int(ts.timestamp())

    # -- bulk readings ----------------------------------------------------------------------

    def write_rows(self, series: int, rows: ReadingRows) -> WriteOutcome:
        self._store.ensure_partitions(self._c, rows.ts)
        for attempt in range(_WRITE_RETRIES):
            try:
                with self._c.transaction():  # a savepoint: a lost race undoes only this round
                    return super().write_rows(series, rows)
            except (errors.UniqueViolation, errors.DeadlockDetected, _LostRace):
                if attempt == _WRITE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _probe_readings(self, series: int, ranges: ProbeRanges) -> ExistingRows:
        if not len(ranges):
            return ExistingRows.empty()
        # The constant bounds let the planner prune partitions; the join probes the primary
        # key once per (meter, reading type) range (no lock: see the module docstring). Rows come
        # back as one array per column, read by numpy (see `_arrays`).
        columns = _arrays(
            self._c,
            "SELECT array_agg(p.i), array_agg(r.ts), array_agg(r.value), "
            f"array_agg((r.batch_id << {_QUALITY_BITS}) + r.quality_id) "
            "FROM unnest(%s::bigint[], %s::integer[], %s::bigint[], %s::bigint[]) "
            "WITH ORDINALITY AS p(m, rt, lo, hi, i) "
            "JOIN readings r ON r.meter_id = p.m AND r.reading_type_id = p.rt "
            "AND r.series = %s AND r.ts >= to_timestamp(p.lo) AND r.ts <= to_timestamp(p.hi) "
            "WHERE r.ts >= %s AND r.ts <= %s",
            (
                ranges.meter_id.tolist(),
                ranges.reading_type_id.tolist(),
                ranges.lo.tolist(),
                ranges.hi.tolist(),
                series,
                self._ts(int(ranges.lo.min())),
                self._ts(int(ranges.hi.max())),
            ),
            (">i8", ">i8", ">f8", ">i8"),
        )
        if not columns[0].shape[0]:
            return ExistingRows.empty()
        index = columns[0] - 1
        packed = columns[3]
        return ExistingRows(
            ranges.meter_id[index],
            ranges.reading_type_id[index],
            _from_pg_ts(columns[1]),
            columns[2].astype(np.float64),
            packed & ((1 << _QUALITY_BITS) - 1),
            packed >> _QUALITY_BITS,
        )

    def _insert_readings(self, series: int, rows: ReadingRows) -> None:
        data = np.zeros(len(rows), dtype=_READING_ROW)
        data["_n"] = len(_READING_COLUMNS)
        for name, kind in _READING_COLUMNS:
            data[f"_len_{name}"] = np.dtype(kind).itemsize
        data["meter_id"] = rows.meter_id
        data["reading_type_id"] = rows.reading_type_id
        data["series"] = series
        data["ts"] = _to_pg_ts(rows.ts)
        data["value"] = rows.value
        data["quality_id"] = rows.quality_id
        data["usage_point_id"] = rows.usage_point_id
        data["kind"] = rows.kind
        data["batch_id"] = rows.batch_id
        columns = ", ".join(name for name, _ in _READING_COLUMNS)
        with (
            self._c.cursor() as cursor,
            cursor.copy(f"COPY readings ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.write(_COPY_HEADER)
            copy.write(data.tobytes())
            copy.write(_COPY_TRAILER)

    def _update_readings(self, series: int, rows: ReadingRows, previous: ExistingRows) -> None:
        changed = self._exec(
            "UPDATE readings r SET value = u.value, quality_id = u.q, usage_point_id = u.up, "
            "kind = u.kind, batch_id = u.batch "
            "FROM unnest(?::bigint[], ?::integer[], ?::bigint[], ?::float8[], ?::integer[], "
            "?::bigint[], ?::smallint[], ?::bigint[], ?::float8[], ?::integer[], ?::bigint[]) "
            "AS u(m, rt, ts, value, q, up, kind, batch, old_value, old_q, old_batch) "
            "WHERE r.meter_id = u.m AND r.reading_type_id = u.rt AND r.series = ? "
            "AND r.ts = to_timestamp(u.ts) AND r.ts >= ? AND r.ts <= ? "
            "AND r.value = u.old_value AND r.quality_id = u.old_q AND r.batch_id = u.old_batch",
            (
                rows.meter_id.tolist(),
                rows.reading_type_id.tolist(),
                rows.ts.tolist(),
                rows.value.tolist(),
                rows.quality_id.tolist(),
                rows.usage_point_id.tolist(),
                rows.kind.tolist(),
                rows.batch_id.tolist(),
                previous.value.tolist(),
                previous.quality_id.tolist(),
                previous.batch_id.tolist(),
                series,
                self._ts(int(rows.ts.min())),
                self._ts(int(rows.ts.max())),
            ),
        )
        if changed != len(rows):
            raise _LostRace(f"{len(rows) - changed} readings changed since they were probed")

    def _insert_versions(
        self, series: int, previous: ExistingRows, superseded_by: Int64Array
    ) -> None:
        self._exec(
            "INSERT INTO reading_versions (meter_id, reading_type_id, series, ts, value, "
            "quality_id, batch_id, superseded_batch_id) "
            "SELECT m, rt, ?, to_timestamp(ts), value, q, batch, superseded "
            "FROM unnest(?::bigint[], ?::integer[], ?::bigint[], ?::float8[], ?::integer[], "
            "?::bigint[], ?::bigint[]) AS v(m, rt, ts, value, q, batch, superseded)",
            (
                series,
                previous.meter_id.tolist(),
                previous.reading_type_id.tolist(),
                previous.ts.tolist(),
                previous.value.tolist(),
                previous.quality_id.tolist(),
                previous.batch_id.tolist(),
                superseded_by.tolist(),
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
        # One array per column, aggregated server-side and read by numpy: no Python object per
        # reading. Small columns travel packed in one bigint. No ORDER BY: rows come in
        # primary-key order per partition and partitions in time order; that order is checked
        # below, not assumed (a sort in the server would cost more than one in numpy).
        several = len(reading_type_ids) > 1
        packed_sql = f"(((usage_point_id << 1) + kind) << {_QUALITY_BITS} | quality_id)"
        # The packed small columns are usually one value over a meter's rows (no quality
        # codes, one usage point): then min = max and that array is not built at all.
        aggregates = [
            "array_agg(ts)",
            "array_agg(value)",
            f"min({packed_sql})",
            f"max({packed_sql})",
            "array_agg(reading_type_id::bigint)" if several else "NULL::bigint[]",
            "array_agg(batch_id)" if with_batch else "NULL::bigint[]",
        ]
        types = "= ANY(%s::bigint[])" if several else "= %s"
        where = (
            f"FROM readings WHERE meter_id = %s AND reading_type_id {types} "
            "AND series = %s AND ts > %s AND ts <= %s"
        )
        params = (
            int(meter_id),
            [int(i) for i in reading_type_ids] if several else int(reading_type_ids[0]),
            int(series),
            self._ts(lo),
            self._ts(hi),
        )
        ts_, values, low, high, rts, batches = _arrays(
            self._c,
            f"SELECT {', '.join(aggregates)} {where}",
            params,
            (">i8", ">f8", None, None, ">i8", ">i8"),
        )
        n = ts_.shape[0]
        if n and int(low) != int(high):
            (packed,) = _arrays(
                self._c, f"SELECT array_agg({packed_sql}) {where}", params, (">i8",)
            )
        else:
            packed = np.full(n, int(low) if n else 0, dtype=np.int64)
        rest = packed >> _QUALITY_BITS
        result: dict[str, npt.NDArray[Any]] = {
            "ts": _from_pg_ts(ts_),
            "value": values.astype(np.float64),
            "quality_id": packed & ((1 << _QUALITY_BITS) - 1),
            "usage_point_id": rest >> 1,
            "kind": rest & 1,
            "reading_type_id": rts if several else np.full(n, int(reading_type_ids[0])),
        }
        if with_batch:
            result["batch_id"] = batches
        rt, ts = result["reading_type_id"], result["ts"]
        in_order = bool(np.all((rt[1:] > rt[:-1]) | ((rt[1:] == rt[:-1]) & (ts[1:] > ts[:-1]))))
        if not in_order:
            order_index = np.lexsort((ts, rt))
            result = {k: v[order_index] for k, v in result.items()}
        return result


_QUALITY_BITS = 20
"""Quality set ids stay below 2**20; packed with other small columns in one bigint."""


class _RawArray(Loader):
    """Keeps a binary array result as bytes, for numpy to read (see `_arrays`)."""

    format = psycopg.pq.Format.BINARY

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


_ARRAY_OIDS = (1016, 1022, 1185)  # int8[], float8[], timestamptz[]


def _arrays(
    connection: psycopg.Connection[Any],
    query: str,
    params: Sequence[Any],
    kinds: Sequence[str | None],
) -> list[Any]:
    """Run a one-row query of `array_agg`s (kind: big-endian element dtype) and scalars (kind
    None, returned as they are), reading each array with numpy.

    The binary form of a one-dimensional array without NULLs is a 20-byte header (ndim, flags,
    element type, length, lower bound) then (int4 length, value) per element; every element
    here is 8 bytes (bigint, float8, timestamptz as microseconds since 2000).
    """
    with connection.cursor(binary=True) as cursor:
        for oid in _ARRAY_OIDS:
            cursor.adapters.register_loader(oid, _RawArray)
        cursor.execute(query, params)
        row = cursor.fetchone()
    result: list[Any] = []
    for value, kind in zip(row or [None] * len(kinds), kinds, strict=True):
        if kind is None:
            result.append(value)
            continue
        dtype = np.float64 if kind == ">f8" else np.int64
        if not value:
            result.append(np.zeros(0, dtype=dtype))
            continue
        count = int.from_bytes(value[12:16], "big")
        cells = np.frombuffer(
            value, dtype=np.dtype([("n", ">i4"), ("v", kind)]), count=count, offset=20
        )
        result.append(cells["v"].astype(dtype))
    return result


class PostgresStore(Store):
    """A PostgreSQL database; one connection per thread, plus one for partition DDL."""

    def __init__(self, url: str, *, connect_timeout: int = 10) -> None:
        self.url = url
        self._connect_timeout = connect_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[psycopg.Connection[Any]] = []
        self._partitions: list[tuple[datetime, datetime]] | None = None
        self._ddl: psycopg.Connection[Any] | None = None
        self._schema_checked = False

    def _open(self) -> psycopg.Connection[Any]:
        try:
            connection = psycopg.connect(
                self.url, autocommit=True, connect_timeout=self._connect_timeout
            )
        except psycopg.OperationalError as error:
            raise StoreUnavailable(f"{masked(self.url)}: cannot connect: {error}") from error
        connection.execute("SET TIME ZONE 'UTC'")
        # No server-side prepared statements: a plan prepared for a one-element array (one
        # meter's linkages) would be reused for ten thousand elements.
        connection.prepare_threshold = None
        return connection

    def _connection(self) -> psycopg.Connection[Any]:
        connection: psycopg.Connection[Any] | None = getattr(self._local, "connection", None)
        if connection is not None and not connection.closed and not connection.broken:
            return connection
        connection = self._open()
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection

    def _check_schema(self, connection: psycopg.Connection[Any]) -> None:
        if self._schema_checked:
            return
        version = self._version(connection)
        latest = latest_version(ENGINE)
        if version != latest:
            raise SchemaOutdated(
                f"{masked(self.url)} is at schema version {version}, this cimmeter needs "
                f"{latest}: run `cimmeter db upgrade`"
            )
        self._schema_checked = True

    @staticmethod
    def _version(connection: psycopg.Connection[Any]) -> int:
        row = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        found = connection.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(found[0] or 0) if found else 0

    @contextmanager
    def transaction(self) -> Iterator[StoreTransaction]:
        connection = self._connection()
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise StoreError("a transaction is already open on this store in this thread")
        self._check_schema(connection)
        with connection.transaction():
            yield PostgresSession(connection, self)

    @contextmanager
    def snapshot(self) -> Iterator[StoreReader]:
        connection = self._connection()
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise StoreError("a transaction is already open on this store in this thread")
        self._check_schema(connection)
        with connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresSession(connection, self)

    def schema_version(self) -> int:
        return self._version(self._connection())

    def upgrade(self) -> list[int]:
        connection = self._connection()
        applied: list[int] = []
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            connection.execute(SCHEMA_VERSION_TABLE)
            current = self._version(connection)
            for migration in migrations(ENGINE):
                if migration.version <= current:
                    continue
                try:
                    with connection.transaction():
                        connection.execute(migration.sql.encode())
                        connection.execute(
                            "INSERT INTO schema_version (version) VALUES (%s)",
                            (migration.version,),
                        )
                except psycopg.Error as error:
                    raise StoreError(
                        f"{masked(self.url)}: migration {migration.name} failed: {error}"
                    ) from error
                applied.append(migration.version)
        self._schema_checked = False
        self._partitions = None
        return applied

    # -- partitions -------------------------------------------------------------------------

    def ensure_partitions(self, connection: psycopg.Connection[Any], ts: Int64Array) -> None:
        """Create the monthly partitions these timestamps need, if possible right now."""
        if not ts.shape[0]:
            return
        lo, hi = int(ts.min()), int(ts.max())
        first, last = _month_start(lo), _month_start(hi)
        if (last.year - first.year) * 12 + last.month - first.month <= 1:
            months = {first, last}
        else:
            month_index = np.unique(ts.astype("datetime64[s]").astype("datetime64[M]"))
            months = {
                datetime.fromisoformat(f"{m}-01T00:00:00+00:00") for m in month_index.astype(str)
            }
        with self._lock:
            if self._partitions is None:
                self._partitions = self._existing_partitions(connection)
            covered = self._partitions
            missing = sorted(m for m in months if not any(lo <= m < hi for lo, hi in covered))
        if not missing:
            return
        # DDL waits for every transaction that touched `readings`, including our own: skip it
        # (rows go to the DEFAULT partition) when this transaction already holds such a lock.
        held = connection.execute(
            "SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() "
            "AND relation = 'readings'::regclass"
        ).fetchone()
        if held:
            return
        with self._lock:
            ddl = self._ddl_connection()
            for month in missing:
                try:
                    ddl.execute(
                        sql.SQL(
                            "CREATE TABLE IF NOT EXISTS {name} PARTITION OF readings "
                            "FOR VALUES FROM ({lo}) TO ({hi})"
                        ).format(
                            name=sql.Identifier(partition_name(month)),
                            lo=sql.Literal(month),
                            hi=sql.Literal(_next_month(month)),
                        )
                    )
                except psycopg.Error:
                    # Lock timeout, a concurrent creator, or rows of that month already in
                    # the DEFAULT partition: the rows stay in DEFAULT, correct and visible.
                    continue
            self._partitions = self._existing_partitions(ddl)

    def _ddl_connection(self) -> psycopg.Connection[Any]:
        if self._ddl is None or self._ddl.closed or self._ddl.broken:
            self._ddl = self._open()
            self._ddl.execute("SET lock_timeout = '2s'")
        return self._ddl

    @staticmethod
    def _existing_partitions(
        connection: psycopg.Connection[Any],
    ) -> list[tuple[datetime, datetime]]:
        """The time ranges of the partitions of `readings`, whoever created them (the store,
        Citus' `create_time_partitions`, an operator), read from their bounds."""
        rows = connection.execute(
            "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass"
        ).fetchall()
        ranges = []
        for (bound,) in rows:
            match = _BOUND.search(bound or "")
            if match:
                ranges.append(
                    (datetime.fromisoformat(match.group(1)), datetime.fromisoformat(match.group(2)))
                )
        return ranges

    # -- info and close ---------------------------------------------------------------------

    def info(self) -> StoreInfo:
        connection = self._connection()
        version = self._version(connection)
        counts: dict[str, int] = {}
        if version:
            for kind, count in connection.execute(
                "SELECT kind, count(*) FROM objects WHERE NOT deleted GROUP BY kind ORDER BY kind"
            ).fetchall():
                counts[f"objects.{ObjectKind(kind).value}"] = int(count)
            for label, statement in INFO_COUNTS:
                row = connection.execute(statement.encode()).fetchone()
                counts[label] = int(row[0]) if row else 0
            row = connection.execute("SELECT count(*) FROM readings_default").fetchone()
            counts["readings_in_default_partition"] = int(row[0]) if row else 0
        return StoreInfo(ENGINE, masked(self.url), version, latest_version(ENGINE), counts)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
            if self._ddl is not None:
                self._ddl.close()
                self._ddl = None
        self._local = threading.local()


def masked(url: str) -> str:
    """The URL with its password replaced by `***`."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    if "password" not in info:
        return url
    return url.replace(str(info["password"]), "***")
