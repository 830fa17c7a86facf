"""Business rules of messages and documents, beyond their structure.

Structure is the XSD's business (cimmeter.xml.validation, `--strict`); these rules hold for any
message, whether it came as XML, as JSON or was built in Python:

- required elements are present (the schema's minOccurs 1, which readers do not enforce so that
  one bad item does not sink the others: DESIGN.md rule 7);
- every ref element holds a well-formed code of its system (ReadingType 18 fields, event and
  control types 4, quality 3; digest 5.4): errors;
- every time range ends after it starts (DateTimeInterval, Request StartTime/EndTime): errors;
- what a receiver cannot act on without (a MeterReading names no meter or usage point, a
  control has no target, a failed Reply carries no Error, a get has no query): warnings.

Each finding names the element path and, when the model was read from XML, the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from cimmeter.codes.errors import CodeError
from cimmeter.codes.syntax import split_code
from cimmeter.message.envelope import (
    Message,
    Reply,
    ReplyResult,
    Request,
    RequestMessage,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument, CimModel, Ref
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.end_device_controls import EndDeviceControl
from cimmeter.model.meter_readings import IntervalReading, MeterReading, Reading
from cimmeter.xml.codec import plan_of
from cimmeter.xml.issues import Issue, SourceMap

# -- code systems (digest 5.1, 5.2, 5.3, 5.4) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeSystem:
    field_names: tuple[str, ...]
    signed_fields: frozenset[int] = frozenset()
    ranges: tuple[tuple[int, int], ...] | None = None


_U16 = (0, 65535)
CODE_SYSTEMS: dict[str, CodeSystem] = {
    "ReadingType": CodeSystem(
        (
            "macroPeriod",
            "aggregate",
            "measuringPeriod",
            "accumulation",
            "flowDirection",
            "commodity",
            "measurementKind",
            "interharmonicNumerator",
            "interharmonicDenominator",
            "argumentNumerator",
            "argumentDenominator",
            "tou",
            "cpp",
            "consumptionTier",
            "phases",
            "multiplier",
            "unit",
            "currency",
        ),
        # digest 5.4: only the multiplier (field 16) is signed; 16-bit ranges as in ESPI.
        signed_fields=frozenset({15}),
        ranges=(*([_U16] * 15), (-32768, 32767), _U16, _U16),
    ),
    "EndDeviceEventType": CodeSystem(("type", "domain", "subDomain", "eventOrAction")),
    "EndDeviceControlType": CodeSystem(("type", "domain", "subDomain", "eventOrAction")),
    "ReadingQualityType": CodeSystem(("systemId", "category", "subCategory")),
}


def check_code(kind: str, text: object) -> CodeError | None:
    """The syntax error of a code of system `kind`, or None when it is well-formed."""
    system = CODE_SYSTEMS[kind]
    try:
        split_code(
            text,
            kind=kind,
            field_names=system.field_names,
            signed_fields=system.signed_fields,
            ranges=system.ranges,
        )
    except CodeError as exc:
        return exc
    return None


# -- the walk ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    obj: CimModel
    path: str


def _walk(obj: CimModel, path: str) -> Iterator[_Node]:
    yield _Node(obj, path)
    for fp in plan_of(type(obj)).fields:
        if fp.model is None:
            continue
        value = getattr(obj, fp.name)
        if value is None:
            continue
        if fp.kind == "wildcard":
            yield from _walk(value, f"{path}/{value.profile}")
        elif fp.many:
            for i, item in enumerate(value, start=1):
                yield from _walk(item, f"{path}/{fp.xml}[{i}]")
        else:
            yield from _walk(value, f"{path}/{fp.xml}")


class _Findings:
    def __init__(self, source_map: SourceMap | None) -> None:
        self.items: list[Issue] = []
        self.source_map = source_map

    def add(
        self,
        severity: str,
        node: _Node,
        message: str,
        *,
        field: str | None = None,
        expected: str | None = None,
        path: str | None = None,
    ) -> None:
        line = self.source_map.line_of(node.obj, field) if self.source_map else None
        self.items.append(
            Issue(
                "error" if severity == "error" else "warning",
                message,
                path or node.path,
                line,
                expected,
            )
        )


# -- rules ---------------------------------------------------------------------------------------

Rule = Callable[[_Node, _Findings], None]


def _required(node: _Node, out: _Findings) -> None:
    for fp in plan_of(type(node.obj)).fields:
        if fp.soft_required and getattr(node.obj, fp.name) in (None, ()):
            out.add(
                "error",
                node,
                f"missing required element {fp.xml}",
                expected=f"{fp.xml} (required by the schema)",
            )


def _reference(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, Ref)
    kind = type(node.obj).code_kind
    ref = node.obj.ref
    if not ref:
        out.add("error", node, "empty reference", expected=f"ref holding a {kind or 'mRID'}")
        return
    if kind is not None:
        error = check_code(kind, ref)
        if error is not None:
            out.add("error", node, str(error), path=f"{node.path}/@ref")


def _interval(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, DateTimeInterval)
    start, end = node.obj.start, node.obj.end
    if start is not None and end is not None and end <= start:
        out.add(
            "error",
            node,
            f"interval ends ({end.isoformat()}) before or when it starts ({start.isoformat()})",
            field="end",
            expected="end later than start",
        )


def _request(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, Request)
    start, end = node.obj.start_time, node.obj.end_time
    if start is not None and end is not None and end <= start:
        out.add(
            "error",
            node,
            "EndTime is not after StartTime",
            field="end_time",
            expected="EndTime later than StartTime",
        )


def _value(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, Reading | IntervalReading)
    value = node.obj.value
    if value is not None and not isinstance(value, Decimal):
        out.add(
            "warning",
            node,
            f"value {value!r} is not a plain decimal number; kept as text",
            field="value",
            expected="a decimal such as 12.5 (digest 2.2.5)",
        )


def _meter_reading(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, MeterReading)
    if node.obj.meter is None and node.obj.usage_point is None:
        out.add(
            "warning",
            node,
            "MeterReading names neither a Meter nor a UsagePoint",
            expected="Meter and/or UsagePoint (digest 3.1)",
        )


def _control(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, EndDeviceControl)
    c = node.obj
    # digest 3.5 (M): at least one target.
    if not (c.end_devices or c.end_device_groups or c.usage_points or c.usage_point_groups):
        out.add(
            "warning",
            node,
            "EndDeviceControl has no target",
            expected="EndDevices, EndDeviceGroups, UsagePoints or UsagePointGroups (digest 3.5, M)",
        )


def _reply(node: _Node, out: _Findings) -> None:
    assert isinstance(node.obj, Reply)
    if node.obj.result != ReplyResult.OK and not node.obj.errors:
        out.add(
            "warning",
            node,
            f"Result {node.obj.result.value} without any Error",
            expected="one Error per failed item (digest 6.4)",
        )


RULES: dict[type[CimModel], tuple[Rule, ...]] = {
    DateTimeInterval: (_interval,),
    Request: (_request,),
    Reading: (_value,),
    IntervalReading: (_value,),
    MeterReading: (_meter_reading,),
    EndDeviceControl: (_control,),
    Reply: (_reply,),
}
"""Rules by model class, beyond the required elements and references every class gets."""


def _rules_of(cls: type[CimModel]) -> tuple[Rule, ...]:
    rules: tuple[Rule, ...] = (_required,)
    if issubclass(cls, Ref):
        rules += (_reference,)
    for base in cls.__mro__:
        rules += RULES.get(base, ())
    return rules


def check(obj: Message | CimDocument, source_map: SourceMap | None = None) -> list[Issue]:
    """Every business-rule finding of a message or a document, in document order."""
    root = obj.kind if isinstance(obj, Message) else obj.profile
    out = _Findings(source_map)
    for node in _walk(obj, f"/{root}"):
        for rule in _rules_of(type(node.obj)):
            rule(node, out)
    if isinstance(obj, RequestMessage):
        _check_get(obj, out)
    return out.items


def _check_get(message: RequestMessage, out: _Findings) -> None:
    if message.header.verb != Verb.get:
        return
    # digest 2.3 (M): the Header Noun of a get is the returned noun (MeterReadings).
    entry = REGISTRY.find_noun(message.header.noun)
    if entry is not None and entry.query is not None and message.query is None:
        out.add(
            "warning",
            _Node(message, "/RequestMessage/Request"),
            f"get {entry.noun} without a {entry.query.profile} query",
            expected=f"{entry.query.profile} in Request (digest fact 1)",
        )


__all__ = ["CODE_SYSTEMS", "RULES", "CodeSystem", "check", "check_code"]
