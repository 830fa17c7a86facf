"""Transport benchmark: `created MeterReadings` (100 meters x 96 readings a message) over HTTP
(SOAP and JSON) and AMQP against the same messages handled in-process (the ceiling); and the
latency of a single-meter GetMeterReadings (one day, 96 readings) under 50 concurrent clients.

    python -m bench transport [--quick] [--store=sqlite,postgresql,memory] [--pg=URL] [--latency]

The server runs in its own process, the clients in this one (the load generator of the
latency test in a third). The stores are fresh SQLite files and PostgreSQL databases
holding the meters and their usage points; the handler is the MDM service (`--store=memory`: a
columnar in-memory handler instead, to see what the transports cost on their own). Ratios
are against the in-process ceiling measured in the same run; `--latency` runs the latency test
alone.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

METERS, READINGS = 100, 96
TOKEN = "bench-token"
T0 = 1_772_323_200  # 2026-03-01T00:00:00Z
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


# -- the handler measured (module level: the server process imports it) ----------------------


class ColumnarMemoryHandler:
    """created MeterReadings -> numpy columns per meter; get MeterReadings -> those columns.
    Replies are built as the service builds them (a ResponseMessage model)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.series: dict[str, tuple[Any, Any]] = {}
        self.readings = 0

    def __call__(self, inbound: Any) -> Any:
        from cimmeter.message.envelope import Header, Payload, Reply, ReplyResult, ResponseMessage
        from cimmeter.message.verbs import Verb
        from cimmeter.model.identity import ObjectRef
        from cimmeter.model.meter_readings import blocks_to_meter_readings
        from cimmeter.model.readings import ReadingBlock
        from cimmeter.xml.stream import MeterReadingsReader

        env = inbound.envelope
        document = None
        if env.verb == "created":
            if inbound.syntax == "xml":
                blocks = list(MeterReadingsReader(inbound.body).blocks())
            else:
                from cimmeter.model.meter_readings import meter_readings_to_blocks

                blocks = meter_readings_to_blocks(inbound.parse().document)
            with self.lock:
                for block in blocks:
                    mrid = block.meter.mrid if block.meter else ""
                    self.series[mrid] = (block.timestamps, block.values)
                    self.readings += len(block)
        else:
            query = inbound.parse().message.query
            mrid = query.end_device[0].mrid
            with self.lock:
                stamps, values = self.series.get(mrid, (np.zeros(0, np.int64), np.zeros(0)))
            block = ReadingBlock.build(
                "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0",
                stamps,
                values,
                meter=ObjectRef.of(mrid),
            )
            document = blocks_to_meter_readings([block])
        return ResponseMessage(
            header=Header(
                verb=Verb.reply,
                noun=env.noun,
                correlation_id=env.correlation_id or env.message_id,
                message_id=str(uuid.uuid4()),
            ),
            reply=Reply(result=ReplyResult.OK),
            payload=Payload(document=document) if document is not None else None,
        )


def _handler(store: str) -> Any:
    """The handler measured: the memory one, or the MDM service over the store URL `store`."""
    if store == "memory":
        return ColumnarMemoryHandler()
    from cimmeter.runtime.app import ServiceHandler
    from cimmeter.runtime.clock import SystemClock
    from cimmeter.service.config import ServiceConfig
    from cimmeter.service.mdm import MdmService
    from cimmeter.store import open_store

    mdm = MdmService(ServiceConfig(role="mdm", source="MDM", publish_events=False))
    return ServiceHandler(mdm, open_store(store), SystemClock())


def prepare_store(url: str, meters: int) -> None:
    """Meters and usage points linked since a month before the data (master data)."""
    from datetime import UTC, datetime, timedelta

    from cimmeter.store import open_store
    from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

    since = datetime.fromtimestamp(T0, UTC) - timedelta(days=30)
    with open_store(url, upgrade=True) as store, store.transaction() as tx:
        for i in range(meters):
            meter, up = meter_name(i), f"up-{i:06d}"
            tx.put_object(MasterObject(ObjectKind.METER, meter, updated_at=since))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, up, updated_at=since))
            tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, meter, up, valid_from=since))


