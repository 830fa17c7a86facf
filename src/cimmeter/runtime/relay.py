"""The outbox relay: publishes committed outbox rows and marks them sent only once confirmed.

The service writes events and asynchronous results to the outbox in the same transaction as the
data they report (DESIGN.md rule 5); this relay is the only thing that sends them. A row is
marked sent after the peer or broker confirmed it: HTTP 2xx with a 61968-100 answer that is not
a Fault, a publisher confirm from RabbitMQ, or the return of the in-process handler of the other
role (which returns after its own commit). Otherwise the attempt is recorded and the row is
tried again later, with a growing pause per destination, so one dead peer does not hold up the
others. Delivery is at least once: a peer may see a message twice (after a crash between the
confirm and `mark_sent`) and de-duplicates by MessageID (DECISIONS.md).

Destinations (`OutboxMessage.destination`): `http://...`/`https://...` (a ReplyAddress: sent
as SOAP 1.1 to that URL, or as JSON when the row is JSON), `topic:<verb>.<Noun>` (the AMQP
events exchange), `amqp:<queue>` (an AMQP ReplyAddress), `mdm`/`headend` (in-process, `serve
--role both`). What a request's peer answered at once goes back to the sender's own handler
(`on_answer`), which matches it to the request by CorrelationID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import httpx

from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.service.clock import Clock
from cimmeter.store.base import Store
from cimmeter.store.records import OutboxMessage
from cimmeter.transport.amqp import AmqpPublisher, syntax_of
from cimmeter.transport.client import read_reply, service_for, soap11_body, soap_action
from cimmeter.transport.handler import MessageHandler, bare_of, render
from cimmeter.transport.inbound import EnvelopeError, Role, receive

log = logging.getLogger("cimmeter.relay")


class DeliveryFailed(Exception):
    """The destination did not confirm the message (it stays pending)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """A confirmed delivery, with what the peer answered at once (for a request)."""

    answer: bytes | None = None
    content_type: str = "application/xml"


class Outbox(Protocol):
    """What the relay needs from the store."""

    def pending(self, limit: int) -> list[OutboxMessage]: ...

    def mark_sent(self, outbox_id: int, at: datetime) -> None: ...

    def mark_failed(self, outbox_id: int, error: str) -> None: ...


class StoreOutbox:
    """`Outbox` over a `Store`: each call in its own snapshot or transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pending(self, limit: int) -> list[OutboxMessage]:
        with self.store.snapshot() as reader:
            return reader.pending_outbox(limit)

    def mark_sent(self, outbox_id: int, at: datetime) -> None:
        with self.store.transaction() as tx:
            tx.mark_sent(outbox_id, at)

    def mark_failed(self, outbox_id: int, error: str) -> None:
        with self.store.transaction() as tx:
            tx.mark_failed(outbox_id, error)


Publish = Callable[[OutboxMessage], Awaitable[Delivered]]


class HttpPublish:
    """POSTs to a ReplyAddress URL: SOAP 1.1 (the 61968-100 binding) for XML, JSON as is."""

    def __init__(self, client: httpx.AsyncClient, tokens: Sequence[tuple[str, str]] = ()) -> None:
        self.client = client
        self.tokens = tuple(tokens)
        """(URL prefix, bearer token) per peer that needs one; the longest prefix wins."""

    def _auth(self, url: str) -> dict[str, str]:
        matches = [(len(p), t) for p, t in self.tokens if url.startswith(p)]
        return {"Authorization": f"Bearer {max(matches)[1]}"} if matches else {}

    async def __call__(self, message: OutboxMessage) -> Delivered:
        body, headers = message.body, {"Content-Type": message.content_type}
        if "json" not in message.content_type:
            try:
                envelope = receive(body, "xml").envelope
            except EnvelopeError as exc:
                raise DeliveryFailed(f"the outbox row is not a message: {exc}") from None
            service = service_for(envelope)
            action = soap_action(envelope, service) if service else ""
            body = body if envelope.soap else soap11_body(body)
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        try:
            response = await self.client.post(
                message.destination,
                content=body,
                headers={**headers, **self._auth(message.destination)},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{message.destination}: {exc!r}") from None
        content_type = response.headers.get("content-type", "")
        if response.status_code // 100 != 2:
            raise DeliveryFailed(f"{message.destination} answered HTTP {response.status_code}")
        reply = read_reply(response.content, content_type)
        if reply is not None and reply.kind == "FaultMessage":
            raise DeliveryFailed(f"{message.destination} answered with a Fault")
        return Delivered(response.content, content_type or "application/xml")


class AmqpPublish:
    """`topic:<verb>.<Noun>` to the events exchange, `amqp:<queue>` to a queue; both confirmed."""

    def __init__(self, publisher: AmqpPublisher) -> None:
        self.publisher = publisher

    async def __call__(self, message: OutboxMessage) -> Delivered:
        scheme, _, target = message.destination.partition(":")
        try:
            if scheme == "topic":
                verb, _, noun = target.partition(".")
                await self.publisher.publish_event(
                    verb or message.verb,
                    noun or message.noun,
                    message.body,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                )
            else:
                await self.publisher.publish_to_queue(
                    target,
                    message.body,
                    verb=message.verb,
                    noun=message.noun,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                )
        except Exception as exc:
            raise DeliveryFailed(f"{message.destination}: {exc!r}") from None
        return Delivered()


class InProcessPublish:
    """Hands the message to the other role's handler in this process (`--role both`)."""

    def __init__(self, handler: MessageHandler, role: Role) -> None:
        self.handler = handler
        self.role = role

    async def __call__(self, message: OutboxMessage) -> Delivered:
        syntax = syntax_of(message.content_type)
        try:
            inbound = receive(message.body, syntax, role=self.role, via="local")
        except EnvelopeError as exc:
            raise DeliveryFailed(f"the outbox row is not a message: {exc}") from None
        try:
            answer = await asyncio.to_thread(self.handler, inbound)
        except Exception as exc:
            raise DeliveryFailed(f"{self.role.value} failed: {exc!r}") from None
        if bare_of(answer).kind == "FaultMessage":
            raise DeliveryFailed(f"{self.role.value} refused the message")
        rendered = render(answer, syntax)
        return Delivered(rendered.body, rendered.content_type)


