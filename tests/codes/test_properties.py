"""Round trips of the three code systems as hypothesis properties (digest 5.4)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.codes import (
    CodeError,
    DottedCode,
    EndDeviceControlType,
    EndDeviceEventType,
    ReadingQualityType,
    ReadingType,
    parse_any,
)
from cimmeter.codes.base import FieldSpec
from cimmeter.codes.reading_quality_type import SUB_CATEGORIES

SYSTEMS: list[type[DottedCode]] = [
    ReadingType,
    EndDeviceEventType,
    EndDeviceControlType,
    ReadingQualityType,
]


def value_of(spec: FieldSpec) -> st.SearchStrategy[int]:
    """Known values of the field's table, mixed with any number in its range (unknown ones)."""
    high = spec.high if spec.high is not None else 10**6
    anything = st.integers(spec.low, high)
    if spec.table is None:
        return anything
    return st.one_of(st.sampled_from([row.code for row in spec.table]), anything)


def codes(cls: type[DottedCode]) -> st.SearchStrategy[Any]:
    return st.tuples(*(value_of(s) for s in cls.SPECS)).map(lambda v: cls(*v))


def named_codes(cls: type[DottedCode]) -> st.SearchStrategy[dict[str, str | int]]:
    """Keyword arguments for build(): CIM names of emitted values, or numbers for unknown ones."""

    def field(spec: FieldSpec) -> st.SearchStrategy[str | int]:
        high = spec.high if spec.high is not None else 10**6
        numbers = st.integers(spec.low, high).filter(
            lambda n: spec.table is None or n not in spec.table
        )
        if spec.table is None:
            return numbers
        names = [r.name for r in spec.table if r.status != "alias"]
        return st.one_of(st.sampled_from(names), numbers)

    return st.fixed_dictionaries({s.attr: field(s) for s in cls.SPECS if s.table is not None})


@pytest.mark.parametrize("cls", SYSTEMS, ids=lambda c: c.__name__)
@settings(max_examples=150)
@given(data=st.data())
def test_code_text_code(cls: type[DottedCode], data: st.DataObject) -> None:
    code = data.draw(codes(cls))
    text = str(code)
    again = cls.parse(text)
    assert again == code
    assert hash(again) == hash(code)
    assert str(again) == text
    assert again.to_dict()["code"] == text
    assert parse_any(text, end_device=None).values == code.values


@settings(max_examples=150)
@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=1))
def test_negative_multipliers_round_trip(multiplier: list[int]) -> None:
    code = ReadingType(multiplier=multiplier[0], unit=29)
    assert ReadingType.parse(str(code)).multiplier == multiplier[0]


@pytest.mark.parametrize("cls", [ReadingType, EndDeviceEventType], ids=lambda c: c.__name__)
@settings(max_examples=150)
@given(data=st.data())
def test_names_code_names(cls: type[DottedCode], data: st.DataObject) -> None:
    given_names = data.draw(named_codes(cls))
    code = cls.build(**given_names)  # type: ignore[attr-defined]
    names = code.names()
    for attr, value in given_names.items():
        assert names[attr] == value
    assert cls.build(**names) == code  # type: ignore[attr-defined]


@settings(max_examples=150)
@given(data=st.data())
def test_quality_names_code_names(data: st.DataObject) -> None:
    category = data.draw(st.sampled_from(sorted(SUB_CATEGORIES)))
    sub = data.draw(st.sampled_from([r.name for r in SUB_CATEGORIES[category]]))
    system = data.draw(st.sampled_from(["NotApplicable", "EndDevice", "MDC", "MDM", "Other"]))
    category_name = ReadingQualityType(0, category, 0).name_of("category")
    assert category_name is not None
    code = ReadingQualityType.build(system_id=system, category=category_name, sub_category=sub)
    assert code.names() == {"system_id": system, "category": category_name, "sub_category": sub}
    assert ReadingQualityType.build(**code.names()) == code


# -- malformed input: each raises CodeError naming the field -------------------------------------

BAD_PARTS = st.sampled_from(["", "x", "+1", "1e3", "0x1", "²", "١", " 1", "1 ", "-1", "1.5"])


@pytest.mark.parametrize("cls", SYSTEMS, ids=lambda c: c.__name__)
@settings(max_examples=150)
@given(data=st.data())
def test_a_bad_field_is_named(cls: type[DottedCode], data: st.DataObject) -> None:
    values = [str(v) for v in data.draw(codes(cls)).values]
    position = data.draw(st.integers(0, len(values) - 1))
    bad = data.draw(BAD_PARTS)
    spec = cls.SPECS[position]
    if bad == "-1" and spec.low < 0:
        bad = "-x"  # the multiplier may be negative; a bad sign form is still malformed
    values[position] = bad
    text = ".".join(values)
    with pytest.raises(CodeError) as err:
        cls.parse(text)
    if " " in bad:
        assert "whitespace" in str(err.value)
    elif "." in bad:
        assert "dot-separated fields" in str(err.value)
    else:
        assert err.value.field_name == spec.cim_name
        assert err.value.field_position == position + 1
        assert f"field {position + 1} ({spec.cim_name})" in str(err.value)


@pytest.mark.parametrize("cls", SYSTEMS, ids=lambda c: c.__name__)
@given(count=st.integers(1, 25))
def test_wrong_field_count(cls: type[DottedCode], count: int) -> None:
    text = ".".join(["0"] * count)
    if count == len(cls.SPECS):
        assert cls.parse(text).values == (0,) * count
        return
    with pytest.raises(CodeError, match=f"expected {len(cls.SPECS)} dot-separated fields"):
        cls.parse(text)


@pytest.mark.parametrize("bad", [None, 3, b"3.8.0", "", "3.8.0\n", "3..0", ".3.8.0"])
def test_no_code_at_all(bad: object) -> None:
    with pytest.raises(CodeError):
        ReadingQualityType.parse(bad)  # type: ignore[arg-type]
    with pytest.raises(CodeError):
        parse_any(bad)  # type: ignore[arg-type]
