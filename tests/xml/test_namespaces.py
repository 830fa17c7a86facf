from __future__ import annotations

from cimmeter.xml.namespaces import (
    MESSAGE_NS,
    message_generation,
    profile_ns,
    profile_of,
    wrapper_ns,
    wrapper_of,
)


def test_emitted_namespaces_follow_the_2011_schemas() -> None:
    assert profile_ns("MeterReadings") == "http://iec.ch/TC57/2011/MeterReadings#"
    assert (
        wrapper_ns("MeterReadings", get=True) == "http://iec.ch/TC57/2011/GetMeterReadingsMessage"
    )
    assert message_generation(MESSAGE_NS) is not None
    assert message_generation(MESSAGE_NS).warning is None  # type: ignore[union-attr]


def test_variants_seen_in_the_wild_are_accepted_with_a_warning() -> None:
    for uri, generation in [
        ("http://www.iec.ch/TC57/2011/schema/message", "2011"),
        ("http://www.iec.ch/TC57/2008/schema/message", "2008"),
        ("http://iec.ch/TC57/2021/schema/message", "2021"),
    ]:
        ns = message_generation(uri)
        assert ns is not None and ns.generation == generation and ns.warning
    assert message_generation("http://example.com/schema/message") is None


def test_wrapper_and_profile_namespaces_decode_any_year() -> None:
    w = wrapper_of("http://iec.ch/TC57/2017/EndDeviceControlsMessage")
    assert w is not None and (w.year, w.noun, w.get) == ("2017", "EndDeviceControls", False)
    g = wrapper_of("http://iec.ch/TC57/2011/GetMeterReadingsMessage")
    assert g is not None and (g.noun, g.get) == ("MeterReadings", True)
    assert wrapper_of("http://iec.ch/TC57/2011/MeterReadings#") is None
    p = profile_of("http://www.iec.ch/TC57/2011/MeterReadings#")
    assert p is not None and p.profile == "MeterReadings" and not p.canonical
    assert profile_of(profile_ns("EndDeviceEvents")).canonical  # type: ignore[union-attr]
    assert profile_of("http://iec.ch/TC57/2011/MeterReadings") is None
