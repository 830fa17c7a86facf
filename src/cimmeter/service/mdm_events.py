"""The MDM and end device events: receive, de-duplicate, follow control outcomes, answer gets.

Receiving (digest 4.5): `created` / `closed` EndDeviceEvents from a head-end (and `reply`
EndDeviceEvents, the results of our own `get`). Each event needs `createdDateTime`, a well-formed
`EndDeviceEventType` code (an unknown but well-formed code is stored: digest 4.5 "store anyway")
and a device (`Assets`, by mRID, Names or serial number) or a usage point the store can turn
into its meter. An unknown device fails that event (PARTIAL); the others are stored. An event
without mRID gets a stable one from (device, code, createdDateTime), so a replay is the same
event and stores nothing twice (digest 4.5: de-duplicate on device + code + createdDateTime).
A `closed` notice is kept as its own record (`<mRID>#closed`) next to the event it closes.

Control outcomes (digest 4.7, 4.17 note 3): an event whose CorrelationID matches a control we
sent, and whose code is an outcome of that control (44/79/10/64, or 68/84, 42/67 for the
switch), moves the control of that device to executed / failed / cancelled / expired.

Every stored event is published as `created` (or `closed`) EndDeviceEvents on the topic, for
OMS and CIS subscribers (digest 4.5 step 3).

`get EndDeviceEvents` (digest 3.4.2, 4.5 pull variant) answers from stored events: by meter,
usage point or end device group, event type codes (`*` fields allowed), time range
(TimeSchedule > Request StartTime/EndTime), at most `ServiceConfig.max_events_per_reply`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cimmeter.codes import CodeError, EndDeviceControlType, EndDeviceEventType
from cimmeter.message.envelope import RequestMessage
from cimmeter.message.verbs import Verb
from cimmeter.model.end_device_events import Asset, EndDeviceEvent, EndDeviceEvents
from cimmeter.model.end_device_events import UsagePoint as EventUsagePoint
from cimmeter.model.get_end_device_events import GetEndDeviceEvents
from cimmeter.model.identity import ObjectRef
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.refs import DEVICE_KINDS, ref_of, resolve
from cimmeter.service.timeranges import candidates, resolve_ranges
from cimmeter.store.base import EventQuery
from cimmeter.store.records import (
    ControlState,
    EventRecord,
    LinkageKind,
    ObjectKind,
)

EVENT_NAMESPACE = uuid.UUID("6f1b3c52-3d3e-4f59-9a55-7c1de2f6a0b1")
"""UUIDv5 namespace of the mRIDs cimmeter gives events that arrive without one."""

OUTCOME_STATES: dict[str, ControlState] = {
    "processed": ControlState.EXECUTED,
    "error": ControlState.FAILED,
    "cancelled": ControlState.CANCELLED,
    "expired": ControlState.EXPIRED,
}
"""Control outcome (codes.EndDeviceEventType.outcome_for) -> state of the control (4.7)."""

_FINAL_STATES = frozenset(OUTCOME_STATES.values())


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An event ready for the store, with where it came from in the message."""

    record: EventRecord
    event: EndDeviceEvent
    path: str
    device_ref: ObjectRef | None


