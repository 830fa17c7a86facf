"""Device state and obedience to controls: relays, demand reset, load control, outages."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from cimmeter.headend.devices import RelayState, merge_spans, overlap_seconds
from cimmeter.headend.errors import ControlOrderError, FleetOptionsError, TimeRangeError
from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.generation import Realism
from cimmeter.headend.simulation import Simulation
from cimmeter.model.identity import ObjectRef
from tests.headend.helpers import FWD, FWD_REG, MAX_DEMAND, START, at, collect, epoch, quiet_sim, wh

QUARTER = timedelta(minutes=15)


def day_data(sim: Simulation, days: int = 1) -> dict[tuple[int, str], np.ndarray]:
    data = collect(sim.generate(at(0), at(0, days)), sim)
    return {k: b.values for k, b in data.items()}


def test_disconnect_zeroes_consumption_from_that_second_and_freezes_the_register() -> None:
    clean = day_data(quiet_sim(register_every=QUARTER))
    sim = quiet_sim(register_every=QUARTER)
    t = epoch(at(10)) + 450  # 10:07:30, half-way through the 10:00-10:15 interval
    sim.open_relay(3, t)
    data = day_data(sim)
    fwd, reg = data[(3, FWD)], data[(3, FWD_REG)]
    i = 40  # the interval ending 10:15
    assert np.array_equal(fwd[:i], clean[(3, FWD)][:i])
    assert abs(wh(fwd[i]) - wh(clean[(3, FWD)][i]) / 2) <= 1
    assert np.all(fwd[i + 1 :] == 0)
    assert np.all(reg[i:] == reg[i])
    assert reg[-1] < clean[(3, FWD_REG)][-1]
    # the other meters do not notice
    assert all(np.array_equal(v, clean[k]) for k, v in data.items() if k[0] != 3)
    assert sim.relay(3, t - 1) is RelayState.CLOSED
    assert sim.relay(3, t) is RelayState.OPEN


def test_connect_resumes_consumption_and_the_register_carries_on_from_where_it_froze() -> None:
    clean = day_data(quiet_sim(register_every=QUARTER))
    sim = quiet_sim(register_every=QUARTER)
    sim.open_relay(5, epoch(at(8)))
    sim.close_relay(5, epoch(at(14)))
    data = day_data(sim)
    fwd, reg = data[(5, FWD)], data[(5, FWD_REG)]
    assert np.all(fwd[32:56] == 0)
    assert np.array_equal(fwd[56:], clean[(5, FWD)][56:])
    lost = wh(clean[(5, FWD)][32:56]).sum()
    assert wh(reg[-1]) == wh(clean[(5, FWD_REG)][-1]) - lost
    quality = collect(sim.generate(at(0), at(0, 1), channels=["forward"]), sim)[(5, FWD)]
    switched = [i for i in range(96) if "1.2.3" in quality.qualities_at(i)]
    assert switched == [31, 55]  # the intervals ending at 08:00 and 14:00 hold the switching


def test_arm_for_closure_keeps_the_load_off_until_the_customer_presses_the_button() -> None:
    sim = quiet_sim()
    t = epoch(at(9))
    sim.open_relay(2, t)
    press = sim.arm_for_closure(2, t + 3600)
    assert press is not None
    assert t + 3600 + 300 <= press <= t + 3600 + 6 * 3600
    assert sim.relay(2, press - 1) is RelayState.ARMED
    assert sim.relay(2, press) is RelayState.CLOSED
    block = collect(sim.generate(at(0), at(0, 1), channels=["forward"]), sim)[(2, FWD)]
    ends = block.timestamps
    assert np.all(block.values[(ends > t) & (ends <= press - press % 900)] == 0)
    assert block.values[ends > press + 900].sum() > 0
    events = sim.events(at(0), at(0, 1), meters=[2])
    assert [e.event_type for e in events] == ["3.31.0.68", "3.31.0.11", "3.31.0.42"]
    assert events[-1].reason == "customer pressed the button"


def test_a_manual_button_press_closes_only_an_armed_switch() -> None:
    sim = Simulation(FleetOptions(n_meters=3, start=START), customer_presses_button=False)
    assert sim.arm_for_closure(1, epoch(at(1))) is None
    assert not sim.press_button(0, epoch(at(2)))
    assert sim.relay(1, epoch(at(5))) is RelayState.ARMED
    assert sim.press_button(1, epoch(at(5)))
    assert sim.relay(1, epoch(at(5))) is RelayState.CLOSED


def test_a_disconnect_cancels_the_pending_button_press() -> None:
    sim = quiet_sim()
    press = sim.arm_for_closure(4, epoch(at(1)))
    assert press is not None
    sim.open_relay(4, epoch(at(1)) + 60)
    assert sim.relay(4, press + 1) is RelayState.OPEN


def test_controls_on_one_device_come_in_time_order() -> None:
    sim = quiet_sim()
    sim.open_relay(1, epoch(at(10)))
    with pytest.raises(ControlOrderError, match="comes before"):
        sim.close_relay(1, epoch(at(9)))
    sim.close_relay(2, epoch(at(9)))  # another meter has its own order
    with pytest.raises(TimeRangeError):
        sim.open_relay(1, epoch(at(-1)))


def test_a_late_control_changes_data_generated_before_it() -> None:
    sim = quiet_sim()
    before = day_data(sim, days=2)
    sim.open_relay(6, epoch(at(12)))
    after = day_data(sim, days=2)
    assert after[(6, FWD)][48:].sum() == 0
    # the day-1 register lost the afternoon; the day-2 register did not move
    lost = wh(before[(6, FWD)][48:96]).sum()
    assert wh(after[(6, FWD_REG)][0]) == wh(before[(6, FWD_REG)][0]) - lost
    assert after[(6, FWD_REG)][1] == after[(6, FWD_REG)][0]


def test_demand_reset_restarts_the_maximum_demand_register() -> None:
    sim = quiet_sim()
    data = day_data(sim, days=2)
    fwd = data[(0, FWD)]
    noon = epoch(at(12, day=1))
    before = sim.reset_demand(0, noon)
    assert before == pytest.approx(fwd[: 96 + 48].max() * 4)
    after = day_data(sim, days=2)
    assert after[(0, MAX_DEMAND)][0] == data[(0, MAX_DEMAND)][0]  # the day-1 read stands
    assert after[(0, MAX_DEMAND)][1] == pytest.approx(fwd[96 + 48 :].max() * 4)
    assert sim.max_demand_kw(0, noon) == 0
    assert sim.max_demand_kw(0, noon + 900) == pytest.approx(fwd[96 + 48] * 4)
    assert [e.event_type for e in sim.events(at(0), at(0, 2), meters=[0])] == ["3.8.0.215"]


def test_load_control_cuts_the_load_of_enrolled_meters_in_the_window_only() -> None:
    clean = day_data(quiet_sim(n=60))
    sim = quiet_sim(n=60)
    start, end = epoch(at(17)), epoch(at(19))
    # (solar meters excepted: what they deliver is load minus panel output, not linear in load)
    enrolled = [m for m in range(60) if sim.fleet.enrolled[m] and not sim.fleet.has_solar(m)]
    others = [m for m in range(60) if not sim.fleet.enrolled[m] and sim.fleet.kind[m] == 0]
    assert enrolled
    assert others
    for m in enrolled:
        sim.start_load_control(m, start, end, 0.5, issued_at=start - 3600)
    data = day_data(sim)
    window = slice(17 * 4, 19 * 4)
    for m in enrolled:
        got, was = wh(data[(m, FWD)]), wh(clean[(m, FWD)])
        assert np.all(np.abs(got[window] - was[window] / 2) <= 1)
        assert np.array_equal(got[: 17 * 4], was[: 17 * 4])
        assert np.array_equal(got[19 * 4 :], was[19 * 4 :])
    for m in others:
        assert np.array_equal(data[(m, FWD)], clean[(m, FWD)])
    block = collect(sim.generate(at(0), at(0, 1), channels=["forward"]), sim)[(enrolled[0], FWD)]
    flagged = [i for i in range(96) if "1.4.10" in block.qualities_at(i)]
    assert flagged == list(range(17 * 4, 19 * 4))


def test_stopping_load_control_ends_the_window_early() -> None:
    sim = quiet_sim(n=60)
    m = next(m for m in range(60) if sim.fleet.enrolled[m])
    sim.start_load_control(m, epoch(at(17)), epoch(at(19)), 0.5, issued_at=epoch(at(16)))
    assert sim.stop_load_control(m, epoch(at(18)))
    window = sim.state.load_control[m][0]
    assert (window.start, window.end) == (epoch(at(17)), epoch(at(18)))
    codes = [e.event_type for e in sim.events(at(0), at(0, 1), meters=[m])]
    assert codes == ["3.15.0.242", "3.15.0.243"]


def test_an_injected_outage_darkens_every_meter_under_the_transformer() -> None:
    clean = day_data(quiet_sim(n=60))
    sim = quiet_sim(n=60)
    outage = sim.inject_outage("transformer", 2, at(6), at(8) + timedelta(minutes=5))
    under = sim.fleet.meters_under_transformer(2).tolist()
    assert len(under) >= 3
    data = collect(sim.generate(at(0), at(0, 1), channels=["forward"]), sim)
    for m in range(60):
        if (m, FWD) not in data:
            continue
        block = data[(m, FWD)]
        if m in under:
            assert np.all(block.values[24:32] == 0)
            assert np.array_equal(block.values[33:], clean[(m, FWD)][33:])
            flagged = [i for i in range(96) if "1.2.32" in block.qualities_at(i)]
            assert flagged == list(range(24, 33))
            assert not sim.powered(m, epoch(at(7)))
            assert sim.ping(m, epoch(at(7))).reachable is False
            assert sim.ping(m, outage.end).reachable is True
        else:
            assert np.array_equal(block.values, clean[(m, FWD)])
            assert sim.ping(m, epoch(at(7))).reachable is True


def test_a_feeder_outage_reaches_every_transformer_of_the_feeder() -> None:
    sim = quiet_sim(n=300)
    sim.inject_outage("feeder", 0, at(1), at(2))
    under = set(sim.fleet.meters_under_feeder(0).tolist())
    transformers = {int(sim.fleet.transformer[m]) for m in under}
    assert len(transformers) >= 10
    assert under == {
        m for t in transformers for m in sim.fleet.meters_under_transformer(t).tolist()
    }
    dark = {m for m in range(300) if not sim.powered(m, epoch(at(1.5)))}
    assert dark == under


def test_gas_and_water_meters_keep_their_battery_through_an_outage() -> None:
    sim = quiet_sim(n=200, gas_share=0.3, water_share=0.2)
    for feeder in range(sim.fleet.n_feeders):
        sim.inject_outage("feeder", feeder, at(1), at(2))
    for m in range(200):
        powered = sim.powered(m, epoch(at(1.5)))
        assert powered == (sim.fleet.kind[m] != 0)


def test_span_helpers() -> None:
    assert merge_spans([(5, 9), (1, 3), (2, 6), (20, 21)]) == [(1, 9), (20, 21)]
    grid = np.array([900, 1800, 2700], dtype=np.int64)
    assert overlap_seconds([(450, 2000)], grid, 900).tolist() == [450, 900, 200]
    assert overlap_seconds([(2700, 9000)], grid, 900).tolist() == [0, 0, 0]


def test_random_outages_come_from_the_seed_and_darken_the_data() -> None:
    rates = EventRates(transformer_outages=0.2, feeder_outages=0.0)
    sim = Simulation(
        FleetOptions(n_meters=200, seed=21, start=START), rates=rates, realism=Realism.clean()
    )
    outages = sim.outages(at(0), at(0, 2))
    assert outages
    again = Simulation(FleetOptions(n_meters=200, seed=21, start=START), rates=rates)
    assert again.outages(at(0), at(0, 2)) == outages
    data = collect(sim.generate(at(0), at(0, 2), channels=["forward"]), sim)
    for o in outages:
        for m in sim.fleet.meters_under_transformer(o.group).tolist():
            block = data[(m, FWD)]
            inside = (block.timestamps - 900 >= o.start) & (block.timestamps <= o.end)
            assert np.all(block.values[inside] == 0)


def test_added_meters_leave_the_others_and_their_data_unchanged() -> None:
    sim = quiet_sim(n=30)
    before = day_data(sim, days=2)
    mrid = "0f0e0d0c-0b0a-4908-8706-050403020100"
    added = sim.add_meters(
        3, kind="electric", mrids=[mrid, mrid.replace("0f", "1f"), mrid.replace("0f", "2f")]
    )
    assert list(added) == [30, 31, 32]
    assert sim.fleet.index_of(ObjectRef(mrid=mrid.upper())) == 30
    assert sim.fleet.meter_info(30).mrid == mrid
    assert all(sim.fleet.kind[m] == 0 for m in added)
    assert all(sim.fleet.transformer[m] >= 0 for m in added)
    after = day_data(sim, days=2)
    assert all(np.array_equal(v, after[k]) for k, v in before.items())
    assert all((m, FWD) in after for m in added)
    assert all((m, FWD_REG) in after for m in added)
    with pytest.raises(FleetOptionsError, match="already names"):
        sim.add_meters(1, mrids=[mrid])
