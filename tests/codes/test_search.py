from __future__ import annotations

from cimmeter.codes import search
from cimmeter.codes.search import words_of


def test_power_off_finds_the_outage_events_first() -> None:
    hits = search("power off")
    assert [h.code for h in hits[:2]] == ["3.26.0.85", "3.26.0.47"]
    assert hits[0].id == "powerOff"
    assert hits[0].kind == "EndDeviceEventType"


def test_remote_disconnect_finds_the_control_and_its_outcomes() -> None:
    hits = search("remote disconnect")
    assert hits[0].code == "3.31.0.23"
    assert hits[0].kind == "EndDeviceControlType"
    codes = [h.code for h in hits]
    assert "3.31.0.68" in codes  # switch disconnected
    assert "3.31.0.84" in codes  # disconnect failed
    assert "3.31.0.18" not in codes  # connect has no "disconnect"


def test_reverse_energy_finds_events_and_reading_types() -> None:
    hits = search(["reverse", "energy"])
    codes = {h.code for h in hits}
    assert "3.12.48.219" in codes  # reverse energy flow
    assert "3.26.93.219" in codes  # received kWh (reverse energy)
    assert "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0" in codes  # 15-min delta reverse kWh


def test_quality_and_field_values_are_found_after_named_codes() -> None:
    hits = search("estimated")
    assert hits[0].code == "3.8.0"
    assert hits[0].kind == "ReadingQualityType"
    kinds = [h.kind for h in hits]
    assert "ReadingQualityType.category" in kinds
    first_field = next(i for i, k in enumerate(kinds) if "." in k)
    assert all("." in k for k in kinds[first_field:])  # named codes come first
    fifteen = search("fifteen minute", limit=None)
    assert any(h.kind == "ReadingType.measuringPeriod" and h.code == "2" for h in fifteen)


def test_words_split_cim_names_and_nothing_matches_nonsense() -> None:
    assert {"rcd", "switch", "rcdswitch"} <= words_of("RCDSwitch")
    assert {"phase", "a", "voltage"} <= words_of("PhaseAVoltage")
    assert search("zzzz qqq") == []
    assert search("") == []
    assert len(search("power", limit=3)) == 3
