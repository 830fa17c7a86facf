"""The root Typer application; command groups add themselves in `register_commands`."""

from __future__ import annotations

import importlib

import typer

from cimmeter import __version__

app = typer.Typer(
    name="cimmeter",
    help="IEC 61968-9 Ed.2 meter reading and control: codes, messages, MDM, head-end, simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cimmeter {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """cimmeter command line."""


COMMAND_MODULES = (
    # one line per command module (keeps merges of new commands conflict-free)
    "codes",
    "convert",
    "db",
    "demo",
    "send",
    "serve",
    "validate",
    "simulate",
    "billing",
    "greenbutton",
    "vee",
)


def register_commands() -> None:
    """Import the command modules; each adds its commands or sub-apps to `app`."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"cimmeter.cli.{name}")


register_commands()
