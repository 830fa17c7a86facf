"""AMQP 0-9-1 (RabbitMQ, aio-pika): request queues per noun, replies, events, dead letters.

AMQP is a cimmeter extension: 61968-100 defines SOAP and JMS bindings only (digest 6.10). The
mapping follows the digest's recommendation (6.10, M): the body is the generic envelope (XML,
`application/xml`) or its JSON form (`application/json`), and transport properties copy the
Header (`message_id`, `correlation_id`, headers `verb`/`noun`) for routing only.

- Connections: one per process, re-established by a supervisor after a broker restart.
- Requests: one durable queue per noun, `<prefix>.request.<Noun>` (the MDM) and
  `<prefix>.headend.request.<Noun>` (the head-end, `serve --role both`), quorum queues by
  default. Several consumer processes may consume the same queues (competing consumers).
- A delivery is acknowledged **only after** the handler returned (what it carries is committed,
  `cimmeter.transport.handler`) and its Reply, if the delivery had a `reply_to`, was confirmed
  by the broker. Replies go to `reply_to` with `correlation_id` = the CorrelationID.
- Everything published uses publisher confirms and persistent delivery.
- Poison: a message that is no message (a Fault) gets its FaultMessage sent, then goes to the
  dead-letter queue `<prefix>.dead`; a message whose handling raises is retried, and after
  `max_deliveries` attempts a Reply FAILED is sent and it is dead-lettered too.
- Events: the topic exchange `<prefix>.events`, routing key `<verb>.<Noun>` (`AmqpPublisher`,
  used by the outbox relay).

Nothing here connects by itself: `cimmeter.runtime` calls `start()` in its event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aio_pika
import aio_pika.abc
from aio_pika.exceptions import DeliveryError

from cimmeter.message.envelope import (
    Error,
    ErrorLevel,
    Header,
    Reply,
    ReplyResult,
    ResponseMessage,
)
from cimmeter.message.registry import REGISTRY, Registry
from cimmeter.message.verbs import Verb
from cimmeter.transport.dispatch import Dispatcher, HandlerCrashed
from cimmeter.transport.handler import (
    Answer,
    MessageHandler,
    Rendered,
    bare_of,
    render,
    render_fault,
)
from cimmeter.transport.inbound import Envelope, EnvelopeError, Inbound, Role, Syntax, receive
from cimmeter.xml.safe import DEFAULT_LIMITS, XmlLimits

log = logging.getLogger("cimmeter.amqp")

QueueType = Literal["quorum", "classic"]
# digest 6.7 (M): the code of the FAILED reply sent before a message is dead-lettered.
CRASH_ERROR_CODE = "3.0"


@dataclass(frozen=True, slots=True)
class AmqpSettings:
    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    prefix: str = "cimmeter"
    """Prefix of every queue and exchange name (tests use a unique one)."""
    queue_type: QueueType = "quorum"
    prefetch: int = 32
    """Unacknowledged deliveries per consumer (bounds memory and redelivery after a crash)."""
    max_deliveries: int = 3
    """Attempts at a message whose handling raises, before it is dead-lettered."""
    handler_threads: int = 4
    xml_limits: XmlLimits = field(default_factory=lambda: DEFAULT_LIMITS)


@dataclass(frozen=True, slots=True)
class Names:
    """Queue and exchange names under a prefix."""

    prefix: str = "cimmeter"

    def request_queue(self, noun: str, role: Role = Role.MDM) -> str:
        middle = "request" if role == Role.MDM else "headend.request"
        return f"{self.prefix}.{middle}.{noun}"

    @property
    def events_exchange(self) -> str:
        return f"{self.prefix}.events"

    @property
    def dead_exchange(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def dead_queue(self) -> str:
        return f"{self.prefix}.dead"


async def declare_topology(
    channel: aio_pika.abc.AbstractChannel,
    names: Names,
    roles: Sequence[Role],
    *,
    queue_type: QueueType = "quorum",
    registry: Registry = REGISTRY,
) -> dict[tuple[Role, str], aio_pika.abc.AbstractQueue]:
    """Declare (idempotently) the events and dead-letter exchanges and the request queues."""
    await channel.declare_exchange(names.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    dead = await channel.declare_exchange(
        names.dead_exchange, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead_queue = await channel.declare_queue(
        names.dead_queue, durable=True, arguments={"x-queue-type": queue_type}
    )
    await dead_queue.bind(dead)
    queues = {}
    for role in roles:
        for entry in registry:
            queue = await channel.declare_queue(
                names.request_queue(entry.noun, role),
                durable=True,
                arguments={
                    "x-queue-type": queue_type,
                    "x-dead-letter-exchange": names.dead_exchange,
                },
            )
            queues[(role, entry.noun)] = queue
    return queues


def syntax_of(content_type: str | None) -> Syntax:
    return "json" if content_type and "json" in content_type.lower() else "xml"


def _delivery_count(message: aio_pika.abc.AbstractIncomingMessage) -> int:
    """How many times this message was delivered before (quorum queues count; classic queues
    only say whether it was redelivered)."""
    count = (message.headers or {}).get("x-delivery-count")
    if isinstance(count, int):
        return count
    return 1 if message.redelivered else 0


def failed_reply(envelope: Envelope, reason: str, details: str) -> ResponseMessage:
    """The Reply FAILED sent before a message is dead-lettered (nothing was committed)."""
    return ResponseMessage(
        header=Header(
            verb=Verb.reply,
            noun=envelope.noun or "",
            message_id=str(uuid.uuid4()),
            correlation_id=envelope.correlation_id or envelope.message_id,
        ),
        reply=Reply(
            result=ReplyResult.FAILED,
            errors=(
                Error(
                    code=CRASH_ERROR_CODE,
                    level=ErrorLevel.FATAL,
                    reason=reason,
                    details=details,
                ),
            ),
        ),
    )


class AmqpServer:
    """Consumes the request queues of its roles and answers each delivery (module doc)."""

    def __init__(
        self,
        settings: AmqpSettings,
        handlers: Sequence[tuple[Role, MessageHandler]],
        *,
        registry: Registry = REGISTRY,
    ) -> None:
        self.settings = settings
        self.names = Names(settings.prefix)
        self.registry = registry
        self.dispatchers = {
            role: Dispatcher(handler, role, threads=settings.handler_threads)
            for role, handler in handlers
        }
        self.connection: aio_pika.abc.AbstractConnection | None = None
        self.channel: aio_pika.abc.AbstractChannel | None = None
        self.dead_lettered = 0
        self.handled = 0
        self._lost = asyncio.Event()

    async def start(self) -> None:
        """Connect, declare, consume; then keep reconnecting after a broker restart or a lost
        connection (with a growing pause) until `stop()`. The first connection must succeed."""
        self._stopping = asyncio.Event()
        await self._connect()
        self._supervisor = asyncio.create_task(self._supervise())

    async def _connect(self) -> None:
        connection = await aio_pika.connect(self.settings.url, timeout=30)
        try:
            # Consuming and publishing on separate channels: waiting for a reply's confirm
            # must not hold up deliveries and acks.
            consuming = await connection.channel(publisher_confirms=False)
            publishing = await connection.channel(publisher_confirms=True)
            await consuming.set_qos(prefetch_count=self.settings.prefetch)
            queues = await declare_topology(
                consuming,
                self.names,
                list(self.dispatchers),
                queue_type=self.settings.queue_type,
                registry=self.registry,
            )
            lost = asyncio.Event()
            # aio-pika calls close callbacks when the broker drops the connection
            # (`connection.closed()` only resolves on our own close).
            connection.close_callbacks.add(lambda *_: lost.set())
            self.connection, self.channel, self._lost = connection, publishing, lost
            for (role, noun), queue in queues.items():
                await queue.consume(self._consumer(role, noun))
        except BaseException:
            await connection.close()
            raise
        log.info(
            "amqp consuming",
            extra={"fields": {"queues": sorted(q.name for q in queues.values())}},
        )

    async def _supervise(self) -> None:
        pause = 0.5
        while not self._stopping.is_set():
            lost = asyncio.ensure_future(self._lost.wait())
            stop = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait([lost, stop], return_when=asyncio.FIRST_COMPLETED)
            lost.cancel()
            stop.cancel()
            while not self._stopping.is_set():
                log.warning(
                    "amqp connection lost; reconnecting", extra={"fields": {"pause_s": pause}}
                )
                await asyncio.sleep(pause)
                try:
                    await self._connect()
                except Exception as exc:
                    log.warning("amqp reconnect failed", extra={"fields": {"error": repr(exc)}})
                    pause = min(pause * 2, 5.0)
                    continue
                pause = 0.5
                break

    async def stop(self) -> None:
        if hasattr(self, "_stopping"):
            self._stopping.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._supervisor, 10)
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
            self.connection = None

    def _consumer(self, role: Role, noun: str) -> Any:
        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await self.on_message(message, role, noun)

        return on_message

    async def on_message(
        self, message: aio_pika.abc.AbstractIncomingMessage, role: Role, noun: str
    ) -> None:
        dispatcher = self.dispatchers[role]
        syntax = syntax_of(message.content_type)
        queue = self.names.request_queue(noun, role)
        try:
            inbound = receive(
                message.body,
                syntax,
                role=role,
                via="amqp",
                endpoint=queue,
                transport_reply_to=message.reply_to,
                limits=self.settings.xml_limits,
            )
        except EnvelopeError as error:
            # Poison: it can never be processed. Say why, then dead-letter it.
            await self._reply(message, render_fault(error, syntax), None)
            await self._dead_letter(message, f"refused: {error.one_line()}")
            return
        try:
            answer = await dispatcher.answer(inbound)
        except HandlerCrashed as crash:
            await self._crashed(message, inbound, crash)
            return
        rendered = render(answer, syntax, envelope=inbound.envelope)
        if await self._reply(message, rendered, answer, inbound.envelope):
            await self._settle(message, "ack")
            self.handled += 1

    async def _crashed(
        self,
        message: aio_pika.abc.AbstractIncomingMessage,
        inbound: Inbound,
        crash: HandlerCrashed,
    ) -> None:
        attempts = _delivery_count(message) + 1
        if attempts < self.settings.max_deliveries:
            await self._settle(message, "nack")
            return
        answer = failed_reply(
            inbound.envelope,
            "the message could not be processed and was set aside (dead-lettered)",
            f"after {attempts} attempts: {crash}",
        )
        rendered = render(answer, inbound.syntax)
        await self._reply(message, rendered, answer, inbound.envelope)
        await self._dead_letter(message, str(crash))

    async def _dead_letter(self, message: aio_pika.abc.AbstractIncomingMessage, why: str) -> None:
        log.warning(
            "dead-lettered",
            extra={"fields": {"message_id": message.message_id, "reason": why}},
        )
        if await self._settle(message, "reject"):
            self.dead_lettered += 1

    async def _settle(
        self, message: aio_pika.abc.AbstractIncomingMessage, how: Literal["ack", "nack", "reject"]
    ) -> bool:
        """Ack, requeue or dead-letter. When the channel is gone the broker has already put the
        delivery back in the queue: it comes again, and idempotency answers it (False here)."""
        try:
            if how == "ack":
                await message.ack()
            elif how == "nack":
                await message.nack(requeue=True)
            else:
                await message.reject(requeue=False)
        except Exception as exc:
            log.warning(
                "delivery not settled; the broker will redeliver it",
                extra={
                    "fields": {"message_id": message.message_id, "how": how, "error": repr(exc)}
                },
            )
            return False
        return True

    async def _reply(
        self,
        message: aio_pika.abc.AbstractIncomingMessage,
        rendered: Rendered,
        answer: Answer | None,
        envelope: Envelope | None = None,
    ) -> bool:
        """Send the answer to `reply_to` and wait for the broker's confirm. False when the
        broker did not confirm (the delivery stays unacked and will come again)."""
        if not message.reply_to:
            return True
        header: Header | None = getattr(bare_of(answer), "header", None) if answer else None
        correlation = (
            (header.correlation_id if header else None)
            or (envelope.correlation_id if envelope else None)
            or message.correlation_id
        )
        reply = aio_pika.Message(
            rendered.body,
            content_type=rendered.content_type,
            correlation_id=correlation,
            message_id=header.message_id if header else None,
            delivery_mode=message.delivery_mode or aio_pika.DeliveryMode.NOT_PERSISTENT,
            headers={"verb": "reply", "noun": header.noun if header else ""},
        )
        assert self.channel is not None
        try:
            await self.channel.default_exchange.publish(reply, routing_key=message.reply_to)
        except DeliveryError as exc:
            # The reply queue is gone (its client left): the data is committed, nobody waits.
            log.warning(
                "reply not routable",
                extra={"fields": {"reply_to": message.reply_to, "error": str(exc)}},
            )
        except Exception as exc:  # channel closed, connection lost, nack: not confirmed
            log.warning(
                "reply not confirmed; the request will be redelivered",
                extra={"fields": {"reply_to": message.reply_to, "error": repr(exc)}},
            )
            return False
        return True


class AmqpPublisher:
    """Publishes with confirms: events to the topic exchange, other messages to a queue."""

    def __init__(self, settings: AmqpSettings) -> None:
        self.settings = settings
        self.names = Names(settings.prefix)
        self.connection: aio_pika.abc.AbstractConnection | None = None
        self.channel: aio_pika.abc.AbstractChannel | None = None
        self.events: aio_pika.abc.AbstractExchange | None = None

    async def start(self) -> None:
        await self._ensure()

    async def _ensure(self) -> None:
        """(Re)connect when there is no open connection (after a broker restart)."""
        if self.connection is not None and not self.connection.is_closed:
            return
        self.connection = await aio_pika.connect(self.settings.url, timeout=30)
        self.channel = await self.connection.channel(publisher_confirms=True)
        self.events = await self.channel.declare_exchange(
            self.names.events_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def stop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
            self.connection = None

    async def publish_event(
        self,
        verb: str,
        noun: str,
        body: bytes,
        *,
        content_type: str = "application/xml",
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """To `<prefix>.events` with routing key `<verb>.<Noun>`; returns once confirmed.
        An event nobody subscribed to is not an error (mandatory off)."""
        await self._ensure()
        assert self.events is not None
        await self.events.publish(
            _message(body, content_type, verb, noun, message_id, correlation_id),
            routing_key=f"{verb}.{noun}",
            mandatory=False,
        )

    async def publish_to_queue(
        self,
        queue: str,
        body: bytes,
        *,
        verb: str,
        noun: str,
        content_type: str = "application/xml",
        message_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        """To a queue by name (an AMQP ReplyAddress); `DeliveryError` when no such queue."""
        await self._ensure()
        assert self.channel is not None
        await self.channel.default_exchange.publish(
            _message(body, content_type, verb, noun, message_id, correlation_id),
            routing_key=queue,
            mandatory=True,
        )


def _message(
    body: bytes,
    content_type: str,
    verb: str,
    noun: str,
    message_id: str | None,
    correlation_id: str | None,
) -> aio_pika.Message:
    return aio_pika.Message(
        body,
        content_type=content_type,
        message_id=message_id,
        correlation_id=correlation_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers={"verb": verb, "noun": noun},
    )


__all__ = [
    "AmqpPublisher",
    "AmqpServer",
    "AmqpSettings",
    "Names",
    "declare_topology",
    "failed_reply",
    "syntax_of",
]
