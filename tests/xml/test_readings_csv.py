"""CSV of readings: columns per DECISIONS.md, round-trip of blocks."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.xml.readings_csv import ReadingsCsvError, read_readings_csv, readings_csv_text

RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def test_columns_timestamps_and_joined_qualities() -> None:
    block = ReadingBlock.build(
        RT,
        [1767226500],
        [1.5],
        [["2.8.1", "1.4.9"]],
        meter=ObjectRef(mrid="M-1"),
        usage_point=ObjectRef(name="UP 7"),
    )
    lines = readings_csv_text([block]).splitlines()
    assert lines[0] == "meter,usage_point,reading_type,timestamp,value,quality"
    assert lines[1] == f"M-1,UP 7,{RT},2026-01-01T00:15:00Z,1.5,1.4.9;2.8.1"


def test_bad_rows_name_line_and_column() -> None:
    text = "meter,usage_point,reading_type,timestamp,value,quality\nM,,RT,2026-01-01T00:15:00,1,\n"
    with pytest.raises(ReadingsCsvError, match=r"line 2: column timestamp: .*time zone"):
        list(read_readings_csv(io.StringIO(text)))
    text = text.replace("00:15:00,1", "00:15:00Z,x")
    with pytest.raises(ReadingsCsvError, match="line 2: column value"):
        list(read_readings_csv(io.StringIO(text)))


codes = st.from_regex(r"[0-9]\.[0-9]{1,2}\.[0-9]{1,3}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3_000_000_000),
            st.floats(allow_nan=True, allow_infinity=True),
            st.lists(codes, max_size=3),
        ),
        min_size=1,
        max_size=30,
    ),
    st.text("abc,\"' \n", min_size=1, max_size=6),
)
def test_blocks_round_trip_through_csv(
    rows: list[tuple[int, float, list[str]]], meter: str
) -> None:
    block = ReadingBlock.build(
        RT,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        meter=ObjectRef(mrid=meter),
        usage_point=ObjectRef(mrid="UP"),
    )
    (back,) = list(read_readings_csv(io.StringIO(readings_csv_text([block]))))
    assert back.same_readings(block)
    assert back.meter == block.meter and back.usage_point == block.usage_point
