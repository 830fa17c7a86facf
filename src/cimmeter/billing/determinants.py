"""Billing determinants per usage point and billing period, computed on reading columns.

What a bill needs from interval data (issue 11): energy delivered, received and net; delivered
energy per TOU period; maximum demand overall and per TOU period, with its time; the usage
point's demand at the system peak (coincident demand); and how many intervals were estimated,
edited or missing, so billing can hold a bill that rests on too much estimation.

Inputs are the delta-energy interval series of the usage point (ReadingType accumulation
deltaData, measurementKind energy, unit Wh, no macroPeriod or tou): flowDirection forward =
delivered, reverse = received, net = net (digest 5.1.5). When a flow is stored at several
interval lengths, the shortest one is billed. Values are scaled to kWh by the ReadingType's
multiplier.

Demand is derived from interval energy: the energy in a demand window times 3600 / window
seconds, in kW. Windows are fixed blocks (`DemandSpec(window_seconds=900)`) or rolling
(`step_seconds` < window), aligned on the period's local midnight. A window shorter than the
data's interval is widened to whole intervals (`effective_demand`; the determinants say which
window was used). A window belongs to the TOU period of the instant it starts; its time is its
end (UTC). Missing intervals count as zero energy in a window (and are counted in `missing`).

Quality (digest 5.3.2): a reading with any code of category 8 is estimated, 7 edited, 6 or 10
suspect (failed validation / questionable); an interval is missing when no reading is stored
for it, or when its only qualities say skipped/missing (x.4.4, x.5.259) and it was neither
estimated nor edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cimmeter.billing.calendar import (
    CalendarError,
    TouCalendar,
    TouGrid,
    calendar_from_mapping,
    read_config,
)
from cimmeter.billing.periods import BillingCycles, BillingPeriod, cycles_from_mapping
from cimmeter.billing.source import BillingSource
from cimmeter.codes import CodeError, ReadingType
from cimmeter.model.readings import QualitySet, ReadingBlock, concat_blocks
from cimmeter.store.base import ReadSeries

MEASURING_PERIOD_SECONDS: Mapping[int, int] = {
    1: 600,
    2: 900,
    3: 60,
    4: 86400,
    5: 1800,
    6: 300,
    7: 3600,
    10: 120,
    14: 180,
    31: 1200,
}
"""measuringPeriod code -> interval length in seconds (digest 5.1.3)."""

FLOWS: Mapping[int, str] = {1: "delivered", 19: "received", 4: "net"}
"""flowDirection code -> what billing calls the series (digest 5.1.5)."""

_ENERGY, _DELTA, _WH = 12, 4, 72
_MISSING_CODES = frozenset({(4, 4), (5, 259)})
"""(category, subCategory) of skipped interval and known missing read (digest 5.3.4)."""


@dataclass(frozen=True, slots=True)
class DemandSpec:
    """How demand is measured: a window, fixed (step = window) or rolling (step < window)."""

    window_seconds: int = 900
    step_seconds: int | None = None

    @property
    def step(self) -> int:
        return self.step_seconds or self.window_seconds

    def __post_init__(self) -> None:
        if self.window_seconds <= 0 or self.step <= 0 or self.window_seconds % self.step:
            raise CalendarError(
                f"demand window {self.window_seconds} s / step {self.step} s: expected positive "
                "seconds with the window a multiple of the step"
            )


@dataclass(frozen=True, slots=True)
class BillingConfig:
    """Everything a billing run is configured with (one TOML/JSON file, `load_billing_config`)."""

    calendar: TouCalendar
    cycles: BillingCycles = field(default_factory=BillingCycles)
    demand: DemandSpec = field(default_factory=DemandSpec)
    series: ReadSeries = "best"


def billing_config_from_mapping(
    data: Mapping[str, Any], *, source: str = "config"
) -> BillingConfig:
    demand = data.get("demand") or {}
    if not isinstance(demand, Mapping):
        raise CalendarError(f"{source}: demand: expected a table")
    window = demand.get("window_minutes", 15)
    step = demand.get("step_minutes")
    if not isinstance(window, int) or (step is not None and not isinstance(step, int)):
        raise CalendarError(f"{source}: demand: window_minutes/step_minutes must be integers")
    series = data.get("series", "best")
    if series not in ("raw", "final", "best"):
        raise CalendarError(f"{source}: series: expected raw, final or best, got {series!r}")
    return BillingConfig(
        calendar_from_mapping(data, source=source),
        cycles_from_mapping(data, source=source),
        DemandSpec(window * 60, None if step is None else step * 60),
        series,
    )


def load_billing_config(path: str | Path) -> BillingConfig:
    return billing_config_from_mapping(read_config(path), source=str(path))


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peak:
    """A maximum demand: kW and the end of its window."""

    kw: float
    at: datetime


@dataclass(frozen=True, slots=True)
class TouDeterminant:
    name: str
    tou: int
    energy_kwh: float
    """Delivered energy in the period's intervals of this TOU period."""
    max_demand: Peak | None


