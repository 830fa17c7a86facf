"""Billing periods and billing cycles, in the utility's local time.

A billing period runs from one local midnight to another: (start, end] in UTC epoch terms,
which is exactly the store's half-open range (readings are stamped at the end of their
interval, DECISIONS.md "Time ranges"). A DST month therefore has one hour less or more.

A usage point's cycle is either a cycle day (the period labelled `2024-03` with cycle day 15
runs from 15 March to 15 April, local midnights; cycle day 1 is the calendar month; a day past
the month's end is clamped to its last day) or explicit periods (the period labelled `2024-03`
is the one that starts in March 2024). Cycles come from the `[cycles]` table of the billing
configuration file:

```toml
[cycles]
default_cycle_day = 1
[cycles.usage_points.UP-17]
cycle_day = 15
[cycles.usage_points.UP-18]
periods = [ { start = "2024-02-20", end = "2024-03-21" } ]
```
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cimmeter.billing.calendar import CalendarError, epoch, local_midnight

_LABEL = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """One billing period: local midnight `start` to local midnight `end` (aware datetimes)."""

    start: datetime
    end: datetime
    label: str = ""

    @property
    def start_epoch(self) -> int:
        return epoch(self.start)

    @property
    def end_epoch(self) -> int:
        return epoch(self.end)

    def intervals(self, seconds: int = 900) -> int:
        """Intervals of that length in the period (2976 in a 31-day month; 2972 or 2980 in a
        31-day month with a DST change)."""
        return (self.end_epoch - self.start_epoch) // seconds


def parse_label(label: str) -> tuple[int, int]:
    match = _LABEL.fullmatch(label)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CalendarError(f"billing period {label!r}: expected YYYY-MM, e.g. 2024-03")
    return int(match.group(1)), int(match.group(2))


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, _calendar.monthrange(year, month)[1]))


def cycle_day_period(label: str, cycle_day: int, zone: ZoneInfo) -> BillingPeriod:
    """The period labelled YYYY-MM of a cycle starting on `cycle_day` (see the module doc)."""
    if not 1 <= cycle_day <= 31:
        raise CalendarError(f"cycle day {cycle_day}: expected 1..31")
    year, month = parse_label(label)
    nyear, nmonth = (year + 1, 1) if month == 12 else (year, month + 1)
    first = _clamped(year, month, cycle_day)
    after = _clamped(nyear, nmonth, cycle_day)
    return BillingPeriod(local_midnight(first, zone), local_midnight(after, zone), label)


@dataclass(frozen=True, slots=True)
class BillingCycle:
    """A usage point's cycle: a cycle day, or explicit (start, end) local dates."""

    cycle_day: int = 1
    periods: tuple[tuple[date, date], ...] = ()

    def period(self, label: str, zone: ZoneInfo) -> BillingPeriod | None:
        """The period labelled YYYY-MM; None when explicit periods have none starting then."""
        if not self.periods:
            return cycle_day_period(label, self.cycle_day, zone)
        year, month = parse_label(label)
        for start, end in self.periods:
            if (start.year, start.month) == (year, month):
                return BillingPeriod(local_midnight(start, zone), local_midnight(end, zone), label)
        return None


@dataclass(frozen=True, slots=True)
class BillingCycles:
    """The cycle of every usage point: a default and exceptions by usage point mRID."""

    default: BillingCycle = field(default_factory=BillingCycle)
    by_usage_point: Mapping[str, BillingCycle] = field(default_factory=dict)

    def cycle_of(self, usage_point: str) -> BillingCycle:
        return self.by_usage_point.get(usage_point, self.default)


def cycles_from_mapping(data: Mapping[str, Any], *, source: str = "cycles") -> BillingCycles:
    """Cycles from the `[cycles]` table of a billing configuration (see the module doc)."""
    raw = data.get("cycles") or {}
    if not isinstance(raw, Mapping):
        raise CalendarError(f"{source}: cycles: expected a table")
    default = BillingCycle(
        _cycle_day(f"{source}: cycles.default_cycle_day", raw.get("default_cycle_day", 1))
    )
    by_up: dict[str, BillingCycle] = {}
    for mrid, spec in (raw.get("usage_points") or {}).items():
        where = f"{source}: cycles.usage_points.{mrid}"
        if not isinstance(spec, Mapping):
            raise CalendarError(f"{where}: expected a table with cycle_day or periods")
        periods: list[tuple[date, date]] = []
        for n, p in enumerate(spec.get("periods") or []):
            try:
                start, end = date.fromisoformat(str(p["start"])), date.fromisoformat(str(p["end"]))
            except (KeyError, TypeError, ValueError):
                raise CalendarError(
                    f'{where}.periods[{n}]: expected {{ start = "YYYY-MM-DD", end = "YYYY-MM-DD" }}'
                ) from None
            if end <= start:
                raise CalendarError(f"{where}.periods[{n}]: end {end} is not after start {start}")
            periods.append((start, end))
        by_up[str(mrid)] = BillingCycle(
            _cycle_day(f"{where}.cycle_day", spec.get("cycle_day", default.cycle_day)),
            tuple(sorted(periods)),
        )
    return BillingCycles(default, by_up)


def _cycle_day(where: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 31:
        raise CalendarError(f"{where}: expected a day of the month 1..31, got {value!r}")
    return value


__all__ = [
    "BillingCycle",
    "BillingCycles",
    "BillingPeriod",
    "cycle_day_period",
    "cycles_from_mapping",
    "parse_label",
]
