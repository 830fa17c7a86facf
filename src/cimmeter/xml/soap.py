"""SOAP 1.1 / 1.2 envelopes, and the typed per-noun wrappers as XML (digest 2.1.3, 6.1, 6.9).

A 61968-100 message travels either in the generic envelope (`msg:RequestMessage` with every
envelope element in the message namespace) or in a typed per-noun wrapper generated from the
WSDL pattern (`CreatedMeterReadings` in `http://iec.ch/TC57/2011/MeterReadingsMessage`), and
either can sit in a SOAP 1.1 or 1.2 Body. The two forms carry the same content; they differ only
in namespaces (digest 2.1.3):

- the wrapper root and its `Header`, `Request`, `Reply`, `Payload` are in the wrapper namespace;
- the children of Header and Reply, and of Request outside Get, stay in the message namespace;
- in a `Get<Noun>` message everything is in `Get<Noun>Message`, including the Request children
  StartTime/EndTime/Option/ID (the children of Option, `name`/`value`, stay `msg:`);
- Payload's OperationSet/Compressed/Format are in the wrapper namespace, their content `msg:`;
- the noun document stays in its profile namespace.

`typed_to_generic` and `generic_to_typed` convert between the two forms in place, so that one
decoder and one encoder serve both. Which message kind and verb a wrapper stands for is decided
by the caller (cimmeter.message.verbs.operation_of).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from cimmeter.xml.codec import split_tag
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.namespaces import MESSAGE_NS, SOAP11_NS, SOAP12_NS, message_generation, wrapper_of

SoapVersion = Literal["1.1", "1.2"]

SOAP_NAMESPACES: dict[SoapVersion, str] = {"1.1": SOAP11_NS, "1.2": SOAP12_NS}
SOAP_CONTENT_TYPES: dict[SoapVersion, str] = {
    "1.1": "text/xml; charset=utf-8",
    "1.2": "application/soap+xml; charset=utf-8",
}
_VERSION_OF_NS: dict[str, SoapVersion] = {ns: v for v, ns in SOAP_NAMESPACES.items()}


class SoapError(XmlInputError):
    """A SOAP envelope that carries no 61968-100 message (no Body, an empty Body)."""


class SoapFaultError(SoapError):
    """A SOAP Fault without a 61968-100 FaultMessage in its detail: `reason` is its text."""

    def __init__(self, reason: str, *, code: str | None = None, line: int | None = None) -> None:
        self.code = code
        super().__init__(f"SOAP fault: {reason}", line=line)


@dataclass(slots=True)
class Unwrapped:
    """The message element of a document, and how it was carried."""

    element: etree._Element
    soap: SoapVersion | None = None
    fault: bool = False
    """True when the message came in the detail of a SOAP Fault."""
    warnings: list[tuple[str, int | None]] = field(default_factory=list)


def unwrap(root: etree._Element) -> Unwrapped:
    """The 61968-100 element inside a SOAP envelope, or `root` itself when it is not one."""
    ns, local = split_tag(root.tag)
    version = _VERSION_OF_NS.get(ns)
    if version is None or local != "Envelope":
        return Unwrapped(root)
    body = root.find(f"{{{ns}}}Body")
    if body is None:
        raise SoapError(
            "SOAP envelope without a Body", line=root.sourceline, expected="a soap:Body"
        )
    children = [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise SoapError(
            "empty SOAP Body", line=body.sourceline, expected="a 61968-100 message in the Body"
        )
    result = Unwrapped(children[0], version)
    if len(children) > 1:
        result.warnings.append(
            (f"SOAP Body holds {len(children)} elements; only the first is read", body.sourceline)
        )
    first = children[0]
    if first.tag == f"{{{ns}}}Fault":
        return _unwrap_fault(first, ns, version)
    return result


def _unwrap_fault(fault: etree._Element, ns: str, version: SoapVersion) -> Unwrapped:
    # SOAP 1.1: faultcode/faultstring/detail unqualified; 1.2: Code/Reason/Detail qualified.
    detail = fault.find("detail") if version == "1.1" else fault.find(f"{{{ns}}}Detail")
    if detail is not None:
        inner = [c for c in detail if isinstance(c.tag, str)]
        if inner:
            return Unwrapped(inner[0], version, fault=True)
    if version == "1.1":
        reason = fault.findtext("faultstring") or "(no faultstring)"
        code = fault.findtext("faultcode")
    else:
        reason = fault.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or "(no Reason)"
        code = fault.findtext(f"{{{ns}}}Code/{{{ns}}}Value")
    raise SoapFaultError(reason.strip(), code=code, line=fault.sourceline)


def wrap(element: etree._Element, version: SoapVersion) -> etree._Element:
    """`element` as the content of a new SOAP `version` envelope's Body."""
    ns = SOAP_NAMESPACES[version]
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    etree.SubElement(envelope, f"{{{ns}}}Header")
    body = etree.SubElement(envelope, f"{{{ns}}}Body")
    body.append(element)
    return envelope


