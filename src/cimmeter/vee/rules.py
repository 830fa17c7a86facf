"""The validation rules, each vectorized over the grid's numpy columns.

A rule reads the grid (and the channel's context), and calls `Grid.flag` with a boolean mask;
`flag` makes one `Finding` per run. Parameters come resolved from `VeeConfig.params`. Rules
never change a value: they mark it, and the ones configured with `estimate = true` hand it to
estimation (the raw value stays in the raw series).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from cimmeter.codes.reading_type import ReadingType
from cimmeter.vee.grid import BoolArray, Grid, run_lengths
from cimmeter.vee.model import ChannelInput, Finding, interval_seconds
from cimmeter.vee.quality import INTERVAL_FLAGS, TAINT_FLAGS

Params = Mapping[str, float | int | bool | str]
DAY: Final = 86_400
WEEK: Final = 7 * DAY

NEGATIVE_ALLOWED_FLOWS: Final[frozenset[int]] = frozenset({0, 4})
"""digest 5.1.5: 4 = net (negative when exporting); 0 = none (not a flow quantity)."""

EXPECTED_UNITS: Final[dict[int, frozenset[int]]] = {
    # digest 5.1.7 measurementKind -> units (5.1.13) that fit it
    12: frozenset({72, 71, 73, 132}),  # energy: Wh, VAh, VArh, BTU
    8: frozenset({38, 61, 63}),  # demand: W, VA, VAr
    37: frozenset({38, 61, 63}),  # power
    58: frozenset({42, 128, 119, 134}),  # volume: m3, US gal, ft3, litre
}


@dataclass(frozen=True, slots=True)
class Context:
    """What rules see besides the grid."""

    inp: ChannelInput
    rt: ReadingType
    params: Callable[[str], Params]
    offset: int
    """Seconds east of UTC of local time (days for incomplete_day, weekdays for history)."""
    raw_ts: np.ndarray
    """Sorted raw timestamps within the range, before de-duplication (duplicates, off-grid)."""
    dup_ts: np.ndarray
    off_ts: np.ndarray
    future_ts: np.ndarray
    history_ts: np.ndarray
    history_values: np.ndarray


def _num(p: Params, key: str) -> float:
    return float(p[key])


# -- interval rules ---------------------------------------------------------------------------


def gap(g: Grid, p: Params, c: Context) -> None:
    missing = ~g.present
    g.flag(
        "gap",
        missing,
        str(p["_quality"]),
        "no reading for the interval",
        estimate=bool(p["estimate"]),
    )


def incomplete_day(g: Grid, p: Params, c: Context) -> None:
    if g.interval is None or not len(g.ts):
        return
    per_day = DAY // g.interval
    day = (g.ts - 1 + c.offset) // DAY  # the local day an interval end belongs to
    first, last = int(day[0]), int(day[-1])
    counts = np.bincount(
        day - first, weights=g.present.astype(np.float64), minlength=last - first + 1
    )
    slots = np.bincount(day - first, minlength=last - first + 1)
    bad_day = (slots == per_day) & (counts < per_day)
    mask = bad_day[day - first]
    if mask.any():
        # one finding per day, not per run of intervals
        for d in np.flatnonzero(bad_day).tolist():
            sel = day - first == d
            idx = np.flatnonzero(sel)
            missing = int(per_day - counts[d])
            g.findings.append(
                _finding(
                    "incomplete_day",
                    g,
                    idx,
                    p,
                    f"{missing} of {per_day} intervals missing that day",
                )
            )


def _finding(rule: str, g: Grid, idx: np.ndarray, p: Params, reason: str) -> Finding:
    return Finding(
        rule, int(g.ts[idx[0]]), int(g.ts[idx[-1]]), len(idx), reason, str(p["_quality"])
    )


def duplicate(g: Grid, p: Params, c: Context) -> None:
    if len(c.dup_ts):
        g.flag(
            "duplicate",
            np.ones(len(c.dup_ts), np.bool_),
            str(p["_quality"]),
            "more than one reading for this timestamp; the last received is kept",
            ts=c.dup_ts,
        )
        pos, ok = g.at(c.dup_ts)
        g.quality[pos[ok]] |= g.bits.bit(str(p["_quality"]))


def off_grid(g: Grid, p: Params, c: Context) -> None:
    if len(c.off_ts):
        g.flag(
            "off_grid",
            np.ones(len(c.off_ts), np.bool_),
            str(p["_quality"]),
            f"timestamp not on the {g.interval}s grid (kept in raw only)",
            ts=c.off_ts,
        )
    flags = np.uint64(0)
    for code in INTERVAL_FLAGS:
        if code in g.bits.codes:
            flags |= g.bits.bit(code)
    if flags:
        g.flag(
            "off_grid",
            (g.raw_quality & flags) != 0,
            str(p["_quality"]),
            "device reports a partial or long interval",
        )


def _rolling_median_at(values: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """The median of the `window - 1` neighbours (centre left out, so a spike does not lift its
    own baseline) of each of `rows`, ignoring missing values; NaN where none."""
    half = window // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    offsets = np.concatenate([np.arange(-half, 0), np.arange(1, half + 1)])
    neighbours = padded[rows[:, None] + half + offsets[None, :]]
    out = np.full(len(rows), np.nan)
    full = ~np.isnan(neighbours).any(axis=1)
    if full.any():
        out[full] = np.median(neighbours[full], axis=1)
    some = ~full & ~np.isnan(neighbours).all(axis=1)
    if some.any():
        out[some] = np.nanmedian(neighbours[some], axis=1)
    return out


def spike(g: Grid, p: Params, c: Context) -> None:
    if not g.present.any():
        return
    v = np.where(g.present, g.values, np.nan)
    # the typical size of a non-zero value: zeros (nights of a solar export channel) must not
    # make every morning a spike
    nonzero = np.abs(v[g.present & (v != 0)])
    q = _num(p, "typical_quantile")
    typical = float(np.quantile(nonzero, q)) if len(nonzero) else 0.0
    factor = _num(p, "factor")
    # the baseline is at least `typical`: only values above factor x typical can be spikes,
    # so the rolling median is needed for those few rows only
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero(g.present & (v > factor * typical) & (v > _num(p, "min_value")))
    mask = np.zeros(len(v), dtype=np.bool_)
    if len(candidates):
        med = _rolling_median_at(v, candidates, max(3, int(p["window"]) | 1))
        base = np.fmax(np.nan_to_num(med, nan=typical), typical)
        mask[candidates] = v[candidates] > factor * base
    g.flag(
        "spike",
        mask,
        str(p["_quality"]),
        f"above {p['factor']} x the rolling median of {p['window']} neighbours",
        estimate=bool(p["estimate"]),
    )


def high_limit(g: Grid, p: Params, c: Context) -> None:
    limit = _num(p, "max_value")
    if limit < 0:
        return  # not configured
    g.flag("high_limit", g.present & (g.values > limit), str(p["_quality"]), f"above {limit:g}")


def low_limit(g: Grid, p: Params, c: Context) -> None:
    if p["min_value"] == "none":
        return
    limit = _num(p, "min_value")
    g.flag("low_limit", g.present & (g.values < limit), str(p["_quality"]), f"below {limit:g}")


def same_slot_mean(
    ts: np.ndarray, hist_ts: np.ndarray, hist_v: np.ndarray, weeks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the values at ts - k weeks (k = 1..weeks) and how many were found."""
    total = np.zeros(len(ts))
    found = np.zeros(len(ts), dtype=np.int64)
    if not len(hist_ts):
        return total, found
    for k in range(1, weeks + 1):
        want = ts - k * WEEK
        pos = np.minimum(np.searchsorted(hist_ts, want), len(hist_ts) - 1)
        ok = hist_ts[pos] == want
        total[ok] += hist_v[pos[ok]]
        found += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(found > 0, total / np.maximum(found, 1), np.nan), found


