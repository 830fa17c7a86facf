"""Events of the simulated fleet: outages as AMI reports them, alarms, and their windows."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.generation import Realism
from cimmeter.headend.simulation import Simulation
from tests.headend.helpers import FWD, GAS, START, at, collect, epoch, quiet_sim

POWER_OFF, RESTORED = "3.26.0.85", "3.26.0.216"


def test_an_outage_reports_power_off_and_restored_for_every_meter_under_the_transformer() -> None:
    sim = quiet_sim(n=80)
    sim.schedule.rates = EventRates(0.0, 0.0, 75.0, 0.5, 0.0, 0.0, 0.0, 0.0)  # half the gasps lost
    outage = sim.inject_outage("transformer", 4, at(6), at(7.5))
    under = set(sim.fleet.meters_under_transformer(4).tolist())
    # during the outage the head-end has only the last gasps that got through
    during = sim.events(at(0), at(7))
    assert {e.meter_index for e in during} <= under
    assert {e.event_type for e in during} == {POWER_OFF}
    assert all(dict(e.details)["source"] == "last gasp" for e in during)
    # after restoration every meter has reported both, the lost gasps from its event log
    events = sim.events(at(0), at(0, 1))
    by_meter: dict[int, list[str]] = {}
    for e in events:
        by_meter.setdefault(e.meter_index, []).append(e.event_type)
    assert set(by_meter) == under
    assert all(sorted(codes) == sorted([POWER_OFF, RESTORED]) for codes in by_meter.values())
    offs = [e for e in events if e.event_type == POWER_OFF]
    assert all(epoch(e.created_date_time) == outage.start for e in offs)
    for e in offs:
        lost = sim.schedule.last_gasp_lost(e.meter_index, outage.start)
        assert epoch(e.received_date_time) == (outage.end if lost else outage.start)
        assert dict(e.details)["source"] == ("event log" if lost else "last gasp")
    late = [e for e in offs if e.received_date_time > e.created_date_time]
    assert 0 < len(late) < len(offs)
    assert all(epoch(e.created_date_time) == outage.end for e in events if e.event_type == RESTORED)
    assert all(e.usage_point == sim.fleet.usage_point_ref(e.meter_index) for e in events)


def test_nested_outages_report_one_power_off_per_meter() -> None:
    sim = quiet_sim(n=300)
    sim.schedule.rates = EventRates.none()
    sim.inject_outage("feeder", 0, at(6), at(9))
    t = int(sim.fleet.transformer[sim.fleet.meters_under_feeder(0)[0]])
    sim.inject_outage("transformer", t, at(7), at(10))
    events = sim.events(at(0), at(0, 1))
    counts = Counter((e.meter_index, e.event_type) for e in events)
    assert set(counts.values()) == {1}
    first = int(sim.fleet.meters_under_transformer(t)[0])
    restored = next(e for e in events if e.meter_index == first and e.event_type == RESTORED)
    assert restored.created_date_time == at(10)


def test_random_outage_events_match_the_ground_truth() -> None:
    rates = EventRates(transformer_outages=0.05, feeder_outages=0.02, last_gasp_lost=0.3)
    sim = Simulation(FleetOptions(n_meters=400, seed=13, start=START), rates=rates)
    outages = sim.outages(at(0), at(0, 3))
    assert len(outages) >= 3
    events = sim.events(at(0), at(0, 4))
    offs = {
        (e.meter_index, epoch(e.created_date_time)) for e in events if e.event_type == POWER_OFF
    }
    for o in outages:
        if o.end > epoch(at(0, 4)) - 8 * 3600:
            continue
        for m in sim.schedule.outage_meters(o).tolist():
            # each meter reports power off when its power went (at this outage's start unless an
            # overlapping outage had already taken it)
            assert any(t <= o.start and (m, t) in offs for t in _starts(sim, m, o.start)), (m, o)


def _starts(sim: Simulation, meter: int, before: int) -> list[int]:
    spans = sim.schedule.power_off_spans(
        sim.state, np.array([meter]), before - 8 * 3600, before + 1
    )
    return [s for s, e in spans.get(meter, []) if s <= before < e]


def test_alarms_come_with_their_codes_and_flag_the_interval() -> None:
    rates = EventRates(
        0.0, 0.0, 75.0, 0.0, tamper=0.02, reverse_energy=0.02, clock_error=0.02, low_battery=0.05
    )
    sim = Simulation(
        FleetOptions(n_meters=300, seed=5, start=START, gas_share=0.2),
        rates=rates,
        realism=Realism.clean(),
    )
    events = sim.events(at(0), at(0, 3))
    codes = Counter(e.event_type for e in events)
    assert codes["3.12.0.257"] > 0  # tamper
    assert codes["3.12.48.219"] > 0  # reverse energy
    assert codes["3.36.0.79"] > 0  # clock error
    assert codes["4.2.22.150"] > 0  # low battery, gas meter
    assert "3.2.22.150" not in codes  # electric meters have no battery alarm here
    for e in events:
        if e.event_type == "3.12.48.219":
            assert not sim.fleet.has_solar(e.meter_index)
    data = collect(sim.generate(at(0), at(0, 3), channels=["forward", "gas_volume"]), sim)
    flag_of = {"3.12.0.257": "1.3.0", "3.12.48.219": "1.3.4", "4.2.22.150": "1.1.1"}
    for e in events:
        flag = flag_of.get(e.event_type)
        if flag is None or epoch(e.created_date_time) > epoch(at(0, 3)) - 3600:
            continue
        block = data[(e.meter_index, FWD if e.event_type.startswith("3.") else GAS)]
        i = int(np.searchsorted(block.timestamps, epoch(e.created_date_time)))
        assert flag in block.qualities_at(i), (e, i)


def test_a_clock_error_is_followed_by_the_clock_being_set() -> None:
    rates = EventRates(0.0, 0.0, 75.0, 0.0, 0.0, 0.0, clock_error=0.05, low_battery=0.0)
    sim = Simulation(FleetOptions(n_meters=200, seed=6, start=START), rates=rates)
    events = sim.events(at(0), at(0, 4))
    errors = [e for e in events if e.event_type == "3.36.0.79"]
    sets = {(e.meter_index, e.created_date_time) for e in events if e.event_type == "3.36.116.24"}
    assert errors
    for e in errors:
        if e.created_date_time < at(0, 4) - timedelta(hours=2):
            assert any(
                m == e.meter_index and timedelta(0) < t - e.created_date_time <= timedelta(hours=2)
                for m, t in sets
            )


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(1, 47), seed=st.integers(0, 1000))
def test_event_windows_partition(cut: int, seed: int) -> None:
    rates = EventRates(transformer_outages=0.05, feeder_outages=0.05, tamper=0.01, clock_error=0.01)
    sim = Simulation(FleetOptions(n_meters=150, seed=seed, start=START), rates=rates)
    sim.open_relay(3, epoch(at(5)))
    sim.close_relay(3, epoch(at(30)))
    middle = at(cut)
    whole = sim.events(at(0), at(0, 2))
    split = sim.events(at(0), middle) + sim.events(middle, at(0, 2))
    assert split == whole
    assert all(at(0) < e.received_date_time <= at(0, 2) for e in whole)
