"""EndDeviceEventType and EndDeviceControlType: `type.domain.subDomain.eventOrAction` (digest 5.2).

Both share the four tables (EndDeviceType, EndDeviceDomain, EndDeviceSubdomain,
EndDeviceEventOrAction) and the named codes of `data/named_end_device_codes.csv`:

>>> EndDeviceControlType.named("remoteDisconnect")
EndDeviceControlType.parse('3.31.0.23')
>>> EndDeviceEventType.parse("0.26.0.85").matches(EndDeviceEventType.named("powerOff"))
True

Matching compares domain, subDomain and eventOrAction; the type digit (0 = not specified, 3 =
electric meter) is an optional filter and is never rewritten (digest 4.0, 5.4).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import ClassVar, Literal, Self

from cimmeter.codes.base import DottedCode, FieldSpec, unknown_phrase
from cimmeter.codes.errors import CodeError, UnknownNameError
from cimmeter.codes.syntax import split_code
from cimmeter.codes.tables import load_table, read_rows

EVENT_OR_ACTION = load_table("end_device_event_or_action.csv")
SPECS: tuple[FieldSpec, ...] = (
    FieldSpec(1, "type", "type", load_table("end_device_type.csv")),
    FieldSpec(2, "domain", "domain", load_table("end_device_domain.csv")),
    FieldSpec(3, "sub_domain", "subDomain", load_table("end_device_subdomain.csv")),
    FieldSpec(4, "event_or_action", "eventOrAction", EVENT_OR_ACTION),
)

ELECTRIC_METER = 3
"""EndDeviceType of an electricity meter: what cimmeter writes when it originates a code."""

Key = tuple[int, int, int]
"""(domain, subDomain, eventOrAction): what matching compares."""

OutcomeResult = Literal["processed", "error", "cancelled", "expired"]
OUTCOME_RESULTS: tuple[OutcomeResult, ...] = ("processed", "error", "cancelled", "expired")


@dataclass(frozen=True, slots=True, repr=False)
class EndDeviceCode(DottedCode):
    """What EndDeviceEventType and EndDeviceControlType share (not used on its own)."""

    KIND: ClassVar[str] = "EndDeviceCode"
    SPECS: ClassVar[tuple[FieldSpec, ...]] = SPECS

    type: int = 0
    domain: int = 0
    sub_domain: int = 0
    event_or_action: int = 0

    @classmethod
    def build(
        cls,
        *,
        type: str | int = ELECTRIC_METER,  # the CIM attribute is `type`
        domain: str | int = 0,
        sub_domain: str | int = 0,
        event_or_action: str | int = 0,
    ) -> Self:
        """A code from names (`build(domain="RCDSwitch", event_or_action="Disconnect")`) or
        numbers. `type` defaults to ElectricMeter (3): cimmeter writes the real device type
        when it originates a code (digest 4.0)."""
        given: dict[str, str | int | None] = {
            "type": type,
            "domain": domain,
            "sub_domain": sub_domain,
            "event_or_action": event_or_action,
        }
        return cls(**cls._from_names(given))

    @classmethod
    def named(cls, name: str) -> Self:
        """A common code by id (`EndDeviceEventType.named("powerOff")`, `EndDeviceControlType.
        named("remoteDisconnect")`), from `data/named_end_device_codes.csv`."""
        entry = named_end_device_codes().get(name)
        mine = [n for n, e in named_end_device_codes().items() if isinstance(e.code, cls)]
        if entry is None or not isinstance(entry.code, cls):
            note = None
            if entry is not None:
                other = entry.code.KIND
                note = f"{name!r} names an {other}: use {other}.named({name!r})"
            raise UnknownNameError(name, kind=cls.KIND, field_name="id", known=mine, note=note)
        return entry.code

    @property
    def key(self) -> Key:
        """(domain, subDomain, eventOrAction): the part that says what happened."""
        return (self.domain, self.sub_domain, self.event_or_action)

    def with_type(self, device_type: int) -> Self:
        """The same code for another device type (say, when originating for a gas meter)."""
        return dataclasses.replace(self, type=device_type)

    def matches(self, other: EndDeviceCode | str, *, match_type: bool = False) -> bool:
        """True when `other` (a code, its text, or a pattern with `*` fields such as
        `"*.26.*.85"`) has the same domain, subDomain and eventOrAction. The type digit is
        compared only with `match_type=True` (digest 5.4: 0 and 3 both occur)."""
        if isinstance(other, EndDeviceCode):
            pattern: tuple[int | None, ...] = other.values
        else:
            pattern = _pattern(other)
        start = 0 if match_type else 1
        return all(
            p is None or p == v for p, v in zip(pattern[start:], self.values[start:], strict=True)
        )

    def identify(self) -> tuple[NamedEndDeviceCode, ...]:
        """The named codes this code means (matched on the last three fields, including the
        other forms in use listed in the `also` column), the same type first."""
        found = [e for e in named_end_device_codes().values() if e.matches(self)]
        found.sort(key=lambda e: e.code.type != self.type)
        return tuple(found)

    def describe(self) -> str:
        """E.g. "power off / outage (meter): electric meter power failed"."""
        words = []
        for f in self.fields():
            if f.row is None:
                words.append(unknown_phrase(self.SPECS[f.position - 1], f.code))
            elif f.row.phrase:
                words.append(f.row.phrase)
        base = " ".join(words) or "not applicable"
        named = self.identify()
        return f"{named[0].description}: {base}" if named else base

    @property
    def action_kind(self) -> str:
        """`control`, `event` or `both` from the EndDeviceEventOrAction table ("" unknown)."""
        row = EVENT_OR_ACTION.row(self.event_or_action)
        return row.extra.get("kind", "") if row is not None else ""


@dataclass(frozen=True, slots=True, repr=False)
class EndDeviceEventType(EndDeviceCode):
    """An IEC 61968-9 EndDeviceEventType code (something that happened)."""

    KIND: ClassVar[str] = "EndDeviceEventType"

    def outcome_for(self, control: EndDeviceControlType | str) -> OutcomeResult | None:
        """The result this event reports for `control` (digest 4.7), or None if it is not an
        outcome of it. Accepts both conventions: the generic 44/79/10/64 and the
        switch-specific 68/84 (disconnect), 42/67 (connect), ...; the type digit is ignored."""
        if isinstance(control, str):
            control = EndDeviceControlType.parse(control)
        if (self.domain, self.sub_domain) != (control.domain, control.sub_domain):
            return None
        for rule in outcome_rules():
            if rule.applies_to(control) and rule.event == self.event_or_action:
                return rule.result
        return None

    def as_control(self) -> EndDeviceControlType:
        return EndDeviceControlType(*self.values)


@dataclass(frozen=True, slots=True, repr=False)
class EndDeviceControlType(EndDeviceCode):
    """An IEC 61968-9 EndDeviceControlType code (a command)."""

    KIND: ClassVar[str] = "EndDeviceControlType"

    def outcome(
        self, result: OutcomeResult, *, form: Literal["switch", "generic"] | None = None
    ) -> EndDeviceEventType:
        """The event that reports `result` for this control: the control code with its last
        field replaced (digest 4.7). Service-switch controls get the switch-specific form
        (3.31.0.23 processed -> 3.31.0.68 Disconnected), others the generic one (44, 79, 10,
        64), as cimmeter emits them (digest 5.2); `form="generic"` forces the generic one."""
        if result not in OUTCOME_RESULTS:
            raise UnknownNameError(
                result, kind=self.KIND, field_name="outcome result", known=OUTCOME_RESULTS
            )
        rules = [r for r in outcome_rules() if r.result == result and r.applies_to(self)]
        if form == "generic":
            rules = [r for r in rules if r.form == "generic"]
        else:
            rules.sort(key=lambda r: r.form != "switch")  # the switch-specific form first
        return EndDeviceEventType(self.type, self.domain, self.sub_domain, rules[0].event)

    def as_event(self) -> EndDeviceEventType:
        return EndDeviceEventType(*self.values)


# -- named codes --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamedEndDeviceCode:
    """A row of `data/named_end_device_codes.csv`."""

    id: str
    code: EndDeviceEventType | EndDeviceControlType
    description: str
    also: tuple[Key, ...]
    """Other (domain, subDomain, eventOrAction) forms in use for the same meaning, mapped on
    input and never emitted (digest 4.0, 5.2.5)."""
    confidence: str
    source: str

    @property
    def kind(self) -> str:
        return self.code.KIND

    def matches(self, code: EndDeviceCode) -> bool:
        return code.key == self.code.key or code.key in self.also


@cache
def named_end_device_codes() -> dict[str, NamedEndDeviceCode]:
    """id -> named code, in table order."""
    out: dict[str, NamedEndDeviceCode] = {}
    for r in read_rows("named_end_device_codes.csv"):
        cls: type[EndDeviceEventType] | type[EndDeviceControlType] = (
            EndDeviceControlType if r["kind"] == "control" else EndDeviceEventType
        )
        if r["kind"] not in ("event", "control"):
            raise ValueError(f"named_end_device_codes.csv: kind {r['kind']!r} of {r['id']}")
        also = tuple(_key(a) for a in r["also"].split(";") if a)
        if r["id"] in out:
            raise ValueError(f"named_end_device_codes.csv: id {r['id']} appears twice")
        out[r["id"]] = NamedEndDeviceCode(
            r["id"], cls.parse(r["code"]), r["description"], also, r["confidence"], r["source"]
        )
    return out


def _key(text: str) -> Key:
    d, s, e = split_code(text, kind="EndDevice key", field_names=[x.cim_name for x in SPECS[1:]])
    return (d, s, e)


# -- control outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """A row of `data/control_outcomes.csv`."""

    domain: int | None
    control: int | None
    result: OutcomeResult
    event: int
    form: str
    confidence: str

    def applies_to(self, control: EndDeviceCode) -> bool:
        return (self.domain is None or self.domain == control.domain) and (
            self.control is None or self.control == control.event_or_action
        )


@cache
def outcome_rules() -> tuple[OutcomeRule, ...]:
    def number(text: str) -> int | None:
        return None if text == "*" else int(text)

    rules = []
    for r in read_rows("control_outcomes.csv"):
        result = next((x for x in OUTCOME_RESULTS if x == r["result"]), None)
        if result is None:
            raise ValueError(f"control_outcomes.csv: unknown result {result!r}")
        rules.append(
            OutcomeRule(
                number(r["domain"]),
                number(r["control"]),
                result,
                int(r["event"]),
                r["form"],
                r["confidence"],
            )
        )
    return tuple(rules)


# -- patterns -----------------------------------------------------------------------------------


@cache
def _pattern(text: str) -> tuple[int | None, ...]:
    """`3.26.0.85` or `*.26.*.85` -> numbers, None for `*`."""
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 4:
        raise CodeError(
            text, f"expected 4 dot-separated fields, found {len(parts)}", kind="pattern"
        )
    if "*" not in parts:
        return EndDeviceEventType.parse(text).values
    concrete = ".".join("0" if p == "*" else p for p in parts)
    values = EndDeviceEventType.parse(concrete).values
    return tuple(None if p == "*" else v for p, v in zip(parts, values, strict=True))


def kind_for(code: EndDeviceCode) -> type[EndDeviceEventType] | type[EndDeviceControlType]:
    """EndDeviceControlType when the eventOrAction is a command verb (Disconnect, Reset, ...),
    else EndDeviceEventType: how `cimmeter codes describe` names a bare 4-field code."""
    return EndDeviceControlType if code.action_kind == "control" else EndDeviceEventType
