"""The lexical rules shared by the three dotted code systems (digest 5.4).

Strict: no whitespace anywhere, exact field count, ASCII decimal digits only, no negatives
except where a field allows them (ReadingType multiplier), values within 16-bit ranges where
the system says so. Leading zeros and `-0` are accepted and normalised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cimmeter.codes.errors import CodeError

_UNSIGNED = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")


def split_code(
    text: object,
    *,
    kind: str,
    field_names: Sequence[str],
    signed_fields: frozenset[int] = frozenset(),
    ranges: Sequence[tuple[int, int]] | None = None,
) -> tuple[int, ...]:
    """Parse `a.b.c...` into integers, checking every rule of digest 5.4.

    `signed_fields` holds 0-based positions that may be negative; `ranges` gives inclusive
    (min, max) per field, or None for unbounded non-negative integers.
    """
    if text is None or not isinstance(text, str):
        raise CodeError(text, "expected a dotted string of integers", kind=kind)
    if text == "":
        raise CodeError(text, "the code is empty", kind=kind)
    if any(ch.isspace() for ch in text):
        raise CodeError(text, "whitespace is not allowed in a code", kind=kind)
    parts = text.split(".")
    if len(parts) != len(field_names):
        raise CodeError(
            text,
            f"expected {len(field_names)} dot-separated fields, found {len(parts)}",
            kind=kind,
        )
    values: list[int] = []
    for i, part in enumerate(parts):
        name = field_names[i]
        if part == "":
            raise CodeError(
                text, "the field is empty", kind=kind, field_position=i + 1, field_name=name
            )
        pattern = _SIGNED if i in signed_fields else _UNSIGNED
        if not pattern.fullmatch(part):
            expected = "an integer" if i in signed_fields else "a non-negative integer"
            raise CodeError(
                text,
                f"{part!r} is not {expected}",
                kind=kind,
                field_position=i + 1,
                field_name=name,
            )
        value = int(part)
        if ranges is not None:
            low, high = ranges[i]
            if not low <= value <= high:
                raise CodeError(
                    text,
                    f"{value} is outside {low}..{high}",
                    kind=kind,
                    field_position=i + 1,
                    field_name=name,
                )
        values.append(value)
    return tuple(values)


def join_code(values: Sequence[int]) -> str:
    """The canonical text of a code: plain decimals joined by dots."""
    return ".".join(str(v) for v in values)
