"""Load shapes: how much a customer uses at each hour of the day, by class and day of week.

The tables are hourly relative weights (hour 0 = 00:00-01:00 local), read by one interpolating
function; residential weekday and weekend shapes each average 1, the commercial shapes share
one scale so that a commercial weekend day uses about a third of a weekday. Temperature turns
heating and cooling on; rooftop solar follows the sun's daily arc, longer and higher in summer.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from cimmeter.headend.noise import F64
from cimmeter.headend.weather import DAY, season_phase

# fmt: off
_RESIDENTIAL_WEEKDAY: Final = (
    0.55, 0.45, 0.42, 0.40, 0.42, 0.55, 0.90, 1.20, 1.05, 0.85, 0.75, 0.75,
    0.80, 0.75, 0.75, 0.85, 1.05, 1.40, 1.70, 1.75, 1.60, 1.35, 1.05, 0.75,
)
_RESIDENTIAL_WEEKEND: Final = (
    0.60, 0.50, 0.45, 0.42, 0.42, 0.45, 0.60, 0.85, 1.10, 1.20, 1.15, 1.10,
    1.10, 1.00, 0.95, 1.00, 1.15, 1.40, 1.65, 1.70, 1.55, 1.30, 1.05, 0.80,
)
_COMMERCIAL_WEEKDAY: Final = (
    0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.50, 0.90, 1.40, 1.60, 1.65, 1.65,
    1.60, 1.65, 1.65, 1.60, 1.55, 1.45, 1.10, 0.70, 0.50, 0.40, 0.38, 0.36,
)
_COMMERCIAL_WEEKEND: Final = (
    0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.35, 0.45, 0.55, 0.60, 0.60, 0.60,
    0.60, 0.60, 0.60, 0.55, 0.50, 0.45, 0.40, 0.38, 0.36, 0.35, 0.35, 0.35,
)
_GAS_BASE: Final = (  # cooking and hot water
    0.30, 0.30, 0.30, 0.30, 0.30, 0.50, 1.50, 2.20, 1.80, 1.00, 0.80, 0.80,
    0.90, 0.80, 0.70, 0.80, 1.00, 1.60, 1.90, 1.60, 1.20, 0.90, 0.60, 0.40,
)
_GAS_HEATING: Final = (  # a thermostat with a night setback
    0.70, 0.70, 0.70, 0.70, 0.70, 0.90, 1.40, 1.50, 1.20, 1.00, 0.90, 0.90,
    0.90, 0.90, 0.90, 1.00, 1.10, 1.20, 1.30, 1.30, 1.20, 1.10, 0.90, 0.80,
)
_WATER: Final = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.20, 1.40, 2.60, 2.20, 1.30, 0.90, 0.90,
    1.00, 0.80, 0.70, 0.80, 1.00, 1.40, 1.90, 1.90, 1.60, 1.30, 0.90, 0.40,
)
# fmt: on

_CENTRES: Final = np.arange(24, dtype=np.float64) + 0.5

HEATING_BASE_C: Final = 16.0  # below this outdoor temperature, heating runs
COOLING_BASE_C: Final = 22.0  # above this, air conditioning runs
GAS_HEATING_BASE_C: Final = 15.5
_EPOCH_WEEKDAY: Final = 3  # 1970-01-01 was a Thursday (Monday = 0)


def _normalised(table: tuple[float, ...], scale: float | None = None) -> F64:
    values = np.asarray(table, dtype=np.float64)
    out: F64 = values / (values.mean() if scale is None else scale)
    return out


_SHAPES: Final[dict[str, F64]] = {
    "residential_weekday": _normalised(_RESIDENTIAL_WEEKDAY),
    "residential_weekend": _normalised(_RESIDENTIAL_WEEKEND),
    "commercial_weekday": _normalised(_COMMERCIAL_WEEKDAY),
    "commercial_weekend": _normalised(_COMMERCIAL_WEEKEND, float(np.mean(_COMMERCIAL_WEEKDAY))),
    "gas_base": _normalised(_GAS_BASE),
    "gas_heating": _normalised(_GAS_HEATING),
    "water": _normalised(_WATER),
}


def hour_of_day(local_seconds: F64) -> F64:
    out: F64 = (local_seconds % DAY) / 3600.0
    return out


def is_weekend(local_seconds: F64) -> npt.NDArray[np.bool_]:
    weekday = (np.floor(local_seconds / DAY).astype(np.int64) + _EPOCH_WEEKDAY) % 7
    out: npt.NDArray[np.bool_] = weekday >= 5
    return out


def shape(name: str, local_seconds: F64) -> F64:
    """The relative weight of shape `name` at each local time (periodic linear interpolation)."""
    out: F64 = np.interp(hour_of_day(local_seconds), _CENTRES, _SHAPES[name], period=24.0)
    return out


def electric_shapes(local_seconds: F64) -> tuple[F64, F64]:
    """(residential, commercial) relative weights at each local time, weekday or weekend."""
    weekend = is_weekend(local_seconds)
    residential = np.where(
        weekend,
        shape("residential_weekend", local_seconds),
        shape("residential_weekday", local_seconds),
    )
    commercial = np.where(
        weekend,
        shape("commercial_weekend", local_seconds),
        shape("commercial_weekday", local_seconds),
    )
    return residential, commercial


def temperature_response(
    temperature_c: F64, heating_per_degree: F64, cooling_per_degree: F64
) -> F64:
    """The multiplier temperature puts on electric load: `heating_per_degree` for each degree
    below HEATING_BASE_C and `cooling_per_degree` for each degree above COOLING_BASE_C; meter
    parameters are (m, 1) columns and temperatures a (1, k) row."""
    cold = np.maximum(0.0, HEATING_BASE_C - temperature_c)
    hot = np.maximum(0.0, temperature_c - COOLING_BASE_C)
    out: F64 = 1.0 + heating_per_degree * cold + cooling_per_degree * hot
    return out


def solar_clear_sky(local_seconds: F64) -> F64:
    """Clear-sky output of a panel as a share of its nameplate power (0..0.7).

    Half the daylight is 6 +- 2.2 hours around solar noon (16.4 h of daylight at the June
    solstice, 7.6 h at the December one) and the peak is higher in summer.
    """
    phase = season_phase(local_seconds)
    half_day = 6.0 + 2.2 * np.cos(phase)
    peak = 0.5 + 0.2 * np.cos(phase)
    x = (hour_of_day(local_seconds) - 12.0) / half_day
    arc = np.where(np.abs(x) < 1.0, np.cos(0.5 * np.pi * np.clip(x, -1.0, 1.0)), 0.0)
    out: F64 = peak * arc**1.3
    return out
