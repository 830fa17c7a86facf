"""The client side: send a 61968-100 message to a cimmeter (or any 61968-100) server.

`HttpSender` picks the endpoint from the message, as a peer would: XML goes as SOAP 1.1 to the
service of its kind (`/soap/Send<Noun>` for events, `Get<Noun>` for get, `Execute<Noun>` for
other requests, `Reply<Noun>` for responses), with the standard's SOAP action; JSON (or XML
with `as_json`) goes to `POST /messages`. `AmqpSender` publishes to the noun's request queue
with a private reply queue and waits for the Reply with the same correlation id.

Errors a caller cannot fix by changing the message (no connection, a wrong token, a server
error, no answer in time) raise `SendError`; a refused message (SOAP Fault, FaultMessage)
is a result with Result FAILED.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import aio_pika.abc
import httpx

from cimmeter.message.envelope import Message, read_xml
from cimmeter.message.json import dumps, from_json
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import Verb
from cimmeter.transport.amqp import Names
from cimmeter.transport.handler import result_of
from cimmeter.transport.http.wsdl import service_by_name
from cimmeter.transport.inbound import Envelope, EnvelopeError, Inbound, Role, Syntax, receive
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.namespaces import SOAP11_NS


class SendError(Exception):
    """The message could not be delivered or answered (connection, auth, server error)."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """What came back: the Reply as received, its Result, and where it went."""

    body: bytes
    content_type: str
    result: str
    """`OK`, `PARTIAL` or `FAILED` (a Fault is FAILED)."""
    reply: Message | None
    endpoint: str

    @property
    def ok(self) -> bool:
        return self.result == "OK"


def detect_syntax(body: bytes) -> Syntax:
    return "json" if body.lstrip()[:1] in (b"{", b"[") else "xml"


def inspect(body: bytes) -> Inbound:
    """The envelope of a message to send; `SendError` when it is no message at all."""
    syntax = detect_syntax(body)
    try:
        return receive(body, syntax)
    except EnvelopeError as error:
        raise SendError(f"not a 61968-100 message: {error.one_line()}") from None


def service_for(envelope: Envelope) -> str | None:
    """The SOAP service a message goes to (module doc), None when there is none for it."""
    entry = REGISTRY.find_noun(envelope.noun or "")
    if entry is None or envelope.kind == "FaultMessage":
        return None
    if envelope.kind == "ResponseMessage":
        prefix = "Reply"
    elif envelope.kind == "EventMessage":
        prefix = "Send"
    elif envelope.verb == "get":
        prefix = "Get"
    else:
        prefix = "Execute"
    name = f"{prefix}{entry.noun}"
    return name if service_by_name(name) is not None else None


def soap_action(envelope: Envelope, service: str) -> str:
    found = service_by_name(service)
    assert found is not None
    verb = envelope.verb if envelope.verb in Verb.__members__ else None
    for op in found.operations:
        if verb is not None and op.verb == Verb(verb):
            return op.soap_action
    # A response posted to Reply<Noun>: no operation has its verb; the first is as good.
    return found.operations[0].soap_action


_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def soap11_body(body: bytes) -> bytes:
    """A bare XML message in a SOAP 1.1 envelope (its bytes kept as they are)."""
    declaration = _DECLARATION.match(body)
    if declaration is not None:
        encoding = _ENCODING.search(declaration.group(0))
        if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            body = body.decode(encoding.group(1).decode()).encode("utf-8")
            declaration = _DECLARATION.match(body)
        if declaration is not None:
            body = body[declaration.end() :]
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<soap:Envelope xmlns:soap="'
        + SOAP11_NS.encode()
        + b'"><soap:Body>'
        + body
        + b"</soap:Body></soap:Envelope>"
    )


def read_reply(body: bytes, content_type: str) -> Message | None:
    """The message in an answer (SOAP, XML or JSON), None when it holds none."""
    try:
        if "json" in content_type:
            found = from_json(json.loads(body))
            return found if isinstance(found, Message) else None
        return read_xml(body, collect=True).message
    except (XmlInputError, ValueError):
        return None


class HttpSender:
    """Sends over HTTP(S) to a server root (module doc)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        as_json: bool = False,
        timeout: float = 120.0,
        prefix: str = "",
    ) -> None:
        self.base = base_url.rstrip("/") + prefix
        self.as_json = as_json
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(headers=headers, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, body: bytes) -> SendResult:
        inbound = inspect(body)
        service = service_for(inbound.envelope)
        if inbound.syntax == "json" or self.as_json or service is None:
            return self._post_message(inbound)
        url = f"{self.base}/soap/{service}"
        action = soap_action(inbound.envelope, service)
        if inbound.envelope.soap == "1.2":  # already in SOAP: sent as it is
            headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        else:
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
            body = body if inbound.envelope.soap == "1.1" else soap11_body(body)
        return self._post(url, body, headers, soap=True)

    def _post_message(self, inbound: Inbound) -> SendResult:
        if inbound.syntax == "xml" and self.as_json:
            message = inbound.parse().message
            if message is None:
                raise SendError("the XML file holds no message to convert to JSON")
            body = dumps(message, indent=None).encode()
        else:
            body = inbound.body
        syntax = "json" if self.as_json or inbound.syntax == "json" else "xml"
        content_type = "application/json" if syntax == "json" else "application/xml"
        headers = {"Content-Type": content_type, "Accept": content_type}
        return self._post(f"{self.base}/messages", body, headers, soap=False)

    def _post(self, url: str, body: bytes, headers: dict[str, str], *, soap: bool) -> SendResult:
        try:
            response = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"cannot reach {url}: {exc}") from None
        content_type = response.headers.get("content-type", "")
        reply = read_reply(response.content, content_type)
        refused = (soap and response.status_code in (400, 500)) or response.status_code == 400
        if response.status_code == 200 or (refused and reply is not None):
            result = result_of(reply) if reply is not None else "FAILED"
            return SendResult(response.content, content_type, result, reply, url)
        raise SendError(
            f"{url} answered HTTP {response.status_code}: {response.text[:500].strip()}"
        )


