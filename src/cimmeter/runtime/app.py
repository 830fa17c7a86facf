"""The composition root: from `serve` options to a running server (store + service + transports).

`ServeOptions` is what `cimmeter serve` takes; `wire` builds each role's handler, the read side
and the outbox from the store and the service core; `serve` runs them (`runtime.server`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cimmeter.message.envelope import (
    Error,
    ErrorLevel,
    Header,
    Message,
    Reply,
    ReplyResult,
    ResponseMessage,
)
from cimmeter.message.verbs import Verb
from cimmeter.runtime.read_side import StoreReadSide
from cimmeter.runtime.relay import StoreOutbox
from cimmeter.runtime.server import Server, ServeSettings, Wiring
from cimmeter.service.clock import Clock
from cimmeter.service.config import LOOPBACK, ServiceConfig
from cimmeter.service.core import HandleResult, ServiceCore
from cimmeter.service.mdm import MdmService
from cimmeter.store import Store, StoreError, open_store
from cimmeter.transport.handler import Answer
from cimmeter.transport.http import Mount
from cimmeter.transport.inbound import Inbound, Role
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.issues import DocumentError

ROLES: dict[str, tuple[Role, ...]] = {
    "mdm": (Role.MDM,),
    "headend": (Role.HEADEND,),
    "both": (Role.MDM, Role.HEADEND),
}
"""`serve --role`: the first role answers at the root, the second (head-end) under /headend."""


class ServiceUnavailable(RuntimeError):
    """The pieces a real server needs (store engines, service core) are not installed."""


@dataclass(frozen=True, slots=True)
class ServeOptions:
    db_url: str = "sqlite:///cimmeter.db"
    role: str = "mdm"
    allow_reply_to: tuple[str, ...] = ()
    settings: ServeSettings = field(default_factory=ServeSettings)


Wire = Callable[[ServeOptions, Clock], Wiring]


class ServiceHandler:
    """`service.handle` as a transport's `MessageHandler`: XML goes to the core as bytes (so
    readings take the columnar path), JSON as the parsed message. Returns after the commit."""

    def __init__(self, core: ServiceCore, store: Store, clock: Clock) -> None:
        self.core = core
        self.store = store
        self.clock = clock

    def __call__(self, inbound: Inbound) -> Answer:
        if inbound.syntax == "xml":
            result = self.core.handle(inbound.body, self.store, self.clock)
            return _Prewritten(result) if result.columnar else result.reply
        try:
            message = inbound.parse().message
        except XmlInputError as exc:
            return invalid_json_reply(inbound, exc)
        assert message is not None
        return self.core.handle(message, self.store, self.clock).reply


class _Prewritten:
    """A columnar reply (`HandleResult.columnar`) as a transport `Prewritten` answer."""

    __slots__ = ("_result",)

    def __init__(self, result: HandleResult) -> None:
        self._result = result

    @property
    def generic_xml(self) -> bytes:
        return self._result.reply_xml

    @property
    def message(self) -> Message:
        return self._result.reply

    @property
    def bare(self) -> Message:
        return self._result.bare_reply


def invalid_json_reply(inbound: Inbound, exc: XmlInputError) -> ResponseMessage:
    """A JSON message whose Header is fine but whose content is not: a Reply FAILED with one
    Error per finding (the XML path gets the same from the core)."""
    issues = exc.issues if isinstance(exc, DocumentError) else ()
    errors = tuple(
        Error(code="2.0", level=ErrorLevel.FATAL, reason=i.message, details=i.one_line())
        for i in issues
        if i.severity == "error"
    ) or (Error(code="2.0", level=ErrorLevel.FATAL, reason=exc.reason, details=exc.one_line()),)
    env = inbound.envelope
    return ResponseMessage(
        header=Header(
            verb=Verb.reply,
            noun=env.noun or "",
            message_id=str(uuid.uuid4()),
            correlation_id=env.correlation_id or env.message_id,
        ),
        reply=Reply(result=ReplyResult.FAILED, errors=errors),
    )


SERVICES: dict[Role, Callable[[ServiceConfig], ServiceCore]] = {
    Role.MDM: lambda config: MdmService(config),
}
"""The service core of each role. The head-end joins when its service lands (issue 6)."""


def wire(options: ServeOptions, clock: Clock) -> Wiring:
    """Each role's handler over the store, the read side and the outbox of `options.db_url`."""
    roles = ROLES[options.role]
    missing = [r.value for r in roles if r not in SERVICES]
    if missing:
        raise ServiceUnavailable(
            f"no service core for the {', '.join(missing)} role in this build yet (issue 6); "
            "serve --role mdm"
        )
    try:
        store = open_store(options.db_url, upgrade=True)
    except StoreError as exc:
        raise ServiceUnavailable(f"cannot open the store {options.db_url}: {exc}") from None
    mounts = []
    cores = []
    for index, role in enumerate(roles):
        config = ServiceConfig(
            role=role.value,
            source=f"cimmeter-{role.value}",
            allow_reply_to=options.allow_reply_to or (LOOPBACK,),
            # Events go to the AMQP topic exchange; without a broker there is nowhere to send.
            publish_events=options.settings.amqp is not None,
        )
        core = SERVICES[role](config)
        cores.append(core)
        prefix = "" if index == 0 else f"/{role.value}"
        mounts.append(Mount(role, ServiceHandler(core, store, clock), prefix))

    def health() -> dict[str, str]:
        try:
            store.schema_version()
        except Exception as exc:
            return {"store": f"unavailable: {type(exc).__name__}"}
        return {"store": "ok"}

    return Wiring(
        mounts,
        read_side=StoreReadSide(store),
        outbox=StoreOutbox(store),
        health=health,
        ticks=tuple(_ticker(core, store) for core in cores),
        close=store.close,
    )


def _ticker(core: ServiceCore, store: Store) -> Callable[[datetime], object]:
    def tick(now: datetime) -> object:
        return core.tick(now, store)

    return tick


async def serve(
    options: ServeOptions,
    clock: Clock,
    ready: Callable[[Server], None] | None = None,
    wiring: Wire = wire,
) -> None:
    wired = wiring(options, clock)
    server = Server(wired, options.settings, clock)
    try:
        await server.serve(ready)
    finally:
        if wired.close is not None:
            wired.close()


__all__ = [
    "ROLES",
    "ServeOptions",
    "ServiceHandler",
    "ServiceUnavailable",
    "invalid_json_reply",
    "serve",
    "wire",
]
