"""Errors of the code systems."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CodeError(ValueError):
    """A malformed code: says which code, which field (1-based position and CIM name) and why."""

    def __init__(
        self,
        code: object,
        reason: str,
        *,
        kind: str | None = None,
        field_position: int | None = None,
        field_name: str | None = None,
    ) -> None:
        where = ""
        if field_position is not None:
            where = f" field {field_position}"
            if field_name:
                where += f" ({field_name})"
        what = f"{kind} " if kind else ""
        super().__init__(f"malformed {what}code {code!r}:{where} {reason}")
        self.code = code
        self.reason = reason
        self.kind = kind
        self.field_position = field_position
        self.field_name = field_name


class UnknownNameError(CodeError):
    """A name that no table holds, given where a field value or a named code was expected.

    Raised by the `build(...)` and `named(...)` constructors; the message suggests close names.
    """

    def __init__(
        self,
        name: object,
        *,
        kind: str,
        field_name: str,
        field_position: int | None = None,
        known: Iterable[str] = (),
        note: str | None = None,
    ) -> None:
        close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        if note:
            hint = f"; {note}"
        reason = f"unknown {field_name} name {name!r} for {kind}{hint}"
        # Not a malformed code, so the message is written here rather than by CodeError.
        ValueError.__init__(self, reason)
        self.code = name
        self.reason = reason
        self.kind = kind
        self.field_position = field_position
        self.field_name = field_name
