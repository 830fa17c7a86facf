"""The generic codec: scalars, order, unknown elements, namespaces, errors with path and line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from cimmeter.model.common import DateTimeInterval, Name, ReadingTypeRef
from cimmeter.model.meter_readings import IntervalReading, MeterReadings, Reading
from cimmeter.xml.codec import (
    DATETIME,
    FLOAT,
    DecodeContext,
    ScalarError,
    decode_document,
    encode_document,
    plan_of,
)

NS = "http://iec.ch/TC57/2011/MeterReadings#"


def _read(xml: str) -> tuple[MeterReadings | None, DecodeContext]:
    ctx = DecodeContext()
    root = etree.fromstring(xml.encode())
    return decode_document(root, MeterReadings, ctx), ctx  # type: ignore[return-value]


def test_plan_follows_declaration_order_with_surprises_of_the_schema() -> None:
    assert [f.xml for f in plan_of(DateTimeInterval).fields] == ["end", "start"]
    reading = [f.xml for f in plan_of(Reading).fields]
    assert reading.index("value") < reading.index("ReadingType") < reading.index("timePeriod")
    ref = plan_of(ReadingTypeRef).fields[0]
    assert (ref.xml, ref.kind) == ("ref", "attribute")


def test_datetime_without_zone_is_an_error_with_its_expectation() -> None:
    with pytest.raises(ScalarError) as caught:
        DATETIME.parse("2024-03-01T00:15:00")
    assert "no time zone" in caught.value.reason
    assert "+01:00" in caught.value.expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T00:15:00Z", datetime(2024, 3, 1, 0, 15, tzinfo=UTC)),
        (
            "2024-03-01T00:15:00.5+01:00",
            datetime(2024, 3, 1, 0, 15, 0, 500000, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("2024-03-01T24:00:00Z", datetime(2024, 3, 2, tzinfo=UTC)),
        (" 2024-03-01T00:15:00.1234567Z ", datetime(2024, 3, 1, 0, 15, 0, 123456, tzinfo=UTC)),
    ],
)
def test_datetime_lexical_forms(text: str, expected: datetime) -> None:
    assert DATETIME.parse(text) == expected


def test_utc_is_written_with_z_and_offsets_are_kept() -> None:
    assert DATETIME.format(datetime(2024, 3, 1, tzinfo=UTC)) == "2024-03-01T00:00:00Z"
    tz = timezone(timedelta(hours=-5))
    assert DATETIME.format(datetime(2024, 3, 1, tzinfo=tz)) == "2024-03-01T00:00:00-05:00"


def test_float_specials_use_xsd_spelling() -> None:
    assert FLOAT.format(float("inf")) == "INF"
    assert FLOAT.parse("-INF") == float("-inf")
    assert FLOAT.format(15.0) == "15"
    assert FLOAT.format(0.1) == "0.1"


def test_reading_value_is_decimal_when_it_writes_back_identically() -> None:
    assert IntervalReading(value="1.50").value == Decimal("1.50")
    assert IntervalReading(value="0.0000001").value == Decimal("1E-7")
    assert IntervalReading(value="1e3").value == "1e3"
    assert IntervalReading(value="ON").value == "ON"
    assert IntervalReading(value="+1").value == "+1"


def test_unknown_elements_are_kept_in_place_and_written_back() -> None:
    xml = f"""<MeterReadings xmlns="{NS}" xmlns:cx="urn:vendor">
      <MeterReading>
        <Meter><mRID>m1</mRID><cx:serialNumber>S-1</cx:serialNumber><Names><name>n</name></Names></Meter>
      </MeterReading>
      <cx:LoadProfile><cx:name>lp</cx:name></cx:LoadProfile>
    </MeterReadings>"""
    doc, ctx = _read(xml)
    assert doc is not None
    meter = doc.meter_reading[0].meter
    assert meter is not None and meter.mrid == "m1"
    assert meter.extensions[0].after == "mRID"
    assert "S-1" in (meter.extensions[0].xml or "")
    assert [i.severity for i in ctx.issues.items] == ["warning", "warning"]
    assert ctx.issues.items[0].path == "/MeterReadings/MeterReading[1]/Meter/serialNumber"
    assert ctx.issues.items[0].line == 3
    out = etree.tostring(encode_document(doc)).decode()
    assert out.index("mRID") < out.index("serialNumber") < out.index("Names")
    assert out.index("</MeterReading>") < out.index("LoadProfile")


def test_extension_with_unqualified_attributes_is_kept_as_well_formed_xml() -> None:
    # A vendor element holding a ref element (`ref` has no namespace): the kept text must parse,
    # and read the same whatever prefixes the sender chose.
    xml = f"""<MeterReadings xmlns="{NS}" xmlns:cx="urn:vendor" xmlns:b="urn:b">
      <cx:Mapping cx:kind="k"><cx:ReadingType ref="0.0.0"/><b:x xml:lang="en">t</b:x></cx:Mapping>
    </MeterReadings>"""
    doc, _ = _read(xml)
    assert doc is not None
    kept = doc.extensions[0].xml or ""
    assert kept == (
        '<n0:Mapping xmlns:n0="urn:vendor" n0:kind="k">'
        '<n0:ReadingType ref="0.0.0"></n0:ReadingType>'
        '<n1:x xmlns:n1="urn:b" xml:lang="en">t</n1:x></n0:Mapping>'
    )
    written = etree.tostring(encode_document(doc)).decode()
    again, _ = _read(written.replace("n0:", "v:").replace("xmlns:n0=", "xmlns:v="))
    assert again == doc
    renamed, _ = _read(xml.replace("cx:", "y:").replace("xmlns:cx", "xmlns:y"))
    assert renamed == doc


def test_errors_name_path_line_and_expectation_and_reading_goes_on() -> None:
    xml = f"""<MeterReadings xmlns="{NS}">
      <MeterReading>
        <isCoincidentTrigger>maybe</isCoincidentTrigger>
        <Readings><timeStamp>2024-01-01T00:00:00</timeStamp><value>1</value>
          <ReadingType ref="0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"/></Readings>
        <Meter><mRID>a</mRID><mRID>b</mRID></Meter>
      </MeterReading>
    </MeterReadings>"""
    doc, ctx = _read(xml)
    errors = [i for i in ctx.issues.items if i.severity == "error"]
    assert [(e.line, e.path) for e in errors] == [
        (3, "/MeterReadings/MeterReading[1]/isCoincidentTrigger"),
        (4, "/MeterReadings/MeterReading[1]/Readings[1]/timeStamp"),
        (6, "/MeterReadings/MeterReading[1]/Meter/mRID"),
    ]
    assert errors[0].expected == "true, false, 1 or 0"
    assert doc is not None and doc.meter_reading[0].readings[0].value == Decimal(1)


def test_out_of_order_and_foreign_namespace_are_warnings() -> None:
    xml = f"""<MeterReadings xmlns="{NS}"><MeterReading>
      <valuesInterval><start>2024-01-01T00:00:00Z</start><end>2024-01-02T00:00:00Z</end></valuesInterval>
      <Meter><mRID xmlns="">m</mRID></Meter></MeterReading></MeterReadings>"""
    doc, ctx = _read(xml)
    assert doc is not None
    interval = doc.meter_reading[0].values_interval
    assert interval is not None and interval.end == datetime(2024, 1, 2, tzinfo=UTC)
    messages = [i.message for i in ctx.issues.items]
    assert any("out of schema order" in m for m in messages)
    assert any("no namespace" in m for m in messages)
    meter = doc.meter_reading[0].meter
    assert meter is not None and meter.mrid == "m"


def test_enum_in_wrong_case_is_read_with_a_warning() -> None:
    xml = f"""<MeterReadings xmlns="{NS}"><MeterReading><Readings><reason>Billing</reason>
      <ReadingType ref="x"/></Readings></MeterReading></MeterReadings>"""
    doc, ctx = _read(xml)
    assert doc is not None and doc.meter_reading[0].readings[0].reason == "billing"
    assert ctx.issues.items[0].severity == "warning"


def test_models_are_frozen_and_names_default_empty() -> None:
    name = Name(name="M-1")
    with pytest.raises(ValueError, match="frozen"):
        name.name = "x"  # type: ignore[misc]
    assert Reading(reading_type="0.0").reading_type == ReadingTypeRef(ref="0.0")


def test_other_cim_spellings_get_a_hint() -> None:
    from cimmeter.model.end_device_controls import EndDeviceControls

    xml = """<EndDeviceControls xmlns="http://iec.ch/TC57/2011/EndDeviceControls#"><EndDeviceControl>
      <EndDeviceAction><command>x</command></EndDeviceAction><EndDeviceControlType ref="3.31.0.23"/>
      <scheduledInterval><start>2024-01-01T00:00:00Z</start></scheduledInterval>
      </EndDeviceControl></EndDeviceControls>"""
    ctx = DecodeContext()
    doc = decode_document(etree.fromstring(xml.encode()), EndDeviceControls, ctx)
    assert doc is not None
    control = doc.end_device_control[0]  # type: ignore[attr-defined]
    assert [e.after for e in control.extensions] == [None, "EndDeviceControlType"]
    messages = [i.message for i in ctx.issues.items]
    assert "PanDemandResponse, PanDisplay or PanPricing" in messages[0]
    assert "primaryDeviceTiming/interval" in messages[1]
