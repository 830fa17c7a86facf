"""What the MDM's `handle` costs on the bulk path: a `created MeterReadings` message of
N meters x 96 quarter-hours, handled end to end (stream read, batched ingest, message log,
outbox with the published event) on SQLite, against its floors measured in the same run:

- streaming read alone (`iter_blocks`: the parse floor),
- `store.ingest_readings` of the same blocks already in memory (the store floor),
- `handle` with publishing off, and with publishing on (the default).

    python -m bench service [--quick] [--meters N] [--pg postgresql://...]

Each way runs in a fresh process on a fresh copy of a store holding the meters and their
usage points; the best of 3 runs is shown (the machine is noisy).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench._common import best_of, table
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind
from cimmeter.xml.stream import MessageHeader, iter_blocks
from cimmeter.xml.stream_write import meter_readings_bytes

# imported here, not in the measured functions: a child process imports this module before
# the clock starts
try:
    from cimmeter.store import open_store  # type: ignore[attr-defined]
except ImportError:  # the store engines are not installed
    open_store = None

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def _blocks(meters: int) -> list[ReadingBlock]:

    stamps = np.arange(1, 97, dtype=np.int64) * 900 + int(T0.timestamp())
    rng = np.random.default_rng(7)
    return [
        ReadingBlock.build(RT, stamps, rng.random(96).round(3), meter=ObjectRef(mrid=f"m-{i:06d}"))
        for i in range(meters)
    ]


def _message(meters: int) -> bytes:

    header = MessageHeader(
        verb="created",
        noun="MeterReadings",
        source="HES",
        message_id="bench-1",
        timestamp=T0.isoformat(),
    )
    return meter_readings_bytes(_blocks(meters), header=header)


def _prepare(url: str, meters: int) -> None:

    since = T0 - timedelta(days=30)
    with open_store(url, upgrade=True) as store, store.transaction() as tx:
        for i in range(meters):
            meter, up = f"m-{i:06d}", f"up-{i:06d}"
            tx.put_object(MasterObject(ObjectKind.METER, meter, updated_at=since))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, up, updated_at=since))
            tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, meter, up, valid_from=since))


def run_parse(body_path: str) -> int:

    return sum(len(b) for b in iter_blocks(Path(body_path).read_bytes()))


def run_store(url: str, meters: int) -> int:

    blocks = _blocks(meters)
    with open_store(url) as store, store.transaction() as tx:
        result = tx.ingest_readings(blocks, received_at=T0, source="HES")
    return int(result.accepted)


def run_handle(url: str, body_path: str, publish: bool, readings: int) -> int:

    mdm = MdmService(ServiceConfig(role="mdm", source="MDM", publish_events=publish))
    with open_store(url) as store:
        result = mdm.handle(Path(body_path).read_bytes(), store, ManualClock(T0))
    if result.result.value != "OK":
        raise RuntimeError(result.reply_xml.decode()[:2000])
    return readings


def main(argv: list[str]) -> int:
    if open_store is None:
        print("skipped: the store engines (cimmeter.store.open_store) are not installed")
        return 0
    meters = 200 if "--quick" in argv else 2_000
    for arg in argv:
        if arg.startswith("--meters="):
            meters = int(arg.split("=", 1)[1])
    work = Path(tempfile.mkdtemp(prefix="cimmeter-bench-service-"))
    try:
        body = work / "message.xml"
        body.write_bytes(_message(meters))
        template = work / "template.db"
        _prepare(f"sqlite:///{template}", meters)
        runs = 1 if "--quick" in argv else 3
        print(
            f"{meters} meters x 96 readings = {meters * 96:,} readings, "
            f"{body.stat().st_size / 1e6:.1f} MB, SQLite, best of {runs}"
        )

        def fresh(n: int) -> str:
            path = work / f"run-{n}.db"
            shutil.copy(template, path)
            return f"sqlite:///{path}"

        measures = [best_of(runs, "streaming read (iter_blocks)", run_parse, str(body))]
        measures.append(
            min(
                (
                    best_of(
                        1, "store.ingest_readings, blocks in memory", run_store, fresh(n), meters
                    )
                    for n in range(runs)
                ),
                key=lambda m: m.seconds,
            )
        )
        for publish in (False, True):
            label = f"MdmService.handle, publish {'on' if publish else 'off'}"
            measures.append(
                min(
                    (
                        best_of(
                            1,
                            label,
                            run_handle,
                            fresh(10 + n + 10 * publish),
                            str(body),
                            publish,
                            meters * 96,
                        )
                        for n in range(runs)
                    ),
                    key=lambda m: m.seconds,
                )
            )
        print(table(measures, unit="readings", reference="store.ingest_readings, blocks in memory"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
