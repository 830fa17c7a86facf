"""Determinants against hand-computed expectations: DST days in two zones, month ends,
demand windows, quality counts, flows and coincident demand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from cimmeter.billing import DemandSpec, TouGrid, compute_determinants, run_billing
from cimmeter.billing.periods import cycle_day_period
from tests.billing.conftest import (
    DELIVERED,
    DELIVERED_WH,
    HOURLY_DELIVERED,
    RECEIVED,
    ListSource,
    block,
    config,
    day_period,
    quarter_ends,
    utc,
)

# (zone, local DST day, intervals that day, on-peak intervals 01:00-04:00 local, UTC end of
# the interval holding the spike). Hand computation, e.g. New York 2024-03-10: local midnight
# is 05:00Z (EST), the next one 04:00Z (EDT): 23 h = 92 quarter hours; 01:00-02:00 EST and
# 03:00-04:00 EDT are on-peak = 06:00Z-08:00Z = 8 intervals. On 2024-11-03, 01:00 EDT (05:00Z)
# to 04:00 EST (09:00Z) is 4 h = 16 intervals; the spike is in the *second* 01:15-01:30
# (EST) = 06:15Z-06:30Z. Berlin 2024-03-31: 01:00 CET = 00:00Z .. 04:00 CEST = 02:00Z (8);
# 2024-10-27: 01:00 CEST = 23:00Z .. 04:00 CET = 03:00Z (16), spike at the second 02:00-02:15
# (CET) = 01:00Z-01:15Z.
DST_DAYS = [
    ("America/New_York", date(2024, 3, 10), 92, 8, utc(2024, 3, 10, 7, 15)),
    ("America/New_York", date(2024, 11, 3), 100, 16, utc(2024, 11, 3, 6, 30)),
    ("Europe/Berlin", date(2024, 3, 31), 92, 8, utc(2024, 3, 31, 1, 15)),
    ("Europe/Berlin", date(2024, 10, 27), 100, 16, utc(2024, 10, 27, 1, 15)),
]


@pytest.mark.parametrize(("zone", "day", "intervals", "on_peak", "spike_end"), DST_DAYS)
def test_dst_day_totals_tou_and_demand(
    zone: str, day: date, intervals: int, on_peak: int, spike_end: object
) -> None:
    cfg = config(zone)
    period = day_period(zone, day)
    assert period.intervals() == intervals
    ts = quarter_ends(period.start, period.end)
    assert ts.shape[0] == intervals
    values = np.ones(intervals)
    spike = int(np.flatnonzero(ts == int(spike_end.timestamp()))[0])  # type: ignore[attr-defined]
    values[spike] = 5.0  # an on-peak interval (inside 01:00-04:00 local)
    grid = TouGrid.build(cfg.calendar, period.start, period.end)
    det, _ = compute_determinants("up", [block("up", ts, values)], period, grid, cfg.calendar)
    assert det.expected_intervals == intervals
    assert det.missing == 0
    assert det.delivered_kwh == intervals + 4
    on, off = det.tou
    assert (on.name, on.tou, off.name, off.tou) == ("on_peak", 1, "off_peak", 2)
    assert on.energy_kwh == on_peak + 4
    assert off.energy_kwh == intervals - on_peak
    # 15-minute demand: 5 kWh in 15 min = 20 kW, at the end of the spike's interval.
    assert det.max_demand is not None
    assert (det.max_demand.kw, det.max_demand.at) == (20.0, spike_end)
    assert on.max_demand is not None and on.max_demand.kw == 20.0
    assert off.max_demand is not None and off.max_demand.kw == 4.0
    # The first off-peak window: 00:00-00:15 local.
    assert off.max_demand.at.timestamp() == period.start_epoch + 900


def test_demand_windows_fixed_and_rolling_on_a_dst_day() -> None:
    zone, day = "America/New_York", date(2024, 3, 10)
    period = day_period(zone, day)
    ts = quarter_ends(period.start, period.end)
    values = np.ones(ts.shape[0])
    values[ts == int(utc(2024, 3, 10, 7, 15).timestamp())] = 5.0
    cal = config(zone).calendar
    grid = TouGrid.build(cal, period.start, period.end)
    blocks = [block("up", ts, values)]
    # 60-minute fixed blocks from local midnight: 07:00Z-08:00Z holds 5+1+1+1 = 8 kWh = 8 kW.
    hourly, windows = compute_determinants(
        "up", blocks, period, grid, cal, DemandSpec(window_seconds=3600)
    )
    assert windows is not None and windows.kw.shape[0] == 23  # a 23-hour day
    assert hourly.max_demand is not None
    assert (hourly.max_demand.kw, hourly.max_demand.at) == (8.0, utc(2024, 3, 10, 8))
    # 30-minute rolling windows every 15 min: (1+5) kWh / 0.5 h = 12 kW, first at 07:15Z.
    rolling, windows = compute_determinants(
        "up", blocks, period, grid, cal, DemandSpec(window_seconds=1800, step_seconds=900)
    )
    assert windows is not None and windows.kw.shape[0] == 91
    assert rolling.max_demand is not None
    assert (rolling.max_demand.kw, rolling.max_demand.at) == (12.0, utc(2024, 3, 10, 7, 15))


def test_month_ends_new_york_march() -> None:
    # March 2024 in New York: 2024-03-01 05:00Z .. 2024-04-01 04:00Z = 743 h = 2972 intervals.
    cfg = config("America/New_York")
    period = cycle_day_period("2024-03", 1, cfg.calendar.zone)
    assert (period.start_epoch, period.end_epoch) == (
        int(utc(2024, 3, 1, 5).timestamp()),
        int(utc(2024, 4, 1, 4).timestamp()),
    )
    assert period.intervals() == 2972
    # Readings from a day before to a day after; the one stamped at the period start belongs
    # to February (its interval ends there), the one stamped at the period end to March.
    ts = quarter_ends(utc(2024, 2, 29, 5), utc(2024, 4, 2, 4))
    values = np.ones(ts.shape[0])
    values[ts == period.start_epoch] = 100.0
    values[ts == period.end_epoch] = 7.0
    grid = TouGrid.build(cfg.calendar, period.start, period.end)
    det, _ = compute_determinants("up", [block("up", ts, values)], period, grid, cfg.calendar)
    assert det.expected_intervals == 2972
    assert det.delivered_kwh == 2971 + 7
    # 21 weekdays x 48 on-peak quarter hours (07:00-19:00) + 9 weekend days x 12 (01:00-04:00)
    # + 8 on the DST Sunday = 1124; the last interval (23:45-24:00 on Sunday 31st) is off-peak.
    on, off = det.tou
    assert on.energy_kwh == 21 * 48 + 9 * 12 + 8
    assert off.energy_kwh == 2972 - 1124 - 1 + 7
    assert det.max_demand is not None and det.max_demand.kw == 28.0  # 7 kWh in 15 min


def test_month_ends_berlin_october_has_an_extra_hour() -> None:
    # October 2024 in Berlin: 2024-09-30 22:00Z .. 2024-10-31 23:00Z = 745 h = 2980 intervals;
    # 23 weekdays x 48 + 7 weekend days x 12 + 16 on the DST Sunday = 1204 on-peak.
    cfg = config("Europe/Berlin")
    period = cycle_day_period("2024-10", 1, cfg.calendar.zone)
    ts = quarter_ends(period.start, period.end)
    assert ts.shape[0] == 2980
    grid = TouGrid.build(cfg.calendar, period.start, period.end)
    det, _ = compute_determinants(
        "up", [block("up", ts, np.ones(2980))], period, grid, cfg.calendar
    )
    assert det.delivered_kwh == 2980
    assert [t.energy_kwh for t in det.tou] == [1204.0, 1776.0]


def test_holidays_and_seasons() -> None:
    cfg = config("America/New_York")
    cal = cfg.calendar
    # 2024-12-25 is a Wednesday and a holiday: no on-peak. 2024-07-03 is a summer weekday
    # (on-peak 14:00-18:00 = 16 intervals).
    for day, on_peak in ((date(2024, 12, 25), 0), (date(2024, 12, 24), 48), (date(2024, 7, 3), 16)):
        period = day_period("America/New_York", day)
        ts = quarter_ends(period.start, period.end)
        grid = TouGrid.build(cal, period.start, period.end)
        det, _ = compute_determinants("up", [block("up", ts, np.ones(96))], period, grid, cal)
        assert det.tou[0].energy_kwh == on_peak, day


def test_quality_counts() -> None:
    period = day_period("America/New_York", date(2024, 3, 12))
    ts = quarter_ends(period.start, period.end)
    qualities: list[list[str]] = [[] for _ in range(96)]
    for i in (20, 21, 22):
        qualities[i] = ["3.8.0"]
    qualities[30] = ["3.7.0"]
    qualities[31] = ["3.7.1", "3.0.1"]
    qualities[40] = ["1.4.4"]  # skipped, nothing filled it: missing
    qualities[41] = ["1.4.4", "3.8.0"]  # skipped, then estimated: estimated
    qualities[50] = ["3.6.3"]
    keep = np.ones(96, dtype=bool)
    keep[10:14] = False  # 4 intervals not stored at all
    b = block("up", ts, np.ones(96), qualities=qualities).take(keep)
    cal = config("America/New_York").calendar
    grid = TouGrid.build(cal, period.start, period.end)
    det, _ = compute_determinants("up", [b], period, grid, cal)
    assert (det.estimated, det.edited, det.missing, det.suspect) == (4, 2, 5, 1)
    assert det.delivered_kwh == 92


def test_flows_units_interval_choice_and_meter_exchange() -> None:
    period = day_period("Europe/Berlin", date(2024, 6, 4))
    ts = quarter_ends(period.start, period.end)
    hours = quarter_ends(period.start, period.end, 3600)
    cal = config("Europe/Berlin").calendar
    grid = TouGrid.build(cal, period.start, period.end)
    # The meter was exchanged at interval 40: two meters' blocks make one series.
    first = block("up", ts[:40], np.full(40, 2.0), meter="old")
    second = block("up", ts[40:], np.full(56, 1.0), meter="new")
    blocks = [
        first,
        second,
        block("up", hours, np.full(24, 99.0), rt=HOURLY_DELIVERED),  # not billed: longer
        block("up", ts, np.full(96, 250.0), rt=RECEIVED.replace(".3.72.", ".0.72.")),  # Wh
    ]
    det, _ = compute_determinants("up", blocks, period, grid, cal)
    assert det.delivered_kwh == 40 * 2 + 56
    assert det.received_kwh == 96 * 0.25
    assert det.net_kwh == 136 - 24
    assert det.missing == 0
    assert det.reading_types["delivered"] == DELIVERED
    # Delivered in Wh alone is scaled to kWh.
    det, _ = compute_determinants(
        "up", [block("up", ts, np.full(96, 500.0), rt=DELIVERED_WH)], period, grid, cal
    )
    assert det.delivered_kwh == 48.0
    assert det.max_demand is not None and det.max_demand.kw == 2.0


def test_no_data_is_all_missing() -> None:
    period = day_period("Europe/Berlin", date(2024, 10, 27))
    cal = config("Europe/Berlin").calendar
    grid = TouGrid.build(cal, period.start, period.end)
    det, windows = compute_determinants("up", [], period, grid, cal)
    assert windows is None
    assert (det.delivered_kwh, det.missing, det.max_demand) == (0.0, 100, None)


def test_coincident_demand_at_the_system_peak() -> None:
    zone = "America/New_York"
    period = day_period(zone, date(2024, 3, 12))
    ts = quarter_ends(period.start, period.end)
    a, b = np.zeros(96), np.zeros(96)
    at14 = ts == int(utc(2024, 3, 12, 14).timestamp())
    at16 = ts == int(utc(2024, 3, 12, 16).timestamp())
    a[at14] = 2.0
    b[at14], b[at16] = 3.0, 4.0
    source = ListSource([block("A", ts, a), block("B", ts, b)])
    # System: 5 kWh at 14:00Z (20 kW) beats 4 kWh at 16:00Z (16 kW).
    results = {d.usage_point: d for d in run_billing(source, config(zone), "2024-03")}
    assert results["A"].system_peak_at == utc(2024, 3, 12, 14)
    assert results["A"].coincident_demand_kw == 8.0
    assert results["B"].coincident_demand_kw == 12.0
    assert results["B"].max_demand is not None and results["B"].max_demand.kw == 16.0
    # A given system peak wins.
    results = {
        d.usage_point: d
        for d in run_billing(source, config(zone), "2024-03", system_peak=utc(2024, 3, 12, 16))
    }
    assert (results["A"].coincident_demand_kw, results["B"].coincident_demand_kw) == (0.0, 16.0)


def test_a_demand_window_shorter_than_the_data_is_widened() -> None:
    # Hourly data, 15-minute demand asked: the window becomes 60 minutes; 3 kWh in the hour
    # ending 14:00Z is 3 kW (not 12 kW).
    period = day_period("America/New_York", date(2024, 3, 12))
    ts = quarter_ends(period.start, period.end, 3600)
    values = np.ones(24)
    values[ts == int(utc(2024, 3, 12, 14).timestamp())] = 3.0
    cal = config("America/New_York").calendar
    grid = TouGrid.build(cal, period.start, period.end)
    det, _ = compute_determinants(
        "up", [block("up", ts, values, rt=HOURLY_DELIVERED)], period, grid, cal
    )
    assert det.demand == DemandSpec(3600)
    assert det.expected_intervals == 24 and det.missing == 0
    assert det.max_demand is not None
    assert (det.max_demand.kw, det.max_demand.at) == (3.0, utc(2024, 3, 12, 14))
