"""`cimmeter demo`: a narrated tour of what cimmeter does (extended as features land)."""

from __future__ import annotations

import typer
from rich.console import Console

from cimmeter.cli.app import app


@app.command()
def demo(
    tmp: bool = typer.Option(False, "--tmp", help="Keep the demo database in a temporary folder."),
    once: bool = typer.Option(False, "--once", help="Run the tour and exit instead of serving."),
) -> None:
    """Tour the standard's main sequences on the embedded store (no servers needed)."""
    console = Console()
    console.print("[bold]cimmeter demo[/bold]: the tour grows as features land.")
