"""A message as a transport received it: its bytes, what its envelope says, how it came.

A transport turns bytes into messages and back; it holds no rules of the standard (DESIGN.md).
What it does decide is whether the bytes are a 61968-100 message at all, because that is what
separates a SOAP Fault from a Reply (DECISIONS.md): XML that is not well-formed, a missing
Header/Verb/Noun or an unknown operation is refused here with an `EnvelopeError`; everything
that gets past this check goes to the handler, which answers with a Reply.

The check reads only the head of an XML document (up to the end of the Header) with a pull
parser, so a 10 MB MeterReadings message is not parsed twice: the handler parses it in full,
on the columnar path when it wants to (`Inbound.body`), or as typed models (`Inbound.parse`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from lxml import etree

from cimmeter.message.envelope import MESSAGE_CLASSES, Message, ReadResult, read_xml
from cimmeter.message.json import KIND_KEY, JsonInputError, from_json
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import KIND_OF_VERB, VERBS, MessageKind, Verb, operation_of
from cimmeter.xml.codec import split_tag
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.namespaces import SOAP11_NS, SOAP12_NS, message_generation, wrapper_of
from cimmeter.xml.safe import DEFAULT_LIMITS, XmlLimits
from cimmeter.xml.soap import SoapVersion

Syntax = Literal["xml", "json"]
Via = Literal["soap", "http", "amqp", "local"]


class Role(StrEnum):
    """Which system answers: the MDM, or the head-end (`serve --role both` runs the two)."""

    MDM = "mdm"
    HEADEND = "headend"


class FaultReason(StrEnum):
    """The only reasons for a SOAP Fault instead of a Reply (DECISIONS.md)."""

    MALFORMED = "malformed"
    """Not well-formed XML or JSON, refused as hostile, or not a message at all."""
    MISSING_HEADER = "missing-header"
    """No Header, or a Header without Verb or Noun."""
    UNKNOWN_OPERATION = "unknown-operation"
    """A body root that is no 61968-100 message nor a typed operation of a known noun."""
    UNAUTHENTICATED = "unauthenticated"
    """No or a wrong bearer token."""


class EnvelopeError(XmlInputError):
    """Bytes that are not a 61968-100 message the handler could answer: a SOAP Fault."""

    def __init__(
        self,
        fault: FaultReason,
        reason: str,
        *,
        noun: str | None = None,
        soap: SoapVersion | None = None,
        line: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.fault = fault
        self.noun = noun
        """The noun, when known, so that the fault can use `<Noun>FaultMessage`."""
        self.soap = soap
        super().__init__(reason, line=line, expected=expected)


_SOAP_VERSIONS: dict[str, SoapVersion] = {SOAP11_NS: "1.1", SOAP12_NS: "1.2"}
# The Header fields a transport uses for routing, logging and AMQP properties (digest 6.2).
_HEADER_FIELDS = {
    "Verb": "verb",
    "Noun": "noun",
    "Source": "source",
    "AsyncReplyFlag": "async_reply",
    "ReplyAddress": "reply_address",
    "MessageID": "message_id",
    "CorrelationID": "correlation_id",
}


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the head of a message says: kind, Header fields, and how it was wrapped."""

    kind: MessageKind
    verb: str | None = None
    noun: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    source: str | None = None
    reply_address: str | None = None
    async_reply: bool = False
    soap: SoapVersion | None = None
    wrapper: str | None = None
    """The typed wrapper element (`CreatedMeterReadings`), None for the generic envelope."""

    @property
    def is_get(self) -> bool:
        return self.kind == "RequestMessage" and self.verb == "get"


