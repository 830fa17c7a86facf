"""The head-end answering `get MeterReadings` and `get EndDeviceEvents` (digest 4.2-4.6).

`get MeterReadings` (the GetMeterReadings query in Request, digest fact 1):
- targets: EndDevice (mRID, Names, serialNumber), UsagePoint, EndDeviceGroup; each unknown one
  is a failed item (PARTIAL), never silently dropped (digest 1.3.1);
- what: the ReadingTypes asked (none = every register the device has); the energization
  ReadingTypes (`HeadEndOptions.energization_reading_types`) are answered by a ping: 1 =
  energised, 0 = de-energised, an Error when the device does not answer (digest 4.6, 4.17 note
  8: reachability is not power state);
- when: with a time range (Reading/timePeriod > TimeSchedule > StartTime/EndTime, half-open),
  the readings the devices collected in it (historical / bulk, digest 4.4); without one, an
  on-demand read of the registers as they stand now (digest 4.2);
- synchronous: at most `max_sync_devices` devices, the others fail with "unsupported bulk
  operation" (digest 4.2, Connexo); asynchronous (AsyncReplyFlag, ReplyAddress): the reply
  accepts (OK `0.3`, or PARTIAL listing the refused targets), a `headend-read` job reads the
  devices at the next `tick` and sends the result to ReplyAddress with the CorrelationID
  (digest 4.3), in parts when large (digest 4.4), as a `reply` ResponseMessage or a `created`
  event per peer (DECISIONS.md).

`get EndDeviceEvents` (digest 4.5 pull variant): the events the head-end received from the
devices named (all when none) in the time range, optionally only some event types (`*` fields
allowed); synchronous or asynchronous the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from cimmeter.codes import CodeError, EndDeviceEventType, ReadingType
from cimmeter.headend.network import DeviceError, ReadResult
from cimmeter.message.envelope import Error
from cimmeter.model.end_device_events import EndDeviceEvent
from cimmeter.model.get_end_device_events import GetEndDeviceEvents
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_readings import MeterReadings, blocks_to_meter_readings
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.core import Handled, HandlerContext, JobContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.headend_common import (
    HeadEnd,
    Named,
    Target,
    UsagePoints,
    Work,
    device_error,
    end_device_event,
    events_document,
    from_iso,
    iso,
    resolve_targets,
    result_reply,
    send_result,
)
from cimmeter.service.refs import ref_of
from cimmeter.service.replies import Outcomes
from cimmeter.service.timeranges import TimeRange, candidates, resolve_ranges
from cimmeter.store.records import Job

READ_JOB: Final = "headend-read"
"""Job kind: an accepted asynchronous `get` to execute and answer (payload: see `_job`)."""


# -- get MeterReadings ---------------------------------------------------------------------------


def get_meter_readings(he: HeadEnd, ctx: HandlerContext) -> Handled:
    query = ctx.inbound.query
    if not isinstance(query, GetMeterReadings):
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "get MeterReadings needs the GetMeterReadings query in Request (digest 3.2)",
                path="/Request",
            )
        )
    named = [
        *(
            Named("EndDevice", f"/GetMeterReadings/EndDevice[{i}]", ref_of(d))
            for i, d in enumerate(query.end_device, 1)
        ),
        *(
            Named("UsagePoint", f"/GetMeterReadings/UsagePoint[{i}]", ref_of(u))
            for i, u in enumerate(query.usage_point, 1)
        ),
        *(
            Named("EndDeviceGroup", f"/GetMeterReadings/EndDeviceGroup[{i}]", ref_of(g))
            for i, g in enumerate(query.end_device_group, 1)
        ),
    ]
    if not named:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "name the devices to read: EndDevice, UsagePoint or EndDeviceGroup",
                path="/Request/GetMeterReadings",
            )
        )
    types = _reading_types(ctx, query)
    ping_types = [t for t in types if t in he.options.energization_reading_types]
    read_types = [t for t in types if t not in ping_types]
    sources = candidates(
        [
            (r.time_period, f"/GetMeterReadings/Reading[{i}]")
            for i, r in enumerate(query.reading, 1)
        ],
        [
            (s.schedule_interval, f"/GetMeterReadings/TimeSchedule[{i}]")
            for i, s in enumerate(query.time_schedule, 1)
        ],
        _request(ctx, "start_time"),
        _request(ctx, "end_time"),
    )
    ranges: list[TimeRange] = []
    if sources:
        ranges, notes = resolve_ranges(sources, now=ctx.now, config=ctx.config, codes=ctx.codes)
        for note in notes:
            ctx.outcomes.note(note)
    targets = resolve_targets(he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, named)
    plan = ReadPlan(
        devices=tuple(t.device for t in targets),
        read_types=tuple(read_types) if types else None,
        ping_types=tuple(ping_types),
        ranges=tuple(ranges),
    )
    if not targets:
        return Handled()
    if ctx.asynchronous:
        ctx.ok(len(targets))
        _schedule(ctx, "MeterReadings", plan.to_json())
        return Handled(deferred=True)
    limit = he.options.max_sync_devices
    for skipped in targets[limit:]:
        ctx.fail(
            Problem.UNSUPPORTED_OPERATION,
            f"a synchronous read takes at most {limit} devices; {skipped.given.describe()} "
            "was not read (set AsyncReplyFlag and ReplyAddress for more)",
            path=skipped.path,
            reason="unsupported bulk operation",
            object_ref=skipped.given,
            object_type="EndDevice",
        )
    plan = plan.limited(limit)
    outcomes, document = execute_read(he, ctx, plan, targets[:limit])
    ctx.outcomes.merge(outcomes)
    return Handled(payload=document)


def _request(ctx: HandlerContext, name: str) -> datetime | None:
    message = ctx.inbound.message
    request = getattr(message, "request", None)
    value = getattr(request, name, None) if request is not None else None
    return value if isinstance(value, datetime) else None


def _reading_types(ctx: HandlerContext, query: GetMeterReadings) -> list[str]:
    """The ReadingType codes asked (by mRID, digest 3.2); malformed ones are failed items, and
    a request whose every ReadingType is unusable fails (Connexo: "no usable ReadingType")."""
    out: list[str] = []
    bad: list[Error] = []
    for i, rt in enumerate(query.reading_type, 1):
        path = f"/GetMeterReadings/ReadingType[{i}]"
        if not rt.mrid:
            bad.append(
                ctx.error(
                    Problem.INVALID_ELEMENT,
                    "a ReadingType is named by its mRID (the 18-field code)",
                    path=path,
                )
            )
            continue
        try:
            out.append(str(ReadingType.parse(rt.mrid)))
        except CodeError as exc:
            bad.append(
                ctx.error(
                    Problem.MALFORMED_CODE,
                    str(exc),
                    path=path,
                    object_id=rt.mrid,
                    object_type="ReadingType",
                )
            )
    if bad and not out:
        raise RequestFailed(*bad)
    for error in bad:
        ctx.outcomes.fail(error)
    return list(dict.fromkeys(out))


def _schedule(ctx: HandlerContext, noun: str, plan: dict[str, Any]) -> None:
    header = ctx.header
    assert header.reply_address is not None
    ctx.tx.schedule_job(
        Job(
            READ_JOB,
            ctx.now,
            {
                "noun": noun,
                "correlation_id": header.correlation_id or header.message_id,
                "reply_address": header.reply_address,
                "peer": header.source,
                "plan": plan,
            },
        )
    )


class ReadPlan:
    """What to read: devices, ReadingTypes (None = all registers), ping types, ranges."""

    __slots__ = ("devices", "ping_types", "ranges", "read_types")

    def __init__(
        self,
        devices: tuple[ObjectRef, ...],
        read_types: tuple[str, ...] | None,
        ping_types: tuple[str, ...],
        ranges: tuple[TimeRange, ...],
    ) -> None:
        self.devices = devices
        self.read_types = read_types
        self.ping_types = ping_types
        self.ranges = ranges

    def limited(self, count: int) -> ReadPlan:
        return ReadPlan(self.devices[:count], self.read_types, self.ping_types, self.ranges)

    def to_json(self) -> dict[str, Any]:
        return {
            "devices": [d.mrid for d in self.devices],
            "read_types": list(self.read_types) if self.read_types is not None else None,
            "ping_types": list(self.ping_types),
            "ranges": [[iso(r.start), iso(r.end)] for r in self.ranges],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReadPlan:
        ranges = []
        for start, end in data.get("ranges", []):
            s, e = from_iso(start), from_iso(end)
            assert s is not None and e is not None
            ranges.append(TimeRange(s, e))
        read_types = data.get("read_types")
        return cls(
            tuple(ObjectRef(mrid=m) for m in data.get("devices", [])),
            tuple(read_types) if read_types is not None else None,
            tuple(data.get("ping_types", [])),
            tuple(ranges),
        )


def read_devices(he: HeadEnd, plan: ReadPlan, now: datetime) -> ReadResult:
    """Read (or ping) the devices of a plan through the network: blocks and device errors."""
    parts: list[ReadResult] = []
    wants_reads = plan.read_types is None or bool(plan.read_types)
    if wants_reads and not (plan.read_types is None and plan.ping_types):
        if plan.ranges:
            for r in plan.ranges:
                parts += he.network.read_readings(plan.devices, plan.read_types, r.start, r.end)
        else:
            parts.append(he.network.read_on_demand(plan.devices, plan.read_types, now))
    if plan.ping_types:
        parts.append(_ping(he, plan, now))
    return ReadResult.merge(parts)


def _ping(he: HeadEnd, plan: ReadPlan, now: datetime) -> ReadResult:
    """digest 4.6: 1 = energised, 0 = de-energised; no answer -> an error, never a value."""
    line_side, load_side = (*he.options.energization_reading_types, "", "")[:2]
    blocks: list[ReadingBlock] = []
    errors: list[DeviceError] = []
    t = int(now.timestamp())
    for result in he.network.ping(plan.devices, now):
        if not result.reachable:
            errors.append(
                DeviceError(
                    "not-reachable",
                    f"device {result.device.describe()} did not answer the ping at "
                    f"{now.isoformat()}: {result.reason or 'no answer'} (not proof of an outage)",
                    result.device,
                )
            )
            continue
        for rt in plan.ping_types:
            state = result.energized if rt == line_side else result.load_side_energized
            if rt not in (line_side, load_side) or state is None:
                errors.append(
                    DeviceError(
                        "unsupported-reading-type",
                        f"device {result.device.describe()} does not report {rt}",
                        result.device,
                        rt,
                    )
                )
                continue
            blocks.append(
                ReadingBlock.build(
                    rt, [t], [1.0 if state else 0.0], meter=result.device, kind="register"
                )
            )
    return ReadResult(tuple(blocks), tuple(errors))


def execute_read(
    he: HeadEnd, work: Work, plan: ReadPlan, targets: Sequence[Target] | None = None
) -> tuple[Outcomes, MeterReadings | None]:
    """Read a plan now: per-device outcomes (a device with data counts as done, each device
    failure as a failed item) and the readings labelled with the store's usage points."""
    result = read_devices(he, plan, work.now)
    paths = {t.mrid: t.path for t in targets or ()}
    outcomes = Outcomes()
    answered = {b.meter.mrid for b in result.blocks if b.meter is not None and len(b)}
    outcomes.ok(len(answered))
    for error in result.errors:
        path = paths.get(error.device.mrid or "") if error.device is not None else None
        outcomes.fail(device_error(work.codes, error, path))
    blocks = UsagePoints(work.tx).label(b for b in result.blocks if len(b))
    return outcomes, blocks_to_meter_readings(blocks) if blocks else None


