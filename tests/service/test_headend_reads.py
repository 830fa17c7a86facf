"""The head-end answering `get MeterReadings` and `get EndDeviceEvents` (digest 4.2-4.6), on a
real store of each engine over a quiet simulated fleet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import ReplyResult, ResponseMessage
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.end_device_events import EndDeviceEvents
from cimmeter.model.get_end_device_events import EndDeviceEventType as QueryEventType
from cimmeter.model.get_end_device_events import GetEndDeviceEvents, Meter, TimeSchedule
from cimmeter.model.meter_readings import MeterReadings, meter_readings_to_blocks
from cimmeter.service.clock import ManualClock
from cimmeter.service.headend import HeadEndOptions
from cimmeter.service.headend_common import ENERGIZATION, ENERGIZATION_LOAD_SIDE
from cimmeter.store.base import Store
from tests.service.conftest import T0, Ids, errors_of
from tests.service.headend_support import (
    FWD,
    FWD_REG,
    REPLY_TO,
    UNKNOWN,
    electric,
    get_readings,
    headend,
    meter,
    parsed,
    quiet_sim,
    request,
    to,
)


@pytest.fixture
def sim() -> Simulation:
    return quiet_sim()


def _blocks(payload: object) -> dict[tuple[str, str], list[float]]:
    assert isinstance(payload, MeterReadings)
    out = {}
    for b in meter_readings_to_blocks(payload):
        assert b.meter is not None and b.meter.mrid is not None
        out[(b.meter.mrid, b.reading_type)] = [float(v) for v in b.values]
    return out


def test_a_synchronous_read_answers_with_the_registers_and_names_unknown_devices(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    a, b = meter(sim, 0), meter(sim, 1)
    result = he.handle(get_readings([a, b, UNKNOWN], [FWD_REG]), store, clock)
    assert result.result is ReplyResult.PARTIAL
    reply = result.reply
    assert isinstance(reply, ResponseMessage)
    assert reply.header.verb.value == "reply"
    got = _blocks(reply.payload.document if reply.payload else None)
    assert set(got) == {(a, FWD_REG), (b, FWD_REG)}
    assert all(len(v) == 1 and v[0] > 0 for v in got.values())
    (error,) = [e for e in reply.reply.errors if e.id is not None]
    assert error.id is not None and error.id.value == UNKNOWN
    assert (error.code, error.reason) == ("2.2", "device not found")
    assert error.details is not None and "EndDevice[3]" in error.details


def test_a_synchronous_read_takes_a_bounded_number_of_devices(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids, HeadEndOptions(max_sync_devices=2))
    devices = [meter(sim, i) for i in range(3)]
    result = he.handle(get_readings(devices, [FWD_REG]), store, clock)
    assert result.result is ReplyResult.PARTIAL
    skipped = [e for e in result.reply.reply.errors if e.reason == "unsupported bulk operation"]
    assert [e.id.value for e in skipped if e.id] == [devices[2]]


def test_a_time_range_reads_what_the_devices_recorded(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = meter(sim, electric(sim))
    result = he.handle(get_readings([m], [FWD], start=T0 - timedelta(days=1), end=T0), store, clock)
    assert result.result is ReplyResult.OK
    reply = result.reply
    assert isinstance(reply, ResponseMessage) and reply.payload is not None
    values = _blocks(reply.payload.document)[(m, FWD)]
    assert len(values) == 96


def test_an_end_before_the_start_fails_the_request(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    result = he.handle(
        get_readings([meter(sim, 0)], [FWD], start=T0, end=T0 - timedelta(hours=1)), store, clock
    )
    assert result.result is ReplyResult.FAILED
    assert errors_of(result)[0][0] == "2.6"


def test_an_asynchronous_read_is_accepted_now_and_answered_at_the_next_tick(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    a = meter(sim, 0)
    message = get_readings([a, UNKNOWN], [FWD_REG], asynchronous=True, correlation="read-1")
    result = he.handle(message, store, clock)
    assert result.result is ReplyResult.PARTIAL
    assert result.reply.payload is None if isinstance(result.reply, ResponseMessage) else False
    assert "0.3" not in [c for c, _ in errors_of(result)]  # PARTIAL: the refused device is named
    assert result.outgoing == ()
    clock.advance(timedelta(minutes=1))
    (out,) = he.tick(clock.now(), store)
    assert (out.destination, out.verb, out.noun, out.correlation_id) == (
        REPLY_TO,
        "reply",
        "MeterReadings",
        "read-1",
    )
    answer = parsed(out)
    assert isinstance(answer, ResponseMessage)
    assert answer.reply.result is ReplyResult.OK
    assert set(_blocks(answer.payload.document if answer.payload else None)) == {(a, FWD_REG)}
    assert he.tick(clock.now(), store) == []  # the job ran once


def test_an_asynchronous_result_goes_as_a_created_event_to_peers_configured_so(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids, async_result_form={"MDM-1": "created"})
    he.handle(get_readings([meter(sim, 0)], [FWD_REG], asynchronous=True), store, clock)
    (out,) = he.tick(clock.now(), store)
    assert (out.verb, out.noun) == ("created", "MeterReadings")
    assert parsed(out).kind == "EventMessage"


def test_a_large_asynchronous_result_comes_in_parts(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids, HeadEndOptions(max_readings_per_part=100))
    devices = [meter(sim, i) for i in range(3) if sim.fleet.kind[i] == 0]
    he.handle(
        get_readings(
            devices,
            [FWD],
            start=T0 - timedelta(days=1),
            end=T0,
            asynchronous=True,
            correlation="bulk",
        ),
        store,
        clock,
    )
    parts = he.tick(clock.now(), store)
    assert len(parts) == len(devices)
    assert {p.correlation_id for p in parts} == {"bulk"}
    codes = [[e.code for e in parsed(p).reply.errors] for p in parts]  # type: ignore[attr-defined]
    assert codes[:-1] == [["0.1"]] * (len(parts) - 1)
    assert codes[-1] == ["0.2"]


def test_a_reply_address_outside_the_allowlist_is_refused(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    message = get_readings([meter(sim, 0)], asynchronous=True, reply_to="http://evil.example/x")
    result = he.handle(message, store, clock)
    assert result.result is ReplyResult.FAILED
    assert errors_of(result)[0][0] == "4.1"
    assert he.tick(clock.now(), store) == []


def test_a_ping_tells_energised_from_not_reachable_and_never_reports_zero_for_silence(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    up = electric(sim)
    transformer = int(sim.fleet.transformer[up])
    dark = next(m for m in range(sim.fleet.n) if int(sim.fleet.transformer[m]) != transformer)
    sim.inject_outage(
        "transformer",
        int(sim.fleet.transformer[dark]),
        T0 - timedelta(hours=1),
        T0 + timedelta(hours=1),
    )
    result = he.handle(
        get_readings([meter(sim, up), meter(sim, dark)], [ENERGIZATION]), store, clock
    )
    assert result.result is ReplyResult.PARTIAL
    reply = result.reply
    assert isinstance(reply, ResponseMessage) and reply.payload is not None
    assert _blocks(reply.payload.document) == {(meter(sim, up), ENERGIZATION): [1.0]}
    (error,) = [e for e in reply.reply.errors if e.id is not None]
    assert error.reason == "device not reachable"
    assert error.id is not None and error.id.value == meter(sim, dark)


def test_a_ping_of_the_load_side_sees_an_open_switch(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = electric(sim)
    sim.open_relay(m, int((T0 - timedelta(minutes=5)).timestamp()))
    result = he.handle(
        get_readings([meter(sim, m)], [ENERGIZATION, ENERGIZATION_LOAD_SIDE]), store, clock
    )
    assert result.result is ReplyResult.OK
    reply = result.reply
    assert isinstance(reply, ResponseMessage) and reply.payload is not None
    assert _blocks(reply.payload.document) == {
        (meter(sim, m), ENERGIZATION): [1.0],
        (meter(sim, m), ENERGIZATION_LOAD_SIDE): [0.0],
    }


def test_get_end_device_events_returns_what_the_devices_reported(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = electric(sim)
    transformer = int(sim.fleet.transformer[m])
    start, end = T0 - timedelta(hours=3), T0 - timedelta(hours=2)
    sim.inject_outage("transformer", transformer, start, end)
    query = GetEndDeviceEvents(
        meter=(Meter(mrid=meter(sim, m)),),
        end_device_event_type=(QueryEventType(mrid="*.26.0.*"),),
        time_schedule=(
            TimeSchedule(schedule_interval=DateTimeInterval(start=T0 - timedelta(days=1), end=T0)),
        ),
    )
    result = he.handle(request("get", "EndDeviceEvents", query=query), store, clock)
    assert result.result is ReplyResult.OK
    reply = result.reply
    assert isinstance(reply, ResponseMessage) and reply.payload is not None
    document = reply.payload.document
    assert isinstance(document, EndDeviceEvents)
    seen = [
        (e.end_device_event_type.ref if e.end_device_event_type else None, e.created_date_time)
        for e in document.end_device_event
    ]
    assert seen == [("3.26.0.85", start), ("3.26.0.216", end)]
    assert all(e.assets and e.assets.mrid == meter(sim, m) for e in document.end_device_event)


def test_get_end_device_events_asynchronously(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    query = GetEndDeviceEvents(meter=(Meter(mrid=meter(sim, 0)),))
    result = he.handle(
        request("get", "EndDeviceEvents", query=query, asynchronous=True, correlation="ev-1"),
        store,
        clock,
    )
    assert result.result is ReplyResult.OK
    assert errors_of(result) == [("2.13", "INFORM")]  # no range given: the last day assumed
    outgoing = he.tick(clock.now(), store)
    (out,) = to(outgoing, REPLY_TO)
    assert (out.verb, out.noun, out.correlation_id) == ("reply", "EndDeviceEvents", "ev-1")


def test_a_malformed_event_type_pattern_fails_the_request(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    query = GetEndDeviceEvents(end_device_event_type=(QueryEventType(mrid="3.26.x"),))
    result = he.handle(request("get", "EndDeviceEvents", query=query), store, clock)
    assert result.result is ReplyResult.FAILED
    assert errors_of(result) == [("2.8", "FATAL")]
