"""Anomaly injection: every anomaly matches its ground truth, clean data stays clean."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.headend.anomalies import (
    INTERVAL_KINDS,
    REGISTER_KINDS,
    AnomalyPlan,
    AnomalyResult,
    InjectedAnomaly,
    inject_anomalies,
)
from cimmeter.headend.errors import FleetOptionsError
from cimmeter.model.readings import ReadingBlock
from tests.headend.helpers import at, quiet_sim

HOUR = timedelta(hours=1)


def clean_blocks(n: int = 40, seed: int = 7, days: int = 3) -> list[ReadingBlock]:
    sim = quiet_sim(n=n, seed=seed, gas_share=0.2, register_every=HOUR)
    return [b for chunk in sim.generate(at(0), at(0, days)) for b in chunk]


BLOCKS = clean_blocks()
RICH = AnomalyPlan(
    gap=0.3,
    spike=0.3,
    zero_run=0.3,
    flat_line=0.3,
    negative=0.3,
    duplicate=0.3,
    off_grid=0.3,
    register_jump=0.4,
    rollover=0.4,
)


def key(block: ReadingBlock | InjectedAnomaly) -> tuple[object, str]:
    return (block.meter, block.reading_type)


def check_truth(clean: list[ReadingBlock], result: AnomalyResult) -> None:
    """Every anomaly is where its ground truth says, and nowhere else is anything changed."""
    by_block: dict[tuple[object, str], list[InjectedAnomaly]] = {}
    for a in result.truth:
        by_block.setdefault(key(a), []).append(a)
    assert len(result.blocks) == len(clean)
    for before, after in zip(clean, result.blocks, strict=True):
        truths = by_block.get(key(before), [])
        if not truths:
            assert after is before
            continue
        kinds = {a.kind for a in truths}
        touched = {t for a in truths for t in a.timestamps}
        # a rollover shifts the whole block (by design); otherwise, untouched readings are equal
        if "rollover" not in kinds:
            old = dict(zip(before.timestamps.tolist(), before.values.tolist(), strict=True))
            counts = Counter(after.timestamps.tolist())
            for t, v in zip(after.timestamps.tolist(), after.values.tolist(), strict=True):
                if t not in touched and not _after_jump(t, truths):
                    assert old[t] == v, (t, kinds)
                    assert counts[t] == 1
        for a in truths:
            CHECKS[a.kind](before, after, a)


def _after_jump(t: int, truths: list[InjectedAnomaly]) -> bool:
    return any(a.kind == "register_jump" and t >= a.timestamps[0] for a in truths)


def _values_at(block: ReadingBlock, ts: tuple[int, ...]) -> np.ndarray:
    pos = np.searchsorted(block.timestamps, ts)
    assert np.array_equal(block.timestamps[pos], ts)
    return block.values[pos]


def _gap(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    assert not np.isin(a.timestamps, after.timestamps).any()
    assert np.array_equal(_values_at(before, a.timestamps), a.original)
    assert 1 <= len(a.timestamps) <= 8


def _spike(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    (orig,) = a.original
    (new,) = _values_at(after, a.timestamps)
    assert new >= 8 * max(orig, float(np.median(before.values)))


def _zero_run(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    assert np.all(_values_at(after, a.timestamps) == 0)
    assert min(a.original) > 0
    assert 8 <= len(a.timestamps) <= 24


def _flat_line(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    values = _values_at(after, a.timestamps)
    assert len(set(values.tolist())) == 1
    assert values[0] > 0
    assert len(set(a.original)) > 1


def _negative(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    assert _values_at(after, a.timestamps)[0] == -a.original[0] < 0


def _duplicate(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    (t,) = a.timestamps
    assert Counter(after.timestamps.tolist())[t] == 2
    assert len(set(after.values[after.timestamps == t].tolist())) == 2


def _off_grid(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    (t,) = a.timestamps
    assert t not in before.timestamps
    assert t in after.timestamps
    step = int(np.diff(before.timestamps).min())
    assert t % step != 0
    assert np.all(np.diff(after.timestamps) >= 0)  # overlapping, but still in order


def _register_jump(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    (t,) = a.timestamps
    i = int(np.searchsorted(after.timestamps, t))
    jump = (after.values[i] - after.values[i - 1]) - (before.values[i] - before.values[i - 1])
    assert jump >= 200 - 1e-6


def _rollover(before: ReadingBlock, after: ReadingBlock, a: InjectedAnomaly) -> None:
    (t,) = a.timestamps
    i = int(np.searchsorted(after.timestamps, t))
    assert after.values[i] < after.values[i - 1]
    # every other advance is the clean advance (or a jump's), the one across the wrap is not
    advances = np.diff(after.values)
    assert np.sum(advances < 0) == 1


CHECKS = {
    "gap": _gap,
    "spike": _spike,
    "zero_run": _zero_run,
    "flat_line": _flat_line,
    "negative": _negative,
    "duplicate": _duplicate,
    "off_grid": _off_grid,
    "register_jump": _register_jump,
    "rollover": _rollover,
}


def test_every_kind_is_injected_and_matches_its_ground_truth() -> None:
    result = inject_anomalies(BLOCKS, RICH, seed=1)
    assert {a.kind for a in result.truth} == set(INTERVAL_KINDS + REGISTER_KINDS)
    check_truth(BLOCKS, result)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    kind=st.sampled_from(INTERVAL_KINDS + REGISTER_KINDS),
    share=st.floats(0.1, 1.0),
)
def test_one_kind_at_a_time_matches_its_ground_truth(seed: int, kind: str, share: float) -> None:
    result = inject_anomalies(BLOCKS, AnomalyPlan.only(kind, share), seed=seed)  # type: ignore[arg-type]
    assert {a.kind for a in result.truth} <= {kind}
    check_truth(BLOCKS, result)


def test_without_anomalies_the_data_stay_as_they_were() -> None:
    nothing = AnomalyPlan(**dict.fromkeys(INTERVAL_KINDS + REGISTER_KINDS, 0.0))  # type: ignore[arg-type]
    result = inject_anomalies(BLOCKS, nothing, seed=3)
    assert result.truth == ()
    assert all(a is b for a, b in zip(result.blocks, BLOCKS, strict=True))


def test_the_only_missing_intervals_of_clean_data_are_the_injected_gaps() -> None:
    result = inject_anomalies(BLOCKS, AnomalyPlan.only("gap", 0.5), seed=4)
    gaps = {(key(a), t) for a in result.of_kind("gap") for t in a.timestamps}
    assert gaps
    found = set()
    for before, after in zip(BLOCKS, result.blocks, strict=True):
        if before.kind == "interval":
            found |= {
                (key(before), t)
                for t in set(before.timestamps.tolist()) - set(after.timestamps.tolist())
            }
    assert found == gaps


def test_anomalies_of_a_block_never_touch_each_other() -> None:
    result = inject_anomalies(BLOCKS, RICH, seed=5)
    by_block: dict[tuple[object, str], list[InjectedAnomaly]] = {}
    for a in result.truth:
        by_block.setdefault(key(a), []).append(a)
    for block in BLOCKS:
        truths = by_block.get(key(block), [])
        positions = [set(np.searchsorted(block.timestamps, a.timestamps).tolist()) for a in truths]
        for i, p in enumerate(positions):
            for q in positions[i + 1 :]:
                near = {x + d for x in p for d in (-1, 0, 1)}
                assert not near & q


def test_the_same_seed_injects_the_same_anomalies() -> None:
    a = inject_anomalies(BLOCKS, RICH, seed=9)
    b = inject_anomalies(BLOCKS, RICH, seed=9)
    c = inject_anomalies(BLOCKS, RICH, seed=10)
    assert a.truth == b.truth
    assert a.truth != c.truth


def test_shares_are_about_what_the_plan_asks() -> None:
    blocks = clean_blocks(n=300, days=2)
    intervals = sum(b.kind == "interval" for b in blocks)
    result = inject_anomalies(blocks, AnomalyPlan.only("spike", 0.2), seed=2)
    assert len(result.of_kind("spike")) == pytest.approx(0.2 * intervals, rel=0.25)


def test_bad_plans_are_refused() -> None:
    with pytest.raises(FleetOptionsError, match="spike"):
        AnomalyPlan(spike=1.5)
    with pytest.raises(FleetOptionsError, match="gap_length"):
        AnomalyPlan(gap_length=(0, 3))
