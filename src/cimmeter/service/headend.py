"""The head-end role: its handler table, its jobs, and `HeadEndService` (digest 1.1, 1.3.5).

The head-end talks to devices through a `DeviceNetwork` (the simulated fleet, or a vendor
adapter) and to its MDM through messages. What it accepts is `headend_role(...)`'s table
(docs/noun-verb.md is generated from `HEADEND_ROLE`):
- `get MeterReadings` (on-demand, historical and bulk reads, ping) and `get EndDeviceEvents`,
  synchronous or asynchronous (`headend_reads`);
- `create` / `change` / `cancel` EndDeviceControls, executed from `tick` at their release time
  with outcomes to ReplyAddress (`headend_controls`);
- read schedules (`headend_schedules`), executed from `tick` as `created MeterReadings`;
- meter configuration and links from the MDM (`headend_config`).

Time-driven work runs in `tick` (DECISIONS.md) from the `jobs` table: asynchronous reads,
control release / retry / expiry, schedule occurrences, and the collection of device events:
every `event_poll_interval` the head-end publishes what the devices reported since the last
collection (outages, restorations, tamper, relay and demand-reset events, ...) as `created
EndDeviceEvents` (digest 4.5, 4.6 steps 1 and 5). `HeadEndService.start` plants the first
collection; each one plants the next, so a restart neither loses nor repeats a window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from cimmeter.headend.events import DeviceEvent
from cimmeter.headend.fleet import MeterKind
from cimmeter.headend.network import (
    ControlOutcome,
    ControlRequest,
    DeviceError,
    DeviceNetwork,
    PingResult,
    ReadResult,
)
from cimmeter.message.envelope import Header, Message, write_xml
from cimmeter.message.verbs import Verb
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_config import MeterConfig
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import (
    Handled,
    HandlerContext,
    HandlerSpec,
    HandlerTable,
    JobContext,
    Outgoing,
    Role,
    ServiceCore,
)
from cimmeter.service.errors import ErrorCodeTable
from cimmeter.service.headend_common import (
    HeadEnd,
    HeadEndOptions,
    UsagePoints,
    end_device_event,
    enqueue_body,
    events_document,
    from_iso,
    iso,
    publish,
)
from cimmeter.service.headend_config import (
    change_meter_config,
    close_linkage,
    create_linkage,
    create_meter_config,
    delete_meter_config,
    discover,
)
from cimmeter.service.headend_controls import (
    CONTROL_JOB,
    EXPIRY_JOB,
    cancel_controls,
    change_controls,
    create_controls,
    run_control_job,
    run_expiry_job,
)
from cimmeter.service.headend_reads import (
    READ_JOB,
    get_end_device_events,
    get_meter_readings,
    run_read_job,
)
from cimmeter.service.headend_schedules import (
    SCHEDULE_JOB,
    change_schedule,
    create_schedule,
    end_schedule,
    get_schedule,
    run_schedule_job,
)
from cimmeter.store.base import Store, StoreTransaction
from cimmeter.store.records import Job

EVENTS_JOB: Final = "headend-events"
"""Job kind: collect and publish the device events received since `payload["since"]`."""

_FAR: Final = 10**6
"""Days ahead to look for a planted event collection (`HeadEndService.start`)."""

HandlerOf = Callable[[HeadEnd, HandlerContext], Handled | None]


def _specs() -> list[tuple[str, str, HandlerOf, str, str]]:
    """(noun, verb, handler, async mode, summary) of the head-end's table."""
    return [
        (
            "MeterReadings",
            "get",
            get_meter_readings,
            "deferred",
            "read the devices named (EndDevice, UsagePoint, EndDeviceGroup): on-demand "
            "registers now, or what they recorded in the time range; energization ReadingTypes "
            "= ping (1/0, an Error when not reachable); synchronous for at most "
            "max_sync_devices, asynchronous (result to ReplyAddress, in parts) for any number",
        ),
        (
            "EndDeviceEvents",
            "get",
            get_end_device_events,
            "deferred",
            "the events the devices reported in the time range (by Meter, UsagePoint, group; "
            "event type codes with * fields), synchronous or asynchronous",
        ),
        (
            "EndDeviceControls",
            "create",
            create_controls,
            "deferred",
            "accept per device (0.3; PARTIAL naming refused devices), publish created "
            "EndDeviceControls; release at primaryDeviceTiming/interval/start (programs: "
            "download now, activate then); outcomes as created EndDeviceEvents to ReplyAddress, "
            "executed EndDeviceControls published; retried until MaximumExecutionTime, then "
            "expired (...64)",
        ),
        (
            "EndDeviceControls",
            "change",
            change_controls,
            "sync",
            "move the pending devices of the control (by CorrelationID or mRID) to the new "
            "timing; publish changed EndDeviceControls",
        ),
        (
            "EndDeviceControls",
            "cancel",
            cancel_controls,
            "sync",
            "cancel the pending devices of the control (by CorrelationID or mRID; a running "
            "load control stops early): ...10 outcomes to the original ReplyAddress, canceled "
            "EndDeviceControls published",
        ),
        (
            "MeterReadSchedule",
            "create",
            create_schedule,
            "sync",
            "keep the schedule (named by Request/ID or CorrelationID; targets and ReadingTypes "
            "checked) and publish created MeterReadings at each occurrence",
        ),
        (
            "MeterReadSchedule",
            "change",
            change_schedule,
            "sync",
            "replace the schedule (a new version, rescheduled from now)",
        ),
        *(
            (
                "MeterReadSchedule",
                verb,
                end_schedule,
                "sync",
                "end the schedule (history kept)",
            )
            for verb in ("cancel", "close", "delete")
        ),
        (
            "MeterReadSchedule",
            "get",
            get_schedule,
            "sync",
            "the schedule Request/ID names; without one, the names of all in Reply/ID",
        ),
        (
            "MeterConfig",
            "create",
            create_meter_config,
            "sync",
            "record each meter; one the devices lack is commissioned (the simulator adds a "
            "virtual meter) and created MeterConfig is published; same content again: no-op, "
            "other content: object-exists",
        ),
        (
            "MeterConfig",
            "change",
            change_meter_config,
            "sync",
            "update the recorded meters with the elements given",
        ),
        (
            "MeterConfig",
            "delete",
            delete_meter_config,
            "sync",
            "remove the meters (history kept): reads and controls naming them fail",
        ),
        (
            "MasterDataLinkageConfig",
            "create",
            create_linkage,
            "sync",
            "link each Meter/EndDevice to each UsagePoint from effectiveDateTime (readings and "
            "events then name that usage point); linked elsewhere: FAILED item",
        ),
        (
            "MasterDataLinkageConfig",
            "close",
            close_linkage,
            "sync",
            "end the meter-usage point links at effectiveDateTime",
        ),
    ]


