"""`cimmeter export greenbutton` and `cimmeter import greenbutton`: ESPI Atom feeds.

Exit status: 0 ok, 1 the written or read feed does not validate against the ESPI schema,
2 bad usage (times, files, database, a feed that cannot be imported).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from cimmeter.billing import CalendarError, StoreSource
from cimmeter.cli.app import app
from cimmeter.cli.billing import EXAMPLE_CALENDAR, billing_config
from cimmeter.cli.db import DB_OPTION, database_url
from cimmeter.greenbutton.export import ExportError, ExportOptions, StoreFeedReader, write_feed
from cimmeter.greenbutton.importer import FeedError, import_feed
from cimmeter.greenbutton.validate import validation_errors
from cimmeter.store import Store, StoreError, open_store
from cimmeter.store.records import ObjectKind

export_app = typer.Typer(name="export", help="Export data in other formats.", no_args_is_help=True)
import_app = typer.Typer(
    name="import", help="Import data from other formats.", no_args_is_help=True
)
app.add_typer(export_app)
app.add_typer(import_app)


def _fail(command: str, message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"cimmeter {command}: {message}", err=True)
    return typer.Exit(code)


def _time(text: str, option: str, zone: object) -> datetime:
    """An ISO time with a zone, or a date (local midnight in the configured zone)."""
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            return datetime.combine(day, time(0), tzinfo=zone)  # type: ignore[arg-type]
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _fail(
            "export greenbutton",
            f"{option} {text!r}: expected a date YYYY-MM-DD (local midnight) or an ISO 8601 "
            "time with a zone, e.g. 2024-03-01T05:00:00Z",
        )
    return at


@export_app.command("greenbutton")
def export_greenbutton(
    start: Annotated[str, typer.Option("--from", help="Start (exclusive): date or ISO time.")],
    end: Annotated[str, typer.Option("--to", help="End (inclusive): date or ISO time.")],
    usage_point: Annotated[
        list[str] | None,
        typer.Option("--usage-point", help="Usage point mRID (repeatable); default: all."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output file; default stdout.")] = None,
    db: str | None = DB_OPTION,
    calendar: Annotated[
        Path | None,
        typer.Option(
            "--calendar",
            help=f"Billing configuration for UsageSummaries and the zone. E.g. {EXAMPLE_CALENDAR}",
        ),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Time zone (overrides the file's).")
    ] = None,
    validate: Annotated[
        bool, typer.Option("--validate", help="Validate the written file (with --out).")
    ] = False,
) -> None:
    """Write a Green Button (ESPI Atom) feed of usage points' readings and bills."""
    command = "export greenbutton"
    try:
        config = billing_config(calendar, timezone)
    except CalendarError as error:
        raise _fail(command, str(error)) from error
    zone = config.calendar.zone
    options = ExportOptions(
        start=_time(start, "--from", zone),
        end=_time(end, "--to", zone),
        billing=config,
        updated=datetime.now(UTC).replace(microsecond=0),
        series=config.series,
    )
    if options.end <= options.start:
        raise _fail(command, f"--to {end} is not after --from {start}")
    try:
        with open_store(database_url(db)) as store:
            reader = StoreFeedReader(store)
            ups = list(usage_point or ()) or _all_usage_points(store)
            for up in ups:
                if reader.get_object(ObjectKind.USAGE_POINT, up) is None:
                    raise _fail(command, f"no UsagePoint with mRID {up!r}")
            if out is None:
                stats = write_feed(sys.stdout.buffer, reader, ups, options)
            else:
                with out.open("wb") as handle:
                    stats = write_feed(handle, reader, ups, options)
    except (StoreError, ExportError, OSError) as error:
        raise _fail(command, str(error)) from error
    typer.echo(
        f"{stats.usage_points} usage points, {stats.readings} readings in "
        f"{stats.interval_blocks} interval blocks, {stats.usage_summaries} usage summaries, "
        f"{stats.bytes} bytes",
        err=True,
    )
    if validate and out is not None:
        errors = validation_errors(out)
        for line in errors[:20]:
            typer.echo(f"{out}: {line}", err=True)
        if errors:
            raise typer.Exit(1)
        typer.echo(f"{out}: valid ESPI feed", err=True)


def _all_usage_points(store: Store) -> list[str]:
    return list(StoreSource(store).usage_points())


@import_app.command("greenbutton")
def import_greenbutton(
    file: Annotated[Path, typer.Argument(help="An ESPI Atom feed (ours or another utility's).")],
    db: str | None = DB_OPTION,
    usage_point: Annotated[
        str | None,
        typer.Option("--usage-point", help="Store as this usage point (a one-point feed)."),
    ] = None,
    validate: Annotated[
        bool,
        typer.Option("--validate/--no-validate", help="Check the feed against the ESPI schema."),
    ] = True,
) -> None:
    """Read a Green Button feed into the store as readings of its usage points."""
    command = "import greenbutton"
    if not file.is_file():
        raise _fail(command, f"{file}: no such file")
    if validate:
        try:
            errors = validation_errors(file)
        except Exception as error:  # lxml's XMLSyntaxError and friends: not well-formed
            raise _fail(command, f"{file}: not well-formed XML: {error}") from error
        if errors:
            for line in errors[:20]:
                typer.echo(f"{file}: {line}", err=True)
            raise _fail(command, f"{file}: not a valid ESPI feed ({len(errors)} errors)", 1)
    try:
        with open_store(database_url(db), upgrade=True) as store:
            stats = import_feed(store, file, usage_point=usage_point)
    except (StoreError, FeedError) as error:
        raise _fail(command, str(error)) from error
    typer.echo(
        f"{stats.readings} readings of {', '.join(stats.usage_points) or 'no usage point'} "
        f"({len(stats.reading_types)} reading types, {stats.rejected} rejected)"
    )
    if stats.rejected:
        raise typer.Exit(1)
