"""The columnar reading block: how readings travel on the hot path.

See DESIGN.md, "Readings are columns".

A `ReadingBlock` holds the readings of one reading type for one meter and/or usage point as
numpy columns: `int64` UTC epoch seconds and `float64` values, plus quality codes in a small
dictionary encoding (most readings share one quality set or none). The streaming XML reader
yields blocks, the store ingests and returns blocks, VEE and billing compute on blocks, and the
writers serialize blocks. One Python object per reading is never made on that path.

Timestamps are the *end* of the interval a value belongs to (digest 3.1, `timeStamp`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from cimmeter.model.identity import ObjectRef

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]
Int32Array = npt.NDArray[np.int32]

BlockKind = Literal["interval", "register"]
"""`interval`: IntervalBlock/IntervalReading values; `register`: Reading values (registers,
billing, instantaneous), which a MeterReading carries outside interval blocks."""

QualitySet = tuple[str, ...]
"""The ReadingQualityType codes (`system.category.subCategory`) of one reading, sorted."""

NO_QUALITY: QualitySet = ()


class ReadingBlockError(ValueError):
    """A block whose columns do not fit together (lengths, dtypes, quality indexes)."""


@dataclass(frozen=True, slots=True, eq=False)
class ReadingBlock:
    """Readings of one reading type for one meter / usage point, as columns.

    `quality[i]` indexes `quality_sets`; `quality_sets[0]` is always the empty set, so a block
    without quality codes has `quality` all zero. Arrays are not copied; treat them as read-only.
    """

    reading_type: str
    timestamps: Int64Array
    values: Float64Array
    quality: Int32Array
    quality_sets: tuple[QualitySet, ...] = (NO_QUALITY,)
    meter: ObjectRef | None = None
    usage_point: ObjectRef | None = None
    kind: BlockKind = "interval"
    source: str | None = None
    extras: dict[int, dict[str, str]] = field(default_factory=dict)
    """Rarely used per-reading attributes (`reportedDateTime`, `source`, `reason`,
    `timePeriod` as ISO text, ...) by row index, so that nothing a message carried is lost."""

    def __post_init__(self) -> None:
        n = self.timestamps.shape[0]
        if self.timestamps.dtype != np.int64 or self.timestamps.ndim != 1:
            raise ReadingBlockError(f"timestamps must be 1-d int64, got {self.timestamps.dtype}")
        if self.values.dtype != np.float64 or self.values.shape != (n,):
            raise ReadingBlockError(
                f"values must be float64 of length {n}, got {self.values.dtype} {self.values.shape}"
            )
        if self.quality.dtype != np.int32 or self.quality.shape != (n,):
            raise ReadingBlockError(
                f"quality must be int32 of length {n}, "
                f"got {self.quality.dtype} {self.quality.shape}"
            )
        if not self.quality_sets or self.quality_sets[0] != NO_QUALITY:
            raise ReadingBlockError("quality_sets[0] must be the empty quality set")
        if n and (int(self.quality.min()) < 0 or int(self.quality.max()) >= len(self.quality_sets)):
            raise ReadingBlockError("quality index out of range of quality_sets")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        reading_type: str,
        timestamps: Sequence[int] | Int64Array,
        values: Sequence[float] | Float64Array,
        qualities: Sequence[Iterable[str]] | None = None,
        *,
        meter: ObjectRef | None = None,
        usage_point: ObjectRef | None = None,
        kind: BlockKind = "interval",
        source: str | None = None,
    ) -> ReadingBlock:
        """Build a block from plain sequences (tests, small messages); `qualities` per reading."""
        ts = np.asarray(timestamps, dtype=np.int64)
        vs = np.asarray(values, dtype=np.float64)
        sets, index = encode_qualities(qualities, len(ts))
        return cls(
            reading_type,
            ts,
            vs,
            index,
            sets,
            meter=meter,
            usage_point=usage_point,
            kind=kind,
            source=source,
        )

    # -- access ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    def qualities_at(self, i: int) -> QualitySet:
        return self.quality_sets[int(self.quality[i])]

    def datetimes(self) -> list[datetime]:
        """The timestamps as aware UTC datetimes (for small blocks and display only)."""
        return [datetime.fromtimestamp(int(t), UTC) for t in self.timestamps]

    def take(self, mask_or_index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> ReadingBlock:
        """A block with the selected rows (a boolean mask or integer indexes), same metadata."""
        positions = np.arange(len(self))[mask_or_index]
        extras = {j: self.extras[int(i)] for j, i in enumerate(positions) if int(i) in self.extras}
        return ReadingBlock(
            self.reading_type,
            self.timestamps[mask_or_index],
            self.values[mask_or_index],
            self.quality[mask_or_index],
            self.quality_sets,
            meter=self.meter,
            usage_point=self.usage_point,
            kind=self.kind,
            source=self.source,
            extras=extras,
        )

    def same_readings(self, other: ReadingBlock) -> bool:
        """Same reading type, timestamps, values (NaN equal to NaN) and quality sets, row by row."""
        if self.reading_type != other.reading_type or len(self) != len(other):
            return False
        if not np.array_equal(self.timestamps, other.timestamps):
            return False
        if not np.array_equal(self.values, other.values, equal_nan=True):
            return False
        return all(self.qualities_at(i) == other.qualities_at(i) for i in range(len(self)))


def encode_qualities(
    qualities: Sequence[Iterable[str]] | None, n: int
) -> tuple[tuple[QualitySet, ...], Int32Array]:
    """Dictionary-encode per-reading quality codes: (distinct sorted sets, index per reading)."""
    index = np.zeros(n, dtype=np.int32)
    sets: list[QualitySet] = [NO_QUALITY]
    if qualities is None:
        return tuple(sets), index
    if len(qualities) != n:
        raise ReadingBlockError(f"{len(qualities)} quality entries for {n} readings")
    seen: dict[QualitySet, int] = {NO_QUALITY: 0}
    for i, codes in enumerate(qualities):
        key = tuple(sorted(set(codes)))
        pos = seen.get(key)
        if pos is None:
            pos = seen[key] = len(sets)
            sets.append(key)
        index[i] = pos
    return tuple(sets), index


def concat_blocks(blocks: Sequence[ReadingBlock]) -> ReadingBlock:
    """Concatenate blocks of the same reading type, meter, usage point and kind."""
    if not blocks:
        raise ReadingBlockError("nothing to concatenate")
    first = blocks[0]
    for b in blocks[1:]:
        if (b.reading_type, b.meter, b.usage_point, b.kind) != (
            first.reading_type,
            first.meter,
            first.usage_point,
            first.kind,
        ):
            raise ReadingBlockError("blocks differ in reading type, meter, usage point or kind")
    sets: list[QualitySet] = [NO_QUALITY]
    seen: dict[QualitySet, int] = {NO_QUALITY: 0}
    quality_parts: list[Int32Array] = []
    extras: dict[int, dict[str, str]] = {}
    offset = 0
    for b in blocks:
        remap = np.empty(len(b.quality_sets), dtype=np.int32)
        for j, qs in enumerate(b.quality_sets):
            pos = seen.get(qs)
            if pos is None:
                pos = seen[qs] = len(sets)
                sets.append(qs)
            remap[j] = pos
        quality_parts.append(remap[b.quality])
        extras.update({offset + i: e for i, e in b.extras.items()})
        offset += len(b)
    return ReadingBlock(
        first.reading_type,
        np.concatenate([b.timestamps for b in blocks]),
        np.concatenate([b.values for b in blocks]),
        np.concatenate(quality_parts).astype(np.int32, copy=False),
        tuple(sets),
        meter=first.meter,
        usage_point=first.usage_point,
        kind=first.kind,
        source=first.source,
        extras=extras,
    )
