"""MeterReadings <-> columnar ReadingBlocks for small messages, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.message.envelope import read_xml
from cimmeter.model.identity import ObjectRef
from cimmeter.model.meter_readings import (
    IntervalBlock,
    IntervalReading,
    MeterReading,
    MeterReadings,
    ReadingConversionError,
    blocks_to_meter_readings,
    meter_readings_to_blocks,
)
from cimmeter.model.readings import ReadingBlock
from tests.conftest import DATA

RT15 = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
RTREG = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def test_sample_document_to_blocks() -> None:
    document = read_xml(DATA / "created-MeterReadings.xml").document
    assert isinstance(document, MeterReadings)
    interval, register = meter_readings_to_blocks(document)
    assert (interval.kind, interval.reading_type) == ("interval", RT15)
    assert interval.meter == ObjectRef(
        mrid="0c0f4a6e-1f5e-4a3b-8e6e-2b9f0d1c2a31",
        name="ACME-000117",
        name_type="MeterSerialNumber",
    )
    assert interval.usage_point == ObjectRef(mrid="up-4711")
    start = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())
    assert interval.timestamps.tolist() == [start + 900, start + 1800]
    assert interval.values.tolist() == [0.25, 0.312]
    assert [interval.qualities_at(i) for i in range(2)] == [(), ("2.8.0",)]
    assert (register.kind, register.reading_type, register.values.tolist()) == (
        "register",
        RTREG,
        [12345.678],
    )
    assert register.timestamps.tolist() == [start - 3600]  # 00:00+01:00
    assert register.extras == {0: {"reason": "billing"}}


def test_model_to_blocks_to_model_keeps_readings() -> None:
    document = read_xml(DATA / "created-MeterReadings.xml").document
    assert isinstance(document, MeterReadings)
    again = blocks_to_meter_readings(meter_readings_to_blocks(document))
    (original,), (rebuilt,) = document.meter_reading, again.meter_reading
    assert rebuilt.interval_blocks == original.interval_blocks
    assert rebuilt.readings == original.readings  # +01:00 and UTC are the same instant
    assert rebuilt.meter is not None and original.meter is not None
    assert rebuilt.meter.mrid == original.meter.mrid and rebuilt.meter.names == original.meter.names


def test_non_numeric_values_and_missing_timestamps() -> None:
    doc = MeterReadings(
        meter_reading=(
            MeterReading(
                interval_blocks=(
                    IntervalBlock(
                        interval_readings=(
                            IntervalReading(
                                time_stamp=datetime(2024, 1, 1, tzinfo=UTC), value="ON"
                            ),
                        ),
                        reading_type=RT15,
                    ),
                )
            ),
        )
    )
    (block,) = meter_readings_to_blocks(doc)
    assert np.isnan(block.values[0]) and block.extras[0] == {"value": "ON"}
    assert blocks_to_meter_readings([block]) == doc
    broken = doc.model_copy(
        update={
            "meter_reading": (
                MeterReading(
                    interval_blocks=(
                        IntervalBlock(
                            interval_readings=(IntervalReading(value="1"),), reading_type=RT15
                        ),
                    )
                ),
            )
        }
    )
    with pytest.raises(
        ReadingConversionError, match=r"IntervalReadings\[1\]: a reading without timeStamp"
    ):
        meter_readings_to_blocks(broken)


_refs = st.sampled_from(
    [None, ObjectRef(mrid="m1"), ObjectRef(name="S-1", name_type="MeterSerialNumber")]
)


@st.composite
def blocks(draw: st.DrawFn) -> list[ReadingBlock]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, 5))
        start = draw(st.integers(1_000_000_000, 2_000_000_000))
        values = draw(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=n, max_size=n))
        qualities = draw(
            st.lists(
                st.lists(st.sampled_from(["2.8.0", "3.0.1"]), max_size=2), min_size=n, max_size=n
            )
        )
        out.append(
            ReadingBlock.build(
                RT15 if i % 2 == 0 else RTREG,
                [start + 900 * k for k in range(n)],
                values,
                qualities,
                meter=draw(_refs),
                usage_point=draw(_refs),
                kind=draw(st.sampled_from(["interval", "register"])),
            )
        )
    return out


@settings(max_examples=40, deadline=None)
@given(blocks())
def test_blocks_to_model_to_blocks(original: list[ReadingBlock]) -> None:
    document = blocks_to_meter_readings(original)
    again = meter_readings_to_blocks(document)

    def key(b: ReadingBlock) -> tuple[object, ...]:
        return (b.meter, b.usage_point, b.kind, b.reading_type)

    expected: dict[tuple[object, ...], list[ReadingBlock]] = {}
    for b in original:
        if b.kind == "interval" or len(b):  # an empty register block has no Reading to carry
            expected.setdefault(key(b), []).append(b)
    got: dict[tuple[object, ...], list[ReadingBlock]] = {}
    for b in again:
        got.setdefault(key(b), []).append(b)
    from cimmeter.model.readings import concat_blocks

    assert expected.keys() == got.keys()
    for k, parts in expected.items():
        assert concat_blocks(parts).same_readings(concat_blocks(got[k]))


def test_value_decimal_survives_float_column() -> None:
    tz = timezone(timedelta(hours=2))
    reading = IntervalReading(time_stamp=datetime(2024, 1, 1, 2, tzinfo=tz), value="0.1")
    doc = MeterReadings(
        meter_reading=(
            MeterReading(
                interval_blocks=(IntervalBlock(interval_readings=(reading,), reading_type=RT15),)
            ),
        )
    )
    back = blocks_to_meter_readings(meter_readings_to_blocks(doc))
    assert back.meter_reading[0].interval_blocks[0].interval_readings[0].value == Decimal("0.1")


@settings(max_examples=60, deadline=None)
@given(blocks())
def test_columnar_element_reads_as_the_model_writes(original: list[ReadingBlock]) -> None:
    # The get-MeterReadings reply writes its Payload from the columns (stream_write); read back
    # it must be the document the model path builds from the same blocks: the same structure,
    # and values equal as numbers (the lexical form may differ: "1e-07" against "1E-7").
    from cimmeter.message.envelope import read_xml
    from cimmeter.xml.stream_write import meter_readings_element

    written = read_xml(meter_readings_element(original)).document
    assert isinstance(written, MeterReadings)
    built = blocks_to_meter_readings(original)
    shape = lambda d: [  # noqa: E731
        (mr.meter, mr.usage_point, len(mr.interval_blocks), len(mr.readings))
        for mr in d.meter_reading
    ]
    assert shape(written) == shape(built)
    got, want = meter_readings_to_blocks(written), meter_readings_to_blocks(built)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert (a.meter, a.usage_point, a.kind, a.reading_type) == (
            b.meter,
            b.usage_point,
            b.kind,
            b.reading_type,
        )
        assert a.same_readings(b)
