"""The IEC 61968-100 envelope: messages, Header, Request, Reply, Payload (digest 6).

Models follow the 2012 message schema (MSG-2012, digest 6.1-6.5) element by element, in order:
- `Header`: the 15 fields (Verb ... Property) and open content (`xs:any ##other`);
- `Request`: StartTime, EndTime, Option, ID, then the Get query profile (digest fact 1);
- `Reply`: Result, Error, ID, open content, then `operationId` (after the wildcard, 6.4);
- `Error`: code, level, reason, details, xpath (an `xs:QName`: element paths go in `details`,
  DECISIONS.md), stackTrace, Location, ID, relatedID, object (deprecated), operationId;
- `Payload`: a noun document | OperationSet | Compressed (base64 of gzip) | ID, then Format.

Reading (`read_xml`) accepts the generic envelope in any accepted message namespace, the typed
per-noun wrappers (`CreatedMeterReadings`, `GetMeterReadings` in `GetMeterReadingsMessage`),
either inside SOAP 1.1 or 1.2, and a bare profile document. A message is classified by its root
element, never by its verb (DECISIONS.md); a Header Noun that does not match the payload is a
warning (Connexo quirks, digest 2.3). Writing (`write_xml`) gives the generic envelope by
default, typed wrappers and SOAP on request, always in the 2011 namespaces.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any, ClassVar, Literal

from lxml import etree
from pydantic import Field, SerializationInfo, model_serializer, model_validator

from cimmeter.message.registry import REGISTRY, NounEntry
from cimmeter.message.verbs import (
    KIND_OF_VERB,
    VERBS,
    MessageKind,
    Verb,
    operation_of,
    typed_element_name,
)
from cimmeter.model.base import (
    Attribute,
    Choice,
    CimDocument,
    CimEnum,
    CimModel,
    DateTime,
    QName,
    Required,
    Text,
    Wildcard,
)
from cimmeter.xml import soap
from cimmeter.xml.codec import (
    DecodeContext,
    decode,
    decode_document,
    encode_document,
    encode_into,
    split_tag,
)
from cimmeter.xml.errors import XmlInputError, XmlSecurityError
from cimmeter.xml.issues import DocumentError, Issue, Issues, SourceMap
from cimmeter.xml.namespaces import (
    ACCEPTED_MESSAGE_NAMESPACES,
    MESSAGE_NS,
    message_generation,
    wrapper_of,
)
from cimmeter.xml.safe import DEFAULT_LIMITS, XmlLimits, parse_document

# -- models --------------------------------------------------------------------------------------


class ReplayDetection(CimModel):
    xml_name: ClassVar[str | None] = "ReplayDetectionType"

    nonce: str = Field(alias="Nonce")
    created: DateTime = Field(alias="Created")


class User(CimModel):
    xml_name: ClassVar[str | None] = "UserType"

    user_id: str = Field(alias="UserID")
    organization: str | None = Field(None, alias="Organization")


class MessageProperty(CimModel):
    """`Property` of the Header: capitalised `Name`/`Value` (unlike Option, digest 6.2)."""

    name: str = Field(alias="Name")
    value: str | None = Field(None, alias="Value")


class Header(CimModel):
    """HeaderType (digest 6.2): only Verb and Noun are required."""

    xml_name: ClassVar[str | None] = "HeaderType"
    xml_any_after: ClassVar[str | None] = "Property"

    verb: Verb = Field(alias="Verb")
    noun: str = Field(alias="Noun")
    revision: str | None = Field(None, alias="Revision")
    replay_detection: ReplayDetection | None = Field(None, alias="ReplayDetection")
    context: str | None = Field(None, alias="Context")
    timestamp: DateTime | None = Field(None, alias="Timestamp")
    source: str | None = Field(None, alias="Source")
    async_reply_flag: bool | None = Field(None, alias="AsyncReplyFlag")
    reply_address: str | None = Field(None, alias="ReplyAddress")
    ack_required: bool | None = Field(None, alias="AckRequired")
    user: User | None = Field(None, alias="User")
    message_id: str | None = Field(None, alias="MessageID")
    correlation_id: str | None = Field(None, alias="CorrelationID")
    comment: str | None = Field(None, alias="Comment")
    properties: tuple[MessageProperty, ...] = Field((), alias="Property")


class Option(CimModel):
    """Request specialisation: lower-case `name`/`value` (digest 6.3)."""

    xml_name: ClassVar[str | None] = "OptionType"

    name: str
    value: str | None = None


class IDKind(CimEnum):
    name = "name"
    uuid = "uuid"
    transaction = "transaction"
    other = "other"

    @classmethod
    def xsd_name(cls) -> str:
        return "IDKindType"


class ID(CimModel):
    """An identifier with the IDatts attributes (digest 6.3).

    JSON: `{"value": ..., "kind": ...}` (digest 6.10)."""

    xml_inline: ClassVar[bool] = True

    value: Annotated[str | None, Text()] = None
    id_type: Annotated[str | None, Attribute()] = Field(None, alias="idType")
    id_authority: Annotated[str | None, Attribute()] = Field(None, alias="idAuthority")
    kind: Annotated[IDKind | None, Attribute()] = None
    object_type: Annotated[str | None, Attribute()] = Field(None, alias="objectType")


class _HoldsDocument(CimModel):
    """A model with a noun document at a wildcard position.

    In JSON the document appears under its root element name (`{"MeterReadings": {...}}`,
    digest 6.10), as in XML; these hooks do that in both directions."""

    document_field: ClassVar[str] = "document"

    @model_validator(mode="before")
    @classmethod
    def _document_from_key(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = _field_names(cls)
        for key in [k for k in data if k not in known]:
            found = REGISTRY.document_class("", key)
            if found is not None:
                doc_cls, _ = found
                rest = {k: v for k, v in data.items() if k != key}
                return {**rest, cls.document_field: doc_cls.model_validate(data[key])}
        return data

    @model_serializer(mode="wrap")
    def _document_as_key(self, handler: Any, info: SerializationInfo) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        document = getattr(self, self.document_field)
        if document is None:
            return data
        dumped = document.model_dump(
            mode=info.mode,
            by_alias=info.by_alias if info.by_alias is not None else True,
            exclude_defaults=info.exclude_defaults,
            exclude_none=info.exclude_none,
        )
        return {**data, document.profile: dumped}


def _field_names(cls: type[CimModel]) -> frozenset[str]:
    return frozenset(
        name for n, f in cls.model_fields.items() for name in (n, f.alias) if name is not None
    )


class Request(_HoldsDocument):
    """RequestType (digest 6.3): the Get query profile sits AFTER StartTime/EndTime/Option/ID."""

    xml_name: ClassVar[str | None] = "RequestType"
    document_field: ClassVar[str] = "query"

    start_time: DateTime | None = Field(None, alias="StartTime")
    end_time: DateTime | None = Field(None, alias="EndTime")
    options: tuple[Option, ...] = Field((), alias="Option")
    ids: tuple[ID, ...] = Field((), alias="ID")
    query: Annotated[CimDocument | None, Wildcard("lax")] = Field(
        None, alias="#query", exclude=True
    )


class ReplyResult(CimEnum):
    OK = "OK"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"

    @classmethod
    def xsd_name(cls) -> str:
        return "ResultType"


class ErrorLevel(CimEnum):
    INFORM = "INFORM"
    WARNING = "WARNING"
    FATAL = "FATAL"
    CATASTROPHIC = "CATASTROPHIC"

    @classmethod
    def xsd_name(cls) -> str:
        return "LevelType"


class Location(CimModel):
    """Where in an ESB the error arose (digest 6.4)."""

    xml_name: ClassVar[str | None] = "LocationType"

    node: str | None = None
    pipeline: str | None = None
    stage: str | None = None


class MessageNameTypeAuthority(CimModel):
    """The message schema's own NameTypeAuthority: `name` before `description` (MSG-2012)."""

    xml_name: ClassVar[str | None] = "NameTypeAuthority"

    name: Annotated[str | None, Required()] = None
    description: str | None = None


