"""The head-end executing EndDeviceControls (digest 4.7-4.9, 4.13): acceptance, release at the
scheduled time from `tick`, outcomes to ReplyAddress, lifecycle notices, retries and expiry,
cancel and change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.headend.devices import RelayState
from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import EventMessage, ReplyResult
from cimmeter.model.end_device_controls import EndDeviceControls, PanDemandResponse
from cimmeter.model.end_device_events import EndDeviceEvents
from cimmeter.service.clock import ManualClock
from cimmeter.service.core import Outgoing
from cimmeter.service.headend_controls import MAX_EXECUTION_TIME
from cimmeter.store.base import Store
from cimmeter.store.records import ControlState
from tests.service.conftest import T0, Ids, errors_of
from tests.service.headend_support import (
    MAX_DEMAND,
    REPLY_TO,
    UNKNOWN,
    control,
    electric,
    headend,
    meter,
    parsed,
    quiet_sim,
    request,
    to,
)

DISCONNECT, CONNECT = "3.31.0.23", "3.31.0.18"
LC_START, DEMAND_RESET, TOU = "3.15.0.54", "3.8.0.214", "3.20.121.13"


@pytest.fixture
def sim() -> Simulation:
    return quiet_sim()


def _events(out: Outgoing) -> tuple[EventMessage, list[tuple[str, str]]]:
    message = parsed(out)
    assert isinstance(message, EventMessage)
    document = message.payload.document if message.payload else None
    assert isinstance(document, EndDeviceEvents)
    return message, [
        (
            e.end_device_event_type.ref if e.end_device_event_type else "",
            e.assets.mrid if e.assets and e.assets.mrid else "",
        )
        for e in document.end_device_event
    ]


def _states(store: Store, correlation: str) -> dict[str, ControlState]:
    with store.snapshot() as reader:
        return {
            c.device_mrid or "": c.state for c in reader.find_controls(correlation_id=correlation)
        }


def test_a_disconnect_is_accepted_then_released_at_its_time(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = electric(sim)
    release = T0 + timedelta(hours=1)
    message = request(
        "create",
        "EndDeviceControls",
        document=control(DISCONNECT, [meter(sim, m), UNKNOWN], start=release),
        asynchronous=True,
        correlation="dc-1",
    )
    result = he.handle(message, store, clock)
    assert result.result is ReplyResult.PARTIAL
    assert [e.id.value for e in result.reply.reply.errors if e.id] == [UNKNOWN]
    (notice,) = result.outgoing
    assert (notice.destination, notice.verb, notice.noun, notice.correlation_id) == (
        "topic:created.EndDeviceControls",
        "created",
        "EndDeviceControls",
        "dc-1",
    )
    assert _states(store, "dc-1") == {meter(sim, m): ControlState.ACKNOWLEDGED}
    clock.advance(timedelta(minutes=30))
    assert he.tick(clock.now(), store) == []
    clock.set(release)
    outgoing = he.tick(clock.now(), store)
    (outcome,) = to(outgoing, REPLY_TO)
    message_, events = _events(outcome)
    assert (outcome.verb, outcome.noun, outcome.correlation_id) == (
        "created",
        "EndDeviceEvents",
        "dc-1",
    )
    assert events == [("3.31.0.68", meter(sim, m))]
    assert message_.reply is not None and message_.reply.result is ReplyResult.OK
    (executed,) = to(outgoing, "topic:executed.EndDeviceControls")
    document = parsed(executed).document  # type: ignore[attr-defined]
    assert isinstance(document, EndDeviceControls)
    assert [d.mrid for d in document.end_device_control[0].end_devices] == [meter(sim, m)]
    assert _states(store, "dc-1") == {meter(sim, m): ControlState.EXECUTED}
    assert sim.relay(m, int(release.timestamp())) is RelayState.OPEN


def test_an_unreachable_device_is_retried_then_expires(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = electric(sim)
    sim.inject_outage(
        "transformer",
        int(sim.fleet.transformer[m]),
        T0 - timedelta(hours=1),
        T0 + timedelta(hours=5),
    )
    message = request(
        "create",
        "EndDeviceControls",
        document=control(CONNECT, [meter(sim, m)]),
        asynchronous=True,
        correlation="c-exp",
        options=[(MAX_EXECUTION_TIME, "3600")],
    )
    assert he.handle(message, store, clock).result is ReplyResult.OK
    assert to(he.tick(clock.now(), store), REPLY_TO) == []  # not reachable: retried later
    assert _states(store, "c-exp") == {meter(sim, m): ControlState.ACKNOWLEDGED}
    clock.advance(timedelta(minutes=30))
    assert to(he.tick(clock.now(), store), REPLY_TO) == []
    clock.advance(timedelta(minutes=30))
    (outcome,) = to(he.tick(clock.now(), store), REPLY_TO)
    message_, events = _events(outcome)
    assert events == [("3.31.0.64", meter(sim, m))]
    assert message_.reply is not None and message_.reply.result is ReplyResult.FAILED
    assert [e.code for e in message_.reply.errors] == ["3.3"]
    assert _states(store, "c-exp") == {meter(sim, m): ControlState.EXPIRED}
    clock.advance(timedelta(days=1))
    assert he.tick(clock.now(), store) == []


def test_a_bad_maximum_execution_time_fails_the_request(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    message = request(
        "create",
        "EndDeviceControls",
        document=control(CONNECT, [meter(sim, 0)]),
        asynchronous=True,
        options=[(MAX_EXECUTION_TIME, "soon")],
    )
    result = he.handle(message, store, clock)
    assert result.result is ReplyResult.FAILED
    assert errors_of(result) == [("2.9", "FATAL")]


def test_a_cancel_before_release_reports_cancelled_to_the_original_requester(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    a, b = meter(sim, electric(sim)), meter(sim, electric(sim, skip=1))
    create = request(
        "create",
        "EndDeviceControls",
        document=control(DISCONNECT, [a, b], start=T0 + timedelta(hours=2)),
        asynchronous=True,
        correlation="dc-2",
    )
    he.handle(create, store, clock)
    cancel = request("cancel", "EndDeviceControls", correlation="dc-2")
    result = he.handle(cancel, store, clock)
    assert result.result is ReplyResult.OK
    (outcome,) = to(result.outgoing, REPLY_TO)
    _, events = _events(outcome)
    assert sorted(events) == sorted([("3.31.0.10", a), ("3.31.0.10", b)])
    assert to(result.outgoing, "topic:canceled.EndDeviceControls")
    assert _states(store, "dc-2") == {a: ControlState.CANCELLED, b: ControlState.CANCELLED}
    clock.set(T0 + timedelta(hours=3))
    assert to(he.tick(clock.now(), store), REPLY_TO) == []
    again = he.handle(request("cancel", "EndDeviceControls", correlation="dc-2"), store, clock)
    assert again.result is ReplyResult.FAILED
    assert errors_of(again)[0][0] == "2.15"


def test_a_change_moves_the_release_time(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = meter(sim, electric(sim))
    he.handle(
        request(
            "create",
            "EndDeviceControls",
            document=control(DISCONNECT, [m], start=T0 + timedelta(hours=1), mrid="ctl-9"),
            asynchronous=True,
            correlation="dc-3",
        ),
        store,
        clock,
    )
    change = request(
        "change",
        "EndDeviceControls",
        document=control(DISCONNECT, [m], start=T0 + timedelta(hours=4), mrid="ctl-9"),
        correlation="dc-3",
    )
    result = he.handle(change, store, clock)
    assert result.result is ReplyResult.OK
    assert to(result.outgoing, "topic:changed.EndDeviceControls")
    clock.set(T0 + timedelta(hours=2))
    assert to(he.tick(clock.now(), store), REPLY_TO) == []
    clock.set(T0 + timedelta(hours=4))
    (outcome,) = to(he.tick(clock.now(), store), REPLY_TO)
    assert _events(outcome)[1] == [("3.31.0.68", m)]
    with store.snapshot() as reader:
        states = sorted(
            (c.mrid, c.state.value) for c in reader.find_controls(correlation_id="dc-3")
        )
    assert states == [(f"ctl-9:{m}", "cancelled"), (f"ctl-9~1:{m}", "executed")]


def test_a_running_load_control_cancelled_stops_early(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    index = electric(sim, enrolled=True)
    m = meter(sim, index)
    document = control(
        LC_START,
        [m],
        start=T0 + timedelta(hours=1),
        end=T0 + timedelta(hours=3),
        pan_demand_response=PanDemandResponse(avg_load_adjustment=-40),
    )
    he.handle(
        request(
            "create", "EndDeviceControls", document=document, asynchronous=True, correlation="dr-1"
        ),
        store,
        clock,
    )
    clock.set(T0 + timedelta(hours=1))
    (started,) = to(he.tick(clock.now(), store), REPLY_TO)
    assert _events(started)[1] == [("3.15.0.44", m)]
    window = sim.state.load_control[index][0]
    assert window.shed == pytest.approx(0.4)
    clock.set(T0 + timedelta(hours=2))
    result = he.handle(request("cancel", "EndDeviceControls", correlation="dr-1"), store, clock)
    assert result.result is ReplyResult.OK
    (cancelled,) = to(result.outgoing, REPLY_TO)
    assert _events(cancelled)[1] == [("3.15.0.10", m)]
    assert sim.state.load_control[index][0].end == int((T0 + timedelta(hours=2)).timestamp())


def test_a_demand_reset_reports_the_outcome_the_reset_and_the_billing_snapshot(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = meter(sim, electric(sim))
    he.handle(
        request(
            "create", "EndDeviceControls", document=control(DEMAND_RESET, [m]), asynchronous=True
        ),
        store,
        clock,
    )
    outgoing = he.tick(clock.now(), store)
    (outcome,) = to(outgoing, REPLY_TO)
    assert _events(outcome)[1] == [("3.8.0.44", m), ("3.8.0.215", m)]
    (snapshot,) = to(outgoing, "topic:created.MeterReadings")
    text = snapshot.body.decode()
    assert MAX_DEMAND in text and m in text


def test_a_tou_calendar_loads_now_and_activates_at_its_start(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    he.start(store, clock.now())
    m = meter(sim, electric(sim))
    activation = T0 + timedelta(days=1)
    he.handle(
        request(
            "create",
            "EndDeviceControls",
            document=control(TOU, [m], start=activation),
            asynchronous=True,
            correlation="tou-1",
        ),
        store,
        clock,
    )
    clock.advance(timedelta(minutes=1))
    (outcome,) = to(he.tick(clock.now(), store), REPLY_TO)
    assert _events(outcome)[1] == [("3.20.121.44", m), ("3.20.121.58", m)]
    clock.set(activation + timedelta(minutes=5))
    published = to(he.tick(clock.now(), store), "topic:created.EndDeviceEvents")
    codes = [code for out in published for code, _ in _events(out)[1]]
    assert "3.20.121.4" in codes


def test_controls_need_a_known_code_and_a_payload(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    bad = he.handle(
        request(
            "create",
            "EndDeviceControls",
            document=control("3.31.x.23", [meter(sim, 0)]),
            asynchronous=True,
        ),
        store,
        clock,
    )
    assert bad.result is ReplyResult.FAILED
    assert errors_of(bad)[0][0] == "2.8"
    empty = he.handle(request("create", "EndDeviceControls", asynchronous=True), store, clock)
    assert empty.result is ReplyResult.FAILED
    assert errors_of(empty)[0][0] == "2.1"
