"""Find codes by words: `search("power off")`, `search("remote disconnect")`, `search("reverse
energy")`.

Looks through the named codes (events, controls, reading types, VEE quality codes) first, then
every enumeration value (ReadingType fields, EndDevice fields, quality subcategories). Every
word must match the start of a word of the entry (its id, description, decoded phrase, CIM
name split at capitals, meaning); case does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from cimmeter.codes.end_device_event_type import SPECS as END_DEVICE_SPECS
from cimmeter.codes.end_device_event_type import named_end_device_codes
from cimmeter.codes.reading_quality_type import SPECS as QUALITY_SPECS
from cimmeter.codes.reading_quality_type import SUB_CATEGORIES, named_quality_codes
from cimmeter.codes.reading_type import SPECS as READING_TYPE_SPECS
from cimmeter.codes.reading_type import named_reading_types


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One match: a whole code (named) or one value of a field."""

    kind: str
    """`ReadingType`, `EndDeviceEventType`, `EndDeviceControlType`, `ReadingQualityType`, or
    `<Kind>.<field>` for a value of one field (`ReadingType.flowDirection`)."""
    code: str
    """The whole code, or the field's number for a field value (`*.8.0` for a quality
    subCategory: any systemId)."""
    id: str | None
    """The id for `named(...)` (named codes), or the CIM literal (field values)."""
    description: str

    def to_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "code": self.code,
            "id": self.id,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    hit: SearchHit
    words: frozenset[str]
    tier: int  # 0 named codes, 1 field values


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words_of(*texts: str) -> frozenset[str]:
    """Lower-case words of texts, CIM names split at capitals (`RCDSwitch` -> rcd, switch)."""
    out: set[str] = set()
    for text in texts:
        for token in re.split(r"[^0-9A-Za-z]+", text):
            out.add(token.lower())
            out.update(w.lower() for w in _WORD.findall(token))
    out.discard("")
    return frozenset(out)


@cache
def _index() -> tuple[_Entry, ...]:
    entries: list[_Entry] = []

    def add(tier: int, hit: SearchHit, *texts: str) -> None:
        entries.append(_Entry(hit, words_of(hit.description, hit.id or "", *texts), tier))

    for named in named_end_device_codes().values():
        code = named.code
        add(0, SearchHit(code.KIND, str(code), named.id, named.description), code.describe())
    for ident, (rt, text) in named_reading_types().items():
        add(0, SearchHit(rt.KIND, str(rt), ident, rt.describe()), text)
    for ident, (rq, text) in named_quality_codes().items():
        add(0, SearchHit(rq.KIND, str(rq), ident, text), rq.describe())
    for kind, specs in (
        ("ReadingType", READING_TYPE_SPECS),
        ("EndDeviceEventType", END_DEVICE_SPECS),
        ("ReadingQualityType", QUALITY_SPECS),
    ):
        for spec in specs:
            for row in spec.table or ():
                hit = SearchHit(
                    f"{kind}.{spec.cim_name}", str(row.code), row.name, row.meaning or row.name
                )
                add(1, hit, row.phrase, *row.aliases)
    for category, table in sorted(SUB_CATEGORIES.items()):
        for row in table:
            hit = SearchHit(
                "ReadingQualityType.subCategory", f"*.{category}.{row.code}", row.name, row.meaning
            )
            add(1, hit, row.phrase)
    return tuple(entries)


def search(query: str | Sequence[str], *, limit: int | None = 25) -> list[SearchHit]:
    """Codes whose words start with every word of `query`: named codes first, then field
    values; within each, entries with more whole-word matches first, then table order."""
    text = query if isinstance(query, str) else " ".join(query)
    wanted = sorted(words_of(text))
    if not wanted:
        return []
    scored: list[tuple[int, int, int, SearchHit]] = []
    for order, entry in enumerate(_index()):
        exact = 0
        for word in wanted:
            if word in entry.words:
                exact += 1
            elif not any(w.startswith(word) for w in entry.words):
                break
        else:
            scored.append((entry.tier, -exact, order, entry.hit))
    scored.sort(key=lambda s: s[:3])
    hits = [s[3] for s in scored]
    return hits[:limit] if limit is not None else hits
