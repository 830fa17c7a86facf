"""The MDM role: its handler table, its own requests to the head-end, its jobs.

What the MDM accepts is `MDM_HANDLERS` (docs/noun-verb.md is generated from it):
- readings and events from head-ends and field systems (`mdm_readings`, `mdm_events`);
- `get` MeterReadings / EndDeviceEvents from stored data, synchronous or asynchronous;
- master data: config nouns, groups, read schedules (`master_data`), links
  (`linkages`), field work orders (`service_requests`);
- results of its own requests, matched by CorrelationID: `reply` of any noun it asks about,
  control lifecycle notices and outcome events (`mdm_controls`).

Its own requests (digest 1.2 #1, #9, #16, #20; 4.3, 4.7, 4.15) are built by `MdmService`
methods that the runtime and the sequences call inside a store transaction:
`request_read` (get MeterReadings), `request_events` (get EndDeviceEvents), `issue_control`
(create EndDeviceControls), `sync_to_headend` (MeterConfig, MasterDataLinkageConfig,
MeterReadSchedule, ... to the head-end). Each registers its CorrelationID in the message log
before the message is put in the outbox (digest fact 6), and schedules an expiry job: a request
without a result after `ServiceConfig.request_timeout` is marked `expired` by `tick` (digest
4.17 note 1: time out with an explicit state).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from cimmeter.codes import EndDeviceControlType
from cimmeter.message.envelope import Header, Payload, Request, RequestMessage
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.model.base import CimDocument
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.end_device_controls import (
    EndDevice as ControlDevice,
)
from cimmeter.model.end_device_controls import (
    EndDeviceControl,
    EndDeviceControls,
    EndDeviceTiming,
)
from cimmeter.model.get_end_device_events import GetEndDeviceEvents
from cimmeter.model.get_end_device_events import Meter as EventsMeter
from cimmeter.model.get_end_device_events import TimeSchedule as EventsTimeSchedule
from cimmeter.model.get_meter_readings import EndDevice, GetMeterReadings
from cimmeter.model.get_meter_readings import Reading as QueryReading
from cimmeter.model.get_meter_readings import ReadingType as QueryReadingType
from cimmeter.model.identity import ObjectRef
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import (
    HandlerSpec,
    HandlerTable,
    JobContext,
    Outgoing,
    Role,
    ServiceCore,
    acknowledge,
    send_request,
)
from cimmeter.service.errors import ErrorCodeTable
from cimmeter.service.linkages import EVENT_VERBS, apply_linkage, apply_linkage_event
from cimmeter.service.master_data import (
    CONFIG_NOUNS,
    apply_config,
    apply_config_event,
    apply_schedule,
    get_config,
    get_schedule,
)
from cimmeter.service.mdm_controls import (
    CONTROL_EVENT_VERBS,
    control_notice,
    control_reply,
    expire_controls,
)
from cimmeter.service.mdm_events import get_events, receive_events
from cimmeter.service.mdm_readings import VEE_JOB, get_readings, receive_readings
from cimmeter.service.service_requests import apply_service_requests
from cimmeter.store.base import StoreTransaction
from cimmeter.store.records import (
    ControlRecord,
    ControlState,
    Job,
    MessageDirection,
)

REQUEST_EXPIRY = "request-expiry"
"""Job kind: our request `correlation_id` has had no result by the job's due time."""


