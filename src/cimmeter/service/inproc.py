"""An in-process exchange between services: outboxes delivered as bytes, replies fed back.

`Exchange` is the transport of `serve --role both` in one process and of the sequence tests
(issue 6: both roles, messages passed as data). Each peer is a `ServiceCore` with its own
store. `deliver()` takes every committed, unsent outbox message of every peer, routes it by its
destination (glob patterns: `headend`, `http://127.0.0.1/mdm/*`, `topic:created.*`), hands the
*bytes* to the receiving core (which parses them with the real codecs: nothing passes as an
object), and marks it sent in the sender's outbox only then (DESIGN.md rule 5). A request's
reply goes back to its sender's `handle` (a response to its own request, matched by
CorrelationID); the acknowledgement of an event or of an asynchronous result is only recorded,
as a transport would check it. A destination routed to a sink (`sink:<name>`, e.g. a CIS that
only listens) is recorded and acknowledged without processing.

`tick()` moves the clock (a `ManualClock`), runs every peer's `tick`, then delivers. Every
message is kept in `log` as an `Exchanged` record (sender, receiver, verb, noun, CorrelationID,
the body, the Result the receiver answered), which is what the sequence tests assert on.

Nothing here starts threads or sleeps; it loops until no outbox holds anything to deliver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Final

from cimmeter.message.envelope import Message, ReadResult, read_xml, write_xml
from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.service.clock import ManualClock
from cimmeter.service.core import HandleResult, InboundInput, ServiceCore
from cimmeter.store.base import Store
from cimmeter.xml.codec import split_tag
from cimmeter.xml.safe import iterparse

SINK: Final = "sink:"
"""Receiver prefix of a destination that only records (`sink:cis`)."""


class ExchangeError(Exception):
    """A message the exchange cannot deliver (no route, unknown peer, endless ping-pong)."""


@dataclass(slots=True)
class Peer:
    name: str
    core: ServiceCore
    store: Store


@dataclass(frozen=True, slots=True)
class Exchanged:
    """One message that went from `sender` to `receiver`, and the Result the receiver gave."""

    sender: str
    receiver: str
    destination: str
    verb: str
    noun: str
    correlation_id: str | None
    message_id: str | None
    body: bytes
    result: str | None
    """The receiver's Reply Result (of its reply or its acknowledgement); None for a sink."""
    at: datetime
    reply: bytes | None = None

    @property
    def message(self) -> Message:
        """The message parsed back (tests read it as data)."""
        parsed = read_xml(self.body)
        assert parsed.message is not None
        return parsed.message

    @property
    def kind(self) -> str:
        return self.message.kind

    def __str__(self) -> str:
        result = f" -> {self.result}" if self.result else ""
        return (
            f"{self.sender} => {self.receiver}: {self.verb} {self.noun} "
            f"[{self.correlation_id}]{result}"
        )


