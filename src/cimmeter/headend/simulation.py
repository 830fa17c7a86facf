"""One simulated fleet with its state: the physics the head-end's device network runs on.

`Simulation` ties the fleet (who the meters are), the device state (what controls changed), the
random schedule (outages and alarms from the seed) and the reading generator together, and
offers the primitive actions on meters by index and epoch seconds. The rules of the head-end
(which control succeeds, what an outcome says) live in `network.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cimmeter.headend import noise
from cimmeter.headend.devices import DeviceState, LoadControlWindow, Outage, RelayChange, RelayState
from cimmeter.headend.errors import TimeRangeError, UnknownDeviceError
from cimmeter.headend.events import DeviceEvent, EventRates, EventRecorder, EventSchedule
from cimmeter.headend.fleet import ELECTRIC, Fleet, FleetOptions, MeterKind
from cimmeter.headend.generation import (
    DEFAULT_CHUNK_CELLS,
    ReadingGenerator,
    Realism,
    epoch_seconds,
)
from cimmeter.model.readings import ReadingBlock

I64 = npt.NDArray[np.int64]

_BUTTON_DELAY: Final = (300, 6 * 3600)
"""After an arm for closure, the customer presses the button 5 minutes to 6 hours later."""


@dataclass(frozen=True, slots=True)
class PingStatus:
    """What a ping finds (digest 4.6): unreachable is not the same as de-energised."""

    reachable: bool
    energized: bool | None
    """Line side has power; None when the meter did not answer."""
    relay: RelayState | None
    """None for meters without a service switch (gas, water) or that did not answer."""


class Simulation:
    """A fleet, its device state, its random schedule and its reading generator."""

    def __init__(
        self,
        fleet: Fleet | FleetOptions,
        *,
        rates: EventRates | None = None,
        realism: Realism | None = None,
        register_every: timedelta = timedelta(days=1),
        chunk_cells: int = DEFAULT_CHUNK_CELLS,
        ping_failure_rate: float = 0.0,
        customer_presses_button: bool = True,
    ) -> None:
        self.fleet = fleet if isinstance(fleet, Fleet) else Fleet(fleet)
        self.state = DeviceState()
        self.schedule = EventSchedule(self.fleet, rates or EventRates())
        self.recorder = EventRecorder(self.fleet, self.schedule, self.state)
        self.generator = ReadingGenerator(
            self.fleet,
            self.state,
            self.schedule,
            realism or Realism(),
            register_every=register_every,
            chunk_cells=chunk_cells,
        )
        self.ping_failure_rate = ping_failure_rate
        self.customer_presses_button = customer_presses_button
        self._keys = {n: noise.stream_key(self.fleet.seed, "sim." + n) for n in ("ping", "button")}

    # -- readings and events -------------------------------------------------------------------

    def generate(
        self,
        start: datetime,
        end: datetime,
        *,
        meters: Sequence[int] | I64 | None = None,
        channels: Collection[str] | None = None,
    ) -> Iterator[list[ReadingBlock]]:
        """ReadingBlocks for (start, end], chunk by chunk (see ReadingGenerator.generate)."""
        return self.generator.generate(start, end, meters=meters, channels=channels)

    def events(
        self, since: datetime, until: datetime, meters: Sequence[int] | I64 | None = None
    ) -> list[DeviceEvent]:
        """Events the head-end received in (since, until]."""
        rows = None if meters is None else np.asarray(meters, dtype=np.int64)
        return self.recorder.events(epoch_seconds(since), epoch_seconds(until), rows)

    def outages(self, start: datetime, end: datetime) -> list[Outage]:
        """Random and injected outages overlapping [start, end): the ground truth."""
        return self.schedule.outages(self.state, epoch_seconds(start), epoch_seconds(end))

    def add_meters(
        self, count: int, *, kind: MeterKind | None = None, mrids: list[str] | None = None
    ) -> range:
        """Add virtual meters after the last (an MDM installs a meter the head-end does not
        know, DECISIONS.md); existing meters and their data do not change."""
        added = self.fleet.extend(count, kind=kind, mrids=mrids)
        self.generator.fleet_grew()
        self.schedule.forget()
        return added

    # -- device state --------------------------------------------------------------------------

    def powered(self, meter: int, at: int) -> bool:
        self._check(meter)
        return self.schedule.powered(self.state, meter, at)

    def relay(self, meter: int, at: int) -> RelayState:
        self._check(meter)
        return self.state.relay_at(meter, at)

    def ping(self, meter: int, at: int) -> PingStatus:
        """A meter answers only when it has power (battery meters always) and the network
        carries the answer (`ping_failure_rate` drops a few)."""
        self._check(meter)
        if not self.powered(meter, at) or (
            self.ping_failure_rate > 0
            and noise.uniform_scalar(self._keys["ping"], meter, at) < self.ping_failure_rate
        ):
            return PingStatus(False, None, None)
        electric = self.fleet.kind[meter] == ELECTRIC
        return PingStatus(True, True, self.state.relay_at(meter, at) if electric else None)

    def _check(self, meter: int) -> None:
        if not 0 <= meter < self.fleet.n:
            raise UnknownDeviceError(f"index {meter} (the fleet has {self.fleet.n} meters)")

    def _check_time(self, at: int) -> None:
        if at < self.fleet.options.start_epoch:
            raise TimeRangeError(f"{at} is before the fleet's start {self.fleet.options.start}")

    # -- actions -------------------------------------------------------------------------------

    def open_relay(self, meter: int, at: int) -> None:
        self._check(meter)
        self._check_time(at)
        self.state.set_relay(meter, at, RelayState.OPEN)

    def close_relay(self, meter: int, at: int) -> None:
        self._check(meter)
        self._check_time(at)
        self.state.set_relay(meter, at, RelayState.CLOSED)

    def arm_for_closure(self, meter: int, at: int) -> int | None:
        """Arm the switch; the customer presses the button later (when simulated). Returns
        when the button will be pressed, or None."""
        self._check(meter)
        self._check_time(at)
        press: int | None = None
        then = None
        if self.customer_presses_button:
            low, high = _BUTTON_DELAY
            u = noise.uniform_scalar(self._keys["button"], meter, at)
            press = at + low + int(u * (high - low))
            then = RelayChange(press, RelayState.CLOSED, "customer")
        self.state.set_relay(meter, at, RelayState.ARMED, then=then)
        return press

    def press_button(self, meter: int, at: int) -> bool:
        """The customer presses the button: closes an armed switch; True when it did."""
        self._check(meter)
        if self.state.relay_at(meter, at) is not RelayState.ARMED:
            return False
        self.state.set_relay(meter, at, RelayState.CLOSED, cause="customer")
        return True

    def max_demand_kw(self, meter: int, at: int) -> float:
        """The maximum demand register (kW) at `at`."""
        self._check(meter)
        rows = np.array([meter], dtype=np.int64)
        _, max_interval = self.generator.registers_at(rows, at)
        return float(max_interval[0]) * 3.6 / self.fleet.options.interval_seconds

    def reset_demand(self, meter: int, at: int) -> float:
        """Reset the maximum demand register; returns its value (kW) just before."""
        before = self.max_demand_kw(meter, at)
        self.state.reset_demand(meter, at)
        return before

    def start_load_control(
        self, meter: int, start: int, end: int, shed: float, issued_at: int
    ) -> None:
        self._check(meter)
        self._check_time(start)
        self.state.start_load_control(meter, LoadControlWindow(start, end, shed, issued_at))

    def stop_load_control(self, meter: int, at: int) -> bool:
        self._check(meter)
        return self.state.stop_load_control(meter, at)

    def inject_outage(
        self, scope: Literal["transformer", "feeder"], group: int, start: datetime, end: datetime
    ) -> Outage:
        """Every meter under the transformer (or feeder) loses power during [start, end)."""
        count = self.fleet.n_transformers if scope == "transformer" else self.fleet.n_feeders
        if not 0 <= group < count:
            raise UnknownDeviceError(f"{scope} {group} (the fleet has {count})")
        outage = Outage(scope, group, epoch_seconds(start), epoch_seconds(end), "injected")
        self._check_time(outage.start)
        self.state.inject_outage(outage, self.schedule.outage_meters(outage))
        return outage
