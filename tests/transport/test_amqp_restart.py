"""The broker restarts in the middle of a 10,000-message run: nothing is lost, nothing is
applied twice (MessageID idempotency), every message gets its Reply.

Bounded: 10,000 small messages, one restart, a 120 s budget (issue 7)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import threading
import time

import aio_pika
import pytest

from cimmeter.message.envelope import Header, Message, Reply, ReplyResult, ResponseMessage
from cimmeter.message.verbs import Verb
from cimmeter.transport.amqp import AmqpServer, AmqpSettings, Names, declare_topology
from cimmeter.transport.inbound import Inbound, Role
from tests.conftest import need_server
from tests.transport.amqp_helpers import (
    AMQP_URL,
    broker_lock,
    delete_topology,
    require_broker,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

MESSAGES = int(os.environ.get("CIMMETER_RESTART_MESSAGES", "10000"))
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
MSG = "http://iec.ch/TC57/2011/schema/message"
MR = "http://iec.ch/TC57/2011/MeterReadings#"


def message(i: int) -> bytes:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_767_225_600 + 900 * (i + 1)))
    return (
        f'<EventMessage xmlns="{MSG}"><Header><Verb>created</Verb><Noun>MeterReadings</Noun>'
        f"<Source>restart-test</Source><MessageID>msg-{i}</MessageID></Header><Payload>"
        f'<m:MeterReadings xmlns:m="{MR}"><m:MeterReading><m:IntervalBlocks><m:IntervalReadings>'
        f"<m:timeStamp>{stamp}</m:timeStamp><m:value>{i}</m:value></m:IntervalReadings>"
        f'<m:ReadingType ref="{RT}"/></m:IntervalBlocks><m:Meter><m:mRID>meter-{i % 50}'
        "</m:mRID></m:Meter></m:MeterReading></m:MeterReadings></Payload></EventMessage>"
    ).encode()


class Ledger:
    """A lean real handler: idempotent by (Source, MessageID) as the service is, it records
    each message applied (its MessageID) and answers from its log on a replay. The readings
    themselves are the store's business (its SIGKILL test); this run is about the transport."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.applications: dict[str, int] = {}
        self.replays = 0

    def __call__(self, inbound: Inbound) -> Message:
        env = inbound.envelope
        assert env.message_id is not None and env.verb == "created"
        with self.lock:
            if env.message_id in self.applications:
                self.replays += 1
            else:
                self.applications[env.message_id] = 1
        return ResponseMessage(
            header=Header(verb=Verb.reply, noun=env.noun or "", correlation_id=env.message_id),
            reply=Reply(result=ReplyResult.OK),
        )

    @property
    def applied(self) -> int:
        with self.lock:
            return len(self.applications)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


async def publish_all(prefix: str, replies: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = f"{prefix}.request.MeterReadings"
        for start in range(0, MESSAGES, 500):
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(
                            message(i),
                            content_type="application/xml",
                            correlation_id=f"msg-{i}",
                            message_id=f"msg-{i}",
                            reply_to=replies,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=queue,
                    )
                    for i in range(start, min(start + 500, MESSAGES))
                )
            )
    finally:
        await connection.close()


async def collect_replies(replies: str, deadline: float) -> dict[str, set[str]]:
    """CorrelationID -> the Results seen (a redelivered message may be answered twice)."""
    seen: dict[str, set[str]] = {}
    errors: list[str] = []

    async def on_reply(got: aio_pika.abc.AbstractIncomingMessage) -> None:
        result = "OK" if b"<Result>OK</Result>" in got.body else "not OK"
        seen.setdefault(got.correlation_id or "", set()).add(result)

    while len(seen) < MESSAGES and time.monotonic() < deadline:
        try:
            connection = await aio_pika.connect(AMQP_URL, timeout=5)
        except Exception:  # the broker is restarting: try again
            await asyncio.sleep(0.5)
            continue
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_, lost=lost: lost.set())
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=1000)
            queue = await channel.declare_queue(replies, durable=True, passive=True)
            await queue.consume(on_reply, no_ack=True)
            while len(seen) < MESSAGES and time.monotonic() < deadline:
                if lost.is_set():
                    break
                await asyncio.sleep(0.1)
        except Exception as exc:  # the broker went away under us: reconnect
            errors.append(repr(exc))
            await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(Exception):
                await connection.close()
    if len(seen) < MESSAGES:
        print(f"collected {len(seen)} replies; errors: {errors[:5]}")
    return seen


def test_nothing_lost_nothing_applied_twice_across_a_broker_restart() -> None:
    require_broker()
    if shutil.which("rabbitmqctl") is None:
        need_server("rabbitmqctl", "not on PATH: cannot restart the broker")
    prefix = unique_prefix()
    replies = f"{prefix}.test.replies"
    service = Ledger()

    async def scenario() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        await channel.declare_queue(replies, durable=True)
        await declare_topology(channel, Names(prefix), [Role.MDM])
        await connection.close()
        await publish_all(prefix, replies)  # all queued first: the restart lands mid-run
        server = AmqpServer(
            AmqpSettings(url=AMQP_URL, prefix=prefix, prefetch=64, handler_threads=4),
            [(Role.MDM, service)],
        )
        # ~45 s on a quiet 2-core machine; the budget leaves room for a loaded one.
        deadline = time.monotonic() + 240
        started = time.monotonic()
        await server.start()
        try:
            collector = asyncio.create_task(collect_replies(replies, deadline))
            while service.applied < MESSAGES * 0.3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            applied_before = service.applied
            stopping = time.monotonic()
            await asyncio.to_thread(rabbitmqctl, "stop_app")
            await asyncio.sleep(1)
            await asyncio.to_thread(rabbitmqctl, "start_app")
            await asyncio.to_thread(rabbitmqctl, "await_startup")
            restarted = time.monotonic()
            while service.applied < MESSAGES and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            finished = time.monotonic()
            seen = await collector
            print(
                f"restart run: {MESSAGES} messages, applied {applied_before} before the restart, "
                f"restart {restarted - stopping:.1f} s, all applied {finished - started:.1f} s "
                f"after start, replays {service.replays}"
            )
        finally:
            await server.stop()
        assert 0 < applied_before < MESSAGES, "the restart did not happen mid-run"
        assert service.applied == MESSAGES  # every message applied ...
        assert set(service.applications.values()) == {1}  # ... exactly once
        assert service.applications.keys() == {f"msg-{i}" for i in range(MESSAGES)}
        assert len(seen) == MESSAGES  # every message answered
        assert all(results == {"OK"} for results in seen.values())
        assert server.dead_lettered == 0

    with broker_lock(exclusive=True):
        try:
            asyncio.run(scenario())
        finally:
            asyncio.run(delete_topology(prefix))
            asyncio.run(_delete_queue(replies))


async def _delete_queue(name: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        await channel.queue_delete(name)
    finally:
        await connection.close()
