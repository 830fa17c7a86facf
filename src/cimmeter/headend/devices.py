"""The state of the devices that controls change: relays, demand resets, load control,
programs (TOU calendars, firmware), and outages injected by hand.

State is kept as timelines (what changed, when), never as "the current state": the head-end
works on explicit times, so data for any time range is generated from the state in force
during that range, and a disconnect at 10:07 makes every later interval read zero no matter in
which order the data is asked for. Timelines hold only devices that were ever touched.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cimmeter.headend.errors import ControlOrderError, TimeRangeError

FOREVER: Final = 2**62
"""An end time that never comes (epoch seconds)."""

Span = tuple[int, int]
"""A half-open time span [start, end) in UTC epoch seconds."""


class RelayState(StrEnum):
    """The service switch (digest 4.7): armed means open, waiting for the customer's button."""

    CLOSED = "closed"
    OPEN = "open"
    ARMED = "armed"


RelayCause = Literal["remote", "customer"]


@dataclass(frozen=True, slots=True)
class RelayChange:
    at: int
    state: RelayState
    cause: RelayCause


@dataclass(frozen=True, slots=True)
class LoadControlWindow:
    """A load-control event on one meter: its load is cut by `shed` (0..1) during [start, end)."""

    start: int
    end: int
    shed: float
    issued_at: int


ProgramKind = Literal["tou", "firmware"]


@dataclass(frozen=True, slots=True)
class ProgramChange:
    """A program (a TOU calendar, a firmware image) loaded into a meter at `at`, in force from
    `activate_at` (digest 4.13)."""

    kind: ProgramKind
    at: int
    activate_at: int
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Outage:
    """Every meter under a transformer or a feeder loses power during [start, end)."""

    scope: Literal["transformer", "feeder"]
    group: int
    start: int
    end: int
    origin: Literal["random", "injected"] = "injected"


Listener = Callable[[npt.NDArray[np.int64], int], None]
"""Told (meter indexes, time) whenever the physics of those meters changes from that time on."""


