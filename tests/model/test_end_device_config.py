"""EndDeviceConfig: the differences from MeterConfig (digest 3.6.3)."""

from __future__ import annotations

from cimmeter.message.envelope import read_xml
from cimmeter.model.end_device_config import EndDeviceConfig, Seal

NS = "http://iec.ch/TC57/2011/EndDeviceConfig#"


def test_seal_number_is_required_and_a_seal_has_no_mrid() -> None:
    xml = f"""<EndDeviceConfig xmlns="{NS}"><EndDevice>
      <Seals><mRID>s-1</mRID><kind>lead</kind></Seals>
    </EndDevice></EndDeviceConfig>""".encode()
    lenient = read_xml(xml)
    assert lenient.errors == []  # a missing soft-required element does not sink the document
    seal = lenient.document.end_device[0].seals[0]  # type: ignore[union-attr]
    assert (seal.kind, seal.seal_number) == ("lead", None)
    assert [w.path for w in lenient.warnings] == ["/EndDeviceConfig/EndDevice[1]/Seals[1]/mRID"]
    strict = read_xml(xml, strict=True, collect=True)
    assert any("sealNumber" in e.message for e in strict.errors)
    assert Seal.model_fields["seal_number"].alias == "sealNumber"


def test_end_device_has_pan_fields_but_no_meter_fields() -> None:
    xml = f"""<EndDeviceConfig xmlns="{NS}"><EndDevice>
      <mRID>d1</mRID><formNumber>2S</formNumber><installCode>A1B2</installCode><isPan>true</isPan>
      <MeterMultipliers><value>2</value></MeterMultipliers>
    </EndDevice></EndDeviceConfig>""".encode()
    result = read_xml(xml)
    device = result.document.end_device[0]  # type: ignore[union-attr]
    assert (device.install_code, device.is_pan) == ("A1B2", True)
    assert {w.path.rsplit("/", 1)[1] for w in result.warnings} == {
        "formNumber",
        "MeterMultipliers",
    }
    assert len(device.extensions) == 2
    assert isinstance(result.document, EndDeviceConfig)