class MessageNameType(CimModel):
    xml_name: ClassVar[str | None] = "NameType"

    name: Annotated[str | None, Required()] = None
    description: str | None = None
    name_type_authority: MessageNameTypeAuthority | None = Field(None, alias="NameTypeAuthority")


class MessageName(CimModel):
    xml_name: ClassVar[str | None] = "Name"

    name: Annotated[str | None, Required()] = None
    name_type: MessageNameType | None = Field(None, alias="NameType")


class ErrorObject(CimModel):
    """`Error/object`: deprecated in MSG-2012 (use Error/ID); read and written as given."""

    xml_name: ClassVar[str | None] = "ObjectType"

    mrid: str | None = Field(None, alias="mRID")
    names: tuple[MessageName, ...] = Field((), alias="Name")
    object_type: str | None = Field(None, alias="objectType")


class Error(CimModel):
    """ErrorType (digest 6.4). `code` is opaque (6.7); `xpath` is a QName, not a path."""

    xml_name: ClassVar[str | None] = "ErrorType"

    code: str
    level: ErrorLevel | None = None
    reason: str | None = None
    details: str | None = None
    xpath: QName | None = None
    stack_trace: str | None = Field(None, alias="stackTrace")
    location: Location | None = Field(None, alias="Location")
    id: ID | None = Field(None, alias="ID")
    related_id: ID | None = Field(None, alias="relatedID")
    object: ErrorObject | None = None
    operation_id: int | None = Field(None, alias="operationId")


