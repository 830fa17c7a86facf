"""What the head-end's handlers and jobs share: its settings, its devices, how device failures
become Errors, how device events and readings become messages, how results travel.

The head-end knows its devices through a `DeviceNetwork` (the simulated fleet, or a vendor
adapter) and its own store: meters an MDM configured (`create MeterConfig`, with the names the
MDM gave them), the meter-usage point links an MDM sent (`MasterDataLinkageConfig`), groups.
A reference in a request is resolved in the store first (names, removed meters), then by the
network, which says whether the device exists (digest 1.3.6: mRID, Names or serial number;
errors say which identifier failed).

The head-end is not the system of record of usage points (digest 1.3.5): readings and events it
sends carry the usage point its store links the meter to at that time, and none otherwise (the
MDM attributes them by its own links).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field

from cimmeter.codes import EndDeviceControlType
from cimmeter.headend.events import DeviceEvent
from cimmeter.headend.network import DeviceError, DeviceErrorKind, DeviceNetwork
from cimmeter.message.envelope import (
    ID,
    Error,
    EventMessage,
    Header,
    Message,
    Payload,
    Reply,
    ReplyResult,
    ResponseMessage,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.model.end_device_events import (
    Asset,
    EndDeviceEvent,
    EndDeviceEventDetail,
    EndDeviceEvents,
)
from cimmeter.model.end_device_events import UsagePoint as EventUsagePoint
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import Outgoing
from cimmeter.service.errors import ErrorCodeTable, Problem
from cimmeter.service.refs import resolve
from cimmeter.service.replies import Outcomes, event_message
from cimmeter.store.base import StoreTransaction
from cimmeter.store.records import LinkageKind, ObjectKind, OutboxMessage

# digest 4.6, 5.1.7 (M): no standard ping code exists (5.2.5); a ping is a `get MeterReadings`
# for an energization ReadingType: instantaneous (accumulation 12), electricity (commodity 1),
# measurementKind 11 energization (line side) / 13 energizationLoadSide, no unit; value 1 =
# energised, 0 = de-energised; a device that does not answer gets an Error, never a 0.
ENERGIZATION: Final = "0.0.0.12.0.1.11.0.0.0.0.0.0.0.0.0.0.0"
ENERGIZATION_LOAD_SIDE: Final = "0.0.0.12.0.1.13.0.0.0.0.0.0.0.0.0.0.0"

PROGRAM_DOMAINS: Final = frozenset({11, 20})
"""Control domains whose commands are programs (digest 4.13, M): 11 Firmware, 20 Billing (TOU
calendars, special days, tariffs, prices, credit). The head-end downloads them at once and the
device takes them into force at `primaryDeviceTiming/interval/start` (the activation time);
every other control is released at that time (digest 4.7 step 2)."""

EVENT_NAMESPACE: Final = uuid.UUID("8f6b1d52-4b7c-4c1e-9a43-5e0e6c2d8a17")
"""mRIDs of the events the head-end reports are UUIDv5 of the device, code and time, so that a
re-sent event is the same event to its receiver (digest 1.3.3: receivers de-duplicate)."""


class HeadEndOptions(BaseModel):
    """Settings of the head-end role beside `ServiceConfig` (immutable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_sync_devices: int = Field(10, gt=0)
    """A synchronous `get MeterReadings` reads at most this many devices; the others get an
    error "unsupported bulk operation" (digest 1.3.1, 4.2: say which were skipped)."""
    energization_reading_types: tuple[str, ...] = (ENERGIZATION, ENERGIZATION_LOAD_SIDE)
    """ReadingTypes answered by a ping (digest 4.6, M): line side first, then load side."""
    event_poll_interval: timedelta = timedelta(minutes=5)
    """How often `tick` collects device events and publishes them."""
    control_retry_interval: timedelta = timedelta(minutes=15)
    """A control whose device did not answer is tried again after this long, until its
    MaximumExecutionTime (digest 4.7 failure paths)."""
    default_max_execution_time: timedelta = timedelta(days=1)
    """A control without a `MaximumExecutionTime` option expires this long after release."""
    max_readings_per_part: int = Field(100_000, gt=0)
    """An asynchronous read result is sent in parts of at most this many readings, all with
    the request's CorrelationID (digest 4.4 step 3)."""


@dataclass(slots=True)
class HeadEnd:
    """What the handlers and jobs of one head-end share: its devices and its settings."""

    network: DeviceNetwork
    options: HeadEndOptions = field(default_factory=HeadEndOptions)


class Work(Protocol):
    """What a handler context and a job context both offer (`core.HandlerContext`,
    `core.JobContext`)."""

    @property
    def tx(self) -> StoreTransaction: ...
    @property
    def now(self) -> datetime: ...
    @property
    def config(self) -> ServiceConfig: ...
    @property
    def codes(self) -> ErrorCodeTable: ...
    @property
    def new_id(self) -> Callable[[], str]: ...
    @property
    def outgoing(self) -> list[Outgoing]: ...

    def enqueue(self, destination: str, message: Message) -> Outgoing: ...


# -- device errors -------------------------------------------------------------------------------

DEVICE_PROBLEMS: Final[dict[DeviceErrorKind, tuple[Problem, str]]] = {
    # DeviceError kind -> (problem of the error-code table, reason); digest 4.2, 4.6, 4.7
    "unknown-device": (Problem.OBJECT_NOT_FOUND, "device not found"),
    "unsupported-reading-type": (Problem.OBJECT_NOT_FOUND, "reading type not found on device"),
    "not-reachable": (Problem.PEER_UNAVAILABLE, "device not reachable"),
    "unsupported-control": (Problem.UNSUPPORTED_OPERATION, "control not supported by device"),
    "not-enrolled": (Problem.INVALID_STATE, "device not enrolled in load control"),
    "invalid-parameter": (Problem.INVALID_VALUE, "invalid control parameter"),
    "out-of-order": (Problem.INVALID_STATE, "control arrives after a later one"),
}


def device_error(codes: ErrorCodeTable, error: DeviceError, path: str | None = None) -> Error:
    """The Error of one device failure, naming the device (or the reading type)."""
    problem, reason = DEVICE_PROBLEMS[error.kind]
    return codes.error(
        problem,
        error.reason,
        path=path,
        reason=reason,
        object_ref=error.device,
        object_id=error.reading_type if error.device is None else None,
        object_type="EndDevice" if error.device is not None else "ReadingType",
    )


# -- targets -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A device a request names, resolved: `device` is the network's reference (its mRID)."""

    given: ObjectRef
    device: ObjectRef
    path: str

    @property
    def mrid(self) -> str:
        assert self.device.mrid is not None
        return self.device.mrid


@dataclass(frozen=True, slots=True)
class Named:
    """One reference as a request gave it: what it is (`EndDevice`, `UsagePoint`,
    `EndDeviceGroup`), where, and the identifiers."""

    what: str
    path: str
    ref: ObjectRef | None


def resolve_targets(
    he: HeadEnd,
    tx: StoreTransaction,
    now: datetime,
    codes: ErrorCodeTable,
    outcomes: Outcomes,
    named: Sequence[Named],
) -> list[Target]:
    """The devices `named` designate, each once; one failed item per reference that designates
    nothing (see the module docstring)."""
    pending: list[tuple[Named, ObjectRef]] = []
    for item in named:
        if item.ref is None:
            outcomes.fail(
                codes.error(
                    Problem.INVALID_ELEMENT,
                    f"{item.what} has no mRID, Names or serialNumber",
                    path=item.path,
                )
            )
            continue
        if item.what == "EndDeviceGroup":
            members = _group_members(tx, now, item, codes, outcomes)
            pending += [(item, ObjectRef(mrid=m)) for m in members]
            continue
        local = _local_device(tx, now, item, codes, outcomes)
        if local is False:
            continue
        pending.append((item, local if isinstance(local, ObjectRef) else item.ref))
    found = he.network.identify([ref for _, ref in pending]) if pending else ()
    targets: dict[str, Target] = {}
    for (item, ref), result in zip(pending, found, strict=True):
        if isinstance(result, DeviceError):
            assert item.ref is not None
            outcomes.fail(
                device_error(codes, replace(result, device=item.ref), path=item.path),
            )
            continue
        if result.mrid is None:
            raise RuntimeError(f"the device network named {ref.describe()} without an mRID")
        targets.setdefault(result.mrid, Target(item.ref or ref, result, item.path))
    return list(targets.values())


def _local_device(
    tx: StoreTransaction, now: datetime, item: Named, codes: ErrorCodeTable, outcomes: Outcomes
) -> ObjectRef | bool:
    """What the head-end's own store says of a reference: the meter it names (an ObjectRef),
    False when the item failed here, True when the store does not know it (ask the network)."""
    ref = item.ref
    assert ref is not None
    if item.what == "UsagePoint":
        if ref.mrid:
            links = tx.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=ref.mrid, at=now)
            if len(links) == 1:
                return ObjectRef(mrid=links[0].from_mrid)
        return True
    if ref.mrid:
        stored = tx.get_object(ObjectKind.METER, ref.mrid)
        if stored is not None and stored.deleted:
            outcomes.fail(
                codes.error(
                    Problem.INVALID_STATE,
                    f"meter {ref.describe()} was removed (MeterConfig deleted)",
                    path=item.path,
                    reason="device removed",
                    object_ref=ref,
                    object_type="EndDevice",
                )
            )
            return False
        if stored is not None:
            return ObjectRef(mrid=stored.mrid)
        return True
    found = resolve(tx, (ObjectKind.METER, ObjectKind.END_DEVICE), ref, item.what)
    return ObjectRef(mrid=found.obj.mrid) if found.obj is not None else True


