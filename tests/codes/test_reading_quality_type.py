from __future__ import annotations

import pytest

from cimmeter.codes import CodeError, ReadingQualityType, UnknownNameError, named
from cimmeter.codes.reading_quality_type import named_quality_codes


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("3.8.0", "estimated, by the MDM"),
        ("3.0.1", "validated (passed VEE), by the MDM"),
        ("1.4.4", "data collection: skipped (missing) interval, by the end device"),
        ("2.5.259", "reasonability: known missing read, by the head-end (MDC)"),
        ("3.6.3", "failed validation: usage above maximum, by the MDM"),
        ("3.7.1", "edited: manually added, by the MDM"),
        ("0.0.0", "valid"),
        # digest 5.3.3: unknown x.6.n, x.8.n, x.11.n are a specific rule, method, inference
        ("3.6.7", "failed validation: rule 7, by the MDM"),
        ("3.8.5", "estimated: method 5, by the MDM"),
        ("3.11.9", "derived: inferred (9), by the MDM"),
        ("3.2.1001", "power quality: [subCategory 1001], by the MDM"),
        ("7.20.1", "[category 20]: [subCategory 1], [systemId 7]"),
    ],
)
def test_describe(code: str, description: str) -> None:
    assert ReadingQualityType.parse(code).describe() == description


def test_systems_are_head_end_2_and_mdm_3() -> None:
    # digest 5.3.1: the often-quoted 2 = MDM is wrong
    assert ReadingQualityType.parse("2.4.4").name_of("systemId") == "MDC"
    assert ReadingQualityType.parse("3.8.0").name_of("systemId") == "MDM"


def test_sub_category_names_depend_on_the_category() -> None:
    assert ReadingQualityType.parse("3.6.1").name_of("subCategory") == "zeroUsage"
    assert ReadingQualityType.parse("3.7.1").name_of("subCategory") == "added"
    assert ReadingQualityType.parse("3.8.1").name_of("subCategory") is None  # method: no name
    assert ReadingQualityType.parse("3.20.1").name_of("subCategory") is None
    assert not ReadingQualityType.parse("3.2.1001").known  # Connexo-private, kept as a number
    assert str(ReadingQualityType.parse("3.2.1001")) == "3.2.1001"


def test_build_from_names() -> None:
    zero = ReadingQualityType.build(
        system_id="MDM", category="validation", sub_category="zeroUsage"
    )
    assert str(zero) == "3.6.1"
    assert str(ReadingQualityType.build(system_id="MDM", category="estimated")) == "3.8.0"
    assert ReadingQualityType.build(category="tamper / revenue protection").category == 3
    assert ReadingQualityType.build(system_id="Externally specified").system_id == 5
    with pytest.raises(UnknownNameError, match="subCategory name 'zeroUsage'"):
        ReadingQualityType.build(system_id="MDM", category="edited", sub_category="zeroUsage")


def test_vee_set_of_digest_5_3_4() -> None:
    codes = {str(code) for code, _ in named_quality_codes().values()}
    for expected in (
        "3.0.1",
        "3.6.0",
        "3.6.9",
        "3.7.0",
        "3.7.1",
        "3.7.3",
        "3.8.0",
        "3.10.1",
        "3.11.0",
        "3.11.1",
        "1.4.2",
        "1.4.3",
        "1.4.4",
        "1.2.32",
        "1.4.9",
        "1.4.64",
        "1.4.128",
        "1.3.1",
        "1.3.4",
        "2.5.259",
        "2.4.4",
    ):
        assert expected in codes
    for code, _ in named_quality_codes().values():
        assert code.known, code
    assert str(named.MDM_ESTIMATED) == "3.8.0"
    assert str(named.MDM_VALIDATED) == "3.0.1"
    assert ReadingQualityType.named("mdmEstimated") == named.MDM_ESTIMATED


def test_malformed() -> None:
    with pytest.raises(CodeError, match=r"field 1 \(systemId\) '-3'"):
        ReadingQualityType.parse("-3.8.0")
    with pytest.raises(CodeError, match="expected 3 dot-separated fields, found 4"):
        ReadingQualityType.parse("3.8.0.0")
    with pytest.raises(CodeError, match=r"field 3 \(subCategory\)"):
        ReadingQualityType(3, 8, -1)
