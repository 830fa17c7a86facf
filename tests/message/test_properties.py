"""Round-trip properties for every message type of every registered noun (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cimmeter.message import json as cim_json
from cimmeter.message.envelope import read_xml, write_xml
from cimmeter.message.registry import NounEntry
from cimmeter.model.base import CimDocument
from tests.message.strategies import any_document, any_message

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _c14n(data: bytes) -> str:
    return etree.canonicalize(data.decode("utf-8").split("?>", 1)[1])


@SETTINGS
@given(
    any_message(extensions=True),
    st.sampled_from(["generic", "typed"]),
    st.sampled_from([None, "1.1", "1.2"]),
)
def test_message_object_to_xml_to_object(case, form, soap) -> None:  # type: ignore[no-untyped-def]
    entry, message = case
    result = read_xml(
        write_xml(message, form=form, soap_version=soap, noun=entry.noun), collect=True
    )
    assert result.errors == []
    assert result.message == message


@SETTINGS
@given(any_message(extensions=True))
def test_message_xml_to_json_to_xml_keeps_the_infoset(case: tuple[NounEntry, object]) -> None:
    _, message = case
    xml = write_xml(message, pretty=False)  # type: ignore[arg-type]
    read = read_xml(xml).root
    again = cim_json.loads(cim_json.dumps(read))
    assert _c14n(write_xml(again, pretty=False)) == _c14n(xml)


@SETTINGS
@given(any_message(extensions=False), st.sampled_from(["generic", "typed"]))
def test_generated_messages_validate_against_our_xsd(case, form) -> None:  # type: ignore[no-untyped-def]
    entry, message = case
    result = read_xml(write_xml(message, form=form, noun=entry.noun), strict=True, collect=True)
    assert result.errors == []


@SETTINGS
@given(any_document(extensions=True))
def test_document_round_trips_xml_and_json(document: CimDocument) -> None:
    xml = write_xml(document, pretty=False)
    assert read_xml(xml, collect=True).document == document
    assert cim_json.loads(cim_json.dumps(document)) == document
    assert _c14n(write_xml(cim_json.loads(cim_json.dumps(document)), pretty=False)) == _c14n(xml)


@SETTINGS
@given(any_document(extensions=False))
def test_generated_documents_validate_against_our_xsd(document: CimDocument) -> None:
    assert read_xml(write_xml(document), strict=True, collect=True).errors == []
