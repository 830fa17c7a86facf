from __future__ import annotations

import re

import pytest

from cimmeter.codes import (
    CodeError,
    EndDeviceControlType,
    EndDeviceEventType,
    UnknownNameError,
    named,
    named_end_device_codes,
    named_quality_codes,
    named_reading_types,
    parse_any,
)


@pytest.mark.parametrize(
    ("ident", "cls", "code"),
    [
        ("powerOff", EndDeviceEventType, "3.26.0.85"),
        ("powerRestored", EndDeviceEventType, "3.26.0.216"),
        ("remoteDisconnect", EndDeviceControlType, "3.31.0.23"),
        ("remoteConnect", EndDeviceControlType, "3.31.0.18"),
        ("armForClosure", EndDeviceControlType, "3.31.0.5"),
        ("demandReset", EndDeviceControlType, "3.8.0.214"),
        ("demandResetOccurred", EndDeviceEventType, "3.8.0.215"),
        ("lastGasp", EndDeviceEventType, "3.26.136.47"),
        ("tamper", EndDeviceEventType, "3.12.0.257"),
    ],
)
def test_named_codes_of_digest_4_0_and_5_2_5(
    ident: str, cls: type[EndDeviceEventType] | type[EndDeviceControlType], code: str
) -> None:
    assert str(cls.named(ident)) == code
    assert isinstance(cls.named(ident), cls)


def test_named_refuses_the_wrong_kind_with_a_pointer() -> None:
    with pytest.raises(UnknownNameError, match=r"use EndDeviceControlType\.named"):
        EndDeviceEventType.named("remoteDisconnect")
    with pytest.raises(UnknownNameError, match="did you mean powerOff"):
        EndDeviceEventType.named("powerof")


def test_named_table_is_consistent() -> None:
    entries = named_end_device_codes()
    assert len(entries) >= 90
    for entry in entries.values():
        # every named code decodes fully: no unknown field
        assert entry.code.known, entry.id
        assert entry.confidence in {"V", "V(impl)", "C"}, entry.id
        # a control's verb is a command; an event's is not (digest 5.2.4 kinds)
        if isinstance(entry.code, EndDeviceControlType):
            assert entry.code.action_kind in ("control", "both"), entry.id
        elif entry.id != "firmwareUpgradeStarted":  # [UPL] reports the verb Start as an event
            assert entry.code.action_kind in ("event", "both"), entry.id


def test_constants_are_the_named_codes() -> None:
    """Each constant of `codes.named` is `named()` of its camel-case id."""
    ids = [*named_end_device_codes(), *named_quality_codes(), *named_reading_types()]
    by_folded = {i.lower(): i for i in ids}
    constants = [n for n in dir(named) if re.fullmatch(r"[A-Z][A-Z0-9_]+", n)]
    assert len(constants) >= 40
    for constant in constants:
        value = getattr(named, constant)
        ident = by_folded[constant.replace("_", "").lower()]
        assert type(value).named(ident) == value, constant
    assert str(named.MDM_ESTIMATED) == "3.8.0"
    assert str(named.REMOTE_DISCONNECT) == "3.31.0.23"


def test_type_digit_is_kept_and_matching_ignores_it() -> None:
    received = EndDeviceEventType.parse("0.26.0.85")
    assert str(received) == "0.26.0.85"  # never rewritten to 3 (digest 5.4)
    assert received.matches(named.POWER_OFF)
    assert received.matches("3.26.0.85")
    assert not received.matches("3.26.0.85", match_type=True)
    assert received.matches("*.26.*.85")
    assert not received.matches("*.26.*.216")
    assert received.with_type(3) == named.POWER_OFF
    assert received.key == (26, 0, 85)
    assert received.identify()[0].id == "powerOff"
    with pytest.raises(CodeError, match="expected 4"):
        received.matches("26.0.85")


