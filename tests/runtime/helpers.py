"""End-to-end runs against the real service: a served MDM in a thread, and its messages
(master data, then readings)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from cimmeter.runtime.app import ServeOptions, serve
from cimmeter.runtime.clock import SystemClock
from cimmeter.runtime.server import Server

RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
MSG = "http://iec.ch/TC57/2011/schema/message"
MR = "http://iec.ch/TC57/2011/MeterReadings#"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def meter_id(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cimmeter-test-meter-{index}"))


def master_data(meters: int) -> list[bytes]:
    """`create MeterConfig` for `meters` meters (JSON form)."""
    message = {
        "messageKind": "RequestMessage",
        "Header": {
            "Verb": "create",
            "Noun": "MeterConfig",
            "MessageID": str(uuid.uuid4()),
            "Source": "cis",
        },
        "Payload": {"MeterConfig": {"Meter": [{"mRID": meter_id(i)} for i in range(meters)]}},
    }
    return [json.dumps(message).encode()]


def stamp(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def readings(index: int, meter: int, count: int = 4, *, source: str = "hes") -> bytes:
    """`created MeterReadings`, MessageID `msg-<index>`: `count` 15-minute readings of one
    meter, at times no other index uses."""
    base = T0 + index * count * 900
    rows = "".join(
        f"<m:IntervalReadings><m:timeStamp>{stamp(base + 900 * (k + 1))}</m:timeStamp>"
        f"<m:value>{index}.{k}</m:value></m:IntervalReadings>"
        for k in range(count)
    )
    return (
        f'<EventMessage xmlns="{MSG}"><Header><Verb>created</Verb><Noun>MeterReadings</Noun>'
        f"<Source>{source}</Source><MessageID>msg-{index}</MessageID></Header><Payload>"
        f'<m:MeterReadings xmlns:m="{MR}"><m:MeterReading><m:IntervalBlocks>{rows}'
        f'<m:ReadingType ref="{RT}"/></m:IntervalBlocks><m:Meter><m:mRID>{meter_id(meter)}'
        "</m:mRID></m:Meter></m:MeterReading></m:MeterReadings></Payload></EventMessage>"
    ).encode()


@contextmanager
def running(options: ServeOptions) -> Iterator[Server]:
    """`cimmeter serve`'s wiring with `options`, on its own loop in a thread, while the
    `with` block runs; stopped and joined when it ends."""
    ready = threading.Event()
    holder: list[Server] = []
    loop = asyncio.new_event_loop()

    def run() -> None:
        loop.run_until_complete(
            serve(options, SystemClock(), lambda s: (holder.append(s), ready.set()))
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(60), "the server did not start"
    try:
        yield holder[0]
    finally:
        loop.call_soon_threadsafe(holder[0].stop)
        thread.join(30)