def _specs() -> list[HandlerSpec]:
    specs = [
        # readings (digest 4.1-4.4, 1.2 #3-5)
        HandlerSpec(
            "MeterReadings",
            "created",
            receive_readings,
            "store the readings (columnar, versioned, attributed to the usage point linked at "
            "each reading's time) and the events inside MeterReadings; publish created/changed "
            "MeterReadings",
        ),
        HandlerSpec(
            "MeterReadings",
            "changed",
            receive_readings,
            "as created: a changed value is kept as a new version",
        ),
        HandlerSpec(
            "MeterReadings",
            "create",
            receive_readings,
            "manual, field or customer reads: stored as created MeterReadings are",
        ),
        HandlerSpec(
            "MeterReadings",
            "get",
            get_readings,
            "answer from stored readings: by EndDevice, UsagePoint, groups, Request/ID, "
            "ReadingType, quality, time range (Reading/timePeriod > TimeSchedule > "
            "StartTime/EndTime, half-open); at most max_readings_per_reply (PARTIAL beyond)",
            async_mode="inline",
        ),
        HandlerSpec(
            "MeterReadings",
            "reply",
            receive_readings,
            "result of our get MeterReadings (any verb, or a created event with our "
            "CorrelationID): stored as created MeterReadings are",
        ),
        # events (digest 4.5, 4.7)
        HandlerSpec(
            "EndDeviceEvents",
            "created",
            receive_events,
            "store the events (unknown device: PARTIAL; replays de-duplicated); control "
            "outcomes move our controls along; publish created EndDeviceEvents",
        ),
        HandlerSpec(
            "EndDeviceEvents",
            "closed",
            receive_events,
            "store the closing notice next to the event; publish closed EndDeviceEvents",
        ),
        HandlerSpec(
            "EndDeviceEvents",
            "get",
            get_events,
            "answer from stored events: by Meter, UsagePoint, EndDeviceGroup, event type "
            "codes (* fields), time range; at most max_events_per_reply",
            async_mode="inline",
        ),
        HandlerSpec(
            "EndDeviceEvents",
            "reply",
            receive_events,
            "result of our get EndDeviceEvents: stored as created events are",
        ),
        # controls we issued (digest 4.7, 4.8)
        HandlerSpec(
            "EndDeviceControls",
            "reply",
            control_reply,
            "the head-end's answer to our create/change/cancel EndDeviceControls: controls "
            "acknowledged, or failed per device named in the Errors",
        ),
        # read schedules (digest 4.12)
        HandlerSpec(
            "MeterReadSchedule",
            "get",
            get_schedule,
            "the schedule named by Request/ID; without one, the names of all in Reply/ID",
        ),
        HandlerSpec(
            "MeterReadSchedule",
            "reply",
            acknowledge,
            "the head-end's answer to our schedule sync: acknowledged, its Result recorded",
        ),
        # links (digest 4.10, 4.11, 4.14)
        HandlerSpec(
            "MasterDataLinkageConfig",
            "reply",
            acknowledge,
            "the head-end's answer to our linkage sync: acknowledged, its Result recorded",
        ),
        # field work (digest 4.10)
        *(
            HandlerSpec(
                "MeterServiceRequests",
                verb,
                apply_service_requests,
                "track the work order; when it reports the work done: store the final and "
                "initial reads, close and open the meter-usage point links",
            )
            for verb in ("create", "change", "cancel", "close", "created", "changed", "closed")
        ),
    ]
    for verb in ("created", "changed", "executed", "canceled"):
        specs.append(
            HandlerSpec(
                "EndDeviceControls",
                verb,
                control_notice,
                f"lifecycle notice of one of our controls ({CONTROL_EVENT_VERBS[verb].value} "
                "when it names our CorrelationID)",
            )
        )
    for verb in ("create", "change", "cancel", "close", "delete"):
        specs.append(
            HandlerSpec(
                "MeterReadSchedule",
                verb,
                apply_schedule,
                f"{_VERB_TEXT[verb]} the read schedule (named by Request/ID or the create's "
                "CorrelationID); targets and ReadingTypes checked",
            )
        )
        specs.append(
            HandlerSpec(
                "MasterDataLinkageConfig",
                verb,
                apply_linkage,
                _LINK_TEXT[verb],
            )
        )
    for verb in ("created", "changed", "closed", "canceled", "deleted"):
        specs.append(
            HandlerSpec(
                "MasterDataLinkageConfig",
                verb,
                apply_linkage_event,
                "result of our linkage sync (by CorrelationID): acknowledged; otherwise "
                f"applied as {EVENT_VERBS[Verb(verb)].value} is, and passed on",
            )
        )
    for noun in CONFIG_NOUNS:
        for verb in ("create", "change", "close", "cancel", "delete"):
            specs.append(HandlerSpec(noun, verb, apply_config, _CONFIG_TEXT[verb]))
        specs.append(
            HandlerSpec(
                noun,
                "get",
                get_config,
                "the objects named by the query or Request/ID (linked or grouped ones "
                "included), else all up to max_objects_per_reply",
            )
        )
        for verb in ("created", "changed", "deleted"):
            specs.append(
                HandlerSpec(
                    noun,
                    verb,
                    apply_config_event,
                    "result of our sync (by CorrelationID): acknowledged; otherwise the "
                    "objects are created or updated (deleted) and the event passed on",
                )
            )
        specs.append(
            HandlerSpec(
                noun,
                "reply",
                acknowledge,
                "the answer to our sync request: acknowledged, its Result recorded",
            )
        )
    return specs


