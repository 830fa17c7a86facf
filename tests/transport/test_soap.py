"""SOAP: a zeep client built from each served WSDL calls every operation, unmodified, over
SOAP 1.1 and 1.2; faults only where DECISIONS.md allows them; a vendor's WSDL can call us."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from cimmeter.message.verbs import VERBS, Verb
from cimmeter.transport.http.wsdl import Service, services
from tests.transport.conftest import AUTH, TOKEN, LiveServer

MR = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
METER = "8d2b7e4c-0f3a-4a59-9e1b-6a4c2d1e0b01"

# One small payload per noun, as zeep dictionaries (the WSDL's types, not ours by hand).
PAYLOADS: dict[str, dict[str, Any]] = {
    "MeterReadings": {
        "MeterReading": [
            {
                "IntervalBlocks": [
                    {
                        "IntervalReadings": [
                            {"timeStamp": "2026-01-01T00:15:00Z", "value": "1.25"},
                            {"timeStamp": "2026-01-01T00:30:00Z", "value": "0.5"},
                        ],
                        "ReadingType": {"ref": MR},
                    }
                ],
                "Meter": {"mRID": METER},
            }
        ]
    },
    "EndDeviceEvents": {
        "EndDeviceEvent": [
            {
                "mRID": "ev-1",
                "createdDateTime": "2026-01-01T01:00:00Z",
                "Assets": {"mRID": METER},
                "EndDeviceEventType": {"ref": "3.26.0.85"},
            }
        ]
    },
    "EndDeviceControls": {
        "EndDeviceControl": [
            {"mRID": "ctl-1", "EndDeviceControlType": {"ref": "3.31.0.23"}, "EndDevices": []}
        ]
    },
    "MeterReadSchedule": {},
}
QUERIES: dict[str, dict[str, Any]] = {
    "MeterReadings": {"GetMeterReadings": {"EndDevice": [{"mRID": METER}]}},
    "EndDeviceEvents": {"GetEndDeviceEvents": {"Meter": [{"mRID": METER}]}},
}
# What the memory service does; every other operation must still get a Reply (FAILED).
HANDLED = {
    ("created", "MeterReadings"),
    ("changed", "MeterReadings"),
    ("get", "MeterReadings"),
    ("create", "EndDeviceControls"),
    ("created", "EndDeviceEvents"),
}


def client(url: str, **options: Any) -> zeep.Client:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    return zeep.Client(url, transport=Transport(session=session, timeout=30), **options)


def call(proxy: Any, service: Service, operation: str, verb: Verb) -> Any:
    noun = service.entry.noun
    message_id = str(uuid.uuid4())
    header = {"Verb": verb.value, "Noun": noun, "MessageID": message_id, "Source": "zeep"}
    if verb == Verb.get:
        query = service.entry.query
        default = {query.profile: {}} if query is not None else {}
        response = getattr(proxy, operation)(Header=header, Request=QUERIES.get(noun, default))
    else:
        payload = {service.entry.profile: PAYLOADS.get(noun, {})}
        response = getattr(proxy, operation)(Header=header, Payload=payload)
    assert response.Header.Verb == "reply"
    assert response.Header.Noun == noun
    assert response.Header.CorrelationID == message_id
    return response


ALL = [(s, op) for s in services() for op in s.operations]


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
def test_zeep_calls_every_operation_of_every_served_wsdl(live: LiveServer, soap12: bool) -> None:
    by_service: dict[str, list[Any]] = {}
    for service, op in ALL:
        by_service.setdefault(service.name, []).append((service, op))
    called = 0
    for name, ops in by_service.items():
        zc = client(f"{live.url}/soap/{name}?wsdl")
        port = f"{ops[0][0].port_type}{'_Soap12' if soap12 else ''}"
        proxy = zc.bind(name, port)
        for service, op in ops:
            response = call(proxy, service, op.name, op.verb)
            expected = "OK" if (op.verb.value, service.entry.noun) in HANDLED else "FAILED"
            assert response.Reply.Result == expected, (name, op.name, response.Reply)
            called += 1
    assert called == len(ALL) > 40  # every noun x 5-6 services x 1-5 operations


def test_the_get_reply_carries_the_readings_in_the_get_namespace(live: LiveServer) -> None:
    send = client(f"{live.url}/soap/SendMeterReadings?wsdl").service
    get = client(f"{live.url}/soap/GetMeterReadings?wsdl").service
    header = {"Verb": "created", "Noun": "MeterReadings", "MessageID": str(uuid.uuid4())}
    send.CreatedMeterReadings(Header=header, Payload={"MeterReadings": PAYLOADS["MeterReadings"]})
    header = {"Verb": "get", "Noun": "MeterReadings", "MessageID": str(uuid.uuid4())}
    response = get.GetMeterReadings(Header=header, Request=QUERIES["MeterReadings"])
    readings = response.Payload.MeterReadings.MeterReading[0].IntervalBlocks[0].IntervalReadings
    assert [r.value for r in readings] == ["1.25", "0.5"]
    assert response.Payload.MeterReadings.MeterReading[0].Meter.mRID == METER


def test_wsdl_names_follow_the_61968_100_templates(live: LiveServer) -> None:
    wsdl = httpx.get(f"{live.url}/soap/GetMeterReadings?wsdl").content
    root = etree.fromstring(wsdl)
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    assert root.get("targetNamespace") == "http://iec.ch/TC57/2011/GetMeterReadings"
    actions = root.xpath(
        "//w:binding[@name='GetMeterReadings_Binding']//s:operation/@soapAction", namespaces=ns
    )
    assert actions == ["http://iec.ch/TC57/2011/GetMeterReadings/GetMeterReadings"]
    address = root.xpath(
        "//w:port[@name='GetMeterReadings_Port']/s:address/@location", namespaces=ns
    )
    assert address == [f"{live.url}/soap/GetMeterReadings"]
    send = etree.fromstring(httpx.get(f"{live.url}/soap/SendMeterReadings?wsdl").content)
    assert send.xpath("//w:message/@name", namespaces=ns)[:2] == [
        "CreatedMeterReadingsEventMessage",
        "ChangedMeterReadingsEventMessage",
    ]
    actions = send.xpath(
        "//w:binding[@name='MeterReadings_Binding']//s:operation/@soapAction", namespaces=ns
    )
    assert actions[0] == "http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"
    assert len(actions) == len([v for v in VERBS.values() if v.kind == "event"]) - 1  # no Executed


def test_wrong_token_is_a_soap_fault(live: LiveServer) -> None:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer wrong"
    zc = zeep.Client(
        f"{live.url}/soap/SendMeterReadings?wsdl", transport=Transport(session=session)
    )
    with pytest.raises(zeep.exceptions.Fault) as info:
        zc.service.CreatedMeterReadings(
            Header={"Verb": "created", "Noun": "MeterReadings"},
            Payload={"MeterReadings": PAYLOADS["MeterReadings"]},
        )
    assert "bearer token" in info.value.message


def soap11(body: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        f"{body}</s:Body></s:Envelope>"
    ).encode()


def test_malformed_and_unknown_operations_are_faults_with_a_fault_message(live: LiveServer) -> None:
    headers = {**AUTH, "Content-Type": "text/xml", "SOAPAction": '"anything"'}
    r = httpx.post(f"{live.url}/soap/SendMeterReadings", content=b"<s:Envelope", headers=headers)
    assert r.status_code == 500
    fault = etree.fromstring(r.content)
    assert fault.findtext(".//faultcode") == "soap:Client"
    assert fault.findtext(".//{*}Result") == "FAILED"
    body = soap11("<CreatedMeterReadings xmlns='http://iec.ch/TC57/2011/MeterReadingsMessage'/>")
    r = httpx.post(f"{live.url}/soap/SendMeterReadings", content=body, headers=headers)
    assert r.status_code == 500
    detail = etree.fromstring(r.content).find(".//detail")
    assert detail is not None and detail[0].tag == (
        "{http://iec.ch/TC57/2011/MeterReadingsMessage}MeterReadingsFaultMessage"
    )
    r = httpx.post(
        f"{live.url}/soap/SendMeterReadings",
        content=soap11("<Frob xmlns='urn:x'/>").replace(
            b"schemas.xmlsoap.org/soap/envelope/", b"www.w3.org/2003/05/soap-envelope"
        ),
        headers={**AUTH, "Content-Type": 'application/soap+xml; action="x"'},
    )
    assert r.status_code == 400
    assert etree.fromstring(r.content).findtext(".//{*}Code/{*}Value") == "soap:Sender"


def test_a_parseable_message_with_bad_content_gets_a_reply_not_a_fault(live: LiveServer) -> None:
    msg = "http://iec.ch/TC57/2011/schema/message"
    body = soap11(
        f'<EventMessage xmlns="{msg}"><Header><Verb>created</Verb><Noun>MeterReadings</Noun>'
        "</Header><Payload><MeterReadings xmlns='http://iec.ch/TC57/2011/MeterReadings#'>"
        "<MeterReading><IntervalBlocks><IntervalReadings><timeStamp>yesterday</timeStamp>"
        f"<value>1</value></IntervalReadings><ReadingType ref='{MR}'/></IntervalBlocks>"
        f"<Meter><mRID>{METER}</mRID></Meter></MeterReading></MeterReadings></Payload>"
        "</EventMessage>"
    )
    r = httpx.post(f"{live.url}/soap", content=body, headers={**AUTH, "Content-Type": "text/xml"})
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    assert root.findtext(".//{*}Result") == "PARTIAL"
    assert "timeStamp" in (root.findtext(".//{*}details") or "")


def test_unknown_service_and_schema_files(live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/soap/SendFoo?wsdl").status_code == 404
    assert httpx.get(f"{live.url}/soap/xsd/..%2Fsoap.py").status_code == 404
    xsd = httpx.get(f"{live.url}/soap/xsd/Message.xsd")
    assert xsd.status_code == 200 and b"http://iec.ch/TC57/2011/schema/message" in xsd.content
    listing = httpx.get(f"{live.url}/soap").text.splitlines()
    assert f"{live.url}/soap/SendMeterReadings?wsdl" in listing


def test_headend_answers_under_its_prefix(live: LiveServer) -> None:
    zc = client(f"{live.url}/headend/soap/ExecuteEndDeviceControls?wsdl")
    before = len(live.headend.controls)
    header = {"Verb": "create", "Noun": "EndDeviceControls", "MessageID": str(uuid.uuid4())}
    response = zc.service.CreateEndDeviceControls(
        Header=header, Payload={"EndDeviceControls": PAYLOADS["EndDeviceControls"]}
    )
    assert response.Reply.Result == "OK"
    assert len(live.headend.controls) == before + 1


def test_a_client_generated_from_connexos_wsdl_calls_us_unchanged(
    live: LiveServer, shared: Path, tmp_path: Path
) -> None:
    """Vendor WSDL laid out as its README says (schemas in xsd/); only the address is ours,
    since the templates' soap:address is a placeholder (digest 6.9)."""
    source = shared / "reference" / "vendor-xsd" / "connexo" / "MeterReadings"
    (tmp_path / "xsd").mkdir()
    for xsd in source.glob("*.xsd"):
        shutil.copy(xsd, tmp_path / "xsd" / xsd.name)
    shutil.copy(source / "SendMeterReadings.wsdl", tmp_path)
    zc = client(str(tmp_path / "SendMeterReadings.wsdl"))
    proxy = zc.create_service(
        "{http://iec.ch/TC57/2011/SendMeterReadings}MeterReadings_Binding",
        f"{live.url}/soap/SendMeterReadings",
    )
    message_id = str(uuid.uuid4())
    response = proxy.CreatedMeterReadings(
        Header={"Verb": "created", "Noun": "MeterReadings", "MessageID": message_id},
        Payload={"MeterReadings": PAYLOADS["MeterReadings"]},
    )
    assert response.Reply.Result == "OK"
    assert response.Header.CorrelationID == message_id
