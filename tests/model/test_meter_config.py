"""MeterConfig and GetMeterConfig: the facts of digest 3.6.1-3.6.2 that are easy to get wrong."""

from __future__ import annotations

from datetime import date, time

from lxml import etree

from cimmeter.message.envelope import read_xml, write_xml
from cimmeter.model.common import ElectronicAddress, Name
from cimmeter.model.get_meter_config import GetMeterConfig
from cimmeter.model.get_meter_config import Meter as QueryMeter
from cimmeter.model.meter_config import (
    ComFunctionRef,
    EndDeviceInfo,
    Meter,
    MeterConfig,
    MeterMultiplier,
    SimpleEndDeviceFunctionRef,
)
from tests.conftest import DATA

NS = "http://iec.ch/TC57/2011/MeterConfig#"


def _children(xml: bytes, path: str) -> list[str]:
    element = etree.fromstring(xml).find(path, {"m": NS})
    assert element is not None
    return [etree.QName(c).localname for c in element]


def test_meter_children_follow_the_profile_order() -> None:
    meter = Meter(
        mrid="m1",
        serial_number="S1",
        names=(Name(name="S1"),),
        meter_multipliers=(MeterMultiplier(value=1.0),),
        end_device_info=EndDeviceInfo(phase_count=3),
        simple_end_device_functions=(SimpleEndDeviceFunctionRef(ref="f2"),),
        com_functions=(ComFunctionRef(ref="f1"),),
        electronic_address=ElectronicAddress(mac="00:01"),
    )
    xml = write_xml(MeterConfig(meter=(meter,)))
    assert _children(xml, "m:Meter") == [
        "mRID",
        "serialNumber",
        "electronicAddress",
        "ComFunction",  # the function refs sit between electronicAddress and EndDeviceInfo
        "SimpleEndDeviceFunction",
        "EndDeviceInfo",
        "MeterMultipliers",  # before Names: alphabetical ignoring case (digest 2.2.2)
        "Names",
    ]
    assert read_xml(xml, strict=True).issues == []


def test_interleaved_function_refs_are_all_kept_with_an_order_warning() -> None:
    # The profile's repeated choice allows any order; the model groups them (module doc).
    xml = f"""<MeterConfig xmlns="{NS}"><Meter>
      <SimpleEndDeviceFunction ref="s1"/><ComFunction ref="c1"/><SimpleEndDeviceFunction ref="s2"/>
    </Meter></MeterConfig>""".encode()
    result = read_xml(xml)
    assert result.errors == []
    assert [w.path for w in result.warnings] == ["/MeterConfig/Meter[1]/ComFunction"]
    meter = result.document.meter[0]  # type: ignore[union-attr]
    assert [r.ref for r in meter.simple_end_device_functions] == ["s1", "s2"]
    assert [r.ref for r in meter.com_functions] == ["c1"]
    written = write_xml(result.document)  # type: ignore[arg-type]
    assert _children(written, "m:Meter") == ["ComFunction"] + ["SimpleEndDeviceFunction"] * 2
    assert read_xml(written, strict=True).issues == []


def test_lifecycle_is_xs_date_and_tou_tier_is_xs_time() -> None:
    result = read_xml(DATA / "create-MeterConfig.xml")
    config = result.document
    assert isinstance(config, MeterConfig)
    assert config.meter[0].lifecycle is not None
    assert config.meter[0].lifecycle.installation_date == date(2024, 3, 4)
    tier = config.simple_end_device_function[0].registers[0].tou_tier
    assert tier is not None and (tier.start, tier.end) == (time(7), time(22))
    bad = f"""<MeterConfig xmlns="{NS}"><Meter><lifecycle>
      <installationDate>2024-03-04T00:00:00Z</installationDate></lifecycle></Meter></MeterConfig>"""
    errors = read_xml(bad.encode(), collect=True).errors
    assert [(e.path, e.expected) for e in errors] == [
        (
            "/MeterConfig/Meter[1]/lifecycle/installationDate",
            "an xs:date such as 2024-03-01",
        )
    ]


def test_get_meter_config_names_meters_and_what_they_are_linked_to() -> None:
    message = read_xml(DATA / "get-MeterConfig.xml", strict=True).message
    query = message.query  # type: ignore[union-attr]
    assert isinstance(query, GetMeterConfig)
    assert query.meter[0] == QueryMeter(mrid="8a3f2c9e-6d41-4e0b-9a51-0c2a7d9e1f01")
    assert query.meter[1].amr_system == "HES-1"
    assert [n.name for n in query.usage_point[0].names] == ["UP-1001"]
    assert message.payload is None  # type: ignore[union-attr]  # the query is never in Payload
