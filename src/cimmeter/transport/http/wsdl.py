"""Our WSDL files, generated from one table: registered nouns x the six service patterns.

Nothing here is written per noun (DECISIONS.md). Each service follows the 61968-100 templates
(digest 6.9): WSDL 1.1, document/literal, one part per message naming a global wrapper element
of `<Noun>Message.xsd` (or `Get<Noun>Message.xsd`), output `<Noun>ResponseMessage`, fault
`<Noun>FaultMessage`; names `{Op}RequestMessage` / `{Op}EventMessage`, `ResponseMessage`,
`FaultMessage`; portType and binding `<Noun>_Port` / `<Noun>_Binding` (`Get<Noun>_...` for Get);
target namespace `http://iec.ch/TC57/2011/<Service>`; SOAP action
`http://iec.ch/TC57/2011/<Noun>/<Op>`, and `http://iec.ch/TC57/2011/Get<Noun>/Get<Noun>` for Get
(DECISIONS.md). The SOAP 1.1 binding is the standard's; the SOAP 1.2 binding
(`<Noun>_Binding_Soap12`, port `<Noun>_Port_Soap12`) is ours, an extension, and says so.

The schemas are imported as `xsd/<File>.xsd` relative to the service URL (the layout vendors
use), and served by the app from our own XSD files (`cimmeter.xml.xsd`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from lxml import etree

from cimmeter.message.registry import REGISTRY, NounEntry, Registry
from cimmeter.message.verbs import (
    TYPED_EVENT_OPERATIONS,
    TYPED_REQUEST_OPERATIONS,
    VERBS,
    Verb,
)
from cimmeter.xml.namespaces import PROFILE_BASE, wrapper_ns

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
SOAP_HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"


@dataclass(frozen=True, slots=True)
class ServicePattern:
    """One of the six 61968-100 service patterns (digest 6.9)."""

    prefix: str
    verbs: tuple[Verb, ...]
    role: str
    """What the provider of this service does (the documentation of the WSDL)."""

    @property
    def is_get(self) -> bool:
        return self.prefix == "Get"


# digest 6.9: the operation sets are verified; the role texts are the usual reading (M).
SERVICE_PATTERNS: tuple[ServicePattern, ...] = (
    ServicePattern("Get", (Verb.get,), "answers queries"),
    ServicePattern("Request", TYPED_REQUEST_OPERATIONS, "entry point for requests"),
    ServicePattern(
        "Execute", TYPED_REQUEST_OPERATIONS, "delivery of requests to the system that does them"
    ),
    ServicePattern("Send", TYPED_EVENT_OPERATIONS, "entry point for events"),
    ServicePattern("Receive", TYPED_EVENT_OPERATIONS, "delivery of events to a subscriber"),
    ServicePattern("Reply", TYPED_EVENT_OPERATIONS, "callback for asynchronous results"),
)


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    """`CreatedMeterReadings`, `GetMeterReadings`: also the wrapper element of the input."""
    verb: Verb
    soap_action: str

    @property
    def message_name(self) -> str:
        kind = "Event" if VERBS[self.verb].kind == "event" else "Request"
        return f"{self.name}{kind}Message"

    @property
    def input_name(self) -> str:
        return f"{self.name}{'Event' if VERBS[self.verb].kind == 'event' else 'Request'}"


@dataclass(frozen=True, slots=True)
class Service:
    """One SOAP service (`SendMeterReadings`): its pattern, noun, operations and names."""

    pattern: ServicePattern
    entry: NounEntry

    @property
    def name(self) -> str:
        return f"{self.pattern.prefix}{self.entry.noun}"

    @property
    def namespace(self) -> str:
        return f"{PROFILE_BASE}{self.name}"

    @property
    def wrapper_namespace(self) -> str:
        return wrapper_ns(self.entry.noun, get=self.pattern.is_get)

    @property
    def schema_file(self) -> str:
        return f"{'Get' if self.pattern.is_get else ''}{self.entry.noun}Message.xsd"

    @property
    def port_type(self) -> str:
        return f"{'Get' if self.pattern.is_get else ''}{self.entry.noun}_Port"

    @property
    def binding(self) -> str:
        return f"{'Get' if self.pattern.is_get else ''}{self.entry.noun}_Binding"

    @property
    def operations(self) -> tuple[Operation, ...]:
        noun = self.entry.noun
        if self.pattern.is_get:
            action = f"{PROFILE_BASE}Get{noun}/Get{noun}"
            return (Operation(f"Get{noun}", Verb.get, action),)
        return tuple(
            Operation(
                f"{VERBS[v].operation}{noun}",
                v,
                f"{PROFILE_BASE}{noun}/{VERBS[v].operation}{noun}",
            )
            for v in self.pattern.verbs
        )


def services(registry: Registry = REGISTRY) -> Iterator[Service]:
    """Every service we serve: each registered noun in each pattern (Get only if gettable)."""
    for entry in registry:
        for pattern in SERVICE_PATTERNS:
            if pattern.is_get and not entry.gettable:
                continue
            yield Service(pattern, entry)


def service_by_name(name: str, registry: Registry = REGISTRY) -> Service | None:
    return _service_index(registry).get(name)


@cache
def _service_index(registry: Registry) -> dict[str, Service]:
    return {s.name: s for s in services(registry)}


def _el(parent: etree._Element, ns: str, tag: str, **attrs: str) -> etree._Element:
    element: etree._Element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    return element


def wsdl_document(service: Service, location: str) -> bytes:
    """The WSDL of `service`, with `location` (the endpoint URL) in both port addresses."""
    return etree.tostring(
        wsdl_element(service, location), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def wsdl_element(service: Service, location: str) -> etree._Element:
    noun = service.entry.noun
    nsmap = {
        "wsdl": WSDL_NS,
        "soap": WSDL_SOAP11_NS,
        "soap12": WSDL_SOAP12_NS,
        "xs": XS_NS,
        "tns": service.namespace,
        "infoMessage": service.wrapper_namespace,
    }
    root = etree.Element(
        f"{{{WSDL_NS}}}definitions",
        {"name": service.name, "targetNamespace": service.namespace},
        nsmap=nsmap,
    )
    _el(root, WSDL_NS, "documentation").text = (
        f"cimmeter {service.name}: {service.pattern.role} ({noun}, IEC 61968-9 / 61968-100 "
        "pattern). Generated, not written by hand. The SOAP 1.1 binding follows the standard's "
        "templates; the SOAP 1.2 binding and port (suffix _Soap12) are a cimmeter extension."
    )
    types = _el(root, WSDL_NS, "types")
    schema = _el(
        types,
        XS_NS,
        "schema",
        targetNamespace=service.namespace,
        elementFormDefault="qualified",
    )
    _el(
        schema,
        XS_NS,
        "import",
        namespace=service.wrapper_namespace,
        schemaLocation=f"xsd/{service.schema_file}",
    )
    for op in service.operations:
        message = _el(root, WSDL_NS, "message", name=op.message_name)
        _el(message, WSDL_NS, "part", name=op.message_name, element=f"infoMessage:{op.name}")
    for name, element in (
        ("ResponseMessage", f"{noun}ResponseMessage"),
        ("FaultMessage", f"{noun}FaultMessage"),
    ):
        message = _el(root, WSDL_NS, "message", name=name)
        _el(message, WSDL_NS, "part", name=name, element=f"infoMessage:{element}")
    port_type = _el(root, WSDL_NS, "portType", name=service.port_type)
    for op in service.operations:
        operation = _el(port_type, WSDL_NS, "operation", name=op.name)
        _el(operation, WSDL_NS, "input", name=op.input_name, message=f"tns:{op.message_name}")
        _el(operation, WSDL_NS, "output", name=f"{op.name}Response", message="tns:ResponseMessage")
        _el(operation, WSDL_NS, "fault", name=f"{op.name}Fault", message="tns:FaultMessage")
    bindings: tuple[tuple[str, str, dict[str, str]], ...] = (
        (service.binding, WSDL_SOAP11_NS, {}),
        (f"{service.binding}_Soap12", WSDL_SOAP12_NS, {"soapActionRequired": "false"}),
    )
    for binding_name, soap_ns, extra in bindings:
        binding = _el(root, WSDL_NS, "binding", name=binding_name, type=f"tns:{service.port_type}")
        _el(binding, soap_ns, "binding", style="document", transport=SOAP_HTTP_TRANSPORT)
        for op in service.operations:
            operation = _el(binding, WSDL_NS, "operation", name=op.name)
            _el(
                operation,
                soap_ns,
                "operation",
                soapAction=op.soap_action,
                style="document",
                **extra,
            )
            for part, name in (("input", op.input_name), ("output", f"{op.name}Response")):
                _el(_el(operation, WSDL_NS, part, name=name), soap_ns, "body", use="literal")
            fault = _el(operation, WSDL_NS, "fault", name=f"{op.name}Fault")
            _el(fault, soap_ns, "fault", name=f"{op.name}Fault", use="literal")
    wsdl_service = _el(root, WSDL_NS, "service", name=service.name)
    port = _el(
        wsdl_service, WSDL_NS, "port", name=service.port_type, binding=f"tns:{service.binding}"
    )
    _el(port, WSDL_SOAP11_NS, "address", location=location)
    port12 = _el(
        wsdl_service,
        WSDL_NS,
        "port",
        name=f"{service.port_type}_Soap12",
        binding=f"tns:{service.binding}_Soap12",
    )
    _el(port12, WSDL_NS, "documentation").text = "SOAP 1.2: a cimmeter extension"
    _el(port12, WSDL_SOAP12_NS, "address", location=location)
    return root


__all__ = [
    "SERVICE_PATTERNS",
    "Operation",
    "Service",
    "ServicePattern",
    "service_by_name",
    "services",
    "wsdl_document",
    "wsdl_element",
]
