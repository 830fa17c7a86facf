"""Bulk ingest of `ReadingBlock`s, engine-neutral and in columns (DESIGN.md, "Readings are
columns"): validation, attribution to usage points, de-duplication and versioning are numpy
operations over the concatenated rows of a whole message; the engine only resolves identifiers
and moves columns in and out (`IngestBackend`).

What happens to a message's readings:

1. Per block: the reading type must be a well-formed 18-field code (digest 5.4; stored in its
   canonical text and registered on first use); the meter (or, for a block that names only a
   usage point, the usage point) must resolve. A block that fails is rejected as one item.
2. Per reading: the value must be finite, the timestamp inside [1990-01-01, 2100-01-01).
3. Attribution: each reading gets the usage point linked to its meter at its timestamp
   (`attribution.py`). A block naming both a meter and a usage point has rows where the linkage
   says another usage point rejected (`usage-point-mismatch`); a block naming only a usage
   point gets, per row, the one meter linked then, or the row is rejected.
4. Versioning: rows whose (meter, reading type, series, time) exists with the same float64 value
   and the same quality set are no-ops; a different value or quality set moves the stored row
   to the prior versions and replaces it (DESIGN.md rule 4; DECISIONS.md, Values). The same key
   twice in one message is applied in message order (the later occurrence versions the earlier).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cimmeter.codes.errors import CodeError
from cimmeter.codes.syntax import join_code, split_code
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import QualitySet, ReadingBlock
from cimmeter.store.attribution import Interval, IntervalIndex, targets_at
from cimmeter.store.base import ResolveError, StoreError
from cimmeter.store.records import IngestResult, ObjectKind, RejectCode, RejectedItem

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

TS_MIN = 631_152_000
"""1990-01-01T00:00:00Z: earlier timestamps are taken for a meter clock reset, not data."""
TS_MAX = 4_102_444_800
"""2100-01-01T00:00:00Z (exclusive). Keeps timestamps within 32 bits above TS_MIN."""

SERIES_CODES: Mapping[str, int] = {"raw": 0, "final": 1}
SERIES_NAMES: Mapping[int, str] = {v: k for k, v in SERIES_CODES.items()}
KIND_CODES: Mapping[str, int] = {"interval": 0, "register": 1}
KIND_NAMES: Mapping[int, str] = {v: k for k, v in KIND_CODES.items()}

READING_TYPE_FIELDS: tuple[str, ...] = (
    "macro_period",
    "aggregate",
    "measuring_period",
    "accumulation",
    "flow_direction",
    "commodity",
    "measurement_kind",
    "interharmonic_numerator",
    "interharmonic_denominator",
    "argument_numerator",
    "argument_denominator",
    "tou",
    "cpp",
    "consumption_tier",
    "phases",
    "multiplier",
    "unit",
    "currency",
)
"""The 18 fields of a ReadingType code in order (digest 5.1); also the registry's columns."""
_SIGNED_FIELDS = frozenset({15})  # digest 5.4: only the multiplier may be negative

_RT_BITS = 20
"""Reading type ids below 2**20 (a registry holds hundreds) pack with a meter id in an int64."""
_TS_BITS = 32  # TS_MAX - TS_MIN < 2**32


@lru_cache(maxsize=4096)
def reading_type_fields(code: str) -> tuple[int, ...]:
    """The 18 integers of a ReadingType code; `CodeError` when malformed (digest 5.4)."""
    return split_code(
        code, kind="ReadingType", field_names=READING_TYPE_FIELDS, signed_fields=_SIGNED_FIELDS
    )


def canonical_reading_type(code: str) -> str:
    """The code as stored: plain decimals (`-0` and leading zeros normalised)."""
    return join_code(reading_type_fields(code))


def quality_text(codes: QualitySet) -> str:
    """How a quality set is keyed in the `quality_sets` dictionary table."""
    return ";".join(sorted(set(codes)))


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


# -- rows --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadingRows:
    """Readings ready to write, one array per column. `origin` is each row's position in the
    message (block offset + row), `pair` a dense index of its (meter, reading type)."""

    meter_id: Int64Array
    reading_type_id: Int64Array
    ts: Int64Array
    value: Float64Array
    quality_id: Int64Array
    usage_point_id: Int64Array
    kind: Int64Array
    batch_id: Int64Array
    origin: Int64Array
    pair: Int64Array

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, index: npt.NDArray[np.intp] | Int64Array | BoolArray) -> ReadingRows:
        return ReadingRows(
            self.meter_id[index],
            self.reading_type_id[index],
            self.ts[index],
            self.value[index],
            self.quality_id[index],
            self.usage_point_id[index],
            self.kind[index],
            self.batch_id[index],
            self.origin[index],
            self.pair[index],
        )

    def sort_key(self) -> Int64Array:
        return (self.pair << _TS_BITS) | (self.ts - TS_MIN)


