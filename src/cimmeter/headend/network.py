"""The head-end's device network: the interface the head-end service calls, and the simulated
implementation over a `Simulation`.

A vendor adapter (an AMI head-end's API, a MDM-side collector) implements `DeviceNetwork`; the
service never knows whether meters are real. Every call takes explicit times: nothing here
reads the wall clock or sleeps, so the service decides what "now" is (a `Clock`).

Per-device failures (unknown device, reading type the device lacks, device not reachable) are
returned as `DeviceError`s beside the data, never raised: one bad device must not sink the others
(DESIGN.md, "Data that must never be lost", 7). Control outcomes follow digest 4.7 step 6: the
switch-specific event for switch controls, `...44` Processed / `...79` Error for the others.
TOU calendars and firmware images (digest 4.13) load at once and take effect at the control's
start (the activation time); the device reports "programmed" / "ready for activation" when
loaded and "activated" when in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol

import numpy as np

from cimmeter.headend.channels import Channel
from cimmeter.headend.code_table import control_action, outcome_code
from cimmeter.headend.devices import ProgramKind, RelayState
from cimmeter.headend.errors import ControlOrderError, UnknownDeviceError
from cimmeter.headend.events import DeviceEvent, utc
from cimmeter.headend.fleet import ELECTRIC, KINDS, MeterKind
from cimmeter.headend.generation import epoch_seconds
from cimmeter.headend.simulation import Simulation
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock

DeviceErrorKind = Literal[
    "unknown-device",
    "unsupported-reading-type",
    "not-reachable",
    "unsupported-control",
    "not-enrolled",
    "invalid-parameter",
    "out-of-order",
]


@dataclass(frozen=True, slots=True)
class DeviceError:
    """Why one device (or one reading type of it) could not be served."""

    kind: DeviceErrorKind
    reason: str
    device: ObjectRef | None = None
    reading_type: str | None = None


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Readings of some devices, and the errors of the others."""

    blocks: tuple[ReadingBlock, ...] = ()
    errors: tuple[DeviceError, ...] = ()

    @staticmethod
    def merge(parts: Sequence[ReadResult]) -> ReadResult:
        return ReadResult(
            tuple(b for p in parts for b in p.blocks), tuple(e for p in parts for e in p.errors)
        )


@dataclass(frozen=True, slots=True)
class PingResult:
    """Power status of one device (digest 4.6): "not reachable" is distinct from "no power"."""

    device: ObjectRef
    at: datetime
    reachable: bool
    energized: bool | None = None
    """The line side has power; None when the device did not answer."""
    load_side_energized: bool | None = None
    """The relay is closed; None without a switch (gas, water) or without an answer."""
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One EndDeviceControl to execute on some devices (digest 3.5, 4.7-4.9)."""

    control_type: str
    """The EndDeviceControlType code, e.g. `3.31.0.23` (remote disconnect)."""
    devices: tuple[ObjectRef, ...]
    at: datetime
    """When the head-end executes it (the release time, digest 4.7)."""
    start: datetime | None = None
    """`primaryDeviceTiming/interval/start`: when the effect begins (load control)."""
    end: datetime | None = None
    duration: timedelta | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    """Other parameters by name; load control reads `shed` (a share, 0..1, default 0.3)."""


@dataclass(frozen=True, slots=True)
class ControlOutcome:
    """What one device did with a control."""

    device: ObjectRef
    control_type: str
    succeeded: bool
    outcome_type: str
    """The outcome EndDeviceEventType (digest 4.7 step 6), e.g. `3.31.0.68` disconnected."""
    reason: str | None = None
    error: DeviceError | None = None
    events: tuple[DeviceEvent, ...] = ()
    """The outcome event, then device events the control produced at once."""
    readings: tuple[ReadingBlock, ...] = ()
    """Readings taken with the control (the pre-reset billing snapshot of a demand reset)."""


class DeviceNetwork(Protocol):
    """What the head-end service needs from the meters behind it."""

    def read_readings(
        self,
        devices: Sequence[ObjectRef] | None,
        reading_types: Sequence[str] | None,
        start: datetime,
        end: datetime,
    ) -> Iterator[ReadResult]:
        """Collected interval and register readings with timestamps in (start, end], in parts
        (chunks of devices); `None` means every device / every reading type it has."""
        ...

    def read_on_demand(
        self, devices: Sequence[ObjectRef], reading_types: Sequence[str] | None, at: datetime
    ) -> ReadResult:
        """Read the meters live at `at`: registers as they stand (and interval types over the
        last 24 hours); unreachable meters give errors."""
        ...

    def ping(self, devices: Sequence[ObjectRef], at: datetime) -> tuple[PingResult, ...]:
        """Power status of each device at `at`."""
        ...

    def execute_control(self, control: ControlRequest) -> tuple[ControlOutcome, ...]:
        """Execute a control on each of its devices; one outcome per device."""
        ...

    def events_since(
        self, since: datetime, until: datetime, devices: Sequence[ObjectRef] | None = None
    ) -> tuple[DeviceEvent, ...]:
        """Events the head-end received in (since, until]."""
        ...

    def identify(self, devices: Sequence[ObjectRef]) -> tuple[ObjectRef | DeviceError, ...]:
        """For each reference, the device it names as the network's own reference (its mRID),
        or an `unknown-device` error: lets the head-end accept or refuse a request before it
        reaches the devices (digest 4.3 step 2)."""
        ...

    def add_meter(self, ref: ObjectRef, kind: MeterKind = "electric") -> ObjectRef:
        """Commission a meter the network does not have yet (an MDM installed it: `create
        MeterConfig`, DECISIONS.md); returns the network's reference to it."""
        ...


