"""`cimmeter codes` through typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cimmeter.cli import app

KWH_15 = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
runner = CliRunner()


def test_describe_json_is_exactly_one_object() -> None:
    result = runner.invoke(app, ["codes", "describe", KWH_15, "--json"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["kind"] == "ReadingType"
    assert obj["code"] == KWH_15
    assert obj["fields"]["measuringPeriod"] == {"code": 2, "name": "fifteenMinute"}
    assert obj["description"] == "15-minute delta forward active energy, kWh"


def test_describe_detects_the_kind_by_field_count() -> None:
    kinds = {}
    for code in ("3.26.0.85", "3.31.0.23", "3.8.0"):
        result = runner.invoke(app, ["codes", "describe", code, "--json"])
        assert result.exit_code == 0
        kinds[code] = json.loads(result.stdout)["kind"]
    assert kinds == {
        "3.26.0.85": "EndDeviceEventType",
        "3.31.0.23": "EndDeviceControlType",
        "3.8.0": "ReadingQualityType",
    }
    forced = runner.invoke(app, ["codes", "describe", "3.31.0.23", "--as", "event", "--json"])
    assert json.loads(forced.stdout)["kind"] == "EndDeviceEventType"
    fields = json.loads(runner.invoke(app, ["codes", "describe", "3.8.0", "--json"]).stdout)
    assert list(fields["fields"]) == ["systemId", "category", "subCategory"]


def test_describe_human_table() -> None:
    result = runner.invoke(app, ["codes", "describe", KWH_15], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "fifteenMinute" in result.stdout
    assert "electricitySecondaryMetered" in result.stdout
    assert "15-minute delta forward active energy, kWh" in result.stdout
    unknown = runner.invoke(app, ["codes", "describe", "3.26.999.85"], env={"COLUMNS": "120"})
    assert "unknown" in unknown.stdout
    assert "[subDomain 999]" in unknown.stdout  # not eaten as rich markup


def test_describe_a_named_id() -> None:
    result = runner.invoke(app, ["codes", "describe", "remoteDisconnect", "--json"])
    assert json.loads(result.stdout)["code"] == "3.31.0.23"
    result = runner.invoke(app, ["codes", "describe", "mdmEstimated", "--json"])
    assert json.loads(result.stdout)["code"] == "3.8.0"


def test_malformed_code_exits_2_with_one_line_on_stderr() -> None:
    for bad in ("1.2", "3.26.x.85", "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.-72.0", "nonsense"):
        result = runner.invoke(app, ["codes", "describe", bad, "--json"])
        assert result.exit_code == 2, bad
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("error: malformed")
    field = runner.invoke(app, ["codes", "describe", "3.26.x.85"])
    assert "field 3 (subDomain)" in field.stderr


def test_search() -> None:
    result = runner.invoke(app, ["codes", "search", "power", "off", "--json"])
    assert result.exit_code == 0
    obj = json.loads(result.stdout)
    assert obj["query"] == "power off"
    assert obj["results"][0] == {
        "kind": "EndDeviceEventType",
        "code": "3.26.0.85",
        "id": "powerOff",
        "description": "power off / outage (meter)",
    }
    human = runner.invoke(app, ["codes", "search", "remote disconnect"], env={"COLUMNS": "120"})
    assert human.exit_code == 0
    assert "3.31.0.23" in human.stdout
    none = runner.invoke(app, ["codes", "search", "zzzz", "--json"])
    assert none.exit_code == 1
    assert json.loads(none.stdout)["results"] == []


def test_build() -> None:
    args = ["codes", "build", "--unit", "Wh", "--multiplier", "k"]
    args += ["--measuring-period", "fifteenMinute", "--accumulation", "deltaData"]
    args += ["--flow-direction", "forward", "--commodity", "electricitySecondaryMetered"]
    args += ["--measurement-kind", "energy"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert result.stdout.strip() == KWH_15
    milli = runner.invoke(app, ["codes", "build", "--unit", "V", "--multiplier", "m", "--json"])
    assert json.loads(milli.stdout)["fields"]["multiplier"] == {"code": -3, "name": "m"}
    negative = runner.invoke(app, ["codes", "build", "--unit", "V", "--multiplier", "-3"])
    assert negative.stdout.strip() == "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.-3.29.0"
    control = runner.invoke(
        app,
        ["codes", "build", "--domain", "RCDSwitch", "--event-or-action", "Disconnect", "--json"],
    )
    obj = json.loads(control.stdout)
    assert (obj["kind"], obj["code"]) == ("EndDeviceControlType", "3.31.0.23")
    quality = runner.invoke(
        app, ["codes", "build", "--system-id", "MDM", "--category", "estimated"]
    )
    assert quality.stdout.strip() == "3.8.0"


def test_build_errors_exit_2() -> None:
    bad_name = runner.invoke(app, ["codes", "build", "--unit", "Whh"])
    assert bad_name.exit_code == 2
    assert "did you mean Wh" in bad_name.stderr
    mixed = runner.invoke(app, ["codes", "build", "--unit", "Wh", "--domain", "Power"])
    assert mixed.exit_code == 2
    assert "exactly one code system" in mixed.stderr
    nothing = runner.invoke(app, ["codes", "build"])
    assert nothing.exit_code == 2


def test_demo_tours_the_codes() -> None:
    from rich.console import Console

    from cimmeter.cli.demo import tour_codes

    console = Console(record=True, width=160)
    tour_codes(console)
    text = console.export_text()
    assert "15-minute delta forward active energy, kWh" in text
    assert "electric meter power failed" in text  # 3.26.0.85 decoded
    assert "remote disconnect" in text  # 3.31.0.23 decoded
