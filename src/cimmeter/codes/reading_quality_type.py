"""ReadingQualityType: `systemId.category.subCategory` (digest 5.3).

systemId says who assigned the quality (1 end device, 2 head-end/MDC, 3 MDM; digest 5.3.1);
the subCategory table depends on the category (digest 5.3.3).

>>> ReadingQualityType.parse("3.8.0").describe()
'estimated, by the MDM'
>>> ReadingQualityType.named("mdmValidated")
ReadingQualityType.parse('3.0.1')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import ClassVar, Self

from cimmeter.codes.base import DottedCode, FieldSpec, unknown_phrase
from cimmeter.codes.errors import UnknownNameError
from cimmeter.codes.tables import CodeTable, load_grouped_table, load_table, read_rows

SPECS: tuple[FieldSpec, ...] = (
    FieldSpec(1, "system_id", "systemId", load_table("quality_system.csv")),
    FieldSpec(2, "category", "category", load_table("quality_category.csv")),
    # The subCategory table depends on the category: see ReadingQualityType._table.
    FieldSpec(3, "sub_category", "subCategory", None),
)
SUB_CATEGORIES = load_grouped_table("quality_subcategory.csv", "category")
_EMPTY = CodeTable("quality_subcategory[none]", [])


@dataclass(frozen=True, slots=True, repr=False)
class ReadingQualityType(DottedCode):
    """An IEC 61968-9 ReadingQualityType code (`3.8.0` = estimated by the MDM)."""

    KIND: ClassVar[str] = "ReadingQualityType"
    SPECS: ClassVar[tuple[FieldSpec, ...]] = SPECS

    system_id: int = 0
    category: int = 0
    sub_category: int = 0

    def _table(self, spec: FieldSpec) -> CodeTable | None:
        if spec.position == 3:
            return SUB_CATEGORIES.get(self.category, _EMPTY)
        return spec.table

    def _enumerated(self, spec: FieldSpec) -> bool:
        return spec.position == 3

    @classmethod
    def build(
        cls,
        *,
        system_id: str | int = 0,
        category: str | int = 0,
        sub_category: str | int = 0,
    ) -> Self:
        """A code from names (`build(system_id="MDM", category="estimated")`) or numbers; the
        subCategory name is looked up in the table of the category."""
        values = cls._from_names({"system_id": system_id, "category": category})
        table = SUB_CATEGORIES.get(values.get("category", 0), _EMPTY)
        values["sub_category"] = cls._resolve(SPECS[2], table, sub_category)
        return cls(**values)

    @classmethod
    def named(cls, name: str) -> Self:
        """A VEE-relevant code by id (`named("mdmEstimated")`), from
        `data/named_quality_codes.csv` (digest 5.3.4)."""
        entry = named_quality_codes().get(name)
        if entry is None:
            raise UnknownNameError(
                name, kind=cls.KIND, field_name="id", known=named_quality_codes()
            )
        return cls(*entry[0].values)

    def describe(self) -> str:
        """E.g. "estimated, by the MDM", "data collection: skipped (missing) interval, by the
        end device"."""
        system, category, sub = self.fields()
        words: list[str] = []
        if category.row is None:
            words.append(unknown_phrase(SPECS[1], self.category))
        elif category.row.phrase:
            words.append(category.row.phrase)
        if sub.row is not None:
            detail = sub.row.phrase
        else:
            # digest 5.3.3: an unknown x.6.n / x.8.n / x.11.n is shown as a specific rule,
            # method or inference; the number is kept and the name stays None.
            fallback = category.row.extra.get("fallback", "") if category.row else ""
            detail = (
                fallback.format(n=self.sub_category)
                if fallback
                else unknown_phrase(SPECS[2], self.sub_category)
            )
        text = ": ".join(w for w in [" ".join(words), detail] if w) or "valid"
        if system.row is None:
            return f"{text}, {unknown_phrase(SPECS[0], self.system_id)}"
        return f"{text}, {system.row.phrase}" if system.row.phrase else text


@cache
def named_quality_codes() -> dict[str, tuple[ReadingQualityType, str]]:
    """id -> (ReadingQualityType, description) from `data/named_quality_codes.csv`."""
    return {
        r["id"]: (ReadingQualityType.parse(r["code"]), r["description"])
        for r in read_rows("named_quality_codes.csv")
    }