def _group_members(
    tx: StoreTransaction, now: datetime, item: Named, codes: ErrorCodeTable, outcomes: Outcomes
) -> list[str]:
    found = resolve(tx, (ObjectKind.END_DEVICE_GROUP,), item.ref, item.what)
    if found.obj is None:
        assert found.problem is not None
        outcomes.fail(
            codes.error(
                found.problem,
                found.detail,
                path=item.path,
                object_ref=item.ref,
                object_type="EndDeviceGroup",
            )
        )
        return []
    members = [
        link.to_mrid
        for link in tx.linkages(LinkageKind.GROUP_MEMBER, from_mrid=found.obj.mrid, at=now)
    ]
    if not members:
        outcomes.fail(
            codes.error(
                Problem.INVALID_STATE,
                f"group {item.ref.describe() if item.ref else ''} has no members",
                path=item.path,
                object_ref=item.ref,
                object_type="EndDeviceGroup",
            )
        )
    return members


# -- usage points --------------------------------------------------------------------------------


class UsagePoints:
    """The usage point the head-end's store links a meter to at a time (cached per job)."""

    def __init__(self, tx: StoreTransaction) -> None:
        self._tx = tx
        self._cache: dict[str, list[tuple[datetime, datetime | None, str]]] = {}

    def at(self, meter: ObjectRef | None, when: datetime) -> ObjectRef | None:
        if meter is None or meter.mrid is None:
            return None
        spans = self._cache.get(meter.mrid)
        if spans is None:
            spans = [
                (link.valid_from, link.valid_to, link.to_mrid)
                for link in self._tx.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=meter.mrid)
            ]
            self._cache[meter.mrid] = spans
        for start, end, usage_point in spans:
            if start < when and (end is None or when <= end):
                return ObjectRef(mrid=usage_point)
        return None

    def label(self, blocks: Iterable[ReadingBlock]) -> list[ReadingBlock]:
        """Blocks with the usage point of the store (or none), as the module docstring says."""
        out = []
        for block in blocks:
            when = _utc(int(block.timestamps[-1])) if len(block) else None
            usage_point = self.at(block.meter, when) if when is not None else None
            out.append(
                block
                if block.usage_point == usage_point
                else replace(block, usage_point=usage_point)
            )
        return out


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# -- events --------------------------------------------------------------------------------------


