"""`cimmeter validate` and `cimmeter convert`: output lines, JSON, exit status."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.message import json as cim_json
from cimmeter.message.envelope import read_xml
from tests.conftest import DATA

runner = CliRunner()


def test_validate_valid_files_exit_0() -> None:
    result = runner.invoke(app, ["validate", "--strict", *map(str, sorted(DATA.glob("*.xml")))])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_validate_prints_file_line_path_message_and_exits_1() -> None:
    path = DATA / "invalid" / "bad-codes-and-times.xml"
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{path}:15: /MeterReadings/MeterReading[1]/Readings[1]/timeStamp: timestamp" in lines[3]
    assert any(line.startswith(f"{path}:3: ") and "warning:" in line for line in lines)


def test_validate_json_output_and_unreadable_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    good = DATA / "created-EndDeviceEvents.json"
    result = runner.invoke(app, ["validate", "--json", str(good), str(missing)])
    assert result.exit_code == 2
    reports = json.loads(result.stdout)
    assert [r["valid"] for r in reports] == [True, False]
    assert reports[1]["unreadable"]


def test_validate_strict_rejects_what_lenient_accepts() -> None:
    path = str(DATA / "invalid" / "vendor-extension.xml")
    assert runner.invoke(app, ["validate", path]).exit_code == 0
    strict = runner.invoke(app, ["validate", "--strict", path])
    assert strict.exit_code == 1
    assert "No matching global declaration" in strict.stdout


def test_validate_refuses_hostile_xml(tmp_path: Path) -> None:
    bomb = tmp_path / "laughs.xml"
    bomb.write_text('<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><l>&b;</l>')
    result = runner.invoke(app, ["validate", str(bomb)])
    assert result.exit_code == 1
    assert "DOCTYPE" in result.stdout


def test_convert_xml_to_json_to_typed_soap_xml(tmp_path: Path) -> None:
    source = DATA / "created-MeterReadings.xml"
    as_json = runner.invoke(app, ["convert", str(source), "--to", "json"])
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    assert data["messageKind"] == "EventMessage"
    json_file = tmp_path / "m.json"
    json_file.write_text(as_json.stdout)
    out = tmp_path / "m.xml"
    result = runner.invoke(
        app,
        [
            "convert",
            str(json_file),
            "--to",
            "xml",
            "--form",
            "typed",
            "--soap",
            "1.1",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    back = read_xml(out, strict=True)
    assert back.form == "typed" and back.soap == "1.1" and back.issues == []
    assert back.message == read_xml(source).message == cim_json.from_json(data)


def test_convert_reports_errors_exit_1() -> None:
    result = runner.invoke(
        app, ["convert", str(DATA / "invalid" / "bad-codes-and-times.xml"), "--to", "json"]
    )
    assert result.exit_code == 1
    assert "has no time zone" in result.output
