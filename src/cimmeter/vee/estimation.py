"""The estimation methods. Each fills some of the rows still to estimate (`todo`), vectorized,
and records its method: the `3.8.n` code plus `3.8.0` on the row, the method in `why`, and one
`Finding` (rule = `estimate:<method>`) per run it filled.

Order (engine): zero fill (relay open / inactive), check meter, register proration, linear
interpolation (short gaps), like day, proxy day. A row no method can fill stays missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from cimmeter.vee.grid import BoolArray, Grid, runs
from cimmeter.vee.model import WHY_INDEX, Finding
from cimmeter.vee.quality import ESTIMATED, METHOD_CODES
from cimmeter.vee.rules import DAY, Context, Params, relay_open_mask, same_slot_mean


@dataclass
class Estimates:
    """Rows to estimate, and what estimation wrote."""

    todo: BoolArray
    why: np.ndarray

    def fill(self, g: Grid, method: str, mask: BoolArray, values: np.ndarray, reason: str) -> None:
        mask = mask & self.todo
        if not mask.any():
            return
        g.values[mask] = values[mask] if values.shape == mask.shape else values
        g.quality[mask] |= g.bits.bit(METHOD_CODES[method]) | g.bits.bit(ESTIMATED)
        self.why[mask] = WHY_INDEX[f"estimate:{method}"]
        self.todo &= ~mask
        starts, stops = runs(mask)
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
            g.findings.append(
                Finding(
                    f"estimate:{method}",
                    int(g.ts[a]),
                    int(g.ts[b - 1]),
                    b - a,
                    reason,
                    METHOD_CODES[method],
                )
            )


def zero_fill(g: Grid, e: Estimates, p: Params, c: Context) -> None:
    mask = relay_open_mask(g, c)
    e.fill(g, "zero_fill", mask, np.zeros(len(g.ts)), "relay open or usage point inactive")


def check_meter(g: Grid, e: Estimates, p: Params, c: Context) -> None:
    check = c.inp.check_meter
    if check is None or not len(check):
        return
    order = np.argsort(check.timestamps, kind="stable")
    cts, cvs = check.timestamps[order], check.values[order]
    pos = np.minimum(np.searchsorted(cts, g.ts), len(cts) - 1)
    ok = cts[pos] == g.ts
    e.fill(g, "check_meter", ok, cvs[pos], "substituted from the linked check meter")


def _good(g: Grid, e: Estimates) -> BoolArray:
    return g.present & ~g.replace


def linear(g: Grid, e: Estimates, p: Params, c: Context) -> None:
    good = _good(g, e)
    n = len(g.ts)
    if n == 0 or not good.any():
        return
    idx = np.arange(n)
    prev = np.maximum.accumulate(np.where(good, idx, -1))
    nxt = np.minimum.accumulate(np.where(good, idx, n)[::-1])[::-1]
    inner = e.todo & (prev >= 0) & (nxt < n)
    length = nxt - prev - 1
    inner &= length <= int(p["max_intervals"])
    if not inner.any():
        return
    a = g.values[np.clip(prev, 0, n - 1)]
    b = g.values[np.clip(nxt, 0, n - 1)]
    frac = (idx - prev) / np.maximum(nxt - prev, 1)
    e.fill(g, "linear", inner, a + (b - a) * frac, "straight line between the neighbours")


def like_day_values(
    g: Grid, c: Context, weeks: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Same-weekday mean over recent weeks (history and this range's own good values) at
    `rows`, and how many weeks were found."""
    good = g.present & ~g.replace
    hts = np.concatenate([c.history_ts, g.ts[good]])
    hvs = np.concatenate([c.history_values, g.values[good]])
    order = np.argsort(hts, kind="stable")
    return same_slot_mean(g.ts[rows], hts[order], hvs[order], weeks)


