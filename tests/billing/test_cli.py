"""`cimmeter billing run`: text, JSON and CSV output from a real SQLite store; bad usage."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.cli.billing import EXAMPLE_CALENDAR
from tests.billing.conftest import fill_store, utc

runner = CliRunner()


def _db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    fill_store(url, 2, utc(2024, 2, 28), utc(2024, 4, 3))
    return url


def test_billing_run_json_csv_and_text(tmp_path: Path) -> None:
    url = _db(tmp_path)
    args = [
        "billing",
        "run",
        "--period",
        "2024-03",
        "--db",
        url,
        "--calendar",
        str(EXAMPLE_CALENDAR),
    ]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["usagePoint"] for d in data] == ["u0", "u1"]
    # New York, March 2024: 2972 quarter hours at 1 and 2 kWh.
    assert [d["deliveredKWh"] for d in data] == [2972.0, 5944.0]
    assert data[0]["estimated"] == 0  # index 5 is 2024-02-28 01:30Z, before the period
    assert data[1]["maxDemand"]["kW"] == 8.0
    assert sum(t["energyKWh"] for t in data[1]["tou"]) == 5944.0
    assert data[0]["start"] == "2024-03-01T00:00:00-05:00"
    assert data[0]["end"] == "2024-04-01T00:00:00-04:00"
    result = runner.invoke(app, [*args, "--csv", "--usage-point", "u1"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 1
    assert rows[0]["usage_point"] == "u1"
    assert float(rows[0]["on_peak_kwh"]) + float(rows[0]["off_peak_kwh"]) == 5944.0
    result = runner.invoke(app, ["billing", "run", "--period", "2024-02", "--db", url])
    assert result.exit_code == 0, result.output
    assert "u0  2024-02  2024-02-01T00:00:00+00:00 .. 2024-03-01T00:00:00+00:00" in result.stdout
    assert "1 estimated" in result.stdout  # UTC February holds index 5


def test_billing_run_bad_usage_exits_2(tmp_path: Path) -> None:
    url = _db(tmp_path)
    result = runner.invoke(app, ["billing", "run", "--period", "2024-3", "--db", url])
    assert result.exit_code == 2
    assert "expected YYYY-MM" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('timezone = "Nowhere/Atlantis"\n')
    result = runner.invoke(
        app, ["billing", "run", "--period", "2024-03", "--db", url, "--calendar", str(bad)]
    )
    assert result.exit_code == 2
    assert "unknown time zone 'Nowhere/Atlantis'" in result.stderr
    result = runner.invoke(
        app, ["billing", "run", "--period", "2024-03", "--db", url, "--system-peak", "2024-03-02"]
    )
    assert result.exit_code == 2
    assert "with a zone" in result.stderr