class AmqpSender:
    """Sends over AMQP to `<prefix>.request.<Noun>` and waits for the Reply (module doc)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "cimmeter",
        role: Role = Role.MDM,
        timeout: float = 120.0,
        as_json: bool = False,
    ) -> None:
        self.url = url
        self.names = Names(prefix)
        self.role = role
        self.timeout = timeout
        self.as_json = as_json
        self.connection: aio_pika.abc.AbstractConnection | None = None
        self.channel: aio_pika.abc.AbstractChannel | None = None
        self.replies: aio_pika.abc.AbstractQueue | None = None
        self.waiting: dict[str, asyncio.Future[aio_pika.abc.AbstractIncomingMessage]] = {}

    async def __aenter__(self) -> AmqpSender:
        try:
            self.connection = await aio_pika.connect(self.url, timeout=30)
        except (OSError, aio_pika.exceptions.AMQPError) as exc:
            host = urlsplit(self.url).hostname
            raise SendError(f"cannot reach the AMQP broker at {host}: {exc!r}") from None
        self.channel = await self.connection.channel(publisher_confirms=True)
        self.replies = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        await self.replies.consume(self._on_reply, no_ack=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def _on_reply(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        future = self.waiting.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(message)

    async def send(self, body: bytes) -> SendResult:
        assert self.channel is not None and self.replies is not None, "use `async with`"
        inbound = inspect(body)
        envelope = inbound.envelope
        if inbound.syntax == "xml" and self.as_json:
            message = inbound.parse().message
            if message is None:
                raise SendError("the XML file holds no message to convert to JSON")
            body, syntax = dumps(message, indent=None).encode(), "json"
        else:
            syntax = inbound.syntax
        entry = REGISTRY.find_noun(envelope.noun or "")
        if entry is None:
            raise SendError(f"no request queue for noun {envelope.noun!r}")
        queue = self.names.request_queue(entry.noun, self.role)
        correlation = envelope.correlation_id or envelope.message_id or str(uuid.uuid4())
        future: asyncio.Future[aio_pika.abc.AbstractIncomingMessage] = (
            asyncio.get_running_loop().create_future()
        )
        self.waiting[correlation] = future
        headers: dict[str, Any] = {"verb": envelope.verb or "", "noun": entry.noun}
        message_out = aio_pika.Message(
            body,
            content_type="application/json" if syntax == "json" else "application/xml",
            correlation_id=correlation,
            message_id=envelope.message_id,
            reply_to=self.replies.name,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=headers,
        )
        try:
            await self.channel.default_exchange.publish(message_out, routing_key=queue)
        except aio_pika.exceptions.DeliveryError:
            raise SendError(f"no queue {queue} on the broker (is the server running?)") from None
        try:
            answer = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self.waiting.pop(correlation, None)
            raise SendError(f"no reply on {queue} within {self.timeout:g} s") from None
        content_type = answer.content_type or "application/xml"
        reply = read_reply(answer.body, content_type)
        result = result_of(reply) if reply is not None else "FAILED"
        return SendResult(answer.body, content_type, result, reply, f"amqp:{queue}")


__all__ = [
    "AmqpSender",
    "HttpSender",
    "SendError",
    "SendResult",
    "detect_syntax",
    "read_reply",
    "service_for",
    "soap11_body",
    "soap_action",
]
