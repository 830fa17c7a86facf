"""Time ranges of requests: where they come from, and what is refused (DECISIONS.md, digest 6.3).

A range is half-open, (start, end], which fits `timeStamp` = end of interval. A query can give
ranges in three places; the first that is present wins: the query profile's `Reading/timePeriod`
(several allowed), then its `TimeSchedule/scheduleInterval`, then the Request's
`StartTime`/`EndTime` (digest 6.3: the profile filter is authoritative, the envelope pair a
default).

A missing end is "now" (the clock handed in); a missing start is the end minus
`ServiceConfig.default_time_range`, reported with an INFORM error. An end before its start gets
`invalid-time-range`; a range longer than `ServiceConfig.max_time_range` gets
`time-range-too-long`. Both fail the whole request: the ranges are its parameters, not items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cimmeter.message.envelope import Error
from cimmeter.model.common import DateTimeInterval
from cimmeter.service.config import ServiceConfig
from cimmeter.service.errors import ErrorCodeTable, Problem, RequestFailed


@dataclass(frozen=True, slots=True)
class TimeRange:
    """(start, end]: `start < t <= end`."""

    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start < at <= self.end


@dataclass(frozen=True, slots=True)
class RangeSource:
    """One range as the request gave it, and where (for error details)."""

    start: datetime | None
    end: datetime | None
    path: str


def candidates(
    reading_periods: Sequence[tuple[DateTimeInterval | None, str]],
    schedules: Sequence[tuple[DateTimeInterval | None, str]],
    request_start: datetime | None,
    request_end: datetime | None,
) -> list[RangeSource]:
    """The ranges that apply, by the precedence rule (module docstring)."""
    for group in (reading_periods, schedules):
        found = [
            RangeSource(interval.start, interval.end, path)
            for interval, path in group
            if interval is not None and (interval.start or interval.end)
        ]
        if found:
            return found
    if request_start is not None or request_end is not None:
        return [RangeSource(request_start, request_end, "/Request/StartTime")]
    return []


def resolve_ranges(
    sources: Sequence[RangeSource],
    *,
    now: datetime,
    config: ServiceConfig,
    codes: ErrorCodeTable,
) -> tuple[list[TimeRange], list[Error]]:
    """Complete and check the ranges. Returns the ranges and INFORM notes; raises
    `RequestFailed` for a reversed or too long range. No source at all: one default range
    ending now."""
    if not sources:
        sources = [RangeSource(None, None, "/Request")]
    ranges: list[TimeRange] = []
    notes: list[Error] = []
    for source in sources:
        end = source.end or now
        start = source.start
        if start is None:
            start = end - config.default_time_range
            notes.append(
                codes.error(
                    Problem.TIME_RANGE_ASSUMED,
                    f"no start given; readings in ({start.isoformat()}, {end.isoformat()}]",
                    path=source.path,
                )
            )
        if end < start:
            raise RequestFailed(
                codes.error(
                    Problem.INVALID_TIME_RANGE,
                    f"end {end.isoformat()} is before start {start.isoformat()}",
                    path=source.path,
                )
            )
        if end - start > config.max_time_range:
            raise RequestFailed(
                codes.error(
                    Problem.TIME_RANGE_TOO_LONG,
                    f"({start.isoformat()}, {end.isoformat()}] spans {end - start}; "
                    f"this service answers at most {config.max_time_range} per range",
                    path=source.path,
                )
            )
        ranges.append(TimeRange(start, end))
    return _merge(ranges), notes


def _merge(ranges: list[TimeRange]) -> list[TimeRange]:
    """Overlapping or touching ranges joined, so that no reading is returned twice."""
    merged: list[TimeRange] = []
    for r in sorted(ranges, key=lambda r: (r.start, r.end)):
        if merged and r.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = TimeRange(last.start, max(last.end, r.end))
        else:
            merged.append(r)
    return merged


__all__ = ["RangeSource", "TimeRange", "candidates", "resolve_ranges"]