class Stores:
    """Fresh databases for each run of an engine (a SQLite file, a PostgreSQL database)."""

    def __init__(self, engine: str, folder: str, pg_base: str) -> None:
        self.engine, self.folder, self.pg_base = engine, folder, pg_base
        self.drops: list[Any] = []

    def fresh(self, meters: int = METERS) -> str:
        if self.engine == "memory":
            return "memory"
        if self.engine == "sqlite":
            url = f"sqlite:///{self.folder}/{uuid.uuid4().hex[:8]}.db"
        else:
            from bench.store import pg_database

            url, drop = pg_database(self.pg_base)
            self.drops.append(drop)
        prepare_store(url, meters)
        return url

    def close(self) -> None:
        for drop in self.drops:
            drop()


# -- messages --------------------------------------------------------------------------------


def xml_messages(count: int, first_meter: int = 0, same_day: bool = False) -> list[bytes]:
    """`count` created MeterReadings of 100 meters, one day each (a daily push); with
    `same_day`, the same day for the next 100 meters each."""
    from cimmeter.model.identity import ObjectRef
    from cimmeter.model.readings import ReadingBlock
    from cimmeter.xml.stream import MessageHeader
    from cimmeter.xml.stream_write import meter_readings_bytes

    rng = np.random.default_rng(7)
    out = []
    for n in range(count):
        start = T0 + (0 if same_day else n) * 86_400
        first = first_meter + (n * METERS if same_day else 0)
        stamps = np.arange(1, READINGS + 1, dtype=np.int64) * 900 + start
        blocks = [
            ReadingBlock.build(
                RT, stamps, rng.random(READINGS).round(3), meter=ObjectRef(mrid=meter_name(i))
            )
            for i in range(first, first + METERS)
        ]
        header = MessageHeader(
            verb="created", noun="MeterReadings", source="HES", message_id=f"bench-{uuid.uuid4()}"
        )
        out.append(meter_readings_bytes(blocks, header=header))
    return out


def meter_name(index: int) -> str:
    return f"m-{index:06d}"


def json_messages(count: int) -> list[bytes]:
    """The messages of `xml_messages(count)` in the JSON form (converted once, days shifted)."""
    from cimmeter.message.envelope import read_xml
    from cimmeter.message.json import to_json

    message = read_xml(xml_messages(1)[0]).message
    assert message is not None
    data = to_json(message)
    out = []
    for day in range(count):
        data["Header"]["MessageID"] = f"bench-{uuid.uuid4()}"
        for reading in data["Payload"]["MeterReadings"]["MeterReading"]:
            for block in reading["IntervalBlocks"]:
                for j, row in enumerate(block["IntervalReadings"]):
                    epoch = T0 + day * 86_400 + (j + 1) * 900
                    row["timeStamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
        out.append(json.dumps(data).encode())
    return out


def get_message(meter: str) -> bytes:
    day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0))
    next_day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + 86_400))
    return (
        '<msg:RequestMessage xmlns:msg="http://iec.ch/TC57/2011/schema/message">'
        "<msg:Header><msg:Verb>get</msg:Verb><msg:Noun>MeterReadings</msg:Noun>"
        f"<msg:MessageID>{uuid.uuid4()}</msg:MessageID></msg:Header><msg:Request>"
        f"<msg:StartTime>{day}</msg:StartTime>"
        f"<msg:EndTime>{next_day}</msg:EndTime>"
        '<GetMeterReadings xmlns="http://iec.ch/TC57/2011/GetMeterReadings#">'
        f"<EndDevice><mRID>{meter}</mRID></EndDevice></GetMeterReadings>"
        "</msg:Request></msg:RequestMessage>"
    ).encode()


# -- the ceiling -------------------------------------------------------------------------------


def ceiling(store: str, bodies: list[bytes]) -> tuple[float, int]:
    from cimmeter.transport.inbound import receive

    handler = _handler(store)
    handler(receive(bodies[0], "xml"))  # warm up (imports, compiled XPaths)
    start = time.perf_counter()
    for body in bodies[1:]:
        answer = handler(receive(body, "xml"))
        assert answer.reply.result.value == "OK", answer
    return time.perf_counter() - start, len(bodies) - 1


def _ceiling_child(store: str, bodies: list[bytes], queue: Any) -> None:
    queue.put(ceiling(store, bodies))


# -- the server process ------------------------------------------------------------------------


