from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cimmeter.codes.errors import CodeError
from cimmeter.codes.syntax import join_code, split_code

NAMES = ("systemId", "category", "subCategory")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the code is empty"),
        (" 1.2.3", "whitespace"),
        ("1.2", "expected 3 dot-separated fields, found 2"),
        ("1..3", "field 2 (category) the field is empty"),
        ("1.-2.3", "field 2 (category) '-2' is not a non-negative integer"),
        ("1.².3", "field 2 (category) '²' is not a non-negative integer"),
        ("1.2.+3", "field 3 (subCategory)"),
    ],
)
def test_malformed_codes_name_the_field(text: str, message: str) -> None:
    with pytest.raises(CodeError) as err:
        split_code(text, kind="ReadingQualityType", field_names=NAMES)
    assert message in str(err.value)


def test_signed_field_and_ranges() -> None:
    assert split_code("1.-3.0", kind="x", field_names=NAMES, signed_fields=frozenset({1})) == (
        1,
        -3,
        0,
    )
    with pytest.raises(CodeError, match=r"outside 0\.\.65535"):
        split_code("1.2.70000", kind="x", field_names=NAMES, ranges=[(0, 65535)] * 3)


@given(
    st.lists(st.integers(0, 10**6), min_size=3, max_size=3),
    st.lists(st.integers(0, 3), min_size=3, max_size=3),
)
def test_leading_zeros_normalise_and_round_trip(values: list[int], zeros: list[int]) -> None:
    text = ".".join("0" * z + str(v) for v, z in zip(values, zeros, strict=True))
    parsed = split_code(text, kind="x", field_names=NAMES)
    assert parsed == tuple(values)
    assert split_code(join_code(parsed), kind="x", field_names=NAMES) == parsed
