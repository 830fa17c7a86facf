"""Errors of the simulated head-end, one type per failure family."""

from __future__ import annotations


class SimulationError(Exception):
    """Base class of the simulator's errors."""


class FleetOptionsError(SimulationError, ValueError):
    """Fleet or generation options that cannot work (a share outside 0..1, a bad interval)."""


class UnknownDeviceError(SimulationError, LookupError):
    """A reference that names no meter or usage point of the fleet."""

    def __init__(self, described: str) -> None:
        super().__init__(f"no simulated meter or usage point has {described}")
        self.described = described


class TimeRangeError(SimulationError, ValueError):
    """A time that is naive, before the fleet's start, or a range that runs backwards."""


class ControlOrderError(SimulationError, ValueError):
    """A control executed on a device before a control already executed on it (controls on one
    device must arrive in time order)."""
