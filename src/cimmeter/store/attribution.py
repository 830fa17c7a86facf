"""Attribute readings to the usage point linked to their meter at each reading's time.

A linkage holds over the half-open interval (valid_from, valid_to] (DECISIONS.md, time ranges):
a reading stamped at the end of its interval belongs to the usage point linked when that
interval ended. A meter is linked to at most one usage point at a time (the store refuses
overlaps, digest 4.10), so for each meter its intervals are disjoint and sorted, and one
`searchsorted` over all of them finds the interval of every reading at once.

Epoch seconds with a fraction are floored: for an integer `ts`, `ts > 10.5` iff `ts > 10` and
`ts <= 10.5` iff `ts <= 10`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]

OPEN_END = np.iinfo(np.int64).max
"""`valid_to` of a linkage that is still open."""

_TS_BITS = 33
"""Reading timestamps fit in 33 bits (the store accepts them up to 2100, < 2**33)."""
_TS_LIMIT = (1 << _TS_BITS) - 1


def epoch_floor(at: datetime) -> int:
    """Whole epoch seconds at or before `at` (aware)."""
    return math.floor(at.timestamp())


@dataclass(frozen=True, slots=True)
class Interval:
    """One linkage seen from one side: `owner` (e.g. a meter id) linked to `target` (e.g. a
    usage point id) over (start, end] in epoch seconds, `end` = OPEN_END when open."""

    owner: int
    target: int
    start: int
    end: int

    @classmethod
    def of(
        cls, owner: int, target: int, valid_from: datetime, valid_to: datetime | None
    ) -> Interval:
        end = OPEN_END if valid_to is None else epoch_floor(valid_to)
        return cls(owner, target, epoch_floor(valid_from), int(end))


class IntervalIndex:
    """The intervals of many owners, for vectorized lookups of (owner, timestamp) pairs.

    Requires that the intervals of one owner do not overlap (true for meter -> usage point).
    """

    def __init__(self, intervals: Sequence[Interval]) -> None:
        owners = np.array([i.owner for i in intervals], dtype=np.int64)
        self._owners = np.unique(owners)
        local = np.searchsorted(self._owners, owners)
        starts = np.clip(np.array([i.start for i in intervals], dtype=np.int64), 0, _TS_LIMIT)
        keys = (local.astype(np.int64) << _TS_BITS) | starts
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._local = local[order]
        self._ends = np.array([i.end for i in intervals], dtype=np.int64)[order]
        self._targets = np.array([i.target for i in intervals], dtype=np.int64)[order]

    def interval_at(self, owners: Int64Array, timestamps: Int64Array) -> Int64Array:
        """The position of the interval valid at each (owner, timestamp), -1 where none is."""
        result = np.full(owners.shape[0], -1, dtype=np.int64)
        if not self._keys.shape[0] or not owners.shape[0]:
            return result
        local = np.searchsorted(self._owners, owners)
        known = local < self._owners.shape[0]
        known[known] = self._owners[local[known]] == owners[known]
        ts = np.clip(timestamps, 0, _TS_LIMIT)
        keys = (local.astype(np.int64) << _TS_BITS) | ts
        # The last interval of that owner starting strictly before ts (half-open start).
        pos = np.searchsorted(self._keys, keys, side="left") - 1
        hit = known & (pos >= 0)
        safe = np.where(hit, pos, 0)
        hit &= self._local[safe] == local
        hit &= timestamps <= self._ends[safe]
        result[hit] = safe[hit]
        return result

    def target_of(self, positions: Int64Array) -> Int64Array:
        """The targets of intervals found by `interval_at` (positions >= 0)."""
        return self._targets[positions]

    def lookup(self, owners: Int64Array, timestamps: Int64Array) -> Int64Array:
        """The target valid at each (owner, timestamp), 0 where none is."""
        at = self.interval_at(owners, timestamps)
        result = np.zeros(owners.shape[0], dtype=np.int64)
        found = at >= 0
        result[found] = self._targets[at[found]]
        return result


def targets_at(
    intervals: Sequence[Interval], timestamps: Int64Array
) -> tuple[Int64Array, Int64Array]:
    """For one owner whose intervals may overlap (a usage point with several meters): per
    timestamp the single target valid then (0 if none) and how many were valid."""
    target = np.zeros(timestamps.shape[0], dtype=np.int64)
    count = np.zeros(timestamps.shape[0], dtype=np.int64)
    for interval in intervals:
        valid = (timestamps > interval.start) & (timestamps <= interval.end)
        target[valid] = interval.target
        count += valid
    return target, count
