"""Findings about a document: errors and warnings, each with its line, element path and reason.

Readers collect every finding instead of stopping at the first, so that one run reports all
of them (`cimmeter validate`) and a service can reject single items (DESIGN.md rule 7). When
errors remain and the caller did not ask to collect them, `DocumentError` carries them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from cimmeter.xml.errors import XmlInputError

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: `line 12: /MeterReadings/MeterReading[2]/mRID: reason (expected ...)`."""

    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    expected: str | None = None

    def text(self) -> str:
        """The message with what was expected, without location."""
        return self.message if not self.expected else f"{self.message} (expected {self.expected})"

    def one_line(self, file: str | None = None) -> str:
        """`FILE:LINE: /path: message` (the form `cimmeter validate` prints)."""
        parts: list[str] = []
        if file is not None:
            parts.append(f"{file}:{self.line if self.line is not None else 0}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.path:
            parts.append(self.path)
        prefix = "" if self.severity == "error" else "warning: "
        return ": ".join([*parts, prefix + self.text()])

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "line": self.line,
            "path": self.path,
            "message": self.text(),
        }


class DocumentError(XmlInputError):
    """A document with errors: all of them, in document order (`issues`)."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        first = errors[0] if errors else None
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(
            (first.message if first else "invalid document") + more,
            line=first.line if first else None,
            path=first.path if first else None,
            expected=first.expected if first else None,
        )

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")


@dataclass(slots=True)
class Issues:
    """An ordered collection of findings that readers append to."""

    items: list[Issue] = field(default_factory=list)

    def error(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.items.append(Issue("error", message, path, line, expected))

    def warning(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.items.append(Issue("warning", message, path, line, expected))

    def extend(self, issues: Iterable[Issue]) -> None:
        self.items.extend(issues)

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise DocumentError(self.items)


@dataclass(slots=True)
class SourceMap:
    """Where each decoded object (and each of its fields) was in the source document.

    Keyed by object identity: the map is only meaningful while the decoded model is alive,
    which the reader's result guarantees by holding both.
    """

    elements: dict[int, int] = field(default_factory=dict)
    fields: dict[tuple[int, str], int] = field(default_factory=dict)

    def line_of(self, obj: object, field_name: str | None = None) -> int | None:
        if field_name is not None:
            line = self.fields.get((id(obj), field_name))
            if line is not None:
                return line
        return self.elements.get(id(obj))


__all__ = ["DocumentError", "Issue", "Issues", "Severity", "SourceMap"]
