"""What a transport needs from the service, and how it writes the answer back.

The transports know the service only through `MessageHandler`: a synchronous callable taking
an `Inbound` (the received bytes, checked envelope, how they came) and returning the answer,
a 61968-100 `ResponseMessage` (or a `FaultMessage` when the handler found the message unusable
past its Header, e.g. XML broken half-way). It returns only after everything the message
carries is committed (DESIGN.md rule 1), so a transport may acknowledge once it returns.
Handlers are synchronous because the core and the store are (DECISIONS.md); the async
transports call them in worker threads. `cimmeter.runtime` adapts `service.handle` to this.

`render` turns the answer into bytes in the form the request came in: the same SOAP version,
the typed wrapper for a typed request (`MeterReadingsResponseMessage` in `Get...Message` for a
Get, digest 6.9), the generic envelope otherwise, or the JSON form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeGuard, cast

from lxml import etree

from cimmeter.message.envelope import (
    Error,
    ErrorLevel,
    FaultMessage,
    Message,
    Reply,
    ReplyResult,
    to_element,
)
from cimmeter.message.json import dumps
from cimmeter.message.registry import REGISTRY
from cimmeter.transport.inbound import Envelope, EnvelopeError, FaultReason, Inbound, Syntax
from cimmeter.xml.namespaces import SOAP11_NS, SOAP12_NS
from cimmeter.xml.safe import make_parser
from cimmeter.xml.soap import SOAP_CONTENT_TYPES, SoapVersion, wrap


class Prewritten(Protocol):
    """An answer whose generic 61968-100 XML is already written (the service core writes a
    reply with readings straight from the columns). `message` builds the model, which only the
    JSON form and the typed SOAP wrappers need; `bare` is the model without its Payload."""

    @property
    def generic_xml(self) -> bytes: ...

    @property
    def message(self) -> Message: ...

    @property
    def bare(self) -> Message: ...


Answer = Message | Prewritten
"""What a `MessageHandler` returns."""


def message_of(answer: Answer) -> Message:
    """The answer as a model (built now for a `Prewritten` one)."""
    return answer.message if _is_prewritten(answer) else cast(Message, answer)


def bare_of(answer: Answer) -> Message:
    """The answer's Header and Reply without building a prewritten Payload."""
    return answer.bare if _is_prewritten(answer) else cast(Message, answer)


def _is_prewritten(answer: object) -> TypeGuard[Prewritten]:
    return hasattr(answer, "generic_xml")


class MessageHandler(Protocol):
    """Answers one message; returns after what it carries is committed (module doc)."""

    def __call__(self, inbound: Inbound) -> Answer: ...


HandlerFactory = Callable[[], MessageHandler]

# Error codes of the faults a transport raises itself. digest 6.7 (M): the standard's table is
# unverified; 1.x is "message/envelope problems", 4.x is read as security. Data, one line each.
FAULT_CODES: dict[FaultReason, str] = {
    FaultReason.MALFORMED: "1.1",
    FaultReason.MISSING_HEADER: "1.2",
    FaultReason.UNKNOWN_OPERATION: "1.3",
    FaultReason.UNAUTHENTICATED: "4.1",
}
# What a peer sees as the HTTP status of each fault (REST; SOAP 1.1 always answers 500).
FAULT_HTTP_STATUS: dict[FaultReason, int] = {
    FaultReason.MALFORMED: 400,
    FaultReason.MISSING_HEADER: 400,
    FaultReason.UNKNOWN_OPERATION: 400,
    FaultReason.UNAUTHENTICATED: 401,
}

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"