def history_high(g: Grid, p: Params, c: Context) -> None:
    mean, found = same_slot_mean(g.ts, c.history_ts, c.history_values, int(p["weeks"]))
    ok = g.present & (found >= int(p["min_weeks"]))
    with np.errstate(invalid="ignore"):
        mask = ok & (g.values > _num(p, "factor") * mean + _num(p, "margin"))
    g.flag(
        "history_high",
        mask,
        str(p["_quality"]),
        f"above {p['factor']} x the same-weekday mean + {p['margin']}",
    )


def history_low(g: Grid, p: Params, c: Context) -> None:
    factor = _num(p, "factor")
    if factor <= 0:
        return
    mean, found = same_slot_mean(g.ts, c.history_ts, c.history_values, int(p["weeks"]))
    ok = g.present & (found >= int(p["min_weeks"]))
    with np.errstate(invalid="ignore"):
        mask = ok & (g.values < factor * mean)
    g.flag("history_low", mask, str(p["_quality"]), f"below {factor} x the same-weekday mean")


def relay_open_mask(g: Grid, c: Context) -> BoolArray:
    return g.span_mask(c.inp.relay_open) | g.span_mask(c.inp.inactive)


def usually_nonzero(g: Grid, c: Context, rows: np.ndarray, days: int = 7) -> BoolArray:
    """For each of `rows`: is its time of day non-zero on most other days (of this range and
    history)? Then a zero there is unexpected. Zeros at night on an export channel, or at noon
    on the import channel of a home with solar, are what usually happens there."""
    ts = np.concatenate([c.history_ts, g.ts[g.present]])
    vs = np.concatenate([c.history_values, g.values[g.present]])
    order = np.argsort(ts, kind="stable")
    ts, vs = ts[order], vs[order]
    at = g.ts[rows]
    seen = np.zeros(len(at))
    nonzero = np.zeros(len(at))
    if len(ts) and len(at):
        for k in range(1, days + 1):
            for sign in (-1, 1):
                want = at + sign * k * DAY
                pos = np.minimum(np.searchsorted(ts, want), len(ts) - 1)
                ok = ts[pos] == want
                seen += ok
                nonzero += ok & (vs[pos] != 0)
    out: BoolArray = (seen > 0) & (nonzero * 2 > seen)
    return out


