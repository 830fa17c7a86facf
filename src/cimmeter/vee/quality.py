"""The ReadingQualityType codes VEE writes (digest 5.3.3, 5.3.4), by rule and by method.

System 3 = MDM (digest 5.3.1). Validation failures keep the value and carry the rule's code;
estimates carry `3.8.n` with the method's number. The digest lists `3.8.n` (n > 0) as
"system-specific" (**M**): the method numbers below are cimmeter's own, documented in
docs/vee.md, and `3.8.0` is always added beside them so a reader that only knows the generic
code still sees "estimated".
"""

from __future__ import annotations

from typing import Final

VALIDATED: Final = "3.0.1"
"""MDM: validated and passed (digest 5.3.4)."""
EDITED: Final = "3.7.0"
"""MDM: manually edited."""
ADDED: Final = "3.7.1"
"""MDM: manually added (an edit where no reading was)."""
ESTIMATED: Final = "3.8.0"
"""MDM: estimated (generic)."""
QUESTIONABLE: Final = "3.10.0"
"""MDM: questionable, indeterminate (kept, not resolved)."""

# Estimation methods: 3.8.n, n is cimmeter's method number (M: the digest has no list).
METHOD_CODES: Final[dict[str, str]] = {
    "linear": "3.8.1",
    "like_day": "3.8.2",
    "proxy_day": "3.8.3",
    "proration": "3.8.4",
    "zero_fill": "3.8.5",
    "check_meter": "3.8.6",
}

# Device and head-end flags on raw readings that VEE reads as input (digest 5.3.4).
MISSING_MARKERS: Final[frozenset[str]] = frozenset({"2.5.259", "2.4.4", "1.4.4", "1.5.259"})
"""A value sent with one of these is a placeholder for a missing read, not a measurement."""
TAINT_FLAGS: Final[frozenset[str]] = frozenset(
    {"1.2.32", "1.1.9", "1.3.0", "1.3.1", "1.4.9", "1.4.64", "1.4.128"}
)
"""Device flags that make a value questionable: power fail, clock error/changed, tamper."""
INTERVAL_FLAGS: Final[frozenset[str]] = frozenset({"1.4.2", "1.4.3", "2.4.2", "2.4.3"})
"""Device or head-end: partial or long interval."""


def is_vee_code(code: str) -> bool:
    """Codes VEE itself assigns (system 3): dropped and recomputed on every run."""
    return code.startswith("3.")


def is_edit(codes: tuple[str, ...]) -> bool:
    return any(c.startswith("3.7.") for c in codes)


def is_estimate(codes: tuple[str, ...]) -> bool:
    return any(c.startswith("3.8.") for c in codes)
