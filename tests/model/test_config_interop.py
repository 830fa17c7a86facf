"""The configuration nouns against the public vendor schemas (digest 3.6-3.8).

The vendor XSDs are read from the shared folder (never copied into the product):
- our profile schemas have the vendor's structure element by element (names, order, types,
  cardinalities), except the documented deviations and the vendor's own extensions;
- documents and messages we write validate against the vendor schemas;
- Connexo-style messages with vendor extensions are read without errors, keep the extensions
  and are written back as they came (and still validate against Connexo's schemas).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from cimmeter.message.envelope import RequestMessage, read_xml, write_xml
from cimmeter.model.base import CimDocument
from cimmeter.model.end_device_config import EndDeviceConfig
from cimmeter.model.get_meter_config import GetMeterConfig
from cimmeter.model.master_data_linkage_config import MasterDataLinkageConfig
from cimmeter.model.meter_config import MeterConfig
from cimmeter.model.usage_point_config import UsagePointConfig
from cimmeter.xml.validation import XSD_DIR
from tests.conftest import DATA, shared_dir
from tests.message.strategies import document_strategy
from tests.model.xsd_structure import is_subsequence, structure

VENDOR = Path("reference/vendor-xsd")

# (vendor profile file, our profile): the vendor copies that share our structure (digest 0.2).
PROFILES = [
    ("smencim/MeterConfig/MeterConfig.xsd", "MeterConfig"),
    ("connexo/MeterConfig/MeterConfig.xsd", "MeterConfig"),
    ("connexo/MeterConfig/GetMeterConfig.xsd", "GetMeterConfig"),
    ("connexo/EndDeviceConfig/EndDeviceConfig.xsd", "EndDeviceConfig"),
    ("smencim/UsagePointConfig/UsagePointConfig.xsd", "UsagePointConfig"),
    ("connexo/UsagePointConfig/UsagePointConfig.xsd", "UsagePointConfig"),
    ("connexo/MasterDataLinkageConfig/MasterDataLinkageConfig.xsd", "MasterDataLinkageConfig"),
]

# Vendor additions that are not part of the 61968-9 profiles: kept as extensions by readers.
VENDOR_EXTENSIONS = {
    "connexo/MeterConfig/MeterConfig.xsd": {
        "/MeterConfig/MeterStatusSource",
        "/MeterConfig/Ping",
        "/MeterConfig/Meter/PingResult",
        "/MeterConfig/Meter/MeterStatus",
        "/MeterConfig/Meter/MeterCustomAttributeSet",
        "/MeterConfig/Meter/ConnectionAttributes",
        "/MeterConfig/Meter/SecurityKeys",
        "/MeterConfig/Meter/TimeSeriesCustomAttributeSet",
        "/MeterConfig/Meter/SharedCommunicationSchedules",
        "/MeterConfig/SimpleEndDeviceFunction/Zones",
    },
    "connexo/EndDeviceConfig/EndDeviceConfig.xsd": {
        "/EndDeviceConfig/EndDevice/MeterCustomAttributeSet",
        "/EndDeviceConfig/EndDevice/TimeSeriesCustomAttributeSet",
    },
    "connexo/UsagePointConfig/UsagePointConfig.xsd": {
        "/UsagePointConfig/UsagePoint/status",
        "/UsagePointConfig/UsagePoint/CustomAttributeSet",
    },
    "connexo/MasterDataLinkageConfig/MasterDataLinkageConfig.xsd": {
        "/MasterDataLinkageConfig/Meter/role",
        "/MasterDataLinkageConfig/Meter/ReadingTypeMapping",
    },
}

# The device's function refs are one repeated xs:choice in the profile; we declare three lists
# in that place (see cimmeter.model.meter_config.Meter): same instances when written grouped.
REPEATED_CHOICE = {
    f"/{root}/{device}/{ref}"
    for root, device in (("MeterConfig", "Meter"), ("EndDeviceConfig", "EndDevice"))
    for ref in ("ComFunction", "ConnectDisconnectFunction", "SimpleEndDeviceFunction")
}

# The typed message schema of each noun, for messages we write.
WRAPPERS = {
    "MeterConfig": ["connexo/MeterConfig/MeterConfigMessage.xsd"],
    "EndDeviceConfig": ["connexo/EndDeviceConfig/EndDeviceConfigMessage.xsd"],
    "UsagePointConfig": [
        "connexo/UsagePointConfig/UsagePointConfigMessage.xsd",
        "smencim/UsagePointConfig/UsagePointConfigMessage.xsd",
    ],
    "MasterDataLinkageConfig": [
        "connexo/MasterDataLinkageConfig/MasterDataLinkageConfigMessage.xsd"
    ],
}


@cache
def vendor_schema(relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(shared_dir() / VENDOR / relative)))


def _our_samples(noun: str) -> list[Path]:
    return sorted(DATA.glob(f"*-{noun}.*xml"))


def _outermost(paths: set[str]) -> set[str]:
    return {p for p in paths if not any(p.startswith(q + "/") for q in paths if q != p)}


@pytest.mark.parametrize(("vendor", "profile"), PROFILES)
def test_our_profile_schema_has_the_vendor_structure(
    shared: Path, vendor: str, profile: str
) -> None:
    theirs = structure(shared / VENDOR / vendor, profile)
    ours = structure(XSD_DIR / f"{profile}.xsd", profile)
    for path, node in ours.nodes.items():
        assert path in theirs.nodes, f"{path} is not in {vendor}"
        expected = theirs.nodes[path]
        if path in REPEATED_CHOICE:
            assert expected.card == f"{node.card}(choice)", path
            assert expected.type == node.type, path
        else:
            assert expected == node, path
    for path, names in ours.children.items():
        assert is_subsequence(names, theirs.children[path]), f"order of {path}"
    extra = _outermost(set(theirs.nodes) - set(ours.nodes))
    assert extra == VENDOR_EXTENSIONS.get(vendor, set())


@cache
def _vendor_profile_schema(profile: str) -> list[etree.XMLSchema]:
    return [vendor_schema(v) for v, p in PROFILES if p == profile]


@pytest.mark.parametrize(
    "cls",
    [MeterConfig, GetMeterConfig, EndDeviceConfig, UsagePointConfig, MasterDataLinkageConfig],
    ids=lambda c: c.profile,
)
def test_generated_documents_validate_against_the_vendor_schemas(
    shared: Path, cls: type[CimDocument]
) -> None:
    schemas = _vendor_profile_schema(cls.profile)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(document_strategy(cls))
    def check(document: CimDocument) -> None:
        element = etree.fromstring(write_xml(document))
        for schema in schemas:
            assert schema.validate(element), str(schema.error_log)

    check()


@pytest.mark.parametrize(
    ("noun", "sample"),
    [(noun, p) for noun in WRAPPERS for p in _our_samples(noun)],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_messages_we_write_validate_against_the_vendor_wrappers(
    shared: Path, noun: str, sample: Path
) -> None:
    message = read_xml(sample, strict=True).message
    assert message is not None
    is_get = isinstance(message, RequestMessage) and message.header.verb == "get"
    # Vendors declare Get differently (digest 2.1.3): only its generic form is common ground.
    forms = ["generic"] if is_get else ["generic", "typed"]
    for relative in WRAPPERS[noun]:
        schema = vendor_schema(relative)
        for form in forms:
            element = etree.fromstring(write_xml(message, form=form))  # type: ignore[arg-type]
            assert schema.validate(element), f"{relative} ({form}): {schema.error_log}"


def _canonical(data: bytes) -> str:
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=True)
    root = etree.fromstring(data.split(b"?>", 1)[1], parser)
    return etree.canonicalize(root, rewrite_prefixes=True, strip_text=True)


# Connexo-style samples and the Connexo schema they are valid against.
CONNEXO_SAMPLES = {
    "connexo/create-MeterConfig.xml": "connexo/MeterConfig/MeterConfigMessage.xsd",
    "connexo/get-MeterConfig.xml": "connexo/MeterConfig/MeterConfigMessage.xsd",
    "connexo/created-EndDeviceConfig.xml": ("connexo/EndDeviceConfig/EndDeviceConfigMessage.xsd"),
    "connexo/create-UsagePointConfig.xml": ("connexo/UsagePointConfig/UsagePointConfigMessage.xsd"),
    "connexo/get-UsagePointConfig.xml": ("connexo/UsagePointConfig/UsagePointConfigMessage.xsd"),
    "connexo/created-MasterDataLinkageConfig.xml": (
        "connexo/MasterDataLinkageConfig/MasterDataLinkageConfigMessage.xsd"
    ),
}
# Connexo declares `Get<Noun>` in `<Noun>Message` with the ordinary request type (digest 2.1.3);
# we write Get in `Get<Noun>Message`, so for these only the generic form is written back.
CONNEXO_GET = {"connexo/get-MeterConfig.xml", "connexo/get-UsagePointConfig.xml"}


def test_every_connexo_sample_of_these_nouns_is_listed() -> None:
    found = {f"connexo/{p.name}" for noun in WRAPPERS for p in DATA.glob(f"connexo/*-{noun}.xml")}
    assert found == set(CONNEXO_SAMPLES)


@pytest.mark.parametrize(("sample", "vendor"), CONNEXO_SAMPLES.items())
def test_connexo_samples_keep_their_extensions_and_write_back(
    shared: Path, sample: str, vendor: str
) -> None:
    data = (DATA / sample).read_bytes()
    schema = vendor_schema(vendor)
    assert schema.validate(etree.fromstring(data)), schema.error_log
    result = read_xml(data)
    assert result.errors == []
    # Only the vendor's additions are reported (and Connexo's Header Noun misspelling).
    assert all(
        "kept as an extension" in w.message or "Header Noun" in w.message for w in result.warnings
    )
    assert result.message is not None
    if sample in CONNEXO_GET:
        written = write_xml(result.message)
        assert schema.validate(etree.fromstring(written)), schema.error_log
        assert read_xml(written).message == result.message
        return
    written = write_xml(result.message, form="typed")
    assert schema.validate(etree.fromstring(written)), schema.error_log
    assert _canonical(written) == _canonical(data)
