"""`cimmeter convert FILE --to xml|json`: between the XML and JSON forms of a message.

XML in any accepted form (generic, typed wrapper, SOAP, bare document) or JSON in; XML out in
the generic envelope by default (`--form typed`, `--soap 1.1|1.2` on request), or JSON out.
Exit status: 0 converted, 1 the input has errors (listed on stderr), 2 unreadable input.
"""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from cimmeter.cli.app import app
from cimmeter.cli.validate import is_json
from cimmeter.message import json as cim_json
from cimmeter.message.envelope import Message, read_xml, write_xml
from cimmeter.model.base import CimDocument
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.issues import DocumentError


class OutputFormat(enum.StrEnum):
    xml = "xml"
    json = "json"


class XmlForm(enum.StrEnum):
    generic = "generic"
    typed = "typed"


class Soap(enum.StrEnum):
    v11 = "1.1"
    v12 = "1.2"


def _read(data: bytes) -> Message | CimDocument:
    if is_json(data):
        return cim_json.loads(data)
    return read_xml(data).root


@app.command()
def convert(
    file: Path = typer.Argument(..., help="An XML or JSON message or document."),  # noqa: B008
    to: OutputFormat = typer.Option(..., "--to", help="Output format."),  # noqa: B008
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here, not stdout."),  # noqa: B008
    form: XmlForm = typer.Option(XmlForm.generic, "--form", help="XML envelope form."),  # noqa: B008
    soap: Soap | None = typer.Option(None, "--soap", help="Wrap the XML in a SOAP envelope."),  # noqa: B008
    noun: str | None = typer.Option(None, "--noun", help="Noun of a typed FaultMessage."),
) -> None:
    """Convert a message between XML and JSON (lossless both ways)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"{file}: cannot read: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    try:
        obj = _read(data)
    except DocumentError as exc:
        for issue in exc.issues:
            typer.echo(issue.one_line(str(file)), err=True)
        raise typer.Exit(1) from None
    except XmlInputError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(1) from None
    if to == OutputFormat.json:
        text = (cim_json.dumps(obj) + "\n").encode("utf-8")
    else:
        try:
            text = write_xml(
                obj,
                form=form.value,
                soap_version=soap.value if soap else None,
                noun=noun,
            )
        except ValueError as exc:
            typer.echo(f"{file}: {exc}", err=True)
            raise typer.Exit(2) from None
    if output is None:
        typer.echo(text.decode("utf-8"), nl=False)
    else:
        output.write_bytes(text)
