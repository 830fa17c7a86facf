"""A deterministic synthetic weather series for the fleet's region: temperature and cloud cover.

One region, one series: every meter of a fleet sees the same weather, as the customers of one
utility do. Temperature is a seasonal wave (coldest mid-January, warmest mid-July, northern
temperate climate), a daily wave (coldest before dawn, warmest mid-afternoon) and a slowly
varying weather anomaly interpolated between seeded daily values, so warm spells and cold snaps
last a few days. Cloud cover is drawn per day. All functions take local times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from cimmeter.headend import noise
from cimmeter.headend.noise import F64

DAY: Final = 86400
YEAR_DAYS: Final = 365.2425
_MIDSUMMER_DAY: Final = 171  # 1970-06-21, so the seasonal phase is 0 at the June solstice
_WARMEST_DAY: Final = 196  # mid-July: temperature lags the sun by about 25 days


@dataclass(frozen=True, slots=True)
class Climate:
    """The parameters of the synthetic climate (degrees Celsius)."""

    mean: float = 11.0
    seasonal_amplitude: float = 10.0
    daily_amplitude: float = 4.5
    anomaly_sigma: float = 3.0


def season_phase(local_seconds: F64) -> F64:
    """Seasonal phase in radians: 0 at the June solstice, pi at the December solstice."""
    days = local_seconds / DAY
    phase: F64 = 2.0 * np.pi * (days - _MIDSUMMER_DAY) / YEAR_DAYS
    return phase


def temperature(seed: int, local_seconds: F64, climate: Climate = Climate()) -> F64:
    """Outdoor temperature (degrees Celsius) at the given local times."""
    days = local_seconds / DAY
    seasonal = climate.mean + climate.seasonal_amplitude * np.cos(
        2.0 * np.pi * (days - _WARMEST_DAY) / YEAR_DAYS
    )
    hour = (local_seconds % DAY) / 3600.0
    daily = climate.daily_amplitude * np.cos(2.0 * np.pi * (hour - 15.0) / 24.0)
    # the weather anomaly: seeded values at each local midnight, linearly interpolated
    day_index = np.floor(days).astype(np.int64)
    frac = days - day_index
    key = noise.stream_key(seed, "weather.anomaly")
    a0 = noise.normal(key, day_index + (1 << 40))
    a1 = noise.normal(key, day_index + (1 << 40) + 1)
    anomaly = climate.anomaly_sigma * (a0 * (1.0 - frac) + a1 * frac)
    out: F64 = seasonal + daily + anomaly
    return out


def cloud_factor(seed: int, day_index: F64 | np.ndarray) -> F64:
    """The share of clear-sky sunshine that reaches the panels on a local day (0.15..1)."""
    key = noise.stream_key(seed, "weather.cloud")
    u = noise.uniform(key, np.asarray(day_index, dtype=np.int64) + (1 << 40))
    # most days are fairly sunny, some overcast: a skewed draw
    out: F64 = 0.15 + 0.85 * np.sqrt(u)
    return out
