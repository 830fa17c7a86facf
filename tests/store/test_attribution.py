"""Vectorized attribution against the plain definition (Linkage.valid_at), by hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.store.attribution import Interval, IntervalIndex, targets_at
from cimmeter.store.ingest import attribute_blocks
from cimmeter.store.records import Linkage, LinkageKind

BASE = 1_767_225_600  # 2026-01-01


@st.composite
def meter_linkages(draw: st.DrawFn) -> list[tuple[int, int, int | None]]:
    """Disjoint (from, to] intervals of one meter, as (start, end or None, target)."""
    cuts = sorted(draw(st.lists(st.integers(0, 200), min_size=0, max_size=8, unique=True)))
    spans = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        spans.append((a, b, draw(st.integers(1, 5))))
    if len(cuts) % 2 and draw(st.booleans()):
        spans.append((cuts[-1], None, draw(st.integers(1, 5))))
    return [(BASE + 900 * a, None if b is None else BASE + 900 * b, t) for a, b, t in spans]


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def expected(links: list[tuple[int, int | None, int]], ts: int) -> int:
    for start, end, target in links:
        linkage = Linkage(
            LinkageKind.METER_USAGE_POINT, "m", "u", at(start), None if end is None else at(end)
        )
        if linkage.valid_at(at(ts)):
            return target
    return 0


@settings(max_examples=300, deadline=None)
@given(
    meters=st.lists(meter_linkages(), min_size=1, max_size=4),
    stamps=st.lists(st.lists(st.integers(0, 210), max_size=30), min_size=1, max_size=6),
    data=st.data(),
)
def test_attribute_blocks_matches_valid_at(
    meters: list[list[tuple[int, int | None, int]]],
    stamps: list[list[int]],
    data: st.DataObject,
) -> None:
    intervals = [
        Interval.of(m + 1, target, at(start), None if end is None else at(end))
        for m, links in enumerate(meters)
        for start, end, target in links
    ]
    index = IntervalIndex(intervals)
    block_meter = np.array([data.draw(st.integers(0, len(meters))) for _ in stamps], dtype=np.int64)
    lengths = np.array([len(s) for s in stamps], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    ts = np.array([BASE + 900 * t for s in stamps for t in s], dtype=np.int64)
    rows = np.repeat(block_meter != 0, lengths)
    got = attribute_blocks(index, block_meter, lengths, offsets, ts, rows)
    want = [
        expected(meters[int(block_meter[b]) - 1], int(ts[r])) if block_meter[b] else 0
        for b in range(len(stamps))
        for r in range(int(offsets[b]), int(offsets[b + 1]))
    ]
    assert got.tolist() == want


@given(links=meter_linkages(), stamps=st.lists(st.integers(0, 210), max_size=40))
def test_targets_at_counts_overlaps(
    links: list[tuple[int, int | None, int]], stamps: list[int]
) -> None:
    intervals = [Interval.of(1, t, at(a), None if b is None else at(b)) for a, b, t in links] + [
        Interval.of(1, 99, at(BASE + 900 * 50), at(BASE + 900 * 60))
    ]
    ts = np.array([BASE + 900 * s for s in stamps], dtype=np.int64)
    target, count = targets_at(intervals, ts)
    for i, t in enumerate(ts.tolist()):
        valid = [iv.target for iv in intervals if iv.start < t <= iv.end]
        assert count[i] == len(valid)
        if len(valid) == 1:
            assert target[i] == valid[0]
