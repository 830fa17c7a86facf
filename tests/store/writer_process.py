"""A writer process for the durability and concurrency tests (run with `python -m`).

python -m tests.store.writer_process ack URL ACK_FILE MESSAGES READINGS
    Ingests messages msg-0..msg-(MESSAGES-1), each READINGS readings of its own, with its
    message-log entry in the same transaction, and appends the MessageID to ACK_FILE only
    after the commit. A message already logged is skipped (and acknowledged): replays.

python -m tests.store.writer_process race URL WRITER MESSAGES METERS
    Ingests messages whose readings overlap with the other writers' (same meters, same
    times, value = WRITER) plus readings of its own; prints its totals as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import open_store
from cimmeter.store.records import MessageDirection, MessageLogEntry

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BASE = int(T0.timestamp())
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
METERS = 10
SOURCE = "writer"


def message_blocks(k: int, readings: int) -> list[ReadingBlock]:
    """Message k: `readings` readings spread over the meters, times unique to k."""
    per_meter = readings // METERS
    start = BASE + 900 * per_meter * k
    ts = start + 900 * np.arange(1, per_meter + 1, dtype=np.int64)
    return [
        ReadingBlock.build(RT, ts, k + m + np.arange(per_meter) / 8, meter=ObjectRef.of(f"m{m}"))
        for m in range(METERS)
    ]


def ack(url: str, ack_file: str, messages: int, readings: int) -> None:
    store = open_store(url)
    fd = os.open(ack_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    for k in range(messages):
        message_id = f"msg-{k}"
        with store.transaction() as tx:
            if tx.find_message(SOURCE, message_id) is None:
                tx.ingest_readings(
                    message_blocks(k, readings),
                    received_at=T0 + timedelta(seconds=k),
                    source=SOURCE,
                )
                tx.log_message(
                    MessageLogEntry(
                        MessageDirection.INBOUND,
                        "create",
                        "MeterReadings",
                        message_id,
                        None,
                        SOURCE,
                        T0 + timedelta(seconds=k),
                        "OK",
                    )
                )
        # Acknowledged only once committed (DESIGN.md rule 1).
        os.write(fd, f"{message_id}\n".encode())
    os.close(fd)
    store.close()


def race(url: str, writer: int, messages: int, meters: int) -> None:
    store = open_store(url)
    totals = {"inserted": 0, "unchanged": 0, "versioned": 0, "sent": 0}
    for k in range(messages):
        shared = BASE + 900 * (k * 4 + np.arange(1, 5, dtype=np.int64))
        own = BASE + 10_000_000 * (writer + 1) + 900 * (k * 4 + np.arange(1, 5, dtype=np.int64))
        blocks = []
        for m in range(meters):
            blocks.append(
                ReadingBlock.build(
                    RT, shared, np.full(4, float(writer)), meter=ObjectRef.of(f"m{m}")
                )
            )
            blocks.append(
                ReadingBlock.build(RT, own, np.full(4, float(k)), meter=ObjectRef.of(f"m{m}"))
            )
        with store.transaction() as tx:
            result = tx.ingest_readings(blocks, received_at=T0 + timedelta(seconds=k))
        assert not result.rejected, result.rejected
        totals["inserted"] += result.inserted
        totals["unchanged"] += result.unchanged
        totals["versioned"] += result.versioned
        totals["sent"] += sum(len(b) for b in blocks)
    store.close()
    print(json.dumps(totals))


if __name__ == "__main__":
    mode, url, *rest = sys.argv[1:]
    if mode == "ack":
        ack(url, rest[0], int(rest[1]), int(rest[2]))
    else:
        race(url, int(rest[0]), int(rest[1]), int(rest[2]))