_ON_DEMAND_WINDOW: Final = timedelta(days=1)
_DEFAULT_SHED: Final = 0.3

_Handler = Callable[["SimulatedNetwork", int, ControlRequest, str], ControlOutcome]


class SimulatedNetwork:
    """`DeviceNetwork` over a simulated fleet."""

    def __init__(self, simulation: Simulation) -> None:
        self.sim = simulation
        self.fleet = simulation.fleet
        self.generator = simulation.generator

    # -- resolution ----------------------------------------------------------------------------

    def _resolve(
        self, devices: Sequence[ObjectRef]
    ) -> tuple[list[tuple[ObjectRef, int]], list[DeviceError]]:
        found: list[tuple[ObjectRef, int]] = []
        errors: list[DeviceError] = []
        for ref in devices:
            try:
                found.append((ref, self.fleet.index_of(ref)))
            except UnknownDeviceError as exc:
                errors.append(DeviceError("unknown-device", str(exc), ref))
        return found, errors

    def _channels(
        self, reading_types: Sequence[str] | None
    ) -> tuple[list[Channel] | None, list[DeviceError]]:
        if reading_types is None:
            return None, []
        channels: list[Channel] = []
        errors: list[DeviceError] = []
        for rt in reading_types:
            channel = self.generator.by_reading_type.get(rt)
            if channel is None:
                errors.append(
                    DeviceError(
                        "unsupported-reading-type",
                        f"no simulated meter measures reading type {rt}",
                        reading_type=rt,
                    )
                )
            else:
                channels.append(channel)
        return channels, errors

    def _has(self, meter: int, channel: Channel) -> bool:
        return channel.meter_kind == self.fleet.kind[meter] and (
            not channel.solar_only or self.fleet.solar_kw[meter] > 0
        )

    def _lacking(self, ref: ObjectRef, meter: int, channels: list[Channel]) -> list[DeviceError]:
        return [
            DeviceError(
                "unsupported-reading-type",
                f"{KINDS[int(self.fleet.kind[meter])]} meter {ref.describe()} does not "
                f"measure reading type {c.reading_type}",
                ref,
                c.reading_type,
            )
            for c in channels
            if not self._has(meter, c)
        ]

    def identify(self, devices: Sequence[ObjectRef]) -> tuple[ObjectRef | DeviceError, ...]:
        out: list[ObjectRef | DeviceError] = []
        for ref in devices:
            try:
                out.append(self.fleet.meter_ref(self.fleet.index_of(ref)))
            except UnknownDeviceError as exc:
                out.append(DeviceError("unknown-device", str(exc), ref))
        return tuple(out)

    def add_meter(self, ref: ObjectRef, kind: MeterKind = "electric") -> ObjectRef:
        (index,) = self.sim.add_meters(1, kind=kind, mrids=[ref.mrid] if ref.mrid else None)
        return self.fleet.meter_ref(index)

    # -- readings ------------------------------------------------------------------------------

    def read_readings(
        self,
        devices: Sequence[ObjectRef] | None,
        reading_types: Sequence[str] | None,
        start: datetime,
        end: datetime,
    ) -> Iterator[ReadResult]:
        channels, errors = self._channels(reading_types)
        if devices is None:
            meters = None
        else:
            found, unknown = self._resolve(devices)
            errors += unknown
            if channels is not None:
                for ref, meter in found:
                    errors += self._lacking(ref, meter, channels)
            meters = np.array([m for _, m in found], dtype=np.int64)
        if errors:
            yield ReadResult(errors=tuple(errors))
        if channels is not None and not channels:
            return
        names = None if channels is None else [c.name for c in channels]
        for blocks in self.generator.generate(start, end, meters=meters, channels=names):
            yield ReadResult(tuple(blocks))

    def read_on_demand(
        self, devices: Sequence[ObjectRef], reading_types: Sequence[str] | None, at: datetime
    ) -> ReadResult:
        t = epoch_seconds(at)
        found, errors = self._resolve(devices)
        channels, type_errors = self._channels(reading_types)
        errors += type_errors
        blocks: list[ReadingBlock] = []
        for ref, meter in found:
            if not self.sim.ping(meter, t).reachable:
                errors.append(
                    DeviceError(
                        "not-reachable",
                        f"meter {ref.describe()} did not answer at "
                        f"{at.isoformat()} (no power or no network)",
                        ref,
                    )
                )
                continue
            wanted = (
                [
                    c
                    for c in self.generator.channels
                    if c.block_kind == "register" and self._has(meter, c)
                ]
                if channels is None
                else channels
            )
            errors += self._lacking(ref, meter, wanted)
            blocks += self._read_now(meter, [c for c in wanted if self._has(meter, c)], t, at)
        return ReadResult(tuple(blocks), tuple(errors))

    def _read_now(
        self, meter: int, channels: list[Channel], t: int, at: datetime
    ) -> list[ReadingBlock]:
        rows = np.array([meter], dtype=np.int64)
        registers, max_interval = self.generator.registers_at(rows, t)
        iv = self.fleet.options.interval_seconds
        values = {
            "forward_register": registers.forward[0] / 1000.0,
            "reverse_register": registers.reverse[0] / 1000.0,
            "max_demand": float(max_interval[0]) * 3.6 / iv,
            "gas_register": registers.forward[0] / 1000.0,
            "water_register": registers.forward[0] / 1000.0,
        }
        out: list[ReadingBlock] = []
        meter_ref, up_ref = self.fleet.meter_ref(meter), self.fleet.usage_point_ref(meter)
        interval_names = [c.name for c in channels if c.block_kind == "interval"]
        if interval_names:
            for chunk in self.generator.generate(
                at - _ON_DEMAND_WINDOW, at, meters=rows, channels=interval_names
            ):
                out += chunk
        for c in channels:
            if c.block_kind == "register":
                out.append(
                    ReadingBlock.build(
                        c.reading_type,
                        [t],
                        [values[c.name]],
                        meter=meter_ref,
                        usage_point=up_ref,
                        kind="register",
                    )
                )
        return out

    # -- ping ----------------------------------------------------------------------------------

    def ping(self, devices: Sequence[ObjectRef], at: datetime) -> tuple[PingResult, ...]:
        t = epoch_seconds(at)
        out: list[PingResult] = []
        for ref in devices:
            try:
                meter = self.fleet.index_of(ref)
            except UnknownDeviceError as exc:
                out.append(PingResult(ref, at, False, reason=str(exc)))
                continue
            status = self.sim.ping(meter, t)
            if not status.reachable:
                out.append(PingResult(ref, at, False, reason="no answer (not reachable)"))
                continue
            load_side = None if status.relay is None else status.relay is RelayState.CLOSED
            out.append(PingResult(ref, at, True, status.energized, load_side))
        return tuple(out)

    # -- events --------------------------------------------------------------------------------

    def events_since(
        self, since: datetime, until: datetime, devices: Sequence[ObjectRef] | None = None
    ) -> tuple[DeviceEvent, ...]:
        """Events received in (since, until]; unknown devices are ignored (they have none)."""
        meters = None
        if devices is not None:
            meters = [m for _, m in self._resolve(devices)[0]]
        return tuple(self.sim.events(since, until, meters))

    # -- controls ------------------------------------------------------------------------------

    def execute_control(self, control: ControlRequest) -> tuple[ControlOutcome, ...]:
        action = control_action(control.control_type)
        out: list[ControlOutcome] = []
        for ref in control.devices:
            try:
                meter = self.fleet.index_of(ref)
            except UnknownDeviceError as exc:
                out.append(self._failed(ref, control, action or "", "unknown-device", str(exc)))
                continue
            if action is None:
                out.append(
                    self._failed(
                        ref,
                        control,
                        "",
                        "unsupported-control",
                        f"control type {control.control_type} is not supported",
                    )
                )
                continue
            try:
                out.append(_HANDLERS[action](self, meter, control, action))
            except ControlOrderError as exc:
                out.append(self._failed(ref, control, action, "out-of-order", str(exc), meter))
        return tuple(out)

    def _outcome_event(
        self,
        meter: int,
        code: str,
        at: int,
        reason: str | None = None,
        details: tuple[tuple[str, str], ...] = (),
    ) -> DeviceEvent:
        return DeviceEvent(
            code,
            utc(at),
            utc(at),
            self.fleet.meter_ref(meter),
            self.fleet.usage_point_ref(meter),
            meter,
            reason,
            details,
        )

    def _failed(
        self,
        ref: ObjectRef,
        control: ControlRequest,
        action: str,
        kind: DeviceErrorKind,
        reason: str,
        meter: int | None = None,
    ) -> ControlOutcome:
        code = outcome_code(control.control_type, action, False)
        events: tuple[DeviceEvent, ...] = ()
        if meter is not None:
            events = (self._outcome_event(meter, code, epoch_seconds(control.at), reason),)
        return ControlOutcome(
            ref, control.control_type, False, code, reason, DeviceError(kind, reason, ref), events
        )

    def _succeeded(
        self,
        meter: int,
        control: ControlRequest,
        action: str,
        details: tuple[tuple[str, str], ...] = (),
        extra: tuple[DeviceEvent, ...] = (),
        readings: tuple[ReadingBlock, ...] = (),
    ) -> ControlOutcome:
        code = outcome_code(control.control_type, action, True)
        event = self._outcome_event(meter, code, epoch_seconds(control.at), details=details)
        return ControlOutcome(
            self.fleet.meter_ref(meter),
            control.control_type,
            True,
            code,
            events=(event, *extra),
            readings=readings,
        )

    def _precheck(
        self, meter: int, control: ControlRequest, action: str, *, electric: bool = True
    ) -> ControlOutcome | None:
        """The refusals common to every control: wrong kind of meter, meter not reachable."""
        ref = self.fleet.meter_ref(meter)
        kind = KINDS[int(self.fleet.kind[meter])]
        if electric and self.fleet.kind[meter] != ELECTRIC:
            return self._failed(
                ref,
                control,
                action,
                "unsupported-control",
                f"a {kind} meter has no {action.replace('_', ' ')}",
                meter,
            )
        if not self.sim.ping(meter, epoch_seconds(control.at)).reachable:
            return self._failed(
                ref,
                control,
                action,
                "not-reachable",
                "device not reachable (no power or no network)",
                meter,
            )
        return None

    def _switch(self, meter: int, control: ControlRequest, action: str) -> ControlOutcome:
        refused = self._precheck(meter, control, action)
        if refused is not None:
            return refused
        at = epoch_seconds(control.at)
        if action == "disconnect":
            self.sim.open_relay(meter, at)
            status = "Opened"
        elif action == "connect":
            self.sim.close_relay(meter, at)
            status = "Closed"
        else:
            self.sim.arm_for_closure(meter, at)
            status = "Armed"
        return self._succeeded(meter, control, action, (("Contactor status", status),))

    def _demand_reset(self, meter: int, control: ControlRequest, action: str) -> ControlOutcome:
        refused = self._precheck(meter, control, action)
        if refused is not None:
            return refused
        at = epoch_seconds(control.at)
        before = self.sim.reset_demand(meter, at)
        snapshot = ReadingBlock.build(
            self.generator.by_name["max_demand"].reading_type,
            [at],
            [before],
            meter=self.fleet.meter_ref(meter),
            usage_point=self.fleet.usage_point_ref(meter),
            kind="register",
        )
        occurred = self.sim.recorder.event(meter, "demand_reset_occurred", at)
        return self._succeeded(meter, control, action, extra=(occurred,), readings=(snapshot,))

    def _load_control(self, meter: int, control: ControlRequest, action: str) -> ControlOutcome:
        refused = self._precheck(meter, control, action)
        if refused is not None:
            return refused
        ref = self.fleet.meter_ref(meter)
        at = epoch_seconds(control.at)
        if not self.fleet.enrolled[meter]:
            return self._failed(
                ref,
                control,
                action,
                "not-enrolled",
                "the meter is not enrolled in load control",
                meter,
            )
        if action == "load_control_stop":
            self.sim.stop_load_control(meter, at)
            return self._succeeded(meter, control, action)
        start = epoch_seconds(control.start) if control.start is not None else at
        if control.end is not None:
            end = epoch_seconds(control.end)
        elif control.duration is not None:
            end = start + int(control.duration.total_seconds())
        else:
            return self._failed(
                ref,
                control,
                action,
                "invalid-parameter",
                "load control needs an end or a duration",
                meter,
            )
        try:
            shed = float(control.params.get("shed", _DEFAULT_SHED))
        except ValueError:
            shed = -1.0
        if not 0.0 <= shed <= 1.0 or end <= start:
            return self._failed(
                ref,
                control,
                action,
                "invalid-parameter",
                f"shed must be a share 0..1 and the window must not be empty "
                f"(shed={control.params.get('shed')!r}, {start}..{end})",
                meter,
            )
        self.sim.start_load_control(meter, start, end, shed, at)
        return self._succeeded(meter, control, action, (("shed", f"{shed:g}"),))

    def _program(self, meter: int, control: ControlRequest, action: str) -> ControlOutcome:
        """A TOU calendar or a firmware image (digest 4.13): loaded at once, in force from
        `control.start` (the activation time; at once without one)."""
        refused = self._precheck(meter, control, action, electric=False)
        if refused is not None:
            return refused
        at = epoch_seconds(control.at)
        activate = max(at, epoch_seconds(control.start)) if control.start is not None else at
        kind: ProgramKind = "tou" if action == "tou_change" else "firmware"
        version = control.params.get("version")
        self.sim.load_program(meter, kind, at, activate, version)
        loaded = self.sim.recorder.event(
            meter,
            "tou_programmed" if kind == "tou" else "firmware_ready",
            at,
            details=(("version", version),) if version else (),
        )
        return self._succeeded(
            meter, control, action, (("activationDateTime", utc(activate).isoformat()),), (loaded,)
        )


_HANDLERS: Final[dict[str, _Handler]] = {
    "disconnect": SimulatedNetwork._switch,
    "connect": SimulatedNetwork._switch,
    "arm_for_closure": SimulatedNetwork._switch,
    "demand_reset": SimulatedNetwork._demand_reset,
    "load_control_start": SimulatedNetwork._load_control,
    "load_control_stop": SimulatedNetwork._load_control,
    "tou_change": SimulatedNetwork._program,
    "firmware_upgrade": SimulatedNetwork._program,
}


def _conforms(network: SimulatedNetwork) -> DeviceNetwork:
    """Lets mypy check that SimulatedNetwork implements DeviceNetwork."""
    return network
