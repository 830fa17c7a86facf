"""Durability: SIGKILL a writer at random points and restart it; concurrent writers.

Invariants (DESIGN.md, "Data that must never be lost"): every acknowledged message is stored
in full; no message is stored in part; replays after a restart are not applied twice.
Bounded: about 20-30 s per engine.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cimmeter.store import ReadingQuery, Store, open_store
from cimmeter.store.records import MasterObject, ObjectKind
from tests.conftest import REPO
from tests.store.conftest import T0
from tests.store.writer_process import BASE, METERS, RT, SOURCE, ack

KILLS = 20
MESSAGES = 400
READINGS = 2_000  # per message: 10 meters x 200


def spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer_process", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def setup_meters(store: Store, count: int) -> None:
    with store.transaction() as tx:
        for m in range(count):
            tx.put_object(MasterObject(ObjectKind.METER, f"m{m}", updated_at=T0))


def stored_per_message(store: Store) -> dict[int, int]:
    """Readings stored per message, from their timestamps (message k owns a time range)."""
    per_meter = READINGS // METERS
    counts: dict[int, int] = {}
    with store.snapshot() as snap:
        for block in snap.read_readings(ReadingQuery(reading_types=[RT])):
            for k in ((block.timestamps - BASE - 1) // (900 * per_meter)).tolist():
                counts[k] = counts.get(k, 0) + 1
    return counts


def ack_count(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_acknowledged(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(store_url, upgrade=True)
    setup_meters(store, METERS)
    store.close()  # no connection crosses the fork
    acks = tmp_path / "acks.txt"
    rng = random.Random(20261)
    kills = 0
    # 20 kills take ~15 s on an idle machine; the bound is for a machine busy with other work
    deadline = time.monotonic() + 180
    # Forked (not spawned) writers start in milliseconds, so kills land while they write.
    fork = multiprocessing.get_context("fork")
    while kills < KILLS and time.monotonic() < deadline:
        before = ack_count(acks)
        writer = fork.Process(target=ack, args=(store_url, str(acks), MESSAGES, READINGS))
        writer.start()
        # Kill it at a random point once it writes: inside a transaction, between commit and
        # ack, or between messages.
        while writer.is_alive() and ack_count(acks) == before and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.5))
        if writer.is_alive():
            writer.kill()
            kills += 1
        writer.join()
    store = open_store(store_url)
    acknowledged = set(acks.read_text().split()) if acks.exists() else set()
    counts = stored_per_message(store)
    with store.snapshot() as snap:
        logged = {k for k in range(MESSAGES) if snap.find_message(SOURCE, f"msg-{k}")}
    info_counts = store.info().counts
    per_message = READINGS
    partial = {k: n for k, n in counts.items() if n != per_message}
    missing = {m for m in acknowledged if counts.get(int(m.split("-")[1]), 0) != per_message}
    store.close()
    with capsys.disabled():
        print(
            f"\nkill test {store_url.split(':')[0]}: {kills} SIGKILLs, {len(acknowledged)} "
            f"messages acknowledged, {len(counts)} stored, {len(partial)} partial, "
            f"{info_counts['reading_versions']} versions"
        )
    assert kills >= KILLS, f"only {kills} kills in the time bound"
    assert acknowledged, "the writer never acknowledged a message"
    assert not missing, f"acknowledged but not (fully) stored: {sorted(missing)[:5]}"
    assert not partial, f"partly stored messages: {partial}"
    # Stored messages are exactly the logged ones (data and log commit together) ...
    assert set(counts) == logged
    # ... replays never doubled a reading nor made a version of an unchanged one.
    assert info_counts["readings"] == len(counts) * per_message
    assert info_counts["reading_versions"] == 0
    assert info_counts["message_log"] == len(logged)


@pytest.mark.slow
def test_concurrent_writers_lose_and_duplicate_nothing(store_url: str) -> None:
    writers, messages, meters = 3, 15, 20
    store = open_store(store_url, upgrade=True)
    setup_meters(store, meters)
    processes = [
        spawn("race", store_url, str(w), str(messages), str(meters)) for w in range(writers)
    ]
    totals = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()[-2000:]
        totals.append(json.loads(out))
    counts = store.info().counts
    store.close()
    shared = messages * 4 * meters
    own = writers * messages * 4 * meters
    assert counts["readings"] == shared + own
    assert sum(t["inserted"] for t in totals) == shared + own
    assert sum(t["inserted"] + t["unchanged"] + t["versioned"] for t in totals) == sum(
        t["sent"] for t in totals
    )
    # Every change of a shared reading's value left exactly one prior version.
    assert counts["reading_versions"] == sum(t["versioned"] for t in totals)
