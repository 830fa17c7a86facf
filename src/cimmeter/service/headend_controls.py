"""The head-end executing EndDeviceControls (digest 4.7-4.9, 4.13, 4.17 notes 1, 3, 4).

`create EndDeviceControls`: each EndDeviceControl is checked (its EndDeviceControlType code, its
targets: EndDevices, UsagePoints, EndDeviceGroups; its timing) and stored as one control record
per device (state `acknowledged`, with the request's CorrelationID and ReplyAddress). The reply
accepts (`0.3`; PARTIAL listing the refused devices) and a `created EndDeviceControls` notice
is published. A `headend-control` job releases the control at `primaryDeviceTiming/interval/
start` (now when absent; programs, `PROGRAM_DOMAINS`, are downloaded at once and activate at
that time). Then per device:
- executed -> state `executed`; the outcome event (the control code with its last field set
  by the outcome table of `cimmeter.codes`, e.g. `3.31.0.68` disconnected, `3.8.0.44` demand
  reset processed) and the events the device raised with it;
- the device did not answer -> tried again every `control_retry_interval` until the
  MaximumExecutionTime (Request/Option, seconds; `default_max_execution_time` otherwise), then
  `expired` with the `...64` outcome;
- refused (not supported, not enrolled, bad parameter) -> `failed`, the `...79` (or
  switch-specific) outcome and an Error naming the device.
The outcomes go to ReplyAddress as `created EndDeviceEvents` with the CorrelationID and a Reply
(OK / PARTIAL / FAILED, one Error per failed device); an `executed EndDeviceControls` notice
names the devices that executed. A demand reset's billing snapshot is published as `created
MeterReadings` (digest 4.9 step 3). The device's own state events (relay opened, demand reset
occurred, ...) reach subscribers through the event collection of `tick`.

`cancel EndDeviceControls` names the original by CorrelationID (Connexo) or by the control's
mRID (digest 4.17 note 4): pending devices -> `cancelled` with the `...10` outcome to the
original ReplyAddress; a load control already running is stopped early and reported
cancelled (digest 4.8); nothing left to cancel -> FAILED. `change EndDeviceControls` moves the
pending devices to the new timing (the old records end `cancelled` "superseded").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from cimmeter.codes import CodeError, EndDeviceControlType, named
from cimmeter.headend.events import DeviceEvent
from cimmeter.headend.network import ControlOutcome, ControlRequest
from cimmeter.message.envelope import ID, IDKind
from cimmeter.message.verbs import Verb
from cimmeter.model.end_device_controls import (
    EndDevice,
    EndDeviceControl,
    EndDeviceControls,
)
from cimmeter.model.end_device_events import EndDeviceEvent
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_readings import blocks_to_meter_readings
from cimmeter.service.core import Handled, HandlerContext, JobContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.headend_common import (
    PROGRAM_DOMAINS,
    HeadEnd,
    Named,
    UsagePoints,
    Work,
    device_error,
    end_device_event,
    from_iso,
    iso,
    publish,
    resolve_targets,
    send_outcomes,
)
from cimmeter.service.refs import ref_of
from cimmeter.service.replies import Outcomes, correlation_of
from cimmeter.store.records import ControlRecord, ControlState, Job

CONTROL_JOB: Final = "headend-control"
"""Job kind: release the pending devices of one control (payload: correlation_id, control)."""
EXPIRY_JOB: Final = "headend-control-expiry"
"""Job kind: devices of a control still pending at its MaximumExecutionTime expire."""

MAX_EXECUTION_TIME: Final = "MaximumExecutionTime"
"""Request/Option name (seconds), as Connexo reads it (digest 1.3.2, vendor option, M)."""

_PENDING = (ControlState.ACKNOWLEDGED,)


# -- create --------------------------------------------------------------------------------------


def create_controls(he: HeadEnd, ctx: HandlerContext) -> Handled:
    document = _document(ctx)
    correlation = correlation_of(ctx.header)
    if correlation is None:
        raise RequestFailed(
            ctx.error(
                Problem.MISSING_HEADER_DATA,
                "a control needs a CorrelationID (or MessageID) to report its outcome and to "
                "be cancelled (digest 4.7)",
                path="/Header/CorrelationID",
            )
        )
    limit = _max_execution_time(ctx, he.options.default_max_execution_time)
    accepted: list[EndDeviceControl] = []
    ids: list[ID] = []
    for index, control in enumerate(document.end_device_control, 1):
        path = f"/EndDeviceControls/EndDeviceControl[{index}]"
        key = control.mrid or f"{correlation}#{index}"
        if _records(ctx, correlation, key):
            ctx.fail(
                Problem.OBJECT_EXISTS,
                f"control {key} was already accepted",
                path=path,
                object_id=key,
                object_type="EndDeviceControl",
            )
            continue
        code = _code(ctx, control, path)
        if code is None:
            continue
        timing = _timing(ctx, control, path)
        if timing is None:
            continue
        start, end, duration = timing
        targets = resolve_targets(
            he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, _named(control, path)
        )
        if not targets:
            continue
        release, activation = (ctx.now, start) if code.domain in PROGRAM_DOMAINS else (start, None)
        expires = max(release, ctx.now) + limit
        spec = {
            "control": key,
            "revision": 0,
            "start": iso(start),
            "end": iso(end),
            "duration": duration,
            "activation": iso(activation),
            "params": _params(control),
            "issuerID": control.issuer_id,
            "issuerTrackingID": control.issuer_tracking_id,
        }
        for target in targets:
            _put(ctx, key, target.mrid, code, correlation, release, expires, spec)
        ctx.ok(len(targets))
        _schedule(ctx, correlation, key, release, expires)
        accepted.append(
            control.model_copy(
                update={
                    "mrid": key,
                    "end_devices": tuple(EndDevice(mrid=t.mrid) for t in targets),
                    "usage_points": (),
                    "end_device_groups": (),
                    "usage_point_groups": (),
                }
            )
        )
        ids.append(
            ID(
                value=key,
                kind=IDKind.uuid if control.mrid else None,
                object_type="EndDeviceControl",
            )
        )
    if accepted:
        publish(
            ctx,
            Verb.created,
            "EndDeviceControls",
            EndDeviceControls(end_device_control=tuple(accepted)),
            correlation_id=correlation,
        )
    return Handled(ids=tuple(ids), deferred=True)


def _document(ctx: HandlerContext) -> EndDeviceControls:
    document = ctx.inbound.document
    if not isinstance(document, EndDeviceControls) or not document.end_device_control:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "the Payload needs EndDeviceControls with at least one EndDeviceControl",
                path="/Payload",
            )
        )
    return document


def _records(ctx: Work, correlation: str, key: str) -> list[ControlRecord]:
    return [
        c
        for c in ctx.tx.find_controls(correlation_id=correlation)
        if c.document.get("control") == key
    ]


def _code(ctx: HandlerContext, control: EndDeviceControl, path: str) -> EndDeviceControlType | None:
    ref = control.end_device_control_type.ref if control.end_device_control_type else None
    if not ref:
        ctx.fail(
            Problem.INVALID_ELEMENT,
            "EndDeviceControlType/@ref is required (the control code, digest 3.5)",
            path=f"{path}/EndDeviceControlType",
        )
        return None
    try:
        return EndDeviceControlType.parse(ref)
    except CodeError as exc:
        ctx.fail(
            Problem.MALFORMED_CODE,
            str(exc),
            path=f"{path}/EndDeviceControlType",
            object_id=ref,
            object_type="EndDeviceControlType",
        )
        return None


def _timing(
    ctx: HandlerContext, control: EndDeviceControl, path: str
) -> tuple[datetime, datetime | None, float | None] | None:
    timing = control.primary_device_timing
    interval = timing.interval if timing is not None else None
    start = (interval.start if interval is not None else None) or ctx.now
    end = interval.end if interval is not None else None
    duration = float(timing.duration) if timing is not None and timing.duration else None
    if end is not None and end <= start:
        ctx.fail(
            Problem.INVALID_TIME_RANGE,
            f"interval end {end.isoformat()} is not after its start {start.isoformat()}",
            path=f"{path}/primaryDeviceTiming/interval",
        )
        return None
    return start, end, duration


def _named(control: EndDeviceControl, path: str) -> list[Named]:
    return [
        *(
            Named("EndDevice", f"{path}/EndDevices[{i}]", ref_of(d))
            for i, d in enumerate(control.end_devices, 1)
        ),
        *(
            Named("UsagePoint", f"{path}/UsagePoints[{i}]", ref_of(u))
            for i, u in enumerate(control.usage_points, 1)
        ),
        *(
            Named("EndDeviceGroup", f"{path}/EndDeviceGroups[{i}]", ref_of(g))
            for i, g in enumerate(control.end_device_groups, 1)
        ),
    ]


def _params(control: EndDeviceControl) -> dict[str, str]:
    """Parameters the devices read (`ControlRequest.params`). A load control's share to shed
    comes from PanDemandResponse/avgLoadAdjustment, a percentage (digest 4.8, M: -30 or 30 both
    mean shed 30 %)."""
    params: dict[str, str] = {}
    dr = control.pan_demand_response
    if dr is not None and dr.avg_load_adjustment is not None:
        params["shed"] = f"{abs(float(dr.avg_load_adjustment)) / 100:g}"
    if control.reason:
        params["reason"] = control.reason
    return params


def _max_execution_time(ctx: HandlerContext, default: timedelta) -> timedelta:
    message = ctx.inbound.message
    request = getattr(message, "request", None)
    for option in getattr(request, "options", ()) or ():
        if option.name != MAX_EXECUTION_TIME:
            continue
        try:
            seconds = Decimal(option.value or "")
        except InvalidOperation:
            seconds = Decimal(-1)
        if not seconds.is_finite() or seconds <= 0:
            raise RequestFailed(
                ctx.error(
                    Problem.INVALID_VALUE,
                    f"{MAX_EXECUTION_TIME} must be a positive number of seconds, "
                    f"not {option.value!r}",
                    path="/Request/Option",
                )
            )
        return timedelta(seconds=float(seconds))
    return default


def _put(
    ctx: Work,
    key: str,
    device: str,
    code: EndDeviceControlType,
    correlation: str,
    release: datetime,
    expires: datetime,
    spec: dict[str, Any],
    reply_address: str | None = None,
) -> None:
    address = reply_address
    if address is None and isinstance(ctx, HandlerContext):
        address = ctx.header.reply_address
    ctx.tx.put_control(
        ControlRecord(
            mrid=f"{key}:{device}",
            type_code=str(code),
            device_mrid=device,
            state=ControlState.REQUESTED,
            requested_at=ctx.now,
            correlation_id=correlation,
            reply_address=address,
            scheduled_at=release,
            expires_at=expires,
            document=spec,
        )
    )
    ctx.tx.transition_control(
        f"{key}:{device}",
        ControlState.ACKNOWLEDGED,
        ctx.now,
        f"accepted; released at {release.isoformat()}",
    )


def _schedule(ctx: Work, correlation: str, key: str, release: datetime, expires: datetime) -> None:
    payload = {"correlation_id": correlation, "control": key}
    ctx.tx.schedule_job(Job(CONTROL_JOB, max(release, ctx.now), payload))
    ctx.tx.schedule_job(Job(EXPIRY_JOB, expires, payload))


# -- execution (tick) ----------------------------------------------------------------------------


def run_control_job(he: HeadEnd, ctx: JobContext) -> None:
    correlation = str(ctx.job.payload["correlation_id"])
    key = str(ctx.job.payload["control"])
    due = [
        c
        for c in _records(ctx, correlation, key)
        if c.state in _PENDING and c.scheduled_at is not None and c.scheduled_at <= ctx.now
    ]
    if not due:
        return
    first = due[0]
    spec = first.document
    start = from_iso(spec.get("activation")) or from_iso(spec.get("start"))
    duration = spec.get("duration")
    request = ControlRequest(
        control_type=first.type_code,
        devices=tuple(ObjectRef(mrid=c.device_mrid) for c in due),
        at=ctx.now,
        start=start,
        end=from_iso(spec.get("end")),
        duration=timedelta(seconds=float(duration)) if duration else None,
        params=dict(spec.get("params") or {}),
    )
    outcomes = he.network.execute_control(request)
    report = _Report(he, ctx, first)
    retry = False
    for record, outcome in zip(due, outcomes, strict=True):
        if outcome.succeeded:
            ctx.tx.transition_control(
                record.mrid, ControlState.EXECUTED, ctx.now, f"outcome {outcome.outcome_type}"
            )
            report.executed(record, outcome)
        elif (
            outcome.error is not None
            and outcome.error.kind == "not-reachable"
            and (record.expires_at is None or ctx.now < record.expires_at)
        ):
            retry = True  # digest 4.7: retried until MaximumExecutionTime
        elif outcome.error is not None and outcome.error.kind == "not-reachable":
            report.expire(record)
        else:
            ctx.tx.transition_control(
                record.mrid,
                ControlState.FAILED,
                ctx.now,
                outcome.reason or f"outcome {outcome.outcome_type}",
            )
            report.failed(record, outcome)
    report.send()
    if retry:
        expires = first.expires_at or ctx.now
        ctx.tx.schedule_job(
            Job(
                CONTROL_JOB,
                min(ctx.now + he.options.control_retry_interval, expires),
                dict(ctx.job.payload),
            )
        )


def run_expiry_job(he: HeadEnd, ctx: JobContext) -> None:
    correlation = str(ctx.job.payload["correlation_id"])
    key = str(ctx.job.payload["control"])
    pending = [c for c in _records(ctx, correlation, key) if c.state in _PENDING]
    if not pending:
        return
    report = _Report(he, ctx, pending[0])
    for record in pending:
        report.expire(record)
    report.send()


class _Report:
    """The outcomes of one control, gathered for its requester (module docstring)."""

    def __init__(self, he: HeadEnd, work: Work, record: ControlRecord) -> None:
        self.he = he
        self.work = work
        self.record = record
        self.outcomes = Outcomes()
        self.events: list[EndDeviceEvent] = []
        self.executed_devices: list[str] = []
        self.snapshots: list[Any] = []
        self.usage_points = UsagePoints(work.tx)

    def _event(self, event: DeviceEvent, *, outcome: bool) -> EndDeviceEvent:
        spec = self.record.document
        return end_device_event(
            event,
            self.usage_points.at(event.meter, event.created_date_time),
            key=f"outcome|{self.record.correlation_id}" if outcome else "",
            issuer_id=spec.get("issuerID"),
            issuer_tracking_id=spec.get("issuerTrackingID"),
        )

    def executed(self, record: ControlRecord, outcome: ControlOutcome) -> None:
        self.outcomes.ok()
        assert record.device_mrid is not None
        self.executed_devices.append(record.device_mrid)
        self.events += [self._event(e, outcome=i == 0) for i, e in enumerate(outcome.events)]
        self.snapshots += outcome.readings

    def failed(self, record: ControlRecord, outcome: ControlOutcome) -> None:
        assert outcome.error is not None
        self.outcomes.fail(device_error(self.work.codes, outcome.error))
        self.events += [self._event(e, outcome=i == 0) for i, e in enumerate(outcome.events)]

    def expire(self, record: ControlRecord) -> None:
        self._final(record, ControlState.EXPIRED, "expired", Problem.REQUEST_EXPIRED)

    def cancel(self, record: ControlRecord, note: str) -> None:
        self._final(record, ControlState.CANCELLED, "cancelled", None, note)

    def _final(
        self,
        record: ControlRecord,
        state: ControlState,
        result: str,
        problem: Problem | None,
        note: str | None = None,
    ) -> None:
        if record.state in _PENDING:
            self.work.tx.transition_control(record.mrid, state, self.work.now, note or result)
        code = EndDeviceControlType.parse(record.type_code).outcome(
            "expired" if result == "expired" else "cancelled"
        )
        device = ObjectRef(mrid=record.device_mrid or "")
        if problem is not None:
            limit = record.expires_at.isoformat() if record.expires_at else "its time limit"
            self.outcomes.fail(
                self.work.codes.error(
                    problem,
                    f"device {device.describe()} did not answer before {limit} "
                    f"({MAX_EXECUTION_TIME})",
                    reason="device not reachable; control expired",
                    object_ref=device,
                    object_type="EndDevice",
                )
            )
        else:
            self.outcomes.ok()
        event = DeviceEvent(str(code), self.work.now, self.work.now, device, None, -1, note)
        self.events.append(self._event(event, outcome=True))

    def send(self) -> None:
        correlation = self.record.correlation_id
        send_outcomes(
            self.work,
            address=self.record.reply_address,
            correlation_id=correlation,
            events=self.events,
            outcomes=self.outcomes,
        )
        if self.executed_devices:
            notice = EndDeviceControl.model_validate(
                {
                    "mrid": self.record.document.get("control"),
                    "issuer_id": self.record.document.get("issuerID"),
                    "issuer_tracking_id": self.record.document.get("issuerTrackingID"),
                    "end_device_control_type": {"ref": self.record.type_code},
                    "end_devices": tuple(EndDevice(mrid=m) for m in self.executed_devices),
                }
            )
            publish(
                self.work,
                Verb.executed,
                "EndDeviceControls",
                EndDeviceControls(end_device_control=(notice,)),
                correlation_id=correlation,
            )
        if self.snapshots:
            blocks = self.usage_points.label(self.snapshots)
            publish(self.work, Verb.created, "MeterReadings", blocks_to_meter_readings(blocks))


# -- cancel and change ---------------------------------------------------------------------------


def cancel_controls(he: HeadEnd, ctx: HandlerContext) -> Handled:
    records = _originals(ctx)
    pending = [r for r in records if r.state in _PENDING]
    running = [r for r in records if _running_load_control(r, ctx.now)]
    if not pending and not running:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_STATE,
                "no pending control matches: "
                + (
                    "they are " + ", ".join(sorted({r.state.value for r in records}))
                    if records
                    else f"none has CorrelationID {correlation_of(ctx.header)!r} or the "
                    "EndDeviceControl mRIDs given"
                ),
                path="/Header/CorrelationID",
            )
        )
    note = f"cancelled by {ctx.header.source or 'request'} {ctx.header.message_id or ''}".strip()
    by_report: dict[tuple[str | None, str | None], _Report] = {}
    for record in pending:
        report = by_report.setdefault(
            (record.correlation_id, record.reply_address), _Report(he, ctx, record)
        )
        report.cancel(record, note)
    for record in running:
        # digest 4.8: a load control already running ends early and is reported cancelled
        stop = EndDeviceControlType.parse(record.type_code)
        stop_code = EndDeviceControlType(stop.type, *named.LOAD_CONTROL_STOP.values[1:])
        (outcome,) = he.network.execute_control(
            ControlRequest(str(stop_code), (ObjectRef(mrid=record.device_mrid or ""),), ctx.now)
        )
        report = by_report.setdefault(
            (record.correlation_id, record.reply_address), _Report(he, ctx, record)
        )
        if outcome.succeeded:
            report.cancel(record, note + "; load control stopped early")
        else:
            assert outcome.error is not None
            report.outcomes.fail(device_error(ctx.codes, outcome.error))
    for report in by_report.values():
        report.send()
    ctx.ok(len(pending) + len(running))
    cancelled = EndDeviceControls(
        end_device_control=tuple(
            EndDeviceControl.model_validate(
                {
                    "mrid": key,
                    "end_device_control_type": {"ref": records[0].type_code},
                    "end_devices": tuple(
                        EndDevice(mrid=r.device_mrid)
                        for r in [*pending, *running]
                        if r.document.get("control") == key
                    ),
                }
            )
            for key in dict.fromkeys(str(r.document.get("control")) for r in [*pending, *running])
        )
    )
    publish(
        ctx,
        Verb.canceled,
        "EndDeviceControls",
        cancelled,
        correlation_id=(pending or running)[0].correlation_id,
    )
    return Handled()


def _running_load_control(record: ControlRecord, now: datetime) -> bool:
    if record.state is not ControlState.EXECUTED:
        return False
    code = EndDeviceControlType.parse(record.type_code)
    if not code.matches(named.LOAD_CONTROL_START):
        return False
    start = from_iso(record.document.get("start"))
    end = from_iso(record.document.get("end"))
    duration = record.document.get("duration")
    if end is None and start is not None and duration:
        end = start + timedelta(seconds=float(duration))
    return end is None or now < end


def _originals(ctx: HandlerContext) -> list[ControlRecord]:
    """The control records a cancel or change names: by the EndDeviceControl mRIDs it gives
    (with the devices it names), else by its CorrelationID (digest 4.17 note 4). Only the
    latest revision of each device counts."""
    document = ctx.inbound.document
    keys: set[str] = set()
    devices: set[str] = set()
    if isinstance(document, EndDeviceControls):
        for control in document.end_device_control:
            if control.mrid:
                keys.add(control.mrid)
            devices |= {d.mrid for d in control.end_devices if d.mrid}
    correlation = correlation_of(ctx.header)
    records: list[ControlRecord] = []
    if correlation:
        records = ctx.tx.find_controls(correlation_id=correlation)
    if keys and not any(_base(r) in keys for r in records):
        records = [
            r for device in sorted(devices) for r in ctx.tx.find_controls(device_mrid=device)
        ]
    if keys:
        records = [r for r in records if _base(r) in keys]
    if devices:
        records = [r for r in records if r.device_mrid in devices]
    latest: dict[tuple[str, str | None], ControlRecord] = {}
    for record in records:
        latest[(_base(record), record.device_mrid)] = record  # oldest first: the last wins
    return list(latest.values())


def _base(record: ControlRecord) -> str:
    return str(record.document.get("base") or record.document.get("control"))


def change_controls(he: HeadEnd, ctx: HandlerContext) -> Handled:
    document = _document(ctx)
    records = [r for r in _originals(ctx) if r.state in _PENDING]
    if not records:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_STATE,
                "no pending control matches the change (executed, cancelled and expired "
                "controls cannot change)",
                path="/Header/CorrelationID",
            )
        )
    new = document.end_device_control[0]
    path = "/EndDeviceControls/EndDeviceControl[1]"
    timing = _timing(ctx, new, path)
    if timing is None:
        return Handled()
    start, end, duration = timing
    limit = _max_execution_time(ctx, he.options.default_max_execution_time)
    changed: dict[str, list[str]] = {}
    for record in records:
        spec = dict(record.document)
        base = _base(record)
        revision = int(spec.get("revision", 0)) + 1
        key = f"{base}~{revision}"
        code = EndDeviceControlType.parse(record.type_code)
        release, activation = (ctx.now, start) if code.domain in PROGRAM_DOMAINS else (start, None)
        expires = max(release, ctx.now) + limit
        spec.update(
            control=key,
            base=base,
            revision=revision,
            start=iso(start),
            end=iso(end),
            duration=duration,
            activation=iso(activation),
        )
        params = _params(new)
        if params:
            spec["params"] = params
        ctx.tx.transition_control(
            record.mrid, ControlState.CANCELLED, ctx.now, f"superseded by revision {revision}"
        )
        assert record.device_mrid is not None and record.correlation_id is not None
        _put(
            ctx,
            key,
            record.device_mrid,
            code,
            record.correlation_id,
            release,
            expires,
            spec,
            reply_address=record.reply_address,
        )
        if key not in changed:
            _schedule(ctx, record.correlation_id, key, release, expires)
        changed.setdefault(key, []).append(record.device_mrid)
    ctx.ok(len(records))
    notice = EndDeviceControls(
        end_device_control=tuple(
            new.model_copy(
                update={"mrid": key, "end_devices": tuple(EndDevice(mrid=m) for m in devices)}
            )
            for key, devices in changed.items()
        )
    )
    publish(
        ctx, Verb.changed, "EndDeviceControls", notice, correlation_id=records[0].correlation_id
    )
    return Handled()


__all__ = [
    "CONTROL_JOB",
    "EXPIRY_JOB",
    "MAX_EXECUTION_TIME",
    "cancel_controls",
    "change_controls",
    "create_controls",
    "run_control_job",
    "run_expiry_job",
]
