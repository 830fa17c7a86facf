"""`cimmeter vee` run, rules, edit and report on a SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.store import ReadingQuery, open_store
from tests.vee.helpers import FWD, load
from tests.vee.test_store import T0, setup

runner = CliRunner()
TS, _ = load()


def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vee.db'}"
    with open_store(url, upgrade=True) as store:
        setup(store)
    return url


def test_run_report_edit(tmp_path: Path) -> None:
    url = db(tmp_path)
    args = ["--from", "2025-03-03", "--to", "2025-03-17", "--now", "2025-03-18", "--db", url]
    result = runner.invoke(app, ["vee", "run", *args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"]["estimated"] == 4 and summary["rules"]["gap"] == 1
    again = runner.invoke(app, ["vee", "run", *args])
    assert again.exit_code == 0 and "0 final rows written" in again.output
    result = runner.invoke(app, ["vee", "report", "--period", "2025-03", "--json", "--db", url])
    rows = {r["usage_point"]: r for r in json.loads(result.output)["usage_points"]}
    assert rows["u0"]["counts"]["estimated"] == 4 and rows["u0"]["rules"]["spike"] == 1
    # a month's expected intervals: most are missing (data covers 14 days of 31)
    assert rows["u1"]["percent"]["missing"] > 50
    at = "2025-03-04T06:00:00Z"
    result = runner.invoke(
        app,
        [
            "vee",
            "edit",
            "--usage-point",
            "u0",
            "--reading-type",
            FWD,
            "--at",
            at,
            "--value",
            "1.25",
            "--reason",
            "meter photo",
            "--user",
            "bob",
            "--db",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3.7.0" in result.output
    with open_store(url) as store, store.snapshot() as r:
        (b,) = list(
            r.read_readings(
                ReadingQuery(
                    meters=["m0"],
                    series="final",
                    start=T0.replace(day=4, hour=5, minute=45),
                    end=T0.replace(day=4, hour=6),
                )
            )
        )
    assert b.values.tolist() == [1.25]
    text = runner.invoke(app, ["vee", "report", "--period", "2025-03", "--db", url])
    assert text.exit_code == 0 and "u0" in text.output


def test_rules_list_show_set(tmp_path: Path) -> None:
    url = db(tmp_path)
    listed = json.loads(runner.invoke(app, ["vee", "rules", "list", "--json"]).output)
    assert {"spike", "gap", "linear", "proration"} <= {r["name"] for r in listed}
    config = tmp_path / "vee.toml"
    config.write_text("[rules.spike]\nfactor = 7.5\n")
    assert runner.invoke(app, ["vee", "rules", "set", str(config), "--db", url]).exit_code == 0
    shown = runner.invoke(app, ["vee", "rules", "show", "spike", "--db", url, "--json"])
    assert json.loads(shown.output)["params"]["factor"] == 7.5
    default = runner.invoke(app, ["vee", "rules", "show", "spike", "--json"])
    assert json.loads(default.output)["params"]["factor"] == 4.0
    config.write_text("[rules.spike]\nfactr = 7.5\n")
    bad = runner.invoke(app, ["vee", "rules", "set", str(config), "--db", url])
    assert bad.exit_code == 2 and "unknown parameter 'factr'" in bad.output


def test_bad_usage_is_clear(tmp_path: Path) -> None:
    url = db(tmp_path)
    bad = runner.invoke(
        app, ["vee", "run", "--from", "yesterday", "--to", "2025-03-17", "--db", url]
    )
    assert bad.exit_code == 2 and "--from: 'yesterday' is not an ISO 8601" in bad.output
    bad = runner.invoke(app, ["vee", "report", "--period", "March", "--db", url])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    bad = runner.invoke(
        app,
        [
            "vee",
            "edit",
            "--usage-point",
            "nope",
            "--reading-type",
            FWD,
            "--at",
            "2025-03-04T06:00:00Z",
            "--value",
            "1",
            "--reason",
            "x",
            "--db",
            url,
        ],
    )
    assert bad.exit_code == 2 and "no meter linked to usage point nope" in bad.output
