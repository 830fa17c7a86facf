"""Read schedules at the head-end (digest 4.12) and their execution: scheduled reads (4.1).

A `MeterReadSchedule` has no mRID of its own: it is named by Request/ID (the first ID) or, for
a create without one, by the request's CorrelationID (its MessageID without that); the reply
names it in Reply/ID. The head-end keeps it in its store (kind `MeterReadSchedule`, versioned):
- `create`: targets (EndDevice, UsagePoint, EndDeviceGroup; unknown ones are failed items,
  PARTIAL), ReadingTypes (malformed ones failed items; none = everything the devices record),
  a TimeSchedule with `recurrencePeriod` (seconds, with `offset`, counted from
  `scheduleInterval/start`, else from midnight UTC) or `TimePoints/dateTime`, and `disabled`;
- `change`: the new content replaces the old (a new version, rescheduled from now);
- `cancel`, `close`, `delete`: the schedule ends (kept in history).
`get MeterReadSchedule` returns the schedule Request/ID names, or all their names in Reply/ID.

Execution: one `headend-schedule` job per occurrence. At an occurrence `t` the head-end reads
what the targets recorded in (previous occurrence, t] (groups resolved then, so devices added
to a group later are covered) and publishes it as `created MeterReadings` (digest 4.1 step 2),
in messages of at most `max_readings_per_event` readings, written by the streaming writer.
A job of a version that is no longer current, or of a disabled schedule, does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cimmeter.codes import CodeError, ReadingType
from cimmeter.message.envelope import ID
from cimmeter.message.verbs import Verb
from cimmeter.model.meter_read_schedule import MeterReadSchedule, TimeSchedule
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.core import Handled, HandlerContext, JobContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.headend_common import (
    HeadEnd,
    Named,
    UsagePoints,
    Work,
    enqueue_body,
    iso,
    resolve_targets,
)
from cimmeter.service.refs import ref_of
from cimmeter.service.replies import Outcomes, correlation_of
from cimmeter.store.records import Job, MasterObject, Name, ObjectKind
from cimmeter.xml.stream import MessageHeader
from cimmeter.xml.stream_write import meter_readings_bytes

SCHEDULE_JOB: Final = "headend-schedule"
"""Job kind: one occurrence of a read schedule (payload: schedule, version, at)."""

KIND = ObjectKind.READ_SCHEDULE


def _name(ctx: HandlerContext, *, required: bool) -> str:
    message = ctx.inbound.message
    request = getattr(message, "request", None)
    for id_ in getattr(request, "ids", ()) or ():
        if id_.value:
            return str(id_.value)
    name = correlation_of(ctx.header) if not required else None
    if name is None:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "name the read schedule in Request/ID",
                path="/Request/ID",
            )
        )
    return name


def _document(ctx: HandlerContext) -> MeterReadSchedule:
    document = ctx.inbound.document
    if not isinstance(document, MeterReadSchedule):
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "the Payload needs a MeterReadSchedule (digest 3.3)",
                path="/Payload",
            )
        )
    return document


def _named(document: MeterReadSchedule) -> list[Named]:
    return [
        *(
            Named("EndDevice", f"/MeterReadSchedule/EndDevice[{i}]", ref_of(d))
            for i, d in enumerate(document.end_device, 1)
        ),
        *(
            Named("UsagePoint", f"/MeterReadSchedule/UsagePoint[{i}]", ref_of(u))
            for i, u in enumerate(document.usage_point, 1)
        ),
        *(
            Named("EndDeviceGroup", f"/MeterReadSchedule/EndDeviceGroup[{i}]", ref_of(g))
            for i, g in enumerate(document.end_device_group, 1)
        ),
    ]


def _check(he: HeadEnd, ctx: HandlerContext, document: MeterReadSchedule) -> None:
    """Targets, ReadingTypes and timing, as failed items (module docstring)."""
    named = _named(document)
    if not named:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "a read schedule needs targets: EndDevice, UsagePoint or EndDeviceGroup",
                path="/MeterReadSchedule",
            )
        )
    targets = resolve_targets(he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, named)
    ctx.ok(len(targets))
    for i, rt in enumerate(document.reading_type, 1):
        try:
            ReadingType.parse(rt.mrid or "")
        except CodeError as exc:
            ctx.fail(
                Problem.MALFORMED_CODE,
                str(exc),
                path=f"/MeterReadSchedule/ReadingType[{i}]",
                object_id=rt.mrid,
                object_type="ReadingType",
            )
    timing = _timing(document)
    if timing is None or not (
        (timing.recurrence_period and timing.recurrence_period > 0)
        or any(p.date_time for p in timing.time_points)
    ):
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "a TimeSchedule with a positive recurrencePeriod (seconds) or TimePoints with "
                "dateTime is needed",
                path="/MeterReadSchedule/TimeSchedule",
            )
        )


def _timing(document: MeterReadSchedule) -> TimeSchedule | None:
    return document.time_schedule[0] if document.time_schedule else None


def occurrences(
    document: MeterReadSchedule, after: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """(window start, occurrence) pairs after `after`, in order (module docstring)."""
    timing = _timing(document)
    if timing is None or timing.disabled:
        return
    interval = timing.schedule_interval
    valid_from = interval.start if interval is not None else None
    valid_to = interval.end if interval is not None else None
    if timing.recurrence_period and timing.recurrence_period > 0:
        period = timedelta(seconds=float(timing.recurrence_period))
        offset = timedelta(seconds=float(timing.offset or 0))
        base = (
            valid_from or after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        ) + offset
        k = max(0, int((after - base) // period) + 1)
        while True:
            at = base + k * period
            if valid_to is not None and at > valid_to:
                return
            if at > after:
                yield at - period, at
            k += 1
    points = sorted(p.date_time for p in timing.time_points if p.date_time is not None)
    previous = None
    for at in points:
        if at > after and (valid_to is None or at <= valid_to):
            yield previous or at - timedelta(days=1), at
        previous = at


def _store(
    ctx: HandlerContext, name: str, document: MeterReadSchedule, status: str | None = None
) -> MasterObject:
    stored = ctx.tx.put_object(
        MasterObject(
            kind=KIND,
            mrid=name,
            names=(Name(name),),
            status=status
            or ("disabled" if (_timing(document) or TimeSchedule()).disabled else "active"),
            document=document.model_dump(mode="json", by_alias=True, exclude_none=True),
            updated_at=ctx.now,
        )
    )
    _schedule_next(ctx, stored, document, ctx.now)
    return stored


def _schedule_next(
    work: Work, stored: MasterObject, document: MeterReadSchedule, after: datetime
) -> None:
    for _, at in occurrences(document, after):
        work.tx.schedule_job(
            Job(
                SCHEDULE_JOB,
                at,
                {"schedule": stored.mrid, "version": stored.version, "at": iso(at)},
            )
        )
        return


def create_schedule(he: HeadEnd, ctx: HandlerContext) -> Handled:
    name = _name(ctx, required=False)
    document = _document(ctx)
    existing = ctx.tx.get_object(KIND, name)
    if existing is not None and not existing.deleted:
        raise RequestFailed(
            ctx.error(
                Problem.OBJECT_EXISTS,
                f"read schedule {name!r} exists; change it, or cancel it first",
                path="/Request/ID",
                object_id=name,
                object_type="MeterReadSchedule",
            )
        )
    _check(he, ctx, document)
    if ctx.outcomes.succeeded:
        _store(ctx, name, document)
    return Handled(ids=(ID(value=name, object_type="MeterReadSchedule"),))


def change_schedule(he: HeadEnd, ctx: HandlerContext) -> Handled:
    name = _name(ctx, required=False)
    document = _document(ctx)
    existing = ctx.tx.get_object(KIND, name)
    if existing is None or existing.deleted:
        raise RequestFailed(
            ctx.error(
                Problem.OBJECT_NOT_FOUND,
                f"no read schedule {name!r}",
                path="/Request/ID",
                object_id=name,
                object_type="MeterReadSchedule",
            )
        )
    _check(he, ctx, document)
    if ctx.outcomes.succeeded:
        _store(ctx, name, document)
    return Handled(ids=(ID(value=name, object_type="MeterReadSchedule"),))


def end_schedule(he: HeadEnd, ctx: HandlerContext) -> Handled:
    """cancel / close / delete: the schedule stops (history kept)."""
    name = _name(ctx, required=False)
    if not ctx.tx.delete_object(KIND, name, ctx.now):
        raise RequestFailed(
            ctx.error(
                Problem.OBJECT_NOT_FOUND,
                f"no read schedule {name!r} in force",
                path="/Request/ID",
                object_id=name,
                object_type="MeterReadSchedule",
            )
        )
    ctx.ok()
    return Handled(ids=(ID(value=name, object_type="MeterReadSchedule"),))


def get_schedule(he: HeadEnd, ctx: HandlerContext) -> Handled:
    message = ctx.inbound.message
    request = getattr(message, "request", None)
    wanted = [i.value for i in getattr(request, "ids", ()) or () if i.value]
    if not wanted:
        names = [o.mrid for o in ctx.tx.list_objects(KIND, limit=10_000)]
        ctx.ok(len(names) or 1)
        return Handled(ids=tuple(ID(value=n, object_type="MeterReadSchedule") for n in names))
    stored = ctx.tx.get_object(KIND, str(wanted[0]))
    if stored is None or stored.deleted:
        raise RequestFailed(
            ctx.error(
                Problem.OBJECT_NOT_FOUND,
                f"no read schedule {wanted[0]!r} in force",
                path="/Request/ID",
                object_id=str(wanted[0]),
                object_type="MeterReadSchedule",
            )
        )
    ctx.ok()
    return Handled(payload=MeterReadSchedule.model_validate(dict(stored.document)))


# -- execution -----------------------------------------------------------------------------------


def run_schedule_job(he: HeadEnd, ctx: JobContext) -> None:
    payload: dict[str, Any] = dict(ctx.job.payload)
    stored = ctx.tx.get_object(KIND, str(payload["schedule"]))
    if stored is None or stored.deleted or stored.version != payload.get("version"):
        return  # ended or changed: its current version has its own job
    document = MeterReadSchedule.model_validate(dict(stored.document))
    at = datetime.fromisoformat(str(payload["at"]))
    window = next(
        ((start, when) for start, when in occurrences(document, at - timedelta(seconds=1))),
        None,
    )
    if window is not None and window[1] == at:
        _read_and_publish(he, ctx, stored, document, window[0], at)
    _schedule_next(ctx, stored, document, at)


def _read_and_publish(
    he: HeadEnd,
    ctx: JobContext,
    stored: MasterObject,
    document: MeterReadSchedule,
    start: datetime,
    end: datetime,
) -> None:
    outcomes = Outcomes()  # no requester to tell at execution time: unknown targets skipped
    targets = resolve_targets(he, ctx.tx, end, ctx.codes, outcomes, _named(document))
    if not targets:
        return
    types = [
        str(ReadingType.parse(rt.mrid or "")) for rt in document.reading_type if _valid(rt.mrid)
    ]
    labels = UsagePoints(ctx.tx)
    batch: list[ReadingBlock] = []
    size = 0
    limit = ctx.config.max_readings_per_event
    for part in he.network.read_readings([t.device for t in targets], types or None, start, end):
        for block in labels.label(b for b in part.blocks if len(b)):
            if batch and size + len(block) > limit:
                _publish_readings(ctx, batch, stored.mrid)
                batch, size = [], 0
            batch.append(block)
            size += len(block)
    if batch:
        _publish_readings(ctx, batch, stored.mrid)


def _valid(code: str | None) -> bool:
    try:
        ReadingType.parse(code or "")
    except CodeError:
        return False
    return True


def _publish_readings(ctx: JobContext, blocks: list[ReadingBlock], schedule: str) -> None:
    message_id = ctx.new_id()
    header = MessageHeader(
        verb=Verb.created.value,
        noun="MeterReadings",
        timestamp=ctx.now.isoformat(),
        source=ctx.config.source,
        message_id=message_id,
        comment=f"read schedule {schedule}",
    )
    body = meter_readings_bytes(blocks, header=header)
    enqueue_body(
        ctx,
        ctx.config.topic(Verb.created.value, "MeterReadings"),
        Verb.created,
        "MeterReadings",
        body,
        message_id=message_id,
    )


__all__ = [
    "SCHEDULE_JOB",
    "change_schedule",
    "create_schedule",
    "end_schedule",
    "get_schedule",
    "occurrences",
    "run_schedule_job",
]