@dataclass(frozen=True, slots=True)
class Determinants:
    """The billing determinants of one usage point for one billing period."""

    usage_point: str
    period: BillingPeriod
    interval_seconds: int
    expected_intervals: int
    delivered_kwh: float
    received_kwh: float
    net_kwh: float
    max_demand: Peak | None
    tou: tuple[TouDeterminant, ...]
    estimated: int
    edited: int
    missing: int
    suspect: int
    demand: DemandSpec = field(default_factory=DemandSpec)
    coincident_demand_kw: float | None = None
    system_peak_at: datetime | None = None
    reading_types: Mapping[str, str] = field(default_factory=dict)
    """flow ("delivered", "received", "net") -> the ReadingType code billed on."""

    def to_json(self) -> dict[str, Any]:
        def peak(p: Peak | None) -> dict[str, Any] | None:
            return None if p is None else {"kW": p.kw, "at": _iso(p.at)}

        return {
            "usagePoint": self.usage_point,
            "period": self.period.label,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "intervalSeconds": self.interval_seconds,
            "expectedIntervals": self.expected_intervals,
            "deliveredKWh": self.delivered_kwh,
            "receivedKWh": self.received_kwh,
            "netKWh": self.net_kwh,
            "maxDemand": peak(self.max_demand),
            "demandWindowSeconds": self.demand.window_seconds,
            "tou": [
                {
                    "name": t.name,
                    "tou": t.tou,
                    "energyKWh": t.energy_kwh,
                    "maxDemand": peak(t.max_demand),
                }
                for t in self.tou
            ],
            "coincidentDemandKW": self.coincident_demand_kw,
            "systemPeakAt": _iso(self.system_peak_at) if self.system_peak_at else None,
            "estimated": self.estimated,
            "edited": self.edited,
            "missing": self.missing,
            "suspect": self.suspect,
            "readingTypes": dict(self.reading_types),
        }


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# -- computing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Flags:
    """Per quality-set flags of one block (a handful of sets: computed in Python)."""

    estimated: npt.NDArray[np.bool_]
    edited: npt.NDArray[np.bool_]
    suspect: npt.NDArray[np.bool_]
    missing: npt.NDArray[np.bool_]


@lru_cache(maxsize=4096)
def _set_flags(qs: QualitySet) -> tuple[bool, bool, bool, bool]:
    cats: set[int] = set()
    missing = False
    for code in qs:
        parts = code.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        cat, sub = int(parts[1]), int(parts[2])
        cats.add(cat)
        missing = missing or (cat, sub) in _MISSING_CODES
    estimated, edited = 8 in cats, 7 in cats
    return estimated, edited, bool(cats & {6, 10}), missing and not (estimated or edited)


def _flags(sets: Sequence[QualitySet]) -> _Flags:
    rows = np.array([_set_flags(qs) for qs in sets], dtype=np.bool_).reshape(-1, 4)
    return _Flags(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])


