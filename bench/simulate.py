"""Simulated fleet: generation throughput and memory (issue 8).

    ./scripts/bench simulate            # best of 3 runs each
    ./scripts/bench simulate --quick    # one run each

1. 10,000 meters x 1 day of 15-minute data, every default channel (forward kWh, reverse kWh for
   solar meters, forward/reverse registers, maximum demand), all blocks kept in memory;
   the floor is the same process doing nothing but importing cimmeter and building the fleet.
   Then the same written to files as `cimmeter simulate --out DIR` does (master data, XML,
   one message per file), against generating alone.
2. Peak RSS generating 1 day chunk by chunk (blocks dropped after each chunk) for 1k, 10k and
   50k meters: memory should stay flat with fleet size, near the floor.

Each measure runs in a fresh process (bench._common.in_process), so its peak RSS is its own;
cimmeter is imported when the child loads this module, so times cover building the fleet and
generating, not imports. The floor's RSS is what imports and the fleet alone cost.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._common import Measure, best_of
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.simulation import Simulation
from cimmeter.runtime.simulate import FileSink, SimulateOptions, run

START = datetime(2025, 6, 2, tzinfo=UTC)


def _floor(n_meters: int) -> int:
    """Build the fleet, generate nothing: what every other measure starts from."""
    Simulation(FleetOptions(n_meters=n_meters, seed=1, start=START))
    return n_meters


def _generate(n_meters: int, days: int, keep: bool) -> int:
    """Generate `days` of data for `n_meters`; returns the number of readings."""
    sim = Simulation(FleetOptions(n_meters=n_meters, seed=1, start=START))
    kept = []
    readings = 0
    for blocks in sim.generate(START, START + timedelta(days=days)):
        readings += sum(len(b) for b in blocks)
        if keep:
            kept.append(blocks)
    return readings


def _to_files(n_meters: int, days: int) -> int:
    """`cimmeter simulate --meters N --days D --out DIR`: every message written to a file."""
    with tempfile.TemporaryDirectory() as directory:
        options = SimulateOptions(meters=n_meters, days=days, seed=1, start=START)
        return run(options, FileSink(Path(directory))).readings


def _line(m: Measure, floor: Measure | None = None) -> str:
    if floor is None:
        return f"{m.label:<44} {m.seconds:7.2f} s {'':>26} {m.peak_rss_mb:6.0f} MB"
    return (
        f"{m.label:<44} {m.seconds:7.2f} s {m.rate:14,.0f} readings/s "
        f"{m.peak_rss_mb:6.0f} MB  (+{m.peak_rss_mb - floor.peak_rss_mb:.0f} MB over the floor)"
    )


def main(argv: list[str]) -> int:
    runs = 1 if "--quick" in argv else 3
    print(f"runs per measure: {runs} (best kept), each in a fresh process; times exclude imports")
    floor = best_of(runs, "floor: imports + fleet of 10,000", _floor, 10_000)
    full = best_of(runs, "10,000 meters x 1 day, all channels, kept", _generate, 10_000, 1, True)
    print(_line(floor))
    print(_line(full, floor))
    print(f"  {full.items:,} readings (96 a meter and channel, daily registers); target < 60 s")
    files = best_of(runs, "10,000 meters x 1 day to files (--out)", _to_files, 10_000, 1)
    print(_line(files, floor))
    print(
        f"  {files.seconds / full.seconds:.1f}x the time of generating alone: master data, "
        "XML writing and 10,033 files"
    )

    print("\npeak RSS generating 1 day chunk by chunk (blocks dropped), by fleet size:")
    for n in (1_000, 10_000, 50_000):
        base = best_of(runs, f"floor, {n:,} meters", _floor, n)
        m = best_of(runs, f"{n:,} meters x 1 day, streamed", _generate, n, 1, False)
        print(_line(base))
        print(_line(m, base))
    return 0
