"""`cimmeter simulate`: a simulated fleet's traffic as 61968-100 messages, to files or to an MDM.

The fleet (`cimmeter.headend`) plays the head-end: `messages()` yields, in the order an MDM
needs them, the master data (`create MeterConfig`, `create UsagePointConfig`, one `create
MasterDataLinkageConfig` per meter: an MDM refuses readings of meters it does not know;
DECISIONS.md, "Simulated meters"), then the interval data and registers as `created
MeterReadings` (the streaming writer, at most `readings_per_message` readings each), then what
the devices reported as `created EndDeviceEvents`.

Everything in a message derives from the options: MessageIDs are UUIDv5 of the seed and the
message's number, Timestamps are simulated time, so the same options give the same bytes.
`FileSink` writes one message per file, `HttpSink` / `AmqpSink` send each one and count the
Results. Generation is columnar (numpy blocks, chunk by chunk): memory stays flat with the
fleet size (bench/simulate.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import Header, Payload, RequestMessage, write_xml
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.headend_common import end_device_event, events_document
from cimmeter.service.headend_config import fleet_meter_config
from cimmeter.service.replies import event_message
from cimmeter.transport.client import AmqpSender, HttpSender, SendResult
from cimmeter.transport.inbound import Role
from cimmeter.xml.stream import MessageHeader
from cimmeter.xml.stream_write import meter_readings_bytes

SIM_NAMESPACE: Final = uuid.UUID("3c1f0c7e-7a55-4d5e-9f0b-2f8d4b6a9e11")
"""MessageIDs of simulated messages: UUIDv5 of (seed, message number) in this namespace."""

DEFAULT_START: Final = datetime(2025, 6, 2, tzinfo=UTC)
"""Where a simulation starts unless told: a Monday in June (fixed, so runs are repeatable)."""

MASTER_DATA_BATCH: Final = 1_000
"""Meters (or usage points) per `create MeterConfig` / `create UsagePointConfig`."""


@dataclass(frozen=True, slots=True)
class SimulateOptions:
    meters: int
    days: float = 1.0
    interval: timedelta = timedelta(minutes=15)
    seed: int = 1
    outage_rate: float | None = None
    """Outages per transformer per day (None: the simulator's default rate)."""
    start: datetime = DEFAULT_START
    master_data: bool = True
    readings_per_message: int = 100_000
    events_per_message: int = 1_000
    source: str = "cimmeter-sim"

    def __post_init__(self) -> None:
        if self.meters < 1:
            raise ValueError(f"--meters must be at least 1, got {self.meters}")
        if self.days <= 0:
            raise ValueError(f"--days must be more than 0, got {self.days}")
        if self.readings_per_message < 1 or self.events_per_message < 1:
            raise ValueError("messages must hold at least one reading or event")

    @property
    def end(self) -> datetime:
        seconds = int(self.interval.total_seconds())
        span = int(self.days * 86400) // seconds * seconds
        return self.start + timedelta(seconds=max(span, seconds))

    def simulation(self) -> Simulation:
        rates = EventRates()
        if self.outage_rate is not None:
            rates = EventRates(transformer_outages=self.outage_rate, feeder_outages=0.0)
        return Simulation(
            FleetOptions(
                n_meters=self.meters, seed=self.seed, start=self.start, interval=self.interval
            ),
            rates=rates,
        )


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One message to deliver: its number, what it is, its bytes and what it carries."""

    number: int
    verb: str
    noun: str
    body: bytes
    readings: int = 0
    events: int = 0

    @property
    def filename(self) -> str:
        return f"{self.number:06d}-{self.verb}-{self.noun}.xml"


@dataclass(slots=True)
class SimulateStats:
    meters: int = 0
    readings: int = 0
    events: int = 0
    messages: int = 0
    bytes: int = 0
    seconds: float = 0.0
    results: dict[str, int] = field(default_factory=dict)
    """Result of each message sent (`OK`, `PARTIAL`, `FAILED`); empty when writing files."""

    @property
    def rate(self) -> float:
        """Readings per second."""
        return self.readings / self.seconds if self.seconds > 0 else 0.0


class MessageNumbers:
    """Message numbers and the IDs derived from them."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.n = 0

    def next(self) -> tuple[int, str]:
        self.n += 1
        return self.n, str(uuid.uuid5(SIM_NAMESPACE, f"{self.seed}/{self.n}"))


def _request(
    numbers: MessageNumbers, options: SimulateOptions, document: CimDocument, at: datetime
) -> SimMessage:
    number, message_id = numbers.next()
    noun = REGISTRY.entry_of(document).noun
    message = RequestMessage(
        header=Header(
            verb=Verb.create,
            noun=noun,
            timestamp=at,
            source=options.source,
            message_id=message_id,
        ),
        payload=Payload(document=document),
    )
    return SimMessage(number, "create", noun, write_xml(message))


def master_data(
    sim: Simulation, options: SimulateOptions, numbers: MessageNumbers
) -> Iterator[SimMessage]:
    """The fleet's meters, usage points and their links, as an MDM is told of them."""
    fleet = sim.fleet
    at = options.start
    for first in range(0, fleet.n, MASTER_DATA_BATCH):
        indexes = range(first, min(fleet.n, first + MASTER_DATA_BATCH))
        yield _request(numbers, options, fleet_meter_config(fleet, indexes), at)
    usage_point = REGISTRY.noun("UsagePointConfig").payload
    for first in range(0, fleet.n, MASTER_DATA_BATCH):
        indexes = range(first, min(fleet.n, first + MASTER_DATA_BATCH))
        points = usage_point.model_validate(
            {
                "UsagePoint": [
                    {
                        "mRID": fleet.mrid("usage-point", i),
                        "Names": [{"name": fleet.name("usage-point", i)}],
                    }
                    for i in indexes
                ]
            }
        )
        yield _request(numbers, options, points, at)
    # One link per message (all the objects of a message are linked to each other): the
    # envelope writer writes one, the others differ only in their three UUIDs.
    template = _linkage(options, at, _SLOT_METER, _SLOT_POINT, _SLOT_ID)
    for i in range(fleet.n):
        number, message_id = numbers.next()
        body = (
            template.replace(_SLOT_METER, fleet.mrid("meter", i).encode())
            .replace(_SLOT_POINT, fleet.mrid("usage-point", i).encode())
            .replace(_SLOT_ID, message_id.encode())
        )
        yield SimMessage(number, "create", "MasterDataLinkageConfig", body)


_SLOT_METER: Final = b"00000000-0000-4000-8000-0000000000a1"
_SLOT_POINT: Final = b"00000000-0000-4000-8000-0000000000a2"
_SLOT_ID: Final = b"00000000-0000-4000-8000-0000000000a3"


def _linkage(
    options: SimulateOptions, at: datetime, meter: bytes, usage_point: bytes, message_id: bytes
) -> bytes:
    """`create MasterDataLinkageConfig` of one meter and its usage point from `at`."""
    document = REGISTRY.noun("MasterDataLinkageConfig").payload.model_validate(
        {
            "ConfigurationEvent": {
                "createdDateTime": at.isoformat(),
                "effectiveDateTime": at.isoformat(),
            },
            "Meter": [{"mRID": meter.decode()}],
            "UsagePoint": [{"mRID": usage_point.decode()}],
        }
    )
    message = RequestMessage(
        header=Header(
            verb=Verb.create,
            noun="MasterDataLinkageConfig",
            timestamp=at,
            source=options.source,
            message_id=message_id.decode(),
        ),
        payload=Payload(document=document),
    )
    body = write_xml(message)
    for slot in (meter, usage_point, message_id):
        if body.count(slot) != 1:
            raise AssertionError(f"{slot!r} must occur once in the linkage template")
    return body


def _readings_message(
    numbers: MessageNumbers, options: SimulateOptions, blocks: list[ReadingBlock], at: datetime
) -> SimMessage:
    number, message_id = numbers.next()
    header = MessageHeader(
        verb="created",
        noun="MeterReadings",
        timestamp=at.isoformat(),
        source=options.source,
        message_id=message_id,
    )
    body = meter_readings_bytes(blocks, header=header)
    return SimMessage(
        number, "created", "MeterReadings", body, readings=sum(len(b) for b in blocks)
    )


def readings(
    sim: Simulation, options: SimulateOptions, numbers: MessageNumbers
) -> Iterator[SimMessage]:
    """`created MeterReadings`, chunk by chunk, at most `readings_per_message` readings each."""
    end = options.end
    batch: list[ReadingBlock] = []
    size = 0
    for chunk in sim.generate(options.start, end):
        for block in chunk:
            if not len(block):
                continue
            if batch and size + len(block) > options.readings_per_message:
                yield _readings_message(numbers, options, batch, end)
                batch, size = [], 0
            batch.append(block)
            size += len(block)
    if batch:
        yield _readings_message(numbers, options, batch, end)


def events(
    sim: Simulation, options: SimulateOptions, numbers: MessageNumbers
) -> Iterator[SimMessage]:
    """What the devices reported during the simulation, as `created EndDeviceEvents`."""
    found = sim.events(options.start, options.end)
    documents = [end_device_event(e, e.usage_point) for e in found]
    size = options.events_per_message
    for first in range(0, len(documents), size):
        part = documents[first : first + size]
        number, message_id = numbers.next()
        message = event_message(
            Verb.created,
            "EndDeviceEvents",
            events_document(part),
            source=options.source,
            message_id=message_id,
            now=options.end,
        )
        yield SimMessage(number, "created", "EndDeviceEvents", write_xml(message), events=len(part))


def messages(options: SimulateOptions, sim: Simulation | None = None) -> Iterator[SimMessage]:
    """Every message of the simulation, in delivery order (module doc)."""
    sim = sim or options.simulation()
    numbers = MessageNumbers(options.seed)
    if options.master_data:
        yield from master_data(sim, options, numbers)
    yield from readings(sim, options, numbers)
    yield from events(sim, options, numbers)


def expected_readings(options: SimulateOptions) -> int:
    """Readings the run will produce (for a progress bar): one generation pass, no XML."""
    sim = options.simulation()
    return sum(len(b) for chunk in sim.generate(options.start, options.end) for b in chunk)


# -- sinks ---------------------------------------------------------------------------------------


class Sink(Protocol):
    def __call__(self, message: SimMessage) -> str | None:
        """Deliver one message; the Result it got (None when there is nobody to answer)."""


class FileSink:
    """One message per file in `directory` (created if missing), named by number, verb, noun."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def __call__(self, message: SimMessage) -> str | None:
        (self.directory / message.filename).write_bytes(message.body)
        return None


class HttpSink:
    """Each message to an MDM's HTTP root (`transport.client.HttpSender`)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 300.0) -> None:
        self.sender = HttpSender(url, token=token, timeout=timeout)

    def __call__(self, message: SimMessage) -> str | None:
        return self.sender.send(message.body).result

    def close(self) -> None:
        self.sender.close()


class AmqpSink:
    """Each message to an MDM's AMQP request queue, one at a time (a loop in a thread of its
    own, so the caller stays synchronous)."""

    def __init__(self, url: str, prefix: str = "cimmeter", timeout: float = 300.0) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.sender = AmqpSender(url, prefix=prefix, role=Role.MDM, timeout=timeout)
        self._run(self.sender.__aenter__())

    def _run(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result()

    def __call__(self, message: SimMessage) -> str | None:
        result: SendResult = self._run(self.sender.send(message.body))
        return result.result

    def close(self) -> None:
        try:
            self._run(self.sender.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


class StoreSink:
    """Each message handled by an MDM service in this process, into the store at `url` (SQLite
    file or PostgreSQL): a store full of simulated data without a server. The MDM's clock is
    the wall clock, as a served MDM's would be."""

    def __init__(self, url: str) -> None:
        from cimmeter.runtime.clock import SystemClock
        from cimmeter.service.config import ServiceConfig
        from cimmeter.service.mdm import MdmService
        from cimmeter.store import open_store

        self.store = open_store(url, upgrade=True)
        self.mdm = MdmService(ServiceConfig(role="mdm", source="MDM", publish_events=False))
        self.clock = SystemClock()

    def __call__(self, message: SimMessage) -> str | None:
        return self.mdm.handle(message.body, self.store, self.clock).result.value

    def close(self) -> None:
        self.store.close()


def run(
    options: SimulateOptions,
    sink: Sink,
    progress: Callable[[SimMessage], None] | None = None,
) -> SimulateStats:
    """Generate and deliver every message; what was delivered, and how fast."""
    stats = SimulateStats(meters=options.meters)
    began = time.perf_counter()
    for message in messages(options):
        result = sink(message)
        stats.messages += 1
        stats.readings += message.readings
        stats.events += message.events
        stats.bytes += len(message.body)
        if result is not None:
            stats.results[result] = stats.results.get(result, 0) + 1
        if progress is not None:
            progress(message)
    stats.seconds = time.perf_counter() - began
    return stats


def sink_for(
    out: Path | None,
    push: str | None,
    token: str | None = None,
    amqp_prefix: str = "cimmeter",
    db: str | None = None,
) -> Sink:
    """The sink of `--out DIR`, `--push URL` (http(s):// or amqp(s)://) or `--db URL`."""
    if sum(x is not None for x in (out, push, db)) != 1:
        raise ValueError("give exactly one of --out DIR, --push URL and --db URL")
    if out is not None:
        return FileSink(out)
    if db is not None:
        return StoreSink(db)
    assert push is not None
    scheme = push.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        return HttpSink(push, token)
    if scheme in ("amqp", "amqps"):
        return AmqpSink(push, amqp_prefix)
    raise ValueError(f"--push must be an http(s):// or amqp(s):// URL, got {push!r}")


def close_sink(sink: Sink) -> None:
    close: Callable[[], None] | None = getattr(sink, "close", None)
    if close is not None:
        close()


__all__: Sequence[str] = [
    "DEFAULT_START",
    "AmqpSink",
    "FileSink",
    "HttpSink",
    "MessageNumbers",
    "SimMessage",
    "SimulateOptions",
    "SimulateStats",
    "Sink",
    "StoreSink",
    "close_sink",
    "expected_readings",
    "master_data",
    "messages",
    "run",
    "sink_for",
]
