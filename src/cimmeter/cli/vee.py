"""`cimmeter vee`: validation, estimation and editing of readings (issue 10).

    cimmeter vee run [--usage-point ID ... | --group G] --from T --to T [--db URL]
    cimmeter vee rules list | show NAME | set FILE
    cimmeter vee edit --usage-point ID --reading-type RT --at T --value V --reason "..."
    cimmeter vee report --period 2024-03 [--json]

Exit status: 0 ok, 2 bad usage (bad time, unknown rule, bad config file, no database).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from cimmeter.cli.app import app
from cimmeter.cli.db import DB_OPTION, database_url
from cimmeter.store import StoreError, open_store
from cimmeter.vee import RULES, VeeConfig, VeeConfigError
from cimmeter.vee.editing import EditError, edit_reading, parse_period, report
from cimmeter.vee.runner import load_config, run_vee

vee_app = typer.Typer(
    name="vee",
    help="Validate, estimate and edit readings (raw stays; final beside it).",
    no_args_is_help=True,
)
rules_app = typer.Typer(name="rules", help="List, show and set VEE rules.", no_args_is_help=True)
vee_app.add_typer(rules_app)
app.add_typer(vee_app)

JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON.")


def _fail(command: str, message: str) -> typer.Exit:
    typer.echo(f"cimmeter vee {command}: {message}", err=True)
    return typer.Exit(2)


def parse_time(text: str, what: str) -> datetime:
    """ISO 8601 date or datetime; without a zone it is UTC (the store keeps UTC)."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"{what}: {text!r} is not an ISO 8601 date or datetime") from error
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@vee_app.command("run")
def run_command(
    start: str = typer.Option(..., "--from", help="Start (exclusive), ISO 8601."),
    end: str = typer.Option(..., "--to", help="End (inclusive), ISO 8601."),
    usage_point: list[str] = typer.Option([], "--usage-point", help="Usage point mRID(s)."),  # noqa: B008
    group: str | None = typer.Option(None, "--group", help="Usage point group (mRID or name)."),
    config: Path | None = typer.Option(None, "--config", help="Rules file (TOML/JSON)."),  # noqa: B008
    now: str | None = typer.Option(None, "--now", help="Now, for future/stale checks."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Run VEE over (from, to]: all meters, some usage points, or a group."""
    if usage_point and group:
        raise _fail("run", "give --usage-point or --group, not both")
    try:
        t0, t1 = parse_time(start, "--from"), parse_time(end, "--to")
        at = parse_time(now, "--now") if now else datetime.now(UTC)
        rules = VeeConfig.load(config) if config else None
        with open_store(database_url(db)) as store:
            summary = run_vee(
                store, start=t0, end=t1, now=at, usage_points=usage_point, group=group, config=rules
            )
    except (ValueError, StoreError) as error:
        raise _fail("run", str(error)) from error
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
        return
    c = summary.counts
    typer.echo(
        f"{summary.meters} meters, {summary.channels} channels, {summary.readings} raw readings: "
        f"{c['actual']} actual, {c['estimated']} estimated, {c['edited']} edited, "
        f"{c['missing']} missing; {summary.written} final rows written"
    )
    for rule, count in sorted(summary.rules.items()):
        typer.echo(f"  {rule}: {count}")


@rules_app.command("list")
def rules_list(as_json: bool = JSON_OPTION) -> None:
    """Every rule and estimation method with its quality code."""
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "kind": r.kind,
                        "quality": r.quality,
                        "description": r.description,
                    }
                    for r in RULES.values()
                ]
            )
        )
        return
    table = Table("rule", "kind", "code", "what")
    for r in RULES.values():
        table.add_row(r.name, r.kind, r.quality, r.description)
    Console(width=120).print(table)


@rules_app.command("show")
def rules_show(
    name: str = typer.Argument(..., help="A rule or method name."),
    reading_type: str = typer.Option("", "--reading-type", help="Resolve for this type."),
    group: list[str] = typer.Option([], "--group", help="Resolve for these groups."),  # noqa: B008
    db: str | None = typer.Option(None, "--db", help="Use the rules stored in this database."),
    config: Path | None = typer.Option(None, "--config", help="Use this rules file."),  # noqa: B008
    as_json: bool = JSON_OPTION,
) -> None:
    """A rule's parameters: defaults, or as resolved from a file or the database."""
    if name not in RULES:
        raise _fail("rules show", f"unknown rule {name!r}; known: {', '.join(RULES)}")
    try:
        if config:
            rules = VeeConfig.load(config)
        elif db:
            with open_store(database_url(db)) as store, store.snapshot() as reader:
                rules = load_config(reader, None)
        else:
            rules = VeeConfig()
    except (VeeConfigError, StoreError) as error:
        raise _fail("rules show", str(error)) from error
    spec = RULES[name]
    params = rules.params(name, reading_type, tuple(group))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": name,
                    "kind": spec.kind,
                    "quality": spec.quality,
                    "description": spec.description,
                    "params": params,
                }
            )
        )
        return
    typer.echo(f"{name} ({spec.kind}, {spec.quality}): {spec.description}")
    for key, value in params.items():
        default = spec.params[key]
        mark = "" if value == default else f"  (default {default})"
        typer.echo(f"  {key} = {value}{mark}")