_VERB_TEXT = {
    "create": "store",
    "change": "replace",
    "cancel": "cancel",
    "close": "close",
    "delete": "delete",
}
_CONFIG_TEXT = {
    "create": "store the objects (mRID assigned when absent, returned in Reply/ID); the same "
    "object again is a no-op, other content under its identity fails (object-exists)",
    "change": "update the stored objects with the elements given",
    "close": "status closed from ConfigurationEvents/effectiveDateTime (or now)",
    "cancel": "status cancelled",
    "delete": "mark deleted (history kept)",
}
_LINK_TEXT = {
    "create": "link the objects pairwise from ConfigurationEvent/effectiveDateTime; the same "
    "link again is a no-op; a meter linked elsewhere fails ('meter already linked to another "
    "usage point')",
    "change": "move the link in force to the new effective time",
    "close": "end the links at the effective time",
    "cancel": "undo a link made in error (kept in history as cancelled)",
    "delete": "as cancel",
}


MDM_HANDLERS = HandlerTable(_specs())


def _request_expiry(ctx: JobContext) -> None:
    correlation = str(ctx.job.payload.get("correlation_id", ""))
    for entry in ctx.tx.find_by_correlation(correlation, direction=MessageDirection.OUTBOUND.value):
        if entry.status == "pending" and entry.id is not None:
            ctx.tx.update_message(entry.id, status="expired", reply=None)
    expire_controls(ctx.tx, correlation, ctx.now)


def _vee_job(ctx: JobContext) -> None:
    # VEE sits beside the service (DESIGN.md); imported when its job first runs
    from cimmeter.vee.jobs import run_vee_job

    run_vee_job(ctx)


MDM_ROLE = Role(
    name="mdm",
    title="MDM",
    handlers=MDM_HANDLERS,
    jobs={REQUEST_EXPIRY: _request_expiry, VEE_JOB: _vee_job},
)


