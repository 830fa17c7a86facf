"""Serving: the HTTP app on uvicorn, the AMQP consumers and the outbox relay in one event loop.

`Server` takes the wiring (each role's handler, the read side, the outbox) and the settings,
starts everything, reports where it listens, and stops everything cleanly. It is the only place
that opens sockets and starts the loop's tasks (DECISIONS.md, composition root).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import uvicorn

from cimmeter.runtime.relay import (
    AmqpPublish,
    HttpPublish,
    InProcessPublish,
    Outbox,
    Publish,
    Relay,
)
from cimmeter.service.clock import Clock
from cimmeter.transport.amqp import AmqpPublisher, AmqpServer, AmqpSettings, Names, syntax_of
from cimmeter.transport.handler import MessageHandler
from cimmeter.transport.http import HttpSettings, Mount, create_app
from cimmeter.transport.inbound import Role, receive
from cimmeter.transport.read_side import ReadSide

log = logging.getLogger("cimmeter.runtime")


@dataclass(frozen=True, slots=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8600
    http: HttpSettings = field(default_factory=HttpSettings)
    amqp: AmqpSettings | None = None
    ssl_keyfile: str | None = None
    ssl_certfile: str | None = None
    relay_poll_seconds: float = 0.5
    relay_timeout_seconds: float = 30.0
    tick_seconds: float = 1.0
    keep_alive_seconds: int = 30
    peer_tokens: tuple[tuple[str, str], ...] = ()
    """(URL prefix, bearer token) for ReplyAddress peers that need a token."""


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the server serves: the first mount answers at the root."""

    mounts: Sequence[Mount]
    read_side: ReadSide | None = None
    outbox: Outbox | None = None
    health: Callable[[], dict[str, str]] | None = None
    ticks: Sequence[Callable[[datetime], object]] = ()
    """`service.tick` of each role, called every `tick_seconds` in a worker thread."""
    close: Callable[[], None] | None = None
    more_outboxes: Sequence[Outbox] = ()
    """Outboxes of further stores (`--role both`: the head-end keeps its own), each relayed
    like `outbox`."""


