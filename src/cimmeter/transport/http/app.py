"""The one ASGI app: SOAP (Starlette routes), REST (FastAPI, `/openapi.json`, `/docs`), health.

`create_app` takes the handler of each role and where to mount it: the first mount is the
server root (the MDM with `serve --role mdm|both`, the head-end with `--role headend`); with
`--role both` the head-end answers under `/headend` (DECISIONS.md). The app opens no socket and
starts no thread: `cimmeter.runtime` serves it with uvicorn (TLS options there, docs/transports.md).

Every route that reads or writes data needs the bearer token; bodies are bounded
(`max_body_bytes`, 413 beyond); each request is logged as one structured line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cimmeter import __version__
from cimmeter.transport.dispatch import Dispatcher
from cimmeter.transport.handler import MessageHandler
from cimmeter.transport.http.auth import BearerAuth
from cimmeter.transport.http.limits import BodyLimitMiddleware
from cimmeter.transport.http.rest import RestApi
from cimmeter.transport.http.soap import SoapEndpoints
from cimmeter.transport.inbound import Role
from cimmeter.transport.read_side import ReadSide
from cimmeter.xml.safe import DEFAULT_LIMITS, XmlLimits

access_log = logging.getLogger("cimmeter.http")


@dataclass(frozen=True, slots=True)
class HttpSettings:
    tokens: tuple[str, ...] = ()
    require_auth: bool = True
    """False only with `--no-auth`: then anyone who reaches the port may read and write."""
    max_body_bytes: int = 64 * 1024 * 1024
    """Largest request body accepted (413 beyond)."""
    xml_limits: XmlLimits = field(default_factory=lambda: DEFAULT_LIMITS)
    handler_threads: int = 8
    """Messages handled at once per role (worker threads)."""


@dataclass(frozen=True, slots=True)
class Mount:
    """One role's handler and the path prefix it answers under ("" = the root)."""

    role: Role
    handler: MessageHandler
    prefix: str = ""


def create_app(
    mounts: Sequence[Mount],
    *,
    read_side: ReadSide | None = None,
    settings: HttpSettings | None = None,
    health: Callable[[], dict[str, str]] | None = None,
) -> FastAPI:
    """The server's ASGI app (see the module doc)."""
    settings = settings or HttpSettings()
    if not mounts:
        raise ValueError("an app needs at least one role to answer as")
    auth = BearerAuth(settings.tokens, required=settings.require_auth)
    dispatchers = {
        m.prefix: Dispatcher(m.handler, m.role, threads=settings.handler_threads) for m in mounts
    }
    roles = ", ".join(f"{m.role.value} at {m.prefix or '/'}" for m in mounts)
    app = FastAPI(
        title="cimmeter",
        version=__version__,
        summary="IEC 61968-9 meter reading and control: REST/JSON (a cimmeter extension)",
        description=(
            f"Roles: {roles}. SOAP 1.1 (the standard's binding) and 1.2 (an extension) are "
            "served at `/soap/<Service>` with WSDL at `?wsdl` (not listed here). Every route "
            "that reads or writes data needs `Authorization: Bearer <token>`."
        ),
    )
    rest = RestApi(dispatchers, read_side, auth, settings.xml_limits, health)
    app.include_router(rest.router())
    for mount in mounts:
        soap = SoapEndpoints(mount.prefix, dispatchers[mount.prefix], auth, settings.xml_limits)
        for route in soap.routes():
            app.router.routes.append(route)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"error": "invalid request", "detail": details}, 422)

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware)
    return app


class AccessLogMiddleware:
    """One JSON-ready log record per request: method, path, status, bytes, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def tracking_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            client = scope.get("client")
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "bytes_out": sent,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": f"{client[0]}:{client[1]}" if client else None,
                    }
                },
            )


__all__ = ["HttpSettings", "Mount", "create_app"]
