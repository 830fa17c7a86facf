"""What VEE takes and gives for one channel (a meter's reading type over a time range).

Everything is columns: the raw block as the store returns it, context as small arrays of spans,
the result as a `ReadingBlock` plus one `Finding` per *run* of affected intervals (never one
object per reading).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from cimmeter.codes.reading_type import ReadingType
from cimmeter.model.readings import Int32Array, Int64Array, ReadingBlock

SECONDS_BY_MEASURING_PERIOD: Final[dict[int, int]] = {
    # digest 5.1.3 MeasuringPeriodKind -> interval length in seconds
    3: 60,
    10: 120,
    14: 180,
    6: 300,
    1: 600,
    2: 900,
    31: 1200,
    5: 1800,
    7: 3600,
    4: 86400,
}

Spans = npt.NDArray[np.int64]
"""Shape (n, 2): half-open (from, to] epoch-second spans."""
NO_SPANS: Final[Spans] = np.zeros((0, 2), dtype=np.int64)


def spans(pairs: list[tuple[int, int]]) -> Spans:
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2) if pairs else NO_SPANS


def interval_seconds(reading_type: str) -> int | None:
    """The interval length of a delta/interval ReadingType, None for registers and others."""
    rt = ReadingType.parse(reading_type)
    return SECONDS_BY_MEASURING_PERIOD.get(rt.measuring_period)


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed rule over a run of intervals (or one method used over a run), with why."""

    rule: str
    start: int
    """First affected timestamp (epoch seconds, interval end)."""
    end: int
    """Last affected timestamp."""
    count: int
    reason: str
    quality: str


@dataclass(frozen=True, slots=True)
class Taint:
    """A span that makes readings questionable (an outage, tamper or clock event)."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChannelInput:
    """One channel over (start, end], with what VEE needs around it."""

    raw: ReadingBlock
    start: int
    end: int
    now: int
    history: ReadingBlock | None = None
    """Final (else raw) values of the weeks before `start` (like-day, history limits)."""
    prior_final: ReadingBlock | None = None
    """The final series already stored over (start, end] (edits are kept)."""
    relay_open: Spans = field(default_factory=lambda: NO_SPANS)
    inactive: Spans = field(default_factory=lambda: NO_SPANS)
    taints: tuple[Taint, ...] = ()
    check_meter: ReadingBlock | None = None
    registers: ReadingBlock | None = None
    """For an interval channel: the register of the same quantity (proration)."""
    intervals: ReadingBlock | None = None
    """For a register channel: the interval channel of the same quantity (advance check)."""
    groups: tuple[str, ...] = ()


WHY: Final[tuple[str, ...]] = (
    "actual",
    "edit",
    "estimate:zero_fill",
    "estimate:check_meter",
    "estimate:linear",
    "estimate:proration",
    "estimate:like_day",
    "estimate:proxy_day",
)
WHY_INDEX: Final[dict[str, int]] = {w: i for i, w in enumerate(WHY)}


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """The final series of one channel and every finding."""

    final: ReadingBlock
    why: Int32Array
    """Per final row, an index into `WHY`."""
    findings: tuple[Finding, ...]
    expected: int
    """Intervals the grid has over the range (registers: rows read)."""

    def counts(self) -> dict[str, int]:
        """actual / estimated / edited / missing readings of this channel."""
        why = np.bincount(self.why, minlength=len(WHY))
        estimated = int(why[WHY_INDEX["estimate:zero_fill"] :].sum())
        actual, edited = int(why[0]), int(why[1])
        return {
            "actual": actual,
            "estimated": estimated,
            "edited": edited,
            "missing": max(0, self.expected - actual - estimated - edited),
        }


def timestamps_of(block: ReadingBlock | None) -> Int64Array:
    return block.timestamps if block is not None else np.zeros(0, dtype=np.int64)
