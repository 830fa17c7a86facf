"""The `cimmeter` command line (Typer): one module per command group, registered here."""

from __future__ import annotations

from cimmeter.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
