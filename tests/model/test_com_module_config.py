"""ComModuleConfig (digest 3.6.4, V-weak; namespace and cardinalities M)."""

from __future__ import annotations

from cimmeter.message.envelope import read_xml, write_xml
from cimmeter.message.registry import REGISTRY
from cimmeter.model.com_module_config import ComModule, ComModuleConfig
from cimmeter.model.meter_config import ComFunction, ComFunctionRef
from tests.conftest import DATA


def test_module_refers_to_root_functions_through_com_functions() -> None:
    config = ComModuleConfig(
        com_function=(ComFunction(mrid="cf1", technology="cellular"),),
        com_module=(ComModule(mrid="cm1", com_functions=(ComFunctionRef(ref="cf1"),)),),
    )
    xml = write_xml(config).decode()
    assert '<ComFunctions ref="cf1"/>' in xml  # plural here, unlike Meter's ComFunction refs
    assert 'xmlns="http://iec.ch/TC57/2011/ComModuleConfig#"' in xml  # digest 3.6.4 (M)
    assert read_xml(xml.encode(), strict=True).document == config


def test_sample_activity_record_carries_mrid_and_names() -> None:
    config = read_xml(DATA / "create-ComModuleConfig.xml").document
    assert isinstance(config, ComModuleConfig)
    record = config.com_module[0].activity_records[0]
    assert (record.mrid, [n.name for n in record.names]) == ("ar-5501-1", ["GR-2024-0506"])
    assert REGISTRY.noun("ComModuleConfig").gettable
