"""Each estimation method fills what it should, records its method, and never an actual."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cimmeter.vee import VeeConfig, spans
from cimmeter.vee.estimation import prorate
from cimmeter.vee.model import WHY_INDEX
from tests.vee.helpers import DAY, FWD_REG, IV, START, block, fired, load, run

TS, VS = load()


def gap_at(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(len(TS), bool)
    keep[lo:hi] = False
    return TS[keep], VS[keep]


def only(*methods: str) -> VeeConfig:
    off = {
        m: {"enabled": False}
        for m in ("zero_fill", "check_meter", "linear", "proration", "like_day", "proxy_day")
        if m not in methods
    }
    return VeeConfig.from_mapping({"rules": off})


def estimated(result, method: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    return result.final.timestamps[result.why == WHY_INDEX[f"estimate:{method}"]]


def test_linear_fills_short_gaps_on_the_line() -> None:
    ts, vs = gap_at(100, 103)
    result = run(ts, vs, end=int(TS[-1]), config=only("linear"))
    got = result.final.values[100:103]
    a, b = VS[99], VS[103]
    assert np.allclose(got, a + (b - a) * np.array([1, 2, 3]) / 4)
    assert all({"3.8.1", "3.8.0"} <= set(result.final.qualities_at(i)) for i in range(100, 103))
    # a longer gap is not linear's job
    ts, vs = gap_at(100, 110)
    assert not len(estimated(run(ts, vs, end=int(TS[-1]), config=only("linear")), "linear"))


def test_like_day_uses_same_weekday_scaled() -> None:
    ts, vs = gap_at(8 * 96 + 20, 8 * 96 + 60)  # day 8 (Tuesday), 40 intervals
    result = run(ts, vs, end=int(TS[-1]), config=only("like_day"))
    filled = estimated(result, "like_day")
    assert len(filled) == 40
    i = np.searchsorted(result.final.timestamps, filled)
    week_before = VS[8 * 96 + 20 - 7 * 96 : 8 * 96 + 60 - 7 * 96]
    ratio = result.final.values[i] / week_before
    assert np.allclose(ratio, ratio[0])  # one scale factor for the day
    assert 0.5 <= ratio[0] <= 2.0
    assert "3.8.2" in result.final.qualities_at(int(i[0]))


def test_proxy_day_takes_nearest_similar_day() -> None:
    ts, vs = gap_at(2 * 96, 2 * 96 + 30)  # Wednesday: no week of history in range
    result = run(ts, vs, end=int(TS[-1]), config=only("proxy_day"))
    filled = estimated(result, "proxy_day")
    assert len(filled) == 30
    i = np.searchsorted(result.final.timestamps, filled)
    assert np.array_equal(result.final.values[i], VS[96 : 96 + 30])  # Tuesday, a day before


def test_zero_fill_when_relay_open_or_inactive() -> None:
    ts, vs = gap_at(300, 340)
    relay = spans([(int(TS[299]), int(TS[339]))])
    result = run(ts, vs, end=int(TS[-1]), relay_open=relay)
    assert len(estimated(result, "zero_fill")) == 40
    assert np.all(result.final.values[300:340] == 0.0)
    assert "3.8.5" in result.final.qualities_at(310)
    inactive = run(ts, vs, end=int(TS[-1]), inactive=relay)
    assert len(estimated(inactive, "zero_fill")) == 40


def test_check_meter_substitutes() -> None:
    ts, vs = gap_at(300, 340)
    check = block(TS, VS * 1.01)
    result = run(ts, vs, end=int(TS[-1]), check_meter=check)
    assert np.allclose(result.final.values[300:340], VS[300:340] * 1.01)
    assert len(estimated(result, "check_meter")) == 40


def test_proration_conserves_the_register_advance() -> None:
    days = 10
    ts, vs = load(days=days)
    rts = np.arange(START, START + days * DAY + 1, DAY, dtype=np.int64)
    csum = np.concatenate([[0.0], np.cumsum(vs)])
    rvs = np.round(5000.0 + csum[(rts - START) // IV], 3)
    keep = np.ones(len(ts), bool)
    keep[8 * 96 + 10 : 8 * 96 + 50] = False
    result = run(
        ts[keep], vs[keep], end=int(ts[-1]), registers=block(rts, rvs, FWD_REG, kind="register")
    )
    assert len(estimated(result, "proration")) == 40
    day = (result.final.timestamps > rts[8]) & (result.final.timestamps <= rts[9])
    total = round(float(np.sum(result.final.values[day])) * 1000)
    assert total == round((rvs[9] - rvs[8]) * 1000)


@given(
    units=st.integers(0, 10**9),
    weights=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200),
)
def test_prorate_sums_exactly(units: int, weights: list[float]) -> None:
    parts = prorate(units, np.array(weights))
    assert parts.dtype == np.float64
    assert np.all(parts >= 0)
    assert int(np.sum(parts.astype(np.int64))) == units
    assert np.all(parts == np.round(parts))


def test_estimate_never_replaces_an_actual() -> None:
    ts, vs = gap_at(100, 120)
    result = run(ts, vs, end=int(TS[-1]))
    actual = result.why == WHY_INDEX["actual"]
    assert np.array_equal(
        result.final.values[actual], vs[np.isin(ts, result.final.timestamps[actual])]
    )
    # the gap now arrives: every value is the actual, no estimate left
    again = run(TS, VS, prior_final=result.final)
    assert again.counts()["estimated"] == 0
    assert np.array_equal(again.final.values, VS)


def test_edit_is_kept_unless_configured() -> None:
    base = run(TS, VS)
    edited = block(TS[[50]], np.array([7.5]), qualities=[("3.7.0",)])
    kept = run(TS, VS, prior_final=edited)
    assert kept.final.values[50] == 7.5
    assert kept.why[50] == WHY_INDEX["edit"]
    assert kept.final.qualities_at(50) == ("3.7.0",)
    assert "spike" not in {f.rule for f in kept.findings if f.start == TS[50]}
    assert kept.counts()["edited"] == 1
    config = VeeConfig.from_mapping({"settings": {"raw_replaces_edit": True}})
    replaced = run(TS, VS, prior_final=edited, config=config)
    assert replaced.final.values[50] == VS[50]
    assert np.array_equal(replaced.final.values, base.final.values)


def test_unfillable_gap_stays_missing_and_counted() -> None:
    ts, vs = gap_at(100, 130)
    result = run(ts, vs, end=int(TS[-1]), config=only())
    assert result.counts()["missing"] == 30
    assert fired(result, "gap") == [(int(TS[100]), int(TS[129]), 30)]


@given(
    removed=st.sets(st.integers(0, len(TS) - 1), max_size=200),
    spikes=st.sets(st.integers(0, len(TS) - 1), max_size=10),
)
def test_no_actual_is_ever_replaced_without_a_reason(removed: set[int], spikes: set[int]) -> None:
    """Property: a final value differs from the raw one only where the raw one is missing or a
    rule that asks for an estimate rejected it; every estimate says so in its codes."""
    vs = VS.copy()
    vs[sorted(spikes)] = 50.0
    keep = np.ones(len(TS), bool)
    keep[sorted(removed)] = False
    result = run(TS[keep], vs[keep], end=int(TS[-1]))
    final = result.final
    pos = np.searchsorted(TS, final.timestamps)
    kept = keep[pos]
    same = final.values == vs[pos]
    for i in np.flatnonzero(~same | ~kept):
        codes = set(final.qualities_at(int(i)))
        assert "3.8.0" in codes, codes
        assert not kept[i] or "3.5.256" in codes  # replaced actuals were spikes
    actual = result.why == WHY_INDEX["actual"]
    assert np.all(kept[actual]) and np.all(same[actual])


def test_proration_does_not_spread_a_register_jump() -> None:
    days = 10
    ts, vs = load(days=days)
    rts = np.arange(START, START + days * DAY + 1, DAY, dtype=np.int64)
    csum = np.concatenate([[0.0], np.cumsum(vs)])
    rvs = np.round(5000.0 + csum[(rts - START) // IV], 3)
    rvs[9:] += 800.0  # the register jumps within day 8's span
    keep = np.ones(len(ts), bool)
    keep[8 * 96 + 10 : 8 * 96 + 12] = False
    registers = block(rts, rvs, FWD_REG, kind="register")
    result = run(ts[keep], vs[keep], end=int(ts[-1]), registers=registers)
    assert not len(estimated(result, "proration"))
    assert len(estimated(result, "linear")) == 2


def test_short_gap_with_registers_is_prorated_not_interpolated() -> None:
    days = 10
    ts, vs = load(days=days)
    rts = np.arange(START, START + days * DAY + 1, DAY, dtype=np.int64)
    csum = np.concatenate([[0.0], np.cumsum(vs)])
    rvs = np.round(5000.0 + csum[(rts - START) // IV], 3)
    keep = np.ones(len(ts), bool)
    keep[3 * 96 + 40] = False
    registers = block(rts, rvs, FWD_REG, kind="register")
    result = run(ts[keep], vs[keep], end=int(ts[-1]), registers=registers)
    assert len(estimated(result, "proration")) == 1
    assert result.final.values[3 * 96 + 40] == vs[3 * 96 + 40]  # the register's exact remainder
