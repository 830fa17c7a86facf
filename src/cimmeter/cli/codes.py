"""`cimmeter codes`: describe, search and build the IEC 61968-9 codes (digest section 5).

Exit status (DESIGN.md): 0 ok, 1 nothing found (search), 2 a malformed code, an unknown name
or a usage error, with one line on stderr.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

from cimmeter.cli.app import app
from cimmeter.codes import (
    AnyCode,
    CodeError,
    EndDeviceControlType,
    EndDeviceEventType,
    ReadingQualityType,
    ReadingType,
    named_end_device_codes,
    named_quality_codes,
    named_reading_types,
    parse_any,
    search,
)

codes_app = typer.Typer(
    name="codes",
    help="Describe, search and build IEC 61968-9 codes (ReadingType, EndDeviceEventType/"
    "ControlType, ReadingQualityType).",
    no_args_is_help=True,
)
app.add_typer(codes_app)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


class EndDeviceKind(StrEnum):
    event = "event"
    control = "control"


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _print_json(obj: dict[str, Any]) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def _resolve(text: str, end_device: EndDeviceKind | None) -> AnyCode:
    """A dotted code, or the id of a named code (`remoteDisconnect`, `mdmEstimated`)."""
    if "." not in text:
        named_device = named_end_device_codes().get(text)
        if named_device is not None:
            return named_device.code
        if text in named_reading_types():
            return named_reading_types()[text][0]
        if text in named_quality_codes():
            return named_quality_codes()[text][0]
    return parse_any(text, end_device=end_device.value if end_device else None)


def _table(code: AnyCode) -> Table:
    fields = code.fields()
    rows = []
    for f in fields:
        name = f.name or ("unknown" if f.enumerated else "")
        note = {"later": " (later CIM, not Ed.2)", "espi": " (ESPI, not Ed.2)"}.get(f.status, "")
        rows.append((str(f.position), f.cim_name, str(f.code), name, (f.meaning or "") + note))
    table = Table(title=escape(f"{code.kind} {code}"), title_justify="left")
    # The first four columns keep their width; the meaning wraps.
    for i, header in enumerate(("#", "field", "code", "name")):
        width = max(len(header), *(len(r[i]) for r in rows))
        justify: JustifyMethod = "left" if header in ("field", "name") else "right"
        table.add_column(header, no_wrap=True, min_width=width, justify=justify)
    table.add_column("meaning", ratio=1)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    return table


@codes_app.command("describe")
def describe(
    code: Annotated[
        str,
        typer.Argument(
            help="A code of 18 (ReadingType), 4 (EndDevice) or 3 (ReadingQualityType) fields, "
            "or the id of a named code (remoteDisconnect, mdmEstimated)."
        ),
    ],
    as_json: JsonOption = False,
    end_device: Annotated[
        EndDeviceKind | None,
        typer.Option(
            "--as",
            help="Read a 4-field code as an event or a control (default: a command verb such "
            "as Disconnect makes it a control).",
        ),
    ] = None,
) -> None:
    """Decode a code field by field."""
    try:
        parsed = _resolve(code, end_device)
    except CodeError as err:
        _fail(str(err))
    if as_json:
        _print_json(parsed.to_dict())
        return
    console = Console()
    console.print(_table(parsed))
    console.print(f"[bold]{escape(parsed.describe())}[/bold]")


@codes_app.command("search")
def search_command(
    words: Annotated[list[str], typer.Argument(help="Words to find, e.g. power off.")],
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 25,
) -> None:
    """Find event, control, reading-type and quality codes by words (exit 1: none found)."""
    query = " ".join(words)
    hits = search(query, limit=limit)
    if as_json:
        _print_json({"query": query, "results": [h.to_dict() for h in hits]})
    else:
        table = Table(title=f"codes matching {query!r}", title_justify="left")
        for column in ("kind", "code", "id"):
            table.add_column(column, no_wrap=True)
        table.add_column("description")
        for h in hits:
            table.add_row(*(escape(cell) for cell in (h.kind, h.code, h.id or "", h.description)))
        Console().print(table if hits else escape(f"no code matches {query!r}"))
    if not hits:
        raise typer.Exit(1)


Name = Annotated[str | None, typer.Option(help="A CIM literal or a number.")]


@codes_app.command("build")
def build(
    macro_period: Name = None,
    aggregate: Name = None,
    measuring_period: Name = None,
    accumulation: Name = None,
    flow_direction: Name = None,
    commodity: Name = None,
    measurement_kind: Name = None,
    interharmonic_numerator: Name = None,
    interharmonic_denominator: Name = None,
    argument_numerator: Name = None,
    argument_denominator: Name = None,
    tou: Name = None,
    cpp: Name = None,
    consumption_tier: Name = None,
    phases: Name = None,
    multiplier: Name = None,
    unit: Name = None,
    currency: Name = None,
    device_type: Annotated[
        str | None, typer.Option("--type", help="EndDeviceType: a CIM literal or a number.")
    ] = None,
    domain: Name = None,
    sub_domain: Name = None,
    event_or_action: Name = None,
    system_id: Name = None,
    category: Name = None,
    sub_category: Name = None,
    as_json: JsonOption = False,
) -> None:
    """Build a code from names: ReadingType fields (--unit Wh --multiplier k
    --measuring-period fifteenMinute --accumulation deltaData ...), or EndDevice fields (--domain
    RCDSwitch --event-or-action Disconnect; type defaults to ElectricMeter), or quality fields
    (--system-id MDM --category estimated). Omitted fields are 0."""
    given = {k: v for k, v in locals().items() if k != "as_json" and v is not None}
    if "device_type" in given:
        given["type"] = given.pop("device_type")
    systems: list[tuple[type[Any], frozenset[str]]] = [
        (ReadingType, frozenset(s.attr for s in ReadingType.SPECS)),
        (EndDeviceEventType, frozenset(s.attr for s in EndDeviceEventType.SPECS)),
        (ReadingQualityType, frozenset(s.attr for s in ReadingQualityType.SPECS)),
    ]
    used = [cls for cls, attrs in systems if attrs & given.keys()]
    if len(used) != 1:
        _fail(
            "give the fields of exactly one code system: ReadingType (--unit, ...), "
            "EndDevice (--domain, --event-or-action, ...) or quality (--system-id, ...)"
        )
    try:
        code: AnyCode = used[0].build(**given)
        if isinstance(code, EndDeviceEventType) and code.action_kind == "control":
            code = EndDeviceControlType(*code.values)
    except CodeError as err:
        _fail(str(err))
    if as_json:
        _print_json(code.to_dict())
    else:
        typer.echo(str(code))
