"""The enumeration tables of the code systems, read from the CSV files in `codes/data/`.

Every table is data (STYLE.md, "Tables are data"): one CSV per enumeration, with the columns
`code,name,phrase,meaning,status,aliases` and, for some tables, more (`kind`, `source`,
`fallback`). Lines starting with `#` say where the table comes from.

- `name` is the CIM literal (what the JSON form and `.name` lookups return);
- `phrase` is how `describe()` words the value (empty: left out of the phrase);
- `status` is empty for an IEC 61968-9 Ed.2 value, else `later` (a later CIM release, not Ed.2),
  `espi` (an ESPI extension), `alias` (a second number for a name: decoded, never emitted),
  `obsolete` or `M` (not verified);
- `aliases` are other spellings accepted on input (e.g. the ESPI spelling `sec` for `s`),
  separated by `;`.

Numbers that no row holds are legal values: lookups return None and the number is kept
(digest 5.4).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_STATUSES = frozenset({"", "later", "espi", "alias", "obsolete", "M"})


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One value of an enumeration."""

    code: int
    name: str
    phrase: str
    meaning: str
    status: str = ""
    aliases: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)
    """The table's other columns (e.g. `kind` of an EndDeviceEventOrAction)."""


class CodeTable:
    """An enumeration: number <-> CIM literal, with phrases for `describe()`."""

    def __init__(self, title: str, rows: list[CodeRow]) -> None:
        self.title = title
        self.rows: tuple[CodeRow, ...] = tuple(rows)
        self._by_code: dict[int, CodeRow] = {}
        self._by_name: dict[str, int] = {}
        self._by_folded: dict[str, set[int]] = {}
        for row in self.rows:
            if row.code in self._by_code:
                raise ValueError(f"{title}: code {row.code} appears twice")
            self._by_code[row.code] = row
        # Names first, then aliases, so that an alias never hides a name; an `alias` row (a
        # second number for a name) never wins over the row that is emitted.
        for row in sorted(self.rows, key=lambda r: r.status == "alias"):
            self._by_name.setdefault(row.name, row.code)
        for row in self.rows:
            for alias in row.aliases:
                self._by_name.setdefault(alias, row.code)
        for spelling, code in self._by_name.items():
            self._by_folded.setdefault(spelling.casefold(), set()).add(code)

    def __iter__(self) -> Iterator[CodeRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __repr__(self) -> str:
        return f"<CodeTable {self.title} ({len(self.rows)} values)>"

    def row(self, code: int) -> CodeRow | None:
        """The row of a number, or None when the number is not in the table."""
        return self._by_code.get(code)

    def name(self, code: int) -> str | None:
        """The CIM literal of a number, or None when unknown."""
        row = self._by_code.get(code)
        return row.name if row is not None else None

    def code(self, name: str) -> int | None:
        """The number of a name: the exact CIM literal, then an alias, then a case-insensitive
        match when only one value fits (`m` is milli and `M` mega, so case matters first)."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        folded = self._by_folded.get(name.casefold())
        if folded is not None and len(folded) == 1:
            return next(iter(folded))
        return None

    def names(self) -> list[str]:
        """Every spelling accepted on input (names and aliases)."""
        return list(self._by_name)


def _data_lines(filename: str) -> list[str]:
    text = resources.files("cimmeter.codes").joinpath("data", filename).read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def read_rows(filename: str) -> list[dict[str, str]]:
    """The rows of a CSV file in `codes/data/`, comment lines skipped."""
    return list(csv.DictReader(_data_lines(filename)))


_CORE_COLUMNS = ("code", "name", "phrase", "meaning", "status", "aliases")


def _row(record: dict[str, str], filename: str) -> CodeRow:
    status = record.get("status", "")
    if status not in _STATUSES:
        raise ValueError(f"{filename}: unknown status {status!r} for code {record['code']}")
    aliases = tuple(a for a in record.get("aliases", "").split(";") if a)
    extra = {k: v for k, v in record.items() if k not in _CORE_COLUMNS}
    return CodeRow(
        code=int(record["code"]),
        name=record["name"],
        phrase=record.get("phrase", ""),
        meaning=record.get("meaning", ""),
        status=status,
        aliases=aliases,
        extra=extra,
    )


@cache
def load_table(filename: str) -> CodeTable:
    """The table in `codes/data/<filename>` (read once)."""
    title = filename.removesuffix(".csv")
    return CodeTable(title, [_row(r, filename) for r in read_rows(filename)])


@cache
def load_grouped_table(filename: str, group: str) -> Mapping[int, CodeTable]:
    """A table keyed by another field first (ReadingQualityType subCategory per category)."""
    groups: dict[int, list[CodeRow]] = {}
    for record in read_rows(filename):
        groups.setdefault(int(record[group]), []).append(_row(record, filename))
    title = filename.removesuffix(".csv")
    return {key: CodeTable(f"{title}[{key}]", rows) for key, rows in groups.items()}