@lru_cache(maxsize=1024)
def _energy_type(code: str) -> tuple[str, int, float] | None:
    """(flow, interval seconds, scale to kWh) of a billable delta-energy ReadingType, or None."""
    try:
        rt = ReadingType.parse(code)
    except CodeError:
        return None
    flow = FLOWS.get(rt.flow_direction)
    seconds = MEASURING_PERIOD_SECONDS.get(rt.measuring_period)
    if (
        flow is None
        or seconds is None
        or rt.measurement_kind != _ENERGY
        or rt.accumulation != _DELTA
        or rt.unit != _WH
        or rt.macro_period
        or rt.tou
        or rt.cpp
        or rt.consumption_tier
        or rt.phases
    ):
        return None
    return flow, seconds, 10.0 ** (rt.multiplier - 3)


@dataclass(frozen=True, slots=True)
class FlowSeries:
    """The billed series of one flow of one usage point: sorted, deduplicated, in kWh."""

    reading_type: str
    seconds: int
    timestamps: npt.NDArray[np.int64]
    kwh: npt.NDArray[np.float64]
    block: ReadingBlock


def billable_series(blocks: Iterable[ReadingBlock]) -> dict[str, FlowSeries]:
    """Pick, per flow, the shortest-interval delta-energy series and join its blocks (a meter
    exchange gives one block per meter)."""
    by_type: dict[str, list[ReadingBlock]] = {}
    for block in blocks:
        if block.kind == "interval" and len(block) and _energy_type(block.reading_type):
            by_type.setdefault(block.reading_type, []).append(block)
    chosen: dict[str, tuple[int, str]] = {}
    for code in sorted(by_type):
        found = _energy_type(code)
        assert found is not None
        flow, seconds, _ = found
        if flow not in chosen or seconds < chosen[flow][0]:
            chosen[flow] = (seconds, code)
    out: dict[str, FlowSeries] = {}
    for flow, (seconds, code) in chosen.items():
        parts = by_type[code]
        if len(parts) == 1:
            block = parts[0]
        else:
            joined = concat_blocks([replace(b, meter=None, extras={}) for b in parts])
            order = np.argsort(joined.timestamps, kind="stable")
            block = joined.take(order)
        ts = block.timestamps
        if len(ts) > 1 and not bool(np.all(ts[1:] > ts[:-1])):
            keep = np.r_[True, ts[1:] != ts[:-1]]  # two meters on one instant: the first wins
            block = block.take(keep)
        found = _energy_type(code)
        assert found is not None
        out[flow] = FlowSeries(code, seconds, block.timestamps, block.values * found[2], block)
    return out


