"""Calling a synchronous `MessageHandler` from async transports, with one log line per message.

Handlers run in worker threads (the core and the store are synchronous, DECISIONS.md), at most
`threads` at a time per dispatcher. A handler that raises is a bug or an outage (a business
failure is a Reply FAILED, not an exception): the transport answers with a server error and,
on AMQP, retries and finally dead-letters the message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import anyio
import anyio.to_thread

from cimmeter.transport.handler import Answer, MessageHandler, result_of
from cimmeter.transport.inbound import Inbound, Role

log = logging.getLogger("cimmeter.transport")


class HandlerCrashed(RuntimeError):
    """The handler raised instead of answering; nothing may be assumed committed."""

    def __init__(self, inbound: Inbound, exc: BaseException) -> None:
        env = inbound.envelope
        super().__init__(
            f"handler failed on {env.verb} {env.noun} (MessageID {env.message_id}): "
            f"{type(exc).__name__}: {exc}"
        )
        self.cause = exc


@dataclass
class Dispatcher:
    """One role's handler, run in worker threads."""

    handler: MessageHandler
    role: Role
    threads: int = 8
    _limiter: anyio.CapacityLimiter | None = None

    def _capacity(self) -> anyio.CapacityLimiter:
        # Created on first use: a CapacityLimiter belongs to the running event loop.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def answer(self, inbound: Inbound) -> Answer:
        """The handler's answer; `HandlerCrashed` when it raised. Logs one line either way."""
        started = time.perf_counter()
        env = inbound.envelope
        fields: dict[str, object] = {
            "role": self.role.value,
            "via": inbound.via,
            "endpoint": inbound.endpoint,
            "kind": env.kind,
            "verb": env.verb,
            "noun": env.noun,
            "message_id": env.message_id,
            "correlation_id": env.correlation_id,
            "source": env.source,
            "bytes": len(inbound.body),
        }
        try:
            answer = await anyio.to_thread.run_sync(self.handler, inbound, limiter=self._capacity())
        except Exception as exc:
            fields["ms"] = round((time.perf_counter() - started) * 1000, 2)
            log.exception("handler failed", extra={"fields": {**fields, "error": str(exc)}})
            raise HandlerCrashed(inbound, exc) from exc
        fields["ms"] = round((time.perf_counter() - started) * 1000, 2)
        fields["result"] = result_of(answer)
        log.info("message handled", extra={"fields": fields})
        return answer


__all__ = ["Dispatcher", "HandlerCrashed"]