def event_record(
    ctx: HandlerContext,
    event: EndDeviceEvent,
    path: str,
    *,
    default_device: ObjectRef | None = None,
    closed: bool = False,
) -> PendingEvent | None:
    """Check one event and turn it into a record; a bad one fails its item and gives None."""
    device_ref = ref_of(event.assets) or default_device
    object_type = "EndDevice"
    if event.created_date_time is None:
        ctx.fail(
            Problem.INVALID_ELEMENT,
            "createdDateTime is missing (required: when the event happened)",
            path=path,
            object_ref=device_ref,
            object_type=object_type,
        )
        return None
    code = event.end_device_event_type.ref if event.end_device_event_type else None
    if not code:
        ctx.fail(
            Problem.INVALID_ELEMENT,
            "EndDeviceEventType ref is missing",
            path=f"{path}/EndDeviceEventType",
            object_ref=device_ref,
            object_type=object_type,
        )
        return None
    try:
        EndDeviceEventType.parse(code)
    except CodeError as exc:
        ctx.fail(
            Problem.MALFORMED_CODE,
            str(exc),
            path=f"{path}/EndDeviceEventType",
            object_ref=device_ref,
            object_type=object_type,
        )
        return None
    device_mrid = usage_point_mrid = None
    if device_ref is not None:
        found = resolve(ctx.tx, DEVICE_KINDS, device_ref, "Assets")
        if found.obj is None:
            assert found.problem is not None
            ctx.fail(
                found.problem,
                found.detail,
                path=f"{path}/Assets",
                object_ref=device_ref,
                object_type=object_type,
            )
            return None
        device_mrid = found.obj.mrid
    up_ref = ref_of(event.usage_point)
    if up_ref is not None:
        found = resolve(ctx.tx, (ObjectKind.USAGE_POINT,), up_ref, "UsagePoint")
        if found.obj is None:
            assert found.problem is not None
            ctx.fail(
                found.problem,
                found.detail,
                path=f"{path}/UsagePoint",
                object_ref=up_ref,
                object_type="UsagePoint",
            )
            return None
        usage_point_mrid = found.obj.mrid
    if device_mrid is None and usage_point_mrid is None:
        ctx.fail(
            Problem.INVALID_ELEMENT,
            "the event names no device (Assets) and no UsagePoint",
            path=path,
            object_id=event.mrid,
            object_type=object_type,
        )
        return None
    created = event.created_date_time
    mrid = event.mrid or str(
        uuid.uuid5(
            EVENT_NAMESPACE,
            f"{device_mrid or usage_point_mrid}|{code}|{_utc_text(created)}",
        )
    )
    if closed:
        mrid = f"{mrid}#closed"
    record = EventRecord(
        mrid=mrid,
        type_code=code,
        created=created,
        device_mrid=device_mrid,
        usage_point_mrid=usage_point_mrid,
        reason=event.reason,
        severity=event.severity,
        issuer_id=event.issuer_id,
        details={d.name: d.value or "" for d in event.end_device_event_details if d.name},
        document=event.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        correlation_id=ctx.header.correlation_id,
        received_at=ctx.now,
    )
    return PendingEvent(record, event, path, device_ref)


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def store_events(ctx: HandlerContext, pending: Sequence[PendingEvent], verb: Verb) -> None:
    """Store checked events; rejected ones fail their item; publish what was stored."""
    if not pending:
        return
    rejected = {
        r.block_index: r
        for r in ctx.tx.add_events([p.record for p in pending])
        if r.block_index is not None
    }
    stored: list[PendingEvent] = []
    for index, item in enumerate(pending):
        problem = rejected.get(index)
        if problem is None:
            stored.append(item)
            ctx.ok()
            continue
        ctx.fail(
            ctx.codes.problem_of_store_code(str(problem.code)),
            problem.reason,
            path=item.path,
            object_ref=item.device_ref,
            object_id=None if item.device_ref else item.record.mrid,
            object_type="EndDevice",
        )
    follow_control_outcomes(ctx, stored)
    if stored:
        published = Verb.closed if verb is Verb.closed else Verb.created
        ctx.publish(published, EndDeviceEvents(end_device_event=tuple(p.event for p in stored)))


def follow_control_outcomes(ctx: HandlerContext, stored: Iterable[PendingEvent]) -> None:
    """Move our controls along when events report their outcome (digest 4.7 step 6)."""
    correlation = ctx.header.correlation_id
    if not correlation:
        return
    controls = ctx.tx.find_controls(correlation_id=correlation)
    if not controls:
        return
    for item in stored:
        event_type = EndDeviceEventType.parse(item.record.type_code)
        for control in controls:
            if control.device_mrid not in (None, item.record.device_mrid):
                continue
            if control.state in _FINAL_STATES:
                continue
            outcome = event_type.outcome_for(EndDeviceControlType.parse(control.type_code))
            if outcome is None:
                continue
            ctx.tx.transition_control(
                control.mrid,
                OUTCOME_STATES[outcome],
                item.record.created,
                f"{item.record.type_code} ({outcome}) in event {item.record.mrid}",
            )


