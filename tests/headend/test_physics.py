"""The physics of the simulated fleet: registers, determinism, magnitudes, realism."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import COMMERCIAL, FleetOptions
from cimmeter.headend.generation import Realism
from cimmeter.headend.simulation import Simulation
from tests.headend.helpers import (
    FWD,
    FWD_REG,
    GAS,
    MAX_DEMAND,
    NET,
    REV,
    START,
    WATER,
    at,
    collect,
    epoch,
    quiet_sim,
    wh,
)

INTERVALS = [timedelta(minutes=m) for m in (5, 15, 30, 60)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    interval=st.sampled_from(INTERVALS),
    first_day=st.integers(0, 3),
    hours=st.integers(1, 60),
    relay_ops=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 4000)), max_size=4),
)
def test_registers_equal_the_running_sum_of_intervals_exactly(
    seed: int,
    interval: timedelta,
    first_day: int,
    hours: int,
    relay_ops: list[tuple[int, int]],
) -> None:
    sim = quiet_sim(
        n=12,
        seed=seed,
        interval=interval,
        solar_share=0.5,
        gas_share=0.2,
        register_every=timedelta(hours=1),
    )
    # a few disconnects and reconnects at odd seconds change nothing about the bookkeeping
    for k, (meter, minute) in enumerate(sorted(relay_ops, key=lambda op: op[1])):
        t = epoch(START) + minute * 60 + 17
        (sim.open_relay if k % 2 == 0 else sim.close_relay)(meter, t)
    start = at(0, first_day)
    end = start + timedelta(hours=hours)
    data = collect(sim.generate(START, end), sim)
    interval_of = {
        "forward_register": "forward",
        "reverse_register": "reverse",
        "gas_register": "gas_volume",
        "water_register": "water_volume",
    }
    by_rt, by_name = sim.generator.by_reading_type, sim.generator.by_name
    checked = 0
    for (meter, rt), block in data.items():
        name = interval_of.get(by_rt[rt].name)
        if name is None:
            continue
        intervals = data[(meter, by_name[name].reading_type)]
        initial = sim.fleet.initial_reverse if name == "reverse" else sim.fleet.initial_forward
        running = int(initial[meter]) + np.cumsum(wh(intervals.values))
        position = np.searchsorted(intervals.timestamps, block.timestamps)
        assert np.array_equal(wh(block.values), running[position]), (meter, rt)
        # the values are exact multiples of 1 Wh / 1 litre: no rounding hides in the floats
        assert np.array_equal(intervals.values, wh(intervals.values) / 1000.0)
        checked += len(block)
    assert checked >= hours


def test_data_do_not_depend_on_chunking_or_on_how_the_range_is_split() -> None:
    whole = quiet_sim(n=30, seed=5)
    data = collect(whole.generate(at(0), at(0, day=3)), whole)
    pieces = quiet_sim(n=30, seed=5)
    pieces.generator.chunk_cells = 7 * 96  # a few meters per chunk
    parts = [
        collect(pieces.generate(at(0, d), at(0, d + 1), meters=m), pieces)
        for d in (2, 0, 1)
        for m in (range(0, 13), range(13, 30))
    ]
    for (meter, rt), block in data.items():
        joined_ts = np.concatenate([p[(meter, rt)].timestamps for p in parts if (meter, rt) in p])
        joined_v = np.concatenate([p[(meter, rt)].values for p in parts if (meter, rt) in p])
        order = np.argsort(joined_ts)
        assert np.array_equal(joined_ts[order], block.timestamps), (meter, rt)
        assert np.array_equal(joined_v[order], block.values), (meter, rt)


def test_same_seed_same_data_and_another_seed_other_data() -> None:
    def blocks(seed: int) -> dict[tuple[int, str], np.ndarray]:
        sim = Simulation(FleetOptions(n_meters=25, seed=seed, start=START, gas_share=0.2))
        return {k: b.values for k, b in collect(sim.generate(at(0), at(0, 2)), sim).items()}

    a, b, c = blocks(11), blocks(11), blocks(12)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    shared = a.keys() & c.keys()
    assert sum(np.array_equal(a[k], c[k]) for k in shared) == 0


def test_timestamps_are_interval_ends_on_the_grid_in_the_half_open_range() -> None:
    sim = quiet_sim(n=3)
    data = collect(sim.generate(at(1), at(3)), sim)
    assert (0, FWD_REG) not in data  # no daily read falls in the range
    data = collect(sim.generate(at(1), at(24)), sim)
    fwd = data[(0, FWD)]
    assert fwd.timestamps[0] == epoch(at(1.25))
    assert fwd.timestamps[-1] == epoch(at(24))
    assert len(fwd) == 92
    assert np.all(np.diff(fwd.timestamps) == 900)
    assert fwd.kind == "interval"
    assert data[(0, FWD_REG)].kind == "register"
    assert sim.fleet.meter_ref(0) == fwd.meter
    assert sim.fleet.usage_point_ref(0) == fwd.usage_point


def test_nothing_exists_before_the_fleet_start() -> None:
    sim = quiet_sim(n=2)
    data = collect(sim.generate(at(-5), at(1)), sim)
    assert data[(0, FWD)].timestamps[0] == epoch(at(0.25))


def test_daily_register_reads_come_at_local_midnight() -> None:
    sim = quiet_sim(n=2, utc_offset=timedelta(hours=-5))
    data = collect(sim.generate(at(0), at(0, 3)), sim)
    reads = data[(0, FWD_REG)].timestamps
    assert list(reads) == [epoch(at(5, d)) for d in range(3)]


def test_residential_and_commercial_magnitudes_are_plausible() -> None:
    sim = quiet_sim(n=400, seed=3, commercial_share=0.2)
    data = collect(sim.generate(at(0), at(0, 7), channels=["forward"]), sim)
    res, com = [], []
    for (meter, _), block in data.items():
        daily = block.values.reshape(7, 96).sum(axis=1)
        (com if sim.fleet.customer_class[meter] == COMMERCIAL else res).append(daily)
    res_days, com_days = np.array(res), np.array(com)
    # a home uses some 5-80 kWh a day (median ~20-30), never a negative quarter hour
    assert 15 < np.median(res_days) < 35
    assert np.percentile(res_days, 1) > 3
    assert np.percentile(res_days, 99) < 100
    # a business uses far more, and much less at the weekend (START is a Monday)
    assert np.median(com_days) > 5 * np.median(res_days)
    weekday, weekend = com_days[:, :5].mean(), com_days[:, 5:].mean()
    assert weekend < 0.7 * weekday
    # homes peak in the evening, not at 4 am
    profile = np.mean(
        [
            b.values.reshape(7, 96).mean(axis=0)
            for (m, _), b in data.items()
            if sim.fleet.customer_class[m] != COMMERCIAL
        ],
        axis=0,
    )
    assert profile[19 * 4 : 20 * 4].mean() > 2 * profile[3 * 4 : 4 * 4].mean()


def test_winter_heating_and_summer_solar() -> None:
    winter = quiet_sim(n=300, seed=4, solar_share=0.5)
    summer = Simulation(
        FleetOptions(n_meters=300, seed=4, start=START + timedelta(days=126), solar_share=0.5),
        rates=EventRates.none(),
        realism=Realism.clean(),
    )

    def exports(sim: Simulation, day: int) -> float:
        data = collect(sim.generate(at(0, day), at(0, day + 7), channels=["reverse"]), sim)
        return float(np.mean([b.values.sum() / 7 for b in data.values()]))

    # rooftop solar exports more in July than in March, and only in daylight
    assert exports(summer, 126) > 1.3 * exports(winter, 0)
    data = collect(summer.generate(at(0, 126), at(0, 127), channels=["reverse"]), summer)
    night = np.concatenate([b.values.reshape(96)[: 3 * 4] for b in data.values()])
    assert night.sum() == 0
    assert len(data) > 100


def test_solar_meters_have_reverse_channels_and_net_is_forward_minus_reverse() -> None:
    sim = quiet_sim(n=60, seed=9, solar_share=1.0)
    data = collect(sim.generate(at(0), at(0, 1), channels=["forward", "reverse", "net"]), sim)
    solar = [m for m in range(60) if sim.fleet.has_solar(m)]
    assert solar
    assert all((m, REV) in data for m in solar)
    assert all((m, REV) not in data for m in range(60) if m not in solar)
    for m in solar:
        f, r, n = data[(m, FWD)].values, data[(m, REV)].values, data[(m, NET)].values
        assert np.array_equal(wh(n), wh(f) - wh(r))
        # a meter never delivers and exports in the same interval
        assert not np.any((f > 0) & (r > 0))


def test_gas_and_water_meters_read_volumes() -> None:
    sim = quiet_sim(n=200, seed=2, gas_share=0.3, water_share=0.3)
    data = collect(sim.generate(at(0), at(0, 2)), sim)
    gas = [b for (m, rt), b in data.items() if rt == GAS]
    water = [b for (m, rt), b in data.items() if rt == WATER]
    assert gas
    assert water
    assert all(len(b) == 48 for b in gas + water)
    gas_daily = np.median([b.values.sum() / 2 for b in gas])
    water_daily = np.median([b.values.sum() / 2 for b in water])
    assert 0.5 < gas_daily < 15
    assert 0.1 < water_daily < 1.5
    # water flows in bursts: many hours see none
    assert np.mean(np.concatenate([b.values for b in water]) == 0) > 0.2
    assert all(sim.fleet.transformer[m] == -1 for (m, rt) in data if rt in (GAS, WATER))


def test_realism_loses_some_intervals_and_flags_placeholders() -> None:
    sim = Simulation(
        FleetOptions(n_meters=300, seed=8, start=START),
        rates=EventRates.none(),
        realism=Realism(missing_runs=0.1, missing_single=0.01, placeholder_share=0.5),
    )
    clean = quiet_sim(n=300, seed=8)
    data = collect(sim.generate(at(0), at(0, 2), channels=["forward"]), sim)
    truth = collect(clean.generate(at(0), at(0, 2), channels=["forward"]), clean)
    lost = placeholders = 0
    for key, block in data.items():
        full = truth[key]
        lost += len(full) - len(block)
        present = np.isin(full.timestamps, block.timestamps)
        flagged = np.array(["2.5.259" in block.qualities_at(i) for i in range(len(block))])
        placeholders += int(flagged.sum())
        # values that arrived are the true values; placeholders are 0 with the head-end flag
        assert np.array_equal(block.values[~flagged], full.values[present][~flagged])
        assert np.all(block.values[flagged] == 0)
    total = sum(len(b) for b in truth.values())
    assert 0.005 * total < lost < 0.1 * total
    assert placeholders > 0.2 * lost


@pytest.mark.parametrize("channel", [MAX_DEMAND])
def test_max_demand_is_the_largest_interval_as_kw(channel: str) -> None:
    sim = quiet_sim(n=10)
    data = collect(sim.generate(at(0), at(0, 2)), sim)
    for m in range(10):
        fwd = data[(m, FWD)]
        demand = data[(m, channel)]
        # day 1 read: the largest quarter hour of day 1; day 2: of both days (no reset)
        assert demand.values[0] == pytest.approx(fwd.values[:96].max() * 4)
        assert demand.values[1] == pytest.approx(fwd.values.max() * 4)


def test_a_long_simulation_keeps_few_register_checkpoints_and_the_same_data() -> None:
    sim = quiet_sim(n=3)
    first = collect(sim.generate(at(0, 2), at(0, 3)), sim)
    for _ in sim.generate(at(0), at(0, 90), channels=["forward_register"]):
        pass
    assert len(sim.generator._checkpoints) <= 64
    again = collect(sim.generate(at(0, 2), at(0, 3)), sim)
    assert all(np.array_equal(first[k].values, again[k].values) for k in first)
    late = collect(sim.generate(at(0, 60), at(0, 61)), sim)
    fresh = quiet_sim(n=3)
    expected = collect(fresh.generate(at(0, 60), at(0, 61)), fresh)
    assert late.keys() == expected.keys()
    assert all(np.array_equal(late[k].values, expected[k].values) for k in late)
