"""Billing benchmark: determinants and Green Button export against the floor of reading the rows.

    ./scripts/bench billing [--quick] [--n=USAGE_POINTS]

N usage points (default 1,000; the issue's 10,000 with --n=10000) x one month (March 2024,
New York: 2,972 quarter hours) of 15-minute delivered energy in a SQLite store, some readings
estimated. In the same run, each in a fresh process (peak RSS is its own), best of 3 (1 with
--quick):

- floor: read those rows from the store (`read_readings`, the same chunks of usage points the
  billing run uses), touching every column;
- determinants: `run_billing` for 2024-03 with a two-period TOU calendar and 15-minute demand,
  coincident demand included (its second, one-window read is part of the cost);
- Green Button: `write_feed` of the same usage points and month (a valid ESPI feed, UsageSummary
  included) into a byte-counting sink (no disk);
- Green Button at N/4 usage points: peak RSS should not grow with N (streaming).

Ratios are rates (readings/s) against the floor: 1.00 = as fast as only reading the rows.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench._common import Measure, best_of, in_process, table
from cimmeter.billing import StoreSource, run_billing
from cimmeter.billing.determinants import billing_config_from_mapping
from cimmeter.greenbutton.export import ExportOptions, StoreFeedReader, write_feed
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, open_store
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
START = datetime(2024, 3, 1, 5, tzinfo=UTC)  # local midnight, New York
END = datetime(2024, 4, 1, 4, tzinfo=UTC)
CONFIG = {
    "timezone": "America/New_York",
    "periods": {"on_peak": 1, "off_peak": 2},
    "seasons": [
        {
            "name": "all",
            "weekday": {"00:00": "off_peak", "07:00": "on_peak", "19:00": "off_peak"},
            "weekend": {"00:00": "off_peak"},
        }
    ],
    "demand": {"window_minutes": 15},
}


def fill(url: str, n: int) -> int:
    ts = int(START.timestamp()) + 900 * np.arange(1, 2973, dtype=np.int64)
    rng = np.random.default_rng(11)
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    with open_store(url, upgrade=True) as store:
        for first in range(0, n, 250):
            with store.transaction() as tx:
                blocks = []
                for i in range(first, min(n, first + 250)):
                    tx.put_object(MasterObject(ObjectKind.METER, f"m{i:05d}", updated_at=t0))
                    tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"u{i:05d}", updated_at=t0))
                    tx.open_linkage(
                        Linkage(LinkageKind.METER_USAGE_POINT, f"m{i:05d}", f"u{i:05d}", t0)
                    )
                    values = np.round(rng.gamma(2.0, 0.15, ts.shape[0]), 3)
                    quality = np.zeros(ts.shape[0], dtype=np.int32)
                    quality[rng.random(ts.shape[0]) < 0.01] = 1
                    blocks.append(
                        ReadingBlock(
                            RT,
                            ts,
                            values,
                            quality,
                            ((), ("3.8.0",)),
                            meter=ObjectRef.of(f"m{i:05d}"),
                        )
                    )
                tx.ingest_readings(blocks, received_at=t0)
    return n * ts.shape[0]


def _ups(n: int) -> list[str]:
    return [f"u{i:05d}" for i in range(n)]


def floor(url: str, n: int) -> int:
    rows = 0
    checksum = 0.0
    with open_store(url) as store:
        ups = _ups(n)
        for i in range(0, n, 200):
            with store.snapshot() as snap:
                for b in snap.read_readings(
                    ReadingQuery(
                        usage_points=ups[i : i + 200], start=START, end=END, kind="interval"
                    )
                ):
                    rows += len(b)
                    checksum += float(b.values.sum()) + int(b.timestamps[-1]) + int(b.quality.max())
    return rows


def determinants(url: str, n: int) -> int:
    config = billing_config_from_mapping(CONFIG)
    with open_store(url) as store:
        results = run_billing(StoreSource(store), config, "2024-03", usage_points=_ups(n))
    assert len(results) == n and all(d.missing == 0 for d in results)
    return sum(d.expected_intervals for d in results)


class _Count:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return len(data)


def greenbutton(url: str, n: int) -> int:
    options = ExportOptions(
        START, END, billing_config_from_mapping(CONFIG), updated=datetime(2024, 4, 2, tzinfo=UTC)
    )
    with open_store(url) as store:
        stats = write_feed(_Count(), StoreFeedReader(store), _ups(n), options)  # type: ignore[arg-type]
    assert stats.usage_summaries == n
    return stats.readings


def main(argv: list[str]) -> int:
    runs = 1 if "--quick" in argv else 3
    n = 1000
    for arg in argv:
        if arg.startswith("--n="):
            n = int(arg.split("=", 1)[1])
    with tempfile.TemporaryDirectory(prefix="cimmeter-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'billing.db'}"
        # Filled in its own process: a spawned child starts with its parent's peak RSS on
        # Linux, so the parent must stay small for the children's peaks to mean anything.
        rows = in_process("fill", fill, url, n).items
        print(f"{n} usage points x 2972 quarter hours = {rows:,} readings (SQLite)", flush=True)
        measures: list[Measure] = [
            best_of(runs, "floor: read the rows (read_readings)", floor, url, n),
            best_of(runs, "determinants (run_billing, TOU + demand + CP)", determinants, url, n),
            best_of(runs, "Green Button export (write_feed)", greenbutton, url, n),
            best_of(runs, f"Green Button export, {n // 4} usage points", greenbutton, url, n // 4),
        ]
    print(table(measures, unit="readings", reference=measures[0].label))
    for m in measures[1:3]:
        print(f"{m.label}: {m.seconds:.2f} s vs floor {measures[0].seconds:.2f} s "
              f"= {m.seconds / measures[0].seconds:.2f}x the floor's time")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
