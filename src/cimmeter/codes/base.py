"""What the three dotted code systems share: field specs, the field view, JSON, pydantic.

Each code system is a frozen, slotted dataclass of ints (one attribute per CIM field, snake
case), so it is immutable, compares by kind and numbers, and hashes as the tuple of its numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from cimmeter.codes.errors import CodeError, UnknownNameError
from cimmeter.codes.syntax import join_code, split_code
from cimmeter.codes.tables import CodeRow, CodeTable

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a dotted code: its position, names and enumeration (None: free integer)."""

    position: int
    """1-based position in the dotted code."""
    attr: str
    """The Python attribute (snake case of the CIM name)."""
    cim_name: str
    """The CIM attribute name, as in the JSON form (`measuringPeriod`)."""
    table: CodeTable | None
    low: int = 0
    high: int | None = None


@dataclass(frozen=True, slots=True)
class CodeField:
    """One field of a parsed code, decoded: what `fields()` returns."""

    position: int
    attr: str
    cim_name: str
    code: int
    name: str | None
    """The CIM literal, or None for a number the table does not hold (or a free integer)."""
    row: CodeRow | None
    """The table row (phrase, meaning, status), None when unknown or not enumerated."""
    enumerated: bool
    """False for free integer fields (tou, cpp, interharmonic, ...): no name expected."""

    @property
    def known(self) -> bool:
        """True when the value has a name, or the field is a free integer."""
        return self.row is not None or not self.enumerated

    @property
    def meaning(self) -> str | None:
        return self.row.meaning if self.row is not None else None

    @property
    def status(self) -> str:
        return self.row.status if self.row is not None else ""