def outage_mask(g: Grid, c: Context) -> BoolArray:
    """Rows during a power outage (events, or the device's power-fail flag): no consumption
    there is what happened, not a fault of the data."""
    spans = [(t.start, t.end) for t in c.inp.taints if t.reason == "power outage"]
    mask = g.span_mask(np.asarray(spans, dtype=np.int64).reshape(-1, 2))
    if "1.2.32" in g.bits.codes:
        mask |= (g.raw_quality & g.bits.bit("1.2.32")) != 0
    return mask


def zero_run(g: Grid, p: Params, c: Context) -> None:
    zero = g.present & (g.values == 0.0) & ~relay_open_mask(g, c) & ~outage_mask(g, c)
    if bool(p["only_unexpected"]):
        rows = np.flatnonzero(zero)
        zero[rows] = usually_nonzero(g, c, rows)
    mask = run_lengths(zero) >= int(p["min_run"])
    g.flag(
        "zero_run",
        mask,
        str(p["_quality"]),
        f"{p['min_run']} or more consecutive zeros with the relay closed",
    )


def negative(g: Grid, p: Params, c: Context) -> None:
    if c.rt.flow_direction in NEGATIVE_ALLOWED_FLOWS:
        return
    g.flag(
        "negative",
        g.present & (g.values < 0),
        str(p["_quality"]),
        f"negative, flow direction {c.rt.flow_direction} forbids it",
    )


