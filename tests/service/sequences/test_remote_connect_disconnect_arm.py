"""Digest 4.7: remote disconnect, connect and arm for closure. For each control: the MDM sends
`create EndDeviceControls` (asynchronous, its ReplyAddress, a CorrelationID); the head-end
accepts (`reply`, 0.3) and publishes `created EndDeviceControls`; at the release time it
operates the switch and sends the outcome as `created EndDeviceEvents` to the ReplyAddress
(`3.31.0.68` disconnected, `3.31.0.42` connected, `3.31.0.11` armed, with "Contactor status"),
publishes `executed EndDeviceControls`, and its event collection publishes the meter's own
relay-state event. The MDM follows each control to `executed`. After the arm, the customer
presses the button: the meter's "connected" event reaches the MDM."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.codes import named
from cimmeter.headend.devices import RelayState
from cimmeter.message.envelope import EventMessage, ReplyResult
from cimmeter.store.base import EventQuery
from cimmeter.store.records import ControlState
from tests.service.conftest import T0
from tests.service.sequences.conftest import MDM_REPLIES, System


def test_remote_connect_disconnect_arm(system: System) -> None:
    index = system.electric()
    m = system.meter(index)
    steps = [
        (named.REMOTE_DISCONNECT, "3.31.0.68", "Opened", RelayState.OPEN),
        (named.REMOTE_CONNECT, "3.31.0.42", "Closed", RelayState.CLOSED),
        (named.ARM_FOR_CLOSURE, "3.31.0.11", "Armed", RelayState.ARMED),
    ]
    correlations = []
    for n, (code, outcome, status, relay) in enumerate(steps):
        mark = system.exchange.mark()
        at = T0 + timedelta(hours=n)
        system.tick(to=at)
        request = system.mdm_sends(
            lambda tx, now, code=code, order=f"order-{n}": system.mdm.issue_control(  # type: ignore[misc]
                tx, now, control_type=code, devices=[m], issuer_tracking_id=order
            )
        )
        correlation = request.correlation_id
        correlations.append(correlation)
        system.tick(timedelta(minutes=6))
        about = system.exchange.find(since=mark, correlation_id=correlation)
        assert [(e.sender, e.receiver, e.verb, e.noun, e.result) for e in about] == [
            ("mdm", "headend", "create", "EndDeviceControls", "OK"),
            ("headend", "mdm", "reply", "EndDeviceControls", "OK"),
            ("headend", "mdm", "created", "EndDeviceControls", "OK"),
            ("headend", "mdm", "created", "EndDeviceEvents", "OK"),
            ("headend", "mdm", "executed", "EndDeviceControls", "OK"),
        ]
        outcome_message = about[3]
        assert outcome_message.destination == MDM_REPLIES
        message = outcome_message.message
        assert isinstance(message, EventMessage)
        assert message.reply is not None and message.reply.result is ReplyResult.OK
        assert message.payload is not None
        (event,) = message.payload.document.end_device_event  # type: ignore[union-attr]
        assert event.end_device_event_type.ref == outcome  # type: ignore[union-attr]
        assert event.issuer_tracking_id == f"order-{n}"
        assert [(d.name, d.value) for d in event.end_device_event_details] == [
            ("Contactor status", status)
        ]
        # the relay-state event of the meter itself, from the head-end's event collection
        relay_events = [
            e
            for e in system.exchange.find(since=mark, sender="headend", noun="EndDeviceEvents")
            if e.destination == "topic:created.EndDeviceEvents"
        ]
        assert len(relay_events) == 1 and outcome in relay_events[0].body.decode()
        assert system.sim.relay(index, int(system.clock.now().timestamp())) is relay

    # the customer presses the button two hours after the arm
    pressed = T0 + timedelta(hours=4)
    assert system.sim.press_button(index, int(pressed.timestamp()))
    system.tick(to=pressed + timedelta(minutes=10))

    with system.mdm_store.snapshot() as reader:
        states = [[c.state for c in reader.find_controls(correlation_id=c)] for c in correlations]
        switch_events = reader.query_events(EventQuery(devices=[m], type_patterns=["*.31.*.*"]))
    assert states == [[ControlState.EXECUTED]] * 3
    by_code = sorted((e.type_code, e.correlation_id is not None) for e in switch_events)
    assert by_code == [
        ("3.31.0.11", False),
        ("3.31.0.11", True),
        ("3.31.0.42", False),
        ("3.31.0.42", False),  # the customer's button
        ("3.31.0.42", True),
        ("3.31.0.68", False),
        ("3.31.0.68", True),
    ]
    customer = [e for e in switch_events if e.created == pressed]
    assert [e.reason for e in customer] == ["customer pressed the button"]
    with system.he_store.snapshot() as reader:
        for correlation in correlations:
            (control,) = reader.find_controls(correlation_id=correlation)
            assert control.state is ControlState.EXECUTED
            assert [s.value for s, _, _ in control.transitions] == [
                "requested",
                "acknowledged",
                "executed",
            ]