def headend_role(he: HeadEnd) -> Role:
    """The head-end's handler and job tables, bound to its devices and settings."""
    handlers = HandlerTable(
        HandlerSpec(noun, verb, partial(handler, he), summary, async_mode=mode)  # type: ignore[arg-type]
        for noun, verb, handler, mode, summary in _specs()
    )
    jobs = {
        READ_JOB: partial(run_read_job, he),
        CONTROL_JOB: partial(run_control_job, he),
        EXPIRY_JOB: partial(run_expiry_job, he),
        SCHEDULE_JOB: partial(run_schedule_job, he),
        EVENTS_JOB: partial(collect_events, he),
    }
    return Role(name="headend", title="head-end", handlers=handlers, jobs=jobs)


def collect_events(he: HeadEnd, ctx: JobContext) -> None:
    """Publish the device events received since the last collection; plant the next one."""
    since = from_iso(ctx.job.payload.get("since")) or ctx.now
    events = he.network.events_since(since, ctx.now) if since < ctx.now else ()
    publish_device_events(he, ctx, events)
    ctx.tx.schedule_job(
        Job(EVENTS_JOB, ctx.now + he.options.event_poll_interval, {"since": iso(ctx.now)})
    )


def publish_device_events(he: HeadEnd, ctx: JobContext, events: Sequence[DeviceEvent]) -> None:
    """`created EndDeviceEvents` for subscribers, `max_events_per_reply` per message."""
    if not events:
        return
    labels = UsagePoints(ctx.tx)
    documents = [end_device_event(e, labels.at(e.meter, e.created_date_time)) for e in events]
    size = ctx.config.max_events_per_reply
    for first in range(0, len(documents), size):
        publish(
            ctx, Verb.created, "EndDeviceEvents", events_document(documents[first : first + size])
        )


