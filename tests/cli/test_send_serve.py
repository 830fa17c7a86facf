"""`cimmeter send` against a live server, and `cimmeter serve` refusing to start unsafely."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimmeter.cli.app import app
from tests.transport.conftest import TOKEN, make_app, serve_in_thread
from tests.transport.memory import MemoryService
from tests.transport.test_http import event_json

runner = CliRunner()


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, MemoryService]]:
    service = MemoryService()
    for url in serve_in_thread(make_app(service)):
        yield url, service


def message_file(tmp_path: Path, value: str = "1.5", *, as_json: bool = True) -> Path:
    data = event_json(str(uuid.uuid4()), value)
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(data))
    if as_json:
        return path
    from cimmeter.message.envelope import write_xml
    from cimmeter.message.json import from_json

    xml = tmp_path / f"{path.stem}.xml"
    xml.write_bytes(write_xml(from_json(data)))  # type: ignore[arg-type]
    return xml


def test_one_xml_file_goes_as_soap_and_prints_the_reply(
    server: tuple[str, MemoryService], tmp_path: Path
) -> None:
    url, service = server
    before = service.applied
    result = runner.invoke(
        app,
        ["send", str(message_file(tmp_path, as_json=False)), "--to", url],
        env={"CIMMETER_TOKEN": TOKEN},
    )
    assert result.exit_code == 0, result.output
    assert "<Result>OK</Result>" in result.output
    assert "soap:Envelope" in result.output or "Envelope" in result.output
    assert service.applied == before + 1


def test_json_and_a_failed_reply_exit_1(server: tuple[str, MemoryService], tmp_path: Path) -> None:
    url, _ = server
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Header": {"Verb": "delete", "Noun": "EndDeviceEvents"}}))
    result = runner.invoke(
        app, ["send", str(bad), "--to", url, "--json"], env={"CIMMETER_TOKEN": TOKEN}
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["Reply"]["Result"] == "FAILED"


def test_many_files_print_one_line_each(server: tuple[str, MemoryService], tmp_path: Path) -> None:
    url, _ = server
    files = [str(message_file(tmp_path, str(i), as_json=i % 2 == 0)) for i in range(6)]
    result = runner.invoke(app, ["send", *files, "--to", url], env={"CIMMETER_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.rsplit(": ", 1)[1] for line in lines[:6]] == ["OK"] * 6
    assert lines[-1] == "6 sent: 6 OK, 0 PARTIAL, 0 FAILED"


@pytest.mark.parametrize(
    ("args", "env", "text"),
    [
        ([], {"CIMMETER_TOKEN": "wrong"}, "HTTP 401"),
        (["--to", "http://127.0.0.1:9"], {"CIMMETER_TOKEN": TOKEN}, "cannot reach"),
        (["--to", "ftp://x"], {}, "must be an http(s)://"),
    ],
)
def test_usage_and_connection_errors_exit_2(
    server: tuple[str, MemoryService],
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    text: str,
) -> None:
    url, _ = server
    argv = ["send", str(message_file(tmp_path))] + (args or ["--to", url])
    result = runner.invoke(app, argv, env=env)
    assert result.exit_code == 2, result.output
    assert text in result.output


def test_not_a_message_is_a_usage_error(server: tuple[str, MemoryService], tmp_path: Path) -> None:
    url, _ = server
    path = tmp_path / "x.xml"
    path.write_text("<hello/>")
    result = runner.invoke(app, ["send", str(path), "--to", url], env={"CIMMETER_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert "not a 61968-100 message" in result.output


def test_serve_needs_a_token_or_an_explicit_no_auth() -> None:
    result = runner.invoke(app, ["serve", "--port", "0"], env={"CIMMETER_TOKEN": ""})
    assert result.exit_code == 2
    assert "--no-auth" in result.output
    result = runner.invoke(app, ["serve", "--no-auth", "--token", "t"])
    assert result.exit_code == 2 and "choose one" in result.output
    result = runner.invoke(app, ["serve", "--role", "cis", "--no-auth"])
    assert result.exit_code == 2 and "--role must be one of" in result.output


def test_serve_settings_carry_the_options() -> None:
    from cimmeter.cli.serve import settings_from_options

    settings = settings_from_options(
        host="0.0.0.0",
        port=8443,
        token="a, b",
        no_auth=False,
        amqp="amqp://guest:guest@127.0.0.1/",
        amqp_prefix="p",
        max_body_mb=1,
        threads=2,
        ssl_certfile="c.pem",
        ssl_keyfile="k.pem",
    )
    assert settings.http.tokens == ("a", "b")
    assert settings.http.max_body_bytes == 1024 * 1024
    assert settings.amqp is not None and settings.amqp.prefix == "p"


def test_serve_refuses_a_bad_billing_config_before_starting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = runner.invoke(app, ["serve", "--no-auth", "--billing-config", str(missing)])
    assert result.exit_code == 2
    assert f"--billing-config {missing}" in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text('timezone = "Mars/Olympus_Mons"\n')
    result = runner.invoke(app, ["serve", "--no-auth", "--billing-config", str(broken)])
    assert result.exit_code == 2
    assert "Mars/Olympus_Mons" in result.output


def test_serve_runs_vee_after_ingest_unless_told_not_to() -> None:
    from typer.main import get_command

    serve_command = get_command(app).commands["serve"]  # type: ignore[attr-defined]
    vee = next(p for p in serve_command.params if p.name == "vee")
    assert vee.default is True
    assert "--no-vee" in vee.secondary_opts
