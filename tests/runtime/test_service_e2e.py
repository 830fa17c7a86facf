"""End to end with the real service core and a real store: SOAP, JSON and AMQP into SQLite,
read back over REST; a retried message applies nothing twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cimmeter.model.readings import concat_blocks
from cimmeter.runtime.app import ServeOptions
from cimmeter.runtime.server import Server, ServeSettings
from cimmeter.store import ReadingQuery, open_store
from cimmeter.transport.amqp import AmqpSettings
from cimmeter.transport.client import AmqpSender, HttpSender
from cimmeter.transport.http import HttpSettings
from tests.runtime.helpers import master_data, meter_id, readings, running
from tests.transport.amqp_helpers import (
    AMQP_URL,
    broker_lock,
    delete_topology,
    require_broker,
    unique_prefix,
)

TOKEN = "e2e-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
pytestmark = pytest.mark.rabbitmq


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    require_broker()
    db = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'mdm.db'}"
    prefix = unique_prefix()
    options = ServeOptions(
        db_url=db,
        settings=ServeSettings(
            port=0,
            http=HttpSettings(tokens=(TOKEN,)),
            amqp=AmqpSettings(url=AMQP_URL, prefix=prefix),
        ),
    )
    with broker_lock():
        try:
            with running(options) as server:
                with HttpSender(server.base_url, token=TOKEN) as sender:
                    for body in master_data(3):
                        assert sender.send(body).result == "OK"
                yield server, db, prefix
        finally:
            asyncio.run(delete_topology(prefix))


def stored(db: str, meter: int) -> list[float]:
    with open_store(db) as store, store.snapshot() as reader:
        blocks = list(reader.read_readings(ReadingQuery(meters=[meter_id(meter)])))
    return concat_blocks(blocks).values.tolist() if blocks else []


def test_soap_json_and_amqp_reach_the_store(served: tuple[Server, str, str]) -> None:
    server, db, prefix = served
    with HttpSender(server.base_url, token=TOKEN) as sender:
        soap = sender.send(readings(1, meter=0))
        assert soap.result == "OK" and soap.endpoint.endswith("/soap/SendMeterReadings")
        retry = sender.send(readings(1, meter=0))  # same MessageID: the stored reply
        assert retry.result == "OK"
    with HttpSender(server.base_url, token=TOKEN, as_json=True) as sender:
        as_json = sender.send(readings(2, meter=1))
        assert as_json.result == "OK" and as_json.endpoint.endswith("/messages")

    async def over_amqp() -> str:
        async with AmqpSender(AMQP_URL, prefix=prefix, timeout=60) as sender:
            return (await sender.send(readings(3, meter=2))).result

    assert asyncio.run(over_amqp()) == "OK"
    assert stored(db, 0) == [1.0, 1.1, 1.2, 1.3]  # once, not twice
    assert stored(db, 1) == [2.0, 2.1, 2.2, 2.3]
    assert stored(db, 2) == [3.0, 3.1, 3.2, 3.3]


def test_rest_reads_what_the_messages_stored(served: tuple[Server, str, str]) -> None:
    server, _, _ = served
    with HttpSender(server.base_url, token=TOKEN) as sender:
        assert sender.send(readings(10, meter=1)).result == "OK"
    url = f"{server.base_url}/meters/{meter_id(1)}/readings"
    data = httpx.get(url, params={"format": "json"}, headers=AUTH).json()
    values = [r["value"] for s in data["series"] for r in s["readings"]]
    assert values[-4:] == [10.0, 10.1, 10.2, 10.3]
    listed = httpx.get(f"{server.base_url}/meters", headers=AUTH).json()
    assert {meter_id(i) for i in range(3)} <= {m["mRID"] for m in listed["items"]}
    assert httpx.get(f"{server.base_url}/health").json()["checks"] == {"store": "ok"}


def test_unknown_meter_is_a_partial_or_failed_reply_not_a_fault(
    served: tuple[Server, str, str],
) -> None:
    server, _, _ = served
    with HttpSender(server.base_url, token=TOKEN) as sender:
        result = sender.send(readings(20, meter=99))
    assert result.result == "FAILED"
    assert result.reply is not None and result.reply.kind == "ResponseMessage"


def test_a_json_message_with_bad_content_gets_a_failed_reply(
    served: tuple[Server, str, str], tmp_path: Path
) -> None:
    server, _, _ = served
    body = {
        "Header": {"Verb": "create", "Noun": "MeterConfig", "MessageID": str(uuid.uuid4())},
        "Payload": {"MeterConfig": {"Meter": [{"mRID": 5}]}},
    }
    r = httpx.post(
        f"{server.base_url}/messages",
        content=json.dumps(body),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["Reply"]["Result"] == "FAILED"


def get_readings_message(meter: int, message_id: str) -> bytes:
    from tests.runtime.helpers import MSG, T0, stamp

    return (
        f'<RequestMessage xmlns="{MSG}"><Header><Verb>get</Verb><Noun>MeterReadings</Noun>'
        f"<Source>cis</Source><MessageID>{message_id}</MessageID></Header><Request>"
        # the hour of readings(30, count=3): other tests store other hours of the same meter
        f"<StartTime>{stamp(T0 + 81_000)}</StartTime><EndTime>{stamp(T0 + 84_600)}</EndTime>"
        '<GetMeterReadings xmlns="http://iec.ch/TC57/2011/GetMeterReadings#">'
        f"<EndDevice><mRID>{meter_id(meter)}</mRID></EndDevice></GetMeterReadings>"
        "</Request></RequestMessage>"
    ).encode()


def test_get_meter_readings_answers_the_same_in_every_form(
    served: tuple[Server, str, str],
) -> None:
    # The MDM writes a readings reply straight from the columns (generic XML); SOAP wraps those
    # bytes, JSON and the typed wrappers build the model. All must carry the same readings.
    from cimmeter.message.envelope import read_xml
    from cimmeter.message.json import loads
    from cimmeter.model.meter_readings import MeterReadings, meter_readings_to_blocks

    server, _, _ = served
    with HttpSender(server.base_url, token=TOKEN) as sender:
        assert sender.send(readings(30, meter=2, count=3)).result == "OK"

    def values(document: object) -> list[float]:
        assert isinstance(document, MeterReadings)
        return concat_blocks(meter_readings_to_blocks(document)).values.tolist()

    want = [30.0, 30.1, 30.2]
    plain = httpx.post(
        f"{server.base_url}/messages",
        content=get_readings_message(2, "get-plain"),
        headers={**AUTH, "Content-Type": "application/xml"},
    )
    assert plain.status_code == 200
    assert values(read_xml(plain.content).document) == want
    soap_body = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        + get_readings_message(2, "get-soap").decode()
        + "</s:Body></s:Envelope>"
    )
    soap = httpx.post(
        f"{server.base_url}/soap",
        content=soap_body.encode(),
        headers={**AUTH, "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    assert soap.status_code == 200, soap.text[:500]
    assert soap.content.count(b"Envelope") == 2  # wrapped once
    assert values(read_xml(soap.content).document) == want
    as_json = httpx.post(
        f"{server.base_url}/messages",
        content=get_readings_message(2, "get-json"),
        headers={**AUTH, "Content-Type": "application/xml", "Accept": "application/json"},
    )
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert values(loads(as_json.content).document) == want
