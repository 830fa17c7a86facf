"""The streaming MeterReadings reader and writer: round-trips, input forms, per-item errors,
hostile input, validation (against the vendor XSD from the shared folder, read at run time)."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.xml.errors import XmlSecurityError, XmlSyntaxError
from cimmeter.xml.stream import (
    MeterReadingsStructureError,
    StreamValidationError,
    read_meter_readings,
)
from cimmeter.xml.stream_write import MessageHeader, meter_readings_bytes, write_meter_readings

MR = "http://iec.ch/TC57/2011/MeterReadings#"
MSG = "http://iec.ch/TC57/2011/schema/message"
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def vendor_xsd(shared: Path) -> Path:
    return shared / "reference" / "vendor-xsd" / "smencim" / "MeterReadings" / "MeterReadings.xsd"


def doc(body: str, *, root_attrs: str = "") -> bytes:
    return (f'<m:MeterReadings xmlns:m="{MR}"{root_attrs}>{body}</m:MeterReadings>').encode()


def reading(ts: str, value: str, extra: str = "") -> str:
    return (
        f"<m:IntervalReadings><m:timeStamp>{ts}</m:timeStamp><m:value>{value}</m:value>"
        f"{extra}</m:IntervalReadings>"
    )


def meter_reading(readings: str, meter: str = "M-1") -> str:
    return (
        f'<m:MeterReading><m:IntervalBlocks>{readings}<m:ReadingType ref="{RT}"/>'
        f"</m:IntervalBlocks><m:Meter><m:mRID>{meter}</m:mRID></m:Meter></m:MeterReading>"
    )


SAMPLE = doc(
    meter_reading(
        reading("2026-01-01T00:15:00Z", "1.5")
        + reading(
            "2026-01-01T00:30:00Z",
            "2.25",
            '<m:ReadingQualities><m:ReadingQualityType ref="2.8.1"/></m:ReadingQualities>',
        )
        + reading("2026-01-01T01:45:00+01:00", "3")
    )
    + meter_reading(reading("2026-01-01T00:15:00Z", "7"), meter="M-2")
)


# -- reading ------------------------------------------------------------------------------------


def test_reads_blocks_with_epochs_values_qualities_and_meter() -> None:
    reader = read_meter_readings(SAMPLE)
    blocks = list(reader)
    assert len(blocks) == 2
    first = blocks[0]
    assert first.reading_type == RT
    assert first.meter == ObjectRef(mrid="M-1")
    assert first.timestamps.tolist() == [1767226500, 1767227400, 1767228300]
    assert first.values.tolist() == [1.5, 2.25, 3.0]
    assert [first.qualities_at(i) for i in range(3)] == [(), ("2.8.1",), ()]
    assert blocks[1].meter == ObjectRef(mrid="M-2")
    assert reader.form == "bare"
    assert reader.reading_count == 4
    assert reader.errors == []


def _wrap(kind: str, payload: bytes) -> bytes:
    body = payload.decode()
    header = (
        "<msg:Verb>created</msg:Verb><msg:Noun>MeterReadings</msg:Noun>"
        "<msg:Timestamp>2026-01-02T00:00:00Z</msg:Timestamp><msg:Source>HES</msg:Source>"
        "<msg:MessageID>m-1</msg:MessageID><msg:CorrelationID>c-1</msg:CorrelationID>"
    )
    if kind == "event":
        return (
            f'<msg:EventMessage xmlns:msg="{MSG}"><msg:Header>{header}</msg:Header>'
            f"<msg:Payload>{body}</msg:Payload></msg:EventMessage>"
        ).encode()
    if kind == "www":
        www = "http://www.iec.ch/TC57/2011/schema/message"
        return _wrap("event", payload).replace(MSG.encode(), www.encode())
    if kind == "typed":
        w = "http://iec.ch/TC57/2011/MeterReadingsMessage"
        return (
            f'<w:CreatedMeterReadings xmlns:w="{w}" xmlns:msg="{MSG}"><w:Header>{header}'
            f"</w:Header><w:Payload>{body}</w:Payload></w:CreatedMeterReadings>"
        ).encode()
    if kind == "compressed":
        packed = base64.b64encode(gzip.compress(payload)).decode()
        return _wrap("event", b"").replace(
            b"<msg:Payload></msg:Payload>",
            f"<msg:Payload><msg:Compressed>{packed}</msg:Compressed>"
            "<msg:Format>XML</msg:Format></msg:Payload>".encode(),
        )
    soap = {
        "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
        "soap12": "http://www.w3.org/2003/05/soap-envelope",
    }[kind]
    inner = _wrap("typed", payload).decode()
    return (
        f'<s:Envelope xmlns:s="{soap}"><s:Header/><s:Body>{inner}</s:Body></s:Envelope>'
    ).encode()


@pytest.mark.parametrize(
    ("kind", "form"),
    [
        ("event", "envelope"),
        ("www", "envelope"),
        ("typed", "typed"),
        ("soap11", "typed+soap11"),
        ("soap12", "typed+soap12"),
        ("compressed", "envelope"),
    ],
)
def test_every_input_form_gives_the_same_blocks(kind: str, form: str, tmp_path: Path) -> None:
    expected = list(read_meter_readings(SAMPLE))
    data = _wrap(kind, SAMPLE)
    path = tmp_path / "m.xml"
    path.write_bytes(data)
    for source in (data, path, str(path), io.BytesIO(data)):
        reader = read_meter_readings(source)  # type: ignore[arg-type]
        blocks = list(reader)
        assert len(blocks) == len(expected)
        pairs = zip(blocks, expected, strict=True)
        assert all(a.same_readings(b) and a.meter == b.meter for a, b in pairs)
        assert reader.form == form
        assert reader.header is not None
        assert reader.header.verb == "created"
        assert reader.header.message_id == "m-1"
        assert reader.header.correlation_id == "c-1"
        assert reader.header.source == "HES"
    if kind == "www":
        assert any("www." in w for w in reader.warnings)


def test_header_is_available_before_the_first_block() -> None:
    reader = read_meter_readings(_wrap("event", SAMPLE))
    blocks = reader.blocks()
    next(blocks)
    assert reader.header is not None
    assert reader.header.noun == "MeterReadings"
    assert reader.root == "EventMessage"


def test_bad_readings_are_skipped_with_specific_errors() -> None:
    data = doc(
        meter_reading(
            reading("2026-01-01T00:15:00Z", "1")
            + reading("2026-01-01T00:30:00Z", "abc")
            + reading("2026-01-01T00:45:00", "2")
            + "<m:IntervalReadings><m:value>5</m:value></m:IntervalReadings>"
            + reading("2026-01-01T01:00:00Z", "1_000")
            + reading("2026-01-01T01:15:00Z", "4")
        )
    )
    reader = read_meter_readings(data)
    (block,) = list(reader)
    assert block.values.tolist() == [1.0, 4.0]
    reasons = [e.reason for e in reader.errors]
    assert len(reasons) == 4
    assert "is not a number" in reasons[0] and "'abc'" in reasons[0]
    assert "without a time zone" in reasons[1]
    assert "without timeStamp" in reasons[2]
    assert "'1_000'" in reasons[3]
    first = reader.errors[0]
    assert (
        first.path == "/MeterReadings/MeterReading[1]/IntervalBlocks[1]/IntervalReadings[2]/value"
    )
    assert first.line == 1
    assert first.expected is not None and "decimal" in first.expected
    assert first.meter == ObjectRef(mrid="M-1")


def test_block_without_reading_type_is_one_error() -> None:
    data = doc(
        "<m:MeterReading><m:IntervalBlocks>"
        + reading("2026-01-01T00:15:00Z", "1")
        + "</m:IntervalBlocks></m:MeterReading>"
    )
    reader = read_meter_readings(data)
    assert list(reader) == []
    assert "without ReadingType" in reader.errors[0].reason


def test_extras_side_channel_and_catalogues_are_kept() -> None:
    data = doc(
        "<m:MeterReading><m:IntervalBlocks>"
        "<m:IntervalReadings><m:reportedDateTime>2026-01-02T00:00:00Z</m:reportedDateTime>"
        "<m:source>HES</m:source><m:timeStamp>2026-01-01T00:15:00Z</m:timeStamp>"
        "<m:value>1</m:value></m:IntervalReadings>"
        f'<m:ReadingType ref="{RT}"/></m:IntervalBlocks>'
        "<m:Meter><m:mRID>M-1</m:mRID><m:status><m:value>ok</m:value></m:status></m:Meter>"
        "<m:Readings><m:reason>billing</m:reason><m:timeStamp>2026-01-31T00:00:00Z</m:timeStamp>"
        f'<m:value>1234.5</m:value><m:ReadingType ref="RT-REG"/></m:Readings>'
        "<m:valuesInterval><m:end>2026-01-02T00:00:00Z</m:end></m:valuesInterval>"
        "</m:MeterReading>"
        "<m:ReadingType><m:mRID>RT-REG</m:mRID><m:Names><m:name>reg</m:name></m:Names>"
        "</m:ReadingType>"
    )
    reader = read_meter_readings(data)
    (chunk,) = list(reader.meter_readings())
    interval, register = chunk.blocks
    assert interval.source == "HES"
    assert interval.extras == {0: {"reportedDateTime": "2026-01-02T00:00:00Z"}}
    assert register.kind == "register" and register.reading_type == "RT-REG"
    assert register.values.tolist() == [1234.5]
    assert register.extras == {0: {"reason": "billing"}}
    assert chunk.xml is not None
    assert b"valuesInterval" in chunk.xml and b"status" in chunk.xml
    assert b"IntervalReadings" not in chunk.xml
    assert len(reader.catalogues) == 1 and b"RT-REG" in reader.catalogues[0]


def test_plain_meter_reading_needs_no_side_xml() -> None:
    chunks = list(read_meter_readings(SAMPLE).meter_readings())
    assert [c.xml for c in chunks] == [None, None]


def test_not_meter_readings_is_a_structure_error() -> None:
    with pytest.raises(MeterReadingsStructureError, match="no MeterReadings"):
        list(read_meter_readings(b'<x:EndDeviceEvents xmlns:x="urn:x"/>'))


def test_hostile_input_is_refused() -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + doc(
        meter_reading(reading("2026-01-01T00:15:00Z", "&b;"))
    )
    with pytest.raises(XmlSecurityError, match="DOCTYPE"):
        list(read_meter_readings(laughs))
    deep = doc("<m:MeterReading>" + "<m:x>" * 80 + "</m:x>" * 80 + "</m:MeterReading>")
    with pytest.raises(XmlSecurityError, match="nesting"):
        list(read_meter_readings(deep))
    with pytest.raises(XmlSyntaxError):
        list(read_meter_readings(SAMPLE[:-20]))


def test_comment_inside_a_value_does_not_split_it() -> None:
    data = doc(meter_reading(reading("2026-01-01T00:15:00Z", "1<!-- c -->2")))
    assert next(iter(read_meter_readings(data))).values.tolist() == [12.0]


# -- writing and round-trips ----------------------------------------------------------------------

codes = st.from_regex(r"[0-9]{1,2}\.[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True)
refs = st.one_of(
    st.builds(ObjectRef, mrid=st.uuids().map(str)),
    st.builds(
        ObjectRef,
        name=st.text("ab<&>\"' 1", min_size=1, max_size=8).map(str.strip).filter(bool),
        name_type=st.sampled_from(["MeterSerialNumber", None]),
    ),
)


@st.composite
def blocks(draw: st.DrawFn) -> ReadingBlock:
    n = draw(st.integers(0, 20))
    start = draw(st.integers(0, 4_000_000_000))
    stamps = [start + 900 * k for k in range(n)]
    values = draw(st.lists(st.floats(allow_infinity=True, allow_nan=True), min_size=n, max_size=n))
    qualities = draw(st.lists(st.lists(codes, max_size=2), min_size=n, max_size=n))
    return ReadingBlock.build(
        draw(st.sampled_from([RT, "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"])),
        stamps,
        values,
        qualities,
        meter=draw(refs),
        usage_point=draw(st.one_of(st.none(), refs)),
        kind=draw(st.sampled_from(["interval", "register"])),
    )


def _by_key(blocks: list[ReadingBlock]) -> dict[object, list[tuple[int, str, tuple[str, ...]]]]:
    """Readings per (meter, usage point, kind, reading type), as comparable rows."""
    out: dict[object, list[tuple[int, str, tuple[str, ...]]]] = {}
    for b in blocks:
        rows = out.setdefault((b.meter, b.usage_point, b.kind, b.reading_type), [])
        rows.extend(
            (int(t), repr(float(v)), b.qualities_at(i))
            for i, (t, v) in enumerate(zip(b.timestamps, b.values, strict=False))
        )
    return {k: sorted(v) for k, v in out.items() if v}


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(blocks(), min_size=1, max_size=4))
def test_blocks_round_trip_through_xml(original: list[ReadingBlock]) -> None:
    reader = read_meter_readings(meter_readings_bytes(original))
    back = list(reader)
    assert reader.errors == []
    assert _by_key(back) == _by_key(original)


@settings(max_examples=80, deadline=None)
@given(st.lists(blocks(), min_size=1, max_size=3), st.sampled_from([None, "HES-1"]))
def test_whole_block_writing_equals_reading_by_reading(
    original: list[ReadingBlock], source: str | None
) -> None:
    # A block without extras is written as one string; an (empty) extras entry sends every
    # reading of the block down the per-reading path. Both must give the same bytes.
    from dataclasses import replace

    plain = [replace(b, source=source) for b in original]
    per_reading = [replace(b, extras={0: {}}) if len(b) else b for b in plain]
    assert meter_readings_bytes(plain) == meter_readings_bytes(per_reading)


def test_writer_uses_envelope_and_schema_order(tmp_path: Path) -> None:
    block = ReadingBlock.build(RT, [1767226500], [0.1], [["2.8.1"]], meter=ObjectRef(mrid="M"))
    header = MessageHeader(verb="created", noun="MeterReadings", message_id="x-1")
    path = tmp_path / "out.xml"
    write_meter_readings(path, [block], header=header)
    text = path.read_text()
    assert text.index("<msg:Verb>created") < text.index("<msg:Noun>") < text.index("MessageID")
    assert "<msg:EventMessage" in text
    assert text.index("</m:IntervalReadings>") < text.index("<m:ReadingType ref=")
    assert "<m:value>0.1</m:value>" in text
    reader = read_meter_readings(path)
    (back,) = list(reader)
    assert back.same_readings(block)
    assert reader.header is not None and reader.header.message_id == "x-1"


def test_values_survive_without_float_noise() -> None:
    values = [0.1, 1 / 3, 1e-300, 123456789.123, -0.0, 5e20]
    block = ReadingBlock.build(RT, list(range(0, 900 * 6, 900)), values, meter=ObjectRef("M"))
    data = meter_readings_bytes([block])
    assert b"<m:value>0.1</m:value>" in data
    (back,) = list(read_meter_readings(data))
    assert np.array_equal(back.values, np.asarray(values))


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("parallel", [False, True])
def test_validation_accepts_valid_and_names_the_invalid(shared: Path, parallel: bool) -> None:
    xsd = vendor_xsd(shared)
    for kind in ("event", "typed", "soap11"):
        data = _wrap(kind, SAMPLE)
        assert (
            len(list(read_meter_readings(data, validate=True, schema=xsd, parallel=parallel))) == 2
        )
    bad = SAMPLE.replace(b"</m:value>", b"</m:value><m:value>9</m:value>", 1)
    with pytest.raises(StreamValidationError, match=r"value.*not expected") as info:
        list(read_meter_readings(bad, validate=True, schema=xsd, parallel=parallel))
    assert info.value.expected is not None and "ReadingQualities" in info.value.expected


def test_validation_refuses_a_namespace_the_schema_does_not_cover(shared: Path) -> None:
    other = SAMPLE.replace(MR.encode(), b"http://iec.ch/TC57/2009/MeterReadings#")
    with pytest.raises(StreamValidationError, match="cannot be validated"):
        list(read_meter_readings(other, validate=True, schema=vendor_xsd(shared), parallel=False))
