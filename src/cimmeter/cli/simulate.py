"""`cimmeter simulate`: a simulated fleet's messages to files (`--out`) or to an MDM (`--push`).

The logic lives in `cimmeter.runtime.simulate`; this prints a progress bar and a summary.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cimmeter.cli.app import app
from cimmeter.headend.errors import FleetOptionsError
from cimmeter.runtime.simulate import (
    SimMessage,
    SimulateOptions,
    close_sink,
    expected_readings,
    run,
    sink_for,
)
from cimmeter.store import StoreError
from cimmeter.transport.client import SendError

_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600}


def parse_interval(text: str) -> timedelta:
    """`15min`, `5min`, `1h`, `30s`, or plain seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-z]*)\s*", text.lower())
    if not match or match.group(2) not in ("", *_UNITS):
        raise typer.BadParameter(f"expected e.g. 15min, 1h or 300s, got {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNITS.get(match.group(2), 1))


def _day(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"--start must be a day YYYY-MM-DD, got {text!r}") from None


@app.command()
def simulate(
    meters: int = typer.Option(..., "--meters", help="Number of simulated meters."),
    days: float = typer.Option(1.0, "--days", help="Days of data to generate."),
    interval: str = typer.Option("15min", "--interval", help="Interval length (15min, 1h...)."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same fleet, same bytes."),
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one message per file here.")
    ] = None,
    push: str | None = typer.Option(
        None, "--push", help="Send to an MDM: http(s)://host:port or amqp://..."
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Hand each message to an MDM in this process storing into this database "
        "(a SQLite file path or sqlite:///..., or postgresql://...): no server needed.",
    ),
    outage_rate: float | None = typer.Option(
        None, "--outage-rate", help="Outages per transformer per day (default 0.0015)."
    ),
    start: str = typer.Option("2025-06-02", "--start", help="First day (UTC), YYYY-MM-DD."),
    no_master_data: bool = typer.Option(
        False, "--no-master-data", help="Skip MeterConfig, UsagePointConfig, linkages."
    ),
    readings_per_message: int = typer.Option(100_000, help="Most readings in one message."),
    token: str | None = typer.Option(
        None, "--token", help="Bearer token for --push (default: CIMMETER_TOKEN)."
    ),
    amqp_prefix: str = typer.Option("cimmeter", help="AMQP queue prefix of the MDM."),
) -> None:
    """Simulate a fleet and deliver its master data, readings and events as 61968-100 messages."""
    err = Console(stderr=True)
    try:
        options = SimulateOptions(
            meters=meters,
            days=days,
            interval=parse_interval(interval),
            seed=seed,
            outage_rate=outage_rate,
            start=_day(start),
            master_data=not no_master_data,
            readings_per_message=readings_per_message,
        )
        options.simulation()  # checks the fleet options (interval, shares) before any output
        sink = sink_for(
            out,
            push,
            token or os.environ.get("CIMMETER_TOKEN") or None,
            amqp_prefix,
            db=db,
        )
    except (ValueError, FleetOptionsError, SendError, StoreError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    progress = Progress(
        TextColumn("[bold]simulating[/bold]"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[messages]} messages"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not sys.stderr.isatty(),
    )
    try:
        with progress:
            task = progress.add_task("readings", total=expected_readings(options), messages=0)

            def advance(message: SimMessage) -> None:
                progress.update(task, advance=message.readings, messages=message.number)

            stats = run(options, sink, advance)
    except SendError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        close_sink(sink)
    where = str(out) if out is not None else push or db
    console = Console(soft_wrap=True)
    console.print(
        f"[bold]simulated[/bold] {stats.meters:,} meters x {days:g} day{'s' if days != 1 else ''} "
        f"({options.start:%Y-%m-%d} .. {options.end:%Y-%m-%d %H:%M} UTC, seed {seed}) -> {where}"
    )
    console.print(
        f"  readings {stats.readings:,}  events {stats.events:,}  messages {stats.messages:,} "
        f"({stats.bytes / 1e6:,.1f} MB)"
    )
    console.print(f"  {stats.seconds:.1f} s, {stats.rate:,.0f} readings/s")
    if stats.results:
        console.print(
            "  results: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.results.items()))
        )
    if stats.results.get("FAILED") or stats.results.get("PARTIAL"):
        raise typer.Exit(1)