# -- get EndDeviceEvents -------------------------------------------------------------------------


def get_end_device_events(he: HeadEnd, ctx: HandlerContext) -> Handled:
    query = ctx.inbound.query
    if query is not None and not isinstance(query, GetEndDeviceEvents):
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "get EndDeviceEvents carries the GetEndDeviceEvents query in Request",
                path="/Request",
            )
        )
    named: list[Named] = []
    patterns: list[str] = []
    schedules = []
    if query is not None:
        named = [
            *(
                Named("EndDevice", f"/GetEndDeviceEvents/Meter[{i}]", ref_of(m))
                for i, m in enumerate(query.meter, 1)
            ),
            *(
                Named("UsagePoint", f"/GetEndDeviceEvents/UsagePoint[{i}]", ref_of(u))
                for i, u in enumerate(query.usage_point, 1)
            ),
            *(
                Named("EndDeviceGroup", f"/GetEndDeviceEvents/EndDeviceGroup[{i}]", ref_of(g))
                for i, g in enumerate(query.end_device_group, 1)
            ),
        ]
        patterns = _event_patterns(ctx, query)
        schedules = [
            (s.schedule_interval, f"/GetEndDeviceEvents/TimeSchedule[{i}]")
            for i, s in enumerate(query.time_schedule, 1)
        ]
    sources = candidates([], schedules, _request(ctx, "start_time"), _request(ctx, "end_time"))
    ranges, notes = resolve_ranges(sources, now=ctx.now, config=ctx.config, codes=ctx.codes)
    for note in notes:
        ctx.outcomes.note(note)
    devices: list[ObjectRef] | None = None
    if named:
        targets = resolve_targets(he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, named)
        if not targets:
            return Handled()
        devices = [t.device for t in targets]
        ctx.ok(len(targets))
    else:
        ctx.ok()
    plan = {
        "devices": [d.mrid for d in devices] if devices is not None else None,
        "patterns": patterns,
        "ranges": [[iso(r.start), iso(r.end)] for r in ranges],
    }
    if ctx.asynchronous:
        _schedule(ctx, "EndDeviceEvents", plan)
        return Handled(deferred=True)
    events, truncated = execute_events(he, ctx, plan)
    if truncated:
        ctx.note(Problem.RESULT_TRUNCATED, truncated, path="/EndDeviceEvents")
    return Handled(payload=events_document(events) if events else None)


