"""SIGKILL the server in the middle of a run, restart it: nothing acknowledged is lost, nothing
is applied twice. The server is `cimmeter serve` in its own process with a SQLite store; the
messages come over AMQP (redelivered after the kill) with a durable reply queue.

Bounded: 300 messages, one kill, a 150 s budget."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aio_pika
import pytest

from cimmeter.model.readings import concat_blocks
from cimmeter.store import ReadingQuery, open_store
from cimmeter.transport.amqp import Names, declare_topology
from cimmeter.transport.inbound import Role
from tests.runtime.helpers import master_data, meter_id, readings
from tests.transport.amqp_helpers import (
    AMQP_URL,
    broker_lock,
    delete_topology,
    require_broker,
    unique_prefix,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

MESSAGES = 300
METERS = 5
PER_MESSAGE = 4
TOKEN = "kill-token"


def start_server(db: str, prefix: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from cimmeter.cli import main; main()", "serve"]
    command += ["--db", db, "--amqp", AMQP_URL, "--amqp-prefix", prefix, "--port", "0"]
    command += ["--token", TOKEN, "--threads", "2"]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=log.open("ab"), env={**os.environ}
    )


def wait_ready(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    assert line.startswith("cimmeter serving"), line
    first = process.stdout.readline().decode()
    return first.split("SOAP ", 1)[1].split("/soap", 1)[0]


async def publish(prefix: str, replies: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        for body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(
                    body,
                    content_type="application/xml",
                    reply_to=replies,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=Names(prefix).request_queue("MeterReadings"),
            )
    finally:
        await connection.close()


async def replies_so_far(replies: str, seen: dict[str, str]) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(replies, durable=True, passive=True)
        while (got := await queue.get(no_ack=True, fail=False)) is not None:
            ok = b"<Result>OK</Result>" in got.body
            seen[got.correlation_id or ""] = "OK" if ok else "not OK"
    finally:
        await connection.close()


def test_sigkill_mid_run_loses_nothing_acknowledged(tmp_path: Path) -> None:
    require_broker()
    db = f"sqlite:///{tmp_path / 'mdm.db'}"
    prefix = unique_prefix()
    replies = f"{prefix}.test.replies"
    log = tmp_path / "server.log"

    async def setup() -> None:
        connection = await aio_pika.connect(AMQP_URL)
        channel = await connection.channel()
        await channel.declare_queue(replies, durable=True)
        await declare_topology(channel, Names(prefix), [Role.MDM])
        await connection.close()

    with broker_lock():
        asyncio.run(setup())
        server = start_server(db, prefix, log)
        try:
            url = wait_ready(server)
            from cimmeter.transport.client import HttpSender

            with HttpSender(url, token=TOKEN) as sender:
                assert sender.send(master_data(METERS)[0]).result == "OK"
            bodies = [readings(i, i % METERS, PER_MESSAGE) for i in range(MESSAGES)]
            asyncio.run(publish(prefix, replies, bodies))
            seen: dict[str, str] = {}
            deadline = time.monotonic() + 150
            while len(seen) < MESSAGES // 3 and time.monotonic() < deadline:
                asyncio.run(replies_so_far(replies, seen))
                time.sleep(0.05)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            acknowledged = {k for k, v in seen.items() if v == "OK"}
            assert 0 < len(acknowledged) < MESSAGES, "the kill did not land mid-run"
            server = start_server(db, prefix, log)
            wait_ready(server)
            while len(seen) < MESSAGES and time.monotonic() < deadline:
                asyncio.run(replies_so_far(replies, seen))
                time.sleep(0.1)
        finally:
            server.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(15)
            if server.poll() is None:
                server.kill()
            asyncio.run(delete_topology(prefix))
            asyncio.run(_delete(replies))
    assert len(seen) == MESSAGES, f"{len(seen)} replies; server log:\n{log.read_text()[-2000:]}"
    assert set(seen.values()) == {"OK"}
    with open_store(db) as store, store.snapshot() as reader:
        for meter in range(METERS):
            blocks = list(reader.read_readings(ReadingQuery(meters=[meter_id(meter)])))
            values = concat_blocks(blocks).values.tolist()
            expected = [
                float(f"{i}.{k}")
                for i in range(meter, MESSAGES, METERS)
                for k in range(PER_MESSAGE)
            ]
            assert values == expected  # every reading once: none lost, none doubled
        for message_id in acknowledged:
            assert reader.find_message("hes", message_id) is not None


async def _delete(name: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        await channel.queue_delete(name)
    finally:
        await connection.close()