@dataclass(slots=True)
class Inbound:
    """One received message, handed to a `MessageHandler` (see `cimmeter.transport.handler`)."""

    body: bytes
    """The message as received (XML possibly in a SOAP envelope, or JSON)."""
    syntax: Syntax
    envelope: Envelope
    role: Role = Role.MDM
    via: Via = "local"
    endpoint: str | None = None
    """The SOAP service it was posted to (`ReplyMeterReadings`: the endpoint, not the action,
    tells an async reply from an event, digest 6.9), or the AMQP queue it came from."""
    transport_reply_to: str | None = None
    """The AMQP `reply_to` of the delivery, when there was one."""
    limits: XmlLimits = DEFAULT_LIMITS
    _parsed: ReadResult | None = field(default=None, repr=False)
    _json: Any = field(default=None, repr=False)

    def parse(self) -> ReadResult:
        """The whole message as typed models (cached). Raises `XmlInputError` subclasses
        (`DocumentError` with every finding, `XmlSyntaxError` for XML broken past the Header)."""
        if self._parsed is None:
            if self.syntax == "xml":
                self._parsed = read_xml(self.body, collect=True, limits=self.limits)
            else:
                data = self._json if self._json is not None else json.loads(self.body)
                message = from_json(data)
                if not isinstance(message, Message):
                    raise JsonInputError(
                        f"a bare {message.profile} document is not a message",
                        path="/",
                        expected="a message object with messageKind and Header",
                    )
                self._parsed = ReadResult(message, message.document, "generic")
        return self._parsed


# -- XML ------------------------------------------------------------------------------------------

_CHUNK = 1 << 16