def test_other_forms_in_use_are_identified() -> None:
    # digest 4.0: Connexo's tamper 0.12.43.257 is the same meaning as 3.12.0.257
    assert [e.id for e in EndDeviceEventType.parse("0.12.43.257").identify()] == ["tamper"]
    assert EndDeviceEventType.parse("0.31.26.68").identify()[0].id == "switchDisconnected"
    # the gas form matches its own entry first, then the meter one
    ids = [e.id for e in EndDeviceEventType.parse("4.26.0.85").identify()]
    assert ids == ["gasPowerOutage", "powerOff"]


@pytest.mark.parametrize(
    ("control", "result", "event"),
    [
        ("3.31.0.23", "processed", "3.31.0.68"),
        ("3.31.0.23", "error", "3.31.0.84"),
        ("3.31.0.18", "processed", "3.31.0.42"),
        ("3.31.0.18", "error", "3.31.0.67"),
        ("3.31.0.23", "cancelled", "3.31.0.10"),
        ("3.31.0.18", "expired", "3.31.0.64"),
        ("3.8.0.214", "processed", "3.8.0.44"),
        ("3.8.0.214", "error", "3.8.0.79"),
        ("0.15.0.54", "processed", "0.15.0.44"),
    ],
)
def test_control_outcomes_digest_4_7(control: str, result: str, event: str) -> None:
    ctl = EndDeviceControlType.parse(control)
    out = ctl.outcome(result)  # type: ignore[arg-type]
    assert isinstance(out, EndDeviceEventType)
    assert str(out) == event
    assert out.outcome_for(ctl) == result


def test_both_outcome_conventions_are_understood() -> None:
    disconnect = named.REMOTE_DISCONNECT
    assert str(disconnect.outcome("processed", form="generic")) == "3.31.0.44"
    assert EndDeviceEventType.parse("0.31.0.44").outcome_for(disconnect) == "processed"
    assert EndDeviceEventType.parse("3.31.0.68").outcome_for("0.31.0.23") == "processed"
    assert EndDeviceEventType.parse("3.31.0.42").outcome_for(disconnect) is None  # connect's
    assert EndDeviceEventType.parse("3.26.0.44").outcome_for(disconnect) is None
    with pytest.raises(UnknownNameError, match="outcome result"):
        disconnect.outcome("done")  # type: ignore[arg-type]


def test_build_from_names() -> None:
    assert str(EndDeviceControlType.build(domain="RCDSwitch", event_or_action="Disconnect")) == (
        "3.31.0.23"
    )
    gas = EndDeviceEventType.build(type="GasMeter", domain="Power", event_or_action="Failed")
    assert str(gas) == "4.26.0.85"
    assert EndDeviceEventType.build(sub_domain="PhaseAVoltagePotential").sub_domain == 126
    assert EndDeviceEventType.build(event_or_action="ChangeOutRequired").event_or_action == 27


def test_describe_and_kind_detection() -> None:
    off = parse_any("3.26.0.85")
    assert isinstance(off, EndDeviceEventType)
    assert off.describe() == "power off / outage (meter): electric meter power failed"
    disconnect = parse_any("3.31.0.23")
    assert isinstance(disconnect, EndDeviceControlType)
    assert disconnect.to_dict()["kind"] == "EndDeviceControlType"
    assert isinstance(parse_any("3.31.0.23", end_device="event"), EndDeviceEventType)
    unknown = EndDeviceEventType.parse("3.33.1000.185")
    assert unknown.name_of("domain") is None
    assert unknown.name_of("subDomain") is None
    assert unknown.describe() == "electric meter [domain 33] [subDomain 1000] [eventOrAction 185]"
    assert str(unknown) == "3.33.1000.185"


def test_events_and_controls_are_distinct_values() -> None:
    event = EndDeviceEventType.parse("3.31.0.23")
    control = EndDeviceControlType.parse("3.31.0.23")
    assert event != control
    assert event.as_control() == control
    assert control.as_event() == event
    assert hash(event) == hash(event.values)
    assert event.to_dict()["fields"] == {
        "type": {"code": 3, "name": "ElectricMeter"},
        "domain": {"code": 31, "name": "RCDSwitch"},
        "subDomain": {"code": 0, "name": "NA"},
        "eventOrAction": {"code": 23, "name": "Disconnect"},
    }
