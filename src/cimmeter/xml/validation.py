"""Structure validation against our own XSD files (`xsd/*.xsd`, generated from the models).

`validate_element` checks a message, a typed wrapper or a profile document (the root of a
document, or an element inside a SOAP Body) with lxml's XMLSchema, and turns each libxml2
finding into an `Issue` with its line, element path and the reason. The schema set is compiled
once: a small driver schema imports every file of the folder.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lxml import etree

from cimmeter.xml.codec import split_tag
from cimmeter.xml.issues import Issue
from cimmeter.xml.safe import make_parser

XSD_DIR = Path(__file__).resolve().parent / "xsd"
_XS = "http://www.w3.org/2001/XMLSchema"


class SchemaSetError(RuntimeError):
    """Our schema files are missing or do not compile (a packaging or generation bug)."""


def _driver(directory: Path) -> bytes:
    imports = []
    for path in sorted(directory.glob("*.xsd")):
        target = etree.parse(str(path), make_parser()).getroot().get("targetNamespace")
        imports.append(f'<xs:import namespace="{target}" schemaLocation="{path.name}"/>')
    if not imports:
        raise SchemaSetError(f"no schema files in {directory}")
    return (
        f'<xs:schema xmlns:xs="{_XS}" targetNamespace="urn:cimmeter:driver">'
        + "".join(imports)
        + "</xs:schema>"
    ).encode()


@cache
def schema_set(directory: Path = XSD_DIR) -> etree.XMLSchema:
    """Every schema of `directory` compiled together (cached)."""
    doc = etree.fromstring(_driver(directory), make_parser(), base_url=f"{directory}/")
    try:
        return etree.XMLSchema(doc)
    except etree.XMLSchemaParseError as exc:
        raise SchemaSetError(f"our schema files do not compile: {exc}") from None


_CLARK = re.compile(r"\{[^}]*\}")


def element_path(element: etree._Element) -> str:
    """`/RequestMessage/Payload/MeterReadings/MeterReading[2]/mRID`: local names, with a
    1-based position where an element has same-named siblings."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        _, local = split_tag(node.tag)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                local = f"{local}[{same.index(node) + 1}]"
        parts.append(local)
        node = parent
    return "/" + "/".join(reversed(parts))


def _message(text: str) -> str:
    # libxml2: "Element '{ns}foo': This element is not expected. Expected is ( {ns}bar )."
    return _CLARK.sub("", text).strip()


def validate_element(element: etree._Element, directory: Path = XSD_DIR) -> list[Issue]:
    """Every schema violation of `element`'s subtree (empty when valid)."""
    schema = schema_set(directory)
    if schema.validate(element):
        return []
    tree = element.getroottree()
    issues = []
    for entry in schema.error_log:
        path: str | None = None
        if entry.path:
            try:
                found = tree.xpath(entry.path)
            except etree.XPathError:
                found = None
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                path = element_path(found[0])
        issues.append(Issue("error", _message(entry.message), path, entry.line or None))
    return issues


__all__ = ["XSD_DIR", "SchemaSetError", "element_path", "schema_set", "validate_element"]