def _serve(store: str, amqp_prefix: str | None, threads: int, queue: Any) -> None:
    from cimmeter.runtime.clock import SystemClock
    from cimmeter.runtime.server import Server, ServeSettings, Wiring
    from cimmeter.transport.amqp import AmqpSettings
    from cimmeter.transport.http import HttpSettings, Mount
    from cimmeter.transport.inbound import Role

    handler = _handler(store)
    settings = ServeSettings(
        port=0,
        http=HttpSettings(tokens=(TOKEN,), handler_threads=threads),
        amqp=AmqpSettings(prefix=amqp_prefix, handler_threads=threads) if amqp_prefix else None,
    )
    server = Server(Wiring([Mount(Role.MDM, handler)]), settings, SystemClock())
    asyncio.run(server.serve(lambda s: queue.put(s.base_url)))


@dataclass
class ServerProcess:
    process: Any
    url: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def start_server(store: str, amqp_prefix: str | None = None, threads: int = 4) -> ServerProcess:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_serve, args=(store, amqp_prefix, threads, queue), daemon=True)
    process.start()
    return ServerProcess(process, queue.get(timeout=60))


# -- clients -----------------------------------------------------------------------------------


def http_run(url: str, bodies: list[bytes], *, soap: bool, clients: int = 4) -> float:
    from cimmeter.transport.client import HttpSender

    senders = [HttpSender(url, token=TOKEN, as_json=not soap) for _ in range(clients)]
    senders[0].send(bodies[0])  # warm up
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(
            pool.map(lambda ib: senders[ib[0] % clients].send(ib[1]), enumerate(bodies[1:]))
        )
    seconds = time.perf_counter() - start
    assert all(r.result == "OK" for r in results), {r.result for r in results}
    for sender in senders:
        sender.close()
    return seconds


async def amqp_run(url: str, prefix: str, bodies: list[bytes], in_flight: int = 8) -> float:
    from cimmeter.transport.client import AmqpSender

    async with AmqpSender(url, prefix=prefix, timeout=300) as sender:
        await sender.send(bodies[0])  # warm up
        gate = asyncio.Semaphore(in_flight)

        async def one(body: bytes) -> str:
            async with gate:
                return (await sender.send(body)).result

        start = time.perf_counter()
        results = await asyncio.gather(*(one(b) for b in bodies[1:]))
        seconds = time.perf_counter() - start
    assert set(results) == {"OK"}, set(results)
    return seconds


def _latency_child(url: str, meters: int, clients: int, per_client: int, queue: Any) -> None:
    async def main() -> list[float]:
        latencies: list[float] = []
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/xml"}
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            rng = np.random.default_rng(7)

            async def worker(count: int = per_client) -> None:
                for _ in range(count):
                    body = get_message(meter_name(int(rng.integers(meters))))
                    start = time.perf_counter()
                    response = await client.post(f"{url}/messages", content=body, headers=headers)
                    latencies.append(time.perf_counter() - start)
                    assert (
                        response.status_code == 200 and b"<Result>OK</Result>" in response.content
                    )

            # warm up: every client opens its connection and is answered once, so the figures
            # are steady-state latency, not 50 connection set-ups landing in the same second
            await asyncio.gather(*(worker(1) for _ in range(clients)))
            latencies.clear()
            await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies

    queue.put(asyncio.run(main()))


def latency(url: str, meters: int, clients: int, per_client: int) -> list[float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_latency_child, args=(url, meters, clients, per_client, queue))
    process.start()
    result: list[float] = queue.get(timeout=600)
    process.join()
    return result


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    chosen = next((a.split("=", 1)[1] for a in argv if a.startswith("--store=")), None)
    engines = (chosen or "sqlite,postgresql").split(",")
    pg_base = next((a.split("=", 1)[1] for a in argv if a.startswith("--pg=")), PG_DEFAULT)
    count = 10 if quick else 30
    amqp_url = os.environ.get("CIMMETER_AMQP", "amqp://guest:guest@127.0.0.1:5672/")
    per_message = METERS * READINGS
    print(
        f"created MeterReadings, {METERS} meters x {READINGS} readings = {per_message:,} a "
        f"message, {count} messages (one day each) per way; the machine may be shared with "
        "other work: absolute rates vary, compare ratios within a run"
    )
    xml = xml_messages(count + 1)
    as_json = json_messages(count + 1) if "--latency" not in argv else []
    latency_only = "--latency" in argv
    with tempfile.TemporaryDirectory() as folder:
        for engine in engines:
            stores = Stores(engine, folder, pg_base)
            try:
                if not latency_only:
                    run_engine(engine, stores, xml, as_json, count, amqp_url)
                if engine == engines[-1]:
                    run_latency(stores, quick)
            finally:
                stores.close()
    return 0


