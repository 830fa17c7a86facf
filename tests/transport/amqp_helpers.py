"""Helpers for tests against the real RabbitMQ: reachability, unique names, clean-up."""

from __future__ import annotations

import contextlib
import fcntl
import socket
import uuid
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import aio_pika

from cimmeter.message.registry import REGISTRY
from cimmeter.transport.amqp import Names
from cimmeter.transport.inbound import Role
from tests.conftest import need_server

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def require_broker(url: str = AMQP_URL) -> None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2):
            pass
    except OSError as exc:
        need_server("RabbitMQ", f"{parts.hostname}:{parts.port}: {exc}")


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


async def delete_topology(prefix: str, roles: Sequence[Role] = (Role.MDM, Role.HEADEND)) -> None:
    """Delete every queue and exchange a test declared under `prefix`."""
    names = Names(prefix)
    connection = await aio_pika.connect(AMQP_URL)
    try:
        for role in roles:
            for entry in REGISTRY:
                channel = await connection.channel()
                await channel.queue_delete(names.request_queue(entry.noun, role))
                await channel.close()
        channel = await connection.channel()
        await channel.queue_delete(names.dead_queue)
        await channel.exchange_delete(names.dead_exchange)
        await channel.exchange_delete(names.events_exchange)
        await channel.close()
    finally:
        await connection.close()


LOCK_PATH = "/tmp/cimmeter-rabbitmq-tests.lock"


@contextlib.contextmanager
def broker_lock(*, exclusive: bool = False) -> Iterator[None]:
    """Tests that restart the broker take it exclusively; the others share it (xdist workers
    run in parallel, and a restart would cut their connections)."""
    with open(LOCK_PATH, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
