"""The composition root: from `serve` options to a running server (store + service + transports).

`ServeOptions` is what `cimmeter serve` takes; `wire` builds each role's handler, the read side
and the outbox from the store and the service core; `serve` runs them (`runtime.server`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.network import SimulatedNetwork
from cimmeter.headend.simulation import Simulation
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
from cimmeter.service.headend import HeadEndService
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
    headend_db_url: str | None = None
    """The head-end's store with `--role both`: each role keeps its own (their jobs, objects and
    message logs must not mix). Default: beside a SQLite `db_url`, `-headend` in the name."""
    fleet_meters: int = 0
    """Simulated meters behind the head-end from the start; it adds a virtual meter for each
    `create MeterConfig` naming one it lacks (DECISIONS.md, "Simulated meters")."""
    fleet_seed: int = 1
    vee: bool = False
    """The MDM schedules a `vee.run` job after each ingest (issue 10; `cimmeter serve` turns it
    on unless `--no-vee`)."""
    billing_config: str | None = None
    """Billing configuration file (TOU calendar, zone, demand, cycles; docs/billing.md) the MDM
    uses when `get MeterReadings` asks for billing-period ReadingTypes."""


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


IN_PROCESS: Final = "mdm"
"""`--role both`: where the head-end sends the MDM's asynchronous results and its events (the
relay hands them to the MDM's handler in this process, `runtime.relay.InProcessPublish`)."""

FLEET_HISTORY: Final = timedelta(days=7)
"""The simulated fleet of `serve` starts this long before midnight UTC of the day it starts:
that much history can be read from it."""


def _mdm(config: ServiceConfig, options: ServeOptions, now: datetime) -> ServiceCore:
    return MdmService(config)


def _headend(config: ServiceConfig, options: ServeOptions, now: datetime) -> ServiceCore:
    """The head-end over a simulated fleet (the device network a vendor adapter would replace)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    fleet = FleetOptions(
        n_meters=options.fleet_meters, seed=options.fleet_seed, start=midnight - FLEET_HISTORY
    )
    return HeadEndService(config, SimulatedNetwork(Simulation(fleet)))


SERVICES: dict[Role, Callable[[ServiceConfig, ServeOptions, datetime], ServiceCore]] = {
    Role.MDM: _mdm,
    Role.HEADEND: _headend,
}
"""The service core of each role."""


def headend_db_url(options: ServeOptions) -> str:
    """The head-end's own store with `--role both` (`ServeOptions.headend_db_url`)."""
    if options.headend_db_url:
        return options.headend_db_url
    url = options.db_url
    if url.startswith("sqlite:") and ":memory:" not in url:
        return url[:-3] + "-headend.db" if url.endswith(".db") else url + "-headend"
    raise ServiceUnavailable(
        "--role both keeps the head-end's data in a store of its own: give --headend-db "
        "(e.g. another PostgreSQL database)"
    )


def _config(role: Role, options: ServeOptions) -> ServiceConfig:
    amqp = options.settings.amqp is not None
    allow = options.allow_reply_to or (LOOPBACK,)
    both = options.role == "both"
    if role is Role.MDM:
        return ServiceConfig(
            role="mdm",
            source="cimmeter-mdm",
            allow_reply_to=allow,
            reply_address=IN_PROCESS if both else None,
            # Events go to the AMQP topic exchange; without a broker there is nowhere to send.
            publish_events=amqp,
            vee_after_ingest=options.vee,
            billing_config=options.billing_config,
        )
    return ServiceConfig(
        role="headend",
        source="cimmeter-headend",
        allow_reply_to=(*allow, IN_PROCESS) if both else allow,
        # with the MDM in the same process, the head-end's events go to it
        publish_events=amqp or both,
        topic_prefix=f"{IN_PROCESS}:" if both else "topic:",
    )


def wire(options: ServeOptions, clock: Clock) -> Wiring:
    """Each role's handler over its store, the read side and the outboxes (module doc)."""
    roles = ROLES[options.role]
    urls = {roles[0]: options.db_url}
    if len(roles) > 1:
        urls[Role.HEADEND] = headend_db_url(options)
    stores: dict[Role, Store] = {}
    try:
        for role, url in urls.items():
            stores[role] = open_store(url, upgrade=True)
    except StoreError as exc:
        for store in stores.values():
            store.close()
        raise ServiceUnavailable(f"cannot open the store {url}: {exc}") from None
    mounts = []
    ticks = []
    now = clock.now()
    for index, role in enumerate(roles):
        store = stores[role]
        core = SERVICES[role](_config(role, options), options, now)
        if isinstance(core, HeadEndService):
            core.start(store, now)
        ticks.append(_ticker(core, store))
        prefix = "" if index == 0 else f"/{role.value}"
        mounts.append(Mount(role, ServiceHandler(core, store, clock), prefix))

    def health() -> dict[str, str]:
        checks = {}
        for role, store in stores.items():
            name = "store" if role is roles[0] else f"{role.value} store"
            try:
                store.schema_version()
                checks[name] = "ok"
            except Exception as exc:
                checks[name] = f"unavailable: {type(exc).__name__}"
        return checks

    def close() -> None:
        for store in stores.values():
            store.close()

    root = stores[roles[0]]
    return Wiring(
        mounts,
        read_side=StoreReadSide(root),
        outbox=StoreOutbox(root),
        health=health,
        ticks=tuple(ticks),
        close=close,
        more_outboxes=tuple(StoreOutbox(stores[r]) for r in roles[1:]),
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
    "headend_db_url",
    "invalid_json_reply",
    "serve",
    "wire",
]
