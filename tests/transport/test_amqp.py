"""AMQP against the real RabbitMQ: replies, events, ack after commit, dead letters, scale-out."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Awaitable, Callable

import aio_pika
import pytest

from cimmeter.message.envelope import Message
from cimmeter.transport.amqp import AmqpPublisher, AmqpServer, AmqpSettings, Names
from cimmeter.transport.client import AmqpSender
from cimmeter.transport.inbound import Inbound, Role
from tests.transport.amqp_helpers import (
    AMQP_URL,
    broker_lock,
    delete_topology,
    require_broker,
    unique_prefix,
)
from tests.transport.memory import MemoryService
from tests.transport.test_http import event_json

pytestmark = pytest.mark.rabbitmq


def run(test: Callable[[str], Awaitable[None]]) -> None:
    """Run an async test with its own prefix; delete what it declared."""
    require_broker()
    prefix = unique_prefix()

    async def main() -> None:
        try:
            await asyncio.wait_for(test(prefix), 180)
        finally:
            await delete_topology(prefix)

    with broker_lock():
        asyncio.run(main())


def settings(prefix: str, **options: object) -> AmqpSettings:
    return AmqpSettings(url=AMQP_URL, prefix=prefix, **options)  # type: ignore[arg-type]


def body(message_id: str, value: str = "1.5") -> bytes:
    return json.dumps(event_json(message_id, value)).encode()


def test_request_reply_with_correlation() -> None:
    async def scenario(prefix: str) -> None:
        service = MemoryService()
        server = AmqpServer(settings(prefix), [(Role.MDM, service)])
        await server.start()
        try:
            async with AmqpSender(AMQP_URL, prefix=prefix, timeout=30) as sender:
                message_id = str(uuid.uuid4())
                result = await sender.send(body(message_id))
                assert result.result == "OK"
                assert result.content_type == "application/json"
                assert result.reply is not None
                assert result.reply.header.correlation_id == message_id  # type: ignore[attr-defined]
                assert result.endpoint == f"amqp:{prefix}.request.MeterReadings"
                # the same message as XML, asked to travel as JSON: the reply follows it
                xml_sender = AmqpSender(AMQP_URL, prefix=prefix, timeout=30, as_json=True)
                async with xml_sender:
                    from cimmeter.message.envelope import write_xml
                    from cimmeter.message.json import from_json

                    message = from_json(event_json(str(uuid.uuid4()), "7"))
                    assert isinstance(message, Message)
                    again = await xml_sender.send(write_xml(message))
                    assert again.result == "OK" and again.content_type == "application/json"
            assert service.reading_count() == 1  # same reading twice: one stored value
            assert service.applied == 2
        finally:
            await server.stop()

    run(scenario)


def test_events_go_to_the_topic_exchange_by_verb_and_noun() -> None:
    async def scenario(prefix: str) -> None:
        publisher = AmqpPublisher(settings(prefix))
        await publisher.start()
        connection = await aio_pika.connect(AMQP_URL)
        try:
            channel = await connection.channel()
            exchange = await channel.get_exchange(Names(prefix).events_exchange)
            queue = await channel.declare_queue(exclusive=True)
            await queue.bind(exchange, "created.*")
            await publisher.publish_event(
                "created", "EndDeviceEvents", b"<x/>", message_id="e1", correlation_id="c1"
            )
            await publisher.publish_event("changed", "EndDeviceEvents", b"<y/>")
            message = await queue.get(timeout=10)
            assert message.body == b"<x/>"
            assert message.routing_key == "created.EndDeviceEvents"
            assert (message.message_id, message.correlation_id) == ("e1", "c1")
            assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
            await message.ack()
            assert await queue.get(fail=False) is None  # `changed` was not bound
        finally:
            await connection.close()
            await publisher.stop()

    run(scenario)


async def dead_letters(prefix: str, count: int) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(AMQP_URL)
    found = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(Names(prefix).dead_queue, passive=True)
        for _ in range(100):
            message = await queue.get(fail=False, no_ack=True)
            if message is not None:
                found.append(message)
                if len(found) == count:
                    break
            else:
                await asyncio.sleep(0.1)
    finally:
        await connection.close()
    return found


def test_a_refused_message_gets_its_fault_then_goes_to_the_dead_letter_queue() -> None:
    async def scenario(prefix: str) -> None:
        service = MemoryService()
        server = AmqpServer(settings(prefix), [(Role.MDM, service)])
        await server.start()
        try:
            async with AmqpSender(AMQP_URL, prefix=prefix, timeout=30) as sender:
                assert sender.channel is not None and sender.replies is not None
                waiting = asyncio.get_running_loop().create_future()
                sender.waiting["bad-1"] = waiting
                await sender.channel.default_exchange.publish(
                    aio_pika.Message(
                        b"<EventMessage xmlns='http://iec.ch/TC57/2011/schema/message'><Pay",
                        correlation_id="bad-1",
                        reply_to=sender.replies.name,
                        content_type="application/xml",
                    ),
                    routing_key=f"{prefix}.request.MeterReadings",
                )
                reply = await asyncio.wait_for(waiting, 10)
            assert reply.correlation_id == "bad-1"
            assert b"FaultMessage" in reply.body and b"FAILED" in reply.body
            (dead,) = await dead_letters(prefix, 1)
            assert dead.correlation_id == "bad-1"
            assert server.dead_lettered == 1 and service.applied == 0
        finally:
            await server.stop()

    run(scenario)


def test_a_crashing_message_is_retried_then_failed_and_dead_lettered() -> None:
    async def scenario(prefix: str) -> None:
        service = MemoryService(fail_on={"crash-1"})
        server = AmqpServer(settings(prefix, max_deliveries=3), [(Role.MDM, service)])
        await server.start()
        try:
            async with AmqpSender(AMQP_URL, prefix=prefix, timeout=30) as sender:
                result = await sender.send(body("crash-1"))
                assert result.result == "FAILED"
                assert result.reply is not None
                error = result.reply.reply.errors[0]  # type: ignore[attr-defined]
                assert "after 3 attempts" in (error.details or "")
                ok = await sender.send(body(str(uuid.uuid4())))  # the queue still flows
                assert ok.result == "OK"
            (dead,) = await dead_letters(prefix, 1)
            assert json.loads(dead.body)["Header"]["MessageID"] == "crash-1"
            assert service.applied == 1
        finally:
            await server.stop()

    run(scenario)


class BlockingService(MemoryService):
    """Holds every message until released, to observe the delivery while it is handled."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, inbound: Inbound) -> Message:
        self.entered.set()
        self.release.wait(30)
        return super().__call__(inbound)