def end_device_event(
    event: DeviceEvent,
    usage_point: ObjectRef | None,
    *,
    key: str = "",
    issuer_id: str | None = None,
    issuer_tracking_id: str | None = None,
    code: str | None = None,
) -> EndDeviceEvent:
    """A device event as the profile writes it (digest 3.4.1): the device in `Assets`, the code
    in `EndDeviceEventType/@ref`, details as name/value pairs. `key` distinguishes an outcome
    report from the device event it accompanies (they get different mRIDs)."""
    type_code = code or event.event_type
    mrid = uuid.uuid5(
        EVENT_NAMESPACE,
        f"{event.meter.mrid}|{type_code}|{event.created_date_time.isoformat()}|{key}",
    )
    return EndDeviceEvent.model_validate(
        {
            "mrid": str(mrid),
            "created_date_time": event.created_date_time,
            "issuer_id": issuer_id,
            "issuer_tracking_id": issuer_tracking_id,
            "reason": event.reason,
            "assets": Asset(mrid=event.meter.mrid),
            "end_device_event_details": tuple(
                EndDeviceEventDetail(name=name, value=value) for name, value in event.details
            ),
            "end_device_event_type": {"ref": type_code},
            "usage_point": EventUsagePoint(mrid=usage_point.mrid) if usage_point else None,
        }
    )


def events_document(events: Sequence[EndDeviceEvent]) -> EndDeviceEvents:
    return EndDeviceEvents(end_device_event=tuple(events))


def control_code(text: str) -> EndDeviceControlType:
    return EndDeviceControlType.parse(text)