@dataclass(frozen=True, slots=True)
class ExistingRows:
    """Stored current readings returned by a probe (any order)."""

    meter_id: Int64Array
    reading_type_id: Int64Array
    ts: Int64Array
    value: Float64Array
    quality_id: Int64Array
    batch_id: Int64Array

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, index: npt.NDArray[np.intp] | Int64Array) -> ExistingRows:
        return ExistingRows(
            self.meter_id[index],
            self.reading_type_id[index],
            self.ts[index],
            self.value[index],
            self.quality_id[index],
            self.batch_id[index],
        )

    @classmethod
    def empty(cls) -> ExistingRows:
        i = np.zeros(0, dtype=np.int64)
        return cls(i, i, i, np.zeros(0, dtype=np.float64), i, i)


@dataclass(frozen=True, slots=True)
class ProbeRanges:
    """Per (meter, reading type) of a set of rows: the closed range [lo, hi] of its times."""

    meter_id: Int64Array
    reading_type_id: Int64Array
    lo: Int64Array
    hi: Int64Array

    def __len__(self) -> int:
        return int(self.lo.shape[0])


def probe_ranges(rows: ReadingRows) -> ProbeRanges:
    """Ranges of rows sorted by `sort_key` (one run per pair)."""
    n = len(rows)
    starts = (
        np.flatnonzero(np.r_[True, rows.pair[1:] != rows.pair[:-1]]) if n else np.zeros(0, np.intp)
    )
    ends = np.r_[starts[1:], n] - 1 if n else starts
    return ProbeRanges(
        rows.meter_id[starts], rows.reading_type_id[starts], rows.ts[starts], rows.ts[ends]
    )


@dataclass(frozen=True, slots=True)
class Classified:
    """How the rows of one round relate to what is stored."""

    new: npt.NDArray[np.intp]
    changed: npt.NDArray[np.intp]
    previous: ExistingRows
    """The stored rows that `changed` replace, aligned with `changed`."""
    unchanged: int


def classify(rows: ReadingRows, existing: ExistingRows) -> Classified:
    """Split sorted, unique rows into new, changed and unchanged against the stored rows."""
    if not len(existing):
        return Classified(np.arange(len(rows)), np.zeros(0, np.intp), existing, 0)
    starts = np.flatnonzero(np.r_[True, rows.pair[1:] != rows.pair[:-1]])
    pair_keys = (rows.meter_id[starts] << _RT_BITS) | rows.reading_type_id[starts]
    order = np.argsort(pair_keys)
    existing_keys = (existing.meter_id << _RT_BITS) | existing.reading_type_id
    pos = np.searchsorted(pair_keys[order], existing_keys)
    existing_pair = rows.pair[starts][order[np.clip(pos, 0, len(order) - 1)]]
    existing_sort = (existing_pair << _TS_BITS) | (existing.ts - TS_MIN)
    by_key = np.argsort(existing_sort)
    sorted_keys = existing_sort[by_key]
    row_keys = rows.sort_key()
    at = np.searchsorted(sorted_keys, row_keys)
    at_safe = np.clip(at, 0, len(sorted_keys) - 1)
    found = sorted_keys[at_safe] == row_keys
    match = by_key[at_safe]
    same = (
        found
        & (existing.value[match] == rows.value)
        & (existing.quality_id[match] == rows.quality_id)
    )
    changed = np.flatnonzero(found & ~same)
    return Classified(
        np.flatnonzero(~found), changed, existing.take(match[changed]), int(np.count_nonzero(same))
    )


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    inserted: int
    unchanged: int
    versioned: int
    written: BoolArray
    """Per row of the round: stored as the current version by this write."""


