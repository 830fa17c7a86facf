"""The structure of a profile XSD as data, to compare ours with a vendor's element by element.

`structure(path, root)` walks a profile schema from its root element and returns, for every
element path (`/MeterConfig/Meter/status/value`), its value type and effective cardinality, and
for every complex element the order of its children. Named and anonymous types, and CIM
datatypes declared as simpleTypes (`m:Voltage` = xs:float), give the same result, so two
schemas written differently compare equal when their instances do. A member of a repeated
`xs:choice` gets the choice's cardinality (`(choice)` marks it), a wildcard is `*any*`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True, slots=True)
class Node:
    type: str
    """`xs:string`, `enum(a|b)`, `complex`, `ref` (an empty element with a `ref` attribute)."""
    card: str
    """`min..max` with `*` for unbounded; `(choice)` appended inside a choice."""


@dataclass(slots=True)
class Structure:
    nodes: dict[str, Node] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)


def _card(element: etree._Element, outer: tuple[str, str] | None) -> str:
    low, high = element.get("minOccurs", "1"), element.get("maxOccurs", "1")
    high = "*" if high == "unbounded" else high
    if outer is None:
        return f"{low}..{high}"
    o_low, o_high = outer
    low = "0" if "0" in (low, o_low) else low
    high = "*" if "*" in (high, o_high) else high
    return f"{low}..{high}(choice)"


def structure(path: Path, root: str) -> Structure:
    schema = etree.parse(str(path)).getroot()
    named = {c.get("name"): c for c in schema if c.tag in (XS + "complexType", XS + "simpleType")}
    result = Structure()

    def simple(type_name: str | None, element: etree._Element) -> str | None:
        inline = element.find(XS + "simpleType")
        body = inline if inline is not None else named.get((type_name or "").split(":")[-1])
        if type_name and type_name.startswith("xs:"):
            return type_name
        if body is None or body.tag != XS + "simpleType":
            return None
        values = [e.get("value") for e in body.iter(XS + "enumeration")]
        restriction = body.find(XS + "restriction")
        return f"enum({'|'.join(values)})" if values else str(restriction.get("base"))

    def walk(content: etree._Element, at: str, outer: tuple[str, str] | None) -> None:
        for child in content:
            if child.tag == XS + "sequence":
                walk(child, at, outer)
            elif child.tag == XS + "choice":
                low, high = child.get("minOccurs", "1"), child.get("maxOccurs", "1")
                walk(child, at, (low, "*" if high == "unbounded" else high))
            elif child.tag == XS + "any":
                result.children.setdefault(at, []).append("*any*")
            elif child.tag == XS + "element":
                element(child, at, outer)

    def element(el: etree._Element, at: str, outer: tuple[str, str] | None) -> None:
        name = el.get("name") or str(el.get("ref")).split(":")[-1]
        here = f"{at}/{name}"
        result.children.setdefault(at, []).append(name)
        type_name = el.get("type")
        value_type = simple(type_name, el)
        if value_type is not None:
            result.nodes[here] = Node(value_type, _card(el, outer))
            return
        inline = el.find(XS + "complexType")
        body = inline if inline is not None else named.get((type_name or "").split(":")[-1])
        is_ref = body is not None and [a.get("name") for a in body.findall(XS + "attribute")] == [
            "ref"
        ]
        result.nodes[here] = Node("ref" if is_ref else "complex", _card(el, outer))
        if body is not None and here.count("/") < 12:
            walk(body, here, None)

    top = next(e for e in schema if e.tag == XS + "element" and e.get("name") == root)
    element(top, "", None)
    return result


def is_subsequence(short: list[str], long: list[str]) -> bool:
    rest = iter(long)
    return all(name in rest for name in short)


__all__ = ["Node", "Structure", "is_subsequence", "structure"]
