"""`cimmeter simulate`: the files parse and validate, the counts match what the fleet generates
and what the files hold, the same seed gives the same bytes, and `--push` lands everything in a
real MDM (service core + SQLite) over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.cli.simulate import parse_interval
from cimmeter.cli.validate import validate_file
from cimmeter.message.envelope import read_xml
from cimmeter.runtime.app import ServeOptions
from cimmeter.runtime.server import ServeSettings
from cimmeter.runtime.simulate import SimulateOptions, _linkage, messages
from cimmeter.store import EventQuery, ReadingQuery, open_store
from cimmeter.store.records import ObjectKind
from cimmeter.transport.amqp import AmqpSettings
from cimmeter.transport.http import HttpSettings
from cimmeter.xml.stream import iter_blocks
from tests.runtime.helpers import running
from tests.transport.amqp_helpers import (
    AMQP_URL,
    broker_lock,
    delete_topology,
    require_broker,
    unique_prefix,
)

runner = CliRunner()


def simulate(*args: str) -> str:
    result = runner.invoke(app, ["simulate", *args])
    assert result.exit_code == 0, result.output
    return result.output


def count(summary: str, what: str) -> int:
    line = next(line for line in summary.splitlines() if f"{what} " in line)
    words = line.split()
    return int(words[words.index(what) + 1].replace(",", ""))


def test_files_parse_validate_and_counts_match(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = simulate(
        "--meters", "40", "--days", "2", "--out", str(out), "--outage-rate", "0.5", "--seed", "7"
    )
    files = sorted(out.iterdir())
    assert count(summary, "messages") == len(files)
    readings = events = 0
    kinds: dict[str, int] = {}
    for path in files:
        report = validate_file(path, strict=True)
        assert report.valid, (path, [i.text() for i in report.issues])
        parsed = read_xml(path.read_bytes())
        assert parsed.message is not None, path
        header = parsed.message.header  # type: ignore[union-attr]
        key = f"{header.verb.value} {header.noun}"
        kinds[key] = kinds.get(key, 0) + 1
        if header.noun == "MeterReadings":
            readings += sum(len(b) for b in iter_blocks(path))
        if header.noun == "EndDeviceEvents":
            events += len(parsed.message.payload.document.end_device_event)  # type: ignore[union-attr]
    assert kinds["create MeterConfig"] == 1
    assert kinds["create UsagePointConfig"] == 1
    assert kinds["create MasterDataLinkageConfig"] == 40
    assert readings == count(summary, "readings") > 40 * 2 * 96
    assert events == count(summary, "events") > 0  # 0.5 outages per transformer per day


def test_counts_match_the_generator(tmp_path: Path) -> None:
    options = SimulateOptions(meters=25, days=1, seed=3, readings_per_message=500)
    sim = options.simulation()
    generated = sum(len(b) for chunk in sim.generate(options.start, options.end) for b in chunk)
    produced = list(messages(options))
    assert sum(m.readings for m in produced) == generated
    assert all(m.readings <= 500 for m in produced if m.noun == "MeterReadings")
    assert len([m for m in produced if m.noun == "MeterReadings"]) >= generated // 500


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        simulate("--meters", "15", "--days", "1", "--seed", seed, "--out", str(tmp_path / name))

    def contents(name: str) -> list[tuple[str, bytes]]:
        return [(p.name, p.read_bytes()) for p in sorted((tmp_path / name).iterdir())]

    assert contents("a") == contents("b")
    assert contents("a") != contents("c")


def test_interval_option_and_bad_input(tmp_path: Path) -> None:
    assert parse_interval("15min") == timedelta(minutes=15)
    assert parse_interval("1h") == timedelta(hours=1)
    hourly = simulate(
        "--meters", "5", "--interval", "1h", "--no-master-data", "--out", str(tmp_path)
    )
    quarter = SimulateOptions(meters=5, master_data=False)
    assert count(hourly, "readings") < sum(m.readings for m in messages(quarter))
    assert not [p for p in tmp_path.iterdir() if "Config" in p.name]
    for args, text in (
        (["--meters", "5"], "exactly one of --out"),
        (["--meters", "5", "--out", str(tmp_path), "--push", "http://x"], "exactly one"),
        (["--meters", "0", "--out", str(tmp_path)], "at least 1"),
        (["--meters", "5", "--interval", "7min", "--out", str(tmp_path)], "interval must be"),
        (["--meters", "5", "--push", "ftp://x"], "http(s)://"),
    ):
        result = runner.invoke(app, ["simulate", *args])
        assert result.exit_code == 2, result.output
        assert text in result.output, result.output


def served(db: str, amqp: AmqpSettings | None = None) -> Iterator[str]:
    """A real MDM (`serve` wiring: service core + SQLite) on a free port, no auth; its URL."""
    options = ServeOptions(
        db_url=db,
        settings=ServeSettings(port=0, http=HttpSettings(require_auth=False), amqp=amqp),
    )
    with running(options) as server:
        yield server.base_url


@pytest.fixture
def mdm(tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = f"sqlite:///{tmp_path / 'mdm.db'}"
    for url in served(db):
        yield url, db


def test_push_lands_in_a_real_mdm(mdm: tuple[str, str]) -> None:
    url, db = mdm
    summary = simulate(
        "--meters", "12", "--days", "1", "--push", url, "--outage-rate", "1", "--seed", "2"
    )
    assert_landed(summary, db)


@pytest.mark.rabbitmq
def test_push_over_amqp_lands_in_a_real_mdm(tmp_path: Path) -> None:
    require_broker()
    prefix = unique_prefix()
    db = f"sqlite:///{tmp_path / 'mdm.db'}"
    with broker_lock():
        try:
            for _ in served(db, AmqpSettings(url=AMQP_URL, prefix=prefix)):
                summary = simulate(
                    "--meters", "12", "--days", "1", "--push", AMQP_URL, "--amqp-prefix", prefix,
                    "--outage-rate", "1", "--seed", "2",
                )  # fmt: skip
        finally:
            asyncio.run(delete_topology(prefix))
    assert_landed(summary, db)


def test_db_lands_in_an_mdm_in_this_process(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'mdm.db'}"
    summary = simulate(
        "--meters", "12", "--days", "1", "--db", db, "--outage-rate", "1", "--seed", "2"
    )
    assert_landed(summary, db)


def test_exactly_one_destination(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["simulate", "--meters", "2", "--out", str(tmp_path), "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2
    assert "exactly one of --out DIR, --push URL and --db URL" in result.output


def assert_landed(summary: str, db: str) -> None:
    assert "results: OK" in summary
    readings, events = count(summary, "readings"), count(summary, "events")
    options = SimulateOptions(meters=12, days=1, seed=2, outage_rate=1.0)
    sim = options.simulation()
    with open_store(db) as store, store.snapshot() as reader:
        stored = sum(len(b) for b in reader.read_readings(ReadingQuery()))
        meters = reader.list_objects(ObjectKind.METER)
        found = reader.query_events(EventQuery())
        linked = {
            b.usage_point.mrid
            for b in reader.read_readings(ReadingQuery())
            if b.usage_point is not None
        }
    assert stored == readings
    assert len(found) == events > 0
    assert {m.mrid for m in meters} == {sim.fleet.mrid("meter", i) for i in range(12)}
    assert linked == {sim.fleet.mrid("usage-point", i) for i in range(12)}


def test_linkages_from_the_template_are_what_the_envelope_writer_writes() -> None:
    options = SimulateOptions(meters=3, seed=4)
    fleet = options.simulation().fleet
    links = [m for m in messages(options) if m.noun == "MasterDataLinkageConfig"]
    assert len(links) == 3
    for i, link in enumerate(links):
        message = read_xml(link.body).message
        assert message is not None
        direct = _linkage(
            options,
            options.start,
            fleet.mrid("meter", i).encode(),
            fleet.mrid("usage-point", i).encode(),
            (message.header.message_id or "").encode(),  # type: ignore[union-attr]
        )
        assert link.body == direct
