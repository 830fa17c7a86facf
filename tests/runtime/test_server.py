"""The composition root serving for real: HTTP + AMQP + the outbox relay in one loop.

Until the store engines and the service core are on main, the roles are the memory service of
tests/transport (real codecs, real sockets, real broker); the outbox is a list."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import aio_pika
import httpx
import pytest

from cimmeter.message.envelope import write_xml
from cimmeter.message.json import from_json
from cimmeter.runtime.clock import SystemClock
from cimmeter.runtime.server import Server, ServeSettings, Wiring
from cimmeter.store.records import OutboxMessage
from cimmeter.transport.amqp import AmqpSettings, Names
from cimmeter.transport.client import AmqpSender, HttpSender
from cimmeter.transport.http import HttpSettings, Mount
from cimmeter.transport.inbound import Role
from tests.transport.amqp_helpers import (
    AMQP_URL,
    broker_lock,
    delete_topology,
    require_broker,
    unique_prefix,
)
from tests.transport.conftest import TOKEN
from tests.transport.memory import MemoryService
from tests.transport.test_http import event_json

pytestmark = pytest.mark.rabbitmq


class ListOutbox:
    """The relay's view of an outbox, in memory."""

    def __init__(self) -> None:
        self.rows: dict[int, OutboxMessage] = {}
        self.errors: dict[int, list[str]] = {}
        self.lock = threading.Lock()

    def add(self, message: OutboxMessage) -> int:
        with self.lock:
            key = len(self.rows) + 1
            self.rows[key] = replace(message, id=key)
            return key

    def pending(self, limit: int) -> list[OutboxMessage]:
        with self.lock:
            return [m for m in self.rows.values() if m.sent_at is None][:limit]

    def mark_sent(self, outbox_id: int, at: datetime) -> None:
        with self.lock:
            self.rows[outbox_id] = replace(self.rows[outbox_id], sent_at=at)

    def mark_failed(self, outbox_id: int, error: str) -> None:
        with self.lock:
            row = self.rows[outbox_id]
            self.rows[outbox_id] = replace(row, attempts=row.attempts + 1, last_error=error)
            self.errors.setdefault(outbox_id, []).append(error)

    def sent(self, key: int) -> bool:
        with self.lock:
            return self.rows[key].sent_at is not None


class Running:
    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop) -> None:
        self.server = server
        self.loop = loop

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Running, MemoryService, MemoryService, ListOutbox, str]]:
    require_broker()
    prefix = unique_prefix()
    mdm, headend, outbox = MemoryService(), MemoryService(), ListOutbox()
    wiring = Wiring(
        [Mount(Role.MDM, mdm), Mount(Role.HEADEND, headend, "/headend")],
        read_side=mdm,
        outbox=outbox,
    )
    settings = ServeSettings(
        port=0,
        http=HttpSettings(tokens=(TOKEN,)),
        amqp=AmqpSettings(url=AMQP_URL, prefix=prefix),
        relay_poll_seconds=0.05,
        peer_tokens=(("http://127.0.0.1:", TOKEN),),
    )
    server = Server(wiring, settings, SystemClock())
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def run() -> None:
        loop.run_until_complete(server.serve(lambda _: ready.set()))

    with broker_lock():
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert ready.wait(30), "the server did not start"
        try:
            yield Running(server, loop), mdm, headend, outbox, prefix
        finally:
            loop.call_soon_threadsafe(server.stop)
            thread.join(30)
            asyncio.run(delete_topology(prefix))


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_it_says_where_it_listens(running) -> None:  # type: ignore[no-untyped-def]
    server = running[0].server
    lines = server.describe()
    assert lines[0].startswith(f"mdm: SOAP {server.base_url}/soap")
    assert any(f"{server.base_url}/headend/soap" in line for line in lines)
    assert any(".request.<Noun>" in line for line in lines)
    assert server.port != 0


def test_http_and_amqp_reach_the_same_handler(running) -> None:  # type: ignore[no-untyped-def]
    run, mdm, _, _, prefix = running
    message = from_json(event_json(str(uuid.uuid4())))
    with HttpSender(run.url, token=TOKEN) as sender:
        result = sender.send(write_xml(message))  # type: ignore[arg-type]
    assert result.result == "OK" and result.endpoint.endswith("/soap/SendMeterReadings")

    async def over_amqp() -> str:
        async with AmqpSender(AMQP_URL, prefix=prefix, timeout=30) as sender:
            return (await sender.send(json.dumps(event_json(str(uuid.uuid4()))).encode())).result

    before = mdm.applied
    assert asyncio.run(over_amqp()) == "OK"
    assert mdm.applied == before + 1


def row(destination: str, verb: str = "created", noun: str = "MeterReadings") -> OutboxMessage:
    message = from_json(event_json(str(uuid.uuid4()), "4.5"))
    return OutboxMessage(
        destination=destination,
        verb=verb,
        noun=noun,
        body=write_xml(message),  # type: ignore[arg-type]
        message_id=str(uuid.uuid4()),
        created_at=datetime.now(UTC),
    )


def test_the_relay_publishes_events_to_the_topic_exchange(running) -> None:  # type: ignore[no-untyped-def]
    _, _, _, outbox, prefix = running

    async def scenario() -> aio_pika.abc.AbstractIncomingMessage:
        connection = await aio_pika.connect(AMQP_URL)
        try:
            channel = await connection.channel()
            exchange = await channel.get_exchange(Names(prefix).events_exchange)
            queue = await channel.declare_queue(exclusive=True)
            await queue.bind(exchange, "created.MeterReadings")
            key = outbox.add(row("topic:created.MeterReadings"))
            got = None
            for _ in range(400):
                got = await queue.get(fail=False, no_ack=True)
                if got is not None:
                    break
                await asyncio.sleep(0.05)
            assert got is not None, "no event published"
            assert wait_for(lambda: outbox.sent(key))
            return got
        finally:
            await connection.close()

    got = asyncio.run(scenario())
    assert got.routing_key == "created.MeterReadings"
    assert b"MeterReadings" in got.body


def test_the_relay_delivers_in_process_and_over_http(running) -> None:  # type: ignore[no-untyped-def]
    run, mdm, headend, outbox, _ = running
    before_headend, before_mdm = headend.applied, mdm.applied
    local = outbox.add(row("headend"))
    remote = outbox.add(row(f"{run.url}/soap/SendMeterReadings"))
    assert wait_for(lambda: outbox.sent(local) and outbox.sent(remote))
    assert headend.applied == before_headend + 1
    assert mdm.applied == before_mdm + 1  # the relay posted SOAP to our own endpoint


def test_the_relay_keeps_what_was_not_confirmed(running) -> None:  # type: ignore[no-untyped-def]
    _, _, _, outbox, _ = running
    key = outbox.add(row("http://127.0.0.1:9/nowhere"))
    assert wait_for(lambda: bool(outbox.errors.get(key)))
    assert not outbox.sent(key)
    assert "127.0.0.1:9" in outbox.errors[key][0]
    unknown = outbox.add(row("gopher:somewhere"))
    assert wait_for(lambda: bool(outbox.errors.get(unknown)))
    assert "no route" in outbox.errors[unknown][0]


def test_health_is_open_and_data_is_not(running) -> None:  # type: ignore[no-untyped-def]
    run = running[0]
    assert httpx.get(f"{run.url}/health").json()["roles"] == ["mdm", "headend"]
    assert httpx.get(f"{run.url}/meters").status_code == 401
