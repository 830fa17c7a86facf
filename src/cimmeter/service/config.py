"""How one cimmeter service (an MDM or a head-end) is set up: `ServiceConfig`.

Everything here is a choice an operator or an integrator makes per deployment or per peer: our
Header Source name, who may receive asynchronous results (the ReplyAddress allowlist), which
error-code table to use, the form of asynchronous results per peer, limits of time ranges and
result sizes. Nothing here reads the environment or the clock; the runtime builds it.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from cimmeter.store.base import ReadSeries

Role = Literal["mdm", "headend"]

AsyncResultForm = Literal["reply", "created"]
"""How an asynchronous result travels (DECISIONS.md, async results): `reply` = a ResponseMessage
with verb `reply` and the Reply (can carry PARTIAL, as Connexo does); `created` = an
EventMessage with the past-tense verb of the request."""

LOOPBACK = "loopback"
"""The allowlist entry that admits URLs whose host is a loopback address or `localhost`."""


class ServiceConfig(BaseModel):
    """The settings of one service (see the module docstring). Immutable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    source: str = Field(min_length=1)
    """Our `Header/Source` on everything we send (digest 6.2)."""
    reply_address: str | None = None
    """Where peers send asynchronous results for our own requests (our endpoint or queue)."""
    allow_reply_to: tuple[str, ...] = (LOOPBACK,)
    """ReplyAddress allowlist (DECISIONS.md): `loopback`, or glob patterns matched against the
    whole address (`https://cis.example.com/*`, `amqp:cimmeter.replies.*`). A server never
    sends to an address outside it; a request naming one gets a FAILED reply."""
    error_codes: Path | None = None
    """Error-code table replacing the packaged reconstruction (digest 6.7)."""
    async_result_form: dict[str, AsyncResultForm] = Field(default_factory=dict)
    """Per peer (its Header/Source) form of asynchronous results; others get the default."""
    default_async_result_form: AsyncResultForm = "reply"
    max_time_range: timedelta = timedelta(days=400)
    """Longest time range a request may ask for; longer ones get `time-range-too-long`."""
    default_time_range: timedelta = timedelta(days=1)
    """The range assumed when a request gives an end but no start (reported as INFORM)."""
    max_readings_per_reply: int = Field(200_000, gt=0)
    """A `get MeterReadings` answer holds at most this many readings; the rest is left out
    and the reply says where it stopped (PARTIAL with `result-truncated`)."""
    max_events_per_reply: int = Field(10_000, gt=0)
    max_objects_per_reply: int = Field(1_000, gt=0)
    """A `get` of master data (MeterConfig, UsagePointConfig, ...) returns at most this many."""
    max_errors_per_reply: int = Field(1_000, gt=0)
    """Errors listed in one reply; beyond, one WARNING says how many more there were."""
    max_readings_per_event: int = Field(200_000, gt=0)
    """Published `created MeterReadings` events are split into messages of at most this many
    readings."""
    ingest_batch_blocks: int = Field(2_000, gt=0)
    """Blocks handed to the store per `ingest_readings` call on the streaming path."""
    publish_events: bool = True
    """Publish `created`/`changed` events for what a message changed, to `topic:<verb>.<Noun>`."""
    topic_prefix: str = "topic:"
    headend_destination: str = "headend"
    """Outbox destination of the MDM's requests to its head-end (a URL, queue, or `headend`
    for the in-process head-end of `serve --role both`)."""
    default_series: ReadSeries = "best"
    """Which series `get MeterReadings` returns without an Option `series` (raw until VEE)."""
    request_timeout: timedelta = timedelta(hours=1)
    """How long the MDM waits for the result of its own asynchronous requests before it marks
    them expired (`tick`)."""
    timezone: str = "UTC"
    """Zone of local days, months and billing periods (DECISIONS.md)."""
    billing_config: str | None = None
    """Billing configuration file (TOU calendar, zone, demand, cycles: docs/billing.md) used
    when `get MeterReadings` asks for billing-period ReadingTypes; without it, one flat TOU
    period in `timezone`."""
    vee_after_ingest: bool = False
    """Schedule a `vee.run` job (issue 10) over what each ingest stored; the job runs on the
    next `tick` after `vee_delay`, never inside the ingest transaction."""
    vee_delay: timedelta = timedelta(minutes=1)

    def reply_address_allowed(self, address: str) -> bool:
        """True when the allowlist admits `address` (DECISIONS.md: loopback only by default)."""
        for pattern in self.allow_reply_to:
            if pattern == LOOPBACK:
                if _is_loopback_url(address):
                    return True
            elif fnmatchcase(address, pattern):
                return True
        return False

    def result_form_for(self, peer: str | None) -> AsyncResultForm:
        if peer is not None and peer in self.async_result_form:
            return self.async_result_form[peer]
        return self.default_async_result_form

    def topic(self, verb: str, noun: str) -> str:
        """The outbox destination of an event (`topic:created.MeterReadings`)."""
        return f"{self.topic_prefix}{verb}.{noun}"


def _is_loopback_url(address: str) -> bool:
    try:
        parts = urlsplit(address)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["LOOPBACK", "AsyncResultForm", "Role", "ServiceConfig"]
