from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from cimmeter.codes import CodeError, ReadingType, UnknownNameError, named_reading_types

KWH_15 = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def test_the_15_minute_delta_kwh_example_decodes_field_by_field() -> None:
    rt = ReadingType.parse(KWH_15)
    assert rt.describe() == "15-minute delta forward active energy, kWh"
    assert (rt.measuring_period, rt.accumulation, rt.flow_direction) == (2, 4, 1)
    assert (rt.commodity, rt.measurement_kind, rt.multiplier, rt.unit) == (1, 12, 3, 72)
    names = {f.cim_name: f.name for f in rt.fields()}
    assert names["measuringPeriod"] == "fifteenMinute"
    assert names["accumulation"] == "deltaData"
    assert names["commodity"] == "electricitySecondaryMetered"
    assert names["multiplier"] == "k"
    assert names["unit"] == "Wh"
    assert rt.name_of("measuring_period") == rt.name_of("measuringPeriod") == "fifteenMinute"
    assert rt.field("unit").meaning == "active energy, Wh"
    assert str(rt) == KWH_15


def test_json_shape_is_the_issue_s() -> None:
    obj = json.loads(ReadingType.parse(KWH_15).to_json())
    assert list(obj) == ["kind", "code", "fields", "description"]
    assert obj["kind"] == "ReadingType"
    assert obj["code"] == KWH_15
    assert list(obj["fields"])[:3] == ["macroPeriod", "aggregate", "measuringPeriod"]
    assert len(obj["fields"]) == 18
    assert list(obj["fields"])[-1] == "currency"
    assert obj["fields"]["macroPeriod"] == {"code": 0, "name": "none"}
    assert obj["fields"]["measuringPeriod"] == {"code": 2, "name": "fifteenMinute"}
    assert obj["fields"]["tou"] == {"code": 0, "name": None}  # a free integer has no literal
    assert obj["description"] == "15-minute delta forward active energy, kWh"


def test_build_from_names_gives_the_example() -> None:
    rt = ReadingType.build(
        unit="Wh",
        multiplier="k",
        measuring_period="fifteenMinute",
        accumulation="deltaData",
        flow_direction="forward",
        commodity="electricitySecondaryMetered",
        measurement_kind="energy",
    )
    assert str(rt) == KWH_15
    assert ReadingType.build(unit=72, multiplier="3", measuring_period=2).unit == 72
    assert ReadingType.build(unit="sec").unit == 27  # ESPI spelling (digest 5.1.13)
    assert ReadingType.build(commodity="electricity SecondaryMetered").commodity == 1
    assert ReadingType.build(multiplier="m").multiplier == -3
    assert ReadingType.build(multiplier="-6").multiplier == -6
    assert ReadingType.build(phases="ACN").phases == 41  # emitted form, not 176


def test_unknown_name_says_which_field_and_suggests() -> None:
    with pytest.raises(UnknownNameError, match=r"measuringPeriod name 'fifteenMinutes'") as err:
        ReadingType.build(measuring_period="fifteenMinutes")
    assert "did you mean fifteenMinute" in str(err.value)
    assert err.value.field_name == "measuringPeriod"
    assert err.value.field_position == 3
    with pytest.raises(UnknownNameError, match="field name 'colour'"):
        ReadingType.spec("colour")


def test_unknown_values_are_kept_and_round_trip() -> None:
    text = "1001.27.78.5.6.27.61.0.0.0.0.0.0.0.3.0.999.997"
    rt = ReadingType.parse(text)
    assert str(rt) == text
    assert rt.name_of("macroPeriod") is None  # Connexo yearly: unknown (digest 5.1.1)
    assert rt.name_of("aggregate") is None  # 27 high: not verified (digest 5.1.2)
    assert rt.name_of("measuringPeriod") == "twelveMinute"  # later CIM, named with a flag
    assert rt.field("measuringPeriod").status == "later"
    assert rt.name_of("accumulation") is None
    assert rt.name_of("commodity") is None
    assert rt.name_of("unit") is None
    assert rt.name_of("currency") is None
    assert not rt.known
    assert "[macroPeriod 1001]" in rt.describe()
    assert "[unit 999]" in rt.describe()
    assert ReadingType.build(**rt.names()) == rt


