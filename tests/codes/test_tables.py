"""The code tables against their sources: espi-4.0.xsd and the digest's section 5 tables."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest

from cimmeter.codes.end_device_event_type import SPECS as END_DEVICE_SPECS
from cimmeter.codes.reading_quality_type import SPECS as QUALITY_SPECS
from cimmeter.codes.reading_quality_type import SUB_CATEGORIES
from cimmeter.codes.reading_type import SPECS as READING_TYPE_SPECS
from cimmeter.codes.tables import CodeTable, load_table

XS = "{http://www.w3.org/2001/XMLSchema}"

# reference/README.md: ESPI simpleType -> ReadingType field (table file).
ESPI_TYPES = {
    "TimePeriodOfInterest": "macro_period.csv",
    "DataQualifierKind": "aggregate.csv",
    "TimeAttributeKind": "measuring_period.csv",
    "AccumulationKind": "accumulation.csv",
    "FlowDirectionKind": "flow_direction.csv",
    "CommodityKind": "commodity.csv",
    "MeasurementKind": "measurement_kind.csv",
    "PhaseCodeKind": "phase_code.csv",
    "UnitMultiplierKind": "unit_multiplier.csv",
    "UnitSymbolKind": "unit_symbol.csv",
    "Currency": "currency.csv",
}

# The intentional differences of digest 5.1.6, 5.1.7 and 5.1.13: (type, code) -> our CIM name.
# The ESPI spelling must then be an accepted alias.
ESPI_SPELLING = {
    ("CommodityKind", 1): "electricitySecondaryMetered",
    ("CommodityKind", 2): "electricityPrimaryMetered",
    ("CommodityKind", 26): "electricityTransmissionMetered",
    ("MeasurementKind", 16): "fund",
    ("UnitSymbolKind", 21): "Gy",
    ("UnitSymbolKind", 22): "Bq",
    ("UnitSymbolKind", 24): "Sv",
    ("UnitSymbolKind", 27): "s",
    ("UnitSymbolKind", 32): "N",
    ("UnitSymbolKind", 36): "Wb",
    ("UnitSymbolKind", 37): "T",
    ("UnitSymbolKind", 39): "Pa",
    ("UnitSymbolKind", 53): "S",
}


def espi_enumerations(shared: Path) -> dict[str, list[tuple[int, str]]]:
    root = ET.parse(shared / "reference" / "espi-4.0.xsd").getroot()
    out: dict[str, list[tuple[int, str]]] = {}
    for simple in root.iter(f"{XS}simpleType"):
        name = simple.get("name")
        if name not in ESPI_TYPES:
            continue
        values = []
        for enum in simple.iter(f"{XS}enumeration"):
            literal = enum.find(f"{XS}annotation/{XS}appinfo")
            text = literal.text if literal is not None else None
            assert text, f"{name} {enum.get('value')}: no literal"
            values.append((int(enum.get("value", "")), text.strip()))
        out[name] = values
    return out


@pytest.fixture(scope="module")
def espi(shared: Path) -> dict[str, list[tuple[int, str]]]:
    return espi_enumerations(shared)


def test_espi_has_every_listed_simple_type(espi: dict[str, list[tuple[int, str]]]) -> None:
    assert set(espi) == set(ESPI_TYPES)
    assert len(espi["UnitSymbolKind"]) == 125
    assert len(espi["MeasurementKind"]) == 125


@pytest.mark.parametrize("espi_type", sorted(ESPI_TYPES))
def test_every_espi_value_is_in_our_table_with_its_name(
    espi: dict[str, list[tuple[int, str]]], espi_type: str
) -> None:
    table = load_table(ESPI_TYPES[espi_type])
    for code, literal in espi[espi_type]:
        row = table.row(code)
        assert row is not None, f"{espi_type} {code} {literal} is missing"
        expected = ESPI_SPELLING.get((espi_type, code), literal)
        assert row.name == expected, f"{espi_type} {code}: {row.name} != {expected}"
        if expected != literal:
            assert literal in row.aliases, f"{espi_type} {code}: ESPI spelling not accepted"
            assert table.code(literal) == code


@pytest.mark.parametrize("espi_type", sorted(ESPI_TYPES))
def test_our_extra_values_are_marked(
    espi: dict[str, list[tuple[int, str]]], espi_type: str
) -> None:
    """What ESPI lacks is a later CIM literal or a decode-only alias (digest 5.1.3, 5.1.11)."""
    in_espi = {code for code, _ in espi[espi_type]}
    for row in load_table(ESPI_TYPES[espi_type]):
        if row.code not in in_espi:
            assert row.status in ("later", "alias"), f"{espi_type} {row.code} is unmarked"


def test_digest_corrections_hold() -> None:
    macro = load_table("macro_period.csv")
    assert macro.name(11) == "daily"
    assert macro.name(13) == "monthly"
    measuring = load_table("measuring_period.csv")
    assert 11 not in measuring
    assert 13 not in measuring
    assert load_table("commodity.csv").name(9) == "potableWater"
    assert load_table("commodity.csv").row(26).status == "espi"  # type: ignore[union-attr]
    phases = load_table("phase_code.csv")
    assert phases.code("ACN") == 41
    assert phases.name(176) == "ACN"
    assert phases.code("S12N") == 784
    assert phases.name(769) == "S12N"
    multiplier = load_table("unit_multiplier.csv")
    assert multiplier.code("m") == -3
    assert multiplier.code("M") == 6
    units = load_table("unit_symbol.csv")
    assert units.code("sec") == units.code("s") == 27
    assert units.name(53) == "S"
    assert units.name(3) == "g"


# -- against the digest's own tables (section 5) -------------------------------------------------


def digest_table(shared: Path, section: str) -> list[list[str]]:
    """The rows of the first markdown table under the digest heading `section`."""
    lines = (shared / "spec" / "61968-9-digest.md").read_text("utf-8").splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("#") and line.lstrip("#").strip().startswith(section + " ")
    )
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


DIGEST_TABLES = [
    ("5.1.1", "macro_period.csv"),
    ("5.1.2", "aggregate.csv"),
    ("5.1.3", "measuring_period.csv"),
    ("5.1.4", "accumulation.csv"),
    ("5.1.5", "flow_direction.csv"),
    ("5.1.6", "commodity.csv"),
    ("5.1.7", "measurement_kind.csv"),
    ("5.1.11", "phase_code.csv"),
    ("5.1.12", "unit_multiplier.csv"),
    ("5.1.13", "unit_symbol.csv"),
    ("5.1.14", "currency.csv"),
    ("5.2.1", "end_device_type.csv"),
    ("5.2.2", "end_device_domain.csv"),
    ("5.2.3", "end_device_subdomain.csv"),
    ("5.2.4", "end_device_event_or_action.csv"),
    ("5.3.1", "quality_system.csv"),
    ("5.3.2", "quality_category.csv"),
]


def spellings(table: CodeTable, code: int) -> set[str]:
    row = table.row(code)
    return {row.name, *row.aliases} if row else set()


@pytest.mark.parametrize(("section", "filename"), DIGEST_TABLES)
def test_tables_hold_exactly_the_digest_values(shared: Path, section: str, filename: str) -> None:
    table = load_table(filename)
    digest = {}
    for cells in digest_table(shared, section):
        code = int(cells[0])
        # "PhaseA / PhaseAVoltagePotential": one code, two names (digest 5.2.3 notes)
        digest.setdefault(code, set()).update(n.strip() for n in cells[1].split(" / "))
    for code, names in digest.items():
        assert table.row(code) is not None, f"digest {section}: {code} missing"
        # Our name or an alias carries every digest spelling (CIM spelling of 5.1.13 aside).
        assert names & spellings(table, code), f"digest {section} {code}: {names}"
    extra = {row.code for row in table if row.code not in digest}
    assert extra <= {176}, f"{filename} holds codes the digest does not: {sorted(extra)}"


def test_subdomain_table_has_the_173_known_values() -> None:
    assert len(load_table("end_device_subdomain.csv")) == 173


def test_quality_subcategories_match_the_digest(shared: Path) -> None:
    expected: set[tuple[int, int, str]] = set()
    category = -1
    for cells in digest_table(shared, "5.3.3"):
        head = cells[0].split()[0]
        category = int(head) if head.isdigit() else category
        if cells[1].isdigit():
            expected.add((category, int(cells[1]), cells[2]))
    ours = {(c, row.code, row.name) for c, table in SUB_CATEGORIES.items() for row in table}
    assert ours == expected


def test_every_enumerated_field_has_a_table() -> None:
    for spec in (*READING_TYPE_SPECS, *END_DEVICE_SPECS, *QUALITY_SPECS[:2]):
        if spec.table is not None:
            assert len(spec.table) > 0, spec.cim_name
    free = {s.cim_name for s in READING_TYPE_SPECS if s.table is None}
    assert free == {
        "interharmonicNumerator",
        "interharmonicDenominator",
        "argumentNumerator",
        "argumentDenominator",
        "tou",
        "cpp",
        "consumptionTier",
    }


def test_event_or_action_kinds_are_control_event_or_both() -> None:
    table = load_table("end_device_event_or_action.csv")
    kinds = {row.extra["kind"] for row in table}
    assert kinds == {"", "control", "event", "both"}
    assert table.row(23).extra["kind"] == "control"  # type: ignore[union-attr]
    assert table.row(85).extra["kind"] == "event"  # type: ignore[union-attr]


def test_espi_derived_tables_carry_the_notice() -> None:
    data = Path(str(resources.files("cimmeter.codes").joinpath("data")))
    notice = (data / "NOTICE-ESPI.txt").read_text("utf-8")
    assert "Apache License, Version 2.0" in notice
    assert "North American Energy Standards Board" in notice
    for filename in ESPI_TYPES.values():
        assert filename in notice
        head = (data / filename).read_text("utf-8").splitlines()[:4]
        assert any(re.search(r"NOTICE-ESPI\.txt", line) for line in head), filename
