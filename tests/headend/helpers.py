"""Shared helpers of the simulator tests: small fleets and collected blocks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np

from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.generation import Realism
from cimmeter.headend.simulation import Simulation
from cimmeter.model.readings import ReadingBlock

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
FWD = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
REV = "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"
NET = "0.0.2.4.4.1.12.0.0.0.0.0.0.0.0.3.72.0"
FWD_REG = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
REV_REG = "0.0.0.1.19.1.12.0.0.0.0.0.0.0.0.3.72.0"
MAX_DEMAND = "8.8.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"
GAS = "0.0.7.4.1.7.58.0.0.0.0.0.0.0.0.0.42.0"
GAS_REG = "0.0.0.1.1.7.58.0.0.0.0.0.0.0.0.0.42.0"
WATER = "0.0.7.4.1.9.58.0.0.0.0.0.0.0.0.0.42.0"


def quiet_sim(n: int = 40, seed: int = 7, **options: object) -> Simulation:
    """A fleet where nothing random happens and nothing is lost: physics only."""
    register_every = options.pop("register_every", timedelta(days=1))
    fleet_options = FleetOptions(n_meters=n, seed=seed, start=START, **options)  # type: ignore[arg-type]
    return Simulation(
        fleet_options,
        rates=EventRates.none(),
        realism=Realism.clean(),
        register_every=register_every,  # type: ignore[arg-type]
    )


def collect(
    chunks: Iterable[list[ReadingBlock]], sim: Simulation
) -> dict[tuple[int, str], ReadingBlock]:
    """Blocks by (meter index, reading type)."""
    out: dict[tuple[int, str], ReadingBlock] = {}
    for blocks in chunks:
        for b in blocks:
            assert b.meter is not None
            key = (sim.fleet.index_of(b.meter), b.reading_type)
            assert key not in out, f"two blocks for {key}"
            out[key] = b
    return out


def wh(values: np.ndarray) -> np.ndarray:
    """kWh (m3) values as the integer Wh (litres) they are exact multiples of."""
    return np.rint(np.asarray(values) * 1000.0).astype(np.int64)


def at(hours: float, day: int = 0) -> datetime:
    return START + timedelta(days=day, hours=hours)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
