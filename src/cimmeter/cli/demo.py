"""`cimmeter demo`: the MDM, the head-end and 200 simulated meters in one process, touring the
standard's main sequences (the logic is `cimmeter.runtime.demo`), after a look at the codes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cimmeter.cli.app import app
from cimmeter.codes import parse_any
from cimmeter.runtime.demo import DemoError, DemoOptions, run_demo, temporary_directory


def tour_codes(console: Console) -> None:
    """Decode a few codes of each system (what the tour's messages carry)."""
    console.print("[bold cyan]0. Codes[/bold cyan] (IEC 61968-9 code systems, `cimmeter codes`)")
    table = Table(show_header=True, header_style="bold")
    table.add_column("code", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("description")
    for text in (
        "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0",
        "3.26.0.85",
        "3.31.0.23",
    ):
        code = parse_any(text)
        table.add_row(text, code.kind, escape(code.describe()))
    console.print(table)


@app.command()
def demo(
    tmp: bool = typer.Option(False, "--tmp", help="Keep the demo stores in a temporary folder."),
    once: bool = typer.Option(False, "--once", help="Run the tour and exit instead of serving."),
    port: int = typer.Option(8600, "--port", help="HTTP port on 127.0.0.1 (0: any free port)."),
    meters: int = typer.Option(200, "--meters", help="Simulated meters."),
    seed: int = typer.Option(1, "--seed", help="Seed of the simulated fleet."),
) -> None:
    """Run an MDM, a head-end and simulated meters on SQLite, and tour the main sequences."""
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = 120  # piped or captured: room for the tables
    directory = temporary_directory() if tmp else Path.cwd()
    tour_codes(console)
    try:
        run_demo(
            DemoOptions(directory=directory, meters=meters, seed=seed, port=port),
            console,
            once=once,
        )
    except DemoError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