class Reply(CimModel):
    """ReplyType (digest 6.4): note `operationId` after the open content."""

    xml_name: ClassVar[str | None] = "ReplyType"
    xml_any_after: ClassVar[str | None] = "ID"

    result: ReplyResult = Field(alias="Result")
    errors: tuple[Error, ...] = Field((), alias="Error")
    ids: tuple[ID, ...] = Field((), alias="ID")
    operation_id: int | None = Field(None, alias="operationId")


class Operation(_HoldsDocument):
    """One operation of an OperationSet (digest 6.5): its noun document after the fields."""

    xml_name: ClassVar[str | None] = "OperationType"

    operation_id: int = Field(alias="operationId")
    noun: str | None = None
    verb: str | None = None
    element_operation: bool | None = Field(None, alias="elementOperation")
    document: Annotated[CimDocument | None, Wildcard("lax")] = Field(
        None, alias="#document", exclude=True
    )


class OperationSet(CimModel):
    """Several operations in one message; send both flags explicitly (digest 6.5)."""

    enforce_msg_sequence: bool | None = Field(None, alias="enforceMsgSequence")
    enforce_transactional_integrity: bool | None = Field(
        None, alias="enforceTransactionalIntegrity"
    )
    operations: tuple[Operation, ...] = Field((), alias="Operation")


_PAYLOAD = Choice("Payload")


class Payload(_HoldsDocument):
    """PayloadType (digest 6.5): one of a noun document, OperationSet, Compressed or IDs."""

    xml_name: ClassVar[str | None] = "PayloadType"

    document: Annotated[CimDocument | None, Wildcard("lax"), _PAYLOAD] = Field(
        None, alias="#document", exclude=True
    )
    operation_set: Annotated[OperationSet | None, _PAYLOAD] = Field(None, alias="OperationSet")
    compressed: Annotated[str | None, _PAYLOAD] = Field(None, alias="Compressed")
    ids: Annotated[tuple[ID, ...], _PAYLOAD] = Field((), alias="ID")
    format: str | None = Field(None, alias="Format")


class Message(CimModel):
    """Base of the four message kinds; `kind` is the root element name."""

    kind: ClassVar[MessageKind]

    @property
    def document(self) -> CimDocument | None:
        """The noun document in Payload (None when compressed: see `decompress_payload`)."""
        payload: Payload | None = getattr(self, "payload", None)
        return payload.document if payload is not None else None


