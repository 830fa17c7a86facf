"""`cimmeter billing run`: billing determinants of a billing period, as a table, JSON or CSV.

Exit status: 0 ok, 2 bad usage (bad period, calendar file, database).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cimmeter.billing import (
    BillingConfig,
    CalendarError,
    Determinants,
    StoreSource,
    load_billing_config,
    run_billing,
)
from cimmeter.billing.determinants import billing_config_from_mapping
from cimmeter.billing.periods import parse_label
from cimmeter.cli.app import app
from cimmeter.cli.db import DB_OPTION, database_url
from cimmeter.store import StoreError, open_store

billing_app = typer.Typer(
    name="billing", help="Billing determinants in local time (TOU, demand).", no_args_is_help=True
)
app.add_typer(billing_app)

EXAMPLE_CALENDAR = Path(__file__).resolve().parents[1] / "billing" / "data" / "tou-example.toml"


def billing_config(calendar: Path | None, timezone: str | None) -> BillingConfig:
    """The configuration file, or one flat period in `timezone` (default UTC)."""
    if calendar is None:
        return billing_config_from_mapping(
            {"timezone": timezone or "UTC"}, source="(no --calendar)"
        )
    config = load_billing_config(calendar)
    if timezone:
        config = replace(config, calendar=replace(config.calendar, timezone=timezone))
    return config


@billing_app.command("run")
def run(
    period: str = typer.Option(..., "--period", help="Billing period YYYY-MM (local time)."),
    usage_point: Annotated[
        list[str] | None,
        typer.Option("--usage-point", help="Usage point mRID (repeatable); default: all."),
    ] = None,
    db: str | None = DB_OPTION,
    calendar: Annotated[
        Path | None,
        typer.Option(
            "--calendar",
            help="Billing configuration (TOU calendar, time zone, demand, cycles), TOML or "
            f"JSON. Example: {EXAMPLE_CALENDAR}",
        ),
    ] = None,
    timezone: str | None = typer.Option(
        None, "--timezone", help="Time zone (overrides the file's; default UTC)."
    ),
    system_peak: Annotated[
        str | None,
        typer.Option(
            "--system-peak",
            help="End of the system peak's demand window (ISO time with zone); default: the "
            "run's own peak.",
        ),
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Compute the determinants of a billing period for every (or the given) usage point."""
    try:
        parse_label(period)
        config = billing_config(calendar, timezone)
    except CalendarError as error:
        typer.echo(f"cimmeter billing run: {error}", err=True)
        raise typer.Exit(2) from error
    peak = _aware(system_peak, "--system-peak") if system_peak else None
    try:
        with open_store(database_url(db)) as store:
            results = run_billing(
                StoreSource(store, config.series),
                config,
                period,
                usage_points=usage_point or None,
                system_peak=peak,
            )
    except (StoreError, CalendarError) as error:
        typer.echo(f"cimmeter billing run: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps([d.to_json() for d in results], indent=2))
    elif as_csv:
        typer.echo(determinants_csv(results), nl=False)
    else:
        for d in results:
            typer.echo(determinants_text(d))


CSV_COLUMNS = [
    "usage_point",
    "period",
    "start",
    "end",
    "delivered_kwh",
    "received_kwh",
    "net_kwh",
    "max_demand_kw",
    "max_demand_at",
    "coincident_demand_kw",
    "system_peak_at",
    "estimated",
    "edited",
    "missing",
    "suspect",
]


def determinants_csv(results: list[Determinants]) -> str:
    """One row per usage point; TOU columns `<name>_kwh` and `<name>_max_kw` follow."""
    names = [t.name for t in results[0].tou] if results else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + [f"{n}_kwh" for n in names] + [f"{n}_max_kw" for n in names])
    for d in results:
        j = d.to_json()
        peak = j["maxDemand"] or {}
        writer.writerow(
            [
                d.usage_point,
                d.period.label,
                j["start"],
                j["end"],
                _num(d.delivered_kwh),
                _num(d.received_kwh),
                _num(d.net_kwh),
                _num(peak.get("kW")),
                peak.get("at", ""),
                _num(d.coincident_demand_kw),
                j["systemPeakAt"] or "",
                d.estimated,
                d.edited,
                d.missing,
                d.suspect,
                *[_num(t.energy_kwh) for t in d.tou],
                *[_num(t.max_demand.kw if t.max_demand else None) for t in d.tou],
            ]
        )
    return out.getvalue()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def determinants_text(d: Determinants) -> str:
    j = d.to_json()
    lines = [
        f"{d.usage_point}  {d.period.label}  {j['start']} .. {j['end']}",
        f"  energy kWh: delivered {_num(d.delivered_kwh)}, received {_num(d.received_kwh)}, "
        f"net {_num(d.net_kwh)}",
    ]
    for t in d.tou:
        peak = f", max {_num(t.max_demand.kw)} kW at {_at(t.max_demand.at)}" if t.max_demand else ""
        lines.append(f"  {t.name} (tou {t.tou}): {_num(t.energy_kwh)} kWh{peak}")
    if d.max_demand:
        lines.append(
            f"  max demand ({d.demand.window_seconds // 60}-min): {_num(d.max_demand.kw)} kW "
            f"at {_at(d.max_demand.at)}"
        )
    if d.system_peak_at is not None:
        lines.append(
            f"  coincident demand: {_num(d.coincident_demand_kw)} kW at the system peak "
            f"{_at(d.system_peak_at)}"
        )
    lines.append(
        f"  intervals: {d.expected_intervals} expected, {d.estimated} estimated, "
        f"{d.edited} edited, {d.missing} missing, {d.suspect} suspect"
    )
    return "\n".join(lines)


def _at(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _aware(text: str, option: str) -> datetime:
    """An ISO 8601 time with a zone (`Z` or an offset); exit 2 with the reason otherwise."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        typer.echo(
            f"cimmeter billing run: {option} {text!r}: expected an ISO 8601 time with a zone, "
            "e.g. 2024-03-12T14:00:00Z",
            err=True,
        )
        raise typer.Exit(2)
    return at
