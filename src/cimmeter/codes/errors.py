"""Errors of the code systems."""

from __future__ import annotations


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