@dataclass(frozen=True, slots=True)
class DottedCode:
    """Base of ReadingType, EndDeviceEventType/ControlType and ReadingQualityType."""

    KIND: ClassVar[str] = ""
    SPECS: ClassVar[tuple[FieldSpec, ...]] = ()

    def __post_init__(self) -> None:
        # Direct construction gets the same checks as parse (digest 5.4, rules 6 and 8).
        for spec in self.SPECS:
            value = getattr(self, spec.attr)
            if type(value) is not int:
                if isinstance(value, int) and not isinstance(value, bool):
                    object.__setattr__(self, spec.attr, int(value))
                    continue
                raise CodeError(
                    value,
                    f"expected an integer, got {type(value).__name__}",
                    kind=self.KIND,
                    field_position=spec.position,
                    field_name=spec.cim_name,
                )
            if value < spec.low or (spec.high is not None and value > spec.high):
                span = f"{spec.low}..{spec.high}" if spec.high is not None else f">= {spec.low}"
                raise CodeError(
                    join_code(self.values),
                    f"{value} is outside {span}",
                    kind=self.KIND,
                    field_position=spec.position,
                    field_name=spec.cim_name,
                )

    # -- text ---------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse the dotted text strictly (digest 5.4); raises CodeError naming the field."""
        return cls(*split_code(text, **cls._syntax()))

    @classmethod
    def _syntax(cls) -> dict[str, Any]:
        return {
            "kind": cls.KIND,
            "field_names": [s.cim_name for s in cls.SPECS],
            "signed_fields": frozenset(s.position - 1 for s in cls.SPECS if s.low < 0),
            "ranges": _ranges(cls.SPECS),
        }

    def __str__(self) -> str:
        return join_code(self.values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}.parse({str(self)!r})"

    @property
    def values(self) -> tuple[int, ...]:
        """The numbers of the code, in field order."""
        return tuple(getattr(self, s.attr) for s in self.SPECS)

    # -- fields -------------------------------------------------------------------------------

    def _table(self, spec: FieldSpec) -> CodeTable | None:
        return spec.table

    def fields(self) -> tuple[CodeField, ...]:
        """Every field decoded: number, CIM literal (None when unknown), table row."""
        out = []
        for spec in self.SPECS:
            value = getattr(self, spec.attr)
            table = self._table(spec)
            row = table.row(value) if table is not None else None
            out.append(
                CodeField(
                    position=spec.position,
                    attr=spec.attr,
                    cim_name=spec.cim_name,
                    code=value,
                    name=row.name if row is not None else None,
                    row=row,
                    enumerated=spec.table is not None or self._enumerated(spec),
                )
            )
        return tuple(out)

    def _enumerated(self, spec: FieldSpec) -> bool:
        return False

    @classmethod
    def spec(cls, key: str) -> FieldSpec:
        """The field spec by Python attribute or CIM name (`measuring_period`/`measuringPeriod`)."""
        for spec in cls.SPECS:
            if key in (spec.attr, spec.cim_name):
                return spec
        known = [s.attr for s in cls.SPECS] + [s.cim_name for s in cls.SPECS]
        raise UnknownNameError(key, kind=cls.KIND, field_name="field", known=known)

    def field(self, key: str) -> CodeField:
        """One field decoded, by Python attribute or CIM name."""
        return self.fields()[self.spec(key).position - 1]

    def name_of(self, key: str) -> str | None:
        """The CIM literal of one field (`rt.name_of("measuringPeriod") == "fifteenMinute"`),
        None for a number the table does not hold."""
        return self.field(key).name

    def names(self) -> dict[str, str | int]:
        """Every field as its CIM literal, or its number when it has none: the keyword
        arguments that `build(**names)` turns back into this code (snake-case keys)."""
        return {f.attr: (f.name if f.name is not None else f.code) for f in self.fields()}

    @property
    def known(self) -> bool:
        """True when every enumerated field holds a number its table knows."""
        return all(f.known for f in self.fields())

    # -- descriptions and JSON ----------------------------------------------------------------

    def describe(self) -> str:
        """A phrase an engineer would write for this code."""
        raise NotImplementedError

    @property
    def kind(self) -> str:
        """The JSON `kind`: the class's CIM name."""
        return self.KIND

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: kind, code, fields (`{cimName: {"code", "name"}}`), description."""
        return {
            "kind": self.kind,
            "code": str(self),
            "fields": {f.cim_name: {"code": f.code, "name": f.name} for f in self.fields()},
            "description": self.describe(),
        }

    def to_json(self) -> str:
        """`to_dict()` as JSON text (one object)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    # -- construction from names --------------------------------------------------------------

    @classmethod
    def _resolve(cls, spec: FieldSpec, table: CodeTable | None, value: str | int) -> int:
        """A field value given as a number, a decimal string or a name (CIM literal or alias)."""
        if isinstance(value, bool):
            raise CodeError(value, "expected a name or an integer, got a bool", kind=cls.KIND)
        if isinstance(value, int):
            return value
        text = value.strip()
        if table is not None:
            found = table.code(text)
            if found is not None:
                return found
        if _is_integer(text, signed=spec.low < 0):
            return int(text)
        raise UnknownNameError(
            value,
            kind=cls.KIND,
            field_name=spec.cim_name,
            field_position=spec.position,
            known=table.names() if table is not None else (),
        )

    @classmethod
    def _from_names(cls, given: Mapping[str, str | int | None]) -> dict[str, int]:
        values: dict[str, int] = {}
        for key, value in given.items():
            if value is None:
                continue
            spec = cls.spec(key)
            values[spec.attr] = cls._resolve(spec, spec.table, value)
        return values

    # -- pydantic -----------------------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Let pydantic models hold a code: validated from its text, serialised as text."""
        from pydantic_core import core_schema

        from_text = core_schema.chain_schema(
            [core_schema.str_schema(), core_schema.no_info_plain_validator_function(cls.parse)]
        )
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_text]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def _ranges(specs: tuple[FieldSpec, ...]) -> list[tuple[int, int]] | None:
    out = []
    for spec in specs:
        if spec.high is None:
            return None
        out.append((spec.low, spec.high))
    return out


def _is_integer(text: str, *, signed: bool) -> bool:
    digits = text[1:] if signed and text.startswith("-") else text
    return digits.isascii() and digits.isdigit()


def unknown_phrase(spec: FieldSpec, value: int) -> str:
    """How describe() shows a number its table does not hold."""
    return f"[{spec.cim_name} {value}]"
