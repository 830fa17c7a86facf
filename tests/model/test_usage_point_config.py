"""UsagePointConfig and GetUsagePointConfig (digest 3.7)."""

from __future__ import annotations

from cimmeter.message.envelope import RequestMessage, read_xml, write_xml
from cimmeter.model.common import NameType
from cimmeter.model.usage_point_config import (
    MetrologyRequirement,
    ServiceMultiplier,
    ServiceMultiplierName,
    UsagePoint,
    UsagePointConfig,
)
from tests.conftest import DATA

NS = "http://iec.ch/TC57/2011/UsagePointConfig#"


def test_service_multiplier_names_need_a_name_type() -> None:
    xml = f"""<UsagePointConfig xmlns="{NS}"><UsagePoint><ServiceMultipliers>
      <value>40</value><Names><name>CT 200/5</name></Names>
    </ServiceMultipliers></UsagePoint></UsagePointConfig>""".encode()
    assert read_xml(xml).errors == []  # read as it came
    strict = read_xml(xml, strict=True, collect=True).errors
    assert len(strict) == 1 and "NameType" in strict[0].message
    fixed = ServiceMultiplier(
        value=40.0, names=(ServiceMultiplierName(name="CT 200/5", name_type=NameType(name="CT")),)
    )
    doc = UsagePointConfig(usage_point=(UsagePoint(service_multipliers=(fixed,)),))
    assert read_xml(write_xml(doc), strict=True).issues == []


def test_metrology_requirement_needs_at_least_one_reading_type() -> None:
    doc = UsagePointConfig(
        usage_point=(UsagePoint(metrology_requirements=(MetrologyRequirement(),)),)
    )
    errors = read_xml(write_xml(doc), strict=True, collect=True).errors
    assert len(errors) == 1 and "ReadingTypes" in errors[0].message
    requirement = MetrologyRequirement(reading_types=("0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0",))
    assert requirement.reading_types[0].ref == "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def test_connexo_get_with_the_filter_in_payload() -> None:
    # Connexo's `get` carries a UsagePointConfig as the filter in Payload (digest 3.7.2).
    message = read_xml(DATA / "connexo" / "get-UsagePointConfig.xml").message
    assert isinstance(message, RequestMessage) and message.header.verb == "get"
    assert message.query is None
    assert isinstance(message.document, UsagePointConfig)
    assert [n.name for n in message.document.usage_point[0].names] == ["UP-1002"]


def test_query_less_get_as_in_the_smencim_template() -> None:
    xml = b"""<GetUsagePointConfig xmlns="http://iec.ch/TC57/2011/GetUsagePointConfigMessage"
      xmlns:msg="http://iec.ch/TC57/2011/schema/message">
      <Header><msg:Verb>get</msg:Verb><msg:Noun>UsagePointConfig</msg:Noun></Header>
      <Request><StartTime>2024-01-01T00:00:00Z</StartTime><ID>UP-1001</ID></Request>
    </GetUsagePointConfig>"""
    result = read_xml(xml)
    assert result.issues == []
    assert isinstance(result.message, RequestMessage)
    assert result.message.query is None and result.message.request is not None
    assert [i.value for i in result.message.request.ids] == ["UP-1001"]
