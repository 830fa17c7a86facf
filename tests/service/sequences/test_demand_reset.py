"""Digest 4.9: demand reset. The MDM orders a demand reset; at release the head-end captures
the billing snapshot (maximum demand before the reset, `created MeterReadings`), resets, and
reports the outcome (`3.8.0.44` processed) with the meter's `3.8.0.215` demand reset occurred
to the ReplyAddress. A read afterwards finds the register at zero."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.codes import named
from cimmeter.message.envelope import EventMessage
from cimmeter.store.base import EventQuery
from cimmeter.store.records import ControlState
from tests.service.sequences.conftest import MAX_DEMAND, MDM_REPLIES, System


def test_demand_reset(system: System) -> None:
    index = system.electric()
    m = system.meter(index)
    expected = system.sim.max_demand_kw(index, int(system.clock.now().timestamp()))
    request = system.mdm_sends(
        lambda tx, now: system.mdm.issue_control(
            tx, now, control_type=named.DEMAND_RESET, devices=[m], reason="billing cycle end"
        )
    )
    correlation = request.correlation_id
    mark = system.exchange.mark()
    system.tick(timedelta(minutes=1))
    flow = [
        (e.sender, e.receiver, e.verb, e.noun, e.destination) for e in system.exchange.log[mark:]
    ]
    assert ("headend", "mdm", "created", "EndDeviceEvents", MDM_REPLIES) in flow
    assert ("headend", "mdm", "created", "MeterReadings", "topic:created.MeterReadings") in flow
    assert (
        "headend",
        "mdm",
        "executed",
        "EndDeviceControls",
        "topic:executed.EndDeviceControls",
    ) in flow
    (outcome,) = system.exchange.find(
        since=mark, correlation_id=correlation, noun="EndDeviceEvents"
    )
    message = outcome.message
    assert isinstance(message, EventMessage) and message.payload is not None
    assert [e.end_device_event_type.ref for e in message.payload.document.end_device_event] == [  # type: ignore[union-attr]
        "3.8.0.44",
        "3.8.0.215",
    ]
    # MDM store: the billing snapshot and the events; the control executed
    (snapshot,) = system.mdm_readings(m, MAX_DEMAND)
    assert snapshot.values.tolist() == [expected] and expected > 0
    with system.mdm_store.snapshot() as reader:
        events = reader.query_events(EventQuery(devices=[m], type_patterns=["*.8.0.*"]))
        (control,) = reader.find_controls(correlation_id=correlation)
    assert sorted(e.type_code for e in events) == ["3.8.0.215", "3.8.0.44"]
    assert control.state is ControlState.EXECUTED
    # the register ten minutes after the reset
    system.tick(timedelta(minutes=10))
    system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx, now, meters=[m], reading_types=[MAX_DEMAND], asynchronous=False
        )
    )
    (after,) = system.mdm_readings(m, MAX_DEMAND)
    assert after.values.tolist() == [expected, 0.0]
    with system.he_store.snapshot() as reader:
        (done,) = reader.find_controls(correlation_id=correlation)
    assert done.state is ControlState.EXECUTED
