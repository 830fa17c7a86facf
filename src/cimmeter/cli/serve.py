"""`cimmeter serve`: the MDM, the head-end or both, over HTTP (SOAP, REST) and AMQP.

Prints where it listens. Authentication is on unless `--no-auth` is given: the token comes from
`--token` or `CIMMETER_TOKEN` (several, comma-separated, for rotation). TLS: `--ssl-certfile`
and `--ssl-keyfile` (uvicorn's options; docs/transports.md).
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from cimmeter.cli.app import app
from cimmeter.runtime.app import ROLES, ServeOptions, ServiceUnavailable, headend_db_url
from cimmeter.runtime.app import serve as run_server
from cimmeter.runtime.clock import SystemClock
from cimmeter.runtime.logging import configure_logging
from cimmeter.runtime.server import Server, ServeSettings
from cimmeter.transport.amqp import AmqpSettings
from cimmeter.transport.http import HttpSettings
from cimmeter.transport.http.auth import AuthSettingsError


def settings_from_options(
    *,
    host: str,
    port: int,
    token: str | None,
    no_auth: bool,
    amqp: str | None,
    amqp_prefix: str,
    max_body_mb: float,
    threads: int,
    ssl_certfile: str | None,
    ssl_keyfile: str | None,
) -> ServeSettings:
    """The server settings, or `AuthSettingsError` when no token is given without --no-auth."""
    raw = token if token is not None else os.environ.get("CIMMETER_TOKEN", "")
    tokens = tuple(t.strip() for t in raw.split(",") if t.strip())
    if no_auth and tokens:
        raise AuthSettingsError("--no-auth and a token together: choose one")
    if not no_auth and not tokens:
        raise AuthSettingsError(
            "no token: pass --token or set CIMMETER_TOKEN (or --no-auth, explicitly, for a "
            "server anyone who reaches it may use)"
        )
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise typer.BadParameter("TLS needs both --ssl-certfile and --ssl-keyfile")
    return ServeSettings(
        host=host,
        port=port,
        http=HttpSettings(
            tokens=tokens,
            require_auth=not no_auth,
            max_body_bytes=int(max_body_mb * 1024 * 1024),
            handler_threads=threads,
        ),
        amqp=AmqpSettings(url=amqp, prefix=amqp_prefix) if amqp else None,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )


@app.command()
def serve(
    db: str = typer.Option(
        "sqlite:///cimmeter.db", "--db", help="Store URL (sqlite or postgresql)."
    ),
    amqp: str | None = typer.Option(
        None, "--amqp", help="RabbitMQ URL, e.g. amqp://guest:guest@127.0.0.1/"
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8600, "--port", help="HTTP port (0: any free port)."),
    role: str = typer.Option("mdm", "--role", help="mdm, headend or both."),
    headend_db: str | None = typer.Option(
        None, "--headend-db", help="The head-end's store with --role both (default: beside --db)."
    ),
    meters: int = typer.Option(
        0, "--meters", help="Simulated meters behind the head-end (it adds installed ones)."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the simulated fleet."),
    billing_config: str | None = typer.Option(
        None,
        "--billing-config",
        help="Billing configuration (TOU calendar, zone, demand, cycles) for billing-period "
        "ReadingTypes in get MeterReadings (docs/billing.md).",
    ),
    vee: bool = typer.Option(
        True,
        "--vee/--no-vee",
        help="Run VEE (as a job, a minute after each ingest, outside it) so the final series "
        "follows the raw one; get MeterReadings answers VEE's values where it ran.",
    ),
    token: str | None = typer.Option(None, "--token", help="Bearer token(s), comma-separated."),
    no_auth: bool = typer.Option(False, "--no-auth", help="No authentication (only when asked)."),
    allow_reply_to: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-reply-to", help="ReplyAddress patterns allowed (default: loopback only)."
        ),
    ] = None,
    amqp_prefix: str = typer.Option("cimmeter", help="Prefix of AMQP queue and exchange names."),
    max_body_mb: float = typer.Option(64.0, help="Largest request body in MiB (413 beyond)."),
    threads: int = typer.Option(8, help="Messages handled at once per role."),
    ssl_certfile: str | None = typer.Option(None, help="TLS certificate (PEM)."),
    ssl_keyfile: str | None = typer.Option(None, help="TLS private key (PEM)."),
    log_level: str = typer.Option("info", help="debug, info, warning or error."),
) -> None:
    """Serve the MDM and/or the head-end (SOAP + WSDL, REST/JSON + OpenAPI, AMQP)."""
    if role not in ROLES:
        typer.echo(f"error: --role must be one of {', '.join(ROLES)}, got {role!r}", err=True)
        raise typer.Exit(2)
    if meters < 0:
        typer.echo(f"error: --meters must be 0 or more, got {meters}", err=True)
        raise typer.Exit(2)
    try:
        settings = settings_from_options(
            host=host,
            port=port,
            token=token,
            no_auth=no_auth,
            amqp=amqp,
            amqp_prefix=amqp_prefix,
            max_body_mb=max_body_mb,
            threads=threads,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
        )
    except (AuthSettingsError, typer.BadParameter) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if billing_config is not None:
        from cimmeter.billing.determinants import load_billing_config

        try:
            load_billing_config(billing_config)  # refuse a bad file now, not at the first get
        except (OSError, ValueError) as exc:
            typer.echo(f"error: --billing-config {billing_config}: {exc}", err=True)
            raise typer.Exit(2) from None
    configure_logging(log_level)
    options = ServeOptions(
        db_url=db,
        role=role,
        allow_reply_to=tuple(allow_reply_to or ()),
        settings=settings,
        headend_db_url=headend_db,
        fleet_meters=meters,
        fleet_seed=seed,
        vee=vee,
        billing_config=billing_config,
    )

    def ready(server: Server) -> None:
        stores = db if role != "both" else f"{db}, head-end {headend_db_url(options)}"
        typer.echo(f"cimmeter serving as {role} (store {stores})")
        for line in server.describe():
            typer.echo(f"  {line}")

    try:
        asyncio.run(run_server(options, SystemClock(), ready))
    except ServiceUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"error: cannot serve: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass
