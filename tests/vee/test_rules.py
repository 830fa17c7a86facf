"""Each validation rule fires where it should, and not on data that is fine."""

from __future__ import annotations

import numpy as np
import pytest

from cimmeter.vee import Taint, VeeConfig, spans
from cimmeter.vee.model import WHY_INDEX
from tests.vee.helpers import DAY, FWD_REG, IV, NET, START, fired, load, rules_fired, run

TS, VS = load()


def test_clean_data_fires_nothing_and_is_validated() -> None:
    result = run(TS, VS)
    assert rules_fired(result) == set()
    assert len(result.final) == len(TS)
    assert np.array_equal(result.final.values, VS)
    assert all(result.final.qualities_at(i) == ("3.0.1",) for i in range(0, len(TS), 97))
    assert result.counts() == {"actual": len(TS), "estimated": 0, "edited": 0, "missing": 0}


def test_gap_fires_and_is_estimated() -> None:
    keep = np.ones(len(TS), bool)
    keep[100:103] = False
    result = run(TS[keep], VS[keep], end=int(TS[-1]))
    assert fired(result, "gap") == [(int(TS[100]), int(TS[102]), 3)]
    assert fired(result, "incomplete_day") == [(int(TS[96]), int(TS[191]), 96)]
    assert len(result.final) == len(TS)
    at = np.searchsorted(result.final.timestamps, TS[101])
    assert "3.5.259" in result.final.qualities_at(at)
    assert "3.8.1" in result.final.qualities_at(at)  # linear: 3 <= 4 intervals
    assert result.why[at] == WHY_INDEX["estimate:linear"]


def test_placeholder_with_missing_quality_is_a_gap() -> None:
    q = [()] * len(TS)
    q[50] = ("2.5.259",)
    result = run(TS, np.where(np.arange(len(TS)) == 50, 0.0, VS), qualities=q)
    assert fired(result, "gap") == [(int(TS[50]), int(TS[50]), 1)]
    assert result.final.values[50] > 0  # estimated, not the placeholder 0


def test_duplicate_fires_keeps_last() -> None:
    ts = np.insert(TS, 11, TS[10])
    vs = np.insert(VS, 11, 0.777)
    result = run(ts, vs)
    assert fired(result, "duplicate") == [(int(TS[10]), int(TS[10]), 1)]
    assert result.final.values[10] == 0.777
    assert "3.6.0" in result.final.qualities_at(10)


