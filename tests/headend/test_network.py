"""The DeviceNetwork interface over the simulated fleet: reads, ping, controls, events."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from cimmeter.headend.network import ControlRequest, DeviceNetwork, ReadResult, SimulatedNetwork
from cimmeter.headend.simulation import Simulation
from cimmeter.model.identity import ObjectRef
from tests.headend.helpers import (
    FWD,
    FWD_REG,
    GAS,
    GAS_REG,
    MAX_DEMAND,
    at,
    collect,
    epoch,
    quiet_sim,
    wh,
)

DISCONNECT, CONNECT, ARM = "3.31.0.23", "3.31.0.18", "3.31.0.5"
DEMAND_RESET, LC_START, LC_STOP = "3.8.0.214", "3.15.0.54", "3.15.0.55"
UNKNOWN = ObjectRef(mrid="00000000-0000-0000-0000-000000000000")


@pytest.fixture
def sim() -> Simulation:
    return quiet_sim(n=120, gas_share=0.15)


@pytest.fixture
def net(sim: Simulation) -> SimulatedNetwork:
    return SimulatedNetwork(sim)


def electric(sim: Simulation, *, enrolled: bool | None = None) -> int:
    return next(
        m
        for m in range(sim.fleet.n)
        if sim.fleet.kind[m] == 0 and (enrolled is None or bool(sim.fleet.enrolled[m]) == enrolled)
    )


def gas(sim: Simulation) -> int:
    return next(m for m in range(sim.fleet.n) if sim.fleet.kind[m] == 1)


def test_the_simulated_network_is_a_device_network(net: SimulatedNetwork) -> None:
    network: DeviceNetwork = net
    assert isinstance(network, SimulatedNetwork)


def test_read_readings_returns_the_generated_blocks_in_parts(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    parts = list(net.read_readings(None, None, at(0), at(0, 1)))
    assert len(parts) >= 1
    result = ReadResult.merge(parts)
    assert not result.errors
    direct = collect(sim.generate(at(0), at(0, 1)), sim)
    got = {(sim.fleet.index_of(b.meter), b.reading_type): b for b in result.blocks if b.meter}
    assert got.keys() == direct.keys()
    assert all(np.array_equal(got[k].values, direct[k].values) for k in got)


def test_read_readings_reports_unknown_devices_and_reading_types_beside_the_data(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m, g = electric(sim), gas(sim)
    devices = [sim.fleet.meter_ref(m), sim.fleet.meter_ref(g), UNKNOWN]
    result = ReadResult.merge(
        list(
            net.read_readings(
                devices, [FWD, GAS, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"], at(0), at(0, 1)
            )
        )
    )
    kinds = sorted((e.kind, e.reading_type) for e in result.errors)
    assert kinds == [
        ("unknown-device", None),
        ("unsupported-reading-type", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"),
        ("unsupported-reading-type", FWD),  # the gas meter
        ("unsupported-reading-type", GAS),  # the electric meter
    ]
    types = {(sim.fleet.index_of(b.meter), b.reading_type) for b in result.blocks if b.meter}
    assert types == {(m, FWD), (g, GAS)}


def test_on_demand_read_returns_the_register_as_it_stands(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    data = collect(sim.generate(at(0), at(0, 1), channels=["forward"]), sim)
    fwd = wh(data[(m, FWD)].values)
    initial = int(sim.fleet.initial_forward[m])
    # on the grid: initial + the intervals so far; between: plus the elapsed share of the next
    on_grid = net.read_on_demand([sim.fleet.meter_ref(m)], [FWD_REG], at(10))
    assert not on_grid.errors
    (block,) = on_grid.blocks
    assert block.kind == "register"
    assert block.timestamps.tolist() == [epoch(at(10))]
    assert wh(block.values[0]) == initial + fwd[:40].sum()
    between = net.read_on_demand([sim.fleet.meter_ref(m)], [FWD_REG], at(10) + timedelta(minutes=5))
    assert wh(between.blocks[0].values[0]) == initial + fwd[:40].sum() + fwd[40] * 300 // 900
    # without reading types: every register of the meter
    every = net.read_on_demand([sim.fleet.meter_ref(m)], None, at(10))
    assert {b.reading_type for b in every.blocks} == {FWD_REG, MAX_DEMAND}
    g = gas(sim)
    assert {
        b.reading_type for b in net.read_on_demand([sim.fleet.meter_ref(g)], None, at(10)).blocks
    } == {GAS_REG}


def test_on_demand_read_of_interval_types_gives_the_last_day(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    result = net.read_on_demand([sim.fleet.meter_ref(m)], [FWD], at(0, 2))
    (block,) = result.blocks
    assert len(block) == 96
    assert block.timestamps[-1] == epoch(at(0, 2))


def test_a_dark_meter_does_not_answer_on_demand_reads_or_pings(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    sim.inject_outage("transformer", int(sim.fleet.transformer[m]), at(6), at(8))
    ref = sim.fleet.meter_ref(m)
    read = net.read_on_demand([ref, UNKNOWN], None, at(7))
    assert not read.blocks
    assert sorted(e.kind for e in read.errors) == ["not-reachable", "unknown-device"]
    (during,) = net.ping([ref], at(7))
    assert during.reachable is False
    assert during.energized is None
    (after,) = net.ping([ref], at(8))
    assert after.reachable is True
    assert after.energized is True
    assert after.load_side_energized is True


def test_ping_tells_an_open_relay_from_no_power(sim: Simulation, net: SimulatedNetwork) -> None:
    m = electric(sim)
    net.execute_control(ControlRequest(DISCONNECT, (sim.fleet.meter_ref(m),), at(3)))
    (p,) = net.ping([sim.fleet.meter_ref(m)], at(4))
    assert p.reachable is True
    assert p.energized is True
    assert p.load_side_energized is False
    (g,) = net.ping([sim.fleet.meter_ref(gas(sim))], at(4))
    assert g.reachable is True
    assert g.load_side_energized is None
    (u,) = net.ping([UNKNOWN], at(4))
    assert u.reachable is False
    assert u.reason is not None
    assert "no simulated meter" in u.reason


def test_disconnect_connect_and_arm_report_switch_outcomes(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    ref = sim.fleet.meter_ref(electric(sim))
    (off,) = net.execute_control(ControlRequest(DISCONNECT, (ref,), at(9)))
    assert off.succeeded
    assert off.outcome_type == "3.31.0.68"
    assert dict(off.events[0].details) == {"Contactor status": "Opened"}
    (on,) = net.execute_control(ControlRequest(CONNECT, (ref,), at(11)))
    assert on.outcome_type == "3.31.0.42"
    (armed,) = net.execute_control(ControlRequest(ARM, (ref,), at(12)))
    assert armed.outcome_type == "3.31.0.11"
    assert dict(armed.events[0].details) == {"Contactor status": "Armed"}
    # the device events (relay state) arrive in the event feed too
    codes = [e.event_type for e in net.events_since(at(0), at(0, 1), [ref])]
    assert codes == ["3.31.0.68", "3.31.0.42", "3.31.0.11", "3.31.0.42"]


def test_a_control_on_an_unreachable_meter_fails_with_the_failure_outcome(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    sim.inject_outage("transformer", int(sim.fleet.transformer[m]), at(6), at(8))
    (out,) = net.execute_control(ControlRequest(DISCONNECT, (sim.fleet.meter_ref(m),), at(7)))
    assert not out.succeeded
    assert out.outcome_type == "3.31.0.84"
    assert out.error is not None
    assert out.error.kind == "not-reachable"
    assert out.events[0].reason == out.reason
    assert sim.relay(m, epoch(at(7))).value == "closed"


def test_controls_that_do_not_apply_fail_per_device(sim: Simulation, net: SimulatedNetwork) -> None:
    g = sim.fleet.meter_ref(gas(sim))
    outcomes = net.execute_control(ControlRequest(DISCONNECT, (g, UNKNOWN), at(1)))
    assert [o.error.kind for o in outcomes if o.error] == ["unsupported-control", "unknown-device"]
    assert [o.outcome_type for o in outcomes] == ["3.31.0.84", "3.31.0.84"]
    (odd,) = net.execute_control(ControlRequest("3.7.0.99", (g,), at(1)))
    assert odd.outcome_type == "3.7.0.79"
    assert odd.error is not None
    assert odd.error.kind == "unsupported-control"


def test_controls_match_any_device_type_digit(sim: Simulation, net: SimulatedNetwork) -> None:
    m = electric(sim)
    (out,) = net.execute_control(ControlRequest("0.31.0.23", (sim.fleet.meter_ref(m),), at(1)))
    assert out.succeeded
    assert out.outcome_type == "0.31.0.68"


def test_demand_reset_returns_the_billing_snapshot_and_the_reset_event(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    data = collect(sim.generate(at(0), at(0, 1), channels=["forward"]), sim)
    (out,) = net.execute_control(ControlRequest(DEMAND_RESET, (sim.fleet.meter_ref(m),), at(12)))
    assert out.succeeded
    assert out.outcome_type == "3.8.0.44"
    assert [e.event_type for e in out.events] == ["3.8.0.44", "3.8.0.215"]
    (snapshot,) = out.readings
    assert snapshot.reading_type == MAX_DEMAND
    assert snapshot.values[0] == pytest.approx(data[(m, FWD)].values[:48].max() * 4)
    (after,) = net.read_on_demand([sim.fleet.meter_ref(m)], [MAX_DEMAND], at(12)).blocks
    assert after.values[0] == 0


def test_load_control_needs_enrollment_and_a_window(sim: Simulation, net: SimulatedNetwork) -> None:
    yes = sim.fleet.meter_ref(electric(sim, enrolled=True))
    no = sim.fleet.meter_ref(electric(sim, enrolled=False))
    outcomes = net.execute_control(
        ControlRequest(
            LC_START,
            (yes, no),
            at(16),
            start=at(17),
            duration=timedelta(hours=2),
            params={"shed": "0.4"},
        )
    )
    assert [o.outcome_type for o in outcomes] == ["3.15.0.44", "3.15.0.79"]
    assert outcomes[1].error is not None
    assert outcomes[1].error.kind == "not-enrolled"
    window = sim.state.load_control[sim.fleet.index_of(yes)][0]
    assert (window.start, window.end, window.shed) == (epoch(at(17)), epoch(at(19)), 0.4)
    (bad,) = net.execute_control(ControlRequest(LC_START, (yes,), at(20), params={"shed": "2"}))
    assert bad.error is not None
    assert bad.error.kind == "invalid-parameter"
    (stop,) = net.execute_control(ControlRequest(LC_STOP, (yes,), at(20)))
    assert stop.outcome_type == "3.15.0.44"


def test_an_out_of_order_control_fails_instead_of_rewriting_history(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    ref = sim.fleet.meter_ref(electric(sim))
    net.execute_control(ControlRequest(DISCONNECT, (ref,), at(10)))
    (late,) = net.execute_control(ControlRequest(CONNECT, (ref,), at(9)))
    assert late.error is not None
    assert late.error.kind == "out-of-order"


def test_the_register_stops_where_a_disconnect_left_it(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    ref = sim.fleet.meter_ref(m)
    net.execute_control(ControlRequest(DISCONNECT, (ref,), at(10) + timedelta(minutes=6)))
    reads = [
        net.read_on_demand([ref], [FWD_REG], at(10) + timedelta(minutes=minute)).blocks[0]
        for minute in (3, 6, 9, 14, 15, 60, 600)
    ]
    values = [wh(b.values[0]) for b in reads]
    assert values[0] < values[1]
    assert values[1:] == [values[1]] * 6
    data = collect(sim.generate(at(0), at(11), channels=["forward"]), sim)
    assert values[1] == int(sim.fleet.initial_forward[m]) + wh(data[(m, FWD)].values).sum()


def test_identify_names_each_device_by_its_mrid_or_says_it_is_unknown(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    by_name = ObjectRef(name=sim.fleet.name("meter", m))
    by_usage_point = sim.fleet.usage_point_ref(m)
    found = net.identify([by_name, by_usage_point, UNKNOWN])
    assert found[:2] == (sim.fleet.meter_ref(m), sim.fleet.meter_ref(m))
    error = found[2]
    assert not isinstance(error, ObjectRef)
    assert (error.kind, error.device) == ("unknown-device", UNKNOWN)


def test_an_added_meter_answers_under_its_own_mrid(sim: Simulation, net: SimulatedNetwork) -> None:
    new = ObjectRef(mrid="6a1d6b9e-0c8f-4f35-9d7e-2f9f3e1c0a11")
    assert not isinstance(net.identify([new])[0], ObjectRef)
    ref = net.add_meter(new, "gas")
    assert ref == new
    assert net.identify([new]) == (new,)
    (block,) = net.read_on_demand([new], [GAS_REG], at(5)).blocks
    assert block.meter == new
    assert block.values[0] > 0


def test_tou_and_firmware_load_at_once_and_activate_later(
    sim: Simulation, net: SimulatedNetwork
) -> None:
    m = electric(sim)
    ref = sim.fleet.meter_ref(m)
    (tou,) = net.execute_control(ControlRequest("3.20.121.13", (ref,), at(8), start=at(20)))
    assert tou.succeeded
    assert [e.event_type for e in tou.events] == ["3.20.121.44", "3.20.121.58"]
    assert dict(tou.events[0].details)["activationDateTime"] == at(20).isoformat()
    (fw,) = net.execute_control(
        ControlRequest("3.11.83.13", (ref,), at(9), start=at(22), params={"version": "2.1"})
    )
    assert [e.event_type for e in fw.events] == ["3.11.83.44", "3.11.283.280"]
    events = net.events_since(at(7), at(23), [ref])
    seen = [(e.event_type, e.created_date_time) for e in events]
    assert seen == [
        ("3.20.121.58", at(8)),
        ("3.11.283.280", at(9)),
        ("3.20.121.4", at(20)),
        ("3.11.283.4", at(22)),
    ]
    assert dict(events[-1].details) == {"version": "2.1"}
    (dark,) = net.execute_control(ControlRequest("3.20.121.13", (UNKNOWN,), at(10)))
    assert dark.error is not None
    assert dark.error.kind == "unknown-device"
