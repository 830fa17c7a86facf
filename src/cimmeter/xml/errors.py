"""Errors of XML input: each says what, where (line, element path) and what was expected."""

from __future__ import annotations


class XmlInputError(ValueError):
    """Input that cannot be accepted as XML. Base of the specific families below."""

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.path = path
        self.expected = expected
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """`line 12: /MeterReadings/MeterReading: reason (expected ...)`."""
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.path:
            parts.append(self.path)
        text = self.reason if not self.expected else f"{self.reason} (expected {self.expected})"
        return ": ".join([*parts, text])


class XmlSyntaxError(XmlInputError):
    """Not well-formed XML (what the XML parser reported, with line and column)."""


class XmlSecurityError(XmlInputError):
    """Input refused for safety: a DTD or entity declaration, excessive depth or size."""