class IngestBackend(Protocol):
    """What `ingest_blocks` needs from an engine, inside one transaction."""

    def reading_type_ids(self, codes: Collection[str]) -> dict[str, int]:
        """Ids of canonical ReadingType codes, registering the unknown ones."""
        ...

    def quality_ids(self, sets: Collection[QualitySet]) -> dict[QualitySet, int]:
        """Ids of quality sets in the dictionary table, adding the unknown ones."""
        ...

    def resolve_ids(
        self, kind: ObjectKind, refs: Collection[ObjectRef]
    ) -> dict[ObjectRef, int | ResolveError]:
        """The object id each reference resolves to, or why it does not."""
        ...

    def meter_intervals(self, meter_ids: Int64Array) -> list[Interval]:
        """Meter -> usage point linkages (not cancelled) of these meters: owner = meter id,
        target = usage point id."""
        ...

    def usage_point_intervals(self, usage_point_ids: Int64Array) -> dict[int, list[Interval]]:
        """Usage point -> meter linkages of these usage points: owner = usage point id,
        target = meter id."""
        ...

    def new_batch(self, received_at: datetime, source: str | None) -> int: ...

    def write_rows(self, series: int, rows: ReadingRows) -> WriteOutcome:
        """Probe, classify and write one round of sorted, unique rows."""
        ...

    def write_extras(
        self, series: int, rows: ReadingRows, extras: Sequence[dict[str, str]]
    ) -> None: ...


# -- the pipeline ------------------------------------------------------------------------------


def _reject_for(
    error: ResolveError, unknown: RejectCode, ambiguous: RejectCode, what: str
) -> tuple[RejectCode, str]:
    if error.matches == 0:
        return unknown, f"unknown {what}: no {what} has {error.ref.describe()}"
    return ambiguous, f"ambiguous {what}: {error.matches} {what}s match {error.ref.describe()}"