def run_engine(
    engine: str, stores: Stores, xml: list[bytes], as_json: list[bytes], count: int, amqp: str
) -> None:
    per_message = METERS * READINGS
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_ceiling_child, args=(stores.fresh(), xml, queue))
    process.start()
    seconds, handled = queue.get()
    process.join()
    rows = [("in-process handle (ceiling)", seconds, handled)]
    server = start_server(stores.fresh())
    try:
        rows.append(("HTTP SOAP 1.1 (4 clients)", http_run(server.url, xml, soap=True), count))
    finally:
        server.stop()
    server = start_server(stores.fresh())
    try:
        rows.append(
            ("HTTP JSON /messages (4 clients)", http_run(server.url, as_json, soap=False), count)
        )
    finally:
        server.stop()
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        server = start_server(stores.fresh(), amqp_prefix=prefix)
    except Exception as exc:  # no broker: say so, measure the rest
        print(f"AMQP skipped: {exc!r}")
    else:
        try:
            rows.append(("AMQP (8 in flight)", asyncio.run(amqp_run(amqp, prefix, xml)), count))
        finally:
            server.stop()
            asyncio.run(_delete_topology(amqp, prefix))
    ceiling_rate = rows[0][2] / rows[0][1]
    print(f"\nstore: {engine}")
    print(f"{'way':<36} {'messages/s':>11} {'readings/s':>12} {'vs ceiling':>11}")
    for label, secs, n in rows:
        rate = n / secs
        print(f"{label:<36} {rate:11.2f} {rate * per_message:12,.0f} {rate / ceiling_rate:11.2f}")


def get_cost(url: str, meters: int, count: int = 300) -> float:
    """Seconds per single-meter GetMeterReadings handled and rendered in-process (the ceiling
    of the latency test: no HTTP, no threads), best of 3 rounds, after warming up."""
    from cimmeter.transport.handler import render
    from cimmeter.transport.inbound import receive

    handler = _handler(url)

    def one_round(n: int) -> float:
        bodies = [get_message(meter_name(i % meters)) for i in range(n)]
        start = time.perf_counter()
        for body in bodies:
            inbound = receive(body, "xml")
            render(handler(inbound), "xml", envelope=inbound.envelope)
        return (time.perf_counter() - start) / n

    one_round(30)
    return min(one_round(count) for _ in range(3))


def _get_cost_child(url: str, meters: int, queue: Any) -> None:
    queue.put(get_cost(url, meters))


def run_latency(stores: Stores, quick: bool) -> None:
    meters, clients, per_client = (500, 50, 4) if quick else (1000, 50, 20)
    url = stores.fresh(meters)
    server = start_server(url, threads=8)
    try:
        from cimmeter.transport.client import HttpSender

        with HttpSender(server.url, token=TOKEN) as sender:
            for body in xml_messages(meters // METERS, same_day=True):
                assert sender.send(body).result == "OK"
        found = latency(server.url, meters, clients, per_client)
    finally:
        server.stop()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_get_cost_child, args=(url, meters, queue))
    process.start()
    per_get = queue.get(timeout=600)
    process.join()
    found.sort()
    p50, p99 = statistics.median(found), found[max(0, int(len(found) * 0.99) - 1)]
    print(
        f"\nGetMeterReadings, one meter, one day (96 readings), store {stores.engine}, "
        f"{clients} concurrent clients in a second process, {len(found)} requests over HTTP: "
        f"p50 {p50 * 1000:.1f} ms, p90 {found[int(len(found) * 0.9)] * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {found[-1] * 1000:.1f} ms (target p99 < 50 ms); "
        f"{len(found) / sum(found) * clients:,.0f} requests/s"
    )
    print(
        f"the same get handled and rendered in-process (no HTTP): {per_get * 1000:.2f} ms "
        f"= {1 / per_get:,.0f} gets/s on one core"
    )


async def _delete_topology(url: str, prefix: str) -> None:
    import aio_pika

    from cimmeter.message.registry import REGISTRY
    from cimmeter.transport.amqp import Names

    names = Names(prefix)
    connection = await aio_pika.connect(url)
    try:
        for entry in REGISTRY:
            channel = await connection.channel()
            await channel.queue_delete(names.request_queue(entry.noun))
            await channel.close()
        channel = await connection.channel()
        await channel.queue_delete(names.dead_queue)
        await channel.exchange_delete(names.dead_exchange)
        await channel.exchange_delete(names.events_exchange)
    finally:
        await connection.close()