# -- sending -------------------------------------------------------------------------------------


def publish(
    work: Work,
    verb: Verb,
    noun: str,
    document: CimDocument | None,
    *,
    correlation_id: str | None = None,
) -> Outgoing | None:
    """An event for subscribers (`topic:<verb>.<Noun>`), carrying the CorrelationID of the
    request it is about (lifecycle notices of controls, digest 4.7 step 4)."""
    if not work.config.publish_events:
        return None
    message = event_message(
        verb,
        noun,
        document,
        source=work.config.source,
        message_id=work.new_id(),
        now=work.now,
        correlation_id=correlation_id,
    )
    return work.enqueue(work.config.topic(verb.value, noun), message)


def enqueue_body(
    work: Work,
    destination: str,
    verb: Verb,
    noun: str,
    body: bytes,
    *,
    message_id: str,
    correlation_id: str | None = None,
) -> Outgoing:
    """A message already serialized (large MeterReadings from the stream writer)."""
    stored = work.tx.enqueue(
        OutboxMessage(
            destination=destination,
            verb=verb.value,
            noun=noun,
            body=body,
            correlation_id=correlation_id,
            message_id=message_id,
            created_at=work.now,
        )
    )
    out = Outgoing(destination, verb.value, noun, body, correlation_id, message_id, stored.id)
    work.outgoing.append(out)
    return out


def result_reply(outcomes: Outcomes, codes: ErrorCodeTable, extra: Sequence[Error] = ()) -> Reply:
    """The Reply of a result: one Error per failed item; `0.0` when all went well."""
    errors = (*outcomes.errors, *extra)
    if outcomes.result is ReplyResult.OK and not errors:
        errors = (codes.error(Problem.OK),)
    return Reply(result=outcomes.result, errors=errors)


def send_result(
    work: Work,
    *,
    address: str,
    peer: str | None,
    correlation_id: str,
    noun: str,
    reply: Reply,
    document: CimDocument | None,
) -> Outgoing:
    """The result of an asynchronous request, to its ReplyAddress (DECISIONS.md, async
    results): a `reply` ResponseMessage, or a `created` EventMessage for peers configured so;
    both carry the request's CorrelationID and the Reply."""
    form = work.config.result_form_for(peer)
    payload = Payload(document=document) if document is not None else None
    message: Message
    if form == "reply":
        message = ResponseMessage(
            header=Header(
                verb=Verb.reply,
                noun=noun,
                timestamp=work.now,
                source=work.config.source,
                message_id=work.new_id(),
                correlation_id=correlation_id,
            ),
            reply=reply,
            payload=payload,
        )
    else:
        message = event_message(
            Verb.created,
            noun,
            document,
            source=work.config.source,
            message_id=work.new_id(),
            now=work.now,
            correlation_id=correlation_id,
            reply=reply,
        )
    return work.enqueue(address, message)


def send_outcomes(
    work: Work,
    *,
    address: str | None,
    correlation_id: str | None,
    events: Sequence[EndDeviceEvent],
    outcomes: Outcomes,
) -> Outgoing | None:
    """Control outcomes (digest 4.7 step 6, DECISIONS.md): `created EndDeviceEvents` with the
    request's CorrelationID and a Reply (one Error per failed device) to the control's
    ReplyAddress; without one, to the EndDeviceEvents topic."""
    if not events and not outcomes.errors:
        return None
    message = EventMessage(
        header=Header(
            verb=Verb.created,
            noun="EndDeviceEvents",
            timestamp=work.now,
            source=work.config.source,
            message_id=work.new_id(),
            correlation_id=correlation_id,
        ),
        reply=result_reply(outcomes, work.codes),
        payload=Payload(document=events_document(events)) if events else None,
    )
    destination = address or work.config.topic(Verb.created.value, "EndDeviceEvents")
    return work.enqueue(destination, message)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def from_iso(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def ids_of(values: Iterable[str], object_type: str) -> tuple[ID, ...]:
    return tuple(ID(value=v, object_type=object_type) for v in values)


__all__ = [
    "DEVICE_PROBLEMS",
    "ENERGIZATION",
    "ENERGIZATION_LOAD_SIDE",
    "PROGRAM_DOMAINS",
    "HeadEnd",
    "HeadEndOptions",
    "Named",
    "Target",
    "UsagePoints",
    "Work",
    "control_code",
    "device_error",
    "end_device_event",
    "enqueue_body",
    "events_document",
    "from_iso",
    "ids_of",
    "iso",
    "publish",
    "resolve_targets",
    "result_reply",
    "send_outcomes",
    "send_result",
]
