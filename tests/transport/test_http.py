"""HTTP: POST /messages with content negotiation, resource routes, auth, limits, health."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import httpx
import pytest
from bench._generate import meter_mrid, write_document

from cimmeter.message.envelope import read_xml
from cimmeter.message.json import loads
from tests.transport.conftest import AUTH, LiveServer, make_app, serve_in_thread
from tests.transport.memory import MemoryService

RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


@pytest.fixture(scope="module")
def loaded(live: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> LiveServer:
    """The live server after 3 meters x 8 readings were posted as XML."""
    path = write_document(tmp_path_factory.mktemp("doc") / "mr.xml", 3, 8, envelope=True)
    r = httpx.post(
        f"{live.url}/messages",
        content=path.read_bytes(),
        headers={**AUTH, "Content-Type": "application/xml"},
    )
    assert r.status_code == 200, r.text
    return live


def test_xml_in_xml_out(loaded: LiveServer) -> None:
    assert loaded.service.reading_count() >= 24
    assert loaded.service.usage_points[meter_mrid(0)] == "UP-0000000"


def event_json(message_id: str, value: str = "2.5") -> dict[str, object]:
    return {
        "messageKind": "EventMessage",
        "Header": {
            "Verb": "created",
            "Noun": "MeterReadings",
            "MessageID": message_id,
            "Source": "test",
        },
        "Payload": {
            "MeterReadings": {
                "MeterReading": [
                    {
                        "IntervalBlocks": [
                            {
                                "IntervalReadings": [
                                    {"timeStamp": "2026-02-01T00:15:00Z", "value": value}
                                ],
                                "ReadingType": {"ref": RT},
                            }
                        ],
                        "Meter": {"mRID": "json-meter"},
                    }
                ]
            }
        },
    }


def test_json_in_json_out_and_a_retry_is_not_applied_twice(live: LiveServer) -> None:
    message_id = str(uuid.uuid4())
    body = json.dumps(event_json(message_id)).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    before = live.service.applied
    first = httpx.post(f"{live.url}/messages", content=body, headers=headers)
    again = httpx.post(f"{live.url}/messages", content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == "application/json"
    reply = first.json()
    assert reply["messageKind"] == "ResponseMessage"
    assert reply["Reply"]["Result"] == "OK"
    assert reply["Header"]["CorrelationID"] == message_id
    assert again.json() == reply
    assert live.service.applied == before + 1


def test_accept_chooses_the_reply_syntax(live: LiveServer) -> None:
    body = json.dumps(event_json(str(uuid.uuid4()))).encode()
    r = httpx.post(
        f"{live.url}/messages",
        content=body,
        headers={**AUTH, "Content-Type": "application/json", "Accept": "application/xml"},
    )
    assert r.headers["content-type"].startswith("application/xml")
    message = read_xml(r.content).message
    assert message is not None and message.kind == "ResponseMessage"


def test_refused_messages_are_400_fault_messages(live: LiveServer) -> None:
    r = httpx.post(
        f"{live.url}/messages",
        content=b'{"Header": {"Noun": "MeterReadings"}}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    fault = loads(r.content)
    assert fault.kind == "FaultMessage"
    assert "Verb" in (fault.reply.errors[0].reason or "")  # type: ignore[attr-defined]
    r = httpx.post(
        f"{live.url}/messages", content=b"x", headers={**AUTH, "Content-Type": "image/png"}
    )
    assert r.status_code == 415


def test_unsupported_verb_noun_is_a_failed_reply(live: LiveServer) -> None:
    body = {"Header": {"Verb": "delete", "Noun": "EndDeviceEvents"}, "Request": {}}
    r = httpx.post(f"{live.url}/messages", json=body, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["Reply"]["Result"] == "FAILED"


def test_a_handler_crash_is_a_500_and_is_logged(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    live.service.fail_on.add("boom")
    body = json.dumps(event_json("boom")).encode()
    r = httpx.post(
        f"{live.url}/messages", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 500
    assert r.json()["error"] == "internal error"
    assert any("handler failed" in rec.message for rec in caplog.records)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/meters"),
        ("GET", "/meters/x"),
        ("GET", "/meters/x/readings"),
        ("GET", "/usage-points"),
        ("GET", "/events"),
        ("POST", "/messages"),
        ("POST", "/controls"),
        ("POST", "/headend/messages"),
    ],
)
def test_every_data_route_needs_the_token(live: LiveServer, method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = httpx.request(method, f"{live.url}{path}", headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_health_and_documents_are_open(live: LiveServer) -> None:
    health = httpx.get(f"{live.url}/health").json()
    assert health == {"status": "ok", "roles": ["mdm", "headend"], "checks": {}}
    assert httpx.get(f"{live.url}/openapi.json").status_code == 200
    assert httpx.get(f"{live.url}/docs").status_code == 200
    schema = httpx.get(f"{live.url}/schema/message.json").json()
    assert "oneOf" in schema


def test_oversized_bodies_get_413_with_a_clear_body() -> None:
    service = MemoryService()
    for url in serve_in_thread(make_app(service, max_body_bytes=1000)):
        r = httpx.post(f"{url}/messages", content=b"x" * 1001, headers=AUTH)
        assert r.status_code == 413
        assert r.json()["limit"] == 1000
        assert "at most 1000 bytes" in r.json()["detail"]

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(20):
                yield b"y" * 100

        r = httpx.post(f"{url}/soap", content=chunks(), headers=AUTH)
        assert r.status_code == 413
        assert service.applied == 0


def test_no_auth_only_when_asked() -> None:
    from cimmeter.transport.http.auth import AuthSettingsError

    with pytest.raises(AuthSettingsError, match="--no-auth"):
        make_app(MemoryService(), tokens=())
    service = MemoryService()
    for url in serve_in_thread(make_app(service, tokens=(), require_auth=False)):
        assert httpx.get(f"{url}/meters").status_code == 200


# -- resources -----------------------------------------------------------------------------------


def test_meters_are_paginated_with_a_cursor(loaded: LiveServer) -> None:
    seen: list[str] = []
    url = f"{loaded.url}/meters?limit=2"
    while url:
        r = httpx.get(url, headers=AUTH)
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [item["mRID"] for item in page["items"]]
        url = r.headers["link"].split(">")[0][1:] if page["next"] else ""
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) >= 3
    assert httpx.get(f"{loaded.url}/meters/{seen[0]}", headers=AUTH).json()["mRID"] == seen[0]
    assert httpx.get(f"{loaded.url}/meters/nope", headers=AUTH).status_code == 404


def test_readings_as_json_ndjson_and_csv_agree(loaded: LiveServer) -> None:
    meter = meter_mrid(1)
    base = f"{loaded.url}/meters/{meter}/readings"
    as_json = httpx.get(base, headers=AUTH).json()
    (series,) = as_json["series"]
    assert series["readingType"] == RT and series["usagePoint"] == "UP-0000001"
    assert as_json["count"] == 8 and as_json["next"] is None
    rows_json = [(r["timestamp"], r["value"], ";".join(r["quality"])) for r in series["readings"]]
    lines = httpx.get(base, headers={**AUTH, "Accept": "application/x-ndjson"}).text.splitlines()
    rows_nd = [(d["timestamp"], d["value"], ";".join(d["quality"])) for d in map(json.loads, lines)]
    text = httpx.get(f"{base}?format=csv", headers=AUTH).text
    rows_csv = [
        (r["timestamp"], float(r["value"]), r["quality"]) for r in csv.DictReader(io.StringIO(text))
    ]
    assert rows_json == rows_nd == rows_csv
    assert rows_json[0][0] == "2026-01-01T00:15:00Z"


def test_readings_time_range_is_half_open(loaded: LiveServer) -> None:
    base = f"{loaded.url}/meters/{meter_mrid(2)}/readings"
    params = {"start": "2026-01-01T00:15:00Z", "end": "2026-01-01T01:00:00Z"}
    data = httpx.get(base, params=params, headers=AUTH).json()
    stamps = [r["timestamp"] for r in data["series"][0]["readings"]]
    assert stamps == ["2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"]
    bad = httpx.get(base, params={"start": "2026-01-01T00:15:00"}, headers=AUTH)
    assert bad.status_code == 422 and "timezone" in bad.text
    backwards = {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    assert httpx.get(base, params=backwards, headers=AUTH).status_code == 400


def test_reading_pages_join_to_the_whole_set(loaded: LiveServer) -> None:
    up = "UP-0000000"
    whole = httpx.get(f"{loaded.url}/usage-points/{up}/readings", headers=AUTH).json()
    expected = [r["timestamp"] for s in whole["series"] for r in s["readings"]]
    got: list[str] = []
    params: dict[str, str | int] = {"limit": 3}
    while True:
        page = httpx.get(
            f"{loaded.url}/usage-points/{up}/readings", params=params, headers=AUTH
        ).json()
        got += [r["timestamp"] for s in page["series"] for r in s["readings"]]
        assert page["count"] <= 3
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert got == expected and len(got) == 8
    bad = httpx.get(
        f"{loaded.url}/usage-points/{up}/readings", params={"after": "zz"}, headers=AUTH
    )
    assert bad.status_code == 400


def test_controls_route_sends_create_end_device_controls(live: LiveServer) -> None:
    body = {"EndDeviceControl": [{"mRID": "c-77", "EndDeviceControlType": {"ref": "3.31.0.23"}}]}
    headers = {**AUTH, "Idempotency-Key": str(uuid.uuid4())}
    before = list(live.service.controls)
    first = httpx.post(f"{live.url}/controls", json=body, headers=headers)
    again = httpx.post(f"{live.url}/controls", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["Reply"]["Result"] == "OK"
    assert first.json()["Reply"]["ID"] == [{"value": "c-77"}]
    assert again.json() == first.json()
    assert live.service.controls == [*before, "c-77"]
    bad = httpx.post(f"{live.url}/controls", json={"MeterReadings": {}}, headers=AUTH)
    assert bad.status_code == 400


def test_events_route_pages_by_time(live: LiveServer, tmp_path: Path) -> None:
    events = [
        {
            "mRID": f"e-{i}",
            "createdDateTime": f"2026-03-01T00:0{i // 2}:00Z",  # pairs share an instant
            "Assets": {"mRID": "ev-meter"},
            "EndDeviceEventType": {"ref": "3.26.0.85"},
        }
        for i in range(7)
    ]
    message = {
        "Header": {"Verb": "created", "Noun": "EndDeviceEvents", "MessageID": str(uuid.uuid4())},
        "Payload": {"EndDeviceEvents": {"EndDeviceEvent": events}},
    }
    assert httpx.post(f"{live.url}/messages", json=message, headers=AUTH).status_code == 200
    got: list[str] = []
    params: dict[str, str | int] = {"device": "ev-meter", "limit": 3}
    while True:
        page = httpx.get(f"{live.url}/events", params=params, headers=AUTH).json()
        got += [e["mRID"] for e in page["items"]]
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert got == [f"e-{i}" for i in range(7)]
