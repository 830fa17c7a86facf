"""The MDM and meter readings: ingest what head-ends and field systems send; answer gets.

Receiving (digest 4.1, 4.3, 4.4; 1.2 #3-5): `created` / `changed` MeterReadings from a head-end
(scheduled and pushed reads), `create` MeterReadings (manual, field or customer reads) and
`reply` MeterReadings (the results of our own `get`, accepted with any verb and matched by
CorrelationID by the core). Readings travel as columnar blocks (the streaming path for bytes,
DESIGN.md "Readings are columns") and go to `store.ingest_readings` in batches of
`ServiceConfig.ingest_batch_blocks`: versioned, the same value again a no-op, attributed to the
usage point linked at each reading's time. Items are readings: a rejected block (unknown meter,
malformed ReadingType) fails all its readings and a rejected row fails one; the reply has one
Error per MeterReading and problem, naming the meter and the element path. Events inside a
MeterReading are stored as EndDeviceEvents (digest 3.1).

What the batch changed is published for subscribers (CIS, data warehouse: digest 4.1 step 5):
`created MeterReadings` when it inserted readings, `changed MeterReadings` when it only
replaced values, nothing when everything was already there; the published readings are the
accepted ones, written by the streaming writer, at most `max_readings_per_event` per message.

`get MeterReadings` (digest 3.2, 4.2) answers from stored data: selectors EndDevice, UsagePoint,
EndDeviceGroup, UsagePointGroup and Request/ID (several of one kind ORed, kinds ANDed: digest
3.2 M), ReadingType(s) by code or name, ReadingQuality codes (prefix match), the time range by
the precedence rule (`timeranges`), Option `series` = raw|final. An answer holds at most
`max_readings_per_reply` readings: beyond, the reply is PARTIAL with `result-truncated` saying
where it stopped, so the requester can ask again from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from cimmeter.billing.publish import (
    billing_period_readings,
    is_billing_type,
    service_billing_config,
)
from cimmeter.codes import CodeError, ReadingType
from cimmeter.message.envelope import IDKind, Request, RequestMessage
from cimmeter.message.verbs import Verb
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock, concat_blocks
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.inbound import ItemProblem, ReadingsChunk
from cimmeter.service.mdm_events import (
    PendingEvent,
    event_record,
    group_members,
    resolve_selector,
    store_events,
)
from cimmeter.service.refs import DEVICE_KINDS, ref_of
from cimmeter.service.timeranges import TimeRange, candidates, resolve_ranges
from cimmeter.store.base import ReadingQuery, ReadSeries, StoreTransaction
from cimmeter.store.records import IngestResult, Job, ObjectKind, RejectedItem
from cimmeter.xml.datetimes import EXPECTED as EXPECTED_DATETIME
from cimmeter.xml.stream import EXPECTED_VALUE, MessageHeader
from cimmeter.xml.stream_write import meter_readings_bytes

NOUN = "MeterReadings"
NO_ZONE = "timestamp without a time zone"
"""How the reader's reason for a naive timestamp starts (cimmeter.xml.datetimes)."""

# -- receiving ------------------------------------------------------------------------------


def receive_readings(ctx: HandlerContext) -> Handled:
    """`created`/`changed`/`create`/`reply` MeterReadings (see the module docstring)."""
    stream = ctx.inbound.readings_chunks()
    if stream is None:
        if ctx.inbound.is_response:
            ctx.ok()  # a result without readings (FAILED at the head-end) is acknowledged
            return Handled()
        raise RequestFailed(
            ctx.error(Problem.INVALID_MESSAGE, "no MeterReadings in Payload", path="/Payload")
        )
    batch = _Batch(ctx)
    for chunk in stream:
        batch.add(chunk)
        if len(batch.blocks) >= ctx.config.ingest_batch_blocks:
            batch.flush()
    batch.flush()
    return Handled()


