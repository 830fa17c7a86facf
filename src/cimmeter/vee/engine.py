"""VEE for one channel: lay the raw readings on their grid, run the rules, keep the edits,
estimate what is missing or rejected, and build the final series with its quality codes.

Pure: no store, no clock (the caller passes `now`), so a re-run over the same input gives the
same output, which the store then writes as a no-op (idempotent).
"""

from __future__ import annotations

from functools import partial
from time import perf_counter
from typing import Final

import numpy as np

from cimmeter.codes.reading_type import ReadingType
from cimmeter.model.readings import ReadingBlock
from cimmeter.vee.config import METHOD_ORDER, RULES, VeeConfig
from cimmeter.vee.estimation import METHODS, Estimates
from cimmeter.vee.grid import CodeBits, Grid, run_lengths
from cimmeter.vee.model import WHY_INDEX, ChannelInput, ChannelResult, interval_seconds
from cimmeter.vee.quality import (
    MISSING_MARKERS,
    QUESTIONABLE,
    VALIDATED,
    is_edit,
    is_vee_code,
)
from cimmeter.vee.rules import INTERVAL_RULES, REGISTER_RULES, Context, Params, register_checks

ESTIMATE_FROM: Final = WHY_INDEX["estimate:zero_fill"]


def _params(config: VeeConfig, rt: str, groups: tuple[str, ...], rule: str) -> Params:
    out: dict[str, float | int | bool | str] = dict(config.params(rule, rt, groups))
    out["_quality"] = RULES[rule].quality
    return out


def _sorted_unique(block: ReadingBlock | None) -> tuple[np.ndarray, np.ndarray]:
    if block is None or not len(block):
        return np.zeros(0, np.int64), np.zeros(0)
    order = np.argsort(block.timestamps, kind="stable")
    ts, vs = block.timestamps[order], block.values[order]
    keep = np.concatenate([ts[1:] != ts[:-1], [True]]) & np.isfinite(vs)
    return ts[keep], vs[keep]


