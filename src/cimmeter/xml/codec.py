"""The generic XML codec: model <-> lxml element, driven by the model declarations.

For each model class a plan is computed once (`plan_of`): which element or attribute each field
is, in which order, single or repeated, nested model or scalar and how to parse and format it.
`decode` walks an element with that plan; `encode` writes a model in schema order (digest 2.2.2).

Reading is lenient and reports, it never guesses silently:
- errors: a value that does not parse (bad boolean, a timestamp without a zone, ...), a single
  element given twice, a missing element that the model cannot do without;
- warnings: an element or attribute the model does not know (kept verbatim in `extensions` and
  written back in place), an element out of schema order, a known element in another namespace
  than the document's, an enumeration literal in the wrong case.
Each finding has the element path (`/MeterReadings/MeterReading[2]/Readings[1]/value`) and line.

Namespaces are a property of the document (digest 2.1.1): `decode` is told which namespaces
the children may be in, `encode` which namespace to write them in.
"""

from __future__ import annotations

import copy
import math
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Union

from lxml import etree
from pydantic import AwareDatetime
from pydantic.fields import FieldInfo

from cimmeter.model.base import (
    Attribute,
    Choice,
    CimDocument,
    CimEnum,
    CimModel,
    Extension,
    Required,
    Text,
    Wildcard,
    XsdType,
    format_decimal,
)
from cimmeter.xml.issues import Issues, SourceMap
from cimmeter.xml.namespaces import XSI_NS, profile_ns
from cimmeter.xml.safe import parse_document

# -- scalars -------------------------------------------------------------------------------------


class ScalarError(ValueError):
    """A text that is not a valid value of its type; `expected` says what would be."""

    def __init__(self, reason: str, expected: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expected = expected


_BOOL = {"true": True, "1": True, "false": False, "0": False}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FLOAT_SPECIAL = {"INF": math.inf, "+INF": math.inf, "-INF": -math.inf, "NaN": math.nan}
_ZONE = r"(Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?"
_DATETIME = re.compile(
    r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?" + _ZONE
)
_DATE = re.compile(r"(-?[0-9]{4,}-[0-9]{2}-[0-9]{2})" + _ZONE)
_TIME = re.compile(r"([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?" + _ZONE)


def _parse_string(text: str) -> str:
    return text


def _parse_boolean(text: str) -> bool:
    value = _BOOL.get(text.strip())
    if value is None:
        raise ScalarError(f"{text!r} is not a boolean", "true, false, 1 or 0")
    return value


def _parse_integer(text: str) -> int:
    t = text.strip()
    if not _INTEGER.fullmatch(t):
        raise ScalarError(f"{text!r} is not an integer", "an integer such as 15")
    return int(t)


def _parse_float(text: str) -> float:
    t = text.strip()
    special = _FLOAT_SPECIAL.get(t)
    if special is not None:
        return special
    if not _FLOAT.fullmatch(t):
        raise ScalarError(f"{text!r} is not a number", "a number such as 1.5, 1e3 or INF")
    return float(t)


def _parse_decimal(text: str) -> Decimal:
    t = text.strip()
    if not _DECIMAL.fullmatch(t):
        raise ScalarError(f"{text!r} is not a decimal number", "a decimal such as 12.50")
    return Decimal(t)


def _fraction(digits: str | None) -> str:
    # Python keeps microseconds: longer fractions are truncated (xs:dateTime allows any length).
    return (digits or "")[:7]


def _zone_suffix(zone: str | None) -> str:
    return "+00:00" if zone == "Z" else (zone or "")


def _parse_datetime(text: str) -> datetime:
    t = text.strip()
    m = _DATETIME.fullmatch(t)
    if not m:
        raise ScalarError(
            f"{text!r} is not a date-time", "an xs:dateTime such as 2024-03-01T00:15:00Z"
        )
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if zone is None:
        # DESIGN.md rule 6 / digest 2.2.5: a timestamp without a zone is rejected with a reason.
        raise ScalarError(
            f"timestamp {text!r} has no time zone",
            "a zone: Z or an offset such as +01:00",
        )
    end_of_day = hour == "24"
    if end_of_day:
        if (minute, second) != ("00", "00") or (frac and frac.strip(".0")):
            raise ScalarError(f"{text!r} is not a date-time", "24:00:00 only as end of day")
        hour, frac = "00", None
    iso = f"{year}-{month}-{day}T{hour}:{minute}:{second}{_fraction(frac)}{_zone_suffix(zone)}"
    try:
        value = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise ScalarError(
            f"{text!r} is not a valid date-time: {exc}", "a real date and time"
        ) from None
    return value + timedelta(days=1) if end_of_day else value


def _parse_date(text: str) -> date:
    m = _DATE.fullmatch(text.strip())
    if not m:
        raise ScalarError(f"{text!r} is not a date", "an xs:date such as 2024-03-01")
    try:
        return date.fromisoformat(m.group(1))
    except ValueError as exc:
        raise ScalarError(f"{text!r} is not a valid date: {exc}", "a real date") from None


def _parse_time(text: str) -> time:
    m = _TIME.fullmatch(text.strip())
    if not m:
        raise ScalarError(f"{text!r} is not a time", "an xs:time such as 13:30:00")
    clock, frac, zone = m.groups()
    try:
        return time.fromisoformat(f"{clock}{_fraction(frac)}{_zone_suffix(zone)}")
    except ValueError as exc:
        raise ScalarError(f"{text!r} is not a valid time: {exc}", "a real time of day") from None


def _format_str(value: object) -> str:
    return str(value)


def _format_boolean(value: object) -> str:
    return "true" if value else "false"


def _format_float(value: object) -> str:
    number = float(typing.cast(float, value))
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "INF" if number > 0 else "-INF"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))  # 15 minutes reads better as 15 than 15.0
    return repr(number)