@dataclass
class _Batch:
    """Blocks and events waiting for one `ingest_readings` / `add_events` call."""

    ctx: HandlerContext
    blocks: list[ReadingBlock] = field(default_factory=list)
    origins: list[ReadingsChunk] = field(default_factory=list)
    events: list[PendingEvent] = field(default_factory=list)

    def add(self, chunk: ReadingsChunk) -> None:
        ctx = self.ctx
        for problem in chunk.problems:
            ctx.fail(
                reader_problem(problem),
                problem.reason + (f" (expected {problem.expected})" if problem.expected else ""),
                path=problem.path,
                object_ref=chunk.meter or chunk.usage_point,
                object_type="Meter" if chunk.meter else "UsagePoint",
            )
        for block in chunk.blocks:
            self.blocks.append(block)
            self.origins.append(chunk)
        for n, event in enumerate(chunk.events, start=1):
            item = event_record(
                ctx, event, f"{chunk.path}/EndDeviceEvents[{n}]", default_device=chunk.meter
            )
            if item is not None:
                self.events.append(item)

    def flush(self) -> None:
        ctx = self.ctx
        if self.blocks:
            result = ctx.tx.ingest_readings(
                self.blocks, received_at=ctx.now, source=ctx.header.source, series="raw"
            )
            rejected_rows = self._report(result)
            ctx.ok(result.accepted)
            if ctx.config.vee_after_ingest and result.accepted:
                schedule_vee(ctx.tx, self.blocks, ctx.now + ctx.config.vee_delay)
            self._publish(result, rejected_rows)
        if self.events:
            store_events(ctx, self.events, Verb.created)
        self.blocks, self.origins, self.events = [], [], []

    def _report(self, result: IngestResult) -> dict[int, set[int] | None]:
        """One Error per (MeterReading, problem); returns the rejected rows per block (None =
        the whole block)."""
        rejected: dict[int, set[int] | None] = {}
        groups: dict[tuple[int, str], list[RejectedItem]] = {}
        for item in result.rejected:
            if item.block_index is None:
                continue
            if item.row_index is None:
                rejected[item.block_index] = None
            else:
                rows = rejected.setdefault(item.block_index, set())
                if rows is not None:
                    rows.add(item.row_index)
            chunk = self.origins[item.block_index]
            groups.setdefault((chunk.index, str(item.code)), []).append(item)
        for items in groups.values():
            first = items[0]
            assert first.block_index is not None
            chunk = self.origins[first.block_index]
            count = sum(
                len(self.blocks[i.block_index]) if i.row_index is None else 1
                for i in items
                if i.block_index is not None
            )
            more = f" ({len(items)} items, {count} readings)" if len(items) > 1 else ""
            self.ctx.fail(
                self.ctx.codes.problem_of_store_code(str(first.code)),
                first.reason + more,
                count=count,
                path=first.path or chunk.path,
                object_ref=chunk.meter or chunk.usage_point,
                object_id=first.object_id,
                object_type="Meter" if chunk.meter else "UsagePoint",
            )
        return rejected

    def _publish(self, result: IngestResult, rejected: dict[int, set[int] | None]) -> None:
        ctx = self.ctx
        if not ctx.config.publish_events or (result.inserted == 0 and result.versioned == 0):
            return
        verb = Verb.created if result.inserted else Verb.changed
        good: list[ReadingBlock] = []
        for index, block in enumerate(self.blocks):
            rows = rejected.get(index, set())
            if rows is None:
                continue
            if rows:
                keep = np.ones(len(block), dtype=bool)
                keep[sorted(rows)] = False
                block = block.take(keep)
            if len(block):
                good.append(block)
        for part in _split(good, ctx.config.max_readings_per_event):
            message_id = ctx.new_id()
            header = MessageHeader(
                verb=verb.value,
                noun=NOUN,
                timestamp=ctx.now.astimezone(UTC).isoformat(),
                source=ctx.config.source,
                message_id=message_id,
            )
            ctx.publish_body(verb, NOUN, meter_readings_bytes(part, header=header), message_id)