def ingest_blocks(
    backend: IngestBackend,
    blocks: Sequence[ReadingBlock],
    *,
    received_at: datetime,
    source: str | None,
    series: str,
) -> IngestResult:
    """Validate, attribute and write a message's blocks; see the module docstring."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise StoreError(f"received_at must be timezone-aware, got {received_at!r}")
    if series not in SERIES_CODES:
        raise StoreError(f"series must be one of {sorted(SERIES_CODES)}, got {series!r}")
    series_code = SERIES_CODES[series]
    n_blocks = len(blocks)
    if not n_blocks:
        return IngestResult()

    rejected: list[RejectedItem] = []
    rejected_readings = 0

    # Block-level identifiers, resolved in bulk.
    canonical: dict[str, str] = {}
    malformed: dict[str, str] = {}
    for code in {b.reading_type for b in blocks}:
        try:
            canonical[code] = canonical_reading_type(code)
        except CodeError as error:
            malformed[code] = str(error)
    rt_ids = backend.reading_type_ids(set(canonical.values()))
    meters = backend.resolve_ids(ObjectKind.METER, {b.meter for b in blocks if b.meter})
    usage_points = backend.resolve_ids(
        ObjectKind.USAGE_POINT, {b.usage_point for b in blocks if b.usage_point}
    )

    block_ok = np.zeros(n_blocks, dtype=np.bool_)
    block_meter = np.zeros(n_blocks, dtype=np.int64)
    block_up = np.zeros(n_blocks, dtype=np.int64)
    block_rt = np.zeros(n_blocks, dtype=np.int64)
    block_kind = np.zeros(n_blocks, dtype=np.int64)
    block_source: list[str | None] = [None] * n_blocks
    block_qoffset = np.zeros(n_blocks, dtype=np.int64)
    quality_table: list[QualitySet] = []
    quality_offsets: dict[tuple[QualitySet, ...], int] = {}

    for i, block in enumerate(blocks):
        problem: tuple[RejectCode, str] | None = None
        meter_id = up_id = 0
        if block.reading_type in malformed:
            problem = (RejectCode.MALFORMED_READING_TYPE, malformed[block.reading_type])
        elif block.kind not in KIND_CODES:
            raise StoreError(f"block {i}: kind must be interval or register, got {block.kind!r}")
        elif block.meter is None and block.usage_point is None:
            problem = (
                RejectCode.MISSING_IDENTITY,
                "the block names neither a meter nor a usage point",
            )
        else:
            if block.meter is not None:
                found = meters[block.meter]
                if isinstance(found, ResolveError):
                    problem = _reject_for(
                        found, RejectCode.UNKNOWN_METER, RejectCode.AMBIGUOUS_METER, "meter"
                    )
                else:
                    meter_id = found
            if problem is None and block.usage_point is not None:
                found = usage_points[block.usage_point]
                if isinstance(found, ResolveError):
                    problem = _reject_for(
                        found,
                        RejectCode.UNKNOWN_USAGE_POINT,
                        RejectCode.AMBIGUOUS_USAGE_POINT,
                        "usage point",
                    )
                else:
                    up_id = found
        if problem is not None:
            code, reason = problem
            ref = block.meter or block.usage_point
            rejected.append(
                RejectedItem(
                    reason,
                    code,
                    object_id=ref.mrid or ref.name or ref.serial_number if ref else None,
                    block_index=i,
                )
            )
            rejected_readings += len(block)
            continue
        block_ok[i] = True
        block_meter[i] = meter_id
        block_up[i] = up_id
        block_rt[i] = rt_ids[canonical[block.reading_type]]
        block_kind[i] = KIND_CODES[block.kind]
        block_source[i] = block.source or source
        offset = quality_offsets.get(block.quality_sets)
        if offset is None:
            offset = quality_offsets[block.quality_sets] = len(quality_table)
            quality_table.extend(block.quality_sets)
        block_qoffset[i] = offset

    # Batches (received time + source) and the quality dictionary.
    batch_of = {
        s: backend.new_batch(received_at, s)
        for s in {block_source[i] for i in np.flatnonzero(block_ok)}
    }
    block_batch = np.array(
        [batch_of[block_source[i]] if block_ok[i] else 0 for i in range(n_blocks)], dtype=np.int64
    )
    quality_ids = backend.quality_ids(set(quality_table))
    remap = np.array([quality_ids[q] for q in quality_table] or [0], dtype=np.int64)

    # Rows of the whole message, as columns.
    lengths = np.array([len(b) for b in blocks], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    blk = np.repeat(np.arange(n_blocks, dtype=np.int64), lengths)
    ts = np.concatenate([b.timestamps for b in blocks])
    values = np.concatenate([b.values for b in blocks])
    local_quality = np.concatenate([b.quality for b in blocks]).astype(np.int64)

    keep = block_ok[blk]
    finite = np.isfinite(values)
    in_range = (ts >= TS_MIN) & (ts < TS_MAX)
    row_problems: list[tuple[BoolArray, RejectCode, str]] = [
        (keep & ~finite, RejectCode.INVALID_VALUE, "value {value} is not a finite number"),
        (
            keep & finite & ~in_range,
            RejectCode.TIMESTAMP_OUT_OF_RANGE,
            "timestamp {ts} is outside 1990-01-01T00:00:00Z .. 2100-01-01T00:00:00Z",
        ),
    ]
    keep &= finite & in_range

    meter = block_meter[blk]
    up = np.zeros(ts.shape[0], dtype=np.int64)
    by_meter = keep & (meter != 0)
    if by_meter.any():
        index = IntervalIndex(backend.meter_intervals(np.unique(block_meter[block_meter != 0])))
        up = attribute_blocks(index, block_meter, lengths, offsets, ts, by_meter)
        claimed = block_up[blk]
        mismatch = by_meter & (claimed != 0) & (up != 0) & (up != claimed)
        if mismatch.any():
            row_problems.append(
                (
                    mismatch,
                    RejectCode.USAGE_POINT_MISMATCH,
                    "at {ts} the meter is linked to another usage point than the block names",
                )
            )
            keep &= ~mismatch

    pair = np.zeros(ts.shape[0], dtype=np.int64)
    pairs: dict[tuple[int, int], int] = {}
    up_only = np.flatnonzero(block_ok & (block_meter == 0))
    up_intervals = (
        backend.usage_point_intervals(np.unique(block_up[up_only])) if up_only.size else {}
    )
    no_meter = np.zeros(ts.shape[0], dtype=np.bool_)
    several_meters = np.zeros(ts.shape[0], dtype=np.bool_)
    for i in np.flatnonzero(block_ok).tolist():
        rows = slice(int(offsets[i]), int(offsets[i + 1]))
        if block_meter[i]:
            pair[rows] = pairs.setdefault((int(block_meter[i]), int(block_rt[i])), len(pairs))
            continue
        # A block naming only a usage point: the meter linked at each reading's time.
        target, count = targets_at(up_intervals.get(int(block_up[i]), []), ts[rows])
        no_meter[rows] = keep[rows] & (count == 0)
        several_meters[rows] = keep[rows] & (count > 1)
        keep[rows] &= count == 1
        meter[rows] = target
        up[rows] = block_up[i]
        for m in np.unique(target[keep[rows]]):
            where = np.flatnonzero(keep[rows] & (target == m)) + rows.start
            pair[where] = pairs.setdefault((int(m), int(block_rt[i])), len(pairs))
    if up_only.size:
        row_problems.append(
            (no_meter, RejectCode.NO_LINKED_METER, "no meter is linked to the usage point at {ts}")
        )
        row_problems.append(
            (
                several_meters,
                RejectCode.SEVERAL_LINKED_METERS,
                "several meters are linked to the usage point at {ts}",
            )
        )

    for mask, code, template in row_problems:
        for row in np.flatnonzero(mask):
            b = int(blk[row])
            ref = blocks[b].meter or blocks[b].usage_point
            rejected.append(
                RejectedItem(
                    template.format(
                        ts=iso(int(ts[row])) if in_range[row] else int(ts[row]), value=values[row]
                    ),
                    code,
                    object_id=(ref.mrid or ref.name or ref.serial_number) if ref else None,
                    block_index=b,
                    row_index=int(row - offsets[b]),
                )
            )
            rejected_readings += 1

    if bool(keep.all()):  # the usual case: no gather needed
        block_rows = blk
        rows_all = ReadingRows(
            meter,
            block_rt[block_rows],
            ts,
            values,
            remap[block_qoffset[block_rows] + local_quality],
            up,
            block_kind[block_rows],
            block_batch[block_rows],
            np.arange(ts.shape[0], dtype=np.int64),
            pair,
        )
    else:
        selected = np.flatnonzero(keep)
        block_rows = blk[selected]
        rows_all = ReadingRows(
            meter[selected],
            block_rt[block_rows],
            ts[selected],
            values[selected],
            remap[block_qoffset[block_rows] + local_quality[selected]],
            up[selected],
            block_kind[block_rows],
            block_batch[block_rows],
            selected.astype(np.int64),
            pair[selected],
        )

    inserted = unchanged = versioned = 0
    extras = {
        int(offsets[i]) + row: values_
        for i, b in enumerate(blocks)
        if b.extras and block_ok[i]
        for row, values_ in b.extras.items()
    }
    for round_rows in _rounds(rows_all):
        outcome = backend.write_rows(series_code, round_rows)
        inserted += outcome.inserted
        unchanged += outcome.unchanged
        versioned += outcome.versioned
        if extras:
            written = np.flatnonzero(outcome.written)
            with_extras = [int(j) for j in written if int(round_rows.origin[j]) in extras]
            if with_extras:
                chosen = round_rows.take(np.array(with_extras, dtype=np.intp))
                backend.write_extras(series_code, chosen, [extras[int(o)] for o in chosen.origin])
    return IngestResult(inserted, unchanged, versioned, tuple(rejected), rejected_readings)


def attribute_blocks(
    index: IntervalIndex,
    block_meter: Int64Array,
    lengths: Int64Array,
    offsets: Int64Array,
    ts: Int64Array,
    rows: BoolArray,
) -> Int64Array:
    """Usage point per row (0 = none) for the selected rows of blocks with a meter.

    Usually one linkage covers a whole block: then the block's earliest and latest readings
    find the same interval, and the block gets its target without a per-row search. Other
    blocks (a meter exchange inside the block, no linkage at its start) go row by row.
    """
    up = np.zeros(ts.shape[0], dtype=np.int64)
    blocks = np.flatnonzero((block_meter != 0) & (lengths > 0))
    if not blocks.size:
        return up
    lowest = np.minimum.reduceat(ts, offsets[:-1][lengths > 0])
    highest = np.maximum.reduceat(ts, offsets[:-1][lengths > 0])
    nonempty = np.flatnonzero(lengths > 0)
    where = np.searchsorted(nonempty, blocks)
    lo_hit = index.interval_at(block_meter[blocks], lowest[where])
    hi_hit = index.interval_at(block_meter[blocks], highest[where])
    uniform = (lo_hit == hi_hit) & (lo_hit >= 0)
    targets = np.zeros(blocks.shape[0], dtype=np.int64)
    targets[uniform] = index.target_of(lo_hit[uniform])
    block_target = np.zeros(block_meter.shape[0], dtype=np.int64)
    block_target[blocks] = targets
    per_block = np.zeros(block_meter.shape[0], dtype=np.bool_)
    per_block[blocks[~uniform]] = True
    up = np.repeat(block_target, lengths)
    slow = np.repeat(per_block, lengths) & rows
    if slow.any():
        meter = np.repeat(block_meter, lengths)
        up[slow] = index.lookup(meter[slow], ts[slow])
    up[~rows] = 0
    return up


def _rounds(rows: ReadingRows) -> list[ReadingRows]:
    """Rows sorted by key in rounds of unique keys: the k-th occurrence of a key in the
    message goes to round k, so repeated readings apply in message order."""
    if not len(rows):
        return []
    key = rows.sort_key()
    if bool(np.all(key[1:] > key[:-1])):
        return [rows]
    order = np.argsort(key, kind="stable")
    rows = rows.take(order)
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    positions = np.arange(len(rows))
    run_start = np.maximum.accumulate(np.where(first, positions, 0))
    occurrence = positions - run_start
    return [rows.take(occurrence == k) for k in range(int(occurrence.max()) + 1)]
