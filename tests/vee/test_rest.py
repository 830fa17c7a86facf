"""The VEE REST routes: `/usage-points/{id}/vee` and `/vee/report`, over a store."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cimmeter.runtime.read_side import StoreReadSide
from cimmeter.store import Store
from cimmeter.transport.http.auth import BearerAuth
from cimmeter.transport.http.rest import RestApi
from cimmeter.vee.runner import run_vee
from cimmeter.xml.safe import XmlLimits
from tests.vee.test_store import END, NOW, T0, TS, setup

TOKEN = {"Authorization": "Bearer secret"}


def client(store: Store) -> TestClient:
    app = FastAPI()
    api = RestApi({}, StoreReadSide(store), BearerAuth(["secret"]), XmlLimits())
    app.include_router(api.router())
    return TestClient(app)


def test_findings_and_report(store: Store) -> None:
    setup(store)
    run_vee(store, start=T0, end=END, now=NOW)
    http = client(store)
    got = http.get("/usage-points/u0/vee", headers=TOKEN)
    assert got.status_code == 200
    rules = {f["rule"] for f in got.json()["findings"]}
    assert {"gap", "spike", "estimate:linear"} <= rules
    assert http.get("/usage-points/u1/vee", headers=TOKEN).json()["findings"] == []
    assert http.get("/usage-points/nobody/vee", headers=TOKEN).status_code == 404
    assert http.get("/usage-points/u0/vee").status_code == 401
    report = http.get("/vee/report", params={"period": "2025-03"}, headers=TOKEN).json()
    rows = {r["usage_point"]: r for r in report["usagePoints"]}
    assert rows["u0"]["counts"]["estimated"] == 4 and rows["u1"]["counts"]["actual"] == len(TS)
    bad = http.get("/vee/report", params={"period": "March"}, headers=TOKEN)
    assert bad.status_code == 400 and "YYYY-MM" in bad.json()["detail"]
    openapi = http.get("/openapi.json").json()["paths"]
    assert "/usage-points/{mrid}/vee" in openapi and "/vee/report" in openapi