_READER_PROBLEMS: dict[str | None, Problem] = {
    EXPECTED_VALUE: Problem.INVALID_VALUE,
    EXPECTED_DATETIME: Problem.INVALID_VALUE,
}
"""What the streaming reader expected -> the problem reported (its `expected` texts are its
stable constants)."""


def reader_problem(problem: ItemProblem) -> Problem:
    """The problem of a reading the reader skipped; a timestamp without zone is its own (DESIGN
    rule 6)."""
    if problem.expected == EXPECTED_DATETIME and problem.reason.startswith(NO_ZONE):
        return Problem.TIMESTAMP_WITHOUT_ZONE
    return _READER_PROBLEMS.get(problem.expected, Problem.INVALID_ELEMENT)


def _split(blocks: Sequence[ReadingBlock], limit: int) -> Iterator[list[ReadingBlock]]:
    """Blocks in groups of at most `limit` readings (a longer block is cut)."""
    part: list[ReadingBlock] = []
    size = 0
    for block in blocks:
        start = 0
        while start < len(block):
            room = limit - size
            piece = (
                block
                if start == 0 and len(block) <= room
                else block.take(np.arange(start, min(len(block), start + room)))
            )
            part.append(piece)
            size += len(piece)
            start += len(piece)
            if size >= limit:
                yield part
                part, size = [], 0
    if part:
        yield part


# -- get MeterReadings ------------------------------------------------------------------------


@dataclass
class _Selection:
    meters: list[str] = field(default_factory=list)
    usage_points: list[str] = field(default_factory=list)
    asked_meters: bool = False
    asked_usage_points: bool = False

    @property
    def asked(self) -> bool:
        return self.asked_meters or self.asked_usage_points

    @property
    def empty(self) -> bool:
        """A kind was asked for and none of it was found: nothing can match (kinds AND)."""
        return (self.asked_meters and not self.meters) or (
            self.asked_usage_points and not self.usage_points
        )


