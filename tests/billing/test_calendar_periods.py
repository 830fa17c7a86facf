"""Calendar loading (TOML and JSON, clear errors), local days, cycles and the store source."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from cimmeter.billing import CalendarError, StoreSource, load_billing_config, run_billing
from cimmeter.billing.calendar import local_days
from cimmeter.billing.periods import BillingCycle, cycle_day_period, cycles_from_mapping
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import open_store
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind
from tests.billing.conftest import CALENDAR_TOML, DELIVERED, config, quarter_ends, utc


def test_toml_and_json_load_the_same_calendar(tmp_path: Path) -> None:
    text = CALENDAR_TOML.format(zone="Europe/Berlin")
    (tmp_path / "c.toml").write_text(text)
    (tmp_path / "c.json").write_text(json.dumps(tomllib.loads(text)))
    a = load_billing_config(tmp_path / "c.toml")
    b = load_billing_config(tmp_path / "c.json")
    assert a.calendar == b.calendar
    assert a.calendar.timezone == "Europe/Berlin"
    assert a.calendar.period_at(datetime(2024, 3, 12, 6, 30, tzinfo=UTC)) == "on_peak"  # 07:30
    assert a.calendar.period_at(datetime(2024, 3, 12, 5, 30, tzinfo=UTC)) == "off_peak"  # 06:30


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"periods": {"on": -1}}, "periods.on: expected a ReadingType tou number"),
        ({"weekend": ["caturday"]}, "'caturday' is not a weekday name"),
        ({"holidays": {"2024": ["2024-13-01"]}}, "holidays.2024: '2024-13-01' is not a date"),
    ],
)
def test_bad_calendars_say_what_and_where(patch: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message.replace("(", r"\(")):
        config("Europe/Berlin", **patch)


def test_season_gap_and_unknown_period_are_rejected() -> None:
    data = tomllib.loads(CALENDAR_TOML.format(zone="UTC"))
    data["seasons"][1]["end"] = "09-29"
    from cimmeter.billing.determinants import billing_config_from_mapping

    with pytest.raises(CalendarError, match="no season contains 09-30"):
        billing_config_from_mapping(data, source="x")
    data = tomllib.loads(CALENDAR_TOML.format(zone="UTC"))
    data["seasons"][0]["weekday"] = {"00:00": "shoulder"}
    with pytest.raises(CalendarError, match=r"seasons\[0\].weekday.00:00: unknown period"):
        billing_config_from_mapping(data, source="x")


def test_local_days_count_92_and_100_quarter_hours() -> None:
    cal = config("America/New_York").calendar
    days = local_days(date(2024, 3, 9), date(2024, 3, 11), cal.zone)
    assert [d.intervals() for d in days] == [96, 92, 96]
    days = local_days(date(2024, 11, 2), date(2024, 11, 4), cal.zone)
    assert [d.intervals() for d in days] == [96, 100, 96]
    assert [d.intervals(3600) for d in days] == [24, 25, 24]


def test_cycle_days_and_explicit_periods() -> None:
    zone = config("Europe/Berlin").calendar.zone
    p = cycle_day_period("2024-03", 15, zone)
    assert (p.start.date(), p.end.date()) == (date(2024, 3, 15), date(2024, 4, 15))
    # Cycle day 31 in a short month is its last day.
    p = cycle_day_period("2024-02", 31, zone)
    assert (p.start.date(), p.end.date()) == (date(2024, 2, 29), date(2024, 3, 31))
    assert p.intervals() == 31 * 96  # ends at the midnight before the DST change (02:00)
    p = cycle_day_period("2024-03", 31, zone)
    assert p.intervals() == (30 * 24 - 1) * 4  # 31 March to 30 April holds it
    cycles = cycles_from_mapping(
        {
            "cycles": {
                "default_cycle_day": 5,
                "usage_points": {
                    "X": {"periods": [{"start": "2024-02-20", "end": "2024-03-21"}]},
                    "Y": {"cycle_day": 20},
                },
            }
        }
    )
    assert cycles.cycle_of("other") == BillingCycle(5)
    px = cycles.cycle_of("X").period("2024-02", zone)
    assert px is not None and (px.start.date(), px.end.date()) == (
        date(2024, 2, 20),
        date(2024, 3, 21),
    )
    assert cycles.cycle_of("X").period("2024-03", zone) is None
    py = cycles.cycle_of("Y").period("2024-03", zone)
    assert py is not None and py.start.date() == date(2024, 3, 20)
    with pytest.raises(CalendarError, match=r"cycles\.usage_points\.Z\.cycle_day: expected a day"):
        cycles_from_mapping({"cycles": {"usage_points": {"Z": {"cycle_day": 40}}}})
    with pytest.raises(CalendarError, match="YYYY-MM"):
        cycle_day_period("2024-3", 1, zone)


def test_run_over_the_store(store_url: str) -> None:
    """Billing reads the store (SQLite and PostgreSQL); usage points with another cycle get
    their own period."""
    t0 = utc(2024, 1, 1)
    with open_store(store_url, upgrade=True) as store:
        with store.transaction() as tx:
            for i in range(3):
                tx.put_object(MasterObject(ObjectKind.METER, f"m{i}", updated_at=t0))
                tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"u{i}", updated_at=t0))
                tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, f"m{i}", f"u{i}", t0))
            ts = quarter_ends(utc(2024, 2, 25), utc(2024, 4, 20))
            result = tx.ingest_readings(
                [
                    ReadingBlock.build(
                        DELIVERED,
                        ts,
                        np.full(ts.shape[0], float(i + 1)),
                        meter=ObjectRef.of(f"m{i}"),
                    )
                    for i in range(3)
                ],
                received_at=t0,
            )
            assert not result.rejected
        cfg = config("Europe/Berlin", cycles={"usage_points": {"u2": {"cycle_day": 15}}})
        results = {d.usage_point: d for d in run_billing(StoreSource(store), cfg, "2024-03")}
    assert sorted(results) == ["u0", "u1", "u2"]
    # March in Berlin: 743 h; u2 from 15 March to 15 April: 31 days less the DST hour.
    assert results["u0"].delivered_kwh == 2972 * 1
    assert results["u1"].delivered_kwh == 2972 * 2
    assert results["u2"].delivered_kwh == 2972 * 3
    assert results["u2"].period.start.date() == date(2024, 3, 15)
    assert results["u1"].missing == 0
    assert results["u0"].system_peak_at is not None
    assert results["u0"].system_peak_at - timedelta(minutes=15) >= results["u0"].period.start