def test_a_delivery_is_acked_only_after_the_handler_returned() -> None:
    async def scenario(prefix: str) -> None:
        blocking = BlockingService()
        first = AmqpServer(settings(prefix), [(Role.MDM, blocking)])
        await first.start()
        async with AmqpSender(AMQP_URL, prefix=prefix, timeout=30) as sender:
            assert sender.channel is not None
            await sender.channel.default_exchange.publish(
                aio_pika.Message(body("held-1"), content_type="application/json"),
                routing_key=f"{prefix}.request.MeterReadings",
            )
            await asyncio.to_thread(blocking.entered.wait, 10)
            # The server dies while handling: the broker still holds the message.
            assert first.connection is not None
            await first.connection.close()
            blocking.release.set()
            second_service = MemoryService()
            second = AmqpServer(settings(prefix), [(Role.MDM, second_service)])
            await second.start()
            try:
                for _ in range(100):
                    if second_service.applied:
                        break
                    await asyncio.sleep(0.1)
                assert second_service.applied == 1
                assert second_service.reading_count() == 1
            finally:
                await second.stop()

    run(scenario)


def test_several_consumers_share_the_queue_and_roles_have_their_own() -> None:
    async def scenario(prefix: str) -> None:
        shared = MemoryService()  # one store behind two stateless workers
        headend = MemoryService()
        workers = [
            AmqpServer(settings(prefix, prefetch=4), [(Role.MDM, shared), (Role.HEADEND, headend)])
            for _ in range(2)
        ]
        for worker in workers:
            await worker.start()
        try:
            async with AmqpSender(AMQP_URL, prefix=prefix, timeout=60) as sender:
                results = await asyncio.gather(
                    *(sender.send(body(f"scale-{i}", str(i))) for i in range(120))
                )
            assert {r.result for r in results} == {"OK"}
            assert shared.applied == 120
            assert all(w.handled > 0 for w in workers), [w.handled for w in workers]
            async with AmqpSender(AMQP_URL, prefix=prefix, timeout=30, role=Role.HEADEND) as sender:
                result = await sender.send(body("to-headend"))
            assert result.endpoint == f"amqp:{prefix}.headend.request.MeterReadings"
            assert headend.applied == 1 and shared.applied == 120
        finally:
            for worker in workers:
                await worker.stop()

    run(scenario)
