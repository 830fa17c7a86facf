"""Digest 4.8: load control and demand response, with cancel. The MDM (for the LMS) schedules
a load-control event for an enrolled and a non-enrolled meter: the head-end accepts both,
starts the event at its time on the enrolled one (its load drops) and reports the other
failed (not enrolled, PARTIAL). A second event is cancelled before it starts (`...10`
cancelled, nothing happens), a third is cancelled while it runs (the meter's event ends early)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.codes import named
from cimmeter.message.envelope import EventMessage, ReplyResult
from cimmeter.store.records import ControlState
from tests.service.conftest import T0
from tests.service.sequences.conftest import FWD, MDM_REPLIES, System, quiet_fleet


def _outcomes(system: System, correlation: str | None) -> list[EventMessage]:
    return [
        e.message  # type: ignore[misc]
        for e in system.exchanged(
            correlation_id=correlation, verb="created", noun="EndDeviceEvents"
        )
        if e.destination == MDM_REPLIES
    ]


def _codes(message: EventMessage) -> list[str]:
    assert message.payload is not None
    return [e.end_device_event_type.ref for e in message.payload.document.end_device_event]  # type: ignore[union-attr]


def test_load_control_demand_response(system: System) -> None:
    enrolled = system.electric(enrolled=True)
    other = system.electric(enrolled=False)
    a, b = system.meter(enrolled), system.meter(other)
    hour = timedelta(hours=1)

    def event(start_in: timedelta, devices: list[str]) -> str:
        out = system.mdm_sends(
            lambda tx, now: system.mdm.issue_control(
                tx,
                now,
                control_type=named.LOAD_CONTROL_START,
                devices=devices,
                start=now + start_in,
                end=now + start_in + 2 * hour,
                timeout=timedelta(hours=6),
            )
        )
        assert out.correlation_id is not None
        return out.correlation_id

    first = event(hour, [a, b])
    system.exchange.run_until(T0 + 2 * hour, timedelta(minutes=15))
    (outcome,) = _outcomes(system, first)
    assert outcome.reply is not None and outcome.reply.result is ReplyResult.PARTIAL
    assert _codes(outcome) == ["3.15.0.44", "3.15.0.79"]
    assert [(e.reason, e.id.value) for e in outcome.reply.errors if e.id] == [
        ("device not enrolled in load control", b)
    ]
    window = system.sim.state.load_control[enrolled][0]
    assert (window.start, window.end) == (
        int((T0 + hour).timestamp()),
        int((T0 + 3 * hour).timestamp()),
    )

    second = event(hour, [a])
    cancel = system.mdm_cancels(second)
    assert (
        system.exchanged(correlation_id=second, verb="reply")[-1].message.reply.result
        is ReplyResult.OK
    )  # type: ignore[attr-defined]
    (cancelled,) = _outcomes(system, second)
    assert _codes(cancelled) == ["3.15.0.10"]
    assert cancel.correlation_id == second

    system.tick(to=T0 + 3 * hour + timedelta(minutes=1))
    third = event(timedelta(minutes=5), [a])
    system.tick(to=T0 + 4 * hour)
    system.mdm_cancels(third)
    started, stopped = _outcomes(system, third)
    assert _codes(started) == ["3.15.0.44"] and _codes(stopped) == ["3.15.0.10"]
    windows = system.sim.state.load_control[enrolled]
    assert len(windows) == 2  # the cancelled-before-start event never reached the meter
    assert windows[1].end == int((T0 + 4 * hour).timestamp())  # ended early

    # the load was shed during the first event (measurement and verification, digest 4.8 step 4)
    read = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx,
            now,
            meters=[a],
            reading_types=[FWD],
            start=T0,
            end=T0 + 3 * hour,
            asynchronous=False,
        )
    )
    assert system.exchanged(correlation_id=read.correlation_id, verb="reply")[0].result == "OK"
    (block,) = system.mdm_readings(a, FWD)
    during = block.values[4:12].sum()  # (01:00, 03:00]
    untouched = quiet_fleet()  # the same fleet, no load control
    (baseline,) = next(
        untouched.generate(T0 + hour, T0 + 3 * hour, meters=[enrolled], channels=["forward"])
    )
    assert during == pytest.approx(0.7 * baseline.values.sum(), rel=0.05)  # 30 % shed

    with system.mdm_store.snapshot() as reader:
        states = {
            c: sorted((r.device_mrid, r.state) for r in reader.find_controls(correlation_id=c))
            for c in (first, second, third)
        }
    assert states[first] == sorted([(a, ControlState.EXECUTED), (b, ControlState.FAILED)])
    assert states[second] == [(a, ControlState.CANCELLED)]
    assert states[third] == [(a, ControlState.EXECUTED)] or states[third] == [
        (a, ControlState.CANCELLED)
    ]
    with system.he_store.snapshot() as reader:
        assert [r.state for r in reader.find_controls(correlation_id=second)] == [
            ControlState.CANCELLED
        ]