def receive_events(ctx: HandlerContext) -> Handled:
    """`created` / `closed` EndDeviceEvents, and `reply` EndDeviceEvents (our get's result)."""
    document = ctx.inbound.document
    if not isinstance(document, EndDeviceEvents):
        if ctx.inbound.is_response:
            ctx.ok()  # a result without events (e.g. FAILED at the head-end) is acknowledged
            return Handled()
        raise RequestFailed(
            ctx.error(Problem.INVALID_MESSAGE, "no EndDeviceEvents in Payload", path="/Payload")
        )
    closed = ctx.inbound.verb is Verb.closed
    pending = []
    for n, event in enumerate(document.end_device_event, start=1):
        item = event_record(ctx, event, f"/EndDeviceEvents/EndDeviceEvent[{n}]", closed=closed)
        if item is not None:
            pending.append(item)
    store_events(ctx, pending, ctx.inbound.verb)
    return Handled()


# -- get EndDeviceEvents --------------------------------------------------------------------------


def get_events(ctx: HandlerContext) -> Handled:
    """`get EndDeviceEvents` from stored events (see the module docstring)."""
    query = ctx.inbound.query
    if query is not None and not isinstance(query, GetEndDeviceEvents):
        raise RequestFailed(
            ctx.error(Problem.INVALID_MESSAGE, "the query is not GetEndDeviceEvents")
        )
    message = ctx.inbound.message
    request = message.request if isinstance(message, RequestMessage) else None
    devices: list[str] = []
    usage_points: list[str] = []
    selectors = 0
    if query is not None:
        for n, meter in enumerate(query.meter, start=1):
            selectors += 1
            devices += resolve_selector(
                ctx, DEVICE_KINDS, ref_of(meter), f"/GetEndDeviceEvents/Meter[{n}]", "Meter"
            )
        for n, up in enumerate(query.usage_point, start=1):
            selectors += 1
            usage_points += resolve_selector(
                ctx,
                (ObjectKind.USAGE_POINT,),
                ref_of(up),
                f"/GetEndDeviceEvents/UsagePoint[{n}]",
                "UsagePoint",
            )
        for n, group in enumerate(query.end_device_group, start=1):
            selectors += 1
            path = f"/GetEndDeviceEvents/EndDeviceGroup[{n}]"
            for group_mrid in resolve_selector(
                ctx, (ObjectKind.END_DEVICE_GROUP,), ref_of(group), path, "EndDeviceGroup"
            ):
                devices += group_members(ctx, group_mrid)
    patterns: list[str] = []
    if query is not None:
        for n, event_type in enumerate(query.end_device_event_type, start=1):
            code = event_type.mrid
            path = f"/GetEndDeviceEvents/EndDeviceEventType[{n}]"
            if not code:
                ctx.fail(
                    Problem.INVALID_ELEMENT, "EndDeviceEventType without mRID (the code)", path=path
                )
                continue
            try:
                EndDeviceEventType.parse(code.replace("*", "0"))
            except CodeError as exc:
                ctx.fail(Problem.MALFORMED_CODE, str(exc), path=path, object_id=code)
                continue
            patterns.append(code)
    if query is None or selectors == 0:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "name at least one Meter, UsagePoint or EndDeviceGroup in GetEndDeviceEvents",
                path="/Request/GetEndDeviceEvents",
            )
        )
    if not devices and not usage_points:
        return Handled()  # every selector failed: the outcomes say FAILED
    schedules = [
        (ts.schedule_interval, f"/GetEndDeviceEvents/TimeSchedule[{n}]")
        for n, ts in enumerate(query.time_schedule, start=1)
    ]
    ranges, notes = resolve_ranges(
        candidates(
            [],
            schedules,
            request.start_time if request else None,
            request.end_time if request else None,
        ),
        now=ctx.now,
        config=ctx.config,
        codes=ctx.codes,
    )
    for note in notes:
        ctx.outcomes.note(note)
    limit = ctx.config.max_events_per_reply
    found: dict[tuple[str | None, str], EventRecord] = {}
    for time_range in ranges:
        for part in _device_parts(devices, usage_points):
            records = ctx.tx.query_events(
                EventQuery(
                    devices=part[0],
                    usage_points=part[1],
                    type_patterns=patterns,
                    start=time_range.start,
                    end=time_range.end,
                    limit=limit + 1,
                )
            )
            for record in records:
                found.setdefault((record.device_mrid, record.mrid), record)
    events = sorted(found.values(), key=lambda r: (r.created, r.mrid))
    if len(events) > limit:
        last = events[limit - 1]
        ctx.outcomes.incomplete(
            ctx.error(
                Problem.RESULT_TRUNCATED,
                f"more than {limit} events match; the first {limit} are returned, up to "
                f"{last.created.isoformat()}: ask again from there",
                path="/Request",
            )
        )
        events = events[:limit]
    return Handled(payload=EndDeviceEvents(end_device_event=tuple(_event_model(r) for r in events)))


