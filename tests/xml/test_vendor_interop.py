"""Interoperability: what we write validates against the vendors' own schemas where the structure
is shared (read from the shared folder, never copied into the product; digest 0.2 sources)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from cimmeter.message.envelope import ID, read_xml, to_element
from cimmeter.model.base import CimDocument
from cimmeter.model.end_device_controls import EndDeviceControls
from cimmeter.model.end_device_events import EndDeviceEvents
from cimmeter.model.get_end_device_events import GetEndDeviceEvents
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.model.meter_readings import MeterReadings
from cimmeter.xml.codec import encode_document
from cimmeter.xml.safe import make_parser
from tests.conftest import DATA, shared_dir
from tests.message.strategies import document_strategy

VENDOR = "reference/vendor-xsd"
# Which vendor schema checks which of our documents (SmenCim: plain IEC profiles; Connexo where
# it is the only public copy).
PROFILE_SCHEMAS: dict[type[CimDocument], str] = {
    MeterReadings: "smencim/MeterReadings/MeterReadings.xsd",
    EndDeviceEvents: "smencim/EndDeviceEvents/EndDeviceEvents.xsd",
    EndDeviceControls: "smencim/EndDeviceControls/EndDeviceControls.xsd",
    GetMeterReadings: "connexo/MeterReadings/GetMeterReadings.xsd",
    GetEndDeviceEvents: "connexo/GetEndDeviceEvents/GetEndDeviceEvents.xsd",
}
# Connexo's typed wrapper schemas (they import its Message.xsd, so generic envelopes too).
WRAPPER_SCHEMAS: dict[str, str] = {
    "MeterReadings": "connexo/MeterReadings/MeterReadingsMessage.xsd",
    "GetMeterReadings": "connexo/MeterReadings/GetMeterReadingsMessage.xsd",
    "EndDeviceEvents": "connexo/EndDeviceEvents/EndDeviceEventsMessage.xsd",
    "GetEndDeviceEvents": "connexo/GetEndDeviceEvents/GetEndDeviceEventsMessage.xsd",
    "EndDeviceControls": "connexo/EndDeviceControls/EndDeviceControlsMessage.xsd",
}


@cache
def vendor_schema(relative: str) -> etree.XMLSchema:
    path = shared_dir() / VENDOR / relative
    return etree.XMLSchema(etree.parse(str(path), make_parser()))


def _assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    # Validate a serialized copy so that line numbers in the log refer to what we wrote.
    copy = etree.fromstring(etree.tostring(element))
    assert schema.validate(copy), "\n".join(str(e) for e in schema.error_log)


@pytest.mark.parametrize("cls", list(PROFILE_SCHEMAS), ids=lambda c: c.__name__)
def test_generated_documents_validate_against_vendor_profiles(
    shared: Path, cls: type[CimDocument]
) -> None:
    schema = vendor_schema(PROFILE_SCHEMAS[cls])

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document_strategy(cls))
    def check(document: CimDocument) -> None:
        _assert_valid(schema, encode_document(document))

    check()


def _samples(noun: str) -> list[Path]:
    return [p for p in sorted(DATA.glob("*.xml")) if noun in p.name and "Schedule" not in p.name]


@pytest.mark.parametrize("noun", ["MeterReadings", "EndDeviceEvents", "EndDeviceControls"])
@pytest.mark.parametrize("form", ["generic", "typed"])
def test_our_messages_validate_against_vendor_wrappers(shared: Path, noun: str, form: str) -> None:
    for path in _samples(noun):
        message = read_xml(path).message
        if message is None:
            continue
        is_get = getattr(getattr(message, "header", None), "verb", None) == "get"
        if is_get and form == "typed":
            # Connexo's Get<Noun>RequestType has a plain-string ID (no IDatts): drop attributes.
            request = message.request  # type: ignore[attr-defined]
            plain = tuple(ID(value=i.value) for i in request.ids)
            message = message.model_copy(
                update={"request": request.model_copy(update={"ids": plain})}
            )
        key = f"Get{noun}" if is_get else noun
        element = to_element(message, form=form, noun=noun)  # type: ignore[arg-type]
        _assert_valid(vendor_schema(WRAPPER_SCHEMAS[key]), element)


def test_vendor_extensions_are_kept_when_reading_connexo_style_documents(shared: Path) -> None:
    connexo = b"""<MeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadings#"><MeterReading>
      <Meter><mRID>m1</mRID><serialNumber>S-17</serialNumber></Meter></MeterReading>
      <LoadProfile><name>lp</name></LoadProfile></MeterReadings>"""
    result = read_xml(connexo)
    assert len(result.warnings) == 2
    written = etree.tostring(to_element(result.root))
    assert b"<serialNumber>S-17</serialNumber>" in written.replace(b"n0:", b"").replace(
        b' xmlns:n0="http://iec.ch/TC57/2011/MeterReadings#"', b""
    )
    _assert_valid(
        vendor_schema("connexo/MeterReadings/MeterReadings.xsd"), etree.fromstring(written)
    )
