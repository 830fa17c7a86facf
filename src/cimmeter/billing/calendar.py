"""The time-of-use calendar as data, and where each instant falls in it.

A utility's tariff says, per season and type of day, which TOU period (on-peak, off-peak, ...)
each local time of day belongs to. That is data, not code (STYLE.md "tables are data"): it is
read from a TOML or JSON file (`load_calendar`), for example

```toml
timezone = "America/New_York"
weekend = ["saturday", "sunday"]

[periods]            # name -> ReadingType tou number (digest 5.1.10: 1 = rate A, 2 = rate B)
on_peak = 1
off_peak = 2

[[seasons]]
name = "summer"
start = "06-01"      # MM-DD, inclusive; a season may wrap the new year (start > end)
end = "09-30"
weekday = { "00:00" = "off_peak", "14:00" = "on_peak", "19:00" = "off_peak" }
weekend = { "00:00" = "off_peak" }
holiday = { "00:00" = "off_peak" }

[holidays]
2024 = ["2024-01-01", "2024-07-04", "2024-12-25"]
```

Each instant is placed by the *local* wall-clock time at which its interval starts (an
interval's timestamp is its end, digest 3.1). Classification is vectorized: `TouGrid` computes
the period of every 5-minute slot of a billing period once, and readings look their slot up.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

DAY_TYPES = ("weekday", "weekend", "holiday")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLOT_SECONDS = 300
"""Resolution of the TOU grid: every TOU boundary and every interval start of 5, 10, 15, 20,
30 and 60-minute data falls on a 5-minute slot."""


class CalendarError(ValueError):
    """A TOU calendar or billing configuration that cannot be used: says where and why."""


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """Which TOU period applies from each local time of day (switch points, ascending)."""

    starts: tuple[int, ...]
    """Seconds after local midnight at which a period begins; the first is 0."""
    periods: tuple[int, ...]
    """Index into `TouCalendar.period_names` per switch point."""

    def period_at(self, seconds: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        pos = np.searchsorted(np.asarray(self.starts, dtype=np.int64), seconds, side="right") - 1
        return np.asarray(self.periods, dtype=np.int64)[pos]


@dataclass(frozen=True, slots=True)
class Season:
    name: str
    start: tuple[int, int]
    """(month, day), inclusive."""
    end: tuple[int, int]
    """(month, day), inclusive; before `start` when the season wraps the new year."""
    days: Mapping[str, DaySchedule]
    """Schedule per day type (`weekday`, `weekend`, `holiday`)."""

    def contains(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


@dataclass(frozen=True, slots=True)
class TouCalendar:
    """Seasons, day types, TOU periods and holidays, in one time zone."""

    timezone: str
    period_names: tuple[str, ...]
    period_tou: tuple[int, ...]
    """The ReadingType `tou` number of each period (same order as `period_names`)."""
    seasons: tuple[Season, ...]
    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    """Weekday numbers (Monday = 0) that are weekend days."""
    holiday_years: frozenset[int] = frozenset()
    """Years the holiday list covers (a year absent from the file has no holidays known)."""
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {self.timezone!r}: {exc}") from None

    def season_of(self, day: date) -> Season:
        for season in self.seasons:
            if season.contains(day):
                return season
        raise CalendarError(f"no season of the calendar contains {day.isoformat()}")

    def day_type(self, day: date) -> str:
        if day in self.holidays:
            return "holiday"
        return "weekend" if day.weekday() in self.weekend else "weekday"

    def schedule(self, day: date) -> DaySchedule:
        season = self.season_of(day)
        kind = self.day_type(day)
        # A season without a holiday schedule bills holidays as weekend days.
        return season.days.get(kind) or season.days["weekend" if kind == "holiday" else kind]

    def period_index(self, name: str) -> int:
        try:
            return self.period_names.index(name)
        except ValueError:
            raise CalendarError(f"unknown TOU period {name!r}") from None

    def period_at(self, at: datetime) -> str:
        """The TOU period of one aware instant (its local wall-clock time); for display/tests."""
        local = at.astimezone(self.zone)
        seconds = np.array([local.hour * 3600 + local.minute * 60 + local.second], np.int64)
        return self.period_names[int(self.schedule(local.date()).period_at(seconds)[0])]


# -- local days -----------------------------------------------------------------------------------


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Aware local midnight that starts `day` (zones that skip midnight are not supported)."""
    return datetime.combine(day, time(0), tzinfo=zone)


def epoch(at: datetime) -> int:
    if at.tzinfo is None:
        raise CalendarError(f"naive datetime {at!r}: give a time zone")
    return int(at.astimezone(UTC).timestamp())