class HeadEndService(ServiceCore):
    """The head-end: `handle`, `tick`, `start`, over a device network."""

    def __init__(
        self,
        config: ServiceConfig,
        network: DeviceNetwork,
        options: HeadEndOptions | None = None,
        *,
        codes: ErrorCodeTable | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.headend = HeadEnd(network, options or HeadEndOptions())
        super().__init__(config, headend_role(self.headend), codes=codes, new_id=new_id)

    @property
    def network(self) -> DeviceNetwork:
        return self.headend.network

    def start(self, store: Store, now: datetime) -> None:
        """Plant the first collection of device events, unless one is planted already: events
        the devices reported before `now` are not published."""
        if now.tzinfo is None:
            raise ValueError("start needs an aware datetime")
        with store.transaction() as tx:
            planned = tx.due_jobs(now + timedelta(days=_FAR), limit=100_000)
            if any(job.kind == EVENTS_JOB for job in planned):
                return
            tx.schedule_job(Job(EVENTS_JOB, now, {"since": iso(now)}))

    def discover(self, store: Store, now: datetime, document: MeterConfig) -> list[Outgoing]:
        """Meters the head-end found (digest 4.15 direction B): recorded, and published as
        `created MeterConfig` (e.g. `headend_config.fleet_meter_config(fleet, range(n))`)."""
        with store.transaction() as tx:
            work = _Work(tx, now, self.config, self.codes, self.new_id)
            discover(work, document)
            return work.outgoing

    def tick(self, now: datetime, store: Store) -> list[Outgoing]:
        """Run the jobs due at `now` (core `tick`), again while running them made more due
        (a retry or a next occurrence already in the past after a long pause)."""
        outgoing = super().tick(now, store)
        for _ in range(100):
            with store.snapshot() as reader:
                if not reader.due_jobs(now, limit=1):
                    break
            outgoing += super().tick(now, store)
        return outgoing


@dataclass(slots=True)
class _Work:
    """A unit of work outside a message or a job (`HeadEndService.discover`)."""

    tx: StoreTransaction
    now: datetime
    config: ServiceConfig
    codes: ErrorCodeTable
    new_id: Callable[[], str]
    outgoing: list[Outgoing] = field(default_factory=list)

    def enqueue(self, destination: str, message: Message) -> Outgoing:
        header: Header = getattr(message, "header")  # noqa: B009 - what we send has a Header
        return enqueue_body(
            self,
            destination,
            header.verb,
            header.noun,
            write_xml(message),
            message_id=header.message_id or self.new_id(),
            correlation_id=header.correlation_id,
        )


# -- a network without devices (the documented table; a head-end not connected yet) -------------


class EmptyNetwork:
    """A `DeviceNetwork` with no devices: every device is unknown."""

    def read_readings(
        self,
        devices: Sequence[ObjectRef] | None,
        reading_types: Sequence[str] | None,
        start: datetime,
        end: datetime,
    ) -> Iterator[ReadResult]:
        yield ReadResult(errors=tuple(self._unknown(devices or ())))

    def read_on_demand(
        self, devices: Sequence[ObjectRef], reading_types: Sequence[str] | None, at: datetime
    ) -> ReadResult:
        return ReadResult(errors=tuple(self._unknown(devices)))

    def ping(self, devices: Sequence[ObjectRef], at: datetime) -> tuple[PingResult, ...]:
        return tuple(PingResult(d, at, False, reason="no device network") for d in devices)

    def execute_control(self, control: ControlRequest) -> tuple[ControlOutcome, ...]:
        code = control.control_type.rsplit(".", 1)[0] + ".79"
        return tuple(
            ControlOutcome(d, control.control_type, False, code, "no device network", error)
            for d, error in zip(control.devices, self._unknown(control.devices), strict=True)
        )

    def events_since(
        self, since: datetime, until: datetime, devices: Sequence[ObjectRef] | None = None
    ) -> tuple[DeviceEvent, ...]:
        return ()

    def identify(self, devices: Sequence[ObjectRef]) -> tuple[ObjectRef | DeviceError, ...]:
        return tuple(self._unknown(devices))

    def add_meter(self, ref: ObjectRef, kind: MeterKind = "electric") -> ObjectRef:
        raise NotImplementedError("this head-end has no device network to add a meter to")

    @staticmethod
    def _unknown(devices: Sequence[ObjectRef]) -> list[DeviceError]:
        return [DeviceError("unknown-device", "no device network", d) for d in devices]


def _conforms(network: EmptyNetwork) -> DeviceNetwork:
    return network


HEADEND_ROLE: Final = headend_role(HeadEnd(EmptyNetwork()))
"""The head-end's table as documented (docs/noun-verb.md); `HeadEndService` binds its own."""


__all__ = [
    "EVENTS_JOB",
    "HEADEND_ROLE",
    "EmptyNetwork",
    "HeadEndOptions",
    "HeadEndService",
    "collect_events",
    "headend_role",
    "publish_device_events",
]