# -- typed wrappers ------------------------------------------------------------------------------


def _is_envelope_ns(ns: str) -> bool:
    return message_generation(ns) is not None or wrapper_of(ns) is not None


def typed_to_generic(root: etree._Element, kind: str) -> None:
    """Rename a typed wrapper (in place) to the generic envelope `msg:<kind>`.

    Every element in a wrapper namespace becomes `msg:`; profile documents and foreign
    extensions are left alone. Source lines are kept (the elements are the same)."""
    root.tag = f"{{{MESSAGE_NS}}}{kind}"
    _rename_wrapper_elements(root)


def _rename_wrapper_elements(element: etree._Element) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        ns, local = split_tag(child.tag)
        if wrapper_of(ns) is not None:
            child.tag = f"{{{MESSAGE_NS}}}{local}"
            _rename_wrapper_elements(child)
        elif _is_envelope_ns(ns):
            _rename_wrapper_elements(child)


# Which children move into the wrapper namespace (digest 2.1.3): in any wrapper, Payload's
# OperationSet/Compressed/Format; in a Get wrapper also Request's StartTime/EndTime/Option/ID.
_PAYLOAD_LOCAL = frozenset({"OperationSet", "Compressed", "Format"})
_GET_REQUEST_LOCAL = frozenset({"StartTime", "EndTime", "Option", "ID"})


def typed_nsmap(wrapper_namespace: str) -> dict[str | None, str]:
    """The namespace declarations of a typed wrapper root (wrapper default, `msg:` prefix)."""
    return {None: wrapper_namespace, "msg": MESSAGE_NS}


def generic_to_typed(
    root: etree._Element, element_name: str, wrapper_namespace: str, *, get: bool = False
) -> None:
    """Rename a generic envelope element (in place) to the typed wrapper `element_name`.

    Build the generic tree with `typed_nsmap(wrapper_namespace)` on its root so that every
    namespace is declared once at the top."""
    w = wrapper_namespace
    root.tag = f"{{{w}}}{element_name}"
    for part in root:
        if not isinstance(part.tag, str):
            continue
        ns, local = split_tag(part.tag)
        if ns != MESSAGE_NS:
            continue
        part.tag = f"{{{w}}}{local}"
        if local == "Payload":
            moving = _PAYLOAD_LOCAL
        elif local == "Request" and get:
            moving = _GET_REQUEST_LOCAL
        else:
            continue
        for child in part:
            if isinstance(child.tag, str):
                cns, clocal = split_tag(child.tag)
                if cns == MESSAGE_NS and clocal in moving:
                    child.tag = f"{{{w}}}{clocal}"


__all__ = [
    "SOAP_CONTENT_TYPES",
    "SOAP_NAMESPACES",
    "SoapError",
    "SoapFaultError",
    "SoapVersion",
    "Unwrapped",
    "generic_to_typed",
    "typed_nsmap",
    "typed_to_generic",
    "unwrap",
    "wrap",
]
