"""The sans-IO core: `handle(message, store, clock) -> HandleResult(reply, outgoing)`.

One pipeline serves both roles; a role is a table of handlers keyed by (noun, verb) plus a
table of time-driven jobs (`Role`). For every message (DESIGN.md, "Data that must never be
lost"; DECISIONS.md, "Messages and sequences"):

1. Read and classify by the root element (`cimmeter.service.inbound`). Input that cannot be
   dispatched at all (not well-formed, hostile, no Header/Verb/Noun, a Fault) gets a
   FaultMessage (`HandleResult.fault`); everything else gets a 61968-100 Reply.
2. Idempotency key: (Source, MessageID); without MessageID (Source, CorrelationID, Verb, Noun)
   plus the content hash (a retry can only be recognised by its content then); with neither,
   no de-duplication and an INFORM error says so. A key already in the message log returns the
   stored reply, byte for byte, and applies nothing; with different content the stored reply
   gets a WARNING "duplicate MessageID with different content".
3. Dispatch through the role's table; an unsupported (verb, noun) gets a FAILED reply naming
   what is supported. Responses (a ResponseMessage, whatever its verb, or an event with verb
   `reply`) dispatch as (noun, `reply`) and are matched to our request by CorrelationID.
4. The handler records per-item outcomes; the Result is OK / PARTIAL / FAILED from them.
5. The data, the message-log entry (with the serialized reply) and the outbox rows commit in ONE
   transaction. A handler raising `RequestFailed` rolls its writes back and the FAILED reply is
   logged in a transaction of its own; any other exception rolls everything back, logs nothing
   (a retry is processed afresh) and answers FAILED with `internal-error`.

Asynchronous requests (AsyncReplyFlag): the ReplyAddress must be in the allowlist. A handler
declared `inline` computes the result at once; the core acknowledges (OK `0.3`, or PARTIAL with
the rejected items) and puts the result in the outbox for ReplyAddress, as a `reply`
ResponseMessage or a `created` EventMessage per peer (`ServiceConfig.async_result_form`). A
`deferred` handler (the head-end's device work) answers later itself, from `tick`.

Nothing here reads the wall clock, sleeps, starts threads or opens sockets.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from cimmeter.message.envelope import (
    ID,
    Error,
    FaultMessage,
    Header,
    Message,
    Payload,
    ReadResult,
    Reply,
    ReplyResult,
    ResponseMessage,
    read_xml,
    write_xml,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.model.base import CimDocument
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_readings import blocks_to_meter_readings
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.clock import Clock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.errors import ErrorCodeTable, Problem, RequestFailed
from cimmeter.service.inbound import (
    Inbound,
    UnprocessableMessage,
    from_bytes,
    from_message,
    from_read_result,
)
from cimmeter.service.replies import (
    Outcomes,
    build_reply,
    correlation_of,
    event_message,
    fault,
    reply_header,
)
from cimmeter.store.base import Store, StoreError, StoreTransaction
from cimmeter.store.records import Job, MessageDirection, MessageLogEntry, OutboxMessage
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.stream_write import meter_readings_element

logger = logging.getLogger(__name__)

REPLY = Verb.reply.value

AsyncMode = Literal["sync", "inline", "deferred"]
"""How a handler treats AsyncReplyFlag: `sync` answers in the reply whatever the flag (an INFORM
says so); `inline` computes at once and the core sends the result to ReplyAddress; `deferred`
sends results later itself (device work, from `tick`)."""

# -- the handler table ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handled:
    """What a handler returns besides its outcomes: the reply payload and resulting IDs."""

    payload: CimDocument | None = None
    ids: tuple[ID, ...] = ()
    deferred: bool = False
    """True: the result comes later (an asynchronous acknowledgement `0.3` now)."""
    blocks: Sequence[ReadingBlock] | None = None
    """A MeterReadings payload as columns (instead of `payload`): the reply's XML is written
    straight from the arrays and its model is built only if someone asks for it."""

    def with_model_payload(self) -> Handled:
        """The same, with `blocks` turned into a MeterReadings `payload` model."""
        if self.blocks is None:
            return self
        return replace(self, payload=blocks_to_meter_readings(self.blocks), blocks=None)


Handler = Callable[["HandlerContext"], Handled | None]


def acknowledge(ctx: HandlerContext) -> Handled:
    """A handler for messages that only need an acknowledgement: e.g. the answer to one of our
    own requests, which the core has already matched and whose Result it has recorded."""
    ctx.ok()
    return Handled()


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """One row of a role's table: (noun, verb) -> handler."""

    noun: str
    verb: str
    """A Header verb, or `reply` for responses to our own requests."""
    handler: Handler
    summary: str
    """One line for docs/noun-verb.md: what the role does with such a message."""
    async_mode: AsyncMode = "sync"