def get_readings(ctx: HandlerContext) -> Handled:
    """`get MeterReadings` from stored data (see the module docstring)."""
    query = ctx.inbound.query
    if query is not None and not isinstance(query, GetMeterReadings):
        raise RequestFailed(ctx.error(Problem.INVALID_MESSAGE, "the query is not GetMeterReadings"))
    message = ctx.inbound.message
    request = message.request if isinstance(message, RequestMessage) else None
    selection = _select(ctx, query, request)
    if not selection.asked:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "name at least one EndDevice, UsagePoint, EndDeviceGroup or UsagePointGroup "
                "(or a Request/ID)",
                path="/Request/GetMeterReadings",
            )
        )
    reading_types = _reading_types(ctx, query)
    series = _series(ctx, request)
    periods = []
    schedules = []
    qualities: list[str] = []
    if query is not None:
        periods = [
            (r.time_period, f"/GetMeterReadings/Reading[{n}]/timePeriod")
            for n, r in enumerate(query.reading, start=1)
        ]
        schedules = [
            (ts.schedule_interval, f"/GetMeterReadings/TimeSchedule[{n}]")
            for n, ts in enumerate(query.time_schedule, start=1)
        ]
        qualities = [
            q.reading_quality_type.mrid
            for q in query.reading_quality
            if q.reading_quality_type is not None and q.reading_quality_type.mrid
        ]
    ranges, notes = resolve_ranges(
        candidates(
            periods,
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
    if selection.empty or reading_types is None:
        return Handled()  # a whole kind of selector failed: its Errors say which
    blocks = _merge(
        ctx.tx.read_readings(
            ReadingQuery(
                meters=sorted(set(selection.meters)),
                usage_points=sorted(set(selection.usage_points)),
                reading_types=reading_types,
                start=r.start,
                end=r.end,
                series=series,
                quality_prefixes=qualities,
            )
        )
        for r in ranges
    )
    if reading_types and any(is_billing_type(code) for code in reading_types):
        blocks += _billing_blocks(ctx, selection, reading_types, ranges, series)
    blocks = _limit(ctx, blocks)
    return Handled(blocks=blocks)


def _billing_blocks(
    ctx: HandlerContext,
    selection: _Selection,
    reading_types: list[str],
    ranges: Sequence[TimeRange],
    series: ReadSeries,
) -> list[ReadingBlock]:
    """Billing determinants asked for by their billing-period ReadingTypes (cimmeter.billing
    .publish): computed from the stored series of the usage points named."""
    config = service_billing_config(ctx.config.billing_config, ctx.config.timezone)
    ups = sorted(set(selection.usage_points))
    return [
        block
        for r in ranges
        for block in billing_period_readings(
            ctx.tx, config, ups, reading_types, r.start, r.end, series=series
        )
    ]


def _select(
    ctx: HandlerContext, query: GetMeterReadings | None, request: Request | None
) -> _Selection:
    selection = _Selection()
    if query is not None:
        for n, device in enumerate(query.end_device, start=1):
            selection.asked_meters = True
            selection.meters += resolve_selector(
                ctx, DEVICE_KINDS, ref_of(device), f"/GetMeterReadings/EndDevice[{n}]", "EndDevice"
            )
        for n, up in enumerate(query.usage_point, start=1):
            selection.asked_usage_points = True
            selection.usage_points += resolve_selector(
                ctx,
                (ObjectKind.USAGE_POINT,),
                ref_of(up),
                f"/GetMeterReadings/UsagePoint[{n}]",
                "UsagePoint",
            )
        for n, group in enumerate(query.end_device_group, start=1):
            selection.asked_meters = True
            path = f"/GetMeterReadings/EndDeviceGroup[{n}]"
            for mrid in resolve_selector(
                ctx, (ObjectKind.END_DEVICE_GROUP,), ref_of(group), path, "EndDeviceGroup"
            ):
                selection.meters += group_members(ctx, mrid)
        for n, up_group in enumerate(query.usage_point_group, start=1):
            selection.asked_usage_points = True
            path = f"/GetMeterReadings/UsagePointGroup[{n}]"
            for mrid in resolve_selector(
                ctx, (ObjectKind.USAGE_POINT_GROUP,), ref_of(up_group), path, "UsagePointGroup"
            ):
                selection.usage_points += group_members(ctx, mrid)
    for n, given in enumerate(request.ids if request is not None else (), start=1):
        if not given.value:
            continue
        ref = (
            ObjectRef(name=given.value, name_type=given.id_type)
            if given.kind is IDKind.name
            else ObjectRef(mrid=given.value)
        )
        path = f"/Request/ID[{n}]"
        if given.object_type == "UsagePoint":
            selection.asked_usage_points = True
            selection.usage_points += resolve_selector(
                ctx, (ObjectKind.USAGE_POINT,), ref, path, "UsagePoint"
            )
        else:
            selection.asked_meters = True
            selection.meters += resolve_selector(ctx, DEVICE_KINDS, ref, path, "EndDevice")
    return selection


def _reading_types(ctx: HandlerContext, query: GetMeterReadings | None) -> list[str] | None:
    """The ReadingType codes asked for ([] = all); None when every one asked for failed."""
    if query is None or not query.reading_type:
        return []
    codes: list[str] = []
    by_name: dict[str, str] | None = None
    for n, asked in enumerate(query.reading_type, start=1):
        path = f"/GetMeterReadings/ReadingType[{n}]"
        if asked.mrid:
            try:
                codes.append(str(ReadingType.parse(asked.mrid)))
            except CodeError as exc:
                ctx.fail(Problem.MALFORMED_CODE, str(exc), path=path, object_id=asked.mrid)
                continue
            ctx.ok()
            continue
        names = [name.name for name in asked.names if name.name]
        if not names:
            ctx.fail(Problem.INVALID_ELEMENT, "ReadingType without mRID or Names", path=path)
            continue
        if by_name is None:
            by_name = {
                name.name: record.code
                for record in ctx.tx.list_reading_types()
                for name in record.names
            }
        code = next((by_name[name] for name in names if name in by_name), None)
        if code is None:
            ctx.fail(
                Problem.OBJECT_NOT_FOUND,
                f"no registered ReadingType named {', '.join(repr(n) for n in names)}",
                path=path,
                object_id=names[0],
                object_type="ReadingType",
            )
            continue
        ctx.ok()
        codes.append(code)
    return codes or None


def _series(ctx: HandlerContext, request: Request | None) -> ReadSeries:
    """Option `series` = raw | final | best (DECISIONS.md: the final series after VEE;
    `best`, the default, also shows what VEE has not reached yet)."""
    for option in request.options if request is not None else ():
        if option.name == "series":
            if option.value == "raw":
                return "raw"
            if option.value == "final":
                return "final"
            if option.value == "best":
                return "best"
            raise RequestFailed(
                ctx.error(
                    Problem.INVALID_ELEMENT,
                    f"Option series={option.value!r}; expected raw, final or best",
                    path="/Request/Option",
                )
            )
    return ctx.config.default_series


def _merge(parts: Iterable[Iterable[ReadingBlock]]) -> list[ReadingBlock]:
    """Blocks of several (disjoint, ascending) ranges joined per (meter, usage point, type)."""
    grouped: dict[tuple[object, ...], list[ReadingBlock]] = {}
    for blocks in parts:
        for block in blocks:
            key = (block.meter, block.usage_point, block.reading_type, block.kind)
            grouped.setdefault(key, []).append(block)
    return [group[0] if len(group) == 1 else concat_blocks(group) for group in grouped.values()]


def _limit(ctx: HandlerContext, blocks: list[ReadingBlock]) -> list[ReadingBlock]:
    limit = ctx.config.max_readings_per_reply
    total = sum(len(b) for b in blocks)
    if total <= limit:
        return blocks
    kept: list[ReadingBlock] = []
    size = 0
    for block in blocks:
        room = limit - size
        if len(block) <= room:
            kept.append(block)
            size += len(block)
            continue
        if room > 0:
            kept.append(block.take(np.arange(room)))
        first_left = datetime.fromtimestamp(int(block.timestamps[room]), UTC)
        meter = block.meter.describe() if block.meter else "(no meter)"
        ctx.outcomes.incomplete(
            ctx.error(
                Problem.RESULT_TRUNCATED,
                f"{total} readings match; this reply holds the first {limit}. Not included: "
                f"meter {meter}, ReadingType {block.reading_type} from "
                f"{first_left.isoformat()} on, and the meters and types after it",
                path="/Request",
            )
        )
        break
    return kept


__all__ = ["get_readings", "receive_readings"]


VEE_JOB = "vee.run"
"""The job kind `cimmeter.vee.jobs` runs (the MDM role's job table points there)."""


def schedule_vee(tx: StoreTransaction, blocks: Sequence[ReadingBlock], due: datetime) -> None:
    """One `vee.run` job over the meters and time span of these blocks (all meters when a
    block names its meter without an mRID)."""
    stamps = [b.timestamps for b in blocks if len(b)]
    if not stamps:
        return
    lo = int(min(int(t.min()) for t in stamps))
    hi = int(max(int(t.max()) for t in stamps))
    refs = [b.meter.mrid if b.meter is not None else None for b in blocks]
    meters = None if any(r is None for r in refs) else sorted({r for r in refs if r})
    payload = {
        "start": datetime.fromtimestamp(lo - 1, UTC).isoformat(),  # (start, end] holds lo
        "end": datetime.fromtimestamp(hi, UTC).isoformat(),
        "meters": meters,
    }
    tx.schedule_job(Job(VEE_JOB, due, payload))
