from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import (
    ReadingBlock,
    ReadingBlockError,
    concat_blocks,
    encode_qualities,
)

RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
quality_code = st.sampled_from(["1.0.0", "2.5.257", "3.8.0", "3.0.1", "2.4.1"])
row = st.tuples(
    st.integers(0, 2**40),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.lists(quality_code, max_size=3),
)


def test_build_encodes_quality_sets_sorted_and_deduplicated() -> None:
    block = ReadingBlock.build(
        RT,
        [900, 1800, 2700],
        [1.5, 2.0, 0.0],
        [["3.8.0", "2.5.257"], [], ["2.5.257", "3.8.0", "3.8.0"]],
        meter=ObjectRef.of("m1"),
    )
    assert block.qualities_at(0) == ("2.5.257", "3.8.0")
    assert block.qualities_at(1) == ()
    assert block.qualities_at(2) == ("2.5.257", "3.8.0")
    assert block.quality.tolist() == [1, 0, 1]
    assert len(block.quality_sets) == 2


def test_mismatched_columns_are_refused() -> None:
    with pytest.raises(ReadingBlockError, match="values must be float64 of length 2"):
        ReadingBlock(
            RT, np.array([1, 2], dtype=np.int64), np.array([1.0]), np.zeros(2, dtype=np.int32)
        )
    with pytest.raises(ReadingBlockError, match="quality index out of range"):
        ReadingBlock(
            RT, np.array([1], dtype=np.int64), np.array([1.0]), np.array([3], dtype=np.int32)
        )
    with pytest.raises(ReadingBlockError, match="3 quality entries for 2 readings"):
        encode_qualities([[], [], []], 2)


def test_object_ref_needs_an_identifier_and_describes_itself() -> None:
    with pytest.raises(ValueError, match="needs an mRID"):
        ObjectRef()
    assert ObjectRef(name="M-17", name_type="MeterSerialNumber").describe() == (
        "name 'M-17' (MeterSerialNumber)"
    )


@given(st.lists(st.lists(row, max_size=20), min_size=1, max_size=5))
def test_concat_then_split_gives_back_the_blocks(
    parts: list[list[tuple[int, float, list[str]]]],
) -> None:
    blocks = [
        ReadingBlock.build(RT, [r[0] for r in p], [r[1] for r in p], [r[2] for r in p])
        for p in parts
    ]
    whole = concat_blocks(blocks)
    assert len(whole) == sum(len(b) for b in blocks)
    start = 0
    for b in blocks:
        piece = whole.take(np.arange(start, start + len(b)))
        assert piece.same_readings(b)
        start += len(b)


@given(st.lists(row, max_size=30), st.data())
def test_take_with_mask_keeps_rows_and_their_qualities(
    rows: list[tuple[int, float, list[str]]], data: st.DataObject
) -> None:
    block = ReadingBlock.build(RT, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    mask = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows))), dtype=bool
    )
    kept = block.take(mask)
    expected = [r for r, m in zip(rows, mask, strict=True) if m]
    assert kept.timestamps.tolist() == [r[0] for r in expected]
    for i, r in enumerate(expected):
        assert kept.qualities_at(i) == tuple(sorted(set(r[2])))
