"""The simulator's literal code table agrees with cimmeter.codes (digest 5.1-5.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.codes import named
from cimmeter.codes.end_device_event_type import EndDeviceControlType, EndDeviceEventType
from cimmeter.codes.reading_quality_type import ReadingQualityType
from cimmeter.codes.reading_type import ReadingType
from cimmeter.headend import code_table as ct
from cimmeter.headend.channels import fleet_channels
from cimmeter.headend.fleet import FleetOptions


@pytest.mark.parametrize("minutes", [1, 5, 10, 15, 30, 60])
def test_every_reading_type_parses_and_means_what_its_channel_says(minutes: int) -> None:
    options = FleetOptions(1, interval=timedelta(minutes=minutes))
    for channel in fleet_channels(options):
        names = ReadingType.parse(channel.reading_type).names()
        expected_flow = {"reverse": "reverse", "reverse_register": "reverse", "net": "net"}
        assert names["flow_direction"] == expected_flow.get(channel.name, "forward"), channel
        if channel.block_kind == "interval":
            assert names["accumulation"] == "deltaData"
        elif channel.name == "max_demand":
            assert names["measurement_kind"] == "demand"
            assert names["aggregate"] == "maximum"
        else:
            assert names["accumulation"] == "bulkQuantity"


def test_the_fifteen_minute_forward_kwh_is_the_digest_example() -> None:
    (forward,) = [c for c in fleet_channels(FleetOptions(1)) if c.name == "forward"]
    assert ReadingType.parse(forward.reading_type) == named.FIFTEEN_MINUTE_DELTA_FORWARD_KWH


EXPECTED_EVENTS = {
    "power_off": named.POWER_OFF,
    "power_restored": named.POWER_RESTORED,
    "tamper": named.TAMPER,
    "reverse_energy": named.REVERSE_ENERGY_FLOW,
    "low_battery": named.LOW_BATTERY,
    "clock_error": named.CLOCK_ERROR,
    "disconnected": named.SWITCH_DISCONNECTED,
    "connected": named.SWITCH_CONNECTED,
    "armed_for_closure": named.SWITCH_ARMED_FOR_CLOSURE,
    "demand_reset_occurred": named.DEMAND_RESET_OCCURRED,
}


def test_events_are_the_named_codes_of_cimmeter_codes() -> None:
    for event, code in EXPECTED_EVENTS.items():
        assert EndDeviceEventType.parse(ct.event_code("electric", event)) == code, event
    for event in ct.EVENTS:
        for kind in ("electric", "gas", "water"):
            EndDeviceEventType.parse(ct.event_code(kind, event))


def test_controls_and_outcomes_are_the_named_codes_of_cimmeter_codes() -> None:
    controls = {
        "disconnect": named.REMOTE_DISCONNECT,
        "connect": named.REMOTE_CONNECT,
        "arm_for_closure": named.ARM_FOR_CLOSURE,
        "demand_reset": named.DEMAND_RESET,
        "load_control_start": named.LOAD_CONTROL_START,
        "load_control_stop": named.LOAD_CONTROL_STOP,
    }
    for action, code in controls.items():
        assert ct.control_action(str(code)) == action
        EndDeviceControlType.parse(str(code))
    assert ct.outcome_code("3.31.0.23", "disconnect", True) == str(named.SWITCH_DISCONNECTED)
    assert ct.outcome_code("3.31.0.23", "disconnect", False) == str(named.DISCONNECT_FAILED)
    assert ct.outcome_code("3.31.0.18", "connect", False) == str(named.CONNECT_FAILED)
    assert ct.outcome_code("3.8.0.214", "demand_reset", True) == "3.8.0.44"


def test_quality_flags_parse_and_include_the_named_ones() -> None:
    parsed = {ReadingQualityType.parse(code) for code in ct.QUALITY_FLAGS}
    assert named.DEVICE_POWER_FAIL in parsed
    assert named.DEVICE_REVERSE_ROTATION in parsed
    assert named.HEAD_END_KNOWN_MISSING_READ in parsed