_ANY_EVENT: Final = EndDeviceEventType.parse("0.0.0.0")


def _event_patterns(ctx: HandlerContext, query: GetEndDeviceEvents) -> list[str]:
    """The event type codes asked (`*` fields allowed); a malformed one fails the request."""
    out = []
    for i, t in enumerate(query.end_device_event_type, 1):
        text = t.mrid or ""
        try:
            _ANY_EVENT.matches(text)  # parses the pattern; raises CodeError when malformed
        except CodeError as exc:
            raise RequestFailed(
                ctx.error(
                    Problem.MALFORMED_CODE,
                    f"{text!r}: {exc} (an EndDeviceEventType code; `*` matches any field)",
                    path=f"/GetEndDeviceEvents/EndDeviceEventType[{i}]",
                )
            ) from None
        out.append(text)
    return out


def execute_events(
    he: HeadEnd, work: Work, plan: dict[str, Any]
) -> tuple[list[EndDeviceEvent], str | None]:
    """The events of a plan (oldest first) and, when cut at `max_events_per_reply`, why."""
    devices = plan.get("devices")
    refs = [ObjectRef(mrid=m) for m in devices] if devices is not None else None
    patterns: list[str] = plan.get("patterns") or []
    usage_points = UsagePoints(work.tx)
    found = []
    for start, end in plan.get("ranges", []):
        s, e = from_iso(start), from_iso(end)
        assert s is not None and e is not None
        for event in he.network.events_since(s, e, refs):
            code = EndDeviceEventType.parse(event.event_type)
            if patterns and not any(code.matches(p) for p in patterns):
                continue
            found.append(event)
    found.sort(key=lambda e: (e.created_date_time, e.meter_index, e.event_type))
    limit = work.config.max_events_per_reply
    truncated = None
    if len(found) > limit:
        truncated = (
            f"{len(found)} events match; the first {limit} are returned, up to "
            f"{found[limit - 1].created_date_time.isoformat()}"
        )
        found = found[:limit]
    return [
        end_device_event(e, usage_points.at(e.meter, e.created_date_time)) for e in found
    ], truncated


