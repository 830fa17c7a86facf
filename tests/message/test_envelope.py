"""The 61968-100 envelope: reading every accepted form, writing generic/typed/SOAP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cimmeter.message.envelope import (
    ID,
    EventMessage,
    FaultMessage,
    Header,
    Option,
    Payload,
    Reply,
    Request,
    RequestMessage,
    ResponseMessage,
    UnknownRootError,
    compress_document,
    decompress_payload,
    read_xml,
    write_xml,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.get_meter_readings import EndDevice, GetMeterReadings
from cimmeter.model.meter_readings import (
    IntervalBlock,
    IntervalReading,
    Meter,
    MeterReading,
    MeterReadings,
)
from cimmeter.xml.errors import XmlSecurityError
from cimmeter.xml.issues import DocumentError

T = datetime(2024, 3, 1, 0, 15, tzinfo=UTC)
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
MR = MeterReadings(
    meter_reading=(
        MeterReading(
            meter=Meter(mrid="m1"),
            interval_blocks=(
                IntervalBlock(
                    interval_readings=(IntervalReading(time_stamp=T, value="1.5"),),
                    reading_type=RT,
                ),
            ),
        ),
    )
)
EVENT = EventMessage(
    header=Header(verb=Verb.created, noun="MeterReadings", message_id="1"),
    payload=Payload(document=MR),
)
GET = RequestMessage(
    header=Header(verb="get", noun="MeterReadings"),
    request=Request(
        start_time=T,
        options=(Option(name="series", value="raw"),),
        ids=(ID(value="x", kind="uuid"),),
        query=GetMeterReadings(end_device=(EndDevice(mrid="d1"),)),
    ),
)


@pytest.mark.parametrize("message", [EVENT, GET])
@pytest.mark.parametrize("form", ["generic", "typed"])
@pytest.mark.parametrize("soap", [None, "1.1", "1.2"])
def test_every_written_form_reads_back_equal_and_valid(message, form, soap) -> None:  # type: ignore[no-untyped-def]
    data = write_xml(message, form=form, soap_version=soap)
    result = read_xml(data, strict=True)
    assert result.issues == []
    assert result.message == message
    assert result.form == form and result.soap == soap


def test_typed_wrappers_use_the_wrapper_namespaces() -> None:
    event = write_xml(EVENT, form="typed").decode()
    assert '<CreatedMeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadingsMessage"' in event
    assert "<msg:Verb>created</msg:Verb>" in event
    get = write_xml(GET, form="typed").decode()
    assert 'xmlns="http://iec.ch/TC57/2011/GetMeterReadingsMessage"' in get
    # Get<Noun>: the Request children are in the Get wrapper namespace, Option's children msg:
    assert "<StartTime>" in get and "<msg:name>series</msg:name>" in get
    assert get.index("<ID") < get.index(
        '<GetMeterReadings xmlns="http://iec.ch/TC57/2011/GetMeterReadings#"'
    )


def test_response_always_written_as_reply_and_read_by_root_not_verb() -> None:
    response = ResponseMessage(
        header=Header(verb="created", noun="MeterReadings"), reply=Reply(result="OK")
    )
    result = read_xml(write_xml(response))
    assert isinstance(result.message, ResponseMessage)
    assert result.warnings == []  # any verb is accepted on a response (digest 6.6)


def test_fault_message_has_no_header_and_typed_form_needs_a_noun() -> None:
    fault = FaultMessage(reply=Reply(result="FAILED"))
    with pytest.raises(ValueError, match="noun"):
        write_xml(fault, form="typed")
    data = write_xml(fault, form="typed", noun="EndDeviceControls", soap_version="1.2")
    assert b"EndDeviceControlsFaultMessage" in data
    assert read_xml(data, strict=True).message == fault


def test_typed_wrapper_noun_of_a_message_without_document_is_the_header_noun() -> None:
    # A Get without query profile (MeterReadSchedule): the Header Noun names the wrapper; the
    # `noun` argument only serves messages without Header (faults) or with an unknown noun.
    get = RequestMessage(header=Header(verb="get", noun="MeterReadSchedule"), request=Request())
    data = write_xml(get, form="typed", noun="EndDeviceControls")
    assert b"<GetMeterReadSchedule " in data
    assert read_xml(data, strict=True).message == get
    odd = get.model_copy(update={"header": Header(verb="get", noun="MeterReadSchedules2")})
    assert b"<GetEndDeviceControls " in write_xml(odd, form="typed", noun="EndDeviceControls")


def test_query_in_payload_is_accepted_with_a_warning() -> None:
    message = RequestMessage(
        header=Header(verb="get", noun="MeterReadings"),
        payload=Payload(document=GetMeterReadings()),
    )
    result = read_xml(write_xml(message))
    assert isinstance(result.message, RequestMessage)
    assert result.message.query == GetMeterReadings()
    assert any("in Payload" in w.message for w in result.warnings)


def test_header_noun_mismatch_is_a_warning() -> None:
    message = EVENT.model_copy(update={"header": Header(verb="created", noun="MeterReading")})
    result = read_xml(write_xml(message))
    assert [w.path for w in result.warnings] == ["/EventMessage/Header/Noun"]


def test_variant_namespaces_are_accepted_with_warnings() -> None:
    data = (
        write_xml(EVENT)
        .replace(
            b"http://iec.ch/TC57/2011/schema/message", b"http://www.iec.ch/TC57/2008/schema/message"
        )
        .replace(
            b"http://iec.ch/TC57/2011/MeterReadings#", b"http://iec.ch/TC57/2009/MeterReadings#"
        )
    )
    result = read_xml(data)
    assert result.message == EVENT
    assert len(result.warnings) == 2
    strict = read_xml(data, strict=True, collect=True)
    assert strict.errors  # strict checks against our 2011 schema exactly


def test_bare_profile_document() -> None:
    result = read_xml(write_xml(MR))
    assert result.message is None and result.document == MR and result.form == "document"


def test_compressed_payload_round_trip_and_bomb_is_refused() -> None:
    message = EVENT.model_copy(
        update={"payload": Payload(compressed=compress_document(MR), format="XML")}
    )
    result = read_xml(write_xml(message), strict=True)
    assert result.document == MR
    import base64
    import gzip

    bomb = base64.b64encode(gzip.compress(b"<a>" + b" " * 2_000_000 + b"</a>")).decode()
    from cimmeter.xml.safe import XmlLimits

    with pytest.raises(XmlSecurityError, match="expands beyond"):
        decompress_payload(Payload(compressed=bomb), XmlLimits(max_bytes=100_000))


def test_unknown_root_and_missing_header_are_errors() -> None:
    with pytest.raises(UnknownRootError, match="unknown root element Foo"):
        read_xml(b"<Foo/>")
    with pytest.raises(DocumentError) as caught:
        read_xml(
            b'<EventMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Payload/></EventMessage>'
        )
    assert "missing required element Header" in str(caught.value)
    with pytest.raises(DocumentError, match="'shout' is not a VerbType"):
        read_xml(
            b'<EventMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Header>'
            b"<Verb>shout</Verb><Noun>X</Noun></Header></EventMessage>"
        )


def test_hostile_input_is_refused_through_the_reader() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<EventMessage xmlns="http://iec.ch/TC57/2011/schema/message">&x;</EventMessage>'
    )
    with pytest.raises(XmlSecurityError, match="DOCTYPE"):
        read_xml(xxe)
    deep = b"<a>" * 200 + b"</a>" * 200
    with pytest.raises(XmlSecurityError, match="nesting deeper"):
        read_xml(deep)


def test_other_accepted_forms() -> None:
    # 2017 wrapper namespace (digest 6.11), read as 2011 with a warning.
    typed = write_xml(EVENT, form="typed").replace(
        b"TC57/2011/MeterReadingsMessage", b"TC57/2017/MeterReadingsMessage"
    )
    result = read_xml(typed)
    assert result.message == EVENT and result.wrapper == "CreatedMeterReadings"
    assert [w.message for w in result.warnings] == [
        "2017 wrapper namespace read as 2011 (digest 6.11)"
    ]
    # the schema's generic Message root, classified by content
    generic = write_xml(EVENT).replace(b"EventMessage", b"Message")
    assert read_xml(generic).message == EVENT
    # Connexo's event carrying a Reply (digest 6.1)
    with_reply = EVENT.model_copy(update={"reply": Reply(result="PARTIAL")})
    assert read_xml(write_xml(with_reply), strict=True).message == with_reply


def test_soap_without_a_message() -> None:
    from cimmeter.xml.soap import SoapError, SoapFaultError

    fault = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>'
        b"<s:Code><s:Value>s:Sender</s:Value></s:Code>"
        b"<s:Reason><s:Text>bad auth</s:Text></s:Reason>"
        b"</s:Fault></s:Body></s:Envelope>"
    )
    with pytest.raises(SoapFaultError, match="SOAP fault: bad auth") as caught:
        read_xml(fault)
    assert caught.value.code == "s:Sender"
    with pytest.raises(SoapError, match="empty SOAP Body"):
        read_xml(
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
        )


def test_typed_get_response_in_get_namespace() -> None:
    response = ResponseMessage(
        header=Header(verb="reply", noun="MeterReadings"),
        reply=Reply(result="OK"),
        payload=Payload(document=MR),
    )
    data = write_xml(response, form="typed", get_namespace=True)
    assert (
        b'<MeterReadingsResponseMessage xmlns="http://iec.ch/TC57/2011/GetMeterReadingsMessage"'
        in data
    )
    assert read_xml(data, strict=True).message == response
