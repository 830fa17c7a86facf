"""`serve --role headend` and `--role both`: the head-end service over a simulated fleet, each
role on its own store, the head-end's events handed to the MDM in-process by the relay."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.headend.fleet import Fleet, FleetOptions
from cimmeter.message.envelope import Header, Payload, Request, RequestMessage, write_xml
from cimmeter.message.verbs import Verb
from cimmeter.model.get_meter_readings import EndDevice, GetMeterReadings
from cimmeter.runtime.app import ServeOptions, ServiceUnavailable, headend_db_url
from cimmeter.runtime.server import Server, ServeSettings
from cimmeter.service.headend_config import fleet_meter_config
from cimmeter.store import open_store
from cimmeter.store.records import ObjectKind
from cimmeter.transport.client import HttpSender
from cimmeter.transport.http import HttpSettings
from tests.runtime.helpers import running


def settings() -> ServeSettings:
    return ServeSettings(port=0, http=HttpSettings(require_auth=False), relay_poll_seconds=0.05)


def request(verb: Verb, noun: str, **parts: object) -> bytes:
    header = Header(verb=verb, noun=noun, source="ops", message_id=str(uuid.uuid4()))
    return write_xml(RequestMessage(header=header, **parts))  # type: ignore[arg-type]


def read_now(mrid: str) -> bytes:
    query = GetMeterReadings(end_device=(EndDevice(mrid=mrid),))
    return request(Verb.get, "MeterReadings", request=Request(query=query))


FLEET = Fleet(FleetOptions(n_meters=4, seed=9))
"""The fleet the servers below simulate."""
NEW = Fleet(FleetOptions(n_meters=8, seed=123))
"""Its meter 7 is one the simulated fleet lacks (by mRID, name and serial number): installing
it commissions a virtual meter."""


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    options = ServeOptions(
        db_url=f"sqlite:///{tmp_path / 'mdm.db'}",
        role="both",
        settings=settings(),
        fleet_meters=4,
        fleet_seed=9,
    )
    with running(options) as server:
        yield server, options.db_url, headend_db_url(options)


def test_both_roles_own_stores_and_events_reach_the_mdm(both: tuple[Server, str, str]) -> None:
    server, mdm_db, headend_db = both
    assert headend_db.endswith("mdm-headend.db")
    health = httpx.get(f"{server.base_url}/health").json()
    assert health["checks"] == {"store": "ok", "headend store": "ok"}

    with HttpSender(server.base_url, prefix="/headend") as sender:
        # a fleet meter answers an on-demand read at the head-end
        answer = sender.send(read_now(FLEET.mrid("meter", 1)))
        assert answer.result == "OK", answer.body[:500]
        assert FLEET.mrid("meter", 1).encode() in answer.body
        # a new meter installed at the head-end: commissioned there, its created MeterConfig
        # event relayed in-process to the MDM, which records it too
        installed = request(
            Verb.create, "MeterConfig", payload=Payload(document=fleet_meter_config(NEW, [7]))
        )
        assert sender.send(installed).result == "OK"
    meter = NEW.mrid("meter", 7)
    deadline = time.monotonic() + 30
    while True:
        with open_store(mdm_db) as store, store.snapshot() as reader:
            found = reader.get_object(ObjectKind.METER, meter)
        if found is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert found is not None, "the head-end's created MeterConfig did not reach the MDM"
    with open_store(headend_db) as store, store.snapshot() as reader:
        assert reader.get_object(ObjectKind.METER, meter) is not None
        assert not reader.pending_outbox(10)  # relayed and confirmed
    with open_store(mdm_db) as store, store.snapshot() as reader:
        assert reader.count_objects(ObjectKind.METER) == 1  # only what the head-end reported


def test_headend_alone_at_the_root(tmp_path: Path) -> None:
    options = ServeOptions(
        db_url=f"sqlite:///{tmp_path / 'he.db'}",
        role="headend",
        settings=settings(),
        fleet_meters=2,
        fleet_seed=9,
    )
    with running(options) as server:
        assert httpx.get(f"{server.base_url}/health").json()["roles"] == ["headend"]
        with HttpSender(server.base_url) as sender:
            known = sender.send(read_now(FLEET.mrid("meter", 0)))
            unknown = sender.send(read_now(FLEET.mrid("meter", 3)))  # beyond 2 meters
        assert known.result == "OK"
        assert unknown.result == "FAILED"
        assert b"device not found" in unknown.body


def test_both_on_postgresql_needs_a_headend_store() -> None:
    options = ServeOptions(db_url="postgresql://postgres@127.0.0.1/test", role="both")
    with pytest.raises(ServiceUnavailable, match="--headend-db"):
        headend_db_url(options)
    assert (
        headend_db_url(
            ServeOptions(db_url="sqlite:///x.db", role="both", headend_db_url="sqlite:///y.db")
        )
        == "sqlite:///y.db"
    )


def test_serve_refuses_an_unknown_role_and_negative_meters() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--role", "cis", "--no-auth"])
    assert result.exit_code == 2 and "--role must be one of mdm, headend, both" in result.output
    result = runner.invoke(app, ["serve", "--role", "headend", "--no-auth", "--meters", "-1"])
    assert result.exit_code == 2 and "--meters must be 0 or more" in result.output