class HandlerTable:
    """The (noun, verb) -> handler table of a role; also what it says it supports."""

    def __init__(self, specs: Iterable[HandlerSpec]) -> None:
        self._specs: dict[tuple[str, str], HandlerSpec] = {}
        for spec in specs:
            key = (spec.noun, spec.verb)
            if key in self._specs:
                raise ValueError(f"two handlers for {spec.verb} {spec.noun}")
            if spec.verb not in {v.value for v in Verb}:
                raise ValueError(f"{spec.verb!r} is not a 61968-100 verb (digest 6.6)")
            self._specs[key] = spec

    def __iter__(self) -> Iterator[HandlerSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def lookup(self, noun: str, verb: str) -> HandlerSpec | None:
        return self._specs.get((noun, verb))

    def nouns(self) -> list[str]:
        return sorted({noun for noun, _ in self._specs})

    def verbs_for(self, noun: str) -> list[str]:
        order = [v.value for v in Verb]
        return sorted((v for n, v in self._specs if n == noun), key=order.index)

    def merged(self, other: Iterable[HandlerSpec]) -> HandlerTable:
        """This table plus more rows (a role built on another's)."""
        return HandlerTable([*self, *other])


JobHandler = Callable[["JobContext"], None]


@dataclass(frozen=True, slots=True)
class Role:
    """A role: its name (`mdm`, `headend`), its handler table and its job table."""

    name: str
    title: str
    handlers: HandlerTable
    jobs: Mapping[str, JobHandler] = field(default_factory=dict)


# -- outgoing messages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message put in the outbox by this transaction (the relay publishes it after commit)."""

    destination: str
    verb: str
    noun: str
    body: bytes
    correlation_id: str | None
    message_id: str | None
    outbox_id: int | None

    @property
    def message(self) -> Message:
        """The message parsed back from its body (tests and sequences read it as data)."""
        result = read_xml(self.body)
        assert result.message is not None
        return result.message


def _enqueue(
    tx: StoreTransaction,
    destination: str,
    message: Message,
    now: datetime,
    body: bytes | None = None,
) -> Outgoing:
    header: Header = getattr(message, "header")  # noqa: B009 - outgoing messages have Headers
    data = body if body is not None else write_xml(message)
    stored = tx.enqueue(
        OutboxMessage(
            destination=destination,
            verb=header.verb.value,
            noun=header.noun,
            body=data,
            correlation_id=header.correlation_id,
            message_id=header.message_id,
            created_at=now,
        )
    )
    return Outgoing(
        destination,
        header.verb.value,
        header.noun,
        data,
        header.correlation_id,
        header.message_id,
        stored.id,
    )


def send_request(
    tx: StoreTransaction, destination: str, message: Message, now: datetime
) -> Outgoing:
    """Put one of OUR requests in the outbox, registering its CorrelationID in the message log
    first (digest fact 6: the result can arrive before the acknowledgement)."""
    header: Header = getattr(message, "header")  # noqa: B009
    if not header.correlation_id:
        raise ValueError("a request we send needs a CorrelationID to match its results")
    tx.log_message(
        MessageLogEntry(
            direction=MessageDirection.OUTBOUND,
            verb=header.verb.value,
            noun=header.noun,
            message_id=header.message_id,
            correlation_id=header.correlation_id,
            source=header.source,
            received_at=now,
            status="pending",
            reply_address=destination,
        )
    )
    return _enqueue(tx, destination, message, now)


# -- the handler's view --------------------------------------------------------------------------


@dataclass(slots=True)
class HandlerContext:
    """Everything a handler may use: the message, its transaction, the clock's now, the config,
    the error table; and where it records outcomes and outgoing messages."""

    tx: StoreTransaction
    now: datetime
    config: ServiceConfig
    codes: ErrorCodeTable
    inbound: Inbound
    spec: HandlerSpec
    new_id: Callable[[], str]
    asynchronous: bool = False
    """The request asked for an asynchronous answer (AsyncReplyFlag) and the handler does it."""
    correlated: MessageLogEntry | None = None
    """For a response or a correlated event: our request it answers (from the message log)."""
    outcomes: Outcomes = field(default_factory=Outcomes)
    outgoing: list[Outgoing] = field(default_factory=list)

    @property
    def header(self) -> Header:
        return self.inbound.header

    @property
    def noun(self) -> str:
        return self.inbound.noun

    def ok(self, count: int = 1) -> None:
        """Record `count` items applied (or already there: a no-op is a success)."""
        self.outcomes.ok(count)

    def error(
        self,
        problem: Problem,
        details: str | None = None,
        *,
        path: str | None = None,
        reason: str | None = None,
        object_ref: ObjectRef | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
    ) -> Error:
        return self.codes.error(
            problem,
            details,
            path=path,
            reason=reason,
            object_ref=object_ref,
            object_id=object_id,
            object_type=object_type,
        )

    def fail(
        self,
        problem: Problem,
        details: str | None = None,
        *,
        count: int = 1,
        path: str | None = None,
        reason: str | None = None,
        object_ref: ObjectRef | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
    ) -> Error:
        """Record one failed item (covering `count` sub-items) and return its Error."""
        error = self.error(
            problem,
            details,
            path=path,
            reason=reason,
            object_ref=object_ref,
            object_id=object_id,
            object_type=object_type,
        )
        self.outcomes.fail(error, count)
        return error

    def note(
        self,
        problem: Problem,
        details: str | None = None,
        *,
        path: str | None = None,
        reason: str | None = None,
        object_ref: ObjectRef | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
    ) -> Error:
        """Record a warning or information (the Result does not change)."""
        error = self.error(
            problem,
            details,
            path=path,
            reason=reason,
            object_ref=object_ref,
            object_id=object_id,
            object_type=object_type,
        )
        self.outcomes.note(error)
        return error

    def enqueue(self, destination: str, message: Message, body: bytes | None = None) -> Outgoing:
        out = _enqueue(self.tx, destination, message, self.now, body)
        self.outgoing.append(out)
        return out

    def send_request(self, destination: str, message: Message) -> Outgoing:
        out = send_request(self.tx, destination, message, self.now)
        self.outgoing.append(out)
        return out

    def publish(
        self, verb: Verb, document: CimDocument | None, *, noun: str | None = None
    ) -> Outgoing | None:
        """Publish an event for subscribers (`topic:<verb>.<Noun>`) when publishing is on."""
        if not self.config.publish_events:
            return None
        name = noun or (REGISTRY.entry_of(document).noun if document is not None else self.noun)
        message = event_message(
            verb, name, document, source=self.config.source, message_id=self.new_id(), now=self.now
        )
        return self.enqueue(self.config.topic(verb.value, name), message)

    def publish_body(self, verb: Verb, noun: str, body: bytes, message_id: str) -> Outgoing | None:
        """Publish an event already serialized (large MeterReadings written by the stream
        writer, never made into objects)."""
        if not self.config.publish_events:
            return None
        stored = self.tx.enqueue(
            OutboxMessage(
                destination=self.config.topic(verb.value, noun),
                verb=verb.value,
                noun=noun,
                body=body,
                message_id=message_id,
                created_at=self.now,
            )
        )
        out = Outgoing(stored.destination, verb.value, noun, body, None, message_id, stored.id)
        self.outgoing.append(out)
        return out


@dataclass(slots=True)
class JobContext:
    """What a time-driven job sees (`ServiceCore.tick`)."""

    tx: StoreTransaction
    now: datetime
    config: ServiceConfig
    codes: ErrorCodeTable
    job: Job
    new_id: Callable[[], str]
    outgoing: list[Outgoing] = field(default_factory=list)

    def enqueue(self, destination: str, message: Message) -> Outgoing:
        out = _enqueue(self.tx, destination, message, self.now)
        self.outgoing.append(out)
        return out

    def send_request(self, destination: str, message: Message) -> Outgoing:
        out = send_request(self.tx, destination, message, self.now)
        self.outgoing.append(out)
        return out


# -- results -------------------------------------------------------------------------------------


class HandleResult:
    """The answer to one message and what it put in the outbox (committed).

    `reply_xml` is the reply as stored in the message log (generic 61968-100 XML). When a
    handler answered with columnar readings (`Handled.blocks`), `reply_xml` was written from the
    arrays and `reply` (the model) is built on first access: a transport that sends the generic
    XML never pays for it (`columnar` says which)."""

    __slots__ = ("_blocks", "_reply", "duplicate", "fault", "outgoing", "reply_xml")

    def __init__(
        self,
        reply: ResponseMessage | FaultMessage,
        reply_xml: bytes,
        outgoing: tuple[Outgoing, ...] = (),
        duplicate: bool = False,
        fault: bool = False,
        *,
        blocks: Sequence[ReadingBlock] | None = None,
    ) -> None:
        self._reply = reply
        self.reply_xml = reply_xml
        self.outgoing = outgoing
        self.duplicate = duplicate
        """The message was seen before: the stored reply, nothing applied."""
        self.fault = fault
        """The input could not be dispatched: `reply` is a FaultMessage (SOAP Fault)."""
        self._blocks = blocks

    @property
    def reply(self) -> ResponseMessage | FaultMessage:
        if self._blocks is not None:
            bare = self._reply
            assert isinstance(bare, ResponseMessage)
            self._reply = bare.model_copy(
                update={"payload": Payload(document=blocks_to_meter_readings(self._blocks))}
            )
            self._blocks = None
        return self._reply

    @property
    def columnar(self) -> bool:
        """`reply_xml` holds a payload that `reply` has not built yet."""
        return self._blocks is not None

    @property
    def bare_reply(self) -> ResponseMessage | FaultMessage:
        """The reply without building a columnar payload (Header and Reply are complete)."""
        return self._reply

    @property
    def result(self) -> ReplyResult:
        return self._reply.reply.result

    def __repr__(self) -> str:
        return (
            f"HandleResult({self.result.value}, {len(self.reply_xml)} bytes, "
            f"{len(self.outgoing)} outgoing, duplicate={self.duplicate}, fault={self.fault})"
        )


InboundInput = bytes | Message | ReadResult


class _Duplicate(Exception):
    def __init__(self, entry: MessageLogEntry) -> None:
        self.entry = entry


@dataclass(frozen=True, slots=True)
class _Key:
    source: str | None
    value: str | None
    derived: bool


def _with_payload(reply_xml: bytes, blocks: Sequence[ReadingBlock]) -> bytes:
    """A generic ResponseMessage written without its Payload, with the Payload of `blocks`
    (written from the columns) put where it belongs: after the Reply, last in the message."""
    end = reply_xml.rstrip()
    if not end.endswith(b"</ResponseMessage>"):
        raise ValueError("expected a generic ResponseMessage in the default namespace")
    cut = len(end) - len(b"</ResponseMessage>")
    return b"".join(
        (end[:cut], b"<Payload>", meter_readings_element(blocks), b"</Payload>", end[cut:], b"\n")
    )


# -- the core ------------------------------------------------------------------------------------


class ServiceCore:
    """A service of one role. `handle` and `tick` are its whole interface to the runtime."""

    def __init__(
        self,
        config: ServiceConfig,
        role: Role,
        *,
        codes: ErrorCodeTable | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        if config.role != role.name:
            raise ValueError(f"config for role {config.role!r} given to the {role.name} role")
        self.config = config
        self.role = role
        self.codes = codes or ErrorCodeTable.load(config.error_codes)
        self.new_id = new_id or (lambda: str(uuid.uuid4()))

    # -- handle ------------------------------------------------------------------------------

    def handle(self, message: InboundInput, store: Store, clock: Clock) -> HandleResult:
        """Answer one message (see the module docstring)."""
        now = clock.now()
        if now.tzinfo is None:
            raise ValueError("the clock gave a naive datetime; the service needs aware time")
        try:
            inbound = _prepare(message)
        except XmlInputError as exc:
            return self._fault(exc)
        key = self._key(inbound)
        try:
            return self._apply(inbound, key, store, now)
        except _Duplicate as dup:
            return self._duplicate(inbound, dup.entry, now)
        except RequestFailed as failed:
            return self._log_failure(inbound, key, failed.errors, store, now)
        except XmlInputError as exc:
            # the streaming path meets a broken document only while handling it
            return self._fault(exc)
        except Exception:
            duplicate = self._find_logged(store, key)
            if duplicate is not None:  # a concurrent worker logged the same key first
                return self._duplicate(inbound, duplicate, now)
            logger.exception(
                "%s: %s %s (MessageID %s) failed; nothing was stored",
                self.role.name,
                inbound.verb.value,
                inbound.noun,
                inbound.header.message_id,
            )
            error = self.codes.error(
                Problem.INTERNAL_ERROR,
                f"{inbound.verb.value} {inbound.noun} could not be processed; "
                "nothing was stored, the message may be sent again",
            )
            reply = build_reply(
                self._reply_header(inbound, now), ReplyResult.FAILED, [error], codes=self.codes
            )
            return HandleResult(reply, write_xml(reply))

    def _apply(self, inbound: Inbound, key: _Key, store: Store, now: datetime) -> HandleResult:
        with store.transaction() as tx:
            if key.value is not None and not key.derived:
                existing = tx.find_message(key.source, key.value)
                if existing is not None:
                    raise _Duplicate(existing)
            spec = self._dispatch(inbound)
            ctx = HandlerContext(
                tx=tx,
                now=now,
                config=self.config,
                codes=self.codes,
                inbound=inbound,
                spec=spec,
                new_id=self.new_id,
            )
            ctx.asynchronous = self._check_async(ctx)
            for issue in inbound.issues:
                self._report_issue(ctx, issue.severity, issue.one_line())
            if key.value is None:
                ctx.note(
                    Problem.NO_IDEMPOTENCY_KEY,
                    "without MessageID or CorrelationID a retry of this message would be applied "
                    "again",
                )
            if inbound.is_response or inbound.header.correlation_id:
                ctx.correlated = self._correlate(ctx)
            handled = spec.handler(ctx) or Handled()
            if key.derived:
                # the content hash is part of a derived key: known only now (readings streamed)
                derived = f"{key.value}#{inbound.content_hash()}"
                key = replace(key, value=derived)
                existing = tx.find_message(key.source, derived)
                if existing is not None:
                    raise _Duplicate(existing)
            blocks = handled.blocks
            if blocks is not None and (ctx.asynchronous or handled.deferred):
                handled, blocks = handled.with_model_payload(), None  # sent on as a model
            reply = self._reply_for(ctx, handled)
            if blocks is None:
                reply_xml = write_xml(reply)
            else:
                reply_xml = _with_payload(write_xml(reply, pretty=False), blocks)
            tx.log_message(self._log_entry(inbound, key, reply.reply.result.value, now, reply_xml))
            if ctx.correlated is not None:
                self._record_response(ctx)
            if (
                inbound.verb is Verb.get
                and not (ctx.asynchronous or handled.deferred or ctx.outgoing)
                and ctx.correlated is None
            ):
                tx.relax_commit()  # a read that changed nothing: only its log entry is written
            return HandleResult(reply, reply_xml, tuple(ctx.outgoing), blocks=blocks)

    def _dispatch(self, inbound: Inbound) -> HandlerSpec:
        verb = REPLY if inbound.is_response else inbound.verb.value
        spec = self.role.handlers.lookup(inbound.noun, verb)
        if spec is not None:
            return spec
        supported = self.role.handlers.verbs_for(inbound.noun)
        if supported:
            text = (
                f"the {self.role.title} does not accept {verb} {inbound.noun}; "
                f"it accepts {', '.join(supported)} {inbound.noun}"
            )
        else:
            text = (
                f"the {self.role.title} does not accept the noun {inbound.noun}; "
                f"it accepts {', '.join(self.role.handlers.nouns())}"
            )
        raise RequestFailed(self.codes.error(Problem.UNSUPPORTED_OPERATION, text, path="/Header"))

    def _check_async(self, ctx: HandlerContext) -> bool:
        """Whether the request is answered asynchronously; refuses a missing or disallowed
        ReplyAddress (DECISIONS.md: allowlist, loopback only by default)."""
        header = ctx.header
        mode = ctx.spec.async_mode
        wants_async = bool(header.async_reply_flag) and ctx.inbound.kind == "RequestMessage"
        uses_address = wants_async and mode != "sync"
        if mode == "deferred" and header.reply_address:
            uses_address = True
        if wants_async and mode == "sync":
            ctx.note(
                Problem.MESSAGE_WARNING,
                "AsyncReplyFlag is set; the answer is in this reply",
                path="/Header/AsyncReplyFlag",
                reason="answered synchronously",
            )
        if not uses_address:
            return False
        address = header.reply_address
        if not address:
            raise RequestFailed(
                ctx.error(
                    Problem.MISSING_HEADER_DATA,
                    "an asynchronous request needs a ReplyAddress",
                    path="/Header/ReplyAddress",
                )
            )
        if not self.config.reply_address_allowed(address):
            raise RequestFailed(
                ctx.error(
                    Problem.REPLY_ADDRESS_NOT_ALLOWED,
                    f"{address!r} is not in this service's ReplyAddress allowlist "
                    f"({', '.join(self.config.allow_reply_to)}); results are never sent to "
                    "other addresses",
                    path="/Header/ReplyAddress",
                )
            )
        if not correlation_of(header):
            raise RequestFailed(
                ctx.error(
                    Problem.MISSING_HEADER_DATA,
                    "an asynchronous request needs a CorrelationID (or a MessageID) so that "
                    "its result can be matched",
                    path="/Header/CorrelationID",
                )
            )
        return wants_async

    def _report_issue(self, ctx: HandlerContext, severity: str, text: str) -> None:
        if severity == "error":
            # a bad element: reported once here; the item it belongs to fails in the handler
            ctx.outcomes.fail(ctx.error(Problem.INVALID_ELEMENT, text))
        else:
            ctx.note(Problem.MESSAGE_WARNING, text)

    def _correlate(self, ctx: HandlerContext) -> MessageLogEntry | None:
        """Our request this message answers: by CorrelationID, then by its MessageID as a
        CorrelationID (digest 6.8: peers use both conventions)."""
        header = ctx.header
        for candidate in (header.correlation_id, header.message_id):
            if not candidate:
                continue
            for entry in ctx.tx.find_by_correlation(
                candidate, direction=MessageDirection.OUTBOUND.value
            ):
                if VERBS[Verb(entry.verb)].kind is VerbKind.request:
                    return entry
        if ctx.inbound.is_response:
            ctx.note(
                Problem.UNKNOWN_CORRELATION,
                f"CorrelationID {header.correlation_id!r} matches no request of this service; "
                "the content is processed all the same",
                path="/Header/CorrelationID",
            )
        return None

    def _record_response(self, ctx: HandlerContext) -> None:
        """Keep the peer's Result on our logged request (the payload stays with the data)."""
        entry = ctx.correlated
        assert entry is not None and entry.id is not None
        reply = ctx.inbound.reply
        status = reply.result.value if reply is not None else ctx.outcomes.result.value
        if reply is not None:
            summary = ResponseMessage(header=ctx.header, reply=reply)
            ctx.tx.update_message(entry.id, status=status, reply=write_xml(summary))
        else:
            ctx.tx.update_message(entry.id, status=status, reply=entry.reply)

    def _reply_for(self, ctx: HandlerContext, handled: Handled) -> ResponseMessage:
        header = self._reply_header(ctx.inbound, ctx.now)
        outcomes = ctx.outcomes
        if ctx.asynchronous and ctx.spec.async_mode == "inline":
            if outcomes.result is not ReplyResult.FAILED:
                self._send_async_result(ctx, handled)
            return build_reply(
                header,
                outcomes.result,
                self._capped(outcomes.errors),
                codes=self.codes,
                ids=handled.ids,
                success=Problem.ACCEPTED,
            )
        if handled.deferred:
            return build_reply(
                header,
                outcomes.result,
                self._capped(outcomes.errors),
                codes=self.codes,
                ids=handled.ids,
                success=Problem.ACCEPTED,
            )
        return build_reply(
            header,
            outcomes.result,
            self._capped(outcomes.errors),
            codes=self.codes,
            payload=handled.payload,
            ids=handled.ids,
        )

    def _send_async_result(self, ctx: HandlerContext, handled: Handled) -> None:
        """The result of an `inline` asynchronous request, to ReplyAddress (DECISIONS.md)."""
        header = ctx.header
        address = header.reply_address
        assert address is not None
        correlation = correlation_of(header)
        outcomes = ctx.outcomes
        form = self.config.result_form_for(header.source)
        if form == "reply":
            result_header = Header(
                verb=Verb.reply,
                noun=ctx.noun,
                timestamp=ctx.now,
                source=self.config.source,
                message_id=self.new_id(),
                correlation_id=correlation,
            )
            message: Message = build_reply(
                result_header,
                outcomes.result,
                self._capped(outcomes.errors),
                codes=self.codes,
                payload=handled.payload,
                ids=handled.ids,
            )
        else:
            past = VERBS[header.verb].past
            errors = tuple(self._capped(outcomes.errors)) or (self.codes.error(Problem.OK),)
            message = event_message(
                past if past is not None and past is not Verb.reply else Verb.created,
                ctx.noun,
                handled.payload,
                source=self.config.source,
                message_id=self.new_id(),
                now=ctx.now,
                correlation_id=correlation,
                reply=Reply(result=outcomes.result, errors=errors, ids=handled.ids),
            )
        ctx.enqueue(address, message)

    def _capped(self, errors: Sequence[Error]) -> list[Error]:
        """At most `max_errors_per_reply` Errors, the rest summed up in one WARNING."""
        limit = self.config.max_errors_per_reply
        if len(errors) <= limit:
            return list(errors)
        more = len(errors) - limit
        summary = self.codes.error(
            Problem.RESULT_TRUNCATED,
            f"{more} more errors are not listed (this reply lists at most {limit})",
            reason="errors not listed",
        )
        return [*errors[:limit], summary]

    def _reply_header(self, inbound: Inbound, now: datetime) -> Header:
        return reply_header(
            inbound.header,
            inbound.noun,
            source=self.config.source,
            message_id=self.new_id(),
            now=now,
        )

    # -- idempotency -------------------------------------------------------------------------

    def _key(self, inbound: Inbound) -> _Key:
        header = inbound.header
        if header.message_id:
            return _Key(header.source, header.message_id, derived=False)
        if header.correlation_id:
            value = f"~{header.correlation_id}|{inbound.verb.value}|{inbound.noun}"
            return _Key(header.source, value, derived=True)
        return _Key(header.source, None, derived=False)

    def _find_logged(self, store: Store, key: _Key) -> MessageLogEntry | None:
        if key.value is None or key.derived:
            return None
        try:
            with store.snapshot() as reader:
                return reader.find_message(key.source, key.value)
        except StoreError:
            return None

    def _duplicate(self, inbound: Inbound, entry: MessageLogEntry, now: datetime) -> HandleResult:
        stored = entry.reply
        if stored is None:
            raise RuntimeError(f"message log entry {entry.id} has no stored reply")
        result = read_xml(stored)
        reply = result.message
        assert isinstance(reply, ResponseMessage)
        if entry.content_hash is None or entry.content_hash == inbound.content_hash():
            return HandleResult(reply, stored, duplicate=True)
        warning = self.codes.error(
            Problem.DUPLICATE_MESSAGE,
            f"MessageID {inbound.header.message_id!r} from {inbound.header.source!r} was "
            f"received at {entry.received_at.isoformat()} with other content; this is its "
            "stored reply and nothing of this message was applied",
            path="/Header/MessageID",
        )
        warned = reply.model_copy(
            update={
                "reply": reply.reply.model_copy(update={"errors": (*reply.reply.errors, warning)})
            }
        )
        return HandleResult(warned, write_xml(warned), duplicate=True)

    def _log_failure(
        self, inbound: Inbound, key: _Key, errors: Sequence[Error], store: Store, now: datetime
    ) -> HandleResult:
        notes: list[Error] = [
            self.codes.error(Problem.MESSAGE_WARNING, issue.one_line())
            for issue in inbound.issues
            if issue.severity == "warning"
        ]
        reply = build_reply(
            self._reply_header(inbound, now),
            ReplyResult.FAILED,
            [*errors, *notes],
            codes=self.codes,
        )
        reply_xml = write_xml(reply)
        if key.derived:
            key = replace(key, value=f"{key.value}#{inbound.content_hash()}")
        try:
            with store.transaction() as tx:
                if key.value is not None:
                    existing = tx.find_message(key.source, key.value)
                    if existing is not None:
                        raise _Duplicate(existing)
                tx.log_message(
                    self._log_entry(inbound, key, ReplyResult.FAILED.value, now, reply_xml)
                )
        except _Duplicate as dup:
            return self._duplicate(inbound, dup.entry, now)
        return HandleResult(reply, reply_xml)

    def _log_entry(
        self, inbound: Inbound, key: _Key, status: str, now: datetime, reply_xml: bytes
    ) -> MessageLogEntry:
        header = inbound.header
        return MessageLogEntry(
            direction=MessageDirection.INBOUND,
            verb=header.verb.value,
            noun=inbound.noun,
            message_id=key.value,
            correlation_id=header.correlation_id,
            source=header.source,
            received_at=now,
            status=status,
            content_hash=inbound.content_hash(),
            reply=reply_xml,
            reply_address=header.reply_address,
        )

    def _fault(self, exc: XmlInputError) -> HandleResult:
        problem = (
            Problem.INVALID_MESSAGE
            if isinstance(exc, UnprocessableMessage)
            else Problem.MALFORMED_MESSAGE
        )
        error = self.codes.error(problem, exc.one_line())
        message = fault([error])
        return HandleResult(message, write_xml(message), fault=True)

    # -- tick --------------------------------------------------------------------------------

    def tick(self, now: datetime, store: Store) -> list[Outgoing]:
        """Run the jobs due at `now`, each in its own transaction; returns what they enqueued.

        Called by the runtime's timer (DECISIONS.md, time-driven behaviour)."""
        if now.tzinfo is None:
            raise ValueError("tick needs an aware datetime")
        with store.snapshot() as reader:
            due = reader.due_jobs(now)
        outgoing: list[Outgoing] = []
        for job in due:
            runner = self.role.jobs.get(job.kind)
            with store.transaction() as tx:
                if runner is None:
                    logger.error(
                        "%s: no runner for job kind %r (job %s)", self.role.name, job.kind, job.id
                    )
                else:
                    ctx = JobContext(tx, now, self.config, self.codes, job, self.new_id)
                    runner(ctx)
                    outgoing.extend(ctx.outgoing)
                assert job.id is not None
                tx.finish_job(job.id, now)
        return outgoing


def _prepare(message: InboundInput) -> Inbound:
    if isinstance(message, bytes):
        return from_bytes(message)
    if isinstance(message, ReadResult):
        return from_read_result(message)
    return from_message(message)


def supported_table(role: Role) -> list[tuple[str, str, HandlerSpec]]:
    """(noun, verb, spec) rows of a role, sorted by noun then verb order (for docs)."""
    order = [v.value for v in Verb]
    rows = [(spec.noun, spec.verb, spec) for spec in role.handlers]
    return sorted(rows, key=lambda r: (r[0], order.index(r[1])))


__all__ = [
    "AsyncMode",
    "HandleResult",
    "Handled",
    "Handler",
    "HandlerContext",
    "HandlerSpec",
    "HandlerTable",
    "JobContext",
    "JobHandler",
    "Outgoing",
    "Role",
    "ServiceCore",
    "acknowledge",
    "send_request",
    "supported_table",
]