@dataclass(frozen=True, slots=True)
class LocalDay:
    day: date
    start: int
    """UTC epoch seconds of local midnight (exclusive bound: readings with timestamp > start)."""
    end: int
    """UTC epoch seconds of the next local midnight (inclusive bound)."""

    def intervals(self, seconds: int = 900) -> int:
        """How many intervals the day has: 96 quarter hours, 92 or 100 on DST days."""
        return (self.end - self.start) // seconds


def local_days(first: date, last: date, zone: ZoneInfo) -> list[LocalDay]:
    """The local days from `first` to `last` inclusive, with their UTC bounds."""
    out: list[LocalDay] = []
    day = first
    start = epoch(local_midnight(day, zone))
    while day <= last:
        nxt = day + timedelta(days=1)
        end = epoch(local_midnight(nxt, zone))
        out.append(LocalDay(day, start, end))
        day, start = nxt, end
    return out


@dataclass(frozen=True, slots=True)
class TouGrid:
    """The TOU period (and local day) of every 5-minute slot of a UTC range (start, end].

    Built once per billing period and shared by every usage point, so classification of a
    reading is one array lookup (`period_of`).
    """

    start: int
    end: int
    periods: npt.NDArray[np.int64]
    """TOU period index per slot (slot k covers (start + k*300, start + (k+1)*300])."""
    day_index: npt.NDArray[np.int64]
    """Index into `days` per slot."""
    days: tuple[LocalDay, ...]

    @classmethod
    def build(cls, calendar: TouCalendar, start: datetime, end: datetime) -> TouGrid:
        lo, hi = epoch(start), epoch(end)
        if hi <= lo:
            raise CalendarError(f"empty range {start.isoformat()} .. {end.isoformat()}")
        zone = calendar.zone
        first = start.astimezone(zone).date()
        last = (end - timedelta(seconds=1)).astimezone(zone).date()
        days = local_days(first, last, zone)
        n = -(-(hi - lo) // SLOT_SECONDS)
        slot_starts = lo + SLOT_SECONDS * np.arange(n, dtype=np.int64)
        day_starts = np.array([d.start for d in days], dtype=np.int64)
        day_index = np.searchsorted(day_starts, slot_starts, side="right") - 1
        periods = np.empty(n, dtype=np.int64)
        for i, d in enumerate(days):
            sel = day_index == i
            if not sel.any():
                continue
            # Local wall-clock seconds after midnight: the UTC offset of each slot, from the
            # zone (a DST day changes it once, so compute it per slot from the day's offsets).
            wall = _wall_seconds(slot_starts[sel], d, zone)
            periods[sel] = calendar.schedule(d.day).period_at(wall)
        return cls(lo, hi, periods, day_index, tuple(days))

    def slot_of(self, interval_starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.clip((interval_starts - self.start) // SLOT_SECONDS, 0, len(self.periods) - 1)

    def period_of(self, interval_starts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """TOU period index of intervals starting at these UTC epoch seconds."""
        return self.periods[self.slot_of(interval_starts)]


def _wall_seconds(
    utc: npt.NDArray[np.int64], day: LocalDay, zone: ZoneInfo
) -> npt.NDArray[np.int64]:
    """Local wall-clock seconds after midnight of UTC instants inside one local day."""
    # The offset changes at most at a few instants a day, always on a quarter hour: evaluate
    # the zone once per distinct quarter hour, not per slot.
    quarters = utc // 900
    unique, inverse = np.unique(quarters, return_inverse=True)
    offsets = np.array([_offset(int(q) * 900, zone) for q in unique], dtype=np.int64)[inverse]
    midnight_wall = day.start + _offset(day.start, zone)
    return utc + offsets - midnight_wall


def _offset(utc: int, zone: ZoneInfo) -> int:
    """The zone's UTC offset in seconds at a UTC epoch second."""
    delta = datetime.fromtimestamp(utc, UTC).astimezone(zone).utcoffset()
    assert delta is not None  # a ZoneInfo always has an offset
    return int(delta.total_seconds())


# -- loading ------------------------------------------------------------------------------------


def load_calendar(path: str | Path) -> TouCalendar:
    """A calendar from a TOML (`.toml`) or JSON file; `CalendarError` says what is wrong where."""
    return calendar_from_mapping(read_config(path), source=str(path))


def read_config(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise CalendarError(f"{p}: cannot read: {exc.strerror}") from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CalendarError(
            f"{p}: not valid {'JSON' if p.suffix == '.json' else 'TOML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise CalendarError(f"{p}: expected a table at the top level")
    return data


def calendar_from_mapping(data: Mapping[str, Any], *, source: str = "calendar") -> TouCalendar:
    """A calendar from parsed TOML/JSON (see the module docstring for the layout)."""
    timezone = data.get("timezone", "UTC")
    if not isinstance(timezone, str):
        raise CalendarError(f"{source}: timezone: expected a zone name such as 'Europe/Berlin'")
    raw_periods = data.get("periods") or {"all": 0}
    if not isinstance(raw_periods, Mapping) or not raw_periods:
        raise CalendarError(f"{source}: periods: expected a table name = tou number")
    names = tuple(str(k) for k in raw_periods)
    tous: list[int] = []
    for name in names:
        value = raw_periods[name]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
            raise CalendarError(
                f"{source}: periods.{name}: expected a ReadingType tou number 0..65535, "
                f"got {value!r}"
            )
        tous.append(value)
    weekend = frozenset(_weekday(source, w) for w in data.get("weekend", ["saturday", "sunday"]))
    raw_seasons = data.get("seasons")
    if raw_seasons is None:
        only = names[0]
        raw_seasons = [
            {
                "name": "all-year",
                "start": "01-01",
                "end": "12-31",
                "weekday": {"00:00": only},
                "weekend": {"00:00": only},
            }
        ]
    if not isinstance(raw_seasons, Sequence) or not raw_seasons:
        raise CalendarError(f"{source}: seasons: expected a list of seasons")
    seasons = tuple(_season(f"{source}: seasons[{i}]", s, names) for i, s in enumerate(raw_seasons))
    holidays: set[date] = set()
    years: set[int] = set()
    for year, days in (data.get("holidays") or {}).items():
        where = f"{source}: holidays.{year}"
        try:
            years.add(int(year))
        except ValueError:
            raise CalendarError(f"{where}: expected a year as the key") from None
        for text in days:
            try:
                holidays.add(date.fromisoformat(str(text)))
            except ValueError:
                raise CalendarError(f"{where}: {text!r} is not a date YYYY-MM-DD") from None
    calendar = TouCalendar(
        timezone, names, tuple(tous), seasons, frozenset(holidays), weekend, frozenset(years)
    )
    _check_coverage(calendar, source)
    return calendar


def _weekday(source: str, value: object) -> int:
    text = str(value).lower()
    if text not in _WEEKDAYS:
        raise CalendarError(f"{source}: weekend: {value!r} is not a weekday name")
    return _WEEKDAYS.index(text)


def _month_day(where: str, value: object) -> tuple[int, int]:
    try:
        month, day = (int(p) for p in str(value).split("-"))
        date(2024, month, day)  # 2024 is a leap year: 02-29 is allowed
    except ValueError:
        raise CalendarError(f"{where}: {value!r} is not a month-day MM-DD") from None
    return month, day


def _season(where: str, raw: Any, names: tuple[str, ...]) -> Season:
    if not isinstance(raw, Mapping):
        raise CalendarError(f"{where}: expected a table")
    days: dict[str, DaySchedule] = {}
    for kind in DAY_TYPES:
        if kind in raw:
            days[kind] = _day_schedule(f"{where}.{kind}", raw[kind], names)
    for needed in ("weekday", "weekend"):
        if needed not in days:
            raise CalendarError(f"{where}: no {needed} schedule")
    return Season(
        str(raw.get("name", where)),
        _month_day(f"{where}.start", raw.get("start", "01-01")),
        _month_day(f"{where}.end", raw.get("end", "12-31")),
        days,
    )


def _day_schedule(where: str, raw: Any, names: tuple[str, ...]) -> DaySchedule:
    if not isinstance(raw, Mapping) or not raw:
        raise CalendarError(f'{where}: expected a table "HH:MM" = period name')
    points: list[tuple[int, int]] = []
    for clock, name in raw.items():
        try:
            t = time.fromisoformat(str(clock))
        except ValueError:
            raise CalendarError(f"{where}: {clock!r} is not a time HH:MM") from None
        if name not in names:
            raise CalendarError(f"{where}.{clock}: unknown period {name!r}; known: {names}")
        points.append((t.hour * 3600 + t.minute * 60 + t.second, names.index(name)))
    points.sort()
    if points[0][0] != 0:
        raise CalendarError(f"{where}: the first switch point must be 00:00")
    return DaySchedule(tuple(p[0] for p in points), tuple(p[1] for p in points))


def _check_coverage(calendar: TouCalendar, source: str) -> None:
    """Every day of a (leap) year must fall in a season: a gap would fail at billing time."""
    day = date(2024, 1, 1)
    while day.year == 2024:
        if not any(s.contains(day) for s in calendar.seasons):
            raise CalendarError(f"{source}: no season contains {day.strftime('%m-%d')}")
        day += timedelta(days=1)


__all__ = [
    "SLOT_SECONDS",
    "CalendarError",
    "DaySchedule",
    "LocalDay",
    "Season",
    "TouCalendar",
    "TouGrid",
    "calendar_from_mapping",
    "epoch",
    "load_calendar",
    "local_days",
    "local_midnight",
    "read_config",
]
