"""`cimmeter demo --once --tmp` end to end: the real HTTP server, the MDM and head-end cores, the
simulated fleet and two SQLite stores in one process. The assertions read the stores the demo
left behind and compare them with the simulated fleet (rebuilt from the same seed)."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.codes import named
from cimmeter.model.identity import ObjectRef
from cimmeter.runtime.demo import FLEET_START, FWD_REGISTER, TOUR_START
from cimmeter.runtime.simulate import SimulateOptions
from cimmeter.service.headend_common import ENERGIZATION
from cimmeter.store import EventQuery, ReadingQuery, open_store
from cimmeter.store.records import ControlState, ObjectKind

runner = CliRunner()


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, Path, Path]]:
    result = runner.invoke(app, ["demo", "--once", "--tmp", "--port", "0"])
    assert result.exit_code == 0, result.output
    match = re.search(r"stores: (\S+) \(MDM\), (\S+) \(head-end\)", result.output)
    assert match, result.output
    mdm, headend = Path(match.group(1)), Path(match.group(2))
    try:
        yield result.output, mdm, headend
    finally:
        shutil.rmtree(mdm.parent, ignore_errors=True)


def test_the_tour_is_narrated_with_real_urls(demo: tuple[str, Path, Path]) -> None:
    output, _, _ = demo
    for step in range(1, 8):
        assert f"\n{step}. " in output
    base = re.search(r"HTTP server on (http://127\.0\.0\.1:\d+)", output)
    assert base is not None
    assert f"{base.group(1)}/docs" in output and f"{base.group(1)}/openapi.json" in output
    assert "no authentication" in output
    assert "FAILED" not in output


def test_master_data_and_a_day_of_readings_in_the_mdm_store(demo: tuple[str, Path, Path]) -> None:
    _, mdm, headend = demo
    sim = SimulateOptions(meters=200, seed=1, start=FLEET_START).simulation()
    generated = sum(len(b) for chunk in sim.generate(FLEET_START, TOUR_START) for b in chunk)
    with open_store(f"sqlite:///{mdm}") as store, store.snapshot() as reader:
        assert reader.count_objects(ObjectKind.METER) == 200
        assert reader.count_objects(ObjectKind.USAGE_POINT) == 200
        day = list(reader.read_readings(ReadingQuery(start=FLEET_START, end=TOUR_START)))
        assert sum(len(b) for b in day) == generated
        # attributed to the usage point each meter was linked to
        assert {b.usage_point.mrid for b in day if b.usage_point} == {
            sim.fleet.mrid("usage-point", i) for i in range(200)
        }
    with open_store(f"sqlite:///{headend}") as store, store.snapshot() as reader:
        assert reader.count_objects(ObjectKind.METER) == 200  # the MDM's create MeterConfig


def test_outage_events_and_pings(demo: tuple[str, Path, Path]) -> None:
    _, mdm, _ = demo
    fleet = SimulateOptions(meters=200, seed=1, start=FLEET_START).simulation().fleet
    with open_store(f"sqlite:///{mdm}") as store, store.snapshot() as reader:
        off = reader.query_events(EventQuery(type_patterns=[str(named.POWER_OFF)]))
        on = reader.query_events(EventQuery(type_patterns=[str(named.POWER_RESTORED)]))
        dark = sorted(e.device_mrid or "" for e in off)
        transformers = {int(fleet.transformer[fleet.index_of(ObjectRef(mrid=m))]) for m in dark}
        assert len(transformers) == 1
        (transformer,) = transformers
        under = sorted(
            fleet.mrid("meter", int(i)) for i in fleet.meters_under_transformer(transformer)
        )
        assert dark == under and len(under) >= 3
        assert sorted(e.device_mrid or "" for e in on) == under
        assert len({e.created for e in off}) == 1 and len({e.created for e in on}) == 1
        assert min(e.created for e in on) > max(e.created for e in off)
        # the pings: during the outage nobody under the transformer answered (no reading), after
        # the restoration every one answered energised (1)
        pings = list(reader.read_readings(ReadingQuery(meters=under, reading_types=[ENERGIZATION])))
        assert sorted(b.meter.mrid or "" for b in pings) == under
        assert all(b.values.tolist() == [1.0] for b in pings)
        assert all(
            int(b.timestamps[0]) > int(max(e.created for e in on).timestamp()) for b in pings
        )


def test_on_demand_read_controls_and_relay(demo: tuple[str, Path, Path]) -> None:
    _, mdm, headend = demo
    with open_store(f"sqlite:///{mdm}") as store, store.snapshot() as reader:
        registers = list(
            reader.read_readings(ReadingQuery(reading_types=[FWD_REGISTER], start=TOUR_START))
        )
        (on_demand,) = registers  # the daily register reads are at TOUR_START, excluded
        assert len(on_demand) == 1 and on_demand.values[0] > 0
        controls = reader.find_controls()
        assert sorted(c.type_code for c in controls) == sorted(
            [str(named.REMOTE_DISCONNECT), str(named.REMOTE_CONNECT), str(named.DEMAND_RESET)]
        )
        assert {c.state for c in controls} == {ControlState.EXECUTED}
        switched = next(c.device_mrid for c in controls if c.type_code == str(named.REMOTE_CONNECT))
        relay = reader.query_events(EventQuery(devices=[switched], type_patterns=["3.31.0.*"]))
        codes = [e.type_code for e in relay]
        # outcome to the ReplyAddress and the meter's own relay event, for each operation
        assert codes.count(str(named.SWITCH_DISCONNECTED)) == 2
        assert codes.count(str(named.SWITCH_CONNECTED)) == 2
        last_open = max(e.created for e in relay if e.type_code == str(named.SWITCH_DISCONNECTED))
        assert (
            max(e.created for e in relay if e.type_code == str(named.SWITCH_CONNECTED)) > last_open
        )
        reset = next(c.device_mrid for c in controls if c.type_code == str(named.DEMAND_RESET))
        assert reader.query_events(
            EventQuery(devices=[reset], type_patterns=[str(named.DEMAND_RESET_OCCURRED)])
        )
    with open_store(f"sqlite:///{headend}") as store, store.snapshot() as reader:
        assert {c.state for c in reader.find_controls()} == {ControlState.EXECUTED}


def test_vee_wrote_a_final_series_and_the_green_button_file_is_valid(
    demo: tuple[str, Path, Path],
) -> None:
    from cimmeter.greenbutton.validate import validation_errors

    output, mdm, _ = demo
    sim = SimulateOptions(meters=200, seed=1, start=FLEET_START).simulation()
    with open_store(f"sqlite:///{mdm}") as store, store.snapshot() as reader:
        day = ReadingQuery(start=FLEET_START, end=TOUR_START)
        raw = sum(len(b) for b in reader.read_readings(day))
        final = list(
            reader.read_readings(ReadingQuery(start=FLEET_START, end=TOUR_START, series="final"))
        )
        estimated = sum(
            1
            for b in final
            for i in range(len(b))
            if any(code.startswith("3.8.") for code in b.qualities_at(i))
        )
    # every raw reading has its final value, plus the estimates VEE put in the gaps
    assert sum(len(b) for b in final) >= raw > 0
    match = re.search(r"(\d+) estimated \(raw kept", output)
    assert match and int(match.group(1)) == estimated > 0
    gb = mdm.parent / f"greenbutton-{sim.fleet.name('usage-point', 0)}.xml"
    assert gb.exists() and validation_errors(gb) == []
    assert sim.fleet.mrid("usage-point", 0) in gb.read_text()


def test_without_once_it_keeps_serving_until_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "cimmeter"), "demo", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "serving until Ctrl-C" in line:
                break
        base = re.search(r"HTTP server on (http://127\.0\.0\.1:\d+)", "".join(lines))
        assert base is not None, "".join(lines)
        health = httpx.get(f"{base.group(1)}/health", timeout=10).json()
        assert health["status"] == "ok" and health["roles"] == ["mdm", "headend"]
        meters = httpx.get(f"{base.group(1)}/meters", params={"limit": 5}, timeout=10).json()
        assert len(meters["items"]) == 5
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert "stopping" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # without --tmp the stores are in the working directory
    assert sorted(p.name for p in tmp_path.glob("cimmeter-demo*.db")) == [
        "cimmeter-demo-headend.db",
        "cimmeter-demo.db",
    ]


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(tmp_path)
            result = runner.invoke(app, ["demo", "--once", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "try another --port" in result.output
    assert not list(tmp_path.iterdir())  # nothing started, no store made
