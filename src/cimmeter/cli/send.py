"""`cimmeter send FILE... --to URL [--json]`: send messages, print the Replies.

The URL is a server root (`http(s)://host:port`, the endpoint is chosen from each message) or an
AMQP broker (`amqp://user:pass@host:port/vhost`, the noun's request queue). The token comes from
`CIMMETER_TOKEN` (or `--token`). Exit status: 0 when every Result is OK, 1 when any is PARTIAL
or FAILED, 2 on a usage or connection error.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from lxml import etree
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cimmeter.cli.app import app
from cimmeter.message.json import to_json
from cimmeter.transport.client import AmqpSender, HttpSender, SendError, SendResult
from cimmeter.transport.inbound import Role

_PROGRESS_FROM = 5
"""Show a progress bar from this many files on (and one line per file instead of the Reply)."""


def _pretty(result: SendResult) -> str:
    if "json" in result.content_type:
        try:
            return json.dumps(json.loads(result.body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    try:
        root = etree.fromstring(
            result.body, etree.XMLParser(resolve_entities=False, no_network=True)
        )
        return etree.tostring(root, pretty_print=True, encoding="unicode")
    except etree.XMLSyntaxError:
        return result.body.decode("utf-8", "replace")


def _summary(result: SendResult) -> dict[str, object]:
    reply = getattr(result.reply, "reply", None)
    errors = [
        {"code": e.code, "level": e.level.value if e.level else None, "reason": e.reason}
        for e in (reply.errors if reply is not None else ())
    ]
    return {"result": result.result, "endpoint": result.endpoint, "errors": errors}


@app.command()
def send(
    files: Annotated[list[Path], typer.Argument(help="Message files (XML or JSON).", exists=True)],
    to: str = typer.Option(..., "--to", help="http(s)://host:port (server root) or amqp://..."),
    as_json: bool = typer.Option(
        False, "--json", help="Send as JSON (POST /messages) and print JSON."
    ),
    token: str | None = typer.Option(
        None, "--token", help="Bearer token (default: the CIMMETER_TOKEN environment variable)."
    ),
    headend: bool = typer.Option(
        False, "--headend", help="Address the head-end of a `serve --role both` server."
    ),
    queue_prefix: str = typer.Option("cimmeter", help="AMQP queue prefix of the server."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for each Reply."),
) -> None:
    """Send 61968-100 messages to a server and print the Replies."""
    token = token or os.environ.get("CIMMETER_TOKEN") or None
    scheme = to.split(":", 1)[0].lower()
    if scheme not in ("http", "https", "amqp", "amqps"):
        typer.echo(f"error: --to must be an http(s):// or amqp:// URL, got {to!r}", err=True)
        raise typer.Exit(2)
    bodies = []
    for path in files:
        try:
            bodies.append((path, path.read_bytes()))
        except OSError as exc:
            typer.echo(f"error: cannot read {path}: {exc}", err=True)
            raise typer.Exit(2) from None
    try:
        if scheme.startswith("amqp"):
            results = asyncio.run(_send_amqp(bodies, to, queue_prefix, headend, timeout, as_json))
        else:
            prefix = "/headend" if headend else ""
            with HttpSender(
                to, token=token, as_json=as_json, timeout=timeout, prefix=prefix
            ) as sender:
                results = _each(bodies, sender.send)
    except SendError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _print(results, as_json)
    raise typer.Exit(0 if all(r.ok for _, r in results) else 1)


def _progress() -> Progress:
    return Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
    )


def _each(
    bodies: list[tuple[Path, bytes]], send_one: Callable[[bytes], SendResult]
) -> list[tuple[Path, SendResult]]:
    results = []
    with _progress() as progress:
        task = progress.add_task("send", total=len(bodies), visible=len(bodies) >= _PROGRESS_FROM)
        for path, body in bodies:
            try:
                results.append((path, send_one(body)))
            except SendError as exc:
                raise SendError(f"{path}: {exc}") from None
            progress.advance(task)
    return results


async def _send_amqp(
    bodies: list[tuple[Path, bytes]],
    url: str,
    prefix: str,
    headend: bool,
    timeout: float,
    as_json: bool,
) -> list[tuple[Path, SendResult]]:
    role = Role.HEADEND if headend else Role.MDM
    results = []
    async with AmqpSender(url, prefix=prefix, role=role, timeout=timeout, as_json=as_json) as s:
        with _progress() as progress:
            task = progress.add_task(
                "send", total=len(bodies), visible=len(bodies) >= _PROGRESS_FROM
            )
            for path, body in bodies:
                try:
                    results.append((path, await s.send(body)))
                except SendError as exc:
                    raise SendError(f"{path}: {exc}") from None
                progress.advance(task)
    return results


def _print(results: list[tuple[Path, SendResult]], as_json: bool) -> None:
    if len(results) == 1 and not as_json:
        typer.echo(_pretty(results[0][1]))
        return
    if len(results) == 1:
        ((_, result),) = results
        data = to_json(result.reply) if result.reply is not None else json.loads(result.body)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if as_json:
        typer.echo(
            json.dumps(
                [{"file": str(path), **_summary(r)} for path, r in results],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for path, result in results:
        summary = _summary(result)
        reasons = "; ".join(str(e["reason"]) for e in summary["errors"][:3])  # type: ignore[index]
        typer.echo(f"{path}: {result.result}" + (f" ({reasons})" if reasons else ""))
    counts = {k: sum(1 for _, r in results if r.result == k) for k in ("OK", "PARTIAL", "FAILED")}
    typer.echo(
        f"{len(results)} sent: {counts['OK']} OK, {counts['PARTIAL']} PARTIAL, "
        f"{counts['FAILED']} FAILED"
    )
