"""The MDM following the controls it issued (digest 4.7, 4.8, 4.17 notes 1, 3, 4).

A control we send (`MdmService.issue_control`) is one record per device, state `requested`,
with the request's CorrelationID. What comes back moves it along; every form the digest lists
is accepted (DECISIONS.md, control outcomes):
- the head-end's reply to our request (`reply EndDeviceControls`, any verb): Result FAILED ->
  every control of the request `failed`; OK / PARTIAL -> `acknowledged`, except the devices an
  Error names in its ID (or details) -> `failed`;
- lifecycle notices `created` / `changed` EndDeviceControls -> `acknowledged`, `executed` ->
  `executed`, `canceled` -> `cancelled` (digest 4.7 step 4, M), for the devices they name (all
  when they name none);
- outcome events (`created EndDeviceEvents` with the control code's last field replaced) ->
  executed / failed / cancelled / expired (`mdm_events.follow_control_outcomes`);
- no outcome by the expiry time -> `expired` (`tick`, job `request-expiry`).
A control in a final state stays there; a late message about it changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from cimmeter.message.envelope import ReplyResult
from cimmeter.message.verbs import Verb
from cimmeter.model.end_device_controls import EndDeviceControls
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.mdm_events import OUTCOME_STATES
from cimmeter.store.base import StoreTransaction
from cimmeter.store.records import ControlRecord, ControlState

FINAL_STATES = frozenset(OUTCOME_STATES.values())

CONTROL_EVENT_VERBS: dict[str, ControlState] = {
    "created": ControlState.ACKNOWLEDGED,
    "changed": ControlState.ACKNOWLEDGED,
    "executed": ControlState.EXECUTED,
    "canceled": ControlState.CANCELLED,
}
"""Lifecycle notice verb -> the state it reports (digest 4.7 step 4, M)."""


def _move(
    tx: StoreTransaction, control: ControlRecord, state: ControlState, at: datetime, detail: str
) -> None:
    if control.state in FINAL_STATES or control.state is state:
        return
    if state is ControlState.ACKNOWLEDGED and control.state not in (
        ControlState.REQUESTED,
        ControlState.SENT,
    ):
        return  # an acknowledgement after an outcome says nothing new
    tx.transition_control(control.mrid, state, at, detail)


def control_reply(ctx: HandlerContext) -> Handled:
    """The head-end's answer to our create EndDeviceControls (module docstring)."""
    ctx.ok()
    correlation = ctx.header.correlation_id
    request = ctx.correlated
    if not correlation or request is None or request.verb != Verb.create.value:
        return Handled()  # the answer to a cancel/change: its outcome comes as events
    reply = ctx.inbound.reply
    if reply is None:
        return Handled()
    failed_devices: dict[str, str] = {}
    for error in reply.errors:
        text = error.details or error.reason or error.code
        if error.id is not None and error.id.value:
            failed_devices[error.id.value] = text
    for control in ctx.tx.find_controls(correlation_id=correlation):
        if reply.result is ReplyResult.FAILED:
            _move(ctx.tx, control, ControlState.FAILED, ctx.now, _errors_text(ctx))
        elif control.device_mrid is not None and control.device_mrid in failed_devices:
            _move(
                ctx.tx, control, ControlState.FAILED, ctx.now, failed_devices[control.device_mrid]
            )
        else:
            _move(
                ctx.tx, control, ControlState.ACKNOWLEDGED, ctx.now, f"reply {reply.result.value}"
            )
    return Handled()


def _errors_text(ctx: HandlerContext) -> str:
    reply = ctx.inbound.reply
    if reply is None or not reply.errors:
        return "reply FAILED"
    return "; ".join(e.details or e.reason or e.code for e in reply.errors)


def control_notice(ctx: HandlerContext) -> Handled:
    """`created`/`changed`/`executed`/`canceled` EndDeviceControls from the head-end."""
    ctx.ok()
    correlation = ctx.header.correlation_id
    if not correlation:
        return Handled()
    state = CONTROL_EVENT_VERBS[ctx.inbound.verb.value]
    named: set[str] = set()
    document = ctx.inbound.document
    if isinstance(document, EndDeviceControls):
        named = {d.mrid for c in document.end_device_control for d in c.end_devices if d.mrid}
    for control in ctx.tx.find_controls(correlation_id=correlation):
        if named and control.device_mrid not in named:
            continue
        _move(ctx.tx, control, state, ctx.now, f"{ctx.inbound.verb.value} EndDeviceControls")
    return Handled()


def expire_controls(tx: StoreTransaction, correlation: str, now: datetime) -> None:
    """Controls of a request still without outcome at its expiry time become `expired`."""
    for control in tx.find_controls(correlation_id=correlation):
        _move(tx, control, ControlState.EXPIRED, now, "no outcome before the expiry time")


__all__ = [
    "CONTROL_EVENT_VERBS",
    "FINAL_STATES",
    "control_notice",
    "control_reply",
    "expire_controls",
]