def fault_message(error: EnvelopeError) -> FaultMessage:
    """The 61968-100 FaultMessage for a refused message: Result FAILED, one FATAL Error."""
    return FaultMessage(
        reply=Reply(
            result=ReplyResult.FAILED,
            errors=(
                Error(
                    code=FAULT_CODES[error.fault],
                    level=ErrorLevel.FATAL,
                    reason=error.reason,
                    details=error.one_line(),
                ),
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    content_type: str


def render(
    answer: Answer,
    syntax: Syntax,
    *,
    envelope: Envelope | None = None,
    soap: SoapVersion | None = None,
    pretty: bool = False,
) -> Rendered:
    """The answer as bytes in the request's form (see the module doc)."""
    if _is_prewritten(answer):
        generic = syntax == "xml" and (envelope is None or envelope.wrapper is None)
        if generic and soap is None and not pretty:
            return Rendered(answer.generic_xml, XML_CONTENT_TYPE)
        if generic and soap is not None and not pretty:
            # lxml parses the written bytes far faster than the model writes them again
            element = etree.fromstring(answer.generic_xml, make_parser())
            body = etree.tostring(wrap(element, soap), xml_declaration=True, encoding="UTF-8")
            return Rendered(body, SOAP_CONTENT_TYPES[soap])
    answer = message_of(answer)
    if syntax == "json":
        return Rendered(dumps(answer, indent=2 if pretty else None).encode(), JSON_CONTENT_TYPE)
    element = _element(answer, envelope)
    if soap is None:
        body = etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=pretty)
        return Rendered(body, XML_CONTENT_TYPE)
    if isinstance(answer, FaultMessage):
        envelope_el = soap_fault(element, soap, _fault_text(answer))
    else:
        envelope_el = wrap(element, soap)
    body = etree.tostring(envelope_el, xml_declaration=True, encoding="UTF-8", pretty_print=pretty)
    return Rendered(body, SOAP_CONTENT_TYPES[soap])


def _element(answer: Message, envelope: Envelope | None) -> etree._Element:
    if envelope is None or envelope.wrapper is None:
        return to_element(answer)
    noun = envelope.noun if REGISTRY.find_noun(envelope.noun or "") else None
    try:
        return to_element(answer, form="typed", noun=noun, get_namespace=envelope.is_get)
    except (ValueError, KeyError):
        # A reply about a noun we do not hold has no typed wrapper: the generic envelope.
        return to_element(answer)


def _fault_text(answer: FaultMessage) -> str:
    errors = answer.reply.errors
    return (errors[0].reason or errors[0].code) if errors else "the message was refused"


def soap_fault(
    detail: etree._Element | None, soap: SoapVersion, text: str, *, sender: bool = True
) -> etree._Element:
    """A SOAP Fault envelope whose detail holds the 61968-100 FaultMessage (digest 6.9).

    `sender` False: the fault is ours (a server error), not the request's."""
    if soap == "1.1":
        ns = SOAP11_NS
        envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
        body = etree.SubElement(envelope, f"{{{ns}}}Body")
        fault = etree.SubElement(body, f"{{{ns}}}Fault")
        etree.SubElement(fault, "faultcode").text = "soap:Client" if sender else "soap:Server"
        etree.SubElement(fault, "faultstring").text = text
        if detail is not None:
            etree.SubElement(fault, "detail").append(detail)
        return envelope
    ns = SOAP12_NS
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(envelope, f"{{{ns}}}Body")
    fault = etree.SubElement(body, f"{{{ns}}}Fault")
    code = etree.SubElement(fault, f"{{{ns}}}Code")
    etree.SubElement(code, f"{{{ns}}}Value").text = "soap:Sender" if sender else "soap:Receiver"
    reason = etree.SubElement(fault, f"{{{ns}}}Reason")
    reason_text = etree.SubElement(reason, f"{{{ns}}}Text")
    reason_text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    reason_text.text = text
    if detail is not None:
        etree.SubElement(fault, f"{{{ns}}}Detail").append(detail)
    return envelope


def render_fault(
    error: EnvelopeError, syntax: Syntax, *, soap: SoapVersion | None = None
) -> Rendered:
    """A refused message's FaultMessage, as a SOAP Fault, bare XML or JSON."""
    fault = fault_message(error)
    envelope = None
    if error.noun and REGISTRY.find_noun(error.noun):
        envelope = Envelope("FaultMessage", noun=error.noun, wrapper=f"{error.noun}FaultMessage")
    return render(fault, syntax, envelope=envelope, soap=soap)


def result_of(answer: Answer) -> str:
    """`OK`, `PARTIAL` or `FAILED`: the Result of a reply or fault (for logs and exit codes)."""
    reply: Reply | None = getattr(bare_of(answer), "reply", None)
    return reply.result.value if reply is not None else "OK"


__all__ = [
    "FAULT_CODES",
    "FAULT_HTTP_STATUS",
    "JSON_CONTENT_TYPE",
    "XML_CONTENT_TYPE",
    "Answer",
    "HandlerFactory",
    "MessageHandler",
    "Prewritten",
    "Rendered",
    "bare_of",
    "fault_message",
    "message_of",
    "render",
    "render_fault",
    "result_of",
    "soap_fault",
]