class Server:
    def __init__(self, wiring: Wiring, settings: ServeSettings, clock: Clock) -> None:
        self.wiring = wiring
        self.settings = settings
        self.clock = clock
        self.app = create_app(
            wiring.mounts,
            read_side=wiring.read_side,
            settings=settings.http,
            health=wiring.health,
        )
        self.uvicorn: uvicorn.Server | None = None
        self.amqp: AmqpServer | None = None
        self.relay: Relay | None = None
        self.relays: list[Relay] = []
        self.stopping = asyncio.Event()

    @property
    def base_url(self) -> str:
        scheme = "https" if self.settings.ssl_certfile else "http"
        port = self.port
        return f"{scheme}://{self.settings.host}:{port}"

    @property
    def port(self) -> int:
        if self.uvicorn is not None and self.uvicorn.servers:
            sockets = self.uvicorn.servers[0].sockets
            if sockets:
                return int(sockets[0].getsockname()[1])
        return self.settings.port

    def describe(self) -> list[str]:
        """Where it listens, one line each (printed by `cimmeter serve`)."""
        base = self.base_url
        lines = []
        for mount in self.wiring.mounts:
            root = f"{base}{mount.prefix}"
            lines.append(
                f"{mount.role.value}: SOAP {root}/soap (WSDL: {root}/soap/<Service>?wsdl), "
                f"messages {root}/messages"
            )
        lines.append(f"REST {base} (OpenAPI {base}/openapi.json, docs {base}/docs)")
        if self.settings.amqp is not None:
            names = Names(self.settings.amqp.prefix)
            for mount in self.wiring.mounts:
                queue = names.request_queue("<Noun>", mount.role)
                lines.append(f"{mount.role.value}: AMQP queues {queue}")
            lines.append(f"AMQP events exchange {names.events_exchange} (<verb>.<Noun>)")
        if not self.settings.http.require_auth:
            lines.append("WARNING: authentication is off (--no-auth): anyone can read and write")
        return lines

    async def serve(self, ready: Callable[[Server], None] | None = None) -> None:
        """Run until `stop()`; `ready` is called once everything listens."""
        config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            ssl_keyfile=self.settings.ssl_keyfile,
            ssl_certfile=self.settings.ssl_certfile,
            log_config=None,
            access_log=False,
            # Clients behind a queue of slow requests keep their connections a while: 5 s
            # (uvicorn's default) closes them under load as the client reuses them.
            timeout_keep_alive=self.settings.keep_alive_seconds,
            lifespan="off",
        )
        self.uvicorn = uvicorn.Server(config)
        publisher: AmqpPublisher | None = None
        http_task = asyncio.create_task(self.uvicorn.serve())
        tasks: list[asyncio.Task[None]] = [http_task]
        async with httpx.AsyncClient(timeout=self.settings.relay_timeout_seconds) as client:
            try:
                if self.settings.amqp is not None:
                    handlers = [(m.role, m.handler) for m in self.wiring.mounts]
                    self.amqp = AmqpServer(self.settings.amqp, handlers)
                    await self.amqp.start()
                    publisher = AmqpPublisher(self.settings.amqp)
                    await publisher.start()
                outboxes = [self.wiring.outbox] if self.wiring.outbox is not None else []
                for outbox in [*outboxes, *self.wiring.more_outboxes]:
                    relay = self._relay(client, publisher, outbox)
                    self.relays.append(relay)
                    tasks.append(asyncio.create_task(relay.run(self.stopping)))
                self.relay = self.relays[0] if self.relays else None
                if self.wiring.ticks:
                    tasks.append(asyncio.create_task(self._timer()))
                while not self.uvicorn.started:
                    if http_task.done():
                        http_task.result()  # raises why uvicorn could not start
                        raise RuntimeError(f"cannot listen on {self.base_url}")
                    await asyncio.sleep(0.01)
                if ready is not None:
                    ready(self)
                # Until stop(), or until uvicorn ends by itself (Ctrl-C: it handles the signal).
                stop_task = asyncio.create_task(self.stopping.wait())
                await asyncio.wait([stop_task, http_task], return_when=asyncio.FIRST_COMPLETED)
                stop_task.cancel()
            finally:
                self.stopping.set()
                self.uvicorn.should_exit = True
                for task in tasks:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(task, 15)
                if self.amqp is not None:
                    await self.amqp.stop()
                if publisher is not None:
                    await publisher.stop()

    def stop(self) -> None:
        self.stopping.set()

    async def _timer(self) -> None:
        """Time-driven work (DECISIONS.md): each role's `tick` with the clock's time."""
        while not self.stopping.is_set():
            for tick in self.wiring.ticks:
                try:
                    await asyncio.to_thread(tick, self.clock.now())
                except Exception:
                    log.exception("tick failed; trying again at the next one")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), self.settings.tick_seconds)

    def _relay(
        self, client: httpx.AsyncClient, publisher: AmqpPublisher | None, outbox: Outbox
    ) -> Relay:
        http = HttpPublish(client, self.settings.peer_tokens)
        routes: dict[str, Publish] = {"http": http, "https": http}
        if publisher is not None:
            amqp = AmqpPublish(publisher)
            routes.update({"topic": amqp, "amqp": amqp})
        handlers: Mapping[Role, MessageHandler] = {m.role: m.handler for m in self.wiring.mounts}
        for role, handler in handlers.items():
            routes[role.value] = InProcessPublish(handler, role)
        root = self.wiring.mounts[0]

        async def on_answer(body: bytes, content_type: str) -> None:
            # A peer's immediate Reply to one of our requests: our own handler records it.
            try:
                inbound = receive(body, syntax_of(content_type), role=root.role, via="local")
            except Exception:
                log.warning("a peer's answer was not a message; not recorded")
                return
            await asyncio.to_thread(root.handler, inbound)

        return Relay(
            outbox,
            routes,
            self.clock,
            on_answer=on_answer,
            poll_seconds=self.settings.relay_poll_seconds,
        )


__all__ = ["ServeSettings", "Server", "Wiring"]
