"""The working state of one channel: readings laid on their interval grid, as numpy columns.

Rules read `values`/`present` and call `flag`, which turns a boolean mask into one `Finding` per
run of consecutive intervals and ORs the rule's quality code into a per-row bit mask. Quality
sets are built once at the end from the distinct bit masks (`quality_sets`), so no Python object
is made per reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cimmeter.model.readings import NO_QUALITY, Float64Array, Int64Array, QualitySet
from cimmeter.vee.model import Finding

BoolArray = npt.NDArray[np.bool_]
UInt64Array = npt.NDArray[np.uint64]


class CodeBits:
    """Quality codes as bits of a uint64 mask (at most 64 distinct codes per channel)."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self._bit: dict[str, int] = {}

    def bit(self, code: str) -> np.uint64:
        pos = self._bit.get(code)
        if pos is None:
            if len(self.codes) == 64:
                raise ValueError("more than 64 distinct quality codes in one channel")
            pos = self._bit[code] = len(self.codes)
            self.codes.append(code)
        return np.uint64(1 << pos)

    def mask_of(self, codes: QualitySet) -> np.uint64:
        out = np.uint64(0)
        for c in codes:
            out |= self.bit(c)
        return out

    def decode(self, masks: UInt64Array) -> tuple[tuple[QualitySet, ...], npt.NDArray[np.int32]]:
        """Distinct masks -> (quality sets with the empty set first, index per row)."""
        uniq, inverse = np.unique(
            np.concatenate([np.zeros(1, np.uint64), masks]), return_inverse=True
        )
        sets: list[QualitySet] = []
        for m in uniq.tolist():
            sets.append(
                tuple(sorted(c for i, c in enumerate(self.codes) if (int(m) >> i) & 1))
                if m
                else NO_QUALITY
            )
        # uniq is sorted, so mask 0 (the empty set) is first
        return tuple(sets), inverse[1:].astype(np.int32)


def runs(mask: BoolArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """(starts, stops) of the runs of True in `mask` (stop exclusive)."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def run_lengths(mask: BoolArray) -> npt.NDArray[np.intp]:
    """For each position, the length of the run of True it belongs to (0 where False)."""
    starts, stops = runs(mask)
    out = np.zeros(len(mask), dtype=np.intp)
    if len(starts):
        lengths = stops - starts
        marks = np.zeros(len(mask) + 1, dtype=np.intp)
        np.add.at(marks, starts, lengths)
        np.add.at(marks, stops, -lengths)
        out = np.cumsum(marks)[:-1]
        out[~mask] = 0
    return out


@dataclass
class Grid:
    """One channel on its grid: position i is the interval ending at `ts[i]`."""

    reading_type: str
    ts: Int64Array
    values: Float64Array
    present: BoolArray
    interval: int | None
    bits: CodeBits
    quality: UInt64Array
    """VEE and carried device codes per row, as bits."""
    raw_quality: UInt64Array
    """The device/head-end codes the raw reading carried (a subset of `quality`)."""
    findings: list[Finding] = field(default_factory=list)
    replace: BoolArray = field(init=False)
    """Rows whose value VEE will not use (missing or failed a rule that asks for an estimate)."""

    def __post_init__(self) -> None:
        self.replace = ~self.present

    def flag(
        self,
        rule: str,
        mask: BoolArray,
        code: str,
        reason: str,
        *,
        estimate: bool = False,
        ts: Int64Array | None = None,
    ) -> int:
        """Record `rule` on the rows of `mask` (or on timestamps `ts` outside the grid)."""
        times = self.ts if ts is None else ts
        starts, stops = runs(mask)
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            self.findings.append(
                Finding(rule, int(times[a]), int(times[b - 1]), b - a, reason, code)
            )
        if ts is None and len(starts):
            self.quality[mask] |= self.bits.bit(code)
            if estimate:
                self.replace |= mask
        return int(mask.sum())

    def at(self, when: Int64Array) -> tuple[npt.NDArray[np.intp], BoolArray]:
        """Grid positions of timestamps `when` and whether each is on the grid."""
        pos = np.searchsorted(self.ts, when)
        ok = pos < len(self.ts)
        ok[ok] = self.ts[pos[ok]] == when[ok]
        return np.minimum(pos, max(len(self.ts) - 1, 0)), ok

    def span_mask(self, spans: Int64Array) -> BoolArray:
        """Rows whose interval (ts - interval, ts] overlaps one of the (from, to] spans."""
        mask = np.zeros(len(self.ts), dtype=np.bool_)
        width = self.interval or 0
        for a, b in spans.tolist():
            lo = np.searchsorted(self.ts, a, side="right")
            hi = np.searchsorted(self.ts, b + width, side="left")
            mask[lo:hi] = True
        return mask
