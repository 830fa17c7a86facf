"""Time ranges: precedence, half-open, refusals (DECISIONS.md, digest 6.3)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cimmeter.model.common import DateTimeInterval
from cimmeter.service.config import ServiceConfig
from cimmeter.service.errors import ErrorCodeTable, RequestFailed
from cimmeter.service.timeranges import TimeRange, candidates, resolve_ranges

CODES = ErrorCodeTable.load()
CONFIG = ServiceConfig(role="mdm", source="MDM", max_time_range=timedelta(days=31))
NOW = datetime(2026, 3, 10, tzinfo=UTC)
WIDE = ServiceConfig(role="mdm", source="MDM", max_time_range=timedelta(days=30))
D = [datetime(2026, 3, d, tzinfo=UTC) for d in range(1, 11)]


def _iv(start: datetime | None, end: datetime | None) -> DateTimeInterval:
    return DateTimeInterval(start=start, end=end)


def test_reading_time_period_wins_over_schedule_and_request() -> None:
    found = candidates(
        [(_iv(D[1], D[2]), "/Reading[1]/timePeriod")],
        [(_iv(D[3], D[4]), "/TimeSchedule[1]")],
        D[5],
        D[6],
    )
    assert [(c.start, c.end, c.path) for c in found] == [(D[1], D[2], "/Reading[1]/timePeriod")]


def test_schedule_wins_over_request_and_request_is_the_default() -> None:
    found = candidates([(None, "/Reading[1]")], [(_iv(D[3], D[4]), "/TimeSchedule[1]")], D[5], D[6])
    assert [(c.start, c.end) for c in found] == [(D[3], D[4])]
    fallback = candidates([], [], D[5], D[6])
    assert [(c.start, c.end) for c in fallback] == [(D[5], D[6])]
    assert candidates([], [], None, None) == []


def test_missing_end_is_now_and_missing_start_is_the_default_range_with_a_note() -> None:
    ranges, notes = resolve_ranges(
        candidates([], [], None, None), now=NOW, config=CONFIG, codes=CODES
    )
    assert ranges == [TimeRange(NOW - timedelta(days=1), NOW)]
    assert [n.code for n in notes] == ["2.13"]
    ranges, notes = resolve_ranges(
        candidates([], [], D[2], None), now=NOW, config=CONFIG, codes=CODES
    )
    assert ranges == [TimeRange(D[2], NOW)] and notes == []


def test_end_before_start_is_refused_with_a_specific_error() -> None:
    with pytest.raises(RequestFailed) as info:
        resolve_ranges(candidates([], [], D[5], D[4]), now=NOW, config=CONFIG, codes=CODES)
    (error,) = info.value.errors
    assert error.code == "2.6"
    assert error.details is not None and "before start" in error.details


def test_a_range_beyond_the_limit_is_refused() -> None:
    start = NOW - timedelta(days=40)
    with pytest.raises(RequestFailed) as info:
        resolve_ranges(candidates([], [], start, NOW), now=NOW, config=CONFIG, codes=CODES)
    assert info.value.errors[0].code == "2.7"


def test_overlapping_ranges_are_merged_and_ranges_are_half_open() -> None:
    ranges, _ = resolve_ranges(
        candidates(
            [
                (_iv(D[3], D[5]), "/Reading[1]/timePeriod"),
                (_iv(D[1], D[3]), "/Reading[2]/timePeriod"),
                (_iv(D[7], D[8]), "/Reading[3]/timePeriod"),
            ],
            [],
            None,
            None,
        ),
        now=NOW,
        config=CONFIG,
        codes=CODES,
    )
    assert ranges == [TimeRange(D[1], D[5]), TimeRange(D[7], D[8])]
    assert not ranges[0].contains(D[1]) and ranges[0].contains(D[5])


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 50)), min_size=1, max_size=8))
def test_merged_ranges_are_disjoint_and_cover_exactly_the_union(
    spans: list[tuple[int, int]],
) -> None:
    hour = timedelta(hours=1)
    sources = [
        (_iv(D[0] + start * hour, D[0] + (start + length) * hour), f"/Reading[{n}]/timePeriod")
        for n, (start, length) in enumerate(spans, start=1)
    ]
    ranges, _ = resolve_ranges(
        candidates(sources, [], None, None), now=NOW, config=WIDE, codes=CODES
    )
    assert all(a.end < b.start for a, b in itertools.pairwise(ranges))
    for probe in range(0, 260):
        at = D[0] + probe * hour + timedelta(minutes=30)
        inside = any(s < probe + 0.5 <= s + length for s, length in spans)
        assert any(r.contains(at) for r in ranges) == inside
