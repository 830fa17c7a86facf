"""VEE benchmark: a seeded fleet with injected anomalies, VEE from the store and back, against
the floor of reading the same readings and writing as many rows; and recall/precision per rule.

    ./scripts/bench vee [--meters=N] [--days=D] [--engine=sqlite|postgresql|both] [--pg=URL]
                        [--no-truth]

The issue's size is 10,000 meters x 96 x 30 days (28.8M interval readings); the default here
is 200 meters x 30 days (576,000 interval readings plus daily registers), which a shared 2-core
machine runs in a minute per engine: scale with --meters. Each figure is one run on a fresh
database (setup is not timed):

- floor: `read_readings` of the raw series (chunks of 200 meters, one transaction each) and
  `ingest_readings` of the same blocks into the final series (every row new, as on a first VEE
  run): the least any store-backed VEE must do;
- vee: `run_vee` over the same range (reads raw, final and history, relay/outage events,
  linkages, runs every rule and method, writes the final series and the findings);
- per rule: engine seconds per rule summed over channels, as readings/s;
- ground truth: `cimmeter.vee.groundtruth.evaluate` on the same fleet (pure engine).
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cimmeter.headend import (
    AnomalyPlan,
    EventRates,
    FleetOptions,
    Realism,
    Simulation,
    inject_anomalies,
)
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store, open_store
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind
from cimmeter.vee.groundtruth import evaluate
from cimmeter.vee.runner import CHUNK, run_vee

START = datetime(2025, 3, 3, tzinfo=UTC)
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
PLAN = AnomalyPlan(
    gap=0.3,
    spike=0.3,
    zero_run=0.2,
    flat_line=0.2,
    negative=0.1,
    duplicate=0.1,
    off_grid=0.1,
    register_jump=0.2,
    rollover=0.2,
)
"""Anomalies in about a third of the channels: enough of each kind to score it."""


def _arg(argv: list[str], name: str, default: str) -> str:
    for a in argv:
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return default


def fleet(meters: int, days: int) -> tuple[list[ReadingBlock], list[ReadingBlock], object]:
    sim = Simulation(
        FleetOptions(n_meters=meters, seed=42, start=START),
        rates=EventRates.none(),
        realism=Realism.clean(),
        register_every=timedelta(days=1),
    )
    end = START + timedelta(days=days)
    clean = [
        b
        for chunk in sim.generate(START, end, channels={"forward", "forward_register"})
        for b in chunk
    ]
    noisy = inject_anomalies(clean, PLAN, seed=42)
    return clean, noisy.blocks, noisy.truth


def setup(store: Store, blocks: list[ReadingBlock]) -> list[str]:
    meters = sorted({b.meter.mrid for b in blocks if b.meter and b.meter.mrid})
    with store.transaction() as tx:
        for m in meters:
            tx.put_object(MasterObject(ObjectKind.METER, m, updated_at=START))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"up-{m}", updated_at=START))
            tx.open_linkage(
                Linkage(LinkageKind.METER_USAGE_POINT, m, f"up-{m}", START - timedelta(days=1))
            )
    bare = [
        ReadingBlock(
            b.reading_type,
            b.timestamps,
            b.values,
            b.quality,
            b.quality_sets,
            meter=b.meter,
            kind=b.kind,
        )
        for b in blocks
    ]
    for i in range(0, len(bare), 2000):
        with store.transaction() as tx:
            result = tx.ingest_readings(bare[i : i + 2000], received_at=START, source="bench")
            assert not result.rejected, result.rejected[:3]
    return meters


def floor(store: Store, meters: list[str], end: datetime) -> int:
    """Read the raw readings and write as many rows into the final series."""
    rows = 0
    for i in range(0, len(meters), CHUNK):
        with store.transaction() as tx:
            got = list(
                tx.read_readings(ReadingQuery(meters=meters[i : i + CHUNK], start=START, end=end))
            )
            blocks = [
                ReadingBlock(
                    b.reading_type,
                    b.timestamps,
                    b.values,
                    b.quality,
                    b.quality_sets,
                    meter=b.meter,
                    kind=b.kind,
                    source="floor",
                )
                for b in got
            ]
            tx.ingest_readings(blocks, received_at=end, source="floor", series="final")
            rows += sum(len(b) for b in blocks)
    return rows


class Pg:
    def __init__(self, admin: str) -> None:
        import psycopg

        self.admin = admin
        self.name = f"cimmeter_bench_vee_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')
        self.url = urlunsplit(urlsplit(admin)._replace(path=f"/{self.name}"))

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def measure(engine: str, pg: str, blocks: list[ReadingBlock], end: datetime) -> None:
    results: dict[str, float] = {}
    readings = 0
    for what in ("floor", "vee"):
        with tempfile.TemporaryDirectory() as tmp:
            db = Pg(pg) if engine == "postgresql" else None
            url = db.url if db else f"sqlite:///{Path(tmp) / 'vee.db'}"
            try:
                with open_store(url, upgrade=True) as store:
                    meters = setup(store, blocks)
                    t = time.perf_counter()
                    if what == "floor":
                        readings = floor(store, meters, end)
                    else:
                        summary = run_vee(
                            store, start=START, end=end, now=end + timedelta(days=1), meters=meters
                        )
                    results[what] = time.perf_counter() - t
            finally:
                if db:
                    db.drop()
    print(
        f"\n{engine}: {readings:,} readings ({summary.meters} meters, {summary.channels} channels)"
    )
    for what in ("floor", "vee"):
        print(f"  {what:<6} {results[what]:8.2f} s  {readings / results[what]:12,.0f} readings/s")
    print(f"  ratio vee / floor: {results['vee'] / results['floor']:.2f} (target <= 2)")
    print(f"  final rows written {summary.written:,}; counts {dict(summary.counts)}")
    print("  engine time per rule (readings/s over all readings):")
    for rule, sec in sorted(summary.timings.items(), key=lambda kv: -kv[1]):
        print(f"    {rule:<22} {sec:7.3f} s  {readings / sec if sec else float('inf'):14,.0f}/s")
    engine_total = sum(summary.timings.values())
    print(
        f"    {'all rules + methods':<22} {engine_total:7.3f} s  {readings / engine_total:14,.0f}/s"
    )


def truth_report(
    clean: list[ReadingBlock], noisy: list[ReadingBlock], truth: object, end: datetime
) -> None:
    ev = evaluate(noisy, truth, clean, int(START.timestamp()), int(end.timestamp()))  # type: ignore[arg-type]
    print("\nground truth (same fleet, pure engine):")
    print(f"  {'kind':<14} {'injected':>8} {'recall':>8} {'precision':>10}")
    for kind, s in sorted(ev.scores.items()):
        print(f"  {kind:<14} {s.injected:8d} {s.recall:8.3f} {s.precision:10.3f}")
    print(
        f"  clean data: {ev.flagged_clean} of {ev.clean_readings:,} readings flagged "
        f"({100 * ev.clean_false_positive_rate:.3f}%, target < 1%)"
    )


def main(argv: list[str]) -> int:
    meters = int(_arg(argv, "meters", "200"))
    days = int(_arg(argv, "days", "30"))
    engine = _arg(argv, "engine", "both")
    pg = _arg(argv, "pg", PG_DEFAULT)
    end = START + timedelta(days=days)
    t = time.perf_counter()
    clean, noisy, truth = fleet(meters, days)
    per = defaultdict(int)
    for b in noisy:
        per[b.kind] += len(b)
    print(
        f"fleet: {meters} meters x {days} days: {per['interval']:,} interval and "
        f"{per['register']:,} register readings, generated in {time.perf_counter() - t:.1f} s"
    )
    if "--no-truth" not in argv:
        truth_report(clean, noisy, truth, end)
    for name in ("sqlite", "postgresql") if engine == "both" else (engine,):
        measure(name, pg, noisy, end)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