@dataclass
class Relay:
    """Polls the outbox and publishes (see the module doc). `run` until `stop` is set."""

    outbox: Outbox
    routes: Mapping[str, Publish]
    """Destination scheme (`http`, `https`, `topic`, `amqp`, `mdm`, `headend`) -> publisher."""
    clock: Clock
    on_answer: Callable[[bytes, str], Awaitable[None]] | None = None
    poll_seconds: float = 0.5
    batch: int = 100
    max_backoff_seconds: float = 300.0
    sent: int = 0
    failed: int = 0
    _backoff: dict[str, tuple[float, float]] = field(default_factory=dict)
    """destination -> (next attempt at, current pause), for destinations that failed."""

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("relay pass failed; retrying")
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)

    async def run_once(self) -> int:
        """One pass over the pending rows; returns how many were confirmed."""
        pending = await asyncio.to_thread(self.outbox.pending, self.batch)
        confirmed = 0
        now = time.monotonic()
        for message in pending:
            destination = message.destination
            retry_at, _ = self._backoff.get(destination, (0.0, 0.0))
            if retry_at > now:
                continue
            publish = self.routes.get(_scheme(destination))
            if publish is None:
                await self._failed(message, f"no route for destination {destination!r}")
                continue
            try:
                delivered = await publish(message)
            except DeliveryFailed as exc:
                await self._failed(message, str(exc))
                continue
            assert message.id is not None
            await asyncio.to_thread(self.outbox.mark_sent, message.id, self.clock.now())
            self._backoff.pop(destination, None)
            self.sent += 1
            confirmed += 1
            if delivered.answer and self.on_answer is not None and _is_request(message):
                await self.on_answer(delivered.answer, delivered.content_type)
        return confirmed

    async def _failed(self, message: OutboxMessage, error: str) -> None:
        assert message.id is not None
        await asyncio.to_thread(self.outbox.mark_failed, message.id, error)
        self.failed += 1
        _, pause = self._backoff.get(message.destination, (0.0, 0.0))
        pause = min(self.max_backoff_seconds, max(1.0, pause * 2))
        self._backoff[message.destination] = (time.monotonic() + pause, pause)
        log.warning(
            "outbox delivery failed",
            extra={
                "fields": {
                    "outbox_id": message.id,
                    "destination": message.destination,
                    "error": error,
                    "retry_in_s": pause,
                }
            },
        )


def _scheme(destination: str) -> str:
    scheme, sep, _ = destination.partition(":")
    return scheme.lower() if sep else destination.lower()


def _is_request(message: OutboxMessage) -> bool:
    # digest 6.6: requests (present tense) are answered at once with a Reply to record.
    verb = Verb.__members__.get(message.verb)
    return verb is not None and VERBS[verb].kind == VerbKind.request


__all__ = [
    "AmqpPublish",
    "Delivered",
    "DeliveryFailed",
    "HttpPublish",
    "InProcessPublish",
    "Outbox",
    "Relay",
    "StoreOutbox",
]