def like_day(g: Grid, e: Estimates, p: Params, c: Context) -> None:
    if not e.todo.any():
        return
    day = (g.ts - 1 + c.offset) // DAY
    rows = np.flatnonzero(np.isin(day, np.unique(day[e.todo])))  # the days being filled
    weeks, min_weeks = int(p["weeks"]), int(p["min_weeks"])
    mean_at, found_at = like_day_values(g, c, weeks, rows)
    mean = np.full(len(g.ts), np.nan)
    found = np.zeros(len(g.ts), dtype=np.int64)
    mean[rows], found[rows] = mean_at, found_at
    ok = e.todo & (found >= min_weeks)
    if not ok.any():
        return
    # scale per local day: actuals of the day over the like-day values at the same rows
    good = g.present & ~g.replace
    first = int(day[0])
    d = day - first
    both = good & (found >= min_weeks)
    act = np.bincount(d, weights=np.where(both, g.values, 0.0))
    ref = np.bincount(d, weights=np.where(both, np.nan_to_num(mean), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where((act > 0) & (ref > 0), act / ref, 1.0)
    scale = np.clip(scale, 0.5, 2.0)
    e.fill(
        g,
        "like_day",
        ok,
        np.nan_to_num(mean) * scale[d],
        f"mean of the same weekday over {p['weeks']} weeks, scaled to the day",
    )


def proxy_day(g: Grid, e: Estimates, p: Params, c: Context) -> None:
    good = g.present & ~g.replace
    hts = np.concatenate([c.history_ts, g.ts[good]])
    hvs = np.concatenate([c.history_values, g.values[good]])
    if not len(hts):
        return
    order = np.argsort(hts, kind="stable")
    hts, hvs = hts[order], hvs[order]
    local = g.ts - 1 + c.offset
    weekend = ((local // DAY + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    values = np.full(len(g.ts), np.nan)
    left = e.todo.copy()
    for k in range(1, int(p["max_days"]) + 1):
        for sign in (-1, 1):
            if not left.any():
                break
            want = g.ts + sign * k * DAY
            w_weekend = (((want - 1 + c.offset) // DAY + 3) % 7) >= 5
            pos = np.minimum(np.searchsorted(hts, want), len(hts) - 1)
            ok = left & (hts[pos] == want) & (w_weekend == weekend)
            values[ok] = hvs[pos[ok]]
            left &= ~ok
    e.fill(g, "proxy_day", e.todo & ~left, values, "the same time of the nearest similar day")


def proration(g: Grid, e: Estimates, p: Params, c: Context) -> None:
    """Spread the register advance not covered by actuals over the missing rows of each span
    between two register reads, by the like-day profile (uniform without one), so that the
    intervals sum to the advance exactly, in units of `resolution`."""
    reg = c.inp.registers
    if reg is None or len(reg) < 2 or g.interval is None or not e.todo.any():
        return
    res = float(p["resolution"])
    max_factor = float(p["max_factor"])
    order = np.argsort(reg.timestamps, kind="stable")
    rts, rvs = reg.timestamps[order], reg.values[order]
    lo = np.searchsorted(g.ts, rts[:-1], side="right")
    hi = np.searchsorted(g.ts, rts[1:], side="right")
    complete = (hi - lo) == (rts[1:] - rts[:-1]) // g.interval
    todo_count = np.concatenate([[0], np.cumsum(e.todo)])
    spans = np.flatnonzero(complete & (todo_count[hi] - todo_count[lo] > 0))
    if not len(spans):
        return
    todo_rows = np.flatnonzero(e.todo)
    profile_at, found_at = like_day_values(g, c, 4, todo_rows)
    profile = np.zeros(len(g.ts))
    found = np.zeros(len(g.ts), dtype=np.int64)
    profile[todo_rows], found[todo_rows] = profile_at, found_at
    good = _good(g, e)
    values = np.zeros(len(g.ts))
    mask = np.zeros(len(g.ts), dtype=np.bool_)
    for s in spans.tolist():
        rows = np.arange(lo[s], hi[s])
        fill = rows[e.todo[rows]]
        known = rows[good[rows]]
        advance = float(rvs[s + 1] - rvs[s])
        units = round((advance - float(np.sum(g.values[known]))) / res)
        if units < 0 or len(fill) + len(known) != len(rows):
            continue
        # a remainder far above what the span's actuals suggest is a register jump, not the
        # missing consumption: leave it to register_advance and the other methods
        usual = float(np.mean(np.abs(g.values[known]))) if len(known) else 0.0
        if len(known) and units * res > max_factor * max(usual, res) * len(fill):
            continue
        weights = np.where(found[fill] > 0, np.maximum(np.nan_to_num(profile[fill]), 0.0), 0.0)
        values[fill] = _from_units(prorate(units, weights), res)
        mask[fill] = True
    e.fill(g, "proration", mask, values, "register advance spread by profile")


def _from_units(units: np.ndarray, res: float) -> np.ndarray:
    """Units of `res` as values: divided by 1/res when that is whole (1000 for Wh in kWh), so
    that 476 units give the float nearest 0.476, as the meter's own decimal values are."""
    per = 1.0 / res
    if abs(per - round(per)) < 1e-9:
        out: np.ndarray = units / float(round(per))
        return out
    scaled: np.ndarray = units * res
    return scaled


def prorate(units: int, weights: np.ndarray) -> np.ndarray:
    """Integers that sum to `units` exactly, proportional to `weights` (uniform if all 0):
    the largest-remainder method."""
    n = len(weights)
    if n == 0:
        return np.zeros(0)
    w = np.asarray(weights, dtype=np.float64)
    if not np.isfinite(w).all() or w.sum() <= 0:
        w = np.ones(n)
    share = units * w / w.sum()
    base = np.floor(share).astype(np.int64)
    rest = int(units - base.sum())
    if rest:
        order = np.argsort(-(share - base), kind="stable")
        base[order[:rest]] += 1
    out: np.ndarray = base.astype(np.float64)
    return out


METHODS: Final[Mapping[str, Callable[[Grid, Estimates, Params, Context], None]]] = {
    "zero_fill": zero_fill,
    "check_meter": check_meter,
    "proration": proration,
    "linear": linear,
    "like_day": like_day,
    "proxy_day": proxy_day,
}