def flat_line(g: Grid, p: Params, c: Context) -> None:
    v = g.values
    same = np.zeros(len(v), dtype=np.bool_)
    if len(v) > 1:
        eq = g.present[1:] & g.present[:-1] & (v[1:] == v[:-1]) & (v[1:] != 0)
        # a row belongs to a flat run if it equals its predecessor or its successor
        same[1:] |= eq
        same[:-1] |= eq
    # run of equal rows: split runs where values change
    lengths = _equal_run_lengths(v, same)
    g.flag(
        "flat_line",
        lengths >= int(p["min_run"]),
        str(p["_quality"]),
        f"{p['min_run']} or more identical non-zero values",
    )


def _equal_run_lengths(v: np.ndarray, same: BoolArray) -> np.ndarray:
    change = np.ones(len(v), dtype=np.bool_)
    change[1:] = ~(same[1:] & same[:-1] & (v[1:] == v[:-1]))
    run_id = np.cumsum(change)
    sizes = np.bincount(run_id)
    out = sizes[run_id]
    out[~same] = 0
    return out


def unit(g: Grid, p: Params, c: Context) -> None:
    rt = c.rt
    fits = EXPECTED_UNITS.get(rt.measurement_kind)
    if fits is not None and rt.unit not in fits:
        g.flag(
            "unit",
            g.present,
            str(p["_quality"]),
            f"unit {rt.unit} does not fit measurement kind {rt.measurement_kind}",
        )
        return
    if g.interval is None or not g.present.any():
        return
    per_hour = np.abs(g.values[g.present]) * (10.0**rt.multiplier) * 3600.0 / g.interval
    limit = _num(p, "max_per_hour_base")
    if float(np.max(per_hour)) > limit:
        mask = g.present.copy()
        mask[g.present] = per_hour > limit
        g.flag(
            "unit",
            mask,
            str(p["_quality"]),
            f"implausible with multiplier {rt.multiplier}: above {limit:g} base units/h",
        )


def future(g: Grid, p: Params, c: Context) -> None:
    if len(c.future_ts):
        g.flag(
            "future",
            np.ones(len(c.future_ts), np.bool_),
            str(p["_quality"]),
            "timestamp in the future (kept in raw only)",
            ts=c.future_ts,
        )


def stale(g: Grid, p: Params, c: Context) -> None:
    limit = int(_num(p, "max_hours") * 3600)
    now = c.inp.now
    if c.inp.end < now - limit:
        return  # a past range: staleness is about now
    last = int(c.raw_ts.max()) if len(c.raw_ts) else c.inp.start
    if now - last > limit:
        g.findings.append(
            Finding(
                "stale",
                last,
                now,
                0,
                f"no data for {(now - last) / 3600:.1f} h",
                str(p["_quality"]),
            )
        )


def event_taint(g: Grid, p: Params, c: Context) -> None:
    for taint in c.inp.taints:
        span = np.array([[taint.start, taint.end]], dtype=np.int64)
        g.flag("event_taint", g.span_mask(span) & g.present, str(p["_quality"]), taint.reason)
    flags = np.uint64(0)
    for code in TAINT_FLAGS:
        if code in g.bits.codes:
            flags |= g.bits.bit(code)
    if flags:
        g.flag(
            "event_taint",
            g.present & ((g.raw_quality & flags) != 0),
            str(p["_quality"]),
            "device flag: power fail, clock or tamper",
        )


INTERVAL_RULES: Final[dict[str, Callable[[Grid, Params, Context], None]]] = {
    "future": future,
    "duplicate": duplicate,
    "off_grid": off_grid,
    "gap": gap,
    "incomplete_day": incomplete_day,
    "unit": unit,
    "spike": spike,
    "high_limit": high_limit,
    "low_limit": low_limit,
    "history_high": history_high,
    "history_low": history_low,
    "zero_run": zero_run,
    "negative": negative,
    "flat_line": flat_line,
    "stale": stale,
    "event_taint": event_taint,
}


# -- register rules ---------------------------------------------------------------------------


