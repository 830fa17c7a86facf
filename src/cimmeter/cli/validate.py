"""`cimmeter validate FILE...`: structure and business rules of messages and documents.

Each finding is one line, `FILE:LINE: /path/to/Element: message` (warnings say `warning:`).
Exit status: 0 when every file is valid (warnings allowed), 1 when any has an error, 2 when a
file cannot be read. XML and JSON files are both accepted (sniffed from the first character).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer

from cimmeter.cli.app import app
from cimmeter.message import json as cim_json
from cimmeter.message.envelope import read_xml, write_xml
from cimmeter.message.validate import check
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.issues import DocumentError, Issue
from cimmeter.xml.validation import validate_element


@dataclass(slots=True)
class FileReport:
    file: str
    issues: list[Issue] = field(default_factory=list)
    unreadable: str | None = None

    @property
    def valid(self) -> bool:
        return self.unreadable is None and not any(i.severity == "error" for i in self.issues)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "valid": self.valid,
            "unreadable": self.unreadable,
            "issues": [i.as_dict() for i in self.issues],
        }


def is_json(data: bytes) -> bool:
    """JSON when the first non-blank character is `{` (an XML document starts with `<`)."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped.startswith(b"{")


def validate_file(path: Path, *, strict: bool = False) -> FileReport:
    report = FileReport(str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.unreadable = exc.strerror or str(exc)
        return report
    try:
        if is_json(data):
            obj = cim_json.loads(data)
            if strict:
                from lxml import etree

                element = etree.fromstring(write_xml(obj))
                report.issues.extend(
                    Issue(i.severity, i.message, i.path, None, i.expected)
                    for i in validate_element(element)
                )
            report.issues.extend(check(obj))
        else:
            result = read_xml(data, strict=strict, collect=True)
            report.issues.extend(result.issues)
            if result.message is not None or result.document is not None:
                report.issues.extend(check(result.root, result.source_map))
    except DocumentError as exc:
        report.issues.extend(exc.issues)
    except XmlInputError as exc:
        report.issues.append(Issue("error", exc.reason, exc.path, exc.line, exc.expected))
    report.issues.sort(key=lambda i: i.line or 0)
    return report


def _print_line(file: str, issue: Issue) -> str:
    location = f"{file}:{issue.line}" if issue.line is not None else file
    parts = [location, *([issue.path] if issue.path else [])]
    prefix = "" if issue.severity == "error" else "warning: "
    return ": ".join([*parts, prefix + issue.text()])


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="XML or JSON messages or documents."),  # noqa: B008
    strict: bool = typer.Option(
        False, "--strict", help="Also check the structure exactly against our XSD files."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Check 61968-9 messages: structure (our XSD with --strict), codes, time ranges, references."""
    reports = [validate_file(path, strict=strict) for path in files]
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        for report in reports:
            if report.unreadable is not None:
                typer.echo(f"{report.file}: cannot read: {report.unreadable}", err=True)
            for issue in report.issues:
                typer.echo(_print_line(report.file, issue))
        valid = sum(r.valid for r in reports)
        print(f"{len(reports)} file(s): {valid} valid, {len(reports) - valid} not", file=sys.stderr)
    if any(r.unreadable is not None for r in reports):
        raise typer.Exit(2)
    if not all(r.valid for r in reports):
        raise typer.Exit(1)
