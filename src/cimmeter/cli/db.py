"""`cimmeter db`: create or upgrade the database schema, and show what a database holds.

Exit status: 0 ok, 1 the schema is not current (`db info`), 2 bad usage or no database.
"""

from __future__ import annotations

import json
import os

import typer
from rich.console import Console
from rich.table import Table

from cimmeter.cli.app import app
from cimmeter.store import DEFAULT_URL, StoreError, open_store

db_app = typer.Typer(
    name="db", help="Create, upgrade and inspect the database.", no_args_is_help=True
)
app.add_typer(db_app)

DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL: a file path or sqlite:///path (SQLite), or postgresql://... "
    f"[default: $CIMMETER_DB or {DEFAULT_URL}]",
)


def database_url(value: str | None) -> str:
    """The URL given, else $CIMMETER_DB, else the embedded default."""
    return value or os.environ.get("CIMMETER_DB") or DEFAULT_URL


@db_app.command()
def upgrade(
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Apply pending schema migrations (creates the schema in an empty database)."""
    url = database_url(db)
    try:
        with open_store(url) as store:
            applied = store.upgrade()
            version = store.schema_version()
    except StoreError as error:
        typer.echo(f"cimmeter db upgrade: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps({"url": url, "applied": applied, "schema_version": version}))
    elif applied:
        typer.echo(f"applied migrations {', '.join(map(str, applied))}: schema version {version}")
    else:
        typer.echo(f"schema is current (version {version})")


@db_app.command()
def info(
    db: str | None = DB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Show the engine, the schema version and row counts."""
    url = database_url(db)
    try:
        with open_store(url) as store:
            details = store.info()
    except StoreError as error:
        typer.echo(f"cimmeter db info: {error}", err=True)
        raise typer.Exit(2) from error
    current = details.schema_version == details.latest_version
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "engine": details.engine,
                    "url": details.url,
                    "schema_version": details.schema_version,
                    "latest_version": details.latest_version,
                    "counts": details.counts,
                }
            )
        )
    else:
        console = Console()
        console.print(f"[bold]{details.engine}[/bold] {details.url}")
        state = "current" if current else "[red]not current: run cimmeter db upgrade[/red]"
        console.print(
            f"schema version {details.schema_version} of {details.latest_version} ({state})"
        )
        if details.counts:
            table = Table("what", "rows")
            for label, count in details.counts.items():
                table.add_row(label, f"{count:,}")
            console.print(table)
    if not current:
        raise typer.Exit(1)
