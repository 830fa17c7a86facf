"""Read schedules at the head-end (digest 4.12) and their execution (4.1); the collection of
device events (4.5, 4.6)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import ReplyResult, ResponseMessage
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.meter_read_schedule import (
    EndDevice,
    MeterReadSchedule,
    ReadingType,
    TimeSchedule,
)
from cimmeter.service.clock import ManualClock
from cimmeter.service.headend_schedules import occurrences
from cimmeter.store.base import Store
from cimmeter.store.records import ObjectKind
from cimmeter.xml.stream import MeterReadingsReader
from tests.service.conftest import T0, Ids, errors_of
from tests.service.headend_support import (
    FWD,
    UNKNOWN,
    electric,
    headend,
    meter,
    quiet_sim,
    request,
    to,
)

READINGS = "topic:created.MeterReadings"


@pytest.fixture
def sim() -> Simulation:
    return quiet_sim()


def _schedule(devices: list[str], period: int = 3600, **timing: object) -> MeterReadSchedule:
    return MeterReadSchedule(
        end_device=tuple(EndDevice(mrid=d) for d in devices),
        reading_type=(ReadingType(mrid=FWD),),
        time_schedule=(TimeSchedule(recurrence_period=period, **timing),),  # type: ignore[arg-type]
    )


def _readings(body: bytes) -> dict[str, int]:
    reader = MeterReadingsReader(body)
    out: dict[str, int] = {}
    for chunk in reader.meter_readings():
        for block in chunk.blocks:
            assert block.meter is not None and block.meter.mrid is not None
            out[block.meter.mrid] = out.get(block.meter.mrid, 0) + len(block)
    return out


def test_occurrences_follow_period_offset_and_validity() -> None:
    schedule = _schedule(
        ["x"],
        period=86400,
        offset=3600,
        schedule_interval=DateTimeInterval(start=T0, end=T0 + timedelta(days=2, hours=1)),
    )
    got = list(occurrences(schedule, T0))
    assert got == [
        (T0 - timedelta(hours=23), T0 + timedelta(hours=1)),
        (T0 + timedelta(hours=1), T0 + timedelta(days=1, hours=1)),
        (T0 + timedelta(days=1, hours=1), T0 + timedelta(days=2, hours=1)),
    ]
    assert list(occurrences(_schedule(["x"], disabled=True), T0)) == []


def test_a_schedule_publishes_created_meter_readings_at_each_occurrence(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    a = meter(sim, electric(sim))
    result = he.handle(
        request("create", "MeterReadSchedule", document=_schedule([a, UNKNOWN]), ids=["hourly"]),
        store,
        clock,
    )
    assert result.result is ReplyResult.PARTIAL
    assert [i.value for i in result.reply.reply.ids] == ["hourly"]
    clock.set(T0 + timedelta(hours=2, minutes=1))
    published = to(he.tick(clock.now(), store), READINGS)
    assert [_readings(p.body) for p in published] == [{a: 4}, {a: 4}]
    assert all(p.verb == "created" for p in published)
    got = he.handle(request("get", "MeterReadSchedule", ids=["hourly"]), store, clock)
    assert isinstance(got.reply, ResponseMessage) and got.reply.payload is not None
    assert isinstance(got.reply.payload.document, MeterReadSchedule)


def test_a_changed_schedule_runs_on_its_new_period_and_a_deleted_one_stops(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    a = meter(sim, electric(sim))
    he.handle(
        request("create", "MeterReadSchedule", document=_schedule([a]), ids=["s"]), store, clock
    )
    changed = he.handle(
        request("change", "MeterReadSchedule", document=_schedule([a], period=7200), ids=["s"]),
        store,
        clock,
    )
    assert changed.result is ReplyResult.OK
    clock.set(T0 + timedelta(hours=4))
    published = to(he.tick(clock.now(), store), READINGS)
    assert [_readings(p.body) for p in published] == [{a: 8}, {a: 8}]
    deleted = he.handle(request("delete", "MeterReadSchedule", ids=["s"]), store, clock)
    assert deleted.result is ReplyResult.OK
    clock.set(T0 + timedelta(hours=10))
    assert to(he.tick(clock.now(), store), READINGS) == []
    with store.snapshot() as reader:
        history = reader.object_history(ObjectKind.READ_SCHEDULE, "s")
    assert [h.version for h in history][-1] >= 2
    missing = he.handle(request("cancel", "MeterReadSchedule", ids=["s"]), store, clock)
    assert missing.result is ReplyResult.FAILED
    assert errors_of(missing)[0][0] == "2.2"


def test_a_schedule_needs_a_recurrence_or_time_points(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    document = MeterReadSchedule(end_device=(EndDevice(mrid=meter(sim, 0)),))
    result = he.handle(request("create", "MeterReadSchedule", document=document), store, clock)
    assert result.result is ReplyResult.FAILED
    with store.snapshot() as reader:
        assert reader.count_objects(ObjectKind.READ_SCHEDULE) == 0


def test_device_events_are_collected_and_published_once(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    he.start(store, clock.now())
    he.start(store, clock.now())  # idempotent: one collection planted
    m = electric(sim)
    sim.inject_outage(
        "transformer",
        int(sim.fleet.transformer[m]),
        T0 + timedelta(minutes=2),
        T0 + timedelta(minutes=20),
    )
    under = [
        meter(sim, i)
        for i in range(sim.fleet.n)
        if sim.fleet.transformer[i] == sim.fleet.transformer[m]
    ]
    clock.set(T0 + timedelta(minutes=10))
    first = he.tick(clock.now(), store)
    clock.set(T0 + timedelta(minutes=30))
    second = he.tick(clock.now(), store)
    assert {o.destination for o in first + second} == {"topic:created.EndDeviceEvents"}
    off = [o.body.decode() for o in first]
    on = [o.body.decode() for o in second]
    assert all("3.26.0.85" in text for text in off) and len(off) == 1
    assert all(d in off[0] for d in under)
    assert "3.26.0.216" in on[0] and "3.26.0.85" not in on[0]
    clock.set(T0 + timedelta(minutes=40))
    assert he.tick(clock.now(), store) == []