def register_checks(g: Grid, p_of: Callable[[str], Params], c: Context) -> None:
    """Decrease, rollover and advance vs intervals, over consecutive register reads."""
    v, ts = g.values, g.ts
    if len(v) < 2:
        return
    prev, cur = v[:-1], v[1:]
    diff = cur - prev
    if c.rt.measurement_kind in DEMAND_KINDS:
        _demand_jump(g, p_of("demand_jump"), diff)
        return
    hours = (ts[1:] - ts[:-1]) / 3600.0
    with np.errstate(divide="ignore", invalid="ignore"):
        modulus = 10.0 ** (np.floor(np.log10(np.maximum(prev, 1.0))) + 1)
    p_roll = p_of("rollover")
    wrapped = diff + modulus
    is_roll = (
        (diff < 0)
        & (wrapped >= 0)
        & (wrapped <= _num(p_roll, "max_advance_per_hour") * np.maximum(hours, 1.0))
        & (prev >= 0.5 * modulus)
    )
    # a wrap is plausible only if the wrapped advance looks like the register's usual pace
    rising = diff > 0
    if rising.any():
        typical = float(np.median(diff[rising] / np.maximum(hours[rising], 1e-9)))
        is_roll &= wrapped <= 20.0 * typical * np.maximum(hours, 1.0)
    advance = np.where(is_roll, wrapped, diff)
    if bool(p_roll["enabled"]):
        mask = np.concatenate([[False], is_roll])
        g.flag("rollover", mask, str(p_roll["_quality"]), "register wrapped past its dials")
    p_dec = p_of("register_decrease")
    if bool(p_dec["enabled"]):
        mask = np.concatenate([[False], (diff < 0) & ~is_roll])
        g.flag("register_decrease", mask, str(p_dec["_quality"]), "lower than the read before")
    p_adv = p_of("register_advance")
    iv = c.inp.intervals
    if not bool(p_adv["enabled"]) or iv is None or not len(iv):
        return
    width = _interval_of(iv.reading_type)
    if width is None:
        return
    order = np.argsort(iv.timestamps, kind="stable")
    its, ivals = iv.timestamps[order], iv.values[order]
    keep = np.concatenate([its[1:] != its[:-1], [True]]) & (its % width == 0)
    its, ivals = its[keep], ivals[keep]
    csum = np.concatenate([[0.0], np.cumsum(ivals)])
    lo = np.searchsorted(its, ts[:-1], side="right")
    hi = np.searchsorted(its, ts[1:], side="right")
    total = csum[hi] - csum[lo]
    complete = (hi - lo) == (ts[1:] - ts[:-1]) // width
    tol = _num(p_adv, "tolerance") + _num(p_adv, "relative") * np.abs(advance)
    mask = np.concatenate([[False], complete & (np.abs(advance - total) > tol)])
    g.flag(
        "register_advance",
        mask,
        str(p_adv["_quality"]),
        "register advance differs from the sum of the intervals",
    )


DEMAND_KINDS: Final[frozenset[int]] = frozenset({8, 37})
"""digest 5.1.7: demand, power. Such registers hold a level, not an accumulated quantity: no
advance or rollover check applies, a jump does."""


def _demand_jump(g: Grid, p: Params, diff: np.ndarray) -> None:
    if not bool(p["enabled"]):
        return
    usual = float(np.median(np.abs(diff)))  # most reads repeat the level: usually 0
    limit = max(_num(p, "factor") * usual, _num(p, "min_jump"))
    mask = np.concatenate([[False], diff > limit])
    g.flag("demand_jump", mask, str(p["_quality"]), f"rose by more than {limit:g}")


def _interval_of(reading_type: str) -> int | None:
    return interval_seconds(reading_type)


REGISTER_RULES: Final[dict[str, Callable[[Grid, Params, Context], None]]] = {
    "future": future,
    "duplicate": duplicate,
    "unit": unit,
    "stale": stale,
}
