"""What arrives, made ready for the handlers: `Inbound`, from bytes or from a parsed message.

Classification is by the root element (DECISIONS.md): RequestMessage, ResponseMessage,
EventMessage, a typed per-noun wrapper, in any accepted namespace, inside SOAP or not. The noun
is the registry noun of the payload document (or query) when there is one, the Header Noun
otherwise; a mismatching Header Noun is a warning (digest 2.3).

MeterReadings that carry readings (every verb but `get`) take the columnar path when they come
as bytes: the streaming reader (`cimmeter.xml.stream`) yields one MeterReading at a time as
`ReadingBlock`s, so a message of millions of readings never becomes objects (DESIGN.md). A
short look at the Header decides the path before anything else is parsed. Both paths give the
handlers the same `ReadingsChunk`s.

The content hash that idempotency compares (DECISIONS.md: same key, different content -> a
WARNING) covers what a message asks for, not how it travelled: verb, noun, Request and Payload
(for readings: the blocks, events and rejected items), never the Header, whose Timestamp a
retry may renew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from cimmeter.message.envelope import (
    MESSAGE_CLASSES,
    EventMessage,
    FaultMessage,
    Header,
    Message,
    ReadResult,
    Reply,
    RequestMessage,
    ResponseMessage,
    read_xml,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import MessageKind, Verb, operation_of
from cimmeter.model.base import CimDocument
from cimmeter.model.end_device_events import EndDeviceEvent
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_readings import (
    MeterReading,
    MeterReadings,
    ReadingConversionError,
    meter_readings_to_blocks,
)
from cimmeter.model.readings import ReadingBlock
from cimmeter.xml.codec import DecodeContext, decode, split_tag
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.issues import Issue, Issues
from cimmeter.xml.namespaces import ACCEPTED_MESSAGE_NAMESPACES
from cimmeter.xml.safe import iterparse, make_parser
from cimmeter.xml.stream import MeterReadingChunk, MeterReadingsReader

READINGS_NOUN = "MeterReadings"


class UnprocessableMessage(XmlInputError):
    """Input that is not a 61968-100 message the service can dispatch (no Header, a Fault,
    a bare document): answered with a FaultMessage (DECISIONS.md, SOAP Fault cases)."""


# -- readings ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """A reading or a block the reader could not take (DESIGN.md rule 7)."""

    path: str
    reason: str
    expected: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ReadingsChunk:
    """One MeterReading: its blocks, the events it carries, and what could not be read."""

    index: int
    path: str
    meter: ObjectRef | None
    usage_point: ObjectRef | None
    blocks: tuple[ReadingBlock, ...]
    events: tuple[EndDeviceEvent, ...]
    problems: tuple[ItemProblem, ...]


class ReadingsStream:
    """The MeterReading chunks of one message, read once; hashes what it yields."""

    def __init__(self, chunks: Iterator[ReadingsChunk]) -> None:
        self._chunks = chunks
        self._hash = hashlib.sha256(b"readings")
        self._used = False
        self._done = False

    def __iter__(self) -> Iterator[ReadingsChunk]:
        if self._used:
            raise RuntimeError("the readings of a message are read once")
        self._used = True
        for chunk in self._chunks:
            _hash_chunk(self._hash, chunk)
            yield chunk
        self._done = True

    def digest(self) -> str:
        """The content hash; reads (without keeping) whatever was not read yet."""
        if not self._used:
            for _ in self:
                pass
        elif not self._done:
            for chunk in self._chunks:
                _hash_chunk(self._hash, chunk)
            self._done = True
        return self._hash.hexdigest()


def _hash_chunk(h: Any, chunk: ReadingsChunk) -> None:
    h.update(repr((chunk.meter, chunk.usage_point)).encode())
    for block in chunk.blocks:
        h.update(repr((block.reading_type, block.kind, block.quality_sets)).encode())
        h.update(block.timestamps.tobytes())
        h.update(block.values.tobytes())
        h.update(block.quality.tobytes())
        if block.extras:
            h.update(repr(sorted(block.extras.items())).encode())
    for event in chunk.events:
        h.update(event.model_dump_json(by_alias=True).encode())
    for problem in chunk.problems:
        h.update(repr((problem.path, problem.reason)).encode())


def chunks_of_document(document: MeterReadings) -> Iterator[ReadingsChunk]:
    """The chunks of a typed MeterReadings document (small messages, JSON input)."""
    for index, mr in enumerate(document.meter_reading, start=1):
        path = f"/MeterReadings/MeterReading[{index}]"
        blocks: tuple[ReadingBlock, ...] = ()
        problems: tuple[ItemProblem, ...] = ()
        try:
            blocks = tuple(meter_readings_to_blocks(MeterReadings(meter_reading=(mr,))))
        except ReadingConversionError as exc:
            # the message names MeterReading[1] of the one-reading document: say where it is
            problems = (
                ItemProblem(path, str(exc).replace("/MeterReadings/MeterReading[1]", path)),
            )
        meter = blocks[0].meter if blocks else _ref_of(mr)
        usage_point = blocks[0].usage_point if blocks else None
        yield ReadingsChunk(index, path, meter, usage_point, blocks, mr.end_device_events, problems)


def _ref_of(mr: MeterReading) -> ObjectRef | None:
    if mr.meter is None or not mr.meter.mrid:
        return None
    return ObjectRef(mrid=mr.meter.mrid)


def _chunks_of_reader(
    reader: MeterReadingsReader, first: MeterReadingChunk | None, rest: Iterator[MeterReadingChunk]
) -> Iterator[ReadingsChunk]:
    if first is not None:
        yield _chunk_of(first)
    for chunk in rest:
        yield _chunk_of(chunk)


def _chunk_of(chunk: MeterReadingChunk) -> ReadingsChunk:
    path = f"/MeterReadings/MeterReading[{chunk.index}]"
    problems = tuple(ItemProblem(e.path, e.reason, e.expected, e.line) for e in chunk.errors)
    events: tuple[EndDeviceEvent, ...] = ()
    if chunk.xml is not None:
        events, bad = _events_of_xml(chunk.xml, path)
        problems += bad
    return ReadingsChunk(
        chunk.index, path, chunk.meter, chunk.usage_point, chunk.blocks, events, problems
    )


def _events_of_xml(
    xml: bytes, path: str
) -> tuple[tuple[EndDeviceEvent, ...], tuple[ItemProblem, ...]]:
    """The EndDeviceEvents inside a MeterReading the streaming reader kept as XML (digest 3.1)."""
    element = etree.fromstring(xml, make_parser())
    ns, _ = split_tag(element.tag)
    events: list[EndDeviceEvent] = []
    problems: list[ItemProblem] = []
    for n, child in enumerate(element.iterchildren(f"{{{ns}}}EndDeviceEvents"), start=1):
        where = f"{path}/EndDeviceEvents[{n}]"
        ctx = DecodeContext()
        event = decode(child, EndDeviceEvent, accept=frozenset({ns}), ctx=ctx, path=where)
        for issue in ctx.issues.items:
            if issue.severity == "error":
                problems.append(ItemProblem(issue.path or where, issue.text(), line=issue.line))
        if event is not None:
            events.append(event)
    return tuple(events), tuple(problems)


# -- the inbound message -----------------------------------------------------------------------


@dataclass(slots=True)
class Inbound:
    """A message ready for dispatch (see the module docstring)."""

    kind: MessageKind
    header: Header
    noun: str
    message: Message | None
    """The whole envelope; None on the streaming path (Header and Reply are still here)."""
    document: CimDocument | None = None
    query: CimDocument | None = None
    reply: Reply | None = None
    issues: list[Issue] = field(default_factory=list)
    readings: ReadingsStream | None = None
    _hash: str | None = None

    @property
    def verb(self) -> Verb:
        return self.header.verb

    @property
    def is_response(self) -> bool:
        """A response to one of our requests: a ResponseMessage, or an event with verb `reply`
        (Connexo delivers async Get results through the `Created` operation, digest 4.3)."""
        return self.kind == "ResponseMessage" or self.header.verb is Verb.reply

    def content_hash(self) -> str:
        if self._hash is None:
            if self.readings is not None:
                body = self.readings.digest()
            else:
                body = _model_hash(self.message)
            self._hash = hashlib.sha256(
                f"{self.kind}|{self.verb.value}|{self.noun}|{body}".encode()
            ).hexdigest()
        return self._hash

    def readings_chunks(self) -> ReadingsStream | None:
        """The MeterReading chunks, whichever path the message took (None: not readings)."""
        if self.readings is None and isinstance(self.document, MeterReadings):
            self.readings = ReadingsStream(chunks_of_document(self.document))
        return self.readings


def _model_hash(message: Message | None) -> str:
    h = hashlib.sha256()
    if message is not None:
        for name in ("request", "payload"):
            part = getattr(message, name, None)
            if part is not None:
                h.update(name.encode())
                h.update(part.model_dump_json(by_alias=True).encode())
                document = getattr(part, "document", None) or getattr(part, "query", None)
                if document is not None:
                    h.update(document.model_dump_json(by_alias=True).encode())
    return h.hexdigest()


def from_message(message: Message, issues: list[Issue] | None = None) -> Inbound:
    """An `Inbound` of a parsed message (already read by a transport, or built in code)."""
    if isinstance(message, FaultMessage):
        raise UnprocessableMessage(
            "a FaultMessage has no Header to dispatch on",
            path="/FaultMessage",
            expected="a RequestMessage, ResponseMessage or EventMessage",
        )
    header: Header = getattr(message, "header")  # noqa: B009 - every non-fault kind has one
    document = message.document
    query = message.query if isinstance(message, RequestMessage) else None
    reply = message.reply if isinstance(message, ResponseMessage | EventMessage) else None
    return Inbound(
        kind=message.kind,
        header=header,
        noun=_noun(header, document or query),
        message=message,
        document=document,
        query=query,
        reply=reply,
        issues=list(issues or ()),
    )


def from_read_result(result: ReadResult) -> Inbound:
    if result.message is None:
        raise UnprocessableMessage(
            "a bare profile document has no Header (Verb, Noun) to dispatch on",
            path=f"/{result.document.profile}" if result.document is not None else None,
            expected="a 61968-100 message with a Header",
        )
    return from_message(result.message, result.issues)


def from_bytes(raw: bytes) -> Inbound:
    """Read and classify a message (see the module docstring). Raises `XmlInputError` (or its
    subclass `UnprocessableMessage`) when the input cannot be dispatched: a Fault case."""
    verb, noun = peek_verb_noun(raw)
    entry = REGISTRY.find_noun(noun) if noun else None
    streamed = entry is not None and entry.noun == READINGS_NOUN and verb not in (None, "get")
    # a Reply without a Payload (a peer accepting our asynchronous get, or a FAILED result)
    # has nothing to stream: the typed path reads it
    if streamed and (verb != "reply" or _has_payload(raw)):
        return _from_stream(raw)
    return from_read_result(read_xml(raw, collect=True))


def _has_payload(raw: bytes) -> bool:
    """True when the message has a Payload element (found early: it follows the Header)."""
    for _ in iterparse(raw, events=("start",), tag=("{*}Payload",)):
        return True
    return False


def peek_verb_noun(raw: bytes) -> tuple[str | None, str | None]:
    """Header Verb and Noun, read from the start of the message only."""
    verb: str | None = None
    noun: str | None = None
    events = iterparse(raw, events=("start", "end"), tag=("{*}Verb", "{*}Noun", "{*}Payload"))
    for event, element in events:
        local = split_tag(element.tag)[1]
        if local == "Payload":
            break
        if event == "end":
            if local == "Verb":
                verb = (element.text or "").strip()
            else:
                noun = (element.text or "").strip()
            if verb is not None and noun is not None:
                break
    return verb, noun


def _from_stream(raw: bytes) -> Inbound:
    reader = MeterReadingsReader(raw)
    chunks = reader.meter_readings()
    first = next(chunks, None)  # the Header precedes the Payload: known from here on
    if reader.header is None or reader.header.xml is None:
        raise UnprocessableMessage(
            "MeterReadings without a 61968-100 Header", expected="a message with a Header"
        )
    issues = Issues()
    for text in reader.warnings:
        issues.warning(text)
    header = _decode_part(reader.header.xml, Header, "/Header", issues)
    if header is None:
        raise UnprocessableMessage(
            "the Header cannot be read: " + "; ".join(i.one_line() for i in issues.items),
            path="/Header",
            expected="a Header with Verb and Noun",
        )
    reply = None
    if reader.reply_xml is not None:
        reply = _decode_part(reader.reply_xml, Reply, "/Reply", issues)
    kind = _stream_kind(reader)
    if header.noun != READINGS_NOUN and REGISTRY.find_noun(header.noun) is None:
        issues.warning(f"Header Noun {header.noun!r} does not match the payload MeterReadings")
    return Inbound(
        kind=kind,
        header=header,
        noun=READINGS_NOUN,
        message=None,
        reply=reply,
        issues=issues.items,
        readings=ReadingsStream(_chunks_of_reader(reader, first, chunks)),
    )


def _stream_kind(reader: MeterReadingsReader) -> MessageKind:
    root = reader.root or ""
    if root in MESSAGE_CLASSES:
        kind: MessageKind = root
        return kind
    typed = operation_of(root, READINGS_NOUN)
    if typed is not None:
        return typed[0]
    # the generic `Message` superset: classify by content (digest 6.1)
    if reader.reply_xml is not None:
        return "ResponseMessage"
    return "RequestMessage" if reader.request_xml is not None else "EventMessage"


def _decode_part(xml: bytes, cls: type[Any], path: str, issues: Issues) -> Any:
    element = etree.fromstring(xml, make_parser())
    ns, _ = split_tag(element.tag)
    ctx = DecodeContext(issues=issues)
    accept = frozenset({ns, *ACCEPTED_MESSAGE_NAMESPACES})
    return decode(element, cls, accept=accept, ctx=ctx, path=path)


def _noun(header: Header, document: CimDocument | None) -> str:
    if document is not None:
        return REGISTRY.entry_of(document).noun
    entry = REGISTRY.find_noun(header.noun)
    return entry.noun if entry is not None else header.noun


__all__ = [
    "READINGS_NOUN",
    "Inbound",
    "ItemProblem",
    "ReadingsChunk",
    "ReadingsStream",
    "UnprocessableMessage",
    "chunks_of_document",
    "from_bytes",
    "from_message",
    "from_read_result",
    "peek_verb_noun",
]