@rules_app.command("set")
def rules_set(
    config: Path = typer.Argument(..., help="Rules file (TOML or JSON)."),  # noqa: B008
    db: str | None = DB_OPTION,
) -> None:
    """Check a rules file and store it as the database's VEE configuration."""
    try:
        rules = VeeConfig.load(config)
        with open_store(database_url(db)) as store, store.transaction() as tx:
            tx.put_vee_config(rules.to_mapping(), datetime.now(UTC))
    except (VeeConfigError, OSError, StoreError) as error:
        raise _fail("rules set", str(error)) from error
    typer.echo(f"stored VEE rules from {config}")


@vee_app.command("edit")
def edit_command(
    usage_point: str = typer.Option(..., "--usage-point", help="Usage point mRID."),
    reading_type: str = typer.Option(..., "--reading-type", help="ReadingType code."),
    at: str = typer.Option(..., "--at", help="The reading's timestamp (interval end)."),
    value: float = typer.Option(..., "--value", help="The value to use."),
    reason: str = typer.Option(..., "--reason", help="Why (kept with the edit)."),
    user: str = typer.Option("cli", "--user", help="Who edits."),
    db: str | None = DB_OPTION,
) -> None:
    """Edit one final-series value (a new version; the value before stays)."""
    try:
        when = parse_time(at, "--at")
        with open_store(database_url(db)) as store, store.transaction() as tx:
            code = edit_reading(
                tx,
                usage_point=usage_point,
                reading_type=reading_type,
                at=when,
                value=value,
                reason=reason,
                user=user,
                now=datetime.now(UTC),
            )
    except (ValueError, EditError, StoreError) as error:
        raise _fail("edit", str(error)) from error
    typer.echo(f"edited {usage_point} {reading_type} at {when.isoformat()}: {value} ({code})")


@vee_app.command("report")
def report_command(
    period: str = typer.Option(..., "--period", help="YYYY-MM or YYYY-MM-DD (UTC)."),
    db: str | None = DB_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Per usage point: % actual, estimated, edited, missing, and the rules that fired."""
    try:
        start, end = parse_period(period)
        with open_store(database_url(db)) as store, store.snapshot() as reader:
            rows = [r.as_dict() for r in report(reader, start, end)]
    except (ValueError, StoreError) as error:
        raise _fail("report", str(error)) from error
    if as_json:
        typer.echo(json.dumps({"period": period, "usage_points": rows}))
        return
    table = Table("usage point", "actual %", "estimated %", "edited %", "missing %", "rules")
    for r in rows:
        p = r["percent"]
        rules = ", ".join(f"{k} {v}" for k, v in r["rules"].items())
        table.add_row(
            r["usage_point"],
            f"{p['actual']:.2f}",
            f"{p['estimated']:.2f}",
            f"{p['edited']:.2f}",
            f"{p['missing']:.2f}",
            rules,
        )
    Console(width=160).print(table)
