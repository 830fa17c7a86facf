"""A small real handler and read side, built from the message codecs, for transport tests.

Not the service (cimmeter.service): just enough behaviour, computed from what arrives, for the
transports to be tested end to end: `created`/`changed` MeterReadings are read on the columnar
path and kept; `get` MeterReadings answers from them; `create` EndDeviceControls is recorded;
`created` EndDeviceEvents are kept; a retried (Source, MessageID) returns the stored reply and
applies nothing twice; anything else gets a FAILED reply naming what is supported.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from cimmeter.message.envelope import (
    ID,
    Error,
    ErrorLevel,
    FaultMessage,
    Header,
    Message,
    Payload,
    ReadResult,
    Reply,
    ReplyResult,
    ResponseMessage,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.end_device_controls import EndDeviceControls
from cimmeter.model.end_device_events import EndDeviceEvents
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_readings import (
    MeterReadings,
    blocks_to_meter_readings,
    meter_readings_to_blocks,
)
from cimmeter.model.readings import ReadingBlock
from cimmeter.store.base import EventQuery, ReadingQuery
from cimmeter.store.records import EventRecord, MasterObject, ObjectKind
from cimmeter.transport.inbound import Inbound
from cimmeter.xml.errors import XmlInputError, XmlSecurityError, XmlSyntaxError
from cimmeter.xml.issues import DocumentError
from cimmeter.xml.stream import MeterReadingsReader


@dataclass
class MemoryService:
    """Handler (`__call__`) and read side over dictionaries, safe across worker threads."""

    readings: dict[tuple[str, str], dict[int, tuple[float, tuple[str, ...]]]] = field(
        default_factory=dict
    )
    usage_points: dict[str, str] = field(default_factory=dict)
    """meter mRID -> usage point mRID (from the readings' MeterReading/UsagePoint)."""
    events: list[EventRecord] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    replies: dict[tuple[str | None, str], Message] = field(default_factory=dict)
    applied: int = 0
    """How many messages changed something (a replay must not count)."""
    fail_on: set[str] = field(default_factory=set)
    """MessageIDs whose handling raises (to test crash handling)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- handler ------------------------------------------------------------------------------

    def __call__(self, inbound: Inbound) -> Message:
        env = inbound.envelope
        if env.message_id in self.fail_on:
            raise RuntimeError(f"injected failure for {env.message_id}")
        key = (env.source, env.message_id) if env.message_id else None
        with self.lock:
            if key is not None and key in self.replies:
                return self.replies[key]
        try:
            reply = self._handle(inbound)
        except (XmlSyntaxError, XmlSecurityError) as exc:
            return FaultMessage(reply=Reply(result=ReplyResult.FAILED, errors=(_error(exc),)))
        except XmlInputError as exc:
            reply = self._reply(inbound, ReplyResult.FAILED, _errors(exc))
        with self.lock:
            if key is not None:
                self.replies[key] = reply
        return reply

    def _handle(self, inbound: Inbound) -> Message:
        env = inbound.envelope
        if env.noun == "MeterReadings" and env.verb in ("created", "changed"):
            return self._ingest(inbound)
        if env.noun == "MeterReadings" and env.verb == "get":
            return self._get_readings(inbound)
        if env.noun == "EndDeviceControls" and env.verb == "create":
            document = _parsed(inbound).document
            assert isinstance(document, EndDeviceControls)
            ids = tuple(c.mrid or str(uuid.uuid4()) for c in document.end_device_control)
            with self.lock:
                self.controls.extend(ids)
                self.applied += 1
            return self._reply(inbound, ReplyResult.OK, (), ids=ids)
        if env.noun == "EndDeviceEvents" and env.verb == "created":
            document = _parsed(inbound).document
            assert isinstance(document, EndDeviceEvents)
            with self.lock:
                for event in document.end_device_event:
                    self.events.append(
                        EventRecord(
                            mrid=event.mrid or str(uuid.uuid4()),
                            type_code=event.end_device_event_type.ref
                            if event.end_device_event_type
                            else "0.0.0.0",
                            created=event.created_date_time or datetime(1970, 1, 1, tzinfo=UTC),
                            device_mrid=event.assets.mrid if event.assets else None,
                        )
                    )
                self.applied += 1
            return self._reply(inbound, ReplyResult.OK, ())
        supported = (
            "created/changed/get MeterReadings, create EndDeviceControls, created EndDeviceEvents"
        )
        return self._reply(
            inbound,
            ReplyResult.FAILED,
            (
                Error(
                    code="1.4",
                    level=ErrorLevel.FATAL,
                    reason=f"unsupported: {env.verb} {env.noun}",
                    details=f"supported: {supported}",
                ),
            ),
        )

    def _ingest(self, inbound: Inbound) -> Message:
        if inbound.syntax == "xml":
            reader = MeterReadingsReader(inbound.body, limits=inbound.limits)
            blocks = list(reader.blocks())
            problems = [e.one_line() for e in reader.errors]
        else:
            document = _parsed(inbound).document
            assert isinstance(document, MeterReadings)
            blocks = meter_readings_to_blocks(document)
            problems = []
        with self.lock:
            for block in blocks:
                meter = _mrid(block.meter)
                if block.usage_point is not None:
                    self.usage_points[meter] = _mrid(block.usage_point)
                series = self.readings.setdefault((meter, block.reading_type), {})
                for t, v, q in zip(
                    block.timestamps.tolist(),
                    block.values.tolist(),
                    block.quality.tolist(),
                    strict=True,
                ):
                    series[t] = (v, block.quality_sets[q])
            self.applied += 1
        errors = tuple(
            Error(code="2.1", level=ErrorLevel.FATAL, reason="reading rejected", details=p)
            for p in problems
        )
        result = ReplyResult.PARTIAL if errors else ReplyResult.OK
        return self._reply(inbound, result, errors)

    def _get_readings(self, inbound: Inbound) -> Message:
        message = _parsed(inbound).message
        query = getattr(message, "query", None)
        request = getattr(message, "request", None)
        meters: list[str] = []
        if isinstance(query, GetMeterReadings):
            meters = [d.mrid for d in query.end_device if d.mrid]
        start = request.start_time if request is not None else None
        end = request.end_time if request is not None else None
        blocks = list(self.read_readings(ReadingQuery(meters=meters, start=start, end=end)))
        document = blocks_to_meter_readings(blocks)
        return self._reply(inbound, ReplyResult.OK, (), document=document)

    def _reply(
        self,
        inbound: Inbound,
        result: ReplyResult,
        errors: tuple[Error, ...],
        *,
        ids: tuple[str, ...] = (),
        document: MeterReadings | None = None,
    ) -> ResponseMessage:
        env = inbound.envelope
        return ResponseMessage(
            header=Header(
                verb=Verb.reply,
                noun=env.noun or "",
                source="memory",
                message_id=str(uuid.uuid4()),
                correlation_id=env.correlation_id or env.message_id,
            ),
            reply=Reply(result=result, errors=errors, ids=tuple(ID(value=i) for i in ids)),
            payload=Payload(document=document) if document is not None else None,
        )

    # -- read side ------------------------------------------------------------------------------

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None:
        with self.lock:
            known = self._known(kind)
        return MasterObject(kind=kind, mrid=mrid, version=1) if mrid in known else None

    def list_objects(
        self, kind: ObjectKind, *, after_mrid: str | None = None, limit: int = 100
    ) -> list[MasterObject]:
        with self.lock:
            known = sorted(self._known(kind))
        chosen = [m for m in known if after_mrid is None or m > after_mrid][:limit]
        return [MasterObject(kind=kind, mrid=m, version=1) for m in chosen]

    def _known(self, kind: ObjectKind) -> set[str]:
        if kind == ObjectKind.METER:
            return {m for m, _ in self.readings}
        if kind == ObjectKind.USAGE_POINT:
            return set(self.usage_points.values())
        return set()

    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]:
        start = int(query.start.timestamp()) if query.start else None
        end = int(query.end.timestamp()) if query.end else None
        with self.lock:
            chosen = [
                (meter, rt, dict(series))
                for (meter, rt), series in self.readings.items()
                if (not query.meters or meter in query.meters)
                and (not query.usage_points or self.usage_points.get(meter) in query.usage_points)
                and (not query.reading_types or rt in query.reading_types)
            ]
            links = dict(self.usage_points)
        for meter, rt, series in sorted(chosen):
            stamps = sorted(
                t for t in series if (start is None or t > start) and (end is None or t <= end)
            )
            if not stamps:
                continue
            up = links.get(meter)
            yield ReadingBlock.build(
                rt,
                np.array(stamps, dtype=np.int64),
                [series[t][0] for t in stamps],
                [series[t][1] for t in stamps],
                meter=ObjectRef.of(meter),
                usage_point=ObjectRef.of(up) if up else None,
            )

    def query_events(self, query: EventQuery) -> list[EventRecord]:
        with self.lock:
            found = [
                e
                for e in self.events
                if (not query.devices or e.device_mrid in query.devices)
                and (query.start is None or e.created > query.start)
                and (query.end is None or e.created <= query.end)
            ]
        found.sort(key=lambda e: e.created)
        return found[: query.limit] if query.limit else found

    def reading_count(self) -> int:
        with self.lock:
            return sum(len(s) for s in self.readings.values())


def _parsed(inbound: Inbound) -> ReadResult:
    result = inbound.parse()
    if result.errors:
        raise DocumentError(result.issues)
    return result


def _mrid(ref: ObjectRef | None) -> str:
    if ref is None:
        return ""
    return ref.mrid or ref.name or ref.serial_number or ""


def _error(exc: XmlInputError) -> Error:
    return Error(code="1.1", level=ErrorLevel.FATAL, reason=exc.reason, details=exc.one_line())


def _errors(exc: XmlInputError) -> tuple[Error, ...]:
    if isinstance(exc, DocumentError):
        return tuple(
            Error(code="2.0", level=ErrorLevel.FATAL, reason=i.message, details=i.one_line())
            for i in exc.errors
        )
    return (_error(exc),)
