"""Anomalies injected into readings, with the ground truth VEE is measured against (issue 10).

`inject_anomalies` takes blocks (typically generated with `Realism.clean()` and no random
events, so nothing else is wrong with them) and returns new blocks plus one `InjectedAnomaly`
per change: which meter and reading type, which timestamps, what kind, the values before. A
block that gets no anomaly is returned as the same object, and a block that gets some differs
only at the timestamps its ground truth names (a rollover excepted: see below).

Interval blocks get gaps, spikes, zero runs, flat lines, negative values, duplicate timestamps
and off-grid (overlapping) timestamps; register blocks get jumps and rollovers. Anomalies of one
block never touch or neighbour each other, so each has one cause. Which block gets what, and
where, is a pure function of (seed, meter, reading type), like the rest of the simulator.

A rollover is a register with fewer dials: it wraps at 10^k. To make the wrap fall between two
chosen reads, the whole block is shifted by a constant first (so every value of that block
changes, but every advance between reads is unchanged except across the wrap); the ground truth
names the first read after the wrap and gives the modulus and the shift.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cimmeter.headend import noise
from cimmeter.headend.errors import FleetOptionsError
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock

AnomalyKind = Literal[
    "gap",
    "spike",
    "zero_run",
    "flat_line",
    "negative",
    "duplicate",
    "off_grid",
    "register_jump",
    "rollover",
]
INTERVAL_KINDS: Final[tuple[AnomalyKind, ...]] = (
    "gap",
    "spike",
    "zero_run",
    "flat_line",
    "negative",
    "duplicate",
    "off_grid",
)
REGISTER_KINDS: Final[tuple[AnomalyKind, ...]] = ("register_jump", "rollover")
Window = tuple[int, int]


@dataclass(frozen=True, slots=True)
class AnomalyPlan:
    """The share of blocks that get each kind of anomaly, and their sizes (in readings)."""

    gap: float = 0.05
    gap_length: Window = (1, 8)
    spike: float = 0.05
    spike_factor: tuple[float, float] = (8.0, 25.0)
    zero_run: float = 0.03
    zero_run_length: Window = (8, 24)
    flat_line: float = 0.03
    flat_line_length: Window = (8, 24)
    negative: float = 0.01
    duplicate: float = 0.02
    off_grid: float = 0.01
    register_jump: float = 0.05
    register_jump_size: tuple[float, float] = (200.0, 5000.0)
    """In the block's unit (kWh, m3)."""
    rollover: float = 0.03

    def __post_init__(self) -> None:
        for kind in INTERVAL_KINDS + REGISTER_KINDS:
            share = getattr(self, kind)
            if not 0.0 <= share <= 1.0:
                raise FleetOptionsError(f"AnomalyPlan.{kind} must be within 0..1, got {share}")
        for name in ("gap_length", "zero_run_length", "flat_line_length"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise FleetOptionsError(f"AnomalyPlan.{name} must be (low, high), 1 <= low <= high")

    @classmethod
    def only(cls, kind: AnomalyKind, share: float = 1.0) -> AnomalyPlan:
        """A plan with one kind of anomaly only."""
        zero = dict.fromkeys(INTERVAL_KINDS + REGISTER_KINDS, 0.0)
        zero[kind] = share
        return cls(**zero)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class InjectedAnomaly:
    """One injected anomaly: the ground truth for one VEE finding."""

    kind: AnomalyKind
    meter: ObjectRef | None
    usage_point: ObjectRef | None
    reading_type: str
    timestamps: tuple[int, ...]
    """The readings concerned (UTC epoch seconds; interval ends for interval data): removed
    (gap), changed, or added (duplicate, off_grid)."""
    original: tuple[float, ...]
    """The values before, at those timestamps (empty for added readings)."""
    detail: str


@dataclass(frozen=True, slots=True)
class AnomalyResult:
    blocks: list[ReadingBlock]
    truth: tuple[InjectedAnomaly, ...]

    def of_kind(self, kind: AnomalyKind) -> list[InjectedAnomaly]:
        return [a for a in self.truth if a.kind == kind]


def _block_id(block: ReadingBlock) -> int:
    who = block.meter or block.usage_point
    text = f"{who.describe() if who else ''}|{block.reading_type}|{block.kind}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class _Injector:
    """Injects anomalies into one block, keeping a mask of readings already used."""

    def __init__(self, block: ReadingBlock, plan: AnomalyPlan, key: int) -> None:
        self.block = block
        self.plan = plan
        self.key = key
        self.block_id = _block_id(block)
        self.ts = block.timestamps.copy()
        self.values = block.values.copy()
        self.quality = block.quality.copy()
        self.used = np.zeros(len(block), dtype=np.bool_)
        self.remove = np.zeros(len(block), dtype=np.bool_)
        self.added: list[tuple[int, int, float]] = []  # (after position, timestamp, value)
        self.truth: list[InjectedAnomaly] = []
        self._draws = 0

    def u(self) -> float:
        self._draws += 1
        return noise.uniform_scalar(self.key, self.block_id, self._draws)

    def _between(self, window: tuple[float, float]) -> float:
        low, high = window
        return low + self.u() * (high - low)

    def _length(self, window: Window) -> int:
        low, high = window
        return low + int(self.u() * (high - low + 1))

    def _window(self, length: int, ok: npt.NDArray[np.bool_] | None = None) -> int | None:
        """A start position for `length` readings, away from the block's edges and from other
        anomalies (one reading of margin), where `ok[start]` holds."""
        n = len(self.ts)
        if n < length + 2:
            return None
        # free[j]: readings j .. j+length+1 are all unused, i.e. start j+1 with its margins
        free = np.convolve(self.used, np.ones(length + 2, dtype=np.int64), "valid") == 0
        allowed = free if ok is None else free & ok[1 : 1 + len(free)]
        starts = np.flatnonzero(allowed) + 1
        if not len(starts):
            return None
        return int(starts[int(self.u() * len(starts))])

    def _positive_runs(self, length: int) -> npt.NDArray[np.bool_]:
        """ok[s]: the `length` readings from s on are all positive (padded to the block)."""
        runs = np.convolve(self.block.values > 0, np.ones(length, dtype=np.int64), "valid")
        return np.concatenate([runs == length, np.zeros(length - 1, dtype=np.bool_)])

    def _record(
        self,
        kind: AnomalyKind,
        positions: npt.NDArray[np.intp] | list[int],
        detail: str,
        *,
        original: bool = True,
        timestamps: tuple[int, ...] | None = None,
    ) -> None:
        pos = np.asarray(positions, dtype=np.intp)
        self.truth.append(
            InjectedAnomaly(
                kind,
                self.block.meter,
                self.block.usage_point,
                self.block.reading_type,
                timestamps if timestamps is not None else tuple(int(t) for t in self.ts[pos]),
                tuple(float(v) for v in self.block.values[pos]) if original else (),
                detail,
            )
        )

    def _mark(self, start: int, length: int) -> npt.NDArray[np.intp]:
        self.used[max(0, start - 1) : start + length + 1] = True
        return np.arange(start, start + length)

    # -- interval anomalies --------------------------------------------------------------------

    def gap(self) -> None:
        length = self._length(self.plan.gap_length)
        start = self._window(length)
        if start is None:
            return
        pos = self._mark(start, length)
        self.remove[pos] = True
        self._record("gap", pos, f"{length} reading(s) removed")

    def spike(self) -> None:
        start = self._window(1)
        if start is None:
            return
        pos = self._mark(start, 1)
        factor = self._between(self.plan.spike_factor)
        typical = float(np.median(np.abs(self.block.values))) or 1.0
        self.values[pos] = max(abs(float(self.values[start])), typical) * factor
        self._record("spike", pos, f"x{factor:.1f} the larger of the value and the median")

    def zero_run(self) -> None:
        length = self._length(self.plan.zero_run_length)
        start = self._window(length, self._positive_runs(length))
        if start is None:
            return
        pos = self._mark(start, length)
        self.values[pos] = 0.0
        self._record("zero_run", pos, f"{length} readings set to 0")

    def flat_line(self) -> None:
        length = self._length(self.plan.flat_line_length)
        ok = self._positive_runs(length)
        if len(self.ts) >= length:
            spread = np.ptp(
                np.lib.stride_tricks.sliding_window_view(self.block.values, length), axis=1
            )
            ok[: len(spread)] &= spread > 0  # not flat already
        start = self._window(length, ok)
        if start is None:
            return
        pos = self._mark(start, length)
        self.values[pos] = self.values[start]
        self._record("flat_line", pos, f"{length} readings set to {self.values[start]:g}")

    def negative(self) -> None:
        start = self._window(1, self.block.values > 0)
        if start is None:
            return
        pos = self._mark(start, 1)
        self.values[pos] = -self.values[pos]
        self._record("negative", pos, "value negated")

    def duplicate(self) -> None:
        start = self._window(1)
        if start is None:
            return
        self._mark(start, 1)
        value = float(self.values[start]) * 1.1 + 0.001
        t = int(self.ts[start])
        self.added.append((start, t, round(value, 3)))
        self._record(
            "duplicate",
            [start],
            "a second reading with the same timestamp and another value",
            original=False,
            timestamps=(t,),
        )

    def off_grid(self) -> None:
        start = self._window(1)
        if start is None or start == 0:
            return
        self._mark(start, 1)
        t = int(self.ts[start] - (self.ts[start] - self.ts[start - 1]) // 2)
        self.added.append((start - 1, t, round(float(self.values[start]) / 2, 3)))
        self._record(
            "off_grid",
            [start],
            "an extra reading half an interval off the grid, overlapping its neighbours",
            original=False,
            timestamps=(t,),
        )

    # -- register anomalies --------------------------------------------------------------------

    def register_jump(self) -> None:
        start = self._window(1)
        if start is None:
            return
        self._mark(start, 1)
        size = round(self._between(self.plan.register_jump_size), 3)
        self.values[start:] += size
        self._record("register_jump", [start], f"register jumps by {size:g} from here on")

    def rollover(self) -> None:
        # the wrap needs a read that advanced (a frozen register cannot wrap between two reads)
        advanced = np.concatenate([np.zeros(1, dtype=np.bool_), np.diff(self.values) > 0])
        start = self._window(1, advanced)
        if start is None:
            return
        self._mark(start, 1)
        top = float(self.values.max())
        modulus = 10.0 ** (math.floor(math.log10(max(top, 1.0))) + 1)
        before, after = float(self.values[start - 1]), float(self.values[start])
        shift = round(modulus - (before + after) / 2, 3)
        self.values = np.round(np.mod(self.values + shift, modulus), 6).astype(np.float64)
        self._record(
            "rollover", [start], f"register wraps at {modulus:g} (block shifted by {shift:g})"
        )

    # -- result --------------------------------------------------------------------------------

    def result(self) -> ReadingBlock:
        keep = ~self.remove
        ts, values, quality = self.ts, self.values, self.quality
        if self.added:
            for after, t, v in sorted(self.added, reverse=True):
                ts = np.insert(ts, after + 1, t)
                values = np.insert(values, after + 1, v)
                quality = np.insert(quality, after + 1, 0)
                keep = np.insert(keep, after + 1, True)
        return ReadingBlock(
            self.block.reading_type,
            ts[keep],
            values[keep],
            quality[keep].astype(np.int32),
            self.block.quality_sets,
            meter=self.block.meter,
            usage_point=self.block.usage_point,
            kind=self.block.kind,
            source=self.block.source,
        )


def inject_anomalies(
    blocks: Iterable[ReadingBlock], plan: AnomalyPlan | None = None, *, seed: int = 0
) -> AnomalyResult:
    """Blocks with anomalies injected per `plan`, and the ground truth of every one."""
    plan = plan or AnomalyPlan()
    key = noise.stream_key(seed, "anomalies")
    out: list[ReadingBlock] = []
    truth: list[InjectedAnomaly] = []
    for block in blocks:
        kinds = INTERVAL_KINDS if block.kind == "interval" else REGISTER_KINDS
        injector = _Injector(block, plan, key)
        chosen = [k for k in kinds if injector.u() < getattr(plan, k)]
        if not chosen or len(block) < 3:
            out.append(block)
            continue
        for kind in chosen:
            getattr(injector, kind)()
        if not injector.truth:
            out.append(block)
            continue
        out.append(injector.result())
        truth += injector.truth
    return AnomalyResult(out, tuple(truth))
