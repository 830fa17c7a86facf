"""ReadingType: the 18-field dotted code of IEC 61968-9 Ed.2 (digest 5.1).

```
macroPeriod.aggregate.measuringPeriod.accumulation.flowDirection.commodity.measurementKind.
interharmonicNumerator.interharmonicDenominator.argumentNumerator.argumentDenominator.
tou.cpp.consumptionTier.phases.multiplier.unit.currency
```

>>> rt = ReadingType.parse("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0")
>>> rt.describe()
'15-minute delta forward active energy, kWh'
>>> rt.name_of("measuringPeriod"), rt.measuring_period
('fifteenMinute', 2)
>>> str(ReadingType.build(measuring_period="fifteenMinute", accumulation="deltaData",
...     flow_direction="forward", commodity="electricitySecondaryMetered",
...     measurement_kind="energy", multiplier="k", unit="Wh")) == str(rt)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import ClassVar

from cimmeter.codes.base import DottedCode, FieldSpec, unknown_phrase
from cimmeter.codes.errors import UnknownNameError
from cimmeter.codes.syntax import split_code
from cimmeter.codes.tables import load_table, read_rows

# digest 5.4 rule 8: the fields are 16-bit in ESPI (UInt16; the multiplier Int16).
_U16 = 65535


def _spec(position: int, attr: str, cim: str, table: str | None) -> FieldSpec:
    return FieldSpec(position, attr, cim, load_table(table) if table else None, 0, _U16)


SPECS: tuple[FieldSpec, ...] = (
    _spec(1, "macro_period", "macroPeriod", "macro_period.csv"),
    _spec(2, "aggregate", "aggregate", "aggregate.csv"),
    _spec(3, "measuring_period", "measuringPeriod", "measuring_period.csv"),
    _spec(4, "accumulation", "accumulation", "accumulation.csv"),
    _spec(5, "flow_direction", "flowDirection", "flow_direction.csv"),
    _spec(6, "commodity", "commodity", "commodity.csv"),
    _spec(7, "measurement_kind", "measurementKind", "measurement_kind.csv"),
    _spec(8, "interharmonic_numerator", "interharmonicNumerator", None),
    _spec(9, "interharmonic_denominator", "interharmonicDenominator", None),
    _spec(10, "argument_numerator", "argumentNumerator", None),
    _spec(11, "argument_denominator", "argumentDenominator", None),
    _spec(12, "tou", "tou", None),
    _spec(13, "cpp", "cpp", None),
    _spec(14, "consumption_tier", "consumptionTier", None),
    _spec(15, "phases", "phases", "phase_code.csv"),
    # digest 5.1.12 / DECISIONS.md: the multiplier is the only signed field (-3 = milli).
    FieldSpec(16, "multiplier", "multiplier", load_table("unit_multiplier.csv"), -32768, 32767),
    _spec(17, "unit", "unit", "unit_symbol.csv"),
    # digest 5.1.14: any ISO 4217 number is legal; the table names the ESPI subset only.
    _spec(18, "currency", "currency", "currency.csv"),
)

# How describe() qualifies energy, demand and power by the unit (Wh -> "active energy").
_QUALIFIED_KINDS = frozenset({"energy", "demand", "power"})
_UNIT_QUALIFIER = {
    "W": "active",
    "Wh": "active",
    "VAr": "reactive",
    "VArh": "reactive",
    "VA": "apparent",
    "VAh": "apparent",
}
_MONEY = 80  # UnitSymbol money: the currency field names it (digest 5.1.13)


@dataclass(frozen=True, slots=True, repr=False)
class ReadingType(DottedCode):
    """An IEC 61968-9 ReadingType code: 18 integers, Python attributes in snake case.

    Unknown numbers are kept (their name is None); only the multiplier may be negative.
    """

    KIND: ClassVar[str] = "ReadingType"
    SPECS: ClassVar[tuple[FieldSpec, ...]] = SPECS

    macro_period: int = 0
    aggregate: int = 0
    measuring_period: int = 0
    accumulation: int = 0
    flow_direction: int = 0
    commodity: int = 0
    measurement_kind: int = 0
    interharmonic_numerator: int = 0
    interharmonic_denominator: int = 0
    argument_numerator: int = 0
    argument_denominator: int = 0
    tou: int = 0
    cpp: int = 0
    consumption_tier: int = 0
    phases: int = 0
    multiplier: int = 0
    unit: int = 0
    currency: int = 0

    @classmethod
    def parse(cls, text: str) -> ReadingType:
        """Parse the 18-field text strictly (digest 5.4); CodeError names the bad field."""
        if not isinstance(text, str):
            return cls(*_split(text))  # raises the CodeError for a non-string
        return _parse(text)

    @classmethod
    def build(
        cls,
        *,
        macro_period: str | int | None = None,
        aggregate: str | int | None = None,
        measuring_period: str | int | None = None,
        accumulation: str | int | None = None,
        flow_direction: str | int | None = None,
        commodity: str | int | None = None,
        measurement_kind: str | int | None = None,
        interharmonic_numerator: str | int | None = None,
        interharmonic_denominator: str | int | None = None,
        argument_numerator: str | int | None = None,
        argument_denominator: str | int | None = None,
        tou: str | int | None = None,
        cpp: str | int | None = None,
        consumption_tier: str | int | None = None,
        phases: str | int | None = None,
        multiplier: str | int | None = None,
        unit: str | int | None = None,
        currency: str | int | None = None,
    ) -> ReadingType:
        """A ReadingType from CIM literals (or aliases such as the ESPI spelling) or numbers;
        omitted fields are 0. `build(unit="Wh", multiplier="k", measuring_period=
        "fifteenMinute", accumulation="deltaData")`. Unknown names raise UnknownNameError."""
        given = {
            "macro_period": macro_period,
            "aggregate": aggregate,
            "measuring_period": measuring_period,
            "accumulation": accumulation,
            "flow_direction": flow_direction,
            "commodity": commodity,
            "measurement_kind": measurement_kind,
            "interharmonic_numerator": interharmonic_numerator,
            "interharmonic_denominator": interharmonic_denominator,
            "argument_numerator": argument_numerator,
            "argument_denominator": argument_denominator,
            "tou": tou,
            "cpp": cpp,
            "consumption_tier": consumption_tier,
            "phases": phases,
            "multiplier": multiplier,
            "unit": unit,
            "currency": currency,
        }
        return cls(**cls._from_names(given))

    @classmethod
    def named(cls, name: str) -> ReadingType:
        """A common reading type by id (`named("fifteenMinuteDeltaForwardKWh")`), from
        `data/named_reading_types.csv` (the worked examples of digest 5.1.17)."""
        entry = named_reading_types().get(name)
        if entry is None:
            raise UnknownNameError(
                name, kind=cls.KIND, field_name="id", known=named_reading_types()
            )
        return entry[0]

    # -- description --------------------------------------------------------------------------

    def describe(self) -> str:
        """E.g. "15-minute delta forward active energy, kWh" (digest 5.1.16)."""
        fields = self.fields()
        words: list[str] = []
        for f in fields[:6]:  # macroPeriod .. commodity, in code order
            words.append(
                f.row.phrase if f.row is not None else unknown_phrase(SPECS[f.position - 1], f.code)
            )
        kind = fields[6]
        unit = fields[16]
        if kind.row is None:
            words.append(unknown_phrase(SPECS[6], kind.code))
        elif kind.row.phrase:
            qualifier = (
                _UNIT_QUALIFIER.get(unit.name or "") if kind.name in _QUALIFIED_KINDS else None
            )
            words.append(f"{qualifier} {kind.row.phrase}" if qualifier else kind.row.phrase)
        main = " ".join(w for w in words if w) or "unspecified reading type"
        extras = [e for e in self._extras() if e]
        unit_text = self._unit_text()
        return ", ".join([main, *extras, *([unit_text] if unit_text else [])])

    def _extras(self) -> list[str]:
        phases = self.fields()[14]
        out = [
            phases.row.phrase if phases.row is not None else unknown_phrase(SPECS[14], self.phases)
        ]
        num, den = self.interharmonic_numerator, self.interharmonic_denominator
        if (num, den) == (1, 1):
            out.append("fundamental")
        elif den == 1:
            out.append(f"harmonic {num}")
        elif (num, den) != (0, 0):
            out.append(f"interharmonic {num}/{den}")
        if (self.argument_numerator, self.argument_denominator) != (0, 0):
            out.append(f"argument {self.argument_numerator}/{self.argument_denominator}")
        if self.tou:
            # digest 5.1.10: by convention 1 = rate A, 2 = rate B, ...
            out.append(f"TOU rate {chr(64 + self.tou)}" if self.tou <= 26 else f"TOU {self.tou}")
        if self.cpp:
            out.append(f"CPP {self.cpp}")
        if self.consumption_tier:
            out.append(f"tier {self.consumption_tier}")
        if self.currency and self.unit != _MONEY:
            out.append(f"in {self._currency_text()}")
        return out

    def _currency_text(self) -> str:
        row = SPECS[17].table.row(self.currency) if SPECS[17].table else None
        return row.phrase if row is not None and row.phrase else f"currency {self.currency}"

    def _unit_text(self) -> str:
        mult = SPECS[15].table.row(self.multiplier) if SPECS[15].table else None
        unit = SPECS[16].table.row(self.unit) if SPECS[16].table else None
        if self.unit == _MONEY:
            scale = f" ×10^{self.multiplier}" if self.multiplier else ""
            return self._currency_text() + scale
        base = unknown_phrase(SPECS[16], self.unit) if unit is None else unit.phrase
        if self.multiplier == 0:
            return base
        if mult is None or not base:
            return f"×10^{self.multiplier} {base}".rstrip()
        return f"{mult.phrase}{base}"


@lru_cache(maxsize=4096)
def _parse(text: str) -> ReadingType:
    # Readers meet the same few reading types over and over: parse each text once.
    return ReadingType(*_split(text))


def _split(text: object) -> tuple[int, ...]:
    return split_code(text, **ReadingType._syntax())


@cache
def named_reading_types() -> dict[str, tuple[ReadingType, str]]:
    """id -> (ReadingType, description) from `data/named_reading_types.csv`."""
    return {
        r["id"]: (ReadingType.parse(r["code"]), r["description"])
        for r in read_rows("named_reading_types.csv")
    }