class RequestMessage(Message):
    xml_name: ClassVar[str | None] = "RequestMessageType"
    kind: ClassVar[MessageKind] = "RequestMessage"

    header: Header = Field(alias="Header")
    request: Request | None = Field(None, alias="Request")
    payload: Payload | None = Field(None, alias="Payload")

    @property
    def query(self) -> CimDocument | None:
        """The Get query profile: in Request, or (accepted leniently) in Payload."""
        if self.request is not None and self.request.query is not None:
            return self.request.query
        document = self.document
        return document if document is not None and REGISTRY.is_query(document) else None


class ResponseMessage(Message):
    xml_name: ClassVar[str | None] = "ResponseMessageType"
    kind: ClassVar[MessageKind] = "ResponseMessage"

    header: Header = Field(alias="Header")
    reply: Reply = Field(alias="Reply")
    payload: Payload | None = Field(None, alias="Payload")


class EventMessage(Message):
    """An event. `Reply` is a Connexo variant for results in callbacks (digest 6.1), accepted
    and part of our schema; senders normally leave it out."""

    xml_name: ClassVar[str | None] = "EventMessageType"
    kind: ClassVar[MessageKind] = "EventMessage"

    header: Header = Field(alias="Header")
    reply: Reply | None = Field(None, alias="Reply")
    payload: Payload | None = Field(None, alias="Payload")


class FaultMessage(Message):
    """The incoming message could not be processed at all; no Header (digest 6.1)."""

    xml_name: ClassVar[str | None] = "FaultMessageType"
    kind: ClassVar[MessageKind] = "FaultMessage"

    reply: Reply = Field(alias="Reply")


MESSAGE_CLASSES: dict[MessageKind, type[Message]] = {
    "RequestMessage": RequestMessage,
    "ResponseMessage": ResponseMessage,
    "EventMessage": EventMessage,
    "FaultMessage": FaultMessage,
}
ENVELOPE_CLASSES: tuple[type[CimModel], ...] = (
    RequestMessage,
    ResponseMessage,
    EventMessage,
    FaultMessage,
)

# -- reading -------------------------------------------------------------------------------------

Form = Literal["generic", "typed", "document"]


@dataclass(slots=True)
class ReadResult:
    """What `read_xml` found: a message and/or a noun document, with every finding."""

    message: Message | None
    """The envelope; None for a bare profile document."""
    document: CimDocument | None
    """The noun document: the payload's (decompressed when Compressed), or the bare root."""
    form: Form
    soap: soap.SoapVersion | None = None
    wrapper: str | None = None
    """The typed wrapper element name, when the message came in one."""
    issues: list[Issue] = field(default_factory=list)
    source_map: SourceMap = field(default_factory=SourceMap)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def root(self) -> Message | CimDocument:
        result = self.message if self.message is not None else self.document
        assert result is not None
        return result


class UnknownRootError(XmlInputError):
    """The root element is neither a 61968-100 message, a typed wrapper, nor a known profile."""


