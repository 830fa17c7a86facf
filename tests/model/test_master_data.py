"""The master-data nouns (digest 3.8.2-3.8.4, 3.9): samples, round trips, extensions, aliases.

Every noun here has a hand-written sample per message type in `tests/data/<Noun>/` (create,
created, get, reply; several forms: generic, typed, SOAP 1.1/1.2). The hypothesis properties
below run the framework's generic strategies on these nouns only, so that each of them gets
examples (the suite-wide properties spread theirs over every noun).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cimmeter.message import json as cim_json
from cimmeter.message.envelope import (
    EventMessage,
    Header,
    Payload,
    RequestMessage,
    read_xml,
    write_xml,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.model.customer_agreement_config import CustomerAgreement
from cimmeter.model.end_device_groups import EndDeviceGroups
from cimmeter.model.meter_service_requests import (
    Meter,
    MeterServiceRequests,
    MeterServiceWork,
    UsagePoint,
    WorkKind,
)
from cimmeter.model.service_location_config import ServiceLocation
from cimmeter.model.usage_point_groups import UsagePointGroup
from cimmeter.xml.codec import plan_of
from tests.message.strategies import messages_of

DATA = Path(__file__).resolve().parents[1] / "data"
NOUNS = (
    "MeterServiceRequests",
    "EndDeviceGroups",
    "UsagePointGroups",
    "ServiceLocationConfig",
    "UsagePointLocationConfig",
    "ServiceCategoryConfig",
    "ServiceSupplierConfig",
    "CustomerConfig",
    "CustomerAccountConfig",
    "CustomerAgreementConfig",
    "PricingStructureConfig",
)
MESSAGE_TYPES = ("create", "created", "get", "reply")
SAMPLES = [DATA / noun / f"{kind}.xml" for noun in NOUNS for kind in MESSAGE_TYPES]
ENTRIES = [REGISTRY.noun(noun) for noun in NOUNS]
JSON_SCHEMA = jsonschema.Draft202012Validator(cim_json.json_schema())


def _c14n(data: bytes) -> str:
    return etree.canonicalize(data.decode("utf-8").split("?>", 1)[1])


def _children(xml: bytes, path: str) -> list[str]:
    """Local names of the children of the first element whose local name is `path`."""
    root = etree.fromstring(xml)
    element = next(e for e in root.iter() if etree.QName(e).localname == path)
    return [etree.QName(c).localname for c in element]


# -- hand-written samples ------------------------------------------------------------------------


def test_every_noun_has_a_sample_per_message_type() -> None:
    for noun in NOUNS:
        assert sorted(p.stem for p in (DATA / noun).glob("*.xml")) == sorted(MESSAGE_TYPES)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_sample_validates_and_round_trips(path: Path) -> None:
    noun, verb = path.parent.name, path.stem
    result = read_xml(path, strict=True, collect=True)
    assert result.issues == []
    message = result.message
    assert message is not None
    header: Header = message.header
    assert (header.noun, header.verb.value) == (noun, verb)
    entry = REGISTRY.noun(noun)
    if verb == "get":
        assert isinstance(message, RequestMessage) and message.document is None
    else:
        assert isinstance(message.document, entry.payload)

    # object -> XML -> object, in the form and SOAP version the sample came in
    form = "typed" if result.form == "typed" else "generic"
    again = read_xml(write_xml(message, form=form, soap_version=result.soap), strict=True)
    assert again.issues == [] and again.message == message
    # XML -> JSON -> XML keeps the infoset
    xml = write_xml(message, pretty=False)
    assert cim_json.loads(cim_json.dumps(message)) == message
    assert _c14n(write_xml(cim_json.loads(cim_json.dumps(message)), pretty=False)) == _c14n(xml)
    JSON_SCHEMA.validate(json.loads(cim_json.dumps(message)))


# -- properties on these nouns (the framework's generic strategies) ------------------------------

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MASTER_MESSAGES = st.sampled_from(ENTRIES).flatmap(
    lambda e: messages_of(e, extensions=True).map(lambda m: (e, m))
)
MASTER_MESSAGES_PLAIN = st.sampled_from(ENTRIES).flatmap(
    lambda e: messages_of(e, extensions=False).map(lambda m: (e, m))
)


@SETTINGS
@given(MASTER_MESSAGES, st.sampled_from(["generic", "typed"]), st.sampled_from([None, "1.1"]))
def test_master_data_object_to_xml_to_object(case, form, soap) -> None:  # type: ignore[no-untyped-def]
    entry, message = case
    data = write_xml(message, form=form, soap_version=soap, noun=entry.noun)
    result = read_xml(data, collect=True)
    assert result.errors == []
    assert result.message == message


@SETTINGS
@given(MASTER_MESSAGES)
def test_master_data_xml_to_json_to_xml(case) -> None:  # type: ignore[no-untyped-def]
    _, message = case
    xml = write_xml(message, pretty=False)
    again = cim_json.loads(cim_json.dumps(read_xml(xml).root))
    assert _c14n(write_xml(again, pretty=False)) == _c14n(xml)


@SETTINGS
@given(MASTER_MESSAGES_PLAIN, st.sampled_from(["generic", "typed"]))
def test_generated_master_data_validates_against_our_xsd(case, form) -> None:  # type: ignore[no-untyped-def]
    entry, message = case
    result = read_xml(write_xml(message, form=form, noun=entry.noun), strict=True, collect=True)
    assert result.errors == []


# -- unknown elements, aliases, required elements ------------------------------------------------


def test_unknown_elements_are_kept_and_written_back_in_place() -> None:
    path = DATA / "MeterServiceRequests" / "lenient" / "epri-2011-shape.xml"
    result = read_xml(path)
    unknown = sorted(i.path for i in result.warnings if "unknown element" in i.message)
    assert unknown == [
        "/CreateMeterServiceRequests/Payload/MeterServiceRequests/Header",
        "/CreateMeterServiceRequests/Payload/MeterServiceRequests/MeterServiceWork[1]/Meter/crew",
    ]
    document = result.document
    assert isinstance(document, MeterServiceRequests)
    meter = document.meter_service_work[0].meter
    assert meter is not None and meter.serial_number == "SN-0001"

    written = write_xml(result.root, form="typed")
    # the nested Header stays first in the root, the vendor element after serialNumber
    assert _children(written, "MeterServiceRequests") == ["Header", "MeterServiceWork"]
    assert _children(written, "Meter") == ["mRID", "serialNumber", "crew"]
    assert b"<n1:Noun" in written and b">MeterServiceRequest<" in written
    assert read_xml(written).message == result.message


def test_unknown_element_in_a_group_is_kept_where_it_was() -> None:
    xml = b"""<EndDeviceGroups xmlns="http://iec.ch/TC57/2011/EndDeviceGroups#">
      <EndDeviceGroup>
        <mRID>g1</mRID>
        <type>transformer</type>
        <EndDevices><mRID>d1</mRID></EndDevices>
      </EndDeviceGroup>
    </EndDeviceGroups>"""
    result = read_xml(xml)
    assert [i.path for i in result.warnings] == ["/EndDeviceGroups/EndDeviceGroup[1]/type"]
    document = result.document
    assert isinstance(document, EndDeviceGroups)
    assert document.end_device_group[0].end_devices[0].mrid == "d1"
    written = write_xml(document)
    assert _children(written, "EndDeviceGroup") == ["mRID", "type", "EndDevices"]
    assert read_xml(written).document == document


def test_the_singular_noun_is_accepted_and_the_plural_emitted() -> None:
    """digest 1.2: `MeterServiceRequest` is seen as Noun, wrapper noun and root."""
    assert REGISTRY.noun("MeterServiceRequest") is REGISTRY.noun("MeterServiceRequests")
    document = MeterServiceRequests(
        meter_service_work=(MeterServiceWork(kind=WorkKind.reconnect, meter=Meter(mrid="m1")),)
    )
    event = EventMessage(
        header=Header(verb="created", noun="MeterServiceRequest"),
        payload=Payload(document=document),
    )
    generic = read_xml(write_xml(event))
    assert generic.warnings == []  # the alias is not a Noun mismatch
    assert generic.message == event

    typed = write_xml(event, form="typed").decode()
    assert "<CreatedMeterServiceRequests" in typed  # we emit the plural
    singular = typed.replace("CreatedMeterServiceRequests", "CreatedMeterServiceRequest").replace(
        "2011/MeterServiceRequestsMessage", "2011/MeterServiceRequestMessage"
    )
    assert read_xml(singular.encode()).message == event

    bare = write_xml(document).decode().replace("MeterServiceRequests", "MeterServiceRequest")
    read = read_xml(bare.encode())
    assert read.document == document
    assert [w.message for w in read.warnings] == [
        "MeterServiceRequest read as MeterServiceRequests (digest 2.1.1)"
    ]


def test_a_work_order_without_its_meter_reads_leniently_and_fails_strictly() -> None:
    xml = b"""<MeterServiceRequests xmlns="http://iec.ch/TC57/2011/MeterServiceRequests#">
      <MeterServiceWork><kind>disconnect</kind></MeterServiceWork>
    </MeterServiceRequests>"""
    lenient = read_xml(xml)
    assert isinstance(lenient.document, MeterServiceRequests)
    assert lenient.document.meter_service_work[0].meter is None
    strict = read_xml(xml, strict=True, collect=True)
    assert [e.path for e in strict.errors] == ["/MeterServiceRequests/MeterServiceWork"]
    assert "Meter" in strict.errors[0].message


# -- element order (digest 2.2.2): the facts of the sources, written out -------------------------


def _elements(cls: type) -> list[str]:
    return [f.xml for f in plan_of(cls).fields if f.kind == "element"]


def test_service_location_order_is_the_smencim_order() -> None:
    assert _elements(ServiceLocation) == [
        "mRID",
        "accessMethod",
        "direction",
        "geoInfoReference",
        "needsInspection",
        "siteAccessProblem",
        "type",
        "ConfigurationEvents",
        "CoordinateSystem",
        "electronicAddress",
        "mainAddress",
        "Names",
        "phone1",
        "phone2",
        "PositionPoints",
        "secondaryAddress",
        "status",
    ]


def test_usage_point_group_members_come_after_names() -> None:
    assert _elements(UsagePointGroup) == ["mRID", "DemandResponsePrograms", "Names", "UsagePoints"]


def test_meter_service_work_order_with_our_identity_in_cimtool_places() -> None:
    # source (V-weak): kind .. type, ActivityRecords, Customers, Meter, OldMeter, status,
    # UsagePoint; mRID and Names are ours (M), placed by the CIMTool rule.
    assert _elements(MeterServiceWork) == [
        "mRID",
        "kind",
        "lastModifiedDateTime",
        "priority",
        "requestDateTime",
        "type",
        "ActivityRecords",
        "Customers",
        "Meter",
        "Names",
        "OldMeter",
        "status",
        "UsagePoint",
    ]
    assert _elements(UsagePoint)[0] == "mRID"
    assert _elements(UsagePoint)[-3:] == ["Names", "ServiceLocation", "ServiceMultipliers"]


def test_reconstructed_customer_agreement_follows_the_cimtool_rule() -> None:
    """digest 3.9.5 (M): mRID, simple attributes alphabetically, then the rest ignoring case."""
    elements = _elements(CustomerAgreement)
    simple = [f.xml for f in plan_of(CustomerAgreement).fields if f.scalar is not None]
    compound = elements[len(simple) :]
    assert simple[0] == "mRID" and simple[1:] == sorted(simple[1:])
    assert compound == sorted(compound, key=str.casefold)