def _format_decimal(value: object) -> str:
    return format_decimal(typing.cast(Decimal, value))


def _format_datetime(value: object) -> str:
    text = typing.cast(datetime, value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _format_isoformat(value: object) -> str:
    return typing.cast(date | time, value).isoformat()


def _format_reading_value(value: object) -> str:
    return format_decimal(value) if isinstance(value, Decimal) else str(value)


def _parse_reading_value(text: str) -> Decimal | str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() and format_decimal(number) == text else text


@dataclass(frozen=True, slots=True)
class Scalar:
    """How one simple type is read and written, and its XSD type."""

    xsd: str
    parse: Callable[[str], Any]
    format: Callable[[Any], str]
    enum: type[CimEnum] | None = None
    qname: bool = False


STRING = Scalar("xs:string", _parse_string, _format_str)
BOOLEAN = Scalar("xs:boolean", _parse_boolean, _format_boolean)
INTEGER = Scalar("xs:integer", _parse_integer, _format_str)
FLOAT = Scalar("xs:float", _parse_float, _format_float)
DECIMAL = Scalar("xs:decimal", _parse_decimal, _format_decimal)
DATETIME = Scalar("xs:dateTime", _parse_datetime, _format_datetime)
DATE = Scalar("xs:date", _parse_date, _format_isoformat)
TIME = Scalar("xs:time", _parse_time, _format_isoformat)
READING_VALUE = Scalar("xs:string", _parse_reading_value, _format_reading_value)
QNAME = Scalar("xs:QName", _parse_string, _format_str, qname=True)

_SCALARS: dict[object, Scalar] = {
    str: STRING,
    bool: BOOLEAN,
    int: INTEGER,
    float: FLOAT,
    Decimal: DECIMAL,
    datetime: DATETIME,
    AwareDatetime: DATETIME,
    date: DATE,
    time: TIME,
}


# -- plans ---------------------------------------------------------------------------------------

FieldKind = Literal["element", "attribute", "text", "wildcard"]


@dataclass(slots=True)
class FieldPlan:
    """One field of a model as XML sees it."""

    name: str
    xml: str
    index: int
    kind: FieldKind
    many: bool
    model: type[CimModel] | None
    scalar: Scalar | None
    hard_required: bool
    """pydantic-required: the object cannot exist without it (the Header of a message)."""
    soft_required: bool
    """minOccurs 1 in the schema, but the reader keeps going (reported by the rule checks)."""
    choice: str | None
    wildcard: Wildcard | None

    @property
    def required(self) -> bool:
        return self.hard_required or self.soft_required


@dataclass(slots=True)
class ClassPlan:
    cls: type[CimModel]
    fields: list[FieldPlan]
    elements: dict[str, FieldPlan] = field(default_factory=dict)
    attributes: dict[str, FieldPlan] = field(default_factory=dict)
    text: FieldPlan | None = None
    wildcard: FieldPlan | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    """Every field's default (all immutable: None or ()), for building decoded objects fast."""
    fast_construct: bool = False


_PLANS: dict[type[CimModel], ClassPlan] = {}


class ModelDeclarationError(TypeError):
    """A model declaration the codec cannot map to XML (a programming error, caught by tests)."""


def _unwrap(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """(inner type, repeated?, markers from nested Annotated) of a field annotation."""
    markers: list[Any] = []
    many = False
    tp = annotation
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            args = typing.get_args(tp)
            markers.extend(args[1:])
            tp = args[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
            else:
                return tp, many, markers  # a genuine union (ReadingValue: Decimal | str)
        elif origin is tuple:
            args = typing.get_args(tp)
            if len(args) != 2 or args[1] is not Ellipsis:
                raise ModelDeclarationError(f"use tuple[X, ...] for repeated elements, not {tp}")
            many = True
            tp = args[0]
        else:
            return tp, many, markers


def _scalar_of(tp: Any, markers: list[Any], where: str) -> Scalar:
    xsd = next((m.name for m in markers if isinstance(m, XsdType)), None)
    if xsd == "xs:QName":
        return QNAME
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = set(typing.get_args(tp))
        if args == {Decimal, str}:
            return READING_VALUE
        raise ModelDeclarationError(f"{where}: unsupported union {tp}")
    if isinstance(tp, type) and issubclass(tp, CimEnum):
        return Scalar(tp.xsd_name(), tp, _format_str, enum=tp)
    scalar = _SCALARS.get(tp)
    if scalar is None:
        raise ModelDeclarationError(f"{where}: no XML mapping for type {tp!r}")
    return scalar


def _field_plan(index: int, name: str, info: FieldInfo, owner: type[CimModel]) -> FieldPlan:
    tp, many, markers = _unwrap(info.annotation)
    markers = [*info.metadata, *markers]
    where = f"{owner.__name__}.{name}"
    xml = info.alias or name
    wildcard = next((m for m in markers if isinstance(m, Wildcard)), None)
    kind: FieldKind = "element"
    if any(isinstance(m, Attribute) for m in markers):
        kind = "attribute"
    elif any(isinstance(m, Text) for m in markers):
        kind = "text"
    elif wildcard is not None:
        kind = "wildcard"
    model: type[CimModel] | None = None
    scalar: Scalar | None = None
    if kind == "wildcard":
        model = CimDocument
    elif isinstance(tp, type) and issubclass(tp, CimModel):
        model = tp
    else:
        scalar = _scalar_of(tp, markers, where)
    if kind in ("attribute", "text") and (model is not None or many):
        raise ModelDeclarationError(f"{where}: attributes and text must be single scalars")
    choice = next((m.group for m in markers if isinstance(m, Choice)), None)
    return FieldPlan(
        name=name,
        xml=xml,
        index=index,
        kind=kind,
        many=many,
        model=model,
        scalar=scalar,
        hard_required=info.is_required(),
        soft_required=any(isinstance(m, Required) for m in markers),
        choice=choice,
        wildcard=wildcard,
    )


def plan_of(cls: type[CimModel]) -> ClassPlan:
    """The (cached) XML plan of a model class, fields in declaration = schema order."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    fields = [
        _field_plan(i, name, info, cls)
        for i, (name, info) in enumerate(
            (n, f) for n, f in cls.model_fields.items() if n != "extensions"
        )
    ]
    plan = ClassPlan(cls, fields)
    plan.defaults = {
        name: info.default for name, info in cls.model_fields.items() if not info.is_required()
    }
    plan.fast_construct = (
        all(d is None or d == () for d in plan.defaults.values())
        and not cls.__private_attributes__
        and cls.model_config.get("extra") != "allow"
    )
    for fp in fields:
        if fp.kind == "attribute":
            plan.attributes[fp.xml] = fp
        elif fp.kind == "text":
            plan.text = fp
        elif fp.kind == "wildcard":
            plan.wildcard = fp
        else:
            if fp.xml in plan.elements:
                raise ModelDeclarationError(f"{cls.__name__}: element {fp.xml} declared twice")
            plan.elements[fp.xml] = fp
    _PLANS[cls] = plan
    return plan


# -- decoding ------------------------------------------------------------------------------------

DocumentResolver = Callable[[str, str], "tuple[type[CimDocument], str | None] | None"]
"""(namespace, local name) of an element at a wildcard position -> (document class, warning)."""


@dataclass(slots=True)
class DecodeContext:
    """What a decode run collects: findings, source lines, and how to resolve documents."""

    issues: Issues = field(default_factory=Issues)
    source_map: SourceMap | None = field(default_factory=SourceMap)
    resolve: DocumentResolver | None = None


_TAGS: dict[str, tuple[str, str]] = {}


def split_tag(tag: Any) -> tuple[str, str]:
    """`{ns}local` -> (ns, local); a tag without namespace -> ("", tag)."""
    parts = _TAGS.get(tag)
    if parts is None:
        if tag.startswith("{"):
            ns, _, local = tag[1:].partition("}")
            parts = (ns, local)
        else:
            parts = ("", tag)
        _TAGS[tag] = parts
    return parts


_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _element_xml(element: etree._Element) -> str:
    """An element on its own, with just the namespace declarations it uses.

    Canonical XML with the prefixes renumbered `n0`, `n1`, ... in document order, so that the
    same extension always reads as the same text whatever prefixes the document used
    (extensions compare equal across round trips). The renumbering is done here, not with
    C14N's `rewrite_prefixes`: that declares `xmlns:n1=""` for unqualified attributes, which is
    not well-formed XML 1.0 (a vendor `<ReadingType ref="..."/>` could not be written back)."""
    prefixes: dict[str, str] = {}
    for node in element.iter(etree.Element):
        for name in (node.tag, *node.attrib):
            ns, _ = split_tag(name)
            if ns and ns != _XML_NS:
                prefixes.setdefault(ns, f"n{len(prefixes)}")
    nsmap: dict[str | None, str] = {prefix: ns for ns, prefix in prefixes.items()}
    return etree.canonicalize(_copy_element(element, nsmap, None))


def _copy_element(
    source: etree._Element, nsmap: dict[str | None, str], parent: etree._Element | None
) -> etree._Element:
    if parent is None:
        node = etree.Element(source.tag, nsmap=nsmap)
    else:
        node = etree.SubElement(parent, source.tag)
    for name, value in source.attrib.items():
        node.set(name, value)
    node.text = source.text
    for child in source:
        if isinstance(child.tag, str):
            _copy_element(child, nsmap, node).tail = child.tail
        else:  # comments and processing instructions, with their tails
            node.append(copy.deepcopy(child))
    return node


def _describe_ns(ns: str) -> str:
    return f"namespace {ns}" if ns else "no namespace"


def decode(
    element: etree._Element,
    cls: type[CimModel],
    *,
    accept: frozenset[str],
    ctx: DecodeContext,
    path: str,
) -> Any:
    """Read `element` as a `cls`. Children are expected in one of the `accept` namespaces.

    Returns the model, or None when a field the model cannot do without is missing or broken
    (reported as an error)."""
    plan = plan_of(cls)
    issues = ctx.issues
    values: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    extensions: list[Extension] = []
    field_lines: dict[str, int] = {}
    broken = False

    for qname, text in element.attrib.items():
        ns, local = split_tag(qname)
        fp = plan.attributes.get(local) if not ns else None
        if fp is not None:
            value = _decode_scalar(text, fp, element, ctx, f"{path}/@{local}", element.sourceline)
            if value is not _BAD:
                values[fp.name] = value
            continue
        if ns == XSI_NS and local in ("schemaLocation", "noNamespaceSchemaLocation"):
            continue
        issues.warning(
            f"unknown attribute {local!r} kept as an extension",
            path=path,
            line=element.sourceline,
        )
        extensions.append(Extension(attribute=qname, value=text))

    if plan.text is not None and element.text:  # an empty text content reads as None
        value = _decode_scalar(element.text, plan.text, element, ctx, path, element.sourceline)
        if value is not _BAD:
            values[plan.text.name] = value
    elif element.text is not None and element.text.strip():
        issues.warning(
            "text inside an element that holds only elements was ignored",
            path=path,
            line=element.sourceline,
        )

    last_index = -1
    last_xml: str | None = None
    choice_seen: dict[str, str] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        ns, local = split_tag(tag)
        line = child.sourceline
        fp = plan.elements.get(local)
        if fp is not None and ns not in accept:
            resolved = None
            if plan.wildcard is not None and ctx.resolve is not None:
                resolved = ctx.resolve(ns, local)
            if resolved is not None:
                fp = None
            else:
                issues.warning(
                    f"element {local} is in {_describe_ns(ns)}; read as the document's own",
                    path=f"{path}/{local}",
                    line=line,
                    expected=" or ".join(sorted(_describe_ns(a) for a in accept)),
                )
        if fp is None:
            if plan.wildcard is not None and ns not in accept:
                done = _decode_wildcard(child, ns, local, plan.wildcard, values, ctx, path)
                if done:
                    last_xml = plan.wildcard.xml
                    continue
            issues.warning(
                f"unknown element {local} ({_describe_ns(ns)}) kept as an extension"
                + (f": {hint}" if (hint := cls.xml_hints.get(local)) else ""),
                path=f"{path}/{local}",
                line=line,
            )
            extensions.append(Extension(after=last_xml, xml=_element_xml(child)))
            continue
        if fp.index < last_index:
            issues.warning(
                f"element {local} is out of schema order",
                path=f"{path}/{local}",
                line=line,
                expected=f"{local} before {last_xml}",
            )
        last_index = max(last_index, fp.index)
        last_xml = fp.xml
        if fp.choice is not None:
            other = choice_seen.setdefault(fp.choice, local)
            if other != local:
                issues.warning(
                    f"{local} and {other} are alternatives: only one of them is allowed",
                    path=f"{path}/{local}",
                    line=line,
                )
        if fp.many:
            items = lists.setdefault(fp.name, [])
            child_path = f"{path}/{local}[{len(items) + 1}]"
        else:
            child_path = f"{path}/{local}"
            if fp.name in values or fp.name in field_lines:
                issues.error(
                    f"element {local} occurs more than once",
                    path=child_path,
                    line=line,
                    expected="at most one",
                )
                continue
        field_lines[fp.name] = line or 0
        if fp.model is not None:
            value = decode(child, fp.model, accept=accept, ctx=ctx, path=child_path)
            if value is None:
                if fp.hard_required:
                    broken = True
                continue
        else:
            if len(child):
                issues.warning(
                    f"element {local} holds a value, its child elements were ignored",
                    path=child_path,
                    line=line,
                )
            value = _decode_scalar(child.text or "", fp, child, ctx, child_path, line)
            if value is _BAD:
                if fp.hard_required:
                    broken = True
                continue
        if fp.many:
            lists[fp.name].append(value)
        else:
            values[fp.name] = value

    for name, collected in lists.items():
        values[name] = tuple(collected)
    for fp in plan.fields:
        if fp.hard_required and fp.name not in values and not broken:
            issues.error(
                f"missing required {'attribute' if fp.kind == 'attribute' else 'element'} {fp.xml}",
                path=path,
                line=element.sourceline,
                expected=fp.xml,
            )
            broken = True
    if broken:
        return None
    if extensions:
        values["extensions"] = tuple(extensions)
    obj = _construct(plan, values)
    if ctx.source_map is not None:
        key = id(obj)
        ctx.source_map.elements[key] = element.sourceline or 0
        for name, line in field_lines.items():
            ctx.source_map.fields[(key, name)] = line
    return obj


def _construct(plan: ClassPlan, values: dict[str, Any]) -> Any:
    """`cls.model_construct(**values)` without its per-field default resolution: decoding
    builds one object per element, and defaults here are all None or () (checked per class)."""
    if not plan.fast_construct:
        return plan.cls.model_construct(**values)
    obj = plan.cls.__new__(plan.cls)
    object.__setattr__(obj, "__dict__", {**plan.defaults, **values})
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class _Bad:
    pass


_BAD: Any = _Bad()


def _decode_scalar(
    text: str,
    fp: FieldPlan,
    element: etree._Element,
    ctx: DecodeContext,
    path: str,
    line: int | None,
) -> Any:
    scalar = fp.scalar
    assert scalar is not None
    try:
        value = scalar.parse(text)
    except ScalarError as exc:
        ctx.issues.error(exc.reason, path=path, line=line, expected=exc.expected)
        return _BAD
    except ValueError:
        assert scalar.enum is not None
        by_lower = {m.value.lower(): m for m in scalar.enum}
        member = by_lower.get(text.strip().lower())
        allowed = ", ".join(m.value for m in scalar.enum)
        if member is None:
            ctx.issues.error(
                f"{text!r} is not a {scalar.enum.xsd_name()}",
                path=path,
                line=line,
                expected=f"one of {allowed}",
            )
            return _BAD
        ctx.issues.warning(
            f"{text!r} read as {member.value!r}", path=path, line=line, expected=member.value
        )
        return member
    if scalar.qname:
        return _resolve_qname(value, element, ctx, path, line)
    return value


def _resolve_qname(
    text: str, element: etree._Element, ctx: DecodeContext, path: str, line: int | None
) -> Any:
    text = text.strip()
    prefix, _, local = text.rpartition(":")
    if not prefix:
        # Kept as a bare local name, not put in the default namespace: in a 61968-100 envelope
        # the default namespace is the message schema's, which an error code never meant.
        return local
    ns = element.nsmap.get(prefix)
    if ns is None:
        ctx.issues.error(
            f"prefix {prefix!r} of QName {text!r} is not declared",
            path=path,
            line=line,
            expected="a QName whose prefix is declared (put element paths in details)",
        )
        return _BAD
    return f"{{{ns}}}{local}"


def _decode_wildcard(
    child: etree._Element,
    ns: str,
    local: str,
    fp: FieldPlan,
    values: dict[str, Any],
    ctx: DecodeContext,
    path: str,
) -> bool:
    """Decode a noun document at a wildcard position; False when it is not one we know."""
    if ctx.resolve is None or fp.name in values:
        return False
    resolved = ctx.resolve(ns, local)
    if resolved is None:
        return False
    doc_cls, warning = resolved
    doc_path = f"{path}/{local}"
    if warning:
        ctx.issues.warning(warning, path=doc_path, line=child.sourceline)
    doc = decode(child, doc_cls, accept=frozenset({ns}), ctx=ctx, path=doc_path)
    if doc is not None:
        values[fp.name] = doc
    return True


def decode_document(
    element: etree._Element, cls: type[CimDocument], ctx: DecodeContext
) -> CimDocument | None:
    """Read a profile document whose root is `element` (its namespace is the document's)."""
    ns, local = split_tag(element.tag)
    result: CimDocument | None = decode(
        element, cls, accept=frozenset({ns}), ctx=ctx, path=f"/{local}"
    )
    return result


# -- encoding ------------------------------------------------------------------------------------


def document_namespace(document: CimDocument) -> str:
    """The namespace a document is written in: its profile's 2011 namespace (digest 2.1.1)."""
    return profile_ns(type(document).profile)


def encode_document(
    document: CimDocument, *, nsmap: dict[str | None, str] | None = None
) -> etree._Element:
    """A document as a new root element in its profile namespace (as the default namespace)."""
    ns = document_namespace(document)
    root = etree.Element(f"{{{ns}}}{document.profile}", nsmap=nsmap or {None: ns})
    encode_into(root, document, ns)
    return root


def encode_into(element: etree._Element, obj: CimModel, ns: str) -> None:
    """Write `obj`'s attributes, text and child elements (in namespace `ns`) into `element`."""
    plan = plan_of(type(obj))
    by_after: dict[str | None, list[Extension]] = {}
    for ext in obj.extensions:
        if ext.attribute is not None:
            element.set(ext.attribute, ext.value or "")
        elif ext.xml is not None:
            by_after.setdefault(ext.after, []).append(ext)
    _write_extensions(element, by_after.pop(None, ()))
    for fp in plan.fields:
        value = getattr(obj, fp.name)
        if value is not None and value != ():
            if fp.kind == "attribute":
                assert fp.scalar is not None
                element.set(fp.xml, fp.scalar.format(value))
            elif fp.kind == "text":
                assert fp.scalar is not None
                element.text = fp.scalar.format(value)
            elif fp.kind == "wildcard":
                element.append(encode_document(value))
            else:
                tag = f"{{{ns}}}{fp.xml}"
                for item in value if fp.many else (value,):
                    _encode_field(element, tag, fp, item, ns)
        pending = by_after.pop(fp.xml, None)
        if pending:
            _write_extensions(element, pending)
    for rest in by_after.values():  # `after` names an element this class does not have
        _write_extensions(element, rest)


def _encode_field(parent: etree._Element, tag: str, fp: FieldPlan, value: Any, ns: str) -> None:
    if fp.model is not None:
        child = etree.SubElement(parent, tag)
        encode_into(child, value, ns)
        return
    assert fp.scalar is not None
    if fp.scalar.qname:
        qns, local = split_tag(value)
        if qns:
            prefix = next((p for p, u in parent.nsmap.items() if u == qns and p), None)
            if prefix is None:
                child = etree.SubElement(parent, tag, nsmap={"q": qns})
                prefix = "q"
            else:
                child = etree.SubElement(parent, tag)
            child.text = f"{prefix}:{local}"
            return
    child = etree.SubElement(parent, tag)
    child.text = fp.scalar.format(value)


def _write_extensions(element: etree._Element, extensions: Iterable[Extension]) -> None:
    for ext in extensions:
        if ext.xml is not None:
            element.append(parse_document(ext.xml.encode("utf-8")).getroot())


__all__ = [
    "BOOLEAN",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "FLOAT",
    "INTEGER",
    "QNAME",
    "READING_VALUE",
    "STRING",
    "TIME",
    "ClassPlan",
    "DecodeContext",
    "DocumentResolver",
    "FieldPlan",
    "ModelDeclarationError",
    "Scalar",
    "ScalarError",
    "decode",
    "decode_document",
    "document_namespace",
    "encode_document",
    "encode_into",
    "plan_of",
    "split_tag",
]
