"""Digest 4.13: TOU programming and firmware upgrade as EndDeviceControls. The head-end
downloads the calendar / image at once and reports the outcome (`...44` processed) with
"TOU programmed" / "firmware ready for activation"; at the activation time (the control's
`primaryDeviceTiming/interval/start`) the meters report "TOU activated" / "firmware
activated", which reach the MDM through the head-end's event collection. A meter that is
dark when the control is released is retried, and expires (`...64`) when it stays dark."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.envelope import EventMessage, ReplyResult
from cimmeter.store.base import EventQuery
from cimmeter.store.records import ControlState
from tests.service.conftest import T0
from tests.service.sequences.conftest import MDM_REPLIES, System

TOU_CHANGE = "3.20.121.13"
FIRMWARE = "3.11.83.13"


def _outcomes(system: System, correlation: str | None) -> list[list[tuple[str, str]]]:
    out = []
    for e in system.exchanged(correlation_id=correlation, noun="EndDeviceEvents"):
        if e.destination != MDM_REPLIES:
            continue
        message = e.message
        assert isinstance(message, EventMessage) and message.payload is not None
        out.append(
            [
                (x.end_device_event_type.ref, x.assets.mrid)  # type: ignore[union-attr]
                for x in message.payload.document.end_device_event  # type: ignore[union-attr]
            ]
        )
    return out


def test_tou_firmware(system: System) -> None:
    a = system.electric()
    dark = next(i for i in range(system.sim.fleet.n) if i not in system.same_transformer(a))
    ma, md = system.meter(a), system.meter(dark)
    system.sim.inject_outage(
        "transformer", int(system.sim.fleet.transformer[dark]), T0, T0 + timedelta(days=3)
    )
    activation = T0 + timedelta(days=1)
    tou = system.mdm_sends(
        lambda tx, now: system.mdm.issue_control(
            tx,
            now,
            control_type=TOU_CHANGE,
            devices=[ma],
            start=activation,
            timeout=timedelta(days=2),
        )
    )
    firmware = system.mdm_sends(
        lambda tx, now: system.mdm.issue_control(
            tx,
            now,
            control_type=FIRMWARE,
            devices=[ma, md],
            start=activation + timedelta(hours=2),
            timeout=timedelta(days=2),
        )
    )
    system.tick(timedelta(minutes=1))
    assert _outcomes(system, tou.correlation_id) == [[("3.20.121.44", ma), ("3.20.121.58", ma)]]
    assert _outcomes(system, firmware.correlation_id) == [
        [("3.11.83.44", ma), ("3.11.283.280", ma)]
    ]
    system.exchange.run_until(activation + timedelta(hours=3), timedelta(hours=1))
    with system.mdm_store.snapshot() as reader:
        activated = reader.query_events(EventQuery(devices=[ma], type_patterns=["*.*.*.4"]))
        tou_controls = reader.find_controls(correlation_id=tou.correlation_id)
    assert sorted((e.type_code, e.created) for e in activated) == [
        ("3.11.283.4", activation + timedelta(hours=2)),
        ("3.20.121.4", activation),
    ]
    assert [c.state for c in tou_controls] == [ControlState.EXECUTED]
    # the dark meter: retried until the MaximumExecutionTime (a day by default), then expired
    (expired,) = _outcomes(system, firmware.correlation_id)[1:]
    assert expired == [("3.11.83.64", md)]
    last = [
        e.message
        for e in system.exchanged(correlation_id=firmware.correlation_id, noun="EndDeviceEvents")
        if e.destination == MDM_REPLIES
    ][-1]
    assert last.reply.result is ReplyResult.FAILED  # type: ignore[attr-defined]
    with system.mdm_store.snapshot() as reader:
        states = {
            c.device_mrid: c.state
            for c in reader.find_controls(correlation_id=firmware.correlation_id)
        }
    assert states == {ma: ControlState.EXECUTED, md: ControlState.EXPIRED}
    with system.he_store.snapshot() as reader:
        he_states = {
            c.device_mrid: c.state
            for c in reader.find_controls(correlation_id=firmware.correlation_id)
        }
    assert he_states == states