# -- the job -------------------------------------------------------------------------------------


def run_read_job(he: HeadEnd, ctx: JobContext) -> None:
    """An accepted asynchronous `get`: read now, send the result (in parts) to ReplyAddress."""
    payload = dict(ctx.job.payload)
    noun = str(payload["noun"])
    address = str(payload["reply_address"])
    correlation = str(payload["correlation_id"])
    peer = payload.get("peer")
    if noun == "EndDeviceEvents":
        events, truncated = execute_events(he, ctx, payload["plan"])
        outcomes = Outcomes()
        outcomes.ok()
        extra = []
        if truncated:
            extra.append(ctx.codes.error(Problem.RESULT_TRUNCATED, truncated))
        send_result(
            ctx,
            address=address,
            peer=peer,
            correlation_id=correlation,
            noun=noun,
            reply=result_reply(outcomes, ctx.codes, extra),
            document=events_document(events) if events else None,
        )
        return
    plan = ReadPlan.from_json(payload["plan"])
    outcomes, document = execute_read(he, ctx, plan)
    parts = _split(document, he.options.max_readings_per_part)
    for index, part in enumerate(parts, 1):
        last = index == len(parts)
        if len(parts) == 1:
            reply = result_reply(outcomes, ctx.codes)
        elif last:
            reply = result_reply(outcomes, ctx.codes, [ctx.codes.error(Problem.LAST_RESULT)])
        else:
            reply = result_reply(
                Outcomes(), ctx.codes, [ctx.codes.error(Problem.MORE_RESULTS_FOLLOW)]
            )
        send_result(
            ctx,
            address=address,
            peer=peer if isinstance(peer, str) else None,
            correlation_id=correlation,
            noun=noun,
            reply=reply,
            document=part,
        )


def _split(document: MeterReadings | None, limit: int) -> list[MeterReadings | None]:
    """digest 4.4: a large result travels in several messages, whole MeterReadings each."""
    if document is None:
        return [None]
    parts: list[MeterReadings | None] = []
    current: list[Any] = []
    size = 0
    for mr in document.meter_reading:
        count = len(mr.readings) + sum(len(b.interval_readings) for b in mr.interval_blocks)
        if current and size + count > limit:
            parts.append(MeterReadings(meter_reading=tuple(current)))
            current, size = [], 0
        current.append(mr)
        size += count
    parts.append(MeterReadings(meter_reading=tuple(current)))
    return parts


__all__ = [
    "READ_JOB",
    "ReadPlan",
    "execute_events",
    "execute_read",
    "get_end_device_events",
    "get_meter_readings",
    "read_devices",
    "run_read_job",
]
