"""The composition root: from `serve` options to a running server (store + service + transports).

`ServeOptions` is what `cimmeter serve` takes; `wire` builds each role's handler, the read side
and the outbox from the store and the service core; `serve` runs them (`runtime.server`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cimmeter.runtime.server import Server, ServeSettings, Wiring
from cimmeter.service.clock import Clock
from cimmeter.transport.inbound import Role

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


def wire(options: ServeOptions, clock: Clock) -> Wiring:
    """Each role's handler over the store, the read side and the outbox of `options.db_url`."""
    raise ServiceUnavailable(
        "this build has the transports but not yet the store engines and the service core "
        "(issues 5 and 6); `cimmeter serve` needs both"
    )


async def serve(
    options: ServeOptions,
    clock: Clock,
    ready: Callable[[Server], None] | None = None,
    wiring: Wire = wire,
) -> None:
    server = Server(wiring(options, clock), options.settings, clock)
    await server.serve(ready)


__all__ = ["ROLES", "ServeOptions", "ServiceUnavailable", "serve", "wire"]