def test_negative_multiplier_and_ranges() -> None:
    mv = ReadingType.parse("0.0.0.12.0.1.54.0.0.0.0.0.0.0.0.-3.29.0")
    assert mv.multiplier == -3
    assert mv.name_of("multiplier") == "m"
    assert mv.describe() == "instantaneous voltage, mV"
    assert str(ReadingType.parse("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.-0.0.0")).endswith(".0.0.0")
    with pytest.raises(CodeError, match=r"field 17 \(unit\) '-3' is not a non-negative"):
        ReadingType.parse("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.-3.0")
    with pytest.raises(CodeError, match=r"field 3 \(measuringPeriod\) 65536 is outside"):
        ReadingType.parse("0.0.65536.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0")
    with pytest.raises(CodeError, match=r"field 16 \(multiplier\) -32769 is outside"):
        ReadingType.parse("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.-32769.0.0")
    with pytest.raises(CodeError, match=r"field 16 \(multiplier\)"):
        ReadingType(multiplier=40000)
    with pytest.raises(CodeError, match=r"field 1 \(macroPeriod\) expected an integer"):
        ReadingType(macro_period=True)


def test_equality_hash_and_immutability() -> None:
    a = ReadingType.parse(KWH_15)
    b = ReadingType.parse("0.0.02.4.1.1.12.0.0.0.0.0.0.0.0.03.72.0")  # leading zeros normalise
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a.values == (0, 0, 2, 4, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 3, 72, 0)
    assert a != ReadingType.parse("11.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0")
    with pytest.raises(AttributeError):
        a.unit = 38  # type: ignore[misc]
    assert repr(a) == f"ReadingType.parse('{KWH_15}')"


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("11.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0", "daily register forward active energy, kWh"),
        (
            "0.0.0.1.1.1.12.0.0.0.0.1.0.0.0.3.72.0",
            "register forward active energy, TOU rate A, kWh",
        ),
        ("0.0.0.12.0.1.54.0.0.0.0.0.0.0.129.0.29.0", "instantaneous voltage, phase A-N, V"),
        ("0.0.2.4.2.1.12.0.0.0.0.0.0.0.0.3.73.0", "15-minute delta lagging reactive energy, kVArh"),
        ("13.0.0.9.0.0.151.0.0.0.0.0.0.0.0.0.80.840", "monthly summation bill to date, USD"),
        ("0.0.0.12.0.1.54.3.1.0.0.0.0.0.0.0.29.0", "instantaneous voltage, harmonic 3, V"),
        ("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", "unspecified reading type"),
    ],
)
def test_describe_reads_like_an_engineer(code: str, description: str) -> None:
    assert ReadingType.parse(code).describe() == description


def test_named_reading_types() -> None:
    assert str(ReadingType.named("fifteenMinuteDeltaForwardKWh")) == KWH_15
    assert len(named_reading_types()) == 16  # digest 5.1.17
    with pytest.raises(UnknownNameError, match="did you mean fifteenMinuteDeltaForwardKWh"):
        ReadingType.named("fifteenMinuteDeltaForwardKwh")


class _Model(BaseModel):
    reading_type: ReadingType


def test_pydantic_models_hold_a_reading_type_as_text() -> None:
    model = _Model.model_validate({"reading_type": KWH_15})
    assert model.reading_type == ReadingType.parse(KWH_15)
    assert model.model_dump(mode="json") == {"reading_type": KWH_15}
    assert _Model.model_validate_json(model.model_dump_json()) == model
    assert _Model(reading_type=ReadingType.parse(KWH_15)) == model
    with pytest.raises(ValidationError, match="field 3"):
        _Model.model_validate({"reading_type": "0.0.x.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"})
    assert _Model.model_json_schema()["properties"]["reading_type"]["type"] == "string"
