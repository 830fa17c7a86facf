"""Interval and register data of the simulated fleet, generated in chunks of meters.

The physics of one chunk (meters x intervals, numpy columns throughout):

1. load: daily use x load shape (class, weekday/weekend) x temperature response x a per-day
   factor x per-interval noise, in kWh (gas and water: m3 from their own shapes);
2. load control cuts the load of enrolled meters during their windows (partial intervals pro rata);
3. rooftop solar (sun arc x season x daily cloud cover) is subtracted: what remains positive is
   delivered (forward), what is negative is exported (reverse);
4. the relay (open or armed) and outages take the power away: consumption and export are zero
   from the second the switch opens or the power fails;
5. values are rounded to 1 Wh (1 litre), and registers are the seeded initial register plus the
   running sum of those integers, so a register equals the sum of the intervals exactly.

Every random draw is keyed by (seed, meter, interval), so the data do not depend on chunking or on
the order of requests. Registers need the sum of everything since the fleet's start; the
generator keeps the register state of each meter at the day boundaries it has passed (25 bytes
a meter a day; the latest 32 days and one a week before them) and catches up from the latest
one. A control or an injected outage invalidates the boundaries after its time for the meters
it touches.

On top of the physics, `Realism` loses a few intervals as real AMI networks do (runs of missing
intervals after a communication failure, single misses), and sends some of them as placeholders
(value 0 with the head-end quality `2.5.259`, known missing read; digest 5.3.4). `Realism.clean()`
turns that off, for tests and for VEE ground truth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from cimmeter.headend import load_shapes, noise, weather
from cimmeter.headend.channels import Channel, fleet_channels
from cimmeter.headend.code_table import QUALITY_BIT, QUALITY_FLAGS
from cimmeter.headend.devices import DeviceState, merge_spans, overlap_seconds, points_in_intervals
from cimmeter.headend.errors import FleetOptionsError, TimeRangeError
from cimmeter.headend.events import DAY, EventSchedule
from cimmeter.headend.fleet import COMMERCIAL, ELECTRIC, GAS, WATER, Fleet
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import NO_QUALITY, QualitySet, ReadingBlock

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U16 = npt.NDArray[np.uint16]

DEFAULT_CHUNK_CELLS: Final = 262_144
"""Meters x intervals computed at once: bounds memory whatever the fleet size."""

_ALARM_FLAG: Final[dict[str, str]] = {
    "tamper": "1.3.0",
    "reverse_energy": "1.3.4",
    "clock_error": "1.1.9",
    "low_battery": "1.1.1",
}
_PLACEHOLDER: Final = QUALITY_BIT["2.5.259"]
_CHECKPOINTS_KEPT: Final = 64
_CHECKPOINTS_RECENT: Final = 32


@dataclass(frozen=True, slots=True)
class Realism:
    """How the head-end's collection loses data, as real AMI networks do."""

    missing_runs: float = 0.01
    """Per meter per day: a communication failure loses a run of intervals."""
    missing_run_max: int = 16
    """The longest such run, in intervals."""
    missing_single: float = 0.001
    """Per interval: a single reading lost."""
    placeholder_share: float = 0.25
    """Share of lost intervals sent as value 0 with quality 2.5.259 rather than left out."""

    def __post_init__(self) -> None:
        for name in ("missing_runs", "missing_single", "placeholder_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FleetOptionsError(f"Realism.{name} must be within 0..1, got {value}")
        if self.missing_run_max < 1:
            raise FleetOptionsError("Realism.missing_run_max must be >= 1")

    @classmethod
    def clean(cls) -> Realism:
        """Nothing is lost: every interval and register read arrives."""
        return cls(0.0, 1, 0.0, 0.0)


@dataclass(slots=True)
class RegisterState:
    """Registers of some meters at one time: Wh (litres), and the largest interval since the
    last demand reset, in Wh."""

    forward: I64
    reverse: I64
    max_interval: I64

    def take(self, positions: I64) -> RegisterState:
        return RegisterState(
            self.forward[positions], self.reverse[positions], self.max_interval[positions]
        )


@dataclass(slots=True)
class Physics:
    """What the meters of a chunk measured in each interval (the truth, before collection)."""

    forward: I64
    """Wh (litres) delivered per interval, meters x intervals."""
    reverse: I64
    flags: U16
    """Quality flag bits (code_table.QUALITY_FLAGS) per interval."""


@dataclass(slots=True)
class _Checkpoint:
    forward: I64
    reverse: I64
    max_interval: I64
    known: npt.NDArray[np.bool_]


def epoch_seconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise TimeRangeError(f"naive datetime {at.isoformat()}: times must be timezone-aware")
    return int(at.timestamp() // 1)


class ReadingGenerator:
    """Generates ReadingBlocks for any meters, channels and time range of a fleet."""

    def __init__(
        self,
        fleet: Fleet,
        state: DeviceState,
        schedule: EventSchedule,
        realism: Realism = Realism(),
        *,
        register_every: timedelta = timedelta(days=1),
        chunk_cells: int = DEFAULT_CHUNK_CELLS,
    ) -> None:
        self.fleet = fleet
        self.state = state
        self.schedule = schedule
        self.realism = realism
        self.channels = fleet_channels(fleet.options)
        self.by_name = {c.name: c for c in self.channels}
        self.by_reading_type = {c.reading_type: c for c in self.channels}
        # register reads fall on the interval ends that are multiples of register_every
        self.register_every = int(register_every.total_seconds())
        if self.register_every <= 0 or self.register_every % 60:
            raise FleetOptionsError(
                f"register_every must be a positive number of minutes, got {register_every}"
            )
        self.chunk_cells = chunk_cells
        self._checkpoints: dict[int, _Checkpoint] = {}
        self._keys = {
            name: noise.stream_key(fleet.seed, "readings." + name)
            for name in (
                "day",
                "interval",
                "solar",
                "water.use",
                "miss.run",
                "miss.start",
                "miss.length",
                "miss.single",
                "placeholder",
            )
        }
        state.subscribe(self.invalidate)

    # -- public --------------------------------------------------------------------------------

    def interval_of(self, kind: int) -> int:
        o = self.fleet.options
        return o.interval_seconds if kind == ELECTRIC else o.volume_interval_seconds

    def select_channels(self, names: Collection[str] | None) -> tuple[Channel, ...]:
        if names is None:
            return tuple(c for c in self.channels if c.default)
        unknown = set(names) - set(self.by_name)
        if unknown:
            raise FleetOptionsError(
                f"unknown channel(s) {sorted(unknown)}; known: {sorted(self.by_name)}"
            )
        return tuple(c for c in self.channels if c.name in names)

    def generate(
        self,
        start: datetime,
        end: datetime,
        *,
        meters: Sequence[int] | I64 | None = None,
        channels: Collection[str] | None = None,
    ) -> Iterator[list[ReadingBlock]]:
        """Blocks for intervals ending in (start, end] and register reads at the register
        cadence in it, chunk by chunk of meters; each chunk's list is ordered by meter, then
        channel. Nothing exists before the fleet's start."""
        t0, t1 = epoch_seconds(start), epoch_seconds(end)
        if t1 < t0:
            raise TimeRangeError(f"the range ends ({end}) before it starts ({start})")
        rows_all = (
            np.arange(self.fleet.n, dtype=np.int64)
            if meters is None
            else np.unique(np.asarray(meters, dtype=np.int64))
        )
        chosen = self.select_channels(channels)
        for kind in (ELECTRIC, GAS, WATER):
            kind_channels = [c for c in chosen if c.meter_kind == kind]
            rows = rows_all[self.fleet.kind[rows_all] == kind]
            if not kind_channels or not len(rows):
                continue
            grid = self._grid(kind, t0, t1)
            if not len(grid):
                continue
            per_chunk = max(1, self.chunk_cells // len(grid))
            for i in range(0, len(rows), per_chunk):
                yield self._chunk(kind, rows[i : i + per_chunk], grid, kind_channels)

    def registers_at(self, rows: I64, at: int) -> tuple[RegisterState, I64]:
        """Registers of `rows` (all of one kind) at any time `at` >= the fleet's start: the
        completed intervals plus the elapsed share of the running one. Also returns, per row,
        the largest interval since the last demand reset (completed intervals only)."""
        if not len(rows):
            empty = np.zeros(0, dtype=np.int64)
            return RegisterState(empty, empty, empty), empty
        kind = int(self.fleet.kind[rows[0]])
        iv = self.interval_of(kind)
        start = self.fleet.options.start_epoch
        if at < start:
            raise TimeRangeError(f"no register exists before the fleet's start ({start}), got {at}")
        s = start + (at - start) // iv * iv
        state = self._state_at(kind, rows, s)
        max_interval = state.max_interval.copy()
        for pos, meter in enumerate(rows.tolist()):
            if any(s <= r <= at for r in self.state.demand_resets.get(meter, [])):
                max_interval[pos] = 0
        if at > s:
            # the running interval so far, pro rata of its time with power and the relay closed,
            # so a register read after a disconnect stays where the disconnect left it
            nxt = self._physics(kind, rows, np.array([s + iv], dtype=np.int64))
            so_far = self._on_seconds(kind, rows, s, at)
            whole = np.maximum(self._on_seconds(kind, rows, s, s + iv), 1)
            state = RegisterState(
                state.forward + nxt.forward[:, 0] * so_far // whole,
                state.reverse + nxt.reverse[:, 0] * so_far // whole,
                state.max_interval,
            )
        return state, max_interval

    def _on_seconds(self, kind: int, rows: I64, start: int, end: int) -> I64:
        """Seconds of (start, end] each meter had power and its relay closed."""
        on = np.full(len(rows), end - start, dtype=np.int64)
        if kind != ELECTRIC:
            return on
        off = self.schedule.power_off_spans(self.state, rows, start, end)
        point = np.array([end], dtype=np.int64)
        for pos, meter in enumerate(rows.tolist()):
            spans = off.get(meter, []) + self.state.open_spans(meter)
            if spans:
                on[pos] -= overlap_seconds(merge_spans(spans), point, end - start)[0]
        return on

    def fleet_grew(self) -> None:
        """The fleet has new meters: widen the remembered boundaries (unknown for them)."""
        n = self.fleet.n
        for cp in self._checkpoints.values():
            extra = n - len(cp.known)
            if extra > 0:
                zeros = np.zeros(extra, dtype=np.int64)
                cp.forward = np.concatenate([cp.forward, zeros])
                cp.reverse = np.concatenate([cp.reverse, zeros])
                cp.max_interval = np.concatenate([cp.max_interval, zeros])
                cp.known = np.concatenate([cp.known, np.zeros(extra, dtype=np.bool_)])

    def invalidate(self, rows: I64, at: int) -> None:
        """The physics of `rows` changed from `at` on: forget later day boundaries."""
        start = self.fleet.options.start_epoch
        for day, cp in self._checkpoints.items():
            if start + day * DAY > at:
                cp.known[rows] = False

    # -- the grid and the chunk ----------------------------------------------------------------

    def _grid(self, kind: int, t0: int, t1: int) -> I64:
        iv = self.interval_of(kind)
        lo = max(t0, self.fleet.options.start_epoch)
        first = (lo // iv + 1) * iv
        last = t1 // iv * iv
        return np.arange(first, last + 1, iv, dtype=np.int64)

    def _chunk(
        self, kind: int, rows: I64, grid: I64, channels: list[Channel]
    ) -> list[ReadingBlock]:
        iv = self.interval_of(kind)
        state0 = self._state_at(kind, rows, int(grid[0]) - iv)
        phys = self._physics(kind, rows, grid)
        cum_fwd, cum_rev, run_max = self._accumulate(rows, grid, iv, phys, state0)
        self._remember(rows, grid, cum_fwd, cum_rev, run_max)
        missing, placeholder = self._missing(kind, rows, grid)
        flags = phys.flags | np.where(placeholder, np.uint16(_PLACEHOLDER), np.uint16(0))
        register_points = np.flatnonzero(
            (grid + self.fleet.options.utc_offset_seconds) % self.register_every == 0
        )
        return _Emitter(
            self.fleet,
            rows,
            grid,
            iv,
            phys,
            flags,
            missing,
            placeholder,
            cum_fwd,
            cum_rev,
            run_max,
            register_points,
        ).blocks(channels)

    # -- register state ------------------------------------------------------------------------

    def _state_at(self, kind: int, rows: I64, at: int) -> RegisterState:
        """Register state of `rows` after the interval ending at `at` (a grid point)."""
        iv = self.interval_of(kind)
        start = self.fleet.options.start_epoch
        day = (at - start) // DAY
        boundary = start + day * DAY
        state = self._state_at_boundary(kind, rows, day)
        if at > boundary:
            grid = np.arange(boundary + iv, at + 1, iv, dtype=np.int64)
            state = self._advance(kind, rows, grid, state)
        return state

    def _state_at_boundary(self, kind: int, rows: I64, day: int) -> RegisterState:
        known_day = 0
        for d in sorted(self._checkpoints, reverse=True):
            if d <= day and self._checkpoints[d].known[rows].all():
                known_day = d
                break
        if known_day == 0:
            zero = np.zeros(len(rows), dtype=np.int64)
            state = RegisterState(
                self.fleet.initial_forward[rows].copy(),
                self.fleet.initial_reverse[rows].copy(),
                zero,
            )
        else:
            cp = self._checkpoints[known_day]
            state = RegisterState(cp.forward[rows], cp.reverse[rows], cp.max_interval[rows])
        iv = self.interval_of(kind)
        start = self.fleet.options.start_epoch
        for d in range(known_day, day):
            first = start + d * DAY
            grid = np.arange(first + iv, first + DAY + 1, iv, dtype=np.int64)
            state = self._advance(kind, rows, grid, state)
        return state

    def _advance(self, kind: int, rows: I64, grid: I64, state: RegisterState) -> RegisterState:
        """Register state after `grid`, computed in bounded sub-chunks; day boundaries met on
        the way are remembered."""
        iv = self.interval_of(kind)
        per = max(1, self.chunk_cells // len(grid))
        parts: list[RegisterState] = []
        for i in range(0, len(rows), per):
            sub = rows[i : i + per]
            positions = np.arange(i, min(i + per, len(rows)))
            phys = self._physics(kind, sub, grid)
            cum_fwd, cum_rev, run_max = self._accumulate(sub, grid, iv, phys, state.take(positions))
            self._remember(sub, grid, cum_fwd, cum_rev, run_max)
            parts.append(RegisterState(cum_fwd[:, -1], cum_rev[:, -1], run_max[:, -1]))
        return RegisterState(
            np.concatenate([p.forward for p in parts]),
            np.concatenate([p.reverse for p in parts]),
            np.concatenate([p.max_interval for p in parts]),
        )

    def _accumulate(
        self, rows: I64, grid: I64, iv: int, phys: Physics, state0: RegisterState
    ) -> tuple[I64, I64, I64]:
        """Registers after each interval, and the running largest interval (demand resets
        restart it: a reset at r counts the intervals ending after r)."""
        cum_fwd = state0.forward[:, None] + np.cumsum(phys.forward, axis=1)
        cum_rev = state0.reverse[:, None] + np.cumsum(phys.reverse, axis=1)
        run_max = np.maximum.accumulate(
            np.concatenate([state0.max_interval[:, None], phys.forward], axis=1), axis=1
        )[:, 1:]
        if not self.state.demand_resets:
            return cum_fwd, cum_rev, run_max
        lo, hi = int(grid[0]) - iv, int(grid[-1])
        for pos, meter in enumerate(rows.tolist()):
            resets = [r for r in self.state.demand_resets.get(meter, []) if lo <= r < hi]
            for r in resets:
                p = int(np.searchsorted(grid, r, side="right"))
                run_max[pos, p:] = np.maximum.accumulate(phys.forward[pos, p:])
        return cum_fwd, cum_rev, run_max

    def _remember(self, rows: I64, grid: I64, cum_fwd: I64, cum_rev: I64, run_max: I64) -> None:
        start = self.fleet.options.start_epoch
        at_boundary = np.flatnonzero((grid - start) % DAY == 0)
        for j in at_boundary.tolist():
            day = (int(grid[j]) - start) // DAY
            cp = self._checkpoints.get(day)
            if cp is None:
                n = self.fleet.n
                cp = self._checkpoints[day] = _Checkpoint(
                    np.zeros(n, dtype=np.int64),
                    np.zeros(n, dtype=np.int64),
                    np.zeros(n, dtype=np.int64),
                    np.zeros(n, dtype=np.bool_),
                )
            cp.forward[rows] = cum_fwd[:, j]
            cp.reverse[rows] = cum_rev[:, j]
            cp.max_interval[rows] = run_max[:, j]
            cp.known[rows] = True
        if len(at_boundary) and len(self._checkpoints) > _CHECKPOINTS_KEPT:
            # keep the latest days and one a week: a long simulation stays bounded in memory
            # and an old range is recomputed from at most a week before it
            recent = set(sorted(self._checkpoints)[-_CHECKPOINTS_RECENT:])
            for day in [d for d in self._checkpoints if d % 7 and d not in recent]:
                del self._checkpoints[day]

    # -- physics -------------------------------------------------------------------------------

    def _physics(self, kind: int, rows: I64, grid: I64) -> Physics:
        iv = self.interval_of(kind)
        f = self.fleet
        local_mid = (grid - iv // 2 + f.options.utc_offset_seconds).astype(np.float64)
        hours = iv / 3600.0
        temp = weather.temperature(f.seed, local_mid)[None, :]
        # a per-meter, per-local-day factor (some days are busier) and per-interval noise
        local_day = np.floor(local_mid / DAY).astype(np.int64)
        days, day_pos = np.unique(local_day, return_inverse=True)
        day_factor = np.exp(
            0.12 * noise.normal(self._keys["day"], rows[:, None], days[None, :]) - 0.0072
        )[:, day_pos]
        sigma = f.noise_sigma[rows][:, None]
        z = noise.normal(self._keys["interval"], rows[:, None], (grid // iv)[None, :])
        jitter = np.exp(sigma * z - 0.5 * sigma * sigma)
        daily = f.daily_use[rows][:, None]
        flags = np.zeros((len(rows), len(grid)), dtype=np.uint16)
        reverse = np.zeros((len(rows), len(grid)), dtype=np.float64)

        if kind == ELECTRIC:
            residential, commercial = load_shapes.electric_shapes(local_mid)
            shape = np.where(
                (f.customer_class[rows] == COMMERCIAL)[:, None],
                commercial[None, :],
                residential[None, :],
            )
            response = load_shapes.temperature_response(
                temp, f.heating[rows][:, None], f.cooling[rows][:, None]
            )
            load = daily / 24.0 * hours * shape * response * day_factor * jitter
            self._load_control(rows, grid, iv, load, flags)
            net = load - self._solar(rows, grid, iv, local_mid, local_day)
            forward = np.maximum(net, 0.0)
            reverse = np.maximum(-net, 0.0)
            available = self._availability(rows, grid, iv, flags)
            forward *= available
            reverse *= available
        elif kind == GAS:
            base = daily / 24.0 * load_shapes.shape("gas_base", local_mid)[None, :]
            heat = (
                f.heating[rows][:, None]
                / 24.0
                * np.maximum(0.0, load_shapes.GAS_HEATING_BASE_C - temp)
                * load_shapes.shape("gas_heating", local_mid)[None, :]
            )
            forward = (base + heat) * hours * day_factor * jitter
        else:
            shape = load_shapes.shape("water", local_mid)[None, :]
            # water flows in bursts: an hour either sees use or none, more often at peaks
            p_use = np.clip(0.1 + 0.5 * shape, 0.0, 1.0)
            used = (
                noise.uniform(self._keys["water.use"], rows[:, None], (grid // iv)[None, :]) < p_use
            )
            forward = np.where(
                used, daily / 24.0 * hours * shape / p_use * day_factor * jitter, 0.0
            )
        self._alarm_flags(rows, grid, iv, flags)
        return Physics(
            np.rint(forward * 1000.0).astype(np.int64),
            np.rint(reverse * 1000.0).astype(np.int64),
            flags,
        )

    def _solar(self, rows: I64, grid: I64, iv: int, local_mid: F64, local_day: I64) -> F64:
        kw = self.fleet.solar_kw[rows]
        out = np.zeros((len(rows), len(grid)), dtype=np.float64)
        with_solar = np.flatnonzero(kw > 0)
        if not len(with_solar):
            return out
        sky = load_shapes.solar_clear_sky(local_mid) * weather.cloud_factor(
            self.fleet.seed, local_day
        )
        flicker = np.exp(
            0.1
            * noise.normal(self._keys["solar"], rows[with_solar][:, None], (grid // iv)[None, :])
        )
        out[with_solar] = np.minimum(
            kw[with_solar][:, None] * sky[None, :] * flicker, kw[with_solar][:, None]
        ) * (iv / 3600.0)
        return out

    def _load_control(self, rows: I64, grid: I64, iv: int, load: F64, flags: U16) -> None:
        if not self.state.load_control:
            return
        lo, hi = int(grid[0]) - iv, int(grid[-1])
        for pos, meter in enumerate(rows.tolist()):
            for w in self.state.load_control.get(meter, ()):
                if w.start < hi and w.end > lo:
                    covered = overlap_seconds([(w.start, w.end)], grid, iv)
                    load[pos] *= 1.0 - w.shed * covered / iv
                    flags[pos, covered > 0] |= QUALITY_BIT["1.4.10"]

    def _availability(self, rows: I64, grid: I64, iv: int, flags: U16) -> F64:
        """The share of each interval with power and the relay closed; flags power failures
        and relay operations."""
        available = np.ones((len(rows), len(grid)), dtype=np.float64)
        lo, hi = int(grid[0]) - iv, int(grid[-1])
        spans = self.schedule.power_off_spans(self.state, rows, lo, hi)
        position = {m: p for p, m in enumerate(rows.tolist())} if spans or self.state.relay else {}
        relay_rows = [m for m in self.state.relay if m in position]
        # meters sharing the same outage spans (all meters under a transformer) share a row
        groups: dict[
            tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]], list[int]
        ] = {}
        for meter in set(spans) | set(relay_rows):
            off = tuple(spans.get(meter, ()))
            opened = tuple(self.state.open_spans(meter)) if meter in self.state.relay else ()
            groups.setdefault((off, opened), []).append(position[meter])
        for (off, opened), positions in groups.items():
            covered = overlap_seconds(merge_spans(off + opened), grid, iv)
            index = np.asarray(positions)
            available[index] = 1.0 - covered / iv
            if off:
                hit = overlap_seconds(off, grid, iv) > 0
                flags[np.ix_(index, np.flatnonzero(hit))] |= np.uint16(QUALITY_BIT["1.2.32"])
        for meter in relay_rows:
            times = [c.at for c in self.state.relay[meter] if lo < c.at <= hi]
            if times:
                hit = points_in_intervals(times, grid, iv)
                flags[position[meter], hit] |= np.uint16(QUALITY_BIT["1.2.3"])
        return available

    def _alarm_flags(self, rows: I64, grid: I64, iv: int, flags: U16) -> None:
        lo, hi = int(grid[0]) - iv, int(grid[-1])
        alarms = self.schedule.alarms(rows, lo + 1, hi + 1)
        if not alarms:
            return
        position = {m: p for p, m in enumerate(rows.tolist())}
        for alarm in alarms:
            hit = points_in_intervals([alarm.at], grid, iv)
            flags[position[alarm.meter], hit] |= np.uint16(QUALITY_BIT[_ALARM_FLAG[alarm.kind]])

    # -- collection losses ---------------------------------------------------------------------

    def _missing(
        self, kind: int, rows: I64, grid: I64
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """(missing, placeholder) masks: lost intervals, and those of them sent as 0 + 2.5.259."""
        r = self.realism
        iv = self.interval_of(kind)
        missing = np.zeros((len(rows), len(grid)), dtype=np.bool_)
        q = grid // iv  # absolute interval numbers
        if r.missing_single > 0:
            missing |= (
                noise.uniform(self._keys["miss.single"], rows[:, None], q[None, :])
                < r.missing_single
            )
        if r.missing_runs > 0:
            per_day = DAY // iv
            days = np.arange(int(q[0]) // per_day - 1, int(q[-1]) // per_day + 1, dtype=np.int64)
            hit = (
                noise.uniform(self._keys["miss.run"], rows[:, None], days[None, :]) < r.missing_runs
            )
            m_idx, d_idx = np.nonzero(hit)
            if len(m_idx):
                meters, d = rows[m_idx], days[d_idx]
                first = d * per_day + np.floor(
                    noise.uniform(self._keys["miss.start"], meters, d) * per_day
                ).astype(np.int64)
                length = 1 + np.floor(
                    noise.uniform(self._keys["miss.length"], meters, d) * r.missing_run_max
                ).astype(np.int64)
                for pos, a, n in zip(m_idx.tolist(), first.tolist(), length.tolist(), strict=True):
                    missing[pos] |= (q >= a) & (q < a + n)
        placeholder = np.zeros_like(missing)
        if r.placeholder_share > 0 and missing.any():
            m_idx, i_idx = np.nonzero(missing)
            u = noise.uniform(self._keys["placeholder"], rows[m_idx], q[i_idx])
            placeholder[m_idx[u < r.placeholder_share], i_idx[u < r.placeholder_share]] = True
        return missing & ~placeholder, placeholder


class _Emitter:
    """Cuts a chunk's columns into one ReadingBlock per meter and channel."""

    def __init__(
        self,
        fleet: Fleet,
        rows: I64,
        grid: I64,
        iv: int,
        phys: Physics,
        flags: U16,
        missing: npt.NDArray[np.bool_],
        placeholder: npt.NDArray[np.bool_],
        cum_fwd: I64,
        cum_rev: I64,
        run_max: I64,
        register_points: I64,
    ) -> None:
        self.fleet, self.rows, self.grid, self.iv = fleet, rows, grid, iv
        self.phys, self.flags, self.missing, self.placeholder = phys, flags, missing, placeholder
        self.cum_fwd, self.cum_rev, self.run_max = cum_fwd, cum_rev, run_max
        self.register_points = register_points
        grid.flags.writeable = False
        self.register_ts = grid[register_points]
        self._set_cache: dict[int, QualitySet] = {}
        self._zeros: dict[int, npt.NDArray[np.int32]] = {}

    def blocks(self, channels: list[Channel]) -> list[ReadingBlock]:
        f = self.fleet
        values = {
            "forward": self.phys.forward / 1000.0,
            "reverse": self.phys.reverse / 1000.0,
            "net": (self.phys.forward - self.phys.reverse) / 1000.0,
            "gas_volume": self.phys.forward / 1000.0,
            "water_volume": self.phys.forward / 1000.0,
        }
        points = self.register_points
        registers = {
            "forward_register": self.cum_fwd[:, points] / 1000.0,
            "reverse_register": self.cum_rev[:, points] / 1000.0,
            # kW = Wh in the block / 1000 / (block seconds / 3600)
            "max_demand": self.run_max[:, points] * (3.6 / self.iv),
            "gas_register": self.cum_fwd[:, points] / 1000.0,
            "water_register": self.cum_fwd[:, points] / 1000.0,
        }
        lost = self.missing[:, points]
        lost_any: list[bool] = np.asarray(lost.any(axis=1)).tolist()
        any_missing: list[bool] = np.asarray(self.missing.any(axis=1)).tolist()
        any_flags: list[bool] = np.asarray(self.flags.any(axis=1)).tolist()
        solar_rows: list[bool] = (f.solar_kw[self.rows] > 0).tolist()
        out: list[ReadingBlock] = []
        for pos, meter in enumerate(self.rows.tolist()):
            meter_ref = f.meter_ref(meter)
            up_ref = f.usage_point_ref(meter)
            solar = solar_rows[pos]
            for c in channels:
                if c.solar_only and not solar:
                    continue
                if c.block_kind == "interval":
                    out.append(
                        self._interval_block(
                            c,
                            pos,
                            values[c.name][pos],
                            meter_ref,
                            up_ref,
                            any_missing[pos],
                            any_flags[pos],
                        )
                    )
                elif len(points):
                    ts, vs = self.register_ts, registers[c.name][pos]
                    if lost_any[pos]:
                        keep = ~lost[pos]
                        ts, vs = ts[keep], vs[keep]
                    out.append(
                        ReadingBlock(
                            c.reading_type,
                            ts,
                            vs,
                            self._no_quality(len(ts)),
                            meter=meter_ref,
                            usage_point=up_ref,
                            kind="register",
                        )
                    )
        return out

    def _no_quality(self, n: int) -> npt.NDArray[np.int32]:
        """A shared, read-only all-zero quality column (blocks without quality codes)."""
        found = self._zeros.get(n)
        if found is None:
            found = self._zeros[n] = np.zeros(n, dtype=np.int32)
            found.flags.writeable = False
        return found

    def _interval_block(
        self,
        c: Channel,
        pos: int,
        values: F64,
        meter_ref: ObjectRef,
        up_ref: ObjectRef,
        has_missing: bool,
        has_flags: bool,
    ) -> ReadingBlock:
        ts = self.grid
        flags = self.flags[pos]
        if has_missing:
            keep = ~self.missing[pos]
            ts, values, flags = ts[keep], values[keep], flags[keep]
        if has_flags:
            values = np.where(flags & np.uint16(_PLACEHOLDER), 0.0, values)
            sets, index = self._encode(flags)
        else:
            sets, index = (NO_QUALITY,), self._no_quality(len(ts))
        return ReadingBlock(
            c.reading_type, ts, values, index, sets, meter=meter_ref, usage_point=up_ref
        )

    def _encode(self, flags: U16) -> tuple[tuple[QualitySet, ...], npt.NDArray[np.int32]]:
        masks, inverse = np.unique(flags, return_inverse=True)
        sets: list[QualitySet] = [self._set(int(m)) for m in masks.tolist()]
        index = inverse.astype(np.int32)
        if masks[0] != 0:
            sets.insert(0, NO_QUALITY)
            index += 1
        return tuple(sets), index

    def _set(self, mask: int) -> QualitySet:
        found = self._set_cache.get(mask)
        if found is None:
            found = tuple(sorted(code for i, code in enumerate(QUALITY_FLAGS) if mask >> i & 1))
            self._set_cache[mask] = found
        return found
