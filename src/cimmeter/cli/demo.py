"""`cimmeter demo`: a narrated tour of what cimmeter does (extended as features land)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cimmeter.cli.app import app
from cimmeter.codes import ReadingType, named, parse_any, search


def tour_codes(console: Console) -> None:
    """Decode a few codes of each system, build one from names, find one by words."""
    console.print("[bold]1. Codes[/bold] (IEC 61968-9 code systems, `cimmeter codes`)")
    table = Table(show_header=True, header_style="bold")
    table.add_column("code", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("description")
    for text in (
        "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0",
        "8.8.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0",
        "3.26.0.85",
        "3.31.0.23",
        "3.8.0",
    ):
        code = parse_any(text)
        table.add_row(text, code.kind, escape(code.describe()))
    console.print(table)
    built = ReadingType.build(
        measuring_period="sixtyMinute",
        accumulation="deltaData",
        flow_direction="reverse",
        commodity="electricitySecondaryMetered",
        measurement_kind="energy",
        multiplier="k",
        unit="Wh",
    )
    console.print(escape(f"built from names: {built} ({built.describe()})"))
    outcome = named.REMOTE_DISCONNECT.outcome("processed")
    console.print(f"outcome of remote disconnect {named.REMOTE_DISCONNECT}: {outcome}")
    hit = search("power restored")[0]
    console.print(f'search "power restored": {hit.code} ({hit.id})')


@app.command()
def demo(
    tmp: bool = typer.Option(False, "--tmp", help="Keep the demo database in a temporary folder."),
    once: bool = typer.Option(False, "--once", help="Run the tour and exit instead of serving."),
) -> None:
    """Tour the standard's main sequences on the embedded store (no servers needed)."""
    console = Console()
    console.print("[bold]cimmeter demo[/bold]: the tour grows as features land.")
    tour_codes(console)