def effective_demand(spec: DemandSpec, interval: int) -> DemandSpec:
    """The demand window the data supports: a window or step that is not a multiple of the
    interval length (15-minute demand on hourly data) is widened to whole intervals."""
    if not spec.window_seconds % interval and not spec.step % interval:
        return spec
    window = -(-spec.window_seconds // interval) * interval
    step = min(-(-spec.step // interval) * interval, window)
    while window % step:
        step -= interval
    return DemandSpec(window, None if step == window else step)


@dataclass(frozen=True, slots=True)
class DemandWindows:
    """Demand of every window of a period for one usage point (kW), ends as UTC epochs."""

    kw: npt.NDArray[np.float64]
    ends: npt.NDArray[np.int64]
    periods: npt.NDArray[np.int64]


def demand_windows(
    series: FlowSeries, period: BillingPeriod, grid: TouGrid, spec: DemandSpec
) -> DemandWindows:
    """Window demand from interval energy on the period's regular grid (see the module doc)."""
    lo, hi, step_len = period.start_epoch, period.end_epoch, series.seconds
    spec = effective_demand(spec, step_len)
    n = (hi - lo) // step_len
    pos = (series.timestamps - lo) // step_len - 1
    inside = (pos >= 0) & (pos < n)
    energy = np.bincount(pos[inside], weights=series.kwh[inside], minlength=n)
    cum = np.r_[0.0, np.cumsum(energy)]
    k, s = spec.window_seconds // step_len, spec.step // step_len
    ends = np.arange(k, n + 1, s, dtype=np.int64)
    kw = (cum[ends] - cum[ends - k]) * (3600.0 / spec.window_seconds)
    starts = lo + (ends - k) * step_len
    return DemandWindows(kw, lo + ends * step_len, grid.period_of(starts))


def compute_determinants(
    usage_point: str,
    blocks: Iterable[ReadingBlock],
    period: BillingPeriod,
    grid: TouGrid,
    calendar: TouCalendar,
    demand: DemandSpec | None = None,
) -> tuple[Determinants, DemandWindows | None]:
    """The determinants of one usage point (coincident demand is filled in by `run_billing`)."""
    demand = demand or DemandSpec()
    lo, hi = period.start_epoch, period.end_epoch
    flows = billable_series(blocks)
    sums: dict[str, float] = {}
    for flow, s in flows.items():
        inside = (s.timestamps > lo) & (s.timestamps <= hi)
        sums[flow] = float(s.kwh[inside].sum())
    delivered = flows.get("delivered")
    seconds = delivered.seconds if delivered else demand.window_seconds
    expected = (hi - lo) // seconds
    n_periods = len(calendar.period_names)
    tou_energy = np.zeros(n_periods)
    tou_peaks: list[Peak | None] = [None] * n_periods
    max_demand: Peak | None = None
    windows: DemandWindows | None = None
    estimated = edited = suspect = flagged_missing = present = 0
    if delivered is not None:
        inside = (delivered.timestamps > lo) & (delivered.timestamps <= hi)
        ts, kwh = delivered.timestamps[inside], delivered.kwh[inside]
        present = int(ts.shape[0])
        tou_energy = np.bincount(
            grid.period_of(ts - seconds), weights=kwh, minlength=n_periods
        ).astype(np.float64)
        flags = _flags(delivered.block.quality_sets)
        q = delivered.block.quality[inside]
        estimated = int(flags.estimated[q].sum())
        edited = int(flags.edited[q].sum())
        suspect = int(flags.suspect[q].sum())
        flagged_missing = int(flags.missing[q].sum())
        windows = demand_windows(delivered, period, grid, demand)
        if windows.kw.shape[0]:
            best = int(np.argmax(windows.kw))
            max_demand = Peak(float(windows.kw[best]), _at(int(windows.ends[best])))
            for p in range(n_periods):
                sel = np.flatnonzero(windows.periods == p)
                if sel.shape[0]:
                    i = int(sel[np.argmax(windows.kw[sel])])
                    tou_peaks[p] = Peak(float(windows.kw[i]), _at(int(windows.ends[i])))
    delivered_kwh = sums.get("delivered", 0.0)
    received_kwh = sums.get("received", 0.0)
    net_kwh = sums["net"] if "net" in sums else delivered_kwh - received_kwh
    result = Determinants(
        usage_point=usage_point,
        period=period,
        interval_seconds=seconds,
        expected_intervals=expected,
        delivered_kwh=delivered_kwh,
        received_kwh=received_kwh,
        net_kwh=net_kwh,
        max_demand=max_demand,
        tou=tuple(
            TouDeterminant(name, calendar.period_tou[i], float(tou_energy[i]), tou_peaks[i])
            for i, name in enumerate(calendar.period_names)
        ),
        estimated=estimated,
        edited=edited,
        missing=max(expected - present, 0) + flagged_missing,
        suspect=suspect,
        demand=effective_demand(demand, seconds),
        reading_types={flow: s.reading_type for flow, s in flows.items()},
    )
    return result, windows


# -- a run over many usage points -----------------------------------------------------------------


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def run_billing(
    source: BillingSource,
    config: BillingConfig,
    label: str,
    *,
    usage_points: Sequence[str] | None = None,
    system_peak: datetime | None = None,
    chunk: int = 200,
    coincident: bool = True,
) -> list[Determinants]:
    """Determinants of every (or the given) usage point for the period labelled YYYY-MM.

    Coincident demand: the system peak is the demand window (of the fixed-block grid) where the
    sum of the run's usage points' demand is highest, unless `system_peak` (the end of the
    window, from a system load series) is given. Usage points sharing a billing period share
    the peak; a second, small read of just the peak window fills each one's demand there (so
    memory stays flat in the number of usage points). `coincident=False` skips it.
    """
    calendar = config.calendar
    ups = list(usage_points) if usage_points is not None else list(source.usage_points())
    groups: dict[tuple[int, int], tuple[BillingPeriod, list[str]]] = {}
    for up in ups:
        period = config.cycles.cycle_of(up).period(label, calendar.zone)
        if period is None:
            continue
        key = (period.start_epoch, period.end_epoch)
        groups.setdefault(key, (period, []))[1].append(up)
    results: list[Determinants] = []
    for period, members in groups.values():
        grid = TouGrid.build(calendar, period.start, period.end)
        system: dict[tuple[int, int], npt.NDArray[np.float64]] = {}
        ends: dict[tuple[int, int], npt.NDArray[np.int64]] = {}
        first = len(results)
        for part in _chunks(members, chunk):
            by_up: dict[str, list[ReadingBlock]] = {up: [] for up in part}
            for block in source.interval_blocks(part, period.start, period.end):
                up_ref = block.usage_point
                if up_ref is not None and up_ref.mrid in by_up:
                    by_up[up_ref.mrid].append(block)
            for up in part:
                det, windows = compute_determinants(
                    up, by_up[up], period, grid, calendar, config.demand
                )
                results.append(det)
                if windows is not None:
                    key = (det.interval_seconds, windows.kw.shape[0])
                    if key in system:
                        system[key] += windows.kw
                    else:
                        system[key] = windows.kw.copy()
                        ends[key] = windows.ends
        if not coincident:
            continue
        peak_end = system_peak
        if peak_end is None and system:
            key = max(system, key=lambda k: float(system[k].max()) if system[k].size else 0.0)
            if system[key].size:
                peak_end = _at(int(ends[key][int(np.argmax(system[key]))]))
        if peak_end is None:
            continue
        at_peak = _coincident(source, members, peak_end, config.demand)
        for i in range(first, len(results)):
            det = results[i]
            results[i] = replace(
                det,
                coincident_demand_kw=at_peak.get(det.usage_point, 0.0),
                system_peak_at=peak_end,
            )
    return results


def _coincident(
    source: BillingSource, members: Sequence[str], peak_end: datetime, demand: DemandSpec
) -> dict[str, float]:
    """Each usage point's demand in the window (peak_end - window, peak_end]."""
    start = peak_end - timedelta(seconds=demand.window_seconds)
    out: dict[str, float] = {}
    for part in _chunks(members, 1000):
        blocks: dict[str, list[ReadingBlock]] = {}
        for block in source.interval_blocks(part, start, peak_end):
            if block.usage_point is not None and block.usage_point.mrid:
                blocks.setdefault(block.usage_point.mrid, []).append(block)
        for up, bs in blocks.items():
            delivered = billable_series(bs).get("delivered")
            if delivered is not None:
                out[up] = float(delivered.kwh.sum()) * 3600.0 / demand.window_seconds
    return out


__all__ = [
    "FLOWS",
    "MEASURING_PERIOD_SECONDS",
    "BillingConfig",
    "DemandSpec",
    "DemandWindows",
    "Determinants",
    "FlowSeries",
    "Peak",
    "TouDeterminant",
    "billable_series",
    "billing_config_from_mapping",
    "compute_determinants",
    "demand_windows",
    "load_billing_config",
    "run_billing",
]