def run_channel(
    inp: ChannelInput,
    config: VeeConfig | None = None,
    timings: dict[str, float] | None = None,
) -> ChannelResult:
    """Validate, keep edits, estimate; see the module docstring. With `timings`, adds the
    seconds each rule and method took (the benchmark's readings/s per rule)."""
    config = config or VeeConfig()
    raw = inp.raw
    rt = ReadingType.parse(raw.reading_type)
    params = partial(_params, config, raw.reading_type, inp.groups)
    interval = interval_seconds(raw.reading_type) if raw.kind == "interval" else None
    tolerance = int(params("future")["tolerance_seconds"])

    order = np.argsort(raw.timestamps, kind="stable")
    ts, vs, qi = raw.timestamps[order], raw.values[order], raw.quality[order]
    inside = (ts > inp.start) & (ts <= inp.end)
    ts, vs, qi = ts[inside], vs[inside], qi[inside]
    raw_ts = ts
    future = ts > inp.now + tolerance
    future_ts = np.unique(ts[future])
    ts, vs, qi = ts[~future], vs[~future], qi[~future]
    last = np.concatenate([ts[1:] != ts[:-1], [True]])
    dup_ts = np.unique(ts[~last])
    ts, vs, qi = ts[last], vs[last], qi[last]
    if interval is not None:
        on = ts % interval == 0
        off_ts = ts[~on]
        ts, vs, qi = ts[on], vs[on], qi[on]
        top = min(inp.end, inp.now + tolerance)
        grid_ts = np.arange(
            (inp.start // interval + 1) * interval, top + 1, interval, dtype=np.int64
        )
    else:
        off_ts = np.zeros(0, np.int64)
        grid_ts = ts

    # raw quality codes -> bits (VEE's own codes are recomputed, never carried)
    bits = CodeBits()
    set_bits = np.array(
        [bits.mask_of(tuple(c for c in qs if not is_vee_code(c))) for qs in raw.quality_sets],
        dtype=np.uint64,
    )
    marker = np.array([bool(set(qs) & MISSING_MARKERS) for qs in raw.quality_sets])
    n = len(grid_ts)
    values = np.full(n, np.nan)
    present = np.zeros(n, dtype=np.bool_)
    raw_quality = np.zeros(n, dtype=np.uint64)
    pos = np.searchsorted(grid_ts, ts)
    values[pos] = vs
    present[pos] = ~marker[qi] & np.isfinite(vs)
    raw_quality[pos] = set_bits[qi]
    g = Grid(
        raw.reading_type, grid_ts, values, present, interval, bits, raw_quality.copy(), raw_quality
    )

    hts, hvs = _sorted_unique(inp.history)
    offset = int(config.setting("timezone_offset_minutes")) * 60
    ctx = Context(inp, rt, params, offset, raw_ts, dup_ts, off_ts, future_ts, hts, hvs)

    table = INTERVAL_RULES if interval is not None else REGISTER_RULES
    for name, rule in table.items():
        p = params(name)
        if bool(p["enabled"]):
            t = perf_counter()
            rule(g, p, ctx)
            if timings is not None:
                timings[name] = timings.get(name, 0.0) + perf_counter() - t
    if interval is None:
        t = perf_counter()
        register_checks(g, params, ctx)
        if timings is not None:
            timings["register_checks"] = timings.get("register_checks", 0.0) + perf_counter() - t

    why = np.full(n, -1, dtype=np.int32)
    why[g.present] = WHY_INDEX["actual"]
    _keep_edits(g, why, inp, config)

    if interval is not None:
        est = Estimates(g.replace & (why != WHY_INDEX["edit"]), why)
        for method in METHOD_ORDER:
            p = params(method)
            if bool(p["enabled"]):
                t = perf_counter()
                METHODS[method](g, est, p, ctx)
                if timings is not None:
                    timings[method] = timings.get(method, 0.0) + perf_counter() - t
        p = params("prolonged_estimation")
        if bool(p["enabled"]):
            long_run = run_lengths(why >= ESTIMATE_FROM) > int(p["max_run"])
            g.flag(
                "prolonged_estimation",
                long_run,
                QUESTIONABLE,
                f"more than {p['max_run']} consecutive estimates",
            )

    # passed: an actual with no VEE failure code is validated (3.0.1)
    vee_bits = np.uint64(0)
    for code in list(bits.codes):
        if is_vee_code(code):
            vee_bits |= bits.bit(code)
    passed = (why == WHY_INDEX["actual"]) & ((g.quality & vee_bits) == 0)
    g.quality[passed] |= bits.bit(VALIDATED)

    keep = why >= 0
    sets, index = bits.decode(g.quality[keep])
    final = ReadingBlock(
        raw.reading_type,
        g.ts[keep],
        g.values[keep].astype(np.float64),
        index,
        sets,
        meter=raw.meter,
        usage_point=raw.usage_point,
        kind=raw.kind,
    )
    return ChannelResult(final, why[keep], tuple(g.findings), n)


def _keep_edits(g: Grid, why: np.ndarray, inp: ChannelInput, config: VeeConfig) -> None:
    """Edited values in the stored final series stay, unless configured that raw replaces them
    (then only where a raw value is present)."""
    prior = inp.prior_final
    if prior is None or not len(prior):
        return
    edit_sets = np.array([is_edit(qs) for qs in prior.quality_sets])
    rows = edit_sets[prior.quality]
    if not rows.any():
        return
    pos, ok = g.at(prior.timestamps[rows])
    if bool(config.setting("raw_replaces_edit")):
        ok &= ~g.present[pos]
    pos = pos[ok]
    vals = prior.values[rows][ok]
    sets = prior.quality[rows][ok]
    g.values[pos] = vals
    g.quality[pos] = np.array(
        [g.bits.mask_of(prior.quality_sets[int(s)]) for s in sets], dtype=np.uint64
    )
    g.present[pos] = True
    g.replace[pos] = False
    why[pos] = WHY_INDEX["edit"]
