"""ESPI vocabulary: namespaces, ReadingType <-> ESPI fields, quality codes, DST rules.

ESPI (NAESB REQ.21) carries the same numeric codes as the 61968-9 ReadingType, as separate
elements instead of one dotted string (digest 5.1.15); the mapping is a table here. Quality is
where the two differ: ESPI's `QualityOfReading` is one flat list, 61968-9's ReadingQualityType
is `system.category.subCategory` (digest 5.3). `LocalTimeParameters` describes the zone's DST
rules as bit-encoded rules (ESPI `DstRuleType`), computed here from zoneinfo.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cimmeter.billing.determinants import MEASURING_PERIOD_SECONDS
from cimmeter.codes import ReadingType

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"

RT_FIELDS: tuple[tuple[str, str], ...] = (
    # (ESPI element in schema order, ReadingType attribute); intervalLength, interharmonic and
    # argument are written separately (see `reading_type_fields`).
    ("accumulationBehaviour", "accumulation"),
    ("commodity", "commodity"),
    ("consumptionTier", "consumption_tier"),
    ("currency", "currency"),
    ("dataQualifier", "aggregate"),
    ("flowDirection", "flow_direction"),
    ("intervalLength", ""),
    ("kind", "measurement_kind"),
    ("phase", "phases"),
    ("powerOfTenMultiplier", "multiplier"),
    ("timeAttribute", "macro_period"),
    ("tou", "tou"),
    ("uom", "unit"),
    ("cpp", "cpp"),
    ("interharmonic", ""),
    ("measuringPeriod", "measuring_period"),
    ("argument", ""),
)
_SECONDS_TO_PERIOD = {s: code for code, s in MEASURING_PERIOD_SECONDS.items()}


def interval_seconds(rt: ReadingType) -> int:
    """The interval length of a ReadingType in seconds (0 when it names none)."""
    return MEASURING_PERIOD_SECONDS.get(rt.measuring_period, 0)


def reading_type_fields(rt: ReadingType) -> list[tuple[str, int | tuple[int, int]]]:
    """ESPI ReadingType children in schema order: (element, number or (numerator, denom))."""
    out: list[tuple[str, int | tuple[int, int]]] = []
    for element, attr in RT_FIELDS:
        if element == "intervalLength":
            seconds = interval_seconds(rt)
            if seconds:
                out.append((element, seconds))
        elif element == "interharmonic":
            pair = (rt.interharmonic_numerator, rt.interharmonic_denominator)
            if pair != (0, 0):
                out.append((element, pair))
        elif element == "argument":
            pair = (rt.argument_numerator, rt.argument_denominator)
            if pair != (0, 0):
                out.append((element, pair))
        else:
            out.append((element, int(getattr(rt, attr))))
    return out


def reading_type_from_espi(fields: Mapping[str, int | tuple[int, int]]) -> ReadingType:
    """A 61968-9 ReadingType from ESPI fields (digest 5.1.15): absent fields are 0; without
    `measuringPeriod`, it is derived from `intervalLength` (900 -> fifteenMinute)."""

    def number(name: str) -> int:
        value = fields.get(name, 0)
        return value if isinstance(value, int) else 0

    def pair(name: str) -> tuple[int, int]:
        value = fields.get(name, (0, 0))
        return value if isinstance(value, tuple) else (0, 0)

    measuring = number("measuringPeriod")
    if "measuringPeriod" not in fields:
        measuring = _SECONDS_TO_PERIOD.get(number("intervalLength"), 0)
    harmonic, argument = pair("interharmonic"), pair("argument")
    values = {attr: number(element) for element, attr in RT_FIELDS if attr}
    values["measuring_period"] = measuring
    return ReadingType(
        **values,
        interharmonic_numerator=harmonic[0],
        interharmonic_denominator=harmonic[1],
        argument_numerator=argument[0],
        argument_denominator=argument[1],
    )


# -- quality -------------------------------------------------------------------------------------

_CATEGORY_TO_ESPI = {6: 10, 7: 7, 8: 8, 10: 10, 11: 11, 12: 12}
"""61968-9 category -> ESPI QualityOfReading (failed validation is "questionable" in ESPI)."""
ESPI_OTHER = 16
_ESPI_TO_CODE = {7: "3.7.0", 8: "3.8.0", 9: "3.8.0", 10: "3.10.0", 11: "3.11.0", 12: "3.12.0",
                 17: "3.0.1"}  # fmt: skip
"""ESPI QualityOfReading -> 61968-9 code (ESPI qualities are the MDM's: system 3). Others are
kept as system 5 "externally specified" (digest 5.3.1): `5.<ESPI code>.0`."""


def espi_qualities(codes: Iterable[str]) -> tuple[int, ...]:
    """ESPI QualityOfReading values of a 61968-9 quality set (valid gives none; device and
    head-end conditions without an ESPI equivalent give 16 "other")."""
    out: set[int] = set()
    for code in codes:
        parts = code.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        system, category, sub = (int(p) for p in parts)
        if system == 5:
            out.add(category)
        elif category == 0:
            if sub == 1:
                out.add(17)  # validated
        else:
            out.add(_CATEGORY_TO_ESPI.get(category, ESPI_OTHER))
    return tuple(sorted(out))


def quality_codes(espi: Iterable[int]) -> tuple[str, ...]:
    """61968-9 quality codes of ESPI QualityOfReading values (0 = valid gives none)."""
    return tuple(sorted({_ESPI_TO_CODE.get(q, f"5.{q}.0") for q in espi if q != 0}))


# -- LocalTimeParameters --------------------------------------------------------------------------

NO_DST = "FFFFFFFF"


@dataclass(frozen=True, slots=True)
class TimeParameters:
    """ESPI LocalTimeParameters: standard offset, DST offset and the two DST rules."""

    tz_offset: int
    dst_offset: int
    dst_start_rule: str
    dst_end_rule: str


def _transitions(zone: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants in `year` at which the zone's offset changes (found hour by hour, then to
    the quarter hour)."""
    out: list[datetime] = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    previous = t.astimezone(zone).utcoffset()
    while t < end:
        nxt = t + timedelta(hours=1)
        offset = nxt.astimezone(zone).utcoffset()
        if offset != previous:
            q = t
            while q.astimezone(zone).utcoffset() == previous:
                q += timedelta(minutes=15)
            out.append(q)
            previous = offset
        t = nxt
    return out


def _rule(local: datetime) -> str:
    """ESPI DstRuleType bits for a transition at `local` wall time (before the change): the
    nth (operator 2-6) or last (7) weekday of the month, at that time of day."""
    days_in_month = _calendar.monthrange(local.year, local.month)[1]
    occurrence = (local.day - 1) // 7 + 1
    operator = 7 if local.day + 7 > days_in_month else occurrence + 1
    seconds = local.minute * 60 + local.second
    value = (
        (local.month << 28)
        | (operator << 25)
        | ((local.weekday() + 1) << 17)  # Monday = 1
        | (local.hour << 12)
        | seconds
    )
    return f"{value:08X}"


def time_parameters(zone: ZoneInfo, year: int) -> TimeParameters:
    """The zone's LocalTimeParameters as they hold in `year`."""
    changes = _transitions(zone, year)
    jan = datetime(year, 1, 15, tzinfo=UTC).astimezone(zone)
    jul = datetime(year, 7, 15, tzinfo=UTC).astimezone(zone)
    std = min(jan.utcoffset() or timedelta(0), jul.utcoffset() or timedelta(0))
    dst = max(jan.utcoffset() or timedelta(0), jul.utcoffset() or timedelta(0))
    if len(changes) != 2 or std == dst:
        return TimeParameters(int(std.total_seconds()), 0, NO_DST, NO_DST)
    starts = [c for c in changes if (c.astimezone(zone).utcoffset() or std) == dst]
    ends = [c for c in changes if c not in starts]
    # The rule's time is the wall-clock time just before the change (02:00 EST, 03:00 CEST).
    before_start = (starts[0] - timedelta(seconds=1)).astimezone(zone) + timedelta(seconds=1)
    before_end = (ends[0] - timedelta(seconds=1)).astimezone(zone) + timedelta(seconds=1)
    return TimeParameters(
        int(std.total_seconds()),
        int((dst - std).total_seconds()),
        _rule(before_start),
        _rule(before_end),
    )


def decode_rule(rule: str) -> dict[str, int]:
    """The fields of an ESPI DstRuleType (for tests and display)."""
    value = int(rule, 16)
    return {
        "month": value >> 28,
        "operator": (value >> 25) & 7,
        "day_of_month": (value >> 20) & 0x1F,
        "day_of_week": (value >> 17) & 7,
        "hour": (value >> 12) & 0x1F,
        "seconds": value & 0xFFF,
    }


__all__ = [
    "ATOM",
    "ESPI",
    "NO_DST",
    "TimeParameters",
    "decode_rule",
    "espi_qualities",
    "interval_seconds",
    "quality_codes",
    "reading_type_fields",
    "reading_type_from_espi",
    "time_parameters",
]