def _device_parts(devices: list[str], usage_points: list[str]) -> list[tuple[list[str], list[str]]]:
    """Devices and usage points are ORed here (events of these meters, or at these usage
    points): one query per kind of selector."""
    parts: list[tuple[list[str], list[str]]] = []
    if devices:
        parts.append((sorted(set(devices)), []))
    if usage_points:
        parts.append(([], sorted(set(usage_points))))
    return parts


def _event_model(record: EventRecord) -> EndDeviceEvent:
    if record.document:
        event = EndDeviceEvent.model_validate(dict(record.document))
        updates: dict[str, object] = {}
        if event.mrid is None:
            updates["mrid"] = record.mrid.removesuffix("#closed")
        if event.assets is None and record.device_mrid:
            updates["assets"] = Asset(mrid=record.device_mrid)
        if event.usage_point is None and record.usage_point_mrid:
            updates["usage_point"] = EventUsagePoint(mrid=record.usage_point_mrid)
        return event.model_copy(update=updates) if updates else event
    return EndDeviceEvent(
        mrid=record.mrid,
        created_date_time=record.created,
        issuer_id=record.issuer_id,
        reason=record.reason,
        severity=record.severity,
        assets=Asset(mrid=record.device_mrid) if record.device_mrid else None,
        end_device_event_type=record.type_code,
        usage_point=EventUsagePoint(mrid=record.usage_point_mrid)
        if record.usage_point_mrid
        else None,
    )


def resolve_selector(
    ctx: HandlerContext,
    kinds: Sequence[ObjectKind],
    ref: ObjectRef | None,
    path: str,
    what: str,
) -> list[str]:
    """The mRID of a selector (EndDevice, UsagePoint, group) of a get, or [] with its failure
    recorded as a failed item; shared by the get handlers of events and readings."""
    found = resolve(ctx.tx, kinds, ref, what)
    if found.obj is None:
        assert found.problem is not None
        ctx.fail(found.problem, found.detail, path=path, object_ref=ref, object_type=what)
        return []
    ctx.ok()
    return [found.obj.mrid]


def group_members(ctx: HandlerContext, group_mrid: str) -> list[str]:
    """Members of a group now (group-member linkages valid at the clock's now)."""
    return [
        link.to_mrid
        for link in ctx.tx.linkages(LinkageKind.GROUP_MEMBER, from_mrid=group_mrid, at=ctx.now)
    ]


__all__ = [
    "EVENT_NAMESPACE",
    "OUTCOME_STATES",
    "PendingEvent",
    "event_record",
    "follow_control_outcomes",
    "get_events",
    "group_members",
    "receive_events",
    "resolve_selector",
    "store_events",
]
