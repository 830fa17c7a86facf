"""Determinants as 61968-9 data: register Readings with billing-period ReadingTypes.

A CIS asks for billing determinants with the standard's own message, `get MeterReadings` with
the ReadingTypes below (digest 5.1), and gets `Readings` (not interval blocks) of the usage
point, one per billing period, with `timePeriod` = the billing period, `reason` = billing and
the ReadingQualities that say how it was made:

- energy delivered / received / net: macroPeriod 8 billingPeriod, accumulation 4 deltaData,
  flowDirection 1 / 19 / 4, the commodity of the interval series, measurementKind 12 energy,
  kWh (`8.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0`);
- energy per TOU period: the delivered type with `tou` = the period's number;
- maximum demand: macroPeriod 8, aggregate 8 maximum, measuringPeriod fixedBlock<n>Min or
  rollingBlock... of the demand window, accumulation 12, flow 1, measurementKind 8 demand, kW
  (digest 5.1.17's worked example, `8.8.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0`); per TOU period
  with `tou`;
- coincident demand: the same with aggregate 0 none (**M**: no AggregateKind says
  "coincident"; aggregate none tells it from the maximum).

Energy readings are stamped at the end of the billing period; demand readings at the end of the
window where the maximum (or the system peak) occurred. Every determinant carries `3.11.0`
(MDM: derived); `3.8.0` when an interval under it was estimated, `3.7.0` when one was edited,
`3.10.0` (questionable) when intervals were missing. The counts themselves are in the
determinants' JSON (`cimmeter billing run --json`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from cimmeter.billing.determinants import (
    BillingConfig,
    Determinants,
    billing_config_from_mapping,
    load_billing_config,
    run_billing,
)
from cimmeter.billing.periods import BillingPeriod
from cimmeter.codes import CodeError, ReadingType
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock, encode_qualities
from cimmeter.store.base import ReadingQuery, ReadSeries, StoreReader

BILLING_PERIOD = 8
_MAXIMUM = 8
_DEMAND, _ENERGY = 8, 12
_DELTA, _INSTANTANEOUS = 4, 12
_FLOW = {"delivered": 1, "received": 19, "net": 4}

_FIXED_BLOCK = {3600: 50, 1800: 51, 1200: 52, 900: 53, 600: 54, 300: 55, 60: 56}
"""Demand window seconds -> measuringPeriod fixedBlock<n>Min (digest 5.1.3)."""
_ROLLING_BLOCK = {
    (3600, 1800): 57, (3600, 1200): 58, (3600, 900): 59, (3600, 720): 60, (3600, 600): 61,
    (3600, 360): 62, (3600, 300): 63, (3600, 240): 64, (1800, 900): 65, (1800, 600): 66,
    (1800, 360): 67, (1800, 300): 68, (1800, 180): 69, (1800, 120): 70, (900, 300): 71,
    (900, 180): 72, (900, 60): 73, (600, 300): 74, (600, 120): 75, (600, 60): 76, (300, 60): 77,
}  # fmt: skip
"""(window, step) seconds -> measuringPeriod rollingBlock... (digest 5.1.3)."""


def _window_code(window: int, step: int) -> int:
    code = _FIXED_BLOCK.get(window) if step == window else _ROLLING_BLOCK.get((window, step))
    return 0 if code is None else code  # an unusual window: measuringPeriod none


def energy_type(flow: str, *, tou: int = 0, commodity: int = 1) -> str:
    """The billing-period energy ReadingType of a flow (and TOU period)."""
    return str(
        ReadingType(
            macro_period=BILLING_PERIOD,
            accumulation=_DELTA,
            flow_direction=_FLOW[flow],
            commodity=commodity,
            measurement_kind=_ENERGY,
            tou=tou,
            multiplier=3,
            unit=72,
        )
    )


def demand_type(
    window: int, step: int, *, tou: int = 0, coincident: bool = False, commodity: int = 1
) -> str:
    """The billing-period maximum (or coincident) demand ReadingType."""
    return str(
        ReadingType(
            macro_period=BILLING_PERIOD,
            aggregate=0 if coincident else _MAXIMUM,
            measuring_period=_window_code(window, step),
            accumulation=_INSTANTANEOUS,
            flow_direction=1,
            commodity=commodity,
            measurement_kind=_DEMAND,
            tou=tou,
            multiplier=3,
            unit=38,
        )
    )


def is_billing_type(code: str) -> bool:
    """True for a ReadingType this module computes (macroPeriod billingPeriod)."""
    try:
        return ReadingType.parse(code).macro_period == BILLING_PERIOD
    except CodeError:
        return False


@dataclass(frozen=True, slots=True)
class _Row:
    reading_type: str
    at: int
    value: float
    qualities: tuple[str, ...]
    period: BillingPeriod
    usage_point: str


def _quality(d: Determinants) -> tuple[str, ...]:
    codes = ["3.11.0"]
    if d.estimated:
        codes.append("3.8.0")
    if d.edited:
        codes.append("3.7.0")
    if d.missing:
        codes.append("3.10.0")
    return tuple(codes)


def _commodity(d: Determinants) -> int:
    code = d.reading_types.get("delivered") or next(iter(d.reading_types.values()), None)
    return ReadingType.parse(code).commodity if code else 1


def _rows(d: Determinants) -> Iterator[_Row]:
    end = d.period.end_epoch
    q = _quality(d)
    c = _commodity(d)
    window, step = d.demand.window_seconds, d.demand.step

    def row(code: str, at: int | datetime, value: float) -> _Row:
        stamp = at if isinstance(at, int) else int(at.timestamp())
        return _Row(code, stamp, value, q, d.period, d.usage_point)

    yield row(energy_type("delivered", commodity=c), end, d.delivered_kwh)
    yield row(energy_type("received", commodity=c), end, d.received_kwh)
    yield row(energy_type("net", commodity=c), end, d.net_kwh)
    for t in d.tou:
        if t.tou:
            yield row(energy_type("delivered", tou=t.tou, commodity=c), end, t.energy_kwh)
    if d.max_demand is not None:
        yield row(demand_type(window, step, commodity=c), d.max_demand.at, d.max_demand.kw)
    for t in d.tou:
        if t.tou and t.max_demand is not None:
            code = demand_type(window, step, tou=t.tou, commodity=c)
            yield row(code, t.max_demand.at, t.max_demand.kw)
    if d.system_peak_at is not None and d.coincident_demand_kw is not None:
        code = demand_type(window, step, coincident=True, commodity=c)
        yield row(code, d.system_peak_at, d.coincident_demand_kw)


def determinant_blocks(results: Iterable[Determinants]) -> list[ReadingBlock]:
    """Register blocks (one per usage point and ReadingType) of the determinants."""
    groups: dict[tuple[str, str], list[_Row]] = {}
    for d in results:
        for r in _rows(d):
            groups.setdefault((r.usage_point, r.reading_type), []).append(r)
    blocks: list[ReadingBlock] = []
    for (up, code), rows in groups.items():
        rows.sort(key=lambda r: r.at)
        sets, index = encode_qualities([r.qualities for r in rows], len(rows))
        block = ReadingBlock(
            code,
            np.array([r.at for r in rows], dtype=np.int64),
            np.array([r.value for r in rows], dtype=np.float64),
            index,
            sets,
            usage_point=ObjectRef.of(up),
            kind="register",
            extras={
                i: {
                    "timePeriod": f"{_utc(r.period.start)}/{_utc(r.period.end)}",
                    "reason": "billing",
                }
                for i, r in enumerate(rows)
            },
        )
        blocks.append(block)
    return blocks


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


class ReaderSource:
    """A `BillingSource` over a store reader or transaction already open (the MDM get path)."""

    def __init__(self, reader: StoreReader, series: ReadSeries = "best") -> None:
        self.reader = reader
        self.series: ReadSeries = series

    def usage_points(self) -> Iterator[str]:
        return iter(())  # the get path always names its usage points

    def interval_blocks(
        self, usage_points: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[ReadingBlock]:
        if not usage_points:
            return iter(())
        return self.reader.read_readings(
            ReadingQuery(
                usage_points=tuple(usage_points),
                start=start,
                end=end,
                series=self.series,
                kind="interval",
            )
        )


def _labels(start: datetime, end: datetime, zone: ZoneInfo) -> list[str]:
    """Every YYYY-MM from the month before `start` to the month of `end` (local)."""
    a, b = start.astimezone(zone), end.astimezone(zone)
    year, month = (a.year, a.month - 1) if a.month > 1 else (a.year - 1, 12)
    labels: list[str] = []
    while (year, month) <= (b.year, b.month):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return labels


@lru_cache(maxsize=8)
def service_billing_config(path: str | None, timezone: str) -> BillingConfig:
    """The MDM's billing configuration: the file `ServiceConfig.billing_config` names, or one
    flat TOU period in `ServiceConfig.timezone` (read once per path)."""
    if path is None:
        return billing_config_from_mapping({"timezone": timezone}, source="ServiceConfig")
    return load_billing_config(path)


def billing_period_readings(
    reader: StoreReader,
    config: BillingConfig,
    usage_points: Sequence[str],
    reading_types: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    series: ReadSeries = "best",
) -> list[ReadingBlock]:
    """What `get MeterReadings` answers for billing-period ReadingTypes: the determinants of
    the billing periods that end in (start, end], computed from the stored series and given
    as register blocks of the asked ReadingTypes. Coincident demand is at the peak of the
    usage points asked for."""
    wanted = {str(ReadingType.parse(c)) for c in reading_types if is_billing_type(c)}
    if not wanted or not usage_points:
        return []
    source = ReaderSource(reader, series)
    results: list[Determinants] = []
    for label in _labels(start, end, config.calendar.zone):
        for d in run_billing(source, config, label, usage_points=usage_points):
            if start < d.period.end <= end:
                results.append(d)
    return [b for b in determinant_blocks(results) if b.reading_type in wanted]


__all__ = [
    "BILLING_PERIOD",
    "ReaderSource",
    "billing_period_readings",
    "demand_type",
    "determinant_blocks",
    "energy_type",
    "is_billing_type",
    "service_billing_config",
]