def read_xml(
    source: bytes | str | Path | IO[bytes],
    *,
    strict: bool = False,
    collect: bool = False,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> ReadResult:
    """Read a 61968-100 message or a bare profile document, leniently (see module doc).

    `strict` also validates the structure against our XSD files (cimmeter.xml.validation).
    Errors raise `DocumentError` carrying every finding, unless `collect` is set: then the result
    holds what could be read and the errors are in `issues` (one bad item does not sink the
    others, DESIGN.md rule 7). Malformed or hostile XML raises `XmlSyntaxError` /
    `XmlSecurityError` at once."""
    tree = parse_document(source, limits)
    issues = Issues()
    unwrapped = soap.unwrap(tree.getroot())
    for text, line in unwrapped.warnings:
        issues.warning(text, line=line)
    element = unwrapped.element
    if strict:
        from cimmeter.xml.validation import validate_element

        issues.extend(validate_element(element))
    result = _read_element(element, issues, limits)
    result.soap = unwrapped.soap
    result.issues = issues.items
    if issues.has_errors and not collect:
        raise DocumentError(issues.items)
    return result


def _read_element(element: etree._Element, issues: Issues, limits: XmlLimits) -> ReadResult:
    ns, local = split_tag(element.tag)
    ctx = DecodeContext(issues=issues, resolve=REGISTRY.resolver)
    assert ctx.source_map is not None
    generation = message_generation(ns)
    wrapper = wrapper_of(ns)
    wrapper_name: str | None = None
    form: Form = "generic"
    if generation is not None:
        if generation.warning:
            issues.warning(generation.warning, path=f"/{local}", line=element.sourceline)
        kind = _generic_kind(element, local, issues)
    elif wrapper is not None:
        kind, wrapper_name = _typed_kind(element, local, wrapper.noun, wrapper.year, issues)
        soap.typed_to_generic(element, kind)
        form = "typed"
    else:
        found = REGISTRY.document_class(ns, local)
        if found is None:
            raise UnknownRootError(
                f"unknown root element {local} ({ns or 'no namespace'})",
                line=element.sourceline,
                path=f"/{local}",
                expected="a 61968-100 message, a typed wrapper or a known profile document",
            )
        cls, warning = found
        if warning:
            issues.warning(warning, path=f"/{local}", line=element.sourceline)
        document = decode_document(element, cls, ctx)
        return ReadResult(None, document, "document", source_map=ctx.source_map)
    accept = frozenset({split_tag(element.tag)[0], *ACCEPTED_MESSAGE_NAMESPACES})
    message = decode(element, MESSAGE_CLASSES[kind], accept=accept, ctx=ctx, path=f"/{local}")
    document = None
    if message is not None:
        _check_message(message, issues, ctx.source_map)
        document = message.document
        payload = getattr(message, "payload", None)
        if document is None and payload is not None and payload.compressed is not None:
            document = _decompress_for_read(payload, issues, limits, f"/{local}/Payload")
    result = ReadResult(message, document, form, wrapper=wrapper_name, source_map=ctx.source_map)
    return result


def _generic_kind(element: etree._Element, local: str, issues: Issues) -> MessageKind:
    if local in MESSAGE_CLASSES:
        return local
    if local == "Message":
        # The schema's generic superset (digest 6.1); classifying it by content is ours (M).
        children = {split_tag(c.tag)[1] for c in element if isinstance(c.tag, str)}
        kind: MessageKind = (
            "ResponseMessage"
            if "Reply" in children
            else "RequestMessage"
            if "Request" in children
            else "EventMessage"
        )
        issues.warning(
            f"generic Message root read as {kind}", path="/Message", line=element.sourceline
        )
        return kind
    raise UnknownRootError(
        f"unknown message element {local}",
        line=element.sourceline,
        path=f"/{local}",
        expected="RequestMessage, ResponseMessage, EventMessage or FaultMessage",
    )


def _typed_kind(
    element: etree._Element, local: str, noun: str, year: str, issues: Issues
) -> tuple[MessageKind, str]:
    entry = REGISTRY.find_noun(noun)
    names = entry.names() if entry else (noun,)
    for name in names:
        found = operation_of(local, name)
        if found is not None:
            break
    else:
        raise UnknownRootError(
            f"unknown typed operation {local} for noun {noun}",
            line=element.sourceline,
            path=f"/{local}",
            expected=f"Create{noun}, Created{noun}, Get{noun}, {noun}ResponseMessage, ...",
        )
    if year != "2011":
        issues.warning(
            f"{year} wrapper namespace read as 2011 (digest 6.11)",
            path=f"/{local}",
            line=element.sourceline,
        )
    return found[0], local


def _check_message(message: Message, issues: Issues, source_map: SourceMap) -> None:
    """Envelope-level warnings: Header Noun vs payload, verb vs message kind, query placement."""
    header: Header | None = getattr(message, "header", None)
    root = f"/{message.kind}"
    if header is None:
        return
    line = source_map.line_of(header, "noun")
    expected_kind = KIND_OF_VERB[VERBS[header.verb].kind]
    if expected_kind != message.kind and message.kind != "ResponseMessage":
        issues.warning(
            f"verb {header.verb.value!r} in a {message.kind}",
            path=f"{root}/Header/Verb",
            line=source_map.line_of(header, "verb"),
            expected=f"a verb for a {message.kind}",
        )
    documents = [message.document]
    if isinstance(message, RequestMessage) and message.request is not None:
        documents.append(message.request.query)
    for document in documents:
        if document is None:
            continue
        entry = REGISTRY.entry_of(document)
        if header.noun not in entry.names() and header.noun != document.profile:
            issues.warning(
                f"Header Noun {header.noun!r} does not match the payload {document.profile}",
                path=f"{root}/Header/Noun",
                line=line,
                expected=entry.noun,
            )
    in_payload = message.document
    if isinstance(message, RequestMessage) and in_payload and REGISTRY.is_query(in_payload):
        issues.warning(
            f"the query {in_payload.profile} is in Payload; read as the query",
            path=f"{root}/Payload/{in_payload.profile}",
            line=source_map.line_of(in_payload),
            expected="the query profile in Request, after StartTime/EndTime/Option/ID",
        )


# -- compressed payloads -------------------------------------------------------------------------


class CompressedPayloadError(XmlInputError):
    """A Compressed payload that is not base64 of gzip of an XML document."""


def compress_document(document: CimDocument) -> str:
    """A noun document as `Compressed` text: base64 of its gzip-compressed XML (digest 6.5, M
    on base64). Send `Format` = "XML" with it."""
    # digest 6.5 (M): base64 of gzip (the 2011 wording said "uuencoded").
    xml = etree.tostring(encode_document(document), xml_declaration=True, encoding="UTF-8")
    return base64.b64encode(gzip.compress(xml, mtime=0)).decode("ascii")


def decompress_payload(payload: Payload, limits: XmlLimits = DEFAULT_LIMITS) -> ReadResult:
    """Read the document of a Compressed payload; the size after gunzip is bounded (no bombs)."""
    if payload.compressed is None:
        raise CompressedPayloadError("the payload is not compressed")
    try:
        raw = base64.b64decode(payload.compressed, validate=True)
    except ValueError as exc:
        raise CompressedPayloadError(
            f"Compressed is not base64: {exc}", expected="base64 of gzip"
        ) from None
    try:
        inflater = zlib.decompressobj(wbits=31)
        data = inflater.decompress(raw, limits.max_bytes + 1)
    except zlib.error as exc:
        raise CompressedPayloadError(
            f"Compressed is not gzip: {exc}", expected="base64 of gzip"
        ) from None
    if len(data) > limits.max_bytes or inflater.unconsumed_tail:
        raise XmlSecurityError(
            f"Compressed payload expands beyond {limits.max_bytes} bytes",
            expected=f"at most {limits.max_bytes} bytes after gunzip",
        )
    return read_xml(data, limits=limits, collect=True)


def _decompress_for_read(
    payload: Payload, issues: Issues, limits: XmlLimits, path: str
) -> CimDocument | None:
    try:
        inner = decompress_payload(payload, limits)
    except XmlInputError as exc:
        issues.error(exc.reason, path=f"{path}/Compressed", line=exc.line, expected=exc.expected)
        return None
    for issue in inner.issues:
        issues.items.append(
            Issue(
                issue.severity,
                issue.message,
                f"{path}/Compressed:{issue.path or ''}",
                issue.line,
                issue.expected,
            )
        )
    if inner.message is not None:
        issues.warning("Compressed holds a whole message, not a noun document", path=path)
    return inner.document


# -- writing -------------------------------------------------------------------------------------

WriteForm = Literal["generic", "typed"]


def to_element(
    obj: Message | CimDocument,
    *,
    form: WriteForm = "generic",
    noun: str | None = None,
    get_namespace: bool = False,
) -> etree._Element:
    """The XML element of a message or a bare document (2011 namespaces, schema order).

    `form="typed"` writes the per-noun wrapper (digest 2.1.3); its noun comes from the payload
    document, else the Header Noun, else `noun` (a FaultMessage has no Header).
    `get_namespace` puts a typed response or fault in `Get<Noun>Message` (the answer of a Get
    operation) instead of `<Noun>Message`."""
    if isinstance(obj, CimDocument):
        return encode_document(obj)
    if form == "generic":
        root = etree.Element(f"{{{MESSAGE_NS}}}{obj.kind}", nsmap={None: MESSAGE_NS})
        encode_into(root, obj, MESSAGE_NS)
        return root
    entry = _entry_for(obj, noun)
    header: Header | None = getattr(obj, "header", None)
    verb = header.verb if header is not None else None
    is_get = obj.kind == "RequestMessage" and verb == Verb.get
    use_get_ns = is_get or (get_namespace and obj.kind in ("ResponseMessage", "FaultMessage"))
    if obj.kind == "EventMessage" and verb is not None and VERBS[verb].kind != "event":
        raise ValueError(f"no typed wrapper for an EventMessage with verb {verb.value!r}")
    if obj.kind == "RequestMessage" and verb is not None and VERBS[verb].kind != "request":
        raise ValueError(f"no typed wrapper for a RequestMessage with verb {verb.value!r}")
    name = typed_element_name(obj.kind, verb, entry.noun)
    namespace = entry.get_wrapper_namespace if use_get_ns else entry.wrapper_namespace
    root = etree.Element(f"{{{MESSAGE_NS}}}{obj.kind}", nsmap=soap.typed_nsmap(namespace))
    encode_into(root, obj, MESSAGE_NS)
    soap.generic_to_typed(root, name, namespace, get=is_get)
    return root


def _entry_for(message: Message, noun: str | None) -> NounEntry:
    document = message.document
    if document is not None:
        return REGISTRY.entry_of(document)
    if isinstance(message, RequestMessage) and message.request and message.request.query:
        return REGISTRY.entry_of(message.request.query)
    header: Header | None = getattr(message, "header", None)
    header_noun = header.noun if header is not None else None
    if header_noun is not None and REGISTRY.find_noun(header_noun) is not None:
        return REGISTRY.noun(header_noun)  # the Header Noun before `noun` (see to_element)
    name = noun or header_noun
    if name is None:
        raise ValueError("a typed wrapper needs a noun: pass noun=... for a FaultMessage")
    return REGISTRY.noun(name)


def write_xml(
    obj: Message | CimDocument,
    *,
    form: WriteForm = "generic",
    soap_version: soap.SoapVersion | None = None,
    noun: str | None = None,
    get_namespace: bool = False,
    pretty: bool = True,
) -> bytes:
    """Serialize a message or document as UTF-8 XML with a declaration (see `to_element`)."""
    element = to_element(obj, form=form, noun=noun, get_namespace=get_namespace)
    if soap_version is not None:
        element = soap.wrap(element, soap_version)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=pretty)


__all__ = [
    "ENVELOPE_CLASSES",
    "ID",
    "MESSAGE_CLASSES",
    "CompressedPayloadError",
    "DocumentError",
    "Error",
    "ErrorLevel",
    "ErrorObject",
    "EventMessage",
    "FaultMessage",
    "Header",
    "IDKind",
    "Location",
    "Message",
    "MessageName",
    "MessageNameType",
    "MessageNameTypeAuthority",
    "MessageProperty",
    "Operation",
    "OperationSet",
    "Option",
    "Payload",
    "ReadResult",
    "ReplayDetection",
    "Reply",
    "ReplyResult",
    "Request",
    "RequestMessage",
    "ResponseMessage",
    "UnknownRootError",
    "User",
    "compress_document",
    "decompress_payload",
    "read_xml",
    "to_element",
    "write_xml",
]
