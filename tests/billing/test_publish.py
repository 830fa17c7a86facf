"""Determinants as 61968-9 Readings, and `get MeterReadings` for billing-period ReadingTypes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from cimmeter.billing import TouGrid, compute_determinants
from cimmeter.billing.publish import demand_type, determinant_blocks, energy_type
from cimmeter.codes import ReadingType as RT
from cimmeter.message.envelope import Header, Request, RequestMessage, ResponseMessage
from cimmeter.message.verbs import Verb
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.get_meter_readings import GetMeterReadings, ReadingType, UsagePoint
from cimmeter.model.get_meter_readings import Reading as QueryReading
from cimmeter.model.meter_readings import MeterReadings
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.store import open_store
from tests.billing.conftest import (
    CALENDAR_TOML,
    block,
    config,
    day_period,
    fill_store,
    quarter_ends,
    utc,
)

DELIVERED_BILLING = "8.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
ON_PEAK_BILLING = "8.0.0.4.1.1.12.0.0.0.0.1.0.0.0.3.72.0"
MAX_DEMAND_BILLING = "8.8.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"


def test_reading_types_are_the_standard_codes() -> None:
    assert energy_type("delivered") == DELIVERED_BILLING
    assert energy_type("delivered", tou=1) == ON_PEAK_BILLING
    assert energy_type("received") == "8.0.0.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"
    # digest 5.1.17: billing-period maximum demand, 15-min fixed block, delivered, kW.
    assert demand_type(900, 900) == str(RT.named("billingMaxDemand15MinForwardKW"))
    assert demand_type(1800, 900) == "8.8.65.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"  # rolling 30/15
    assert demand_type(900, 900, coincident=True) == "8.0.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"


def test_determinant_blocks_values_stamps_and_qualities() -> None:
    zone = "America/New_York"
    period = day_period(zone, date(2024, 3, 10))
    ts = quarter_ends(period.start, period.end)
    values = np.ones(92)
    values[ts == int(utc(2024, 3, 10, 7, 15).timestamp())] = 5.0
    qualities = [["3.8.0"] if i == 3 else [] for i in range(92)]
    cal = config(zone).calendar
    grid = TouGrid.build(cal, period.start, period.end)
    det, _ = compute_determinants(
        "up", [block("up", ts, values, qualities=qualities)], period, grid, cal
    )
    blocks = {b.reading_type: b for b in determinant_blocks([det])}
    delivered = blocks[DELIVERED_BILLING]
    assert delivered.kind == "register" and delivered.usage_point is not None
    assert delivered.usage_point.mrid == "up"
    assert delivered.values.tolist() == [96.0]
    assert delivered.timestamps.tolist() == [period.end_epoch]
    assert delivered.qualities_at(0) == ("3.11.0", "3.8.0")
    assert (
        delivered.extras[0]["timePeriod"] == "2024-03-10T05:00:00+00:00/2024-03-11T04:00:00+00:00"
    )
    assert blocks[ON_PEAK_BILLING].values.tolist() == [12.0]
    demand = blocks[MAX_DEMAND_BILLING]
    assert demand.values.tolist() == [20.0]
    assert demand.timestamps.tolist() == [int(utc(2024, 3, 10, 7, 15).timestamp())]


def test_get_meter_readings_answers_billing_period_reading_types(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    fill_store(url, 2, utc(2024, 2, 20), utc(2024, 4, 10))
    calendar = tmp_path / "tou.toml"
    calendar.write_text(CALENDAR_TOML.format(zone="Europe/Berlin"))
    mdm = MdmService(
        ServiceConfig(role="mdm", source="MDM", billing_config=str(calendar)),
    )
    query = GetMeterReadings(
        usage_point=(UsagePoint(mrid="u1"),),
        reading_type=(
            ReadingType(mrid=DELIVERED_BILLING),
            ReadingType(mrid=ON_PEAK_BILLING),
            ReadingType(mrid=MAX_DEMAND_BILLING),
        ),
        reading=(
            QueryReading(time_period=DateTimeInterval(start=utc(2024, 3, 15), end=utc(2024, 4, 5))),
        ),
    )
    message = RequestMessage(
        header=Header(verb=Verb.get, noun="MeterReadings", message_id="g-1", source="CIS"),
        request=Request(query=query),
    )
    with open_store(url) as store:
        result = mdm.handle(message, store, ManualClock(utc(2024, 4, 6)))
    reply = result.reply
    assert isinstance(reply, ResponseMessage)
    document = reply.document
    assert isinstance(document, MeterReadings)
    found = {
        r.reading_type.ref: r
        for mr in document.meter_reading
        for r in mr.readings
        if r.reading_type is not None
    }
    # Berlin March 2024 (the period ending in the range): 2972 quarter hours of 2 kWh.
    assert float(found[DELIVERED_BILLING].value) == 5944.0
    assert found[DELIVERED_BILLING].time_stamp == utc(2024, 3, 31, 22)
    period = found[DELIVERED_BILLING].time_period
    assert period is not None and period.start == utc(2024, 2, 29, 23)
    assert float(found[MAX_DEMAND_BILLING].value) == 8.0
    # 21 weekdays x 48 + 9 weekend days x 12 + 8 on the DST Sunday = 1124 on-peak intervals.
    assert float(found[ON_PEAK_BILLING].value) == 1124 * 2
    assert [q.reading_quality_type.ref for q in found[DELIVERED_BILLING].reading_qualities] == [
        "3.11.0"
    ]
