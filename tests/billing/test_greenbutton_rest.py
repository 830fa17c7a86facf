"""`GET /usage-points/{id}/greenbutton`: a valid ESPI feed over REST, from a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from cimmeter.greenbutton.validate import validation_errors
from cimmeter.runtime.read_side import StoreReadSide
from cimmeter.store import Store, open_store
from cimmeter.transport.http import HttpSettings, Mount, create_app
from cimmeter.transport.inbound import Role
from tests.billing.conftest import fill_store, utc
from tests.transport.conftest import AUTH, TOKEN, serve_in_thread
from tests.transport.memory import MemoryService

ESPI = "{http://naesb.org/espi}"


@pytest.fixture
def url_and_store(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    db = f"sqlite:///{tmp_path / 'rest.db'}"
    fill_store(db, 2, utc(2024, 3, 30), utc(2024, 4, 2))
    with open_store(db) as store:
        app = create_app(
            [Mount(Role.MDM, MemoryService())],  # type: ignore[arg-type]
            read_side=StoreReadSide(store),
            settings=HttpSettings(tokens=(TOKEN,)),
        )
        for url in serve_in_thread(app):
            yield url, store


def test_greenbutton_route_streams_a_valid_feed(url_and_store: tuple[str, Store]) -> None:
    url, _ = url_and_store
    r = httpx.get(
        f"{url}/usage-points/u1/greenbutton",
        params={
            "start": "2024-03-30T23:00:00Z",
            "end": "2024-03-31T22:00:00Z",
            "timezone": "Europe/Berlin",
        },
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert validation_errors(r.content) == []
    root = etree.fromstring(r.content)
    # Berlin's DST day: one IntervalBlock of 23 h with 92 readings of 2 kWh (= 2 with kWh).
    blocks = root.findall(f".//{ESPI}IntervalBlock")
    assert len(blocks) == 1
    assert blocks[0].findtext(f"{ESPI}interval/{ESPI}duration") == str(23 * 3600)
    values = [v.text for v in blocks[0].iterfind(f"{ESPI}IntervalReading/{ESPI}value")]
    assert values == ["2"] * 92
    assert root.findtext(f".//{ESPI}LocalTimeParameters/{ESPI}tzOffset") == "3600"


def test_greenbutton_route_errors(url_and_store: tuple[str, Store]) -> None:
    url, _ = url_and_store
    params = {"start": "2024-03-30T23:00:00Z", "end": "2024-03-31T22:00:00Z"}
    r = httpx.get(f"{url}/usage-points/u1/greenbutton", params=params)
    assert r.status_code == 401
    r = httpx.get(f"{url}/usage-points/ghost/greenbutton", params=params, headers=AUTH)
    assert r.status_code == 404 and "ghost" in r.json()["detail"]
    bad = {"start": params["end"], "end": params["start"]}
    r = httpx.get(f"{url}/usage-points/u1/greenbutton", params=bad, headers=AUTH)
    assert r.status_code == 400
    r = httpx.get(
        f"{url}/usage-points/u1/greenbutton",
        params={**params, "timezone": "Nowhere/Atlantis"},
        headers=AUTH,
    )
    assert r.status_code == 400 and "Nowhere/Atlantis" in r.json()["detail"]
