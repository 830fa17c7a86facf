"""MasterDataLinkageConfig (digest 3.8.1, 4.14)."""

from __future__ import annotations

from datetime import UTC, datetime

from cimmeter.message.envelope import read_xml
from cimmeter.model.master_data_linkage_config import MasterDataLinkageConfig
from tests.conftest import DATA

NS = "http://iec.ch/TC57/2011/MasterDataLinkageConfig#"


def test_connexo_header_noun_misspelling_is_one_warning() -> None:
    result = read_xml(DATA / "connexo" / "created-MasterDataLinkageConfig.xml")
    noun = [w for w in result.warnings if "Header Noun" in w.message]
    assert [w.expected for w in noun] == ["MasterDataLinkageConfig"]
    assert noun[0].path is not None and noun[0].path.endswith("/Header/Noun")
    assert isinstance(result.document, MasterDataLinkageConfig)


def test_close_names_the_links_and_their_end() -> None:
    message = read_xml(DATA / "close-MasterDataLinkageConfig.xml").message
    assert message is not None and message.header.verb == "close"  # type: ignore[attr-defined]
    links = message.document
    assert isinstance(links, MasterDataLinkageConfig)
    assert links.configuration_event is not None
    assert links.configuration_event.effective_date_time == datetime(2024, 9, 30, 22, tzinfo=UTC)
    agreement = links.customer_agreement[0].names[0]
    assert agreement.name_type is not None and agreement.name_type.name == "ContractNumber"
    assert links.usage_point[0].mrid == "d4f6a8c0-2e3b-4d5f-9a7c-1e3a5c7e0311"


def test_configuration_event_is_singular() -> None:
    xml = f"""<MasterDataLinkageConfig xmlns="{NS}">
      <ConfigurationEvent><reason>a</reason></ConfigurationEvent>
      <ConfigurationEvent><reason>b</reason></ConfigurationEvent>
    </MasterDataLinkageConfig>""".encode()
    result = read_xml(xml, collect=True)
    assert [(e.path, e.expected) for e in result.errors] == [
        ("/MasterDataLinkageConfig/ConfigurationEvent", "at most one")
    ]
