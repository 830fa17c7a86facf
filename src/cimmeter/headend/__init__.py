"""cimmeter.headend: the simulated fleet behind the head-end, and the DeviceNetwork interface.

    from datetime import UTC, datetime
    from cimmeter.headend import FleetOptions, Simulation, SimulatedNetwork

    sim = Simulation(FleetOptions(n_meters=10_000, seed=1))
    for blocks in sim.generate(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)):
        ...  # ReadingBlocks, one per meter and channel, chunk by chunk
    network = SimulatedNetwork(sim)  # what the head-end service calls

Layers (DESIGN.md): headend knows model and codes, never store or transport.
"""

from cimmeter.headend.anomalies import AnomalyPlan, AnomalyResult, InjectedAnomaly, inject_anomalies
from cimmeter.headend.devices import Outage, RelayState
from cimmeter.headend.errors import (
    ControlOrderError,
    FleetOptionsError,
    SimulationError,
    TimeRangeError,
    UnknownDeviceError,
)
from cimmeter.headend.events import DeviceEvent, EventRates
from cimmeter.headend.fleet import Fleet, FleetOptions, GroupInfo, MeterInfo
from cimmeter.headend.generation import Realism
from cimmeter.headend.network import (
    ControlOutcome,
    ControlRequest,
    DeviceError,
    DeviceNetwork,
    PingResult,
    ReadResult,
    SimulatedNetwork,
)
from cimmeter.headend.simulation import Simulation

__all__ = [
    "AnomalyPlan",
    "AnomalyResult",
    "ControlOrderError",
    "ControlOutcome",
    "ControlRequest",
    "DeviceError",
    "DeviceEvent",
    "DeviceNetwork",
    "EventRates",
    "Fleet",
    "FleetOptions",
    "FleetOptionsError",
    "GroupInfo",
    "InjectedAnomaly",
    "MeterInfo",
    "Outage",
    "PingResult",
    "ReadResult",
    "Realism",
    "RelayState",
    "SimulatedNetwork",
    "Simulation",
    "SimulationError",
    "TimeRangeError",
    "UnknownDeviceError",
    "inject_anomalies",
]