def test_off_grid_fires_and_stays_out_of_final() -> None:
    ts = np.insert(TS, 10, TS[10] - IV // 2)
    vs = np.insert(VS, 10, 0.1)
    result = run(ts, vs)
    assert fired(result, "off_grid") == [(int(TS[10] - IV // 2), int(TS[10] - IV // 2), 1)]
    assert len(result.final) == len(TS)
    assert "gap" not in rules_fired(result)


def test_spike_fires_and_is_replaced() -> None:
    vs = VS.copy()
    vs[200] = 12.0
    result = run(TS, vs)
    assert fired(result, "spike") == [(int(TS[200]), int(TS[200]), 1)]
    assert result.final.values[200] < 2.0
    assert {"3.5.256", "3.8.0"} <= set(result.final.qualities_at(200))


def test_spike_does_not_fire_on_a_doubling() -> None:
    vs = VS.copy()
    vs[200] *= 2
    assert "spike" not in rules_fired(run(TS, vs))


def test_limits_fire_when_configured_only() -> None:
    assert {"high_limit", "low_limit"}.isdisjoint(rules_fired(run(TS, VS)))
    config = VeeConfig.from_mapping(
        {"rules": {"high_limit": {"max_value": 0.7}, "low_limit": {"min_value": 0.05}}}
    )
    result = run(TS, VS, config=config)
    assert fired(result, "high_limit")
    assert sum(f[2] for f in fired(result, "high_limit")) == int((VS > 0.7).sum())
    assert sum(f[2] for f in fired(result, "low_limit")) == int((VS < 0.05).sum())


def test_history_high_fires_against_same_weekday() -> None:
    hist_ts, hist_vs = load(days=28, start=START - 28 * DAY, seed=3)
    from tests.vee.helpers import block

    vs = VS.copy()
    vs[300] = VS[300] * 3 + 5.0  # well above 10 x mean + 1? no: mean ~0.5 -> 6 > 6.x? make it big
    vs[300] = 30.0
    result = run(TS, vs, history=block(hist_ts, hist_vs))
    assert (int(TS[300]), int(TS[300]), 1) in fired(result, "history_high")
    assert "history_high" not in rules_fired(run(TS, VS, history=block(hist_ts, hist_vs)))
    # without enough weeks of history, it does not judge
    assert "history_high" not in rules_fired(run(TS[:600], vs[:600]))


def test_history_low_when_enabled() -> None:
    hist_ts, hist_vs = load(days=28, start=START - 28 * DAY, seed=3)
    from tests.vee.helpers import block

    vs = VS.copy()
    vs[300] = 0.001
    config = VeeConfig.from_mapping({"rules": {"history_low": {"factor": 0.05}}})
    result = run(TS, vs, history=block(hist_ts, hist_vs), config=config)
    assert fired(result, "history_low") == [(int(TS[300]), int(TS[300]), 1)]


def test_zero_run_fires_unless_relay_open() -> None:
    vs = VS.copy()
    vs[400:410] = 0.0
    result = run(TS, vs)
    assert fired(result, "zero_run") == [(int(TS[400]), int(TS[409]), 10)]
    relay = spans([(int(TS[399]), int(TS[409]))])
    assert "zero_run" not in rules_fired(run(TS, vs, relay_open=relay))
    outage = Taint(int(TS[399]), int(TS[409]), "power outage")
    assert "zero_run" not in rules_fired(run(TS, vs, taints=(outage,)))
    flags = [()] * len(TS)
    for i in range(400, 410):
        flags[i] = ("1.2.32",)
    assert "zero_run" not in rules_fired(run(TS, vs, qualities=flags))
    short = VS.copy()
    short[400:405] = 0.0
    assert "zero_run" not in rules_fired(run(TS, short))


def test_negative_fires_on_forward_not_on_net() -> None:
    vs = VS.copy()
    vs[20] = -0.5
    assert fired(run(TS, vs), "negative") == [(int(TS[20]), int(TS[20]), 1)]
    assert "negative" not in rules_fired(run(TS, vs, rt=NET))


def test_flat_line_fires_on_identical_nonzero() -> None:
    vs = VS.copy()
    vs[500:512] = 0.42
    assert fired(run(TS, vs), "flat_line") == [(int(TS[500]), int(TS[511]), 12)]
    vs[505] = 0.43  # two runs of 5 and 6: below 8
    assert "flat_line" not in rules_fired(run(TS, vs))


def test_register_decrease_and_rollover() -> None:
    rts = np.arange(START + DAY, START + 10 * DAY + 1, DAY, dtype=np.int64)
    rvs = 9000.0 + 12.0 * np.arange(len(rts))
    result = run(rts, rvs, rt=FWD_REG)
    assert {"register_decrease", "rollover"}.isdisjoint(rules_fired(result))
    dec = rvs.copy()
    dec[5] -= 30.0
    assert fired(run(rts, dec, rt=FWD_REG), "register_decrease") == [(int(rts[5]), int(rts[5]), 1)]
    wrapped = np.mod(rvs + 940.0, 10_000.0)  # 9940 + 12 k wraps at 10000 between k=4 and 5
    result = run(rts, wrapped, rt=FWD_REG)
    assert fired(result, "rollover") == [(int(rts[5]), int(rts[5]), 1)]
    assert "register_decrease" not in rules_fired(result)


def test_register_advance_against_intervals() -> None:
    from tests.vee.helpers import block

    days = 10
    ts, vs = load(days=days)
    rts = np.arange(START + DAY, START + days * DAY + 1, DAY, dtype=np.int64)
    csum = np.concatenate([[0.0], np.cumsum(vs)])
    rvs = np.round(1000.0 + csum[((rts - START) // IV)], 3)
    ok = run(rts, rvs, rt=FWD_REG, intervals=block(ts, vs))
    assert "register_advance" not in rules_fired(ok)
    jumped = rvs.copy()
    jumped[6:] += 250.0
    bad = run(rts, jumped, rt=FWD_REG, intervals=block(ts, vs))
    assert fired(bad, "register_advance") == [(int(rts[6]), int(rts[6]), 1)]


def test_unit_and_multiplier() -> None:
    bad_unit = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.42.0"  # energy in m3
    assert fired(run(TS, VS, rt=bad_unit), "unit")
    result = run(TS, VS * 1e5)  # kWh per 15 min far above 1 MWh/h
    assert fired(result, "unit")
    assert "unit" not in rules_fired(run(TS, VS))


def test_future_timestamps() -> None:
    now = int(TS[500])
    result = run(TS, VS, now=now, end=int(TS[-1]))
    assert fired(result, "future")[0][0] == int(TS[501])
    assert result.final.timestamps.max() <= now + 300
    assert "future" not in rules_fired(run(TS, VS, now=int(TS[-1])))


def test_prolonged_estimation() -> None:
    keep = np.ones(len(TS), bool)
    keep[700:760] = False
    config = VeeConfig.from_mapping({"rules": {"prolonged_estimation": {"max_run": 24}}})
    result = run(TS[keep], VS[keep], end=int(TS[-1]), config=config)
    assert fired(result, "prolonged_estimation") == [(int(TS[700]), int(TS[759]), 60)]
    assert "3.10.0" in result.final.qualities_at(730)
    keep[700:760] = True
    keep[700:710] = False
    assert "prolonged_estimation" not in rules_fired(
        run(TS[keep], VS[keep], end=int(TS[-1]), config=config)
    )


def test_stale_only_near_now() -> None:
    now = int(TS[-1]) + 3 * DAY
    result = run(TS, VS, end=now, now=now)
    assert fired(result, "stale") == [(int(TS[-1]), now, 0)]
    assert "stale" not in rules_fired(run(TS, VS, end=now, now=int(TS[-1]) + 3600))
    # a range that ended long ago is not stale data
    assert "stale" not in rules_fired(run(TS, VS, now=int(TS[-1]) + 300 * DAY))


def test_event_taint_marks_questionable() -> None:
    outage = Taint(int(TS[99]), int(TS[103]), "power outage")
    result = run(TS, VS, taints=(outage,))
    assert fired(result, "event_taint") == [(int(TS[100]), int(TS[103]), 4)]
    assert "3.10.0" in result.final.qualities_at(101)
    assert "3.0.1" not in result.final.qualities_at(101)
    flags = [()] * len(TS)
    flags[7] = ("1.2.32",)
    result = run(TS, VS, qualities=flags)
    assert fired(result, "event_taint") == [(int(TS[7]), int(TS[7]), 1)]
    assert "1.2.32" in result.final.qualities_at(7)


@pytest.mark.parametrize("rule", ["spike", "gap", "zero_run"])
def test_disabled_rule_does_not_fire(rule: str) -> None:
    vs = VS.copy()
    vs[200] = 12.0
    vs[400:410] = 0.0
    keep = np.ones(len(TS), bool)
    keep[100:103] = False
    config = VeeConfig.from_mapping({"rules": {rule: {"enabled": False}}})
    assert rule not in rules_fired(run(TS[keep], vs[keep], end=int(TS[-1]), config=config))
    assert rule in rules_fired(run(TS[keep], vs[keep], end=int(TS[-1])))