@dataclass(slots=True)
class Exchange:
    """Peers, routes and the clock of an in-process system (module docstring)."""

    clock: ManualClock
    peers: dict[str, Peer] = field(default_factory=dict)
    routes: list[tuple[str, str, str]] = field(default_factory=list)
    """(sender, destination pattern, receiver), first match wins."""
    log: list[Exchanged] = field(default_factory=list)
    max_rounds: int = 1000

    def add(self, name: str, core: ServiceCore, store: Store) -> Peer:
        if name in self.peers or name.startswith(SINK):
            raise ExchangeError(f"peer name {name!r} is taken or reserved")
        peer = Peer(name, core, store)
        self.peers[name] = peer
        return peer

    def route(self, sender: str, pattern: str, receiver: str) -> None:
        """Messages of `sender` whose destination matches `pattern` go to `receiver` (a peer
        name or `sink:<name>`)."""
        if not receiver.startswith(SINK) and receiver not in self.peers:
            raise ExchangeError(f"no peer {receiver!r}")
        self.routes.append((sender, pattern, receiver))

    def receiver_of(self, sender: str, destination: str) -> str:
        for source, pattern, receiver in self.routes:
            if source in (sender, "*") and fnmatchcase(destination, pattern):
                return receiver
        raise ExchangeError(f"{sender}: no route for destination {destination!r}")

    # -- delivering --------------------------------------------------------------------------

    def send(self, sender: str, receiver: str, message: InboundInput) -> HandleResult:
        """A message from outside (a CIS, an operator) straight to a peer; logged."""
        peer = self._peer(receiver)
        body = _bytes(message)
        result = peer.core.handle(body, peer.store, self.clock)
        self._record(sender, receiver, receiver, body, result)
        return result

    def deliver(self) -> list[Exchanged]:
        """Deliver until every outbox is empty; returns what was exchanged."""
        first = len(self.log)
        for _ in range(self.max_rounds):
            moved = False
            for peer in list(self.peers.values()):
                with peer.store.snapshot() as reader:
                    pending = reader.pending_outbox(limit=1000)
                for row in pending:
                    self._deliver(peer, row.destination, row.body, row.verb)
                    assert row.id is not None
                    with peer.store.transaction() as tx:
                        tx.mark_sent(row.id, self.clock.now())
                    moved = True
            if not moved:
                return self.log[first:]
        raise ExchangeError(f"still delivering after {self.max_rounds} rounds")

    def _deliver(self, sender: Peer, destination: str, body: bytes, verb: str) -> None:
        receiver = self.receiver_of(sender.name, destination)
        if receiver.startswith(SINK):
            self._record(sender.name, receiver, destination, body, None)
            return
        peer = self._peer(receiver)
        result = peer.core.handle(body, peer.store, self.clock)
        self._record(sender.name, receiver, destination, body, result)
        if _is_request(verb) and not result.fault:
            # a request's reply goes back to the requester (a transport's response)
            answer = sender.core.handle(result.reply_xml, sender.store, self.clock)
            self._record(receiver, sender.name, sender.name, result.reply_xml, answer)

    def tick(
        self, advance: timedelta | None = None, *, to: datetime | None = None
    ) -> list[Exchanged]:
        """Move the clock (by `advance`, or to `to`), run every peer's `tick`, deliver."""
        if to is not None:
            self.clock.set(to)
        elif advance is not None:
            self.clock.advance(advance)
        first = len(self.log)
        self.deliver()
        now = self.clock.now()
        for peer in self.peers.values():
            peer.core.tick(now, peer.store)
        self.deliver()
        return self.log[first:]

    def run_until(self, end: datetime, step: timedelta) -> list[Exchanged]:
        """Tick every `step` until `end` (inclusive)."""
        first = len(self.log)
        while self.clock.now() + step <= end:
            self.tick(step)
        if self.clock.now() < end:
            self.tick(to=end)
        return self.log[first:]

    # -- reading the log ---------------------------------------------------------------------

    def find(
        self,
        *,
        sender: str | None = None,
        receiver: str | None = None,
        verb: str | None = None,
        noun: str | None = None,
        correlation_id: str | None = None,
        since: int = 0,
    ) -> list[Exchanged]:
        """The logged messages matching every filter given, in order."""
        return [
            e
            for e in self.log[since:]
            if (sender is None or e.sender == sender)
            and (receiver is None or e.receiver == receiver)
            and (verb is None or e.verb == verb)
            and (noun is None or e.noun == noun)
            and (correlation_id is None or e.correlation_id == correlation_id)
        ]

    def mark(self) -> int:
        """Where the log stands now (pass it as `since` to `find`)."""
        return len(self.log)

    def describe(self, entries: Iterable[Exchanged] | None = None) -> list[str]:
        return [str(e) for e in (self.log if entries is None else entries)]

    # -- internals ---------------------------------------------------------------------------

    def _peer(self, name: str) -> Peer:
        try:
            return self.peers[name]
        except KeyError:
            raise ExchangeError(f"no peer {name!r}") from None

    def _record(
        self,
        sender: str,
        receiver: str,
        destination: str,
        body: bytes,
        result: HandleResult | None,
    ) -> None:
        verb, noun, correlation, message_id = _header_of(body)
        self.log.append(
            Exchanged(
                sender=sender,
                receiver=receiver,
                destination=destination,
                verb=verb,
                noun=noun,
                correlation_id=correlation,
                message_id=message_id,
                body=body,
                result=result.result.value if result is not None else None,
                at=self.clock.now(),
                reply=result.reply_xml if result is not None else None,
            )
        )


def _is_request(verb: str) -> bool:
    try:
        return VERBS[Verb(verb)].kind is VerbKind.request
    except ValueError:
        return False


def _bytes(message: InboundInput) -> bytes:
    if isinstance(message, bytes):
        return message
    if isinstance(message, ReadResult):
        if message.message is None:
            raise ExchangeError("a bare document has no Header to send")
        return write_xml(message.message)
    return write_xml(message)


_HEADER_TAGS: Final = ("Verb", "Noun", "MessageID", "CorrelationID")


def _header_of(body: bytes) -> tuple[str, str, str | None, str | None]:
    """Verb, Noun, CorrelationID, MessageID, read from the start of the message only (a large
    MeterReadings is not parsed twice)."""
    found: dict[str, str] = {}
    tags = tuple(f"{{*}}{t}" for t in (*_HEADER_TAGS, "Payload", "Reply", "Request"))
    for _, element in iterparse(body, events=("end",), tag=tags):
        local = split_tag(element.tag)[1]
        if local not in _HEADER_TAGS:
            break
        found.setdefault(local, (element.text or "").strip())
    return (
        found.get("Verb", "reply" if b"Fault" in body[:400] else ""),
        found.get("Noun", ""),
        found.get("CorrelationID") or None,
        found.get("MessageID") or None,
    )


__all__ = ["SINK", "Exchange", "ExchangeError", "Exchanged", "Peer"]