class MdmService(ServiceCore):
    """The MDM: `handle`, `tick`, and the requests it sends to its head-end."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        codes: ErrorCodeTable | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(config, MDM_ROLE, codes=codes, new_id=new_id)

    def _request_header(
        self, verb: Verb, noun: str, now: datetime, *, asynchronous: bool
    ) -> Header:
        if asynchronous and not self.config.reply_address:
            raise ValueError(
                "an asynchronous request needs ServiceConfig.reply_address (where results go)"
            )
        correlation = self.new_id()
        return Header(
            verb=verb,
            noun=noun,
            timestamp=now,
            source=self.config.source,
            async_reply_flag=True if asynchronous else None,
            reply_address=self.config.reply_address if asynchronous else None,
            # MessageID = CorrelationID: a peer answering with either matches (digest 6.8)
            message_id=correlation,
            correlation_id=correlation,
        )

    def _send(
        self,
        tx: StoreTransaction,
        message: RequestMessage,
        now: datetime,
        timeout: timedelta | None,
    ) -> Outgoing:
        out = send_request(tx, self.config.headend_destination, message, now)
        tx.schedule_job(
            Job(
                REQUEST_EXPIRY,
                now + (timeout or self.config.request_timeout),
                {"correlation_id": message.header.correlation_id},
            )
        )
        return out

    def request_read(
        self,
        tx: StoreTransaction,
        now: datetime,
        *,
        meters: Sequence[ObjectRef | str],
        reading_types: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        asynchronous: bool = True,
        timeout: timedelta | None = None,
    ) -> Outgoing:
        """`get MeterReadings` to the head-end (digest 4.3; 4.2 with asynchronous=False): the
        query in Request (digest fact 1), the period as Reading/timePeriod."""
        query = GetMeterReadings(
            end_device=tuple(_end_device(m) for m in meters),
            reading=(QueryReading(time_period=DateTimeInterval(start=start, end=end)),)
            if start or end
            else (),
            reading_type=tuple(QueryReadingType(mrid=code) for code in reading_types),
        )
        message = RequestMessage(
            header=self._request_header(Verb.get, "MeterReadings", now, asynchronous=asynchronous),
            request=Request(query=query),
        )
        return self._send(tx, message, now, timeout)

    def request_events(
        self,
        tx: StoreTransaction,
        now: datetime,
        *,
        meters: Sequence[ObjectRef | str],
        start: datetime | None = None,
        end: datetime | None = None,
        asynchronous: bool = True,
        timeout: timedelta | None = None,
    ) -> Outgoing:
        """`get EndDeviceEvents` to the head-end (digest 4.5, pull variant)."""
        query = GetEndDeviceEvents(
            meter=tuple(EventsMeter(mrid=_mrid(m)) for m in meters),
            time_schedule=(
                EventsTimeSchedule(schedule_interval=DateTimeInterval(start=start, end=end)),
            )
            if start or end
            else (),
        )
        message = RequestMessage(
            header=self._request_header(
                Verb.get, "EndDeviceEvents", now, asynchronous=asynchronous
            ),
            request=Request(query=query),
        )
        return self._send(tx, message, now, timeout)

    def issue_control(
        self,
        tx: StoreTransaction,
        now: datetime,
        *,
        control_type: EndDeviceControlType | str,
        devices: Sequence[ObjectRef | str],
        start: datetime | None = None,
        end: datetime | None = None,
        issuer_tracking_id: str | None = None,
        reason: str | None = None,
        timeout: timedelta | None = None,
    ) -> Outgoing:
        """`create EndDeviceControls` to the head-end, asynchronous (digest 4.7 step 2: the
        outcome comes back as events to our ReplyAddress). One control record per device is
        kept (state `requested`) and follows the replies and outcome events."""
        code = str(EndDeviceControlType.parse(str(control_type)))
        header = self._request_header(Verb.create, "EndDeviceControls", now, asynchronous=True)
        control_mrid = self.new_id()
        timing = (
            EndDeviceTiming(interval=DateTimeInterval(start=start or now, end=end))
            if start or end
            else EndDeviceTiming(interval=DateTimeInterval(start=now))
        )
        control = EndDeviceControl(
            mrid=control_mrid,
            issuer_id=self.config.source,
            issuer_tracking_id=issuer_tracking_id,
            reason=reason,
            end_device_control_type=code,
            end_devices=tuple(ControlDevice(mrid=_mrid(d)) for d in devices),
            primary_device_timing=timing,
        )
        expires = now + (timeout or self.config.request_timeout)
        for device in devices:
            tx.put_control(
                ControlRecord(
                    mrid=f"{control_mrid}:{_mrid(device)}",
                    type_code=code,
                    device_mrid=_mrid(device),
                    state=ControlState.REQUESTED,
                    requested_at=now,
                    correlation_id=header.correlation_id,
                    reply_address=self.config.headend_destination,
                    scheduled_at=start,
                    expires_at=expires,
                    document=control.model_dump(mode="json", by_alias=True, exclude_defaults=True),
                )
            )
        message = RequestMessage(
            header=header,
            payload=Payload(document=EndDeviceControls(end_device_control=(control,))),
        )
        return self._send(tx, message, now, timeout)

    def sync_to_headend(
        self,
        tx: StoreTransaction,
        now: datetime,
        verb: Verb,
        document: CimDocument,
        *,
        asynchronous: bool = False,
        timeout: timedelta | None = None,
    ) -> Outgoing:
        """Master data to the head-end (digest 4.10 step 5, 4.14, 4.15 direction A): e.g.
        `create MeterConfig`, `create`/`close MasterDataLinkageConfig`, `create
        MeterReadSchedule`."""
        if VERBS[verb].kind is not VerbKind.request:
            raise ValueError(f"{verb.value} is not a request verb")
        noun = REGISTRY.entry_of(document).noun
        message = RequestMessage(
            header=self._request_header(verb, noun, now, asynchronous=asynchronous),
            payload=Payload(document=document),
        )
        return self._send(tx, message, now, timeout)


def _mrid(ref: ObjectRef | str) -> str:
    if isinstance(ref, str):
        return ref
    if not ref.mrid:
        raise ValueError(f"{ref.describe()}: requests to the head-end name devices by mRID")
    return ref.mrid


def _end_device(ref: ObjectRef | str) -> EndDevice:
    return EndDevice(mrid=_mrid(ref))


__all__ = ["MDM_HANDLERS", "MDM_ROLE", "REQUEST_EXPIRY", "MdmService"]