def _pull_parser() -> etree.XMLPullParser:
    # The same safety options as cimmeter.xml.safe: no DTD, no entities, no network.
    return etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def sniff_xml(body: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> Envelope:
    """Read the head of an XML message up to the end of its Header (see the module doc)."""
    if len(body) > limits.max_bytes:
        raise EnvelopeError(
            FaultReason.MALFORMED,
            f"message of {len(body)} bytes is larger than {limits.max_bytes} bytes",
        )
    parser = _pull_parser()
    state = _XmlSniff(limits)
    try:
        for offset in range(0, max(len(body), 1), _CHUNK):
            parser.feed(body[offset : offset + _CHUNK])
            for event, element in parser.read_events():
                found = state.event(event, element)
                if found is not None:
                    return found
        parser.close()
        for event, element in parser.read_events():
            found = state.event(event, element)
            if found is not None:
                return found
    except etree.XMLSyntaxError as exc:
        # The events before the error still count: a Header read in full is enough here, and
        # the handler's full read reports what is broken after it.
        for event, element in parser.read_events():
            found = state.event(event, element)
            if found is not None:
                return found
        line = exc.position[0] if exc.position else exc.lineno
        raise EnvelopeError(
            FaultReason.MALFORMED,
            f"not well-formed XML: {(exc.msg or str(exc)).strip()}",
            line=line,
            soap=state.soap,
        ) from None
    return state.finish()


class _XmlSniff:
    """A small state machine over pull-parser events: SOAP Envelope/Body, message root, Header."""

    def __init__(self, limits: XmlLimits) -> None:
        self.limits = limits
        self.depth = 0
        self.soap: SoapVersion | None = None
        self.message_depth: int | None = None
        self.kind: MessageKind | None = None
        self.wrapper: str | None = None
        self.noun_hint: str | None = None
        self.header: etree._Element | None = None

    def event(self, event: str, element: etree._Element) -> Envelope | None:
        if event == "end":
            self.depth -= 1
            if element is self.header:
                return self._envelope(element)
            if self.message_depth is not None and self.depth < self.message_depth:
                return self.finish()  # the message ended without a Header
            return None
        self.depth += 1
        if self.depth == 1:
            self._check_doctype(element)
        if self.depth > self.limits.max_depth:
            raise EnvelopeError(
                FaultReason.MALFORMED,
                f"element nesting deeper than {self.limits.max_depth} levels",
                line=element.sourceline,
            )
        ns, local = split_tag(element.tag)
        if self.message_depth is None:
            self._start_outer(element, ns, local)
        elif self.depth == self.message_depth + 1 and local == "Header" and self.header is None:
            self.header = element
        return None

    def _check_doctype(self, element: etree._Element) -> None:
        info = element.getroottree().docinfo
        if info.doctype or info.internalDTD is not None:
            raise EnvelopeError(
                FaultReason.MALFORMED,
                "a DOCTYPE (DTD) is not allowed: it can declare entities (XXE, entity expansion)",
                line=1,
            )

    def _start_outer(self, element: etree._Element, ns: str, local: str) -> None:
        if self.depth == 1 and ns in _SOAP_VERSIONS and local == "Envelope":
            self.soap = _SOAP_VERSIONS[ns]
            return
        if self.soap is not None:
            if self.depth == 2:
                return  # soap:Header or soap:Body
            if self.depth == 3 and element.getparent() is not None:
                parent = element.getparent()
                assert parent is not None
                if split_tag(parent.tag)[1] != "Body":
                    return
                if local == "Fault" and ns in _SOAP_VERSIONS:
                    raise EnvelopeError(
                        FaultReason.UNKNOWN_OPERATION,
                        "the SOAP Body holds a Fault, not a request",
                        soap=self.soap,
                        line=element.sourceline,
                    )
            else:
                return
        self._classify(element, ns, local)
        self.message_depth = self.depth

    def _classify(self, element: etree._Element, ns: str, local: str) -> None:
        generation = message_generation(ns)
        if generation is not None:
            if local in MESSAGE_CLASSES:
                self.kind = local
                return
            if local == "Message":
                self.kind = "RequestMessage"  # refined by the handler's full read
                return
            raise EnvelopeError(
                FaultReason.UNKNOWN_OPERATION,
                f"unknown message element {local}",
                soap=self.soap,
                line=element.sourceline,
                expected="RequestMessage, ResponseMessage, EventMessage or FaultMessage",
            )
        wrapper = wrapper_of(ns)
        entry = REGISTRY.find_noun(wrapper.noun) if wrapper is not None else None
        if wrapper is None or entry is None:
            known = ", ".join(e.noun for e in REGISTRY)
            raise EnvelopeError(
                FaultReason.UNKNOWN_OPERATION,
                f"unknown operation {local} ({ns or 'no namespace'})",
                soap=self.soap,
                line=element.sourceline,
                expected=f"a 61968-100 message or a typed operation of {known}",
            )
        for name in entry.names():
            found = operation_of(local, name)
            if found is not None:
                self.kind, self.wrapper, self.noun_hint = found[0], local, entry.noun
                return
        raise EnvelopeError(
            FaultReason.UNKNOWN_OPERATION,
            f"unknown operation {local} for noun {entry.noun}",
            noun=entry.noun,
            soap=self.soap,
            line=element.sourceline,
            expected=f"Create{entry.noun}, Created{entry.noun}, Get{entry.noun}, ...",
        )

    def _envelope(self, header: etree._Element) -> Envelope:
        values: dict[str, Any] = {}
        for child in header:
            if not isinstance(child.tag, str):
                continue
            name = _HEADER_FIELDS.get(split_tag(child.tag)[1])
            if name is not None:
                values[name] = child.text or None  # as given: an ID is not trimmed
        assert self.kind is not None
        if self.kind != "FaultMessage" and not (_given(values, "verb") and _given(values, "noun")):
            missing = " and ".join(k for k in ("Verb", "Noun") if not _given(values, k.lower()))
            raise EnvelopeError(
                FaultReason.MISSING_HEADER,
                f"the Header has no {missing}",
                noun=values.get("noun") or self.noun_hint,
                soap=self.soap,
                line=header.sourceline,
                expected="Header/Verb and Header/Noun (digest 6.2)",
            )
        values["async_reply"] = (values.get("async_reply") or "").strip() in ("true", "1")
        return Envelope(self.kind, soap=self.soap, wrapper=self.wrapper, **values)

    def finish(self) -> Envelope:
        if self.kind is None:
            raise EnvelopeError(
                FaultReason.MALFORMED,
                "no 61968-100 message found" + (" in the SOAP Body" if self.soap else ""),
                soap=self.soap,
                expected="a RequestMessage, EventMessage, ... or a typed operation",
            )
        if self.kind == "FaultMessage":
            return Envelope("FaultMessage", soap=self.soap, wrapper=self.wrapper)
        raise EnvelopeError(
            FaultReason.MISSING_HEADER,
            f"the {self.wrapper or self.kind} has no Header",
            noun=self.noun_hint,
            soap=self.soap,
            expected="a Header with Verb and Noun (digest 6.2)",
        )


def _given(values: dict[str, Any], name: str) -> bool:
    value = values.get(name)
    return isinstance(value, str) and bool(value.strip())


# -- JSON -----------------------------------------------------------------------------------------


def sniff_json(body: bytes) -> tuple[Envelope, Any]:
    """The envelope of a message in the JSON form (digest 6.10), and the decoded JSON."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EnvelopeError(FaultReason.MALFORMED, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EnvelopeError(
            FaultReason.MALFORMED,
            f"expected a JSON object, got {type(data).__name__}",
            expected="a message object with messageKind, Header, ...",
        )
    kind = data.get(KIND_KEY)
    if kind is not None and kind not in MESSAGE_CLASSES:
        raise EnvelopeError(
            FaultReason.UNKNOWN_OPERATION,
            f"unknown messageKind {kind!r}",
            expected=", ".join(MESSAGE_CLASSES),
        )
    header = data.get("Header")
    if kind == "FaultMessage" or (kind is None and header is None and "Reply" in data):
        return Envelope("FaultMessage"), data
    if not isinstance(header, dict):
        raise EnvelopeError(
            FaultReason.MISSING_HEADER,
            "the message has no Header" if header is None else "Header is not an object",
            expected="a Header object with Verb and Noun (digest 6.2)",
        )
    values = {
        name: header.get(key) or None if isinstance(header.get(key), str) else None
        for key, name in _HEADER_FIELDS.items()
        if key != "AsyncReplyFlag"
    }
    if not (_given(values, "verb") and _given(values, "noun")):
        missing = " and ".join(k for k in ("Verb", "Noun") if not _given(values, k.lower()))
        raise EnvelopeError(
            FaultReason.MISSING_HEADER,
            f"the Header has no {missing}",
            noun=values["noun"],
            expected="Header/Verb and Header/Noun (digest 6.2)",
        )
    if kind is None:
        kind = _json_kind(data, values["verb"])
    return Envelope(kind, async_reply=header.get("AsyncReplyFlag") is True, **values), data


def _json_kind(data: dict[str, Any], verb: str | None) -> MessageKind:
    """JSON without `messageKind`: by its parts, else by the kind its verb is sent in (6.6)."""
    if "Reply" in data:
        return "ResponseMessage"
    if "Request" in data:
        return "RequestMessage"
    if verb is not None and verb in Verb.__members__:
        return KIND_OF_VERB[VERBS[Verb(verb)].kind]
    return "RequestMessage"


def receive(
    body: bytes,
    syntax: Syntax,
    *,
    role: Role = Role.MDM,
    via: Via = "local",
    endpoint: str | None = None,
    transport_reply_to: str | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> Inbound:
    """Check the envelope of received bytes and make the `Inbound` a handler takes.

    Raises `EnvelopeError` for what must be answered with a SOAP Fault (DECISIONS.md)."""
    if syntax == "xml":
        envelope, data = sniff_xml(body, limits), None
    else:
        envelope, data = sniff_json(body)
    return Inbound(
        body,
        syntax,
        envelope,
        role=role,
        via=via,
        endpoint=endpoint,
        transport_reply_to=transport_reply_to,
        limits=limits,
        _json=data,
    )


__all__ = [
    "Envelope",
    "EnvelopeError",
    "FaultReason",
    "Inbound",
    "Role",
    "Syntax",
    "Via",
    "receive",
    "sniff_json",
    "sniff_xml",
]