@dataclass(eq=False)
class DeviceState:
    """Timelines of relay state, demand resets, load control and injected outages."""

    relay: dict[int, list[RelayChange]] = field(default_factory=dict)
    demand_resets: dict[int, list[int]] = field(default_factory=dict)
    load_control: dict[int, list[LoadControlWindow]] = field(default_factory=dict)
    programs: dict[int, list[ProgramChange]] = field(default_factory=dict)
    outages: list[Outage] = field(default_factory=list)
    _last_control: dict[int, int] = field(default_factory=dict)
    _listeners: list[Listener] = field(default_factory=list)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, meters: Iterable[int] | npt.NDArray[np.int64], at: int) -> None:
        rows = np.asarray(
            list(meters) if not isinstance(meters, np.ndarray) else meters, dtype=np.int64
        )
        for listener in self._listeners:
            listener(rows, at)

    def check_order(self, meter: int, at: int) -> None:
        """Controls on one device must come in time order: a control cannot rewrite what a
        later control already did."""
        last = self._last_control.get(meter)
        if last is not None and at < last:
            raise ControlOrderError(
                f"a control at {at} on meter {meter} comes before the control already "
                f"executed at {last}"
            )

    def _controlled(self, meter: int, at: int) -> None:
        self.check_order(meter, at)
        self._last_control[meter] = at

    # -- relay ---------------------------------------------------------------------------------

    def relay_at(self, meter: int, at: int) -> RelayState:
        """The relay state in force at `at` (a change at `at` is in force from `at`)."""
        changes = self.relay.get(meter)
        if not changes:
            return RelayState.CLOSED
        pos = bisect.bisect_right([c.at for c in changes], at)
        return changes[pos - 1].state if pos else RelayState.CLOSED

    def set_relay(
        self,
        meter: int,
        at: int,
        state: RelayState,
        *,
        cause: RelayCause = "remote",
        then: RelayChange | None = None,
    ) -> None:
        """Record a relay change at `at`; changes planned after it (a customer's button press
        after an arm) are dropped, and `then` (a new planned change) is added."""
        if cause == "remote":
            self._controlled(meter, at)
        changes = [c for c in self.relay.get(meter, []) if c.at < at]
        changes.append(RelayChange(at, state, cause))
        if then is not None:
            changes.append(then)
        self.relay[meter] = changes
        self._changed([meter], at)

    def open_spans(self, meter: int) -> list[Span]:
        """Spans during which the relay is open or armed (the load side has no power)."""
        spans: list[Span] = []
        opened: int | None = None
        for change in self.relay.get(meter, []):
            if change.state is RelayState.CLOSED:
                if opened is not None:
                    spans.append((opened, change.at))
                    opened = None
            elif opened is None:
                opened = change.at
        if opened is not None:
            spans.append((opened, FOREVER))
        return spans

    # -- demand reset --------------------------------------------------------------------------

    def reset_demand(self, meter: int, at: int) -> None:
        self._controlled(meter, at)
        bisect.insort(self.demand_resets.setdefault(meter, []), at)
        self._changed([meter], at)

    # -- load control --------------------------------------------------------------------------

    def start_load_control(self, meter: int, window: LoadControlWindow) -> None:
        if window.end <= window.start:
            raise TimeRangeError(f"load control window ends ({window.end}) before it starts")
        self._controlled(meter, window.issued_at)
        self.load_control.setdefault(meter, []).append(window)
        self._changed([meter], window.start)

    def stop_load_control(self, meter: int, at: int) -> bool:
        """End every window still running (or planned) at `at`; True when one was."""
        self._controlled(meter, at)
        windows = self.load_control.get(meter, [])
        kept: list[LoadControlWindow] = []
        stopped = False
        for w in windows:
            if w.end > at:
                stopped = True
                if w.start < at:
                    kept.append(LoadControlWindow(w.start, at, w.shed, w.issued_at))
            else:
                kept.append(w)
        self.load_control[meter] = kept
        if stopped:
            self._changed([meter], at)
        return stopped

    # -- programs (TOU, firmware) ----------------------------------------------------------------

    def load_program(self, meter: int, change: ProgramChange) -> None:
        if change.activate_at < change.at:
            raise TimeRangeError(
                f"a program cannot be active ({change.activate_at}) before it is loaded "
                f"({change.at})"
            )
        self._controlled(meter, change.at)
        self.programs.setdefault(meter, []).append(change)
        self._changed([meter], change.at)

    # -- outages -------------------------------------------------------------------------------

    def inject_outage(self, outage: Outage, meters: npt.NDArray[np.int64]) -> None:
        if outage.end <= outage.start:
            raise TimeRangeError(f"outage ends ({outage.end}) before it starts ({outage.start})")
        self.outages.append(outage)
        self._changed(meters, outage.start)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """The union of spans, as sorted disjoint spans."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def overlap_seconds(
    spans: Iterable[Span], grid: npt.NDArray[np.int64], interval: int
) -> npt.NDArray[np.int64]:
    """Seconds of each interval (grid[i] - interval, grid[i]] covered by disjoint spans."""
    covered = np.zeros(len(grid), dtype=np.int64)
    if len(grid) == 0:
        return covered
    for start, end in spans:
        first = int(np.searchsorted(grid, start, side="right"))
        last = int(np.searchsorted(grid - interval, end, side="left"))
        if first >= last:
            continue
        ends = grid[first:last]
        covered[first:last] += np.minimum(ends, end) - np.maximum(ends - interval, start)
    return covered


def points_in_intervals(
    times: Iterable[int], grid: npt.NDArray[np.int64], interval: int
) -> npt.NDArray[np.bool_]:
    """Which intervals (grid[i] - interval, grid[i]] contain at least one of `times`."""
    hit = np.zeros(len(grid), dtype=np.bool_)
    if len(grid) == 0:
        return hit
    for t in times:
        i = int(np.searchsorted(grid, t, side="left"))
        if i < len(grid) and grid[i] - interval < t:
            hit[i] = True
    return hit
