"""The envelope check: what is a Reply's business and what is a SOAP Fault (DECISIONS.md)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from cimmeter.message.envelope import Message, write_xml
from cimmeter.message.json import dumps
from cimmeter.message.registry import NounEntry
from cimmeter.transport.inbound import (
    EnvelopeError,
    FaultReason,
    receive,
    sniff_json,
    sniff_xml,
)
from cimmeter.xml.safe import XmlLimits
from tests.message.strategies import any_message

MSG = "http://iec.ch/TC57/2011/schema/message"
HEADER = "<Header><Verb>created</Verb><Noun>MeterReadings</Noun><MessageID>m-1</MessageID></Header>"


def generic(body: str, root: str = "EventMessage") -> bytes:
    return f'<{root} xmlns="{MSG}">{body}</{root}>'.encode()


def test_generic_event_gives_kind_and_header_fields() -> None:
    env = sniff_xml(generic(HEADER + "<Payload/>"))
    assert (env.kind, env.verb, env.noun, env.message_id) == (
        "EventMessage",
        "created",
        "MeterReadings",
        "m-1",
    )
    assert env.soap is None and env.wrapper is None


def test_typed_get_in_soap12_is_recognised() -> None:
    body = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/><s:Body>'
        '<GetMeterReadings xmlns="http://iec.ch/TC57/2011/GetMeterReadingsMessage" '
        f'xmlns:m="{MSG}"><Header><m:Verb>get</m:Verb><m:Noun>MeterReadings</m:Noun>'
        "<m:AsyncReplyFlag>true</m:AsyncReplyFlag><m:ReplyAddress>http://x/</m:ReplyAddress>"
        "</Header><Request/></GetMeterReadings></s:Body></s:Envelope>"
    ).encode()
    env = sniff_xml(body)
    assert env.soap == "1.2"
    assert env.wrapper == "GetMeterReadings" and env.is_get
    assert env.async_reply is True and env.reply_address == "http://x/"


def test_the_header_is_found_before_the_rest_of_a_broken_document() -> None:
    # Only the head is read: XML broken after the Header is the handler's to report.
    body = generic(HEADER + "<Payload><MeterReadings>") + b"<not closed"
    assert sniff_xml(body).message_id == "m-1"


@pytest.mark.parametrize(
    ("body", "reason", "text"),
    [
        (generic(HEADER)[:60], FaultReason.MALFORMED, "not well-formed"),
        (b"", FaultReason.MALFORMED, "not well-formed"),
        (
            b'<!DOCTYPE x [<!ENTITY a "b">]><x/>',
            FaultReason.MALFORMED,
            "DOCTYPE",
        ),
        (generic("<Payload/>"), FaultReason.MISSING_HEADER, "has no Header"),
        (
            generic("<Header><Verb>created</Verb></Header>"),
            FaultReason.MISSING_HEADER,
            "has no Noun",
        ),
        (
            generic("<Header><Verb> </Verb><Noun>X</Noun></Header>"),
            FaultReason.MISSING_HEADER,
            "has no Verb",
        ),
        (generic(HEADER, "Envelope"), FaultReason.UNKNOWN_OPERATION, "unknown message element"),
        (b"<MeterReadings xmlns='urn:x'/>", FaultReason.UNKNOWN_OPERATION, "unknown operation"),
        (
            b"<FrobMeterReadings xmlns='http://iec.ch/TC57/2011/MeterReadingsMessage'/>",
            FaultReason.UNKNOWN_OPERATION,
            "unknown operation FrobMeterReadings",
        ),
        (
            b"<CreatedFoo xmlns='http://iec.ch/TC57/2011/FooMessage'/>",
            FaultReason.UNKNOWN_OPERATION,
            "unknown operation CreatedFoo",
        ),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b"<s:Fault><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>",
            FaultReason.UNKNOWN_OPERATION,
            "Fault",
        ),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/>'
            b"</s:Envelope>",
            FaultReason.MALFORMED,
            "no 61968-100 message found in the SOAP Body",
        ),
    ],
)
def test_refusals_are_faults_with_a_reason(body: bytes, reason: FaultReason, text: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        sniff_xml(body)
    assert info.value.fault == reason
    assert text in str(info.value)


def test_a_typed_fault_names_its_noun_for_the_fault_wrapper() -> None:
    body = b"<CreatedMeterReadings xmlns='http://iec.ch/TC57/2011/MeterReadingsMessage'/>"
    with pytest.raises(EnvelopeError) as info:
        sniff_xml(body)
    assert info.value.fault == FaultReason.MISSING_HEADER
    assert info.value.noun == "MeterReadings"


def test_depth_and_size_limits_are_faults() -> None:
    deep = generic("<Header>" + "<a>" * 30 + "</a>" * 30 + "</Header>")
    with pytest.raises(EnvelopeError, match="deeper than 10"):
        sniff_xml(deep, XmlLimits(max_depth=10))
    with pytest.raises(EnvelopeError, match="larger than 100 bytes"):
        sniff_xml(b" " * 101 + b"<a/>", XmlLimits(max_bytes=100))


def test_json_envelopes() -> None:
    env, data = sniff_json(
        json.dumps(
            {"Header": {"Verb": "get", "Noun": "MeterReadings", "AsyncReplyFlag": True}}
        ).encode()
    )
    assert env.kind == "RequestMessage" and env.is_get and env.async_reply
    assert data["Header"]["Verb"] == "get"
    env, _ = sniff_json(b'{"Header": {"Verb": "created", "Noun": "EndDeviceEvents"}}')
    assert env.kind == "EventMessage"
    env, _ = sniff_json(b'{"Reply": {"Result": "FAILED"}}')
    assert env.kind == "FaultMessage"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", FaultReason.MALFORMED),
        (b"[1]", FaultReason.MALFORMED),
        (b'{"messageKind": "Nope", "Header": {}}', FaultReason.UNKNOWN_OPERATION),
        (b'{"Payload": {}}', FaultReason.MISSING_HEADER),
        (b'{"Header": {"Verb": "get"}}', FaultReason.MISSING_HEADER),
        (b'{"Header": {"Verb": 1, "Noun": "X"}}', FaultReason.MISSING_HEADER),
    ],
)
def test_json_refusals(body: bytes, reason: FaultReason) -> None:
    with pytest.raises(EnvelopeError) as info:
        sniff_json(body)
    assert info.value.fault == reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_message())
def test_sniff_agrees_with_the_full_reader(case: tuple[NounEntry, Message]) -> None:
    """Whatever form a message is written in, the head says what the full read says."""
    entry, message = case
    header = getattr(message, "header", None)
    forms = [
        write_xml(message),
        write_xml(message, form="typed", noun=entry.noun),
        write_xml(message, form="typed", noun=entry.noun, soap_version="1.1"),
        write_xml(message, soap_version="1.2"),
        dumps(message).encode(),
    ]
    for body in forms:
        syntax = "json" if body.startswith(b"{") else "xml"
        if header is not None and not header.noun.strip():
            # A blank Noun is allowed by the models but is no message to answer: a Fault.
            with pytest.raises(EnvelopeError) as info:
                receive(body, syntax)
            assert info.value.fault == FaultReason.MISSING_HEADER
            continue
        inbound = receive(body, syntax)
        env = inbound.envelope
        assert env.kind == message.kind
        parsed = inbound.parse().message
        assert parsed is not None and parsed.kind == message.kind
        if header is not None:
            assert env.verb == header.verb.value
            assert env.noun == header.noun
            assert env.message_id == (header.message_id or None)
            assert env.correlation_id == (header.correlation_id or None)
