"""Events of the simulated fleet: random outages and device alarms, drawn from the seed, and
the event records the head-end reports.

Random happenings are a pure function of (seed, rates, day): for every UTC day and every
transformer or feeder, a hash decides whether an outage starts, when, and for how long; for
every meter and day, whether it raises a tamper, reverse-energy, clock-error or low-battery
alarm. Nothing is stored, so the schedule costs no memory and any day can be asked again.

How a real AMI network reports an outage (digest 4.6): each meter under the dead transformer
sends a last gasp, `power off` (3.26.0.85), as the power goes; some are lost in the congested
mesh, and the head-end learns of those only when it reads the meter's event log after the
power returns. On restoration every meter reports `power restored` (3.26.0.216).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cimmeter.headend import noise
from cimmeter.headend.code_table import event_code
from cimmeter.headend.devices import DeviceState, Outage, Span, merge_spans
from cimmeter.headend.errors import FleetOptionsError
from cimmeter.headend.fleet import ELECTRIC, GAS, WATER, Fleet
from cimmeter.model.identity import ObjectRef

DAY: Final = 86400
MAX_OUTAGE_SECONDS: Final = 8 * 3600
"""Random outages last at most this long, so a window needs to look back only this far."""

AlarmKind = Literal["tamper", "reverse_energy", "clock_error", "low_battery"]


@dataclass(frozen=True, slots=True)
class EventRates:
    """How often random things happen (expected occurrences per entity per day)."""

    transformer_outages: float = 0.0015
    """Per transformer per day (about one interruption per customer every two years)."""
    feeder_outages: float = 0.002
    """Per feeder per day."""
    outage_median_minutes: float = 75.0
    last_gasp_lost: float = 0.2
    """Share of last gasps lost in the network (learnt later from the meter's log)."""
    tamper: float = 2e-4
    """Per electric meter per day."""
    reverse_energy: float = 1e-4
    """Per electric meter without solar per day (a meter installed inverted, a bypass)."""
    clock_error: float = 3e-4
    """Per meter per day; the head-end sets the clock again within two hours."""
    low_battery: float = 5e-4
    """Per gas or water meter per day."""

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value < 0 or (name != "outage_median_minutes" and value > 1):
                raise FleetOptionsError(f"event rate {name} must be within 0..1, got {value}")

    @classmethod
    def none(cls) -> EventRates:
        """Nothing happens by chance (controls and injected outages still do)."""
        return cls(0.0, 0.0, 75.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Alarm:
    """A random device alarm: `kind` raised by `meter` at `at`."""

    kind: AlarmKind
    meter: int
    at: int


_ALARM_METERS: Final[dict[AlarmKind, tuple[int, ...]]] = {
    "tamper": (ELECTRIC,),
    "reverse_energy": (ELECTRIC,),
    "clock_error": (ELECTRIC, GAS, WATER),
    "low_battery": (GAS, WATER),
}
_CLOCK_SET_DELAY: Final = (300, 7200)
_OUTAGE_DAYS_CACHED: Final = 1024


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One EndDeviceEvent as the head-end reports it (digest 3.4.1)."""

    event_type: str
    """The EndDeviceEventType code (digest 5.2)."""
    created_date_time: datetime
    """When it happened in the device."""
    received_date_time: datetime
    """When the head-end learnt of it (later than created for a lost last gasp)."""
    meter: ObjectRef
    usage_point: ObjectRef | None
    meter_index: int
    reason: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    """EndDeviceEventDetails as (name, value) pairs."""


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class EventSchedule:
    """The random outages and alarms of a fleet, computed on demand from the seed."""

    def __init__(self, fleet: Fleet, rates: EventRates) -> None:
        self.fleet = fleet
        self._outage_days: dict[int, list[Outage]] = {}
        self.rates = rates
        seed = fleet.seed
        self._keys = {
            name: noise.stream_key(seed, "events." + name)
            for name in (
                "tx.hit",
                "tx.start",
                "tx.duration",
                "feeder.hit",
                "feeder.start",
                "feeder.duration",
                "gasp",
                "tamper",
                "reverse_energy",
                "clock_error",
                "low_battery",
                "tamper.time",
                "reverse_energy.time",
                "clock_error.time",
                "low_battery.time",
                "clock.delay",
            )
        }

    # -- outages -------------------------------------------------------------------------------

    @property
    def rates(self) -> EventRates:
        return self._rates

    @rates.setter
    def rates(self, rates: EventRates) -> None:
        self._rates = rates
        self._outage_days.clear()

    def forget(self) -> None:
        """Drop cached outages (the fleet's transformers or feeders changed)."""
        self._outage_days.clear()

    def random_outages(self, start: int, end: int) -> list[Outage]:
        """Random outages overlapping [start, end), none before the fleet's start."""
        out: list[Outage] = []
        for day in range((start - MAX_OUTAGE_SECONDS) // DAY, end // DAY + 1):
            out += [o for o in self._outages_starting(day) if o.start < end and o.end > start]
        return out

    def _outages_starting(self, day: int) -> list[Outage]:
        """Random outages starting on a UTC day (cached: pings ask for the same days often)."""
        found = self._outage_days.get(day)
        if found is not None:
            return found
        out: list[Outage] = []
        scopes: tuple[tuple[Literal["transformer", "feeder"], int, float], ...] = (
            ("transformer", self.fleet.n_transformers, self.rates.transformer_outages),
            ("feeder", self.fleet.n_feeders, self.rates.feeder_outages),
        )
        prefix = {"transformer": "tx", "feeder": "feeder"}
        for scope, count, rate in scopes:
            if rate <= 0 or count == 0:
                continue
            p = prefix[scope]
            groups = np.arange(count, dtype=np.int64)
            g = groups[noise.uniform(self._keys[p + ".hit"], groups, day) < rate]
            if not len(g):
                continue
            t0 = day * DAY + np.floor(noise.uniform(self._keys[p + ".start"], g, day) * DAY)
            z = noise.normal(self._keys[p + ".duration"], g, day)
            seconds = np.clip(
                self.rates.outage_median_minutes * 60.0 * np.exp(z), 120.0, MAX_OUTAGE_SECONDS
            )
            for group, s, length in zip(
                g.tolist(),
                t0.astype(np.int64).tolist(),
                seconds.astype(np.int64).tolist(),
                strict=True,
            ):
                if s >= self.fleet.options.start_epoch:
                    out.append(Outage(scope, group, s, s + length, "random"))
        if len(self._outage_days) >= _OUTAGE_DAYS_CACHED:
            self._outage_days.clear()
        self._outage_days[day] = out
        return out

    def outages(self, state: DeviceState, start: int, end: int) -> list[Outage]:
        """Random and injected outages overlapping [start, end)."""
        injected = [o for o in state.outages if o.start < end and o.end > start]
        return sorted(self.random_outages(start, end) + injected, key=lambda o: (o.start, o.group))

    def outage_meters(
        self, outage: Outage, rows: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.int64]:
        """The meters (among `rows`, or all) that an outage leaves without power."""
        column = self.fleet.transformer if outage.scope == "transformer" else self.fleet.feeder
        if rows is None:
            return np.flatnonzero(column == outage.group).astype(np.int64)
        out: npt.NDArray[np.int64] = rows[column[rows] == outage.group]
        return out

    def power_off_spans(
        self, state: DeviceState, rows: npt.NDArray[np.int64], start: int, end: int
    ) -> dict[int, list[Span]]:
        """Per meter among `rows`: the merged spans without power overlapping [start, end)."""
        spans: dict[int, list[Span]] = {}
        for outage in self.outages(state, start, end):
            for meter in self.outage_meters(outage, rows).tolist():
                spans.setdefault(meter, []).append((outage.start, outage.end))
        return {m: merge_spans(s) for m, s in spans.items()}

    def powered(self, state: DeviceState, meter: int, at: int) -> bool:
        """Whether the meter has line-side power at `at` (gas and water: always, battery)."""
        if self.fleet.kind[meter] != ELECTRIC:
            return True
        spans = self.power_off_spans(state, np.array([meter], dtype=np.int64), at, at + 1)
        return not any(s <= at < e for s, e in spans.get(meter, []))

    # -- alarms --------------------------------------------------------------------------------

    def alarms(self, rows: npt.NDArray[np.int64], start: int, end: int) -> list[Alarm]:
        """Random alarms of `rows` raised during [start, end)."""
        days = np.arange(start // DAY, (end - 1) // DAY + 1, dtype=np.int64)
        out: list[Alarm] = []
        if not len(rows) or not len(days):
            return out
        kinds = self.fleet.kind[rows]
        for kind, meter_kinds in _ALARM_METERS.items():
            rate = getattr(self.rates, kind)
            if rate <= 0:
                continue
            eligible = np.isin(kinds, meter_kinds)
            if kind == "reverse_energy":
                eligible &= self.fleet.solar_kw[rows] == 0
            candidates = rows[eligible]
            if not len(candidates):
                continue
            hit = noise.uniform(self._keys[kind], candidates[:, None], days[None, :]) < rate
            m_idx, d_idx = np.nonzero(hit)
            if not len(m_idx):
                continue
            meters, d = candidates[m_idx], days[d_idx]
            at = d * DAY + np.floor(
                noise.uniform(self._keys[kind + ".time"], meters, d) * DAY
            ).astype(np.int64)
            for meter, t in zip(meters.tolist(), at.tolist(), strict=True):
                if start <= t < end and t >= self.fleet.options.start_epoch:
                    out.append(Alarm(kind, meter, t))
        return out

    def clock_set_delay(self, alarm: Alarm) -> int:
        low, high = _CLOCK_SET_DELAY
        u = noise.uniform_scalar(self._keys["clock.delay"], alarm.meter, alarm.at)
        return low + int(u * (high - low))

    def last_gasp_lost(self, meter: int, at: int) -> bool:
        return noise.uniform_scalar(self._keys["gasp"], meter, at) < self.rates.last_gasp_lost


class EventRecorder:
    """Builds the DeviceEvent records of a fleet for a window of received times."""

    def __init__(self, fleet: Fleet, schedule: EventSchedule, state: DeviceState) -> None:
        self.fleet = fleet
        self.schedule = schedule
        self.state = state

    def event(
        self,
        meter: int,
        name: str,
        created: int,
        received: int | None = None,
        reason: str | None = None,
        details: tuple[tuple[str, str], ...] = (),
    ) -> DeviceEvent:
        """One event of `meter`: `name` is a key of code_table.EVENTS."""
        kind = self.fleet.kind_of(meter)
        return DeviceEvent(
            event_type=event_code(kind, name),
            created_date_time=utc(created),
            received_date_time=utc(created if received is None else received),
            meter=self.fleet.meter_ref(meter),
            usage_point=self.fleet.usage_point_ref(meter),
            meter_index=meter,
            reason=reason,
            details=details,
        )

    def events(
        self, since: int, until: int, rows: npt.NDArray[np.int64] | None = None
    ) -> list[DeviceEvent]:
        """Events the head-end received in (since, until], sorted by received time."""
        if rows is None:
            rows = np.arange(self.fleet.n, dtype=np.int64)
        wanted = np.zeros(self.fleet.n, dtype=np.bool_)
        wanted[rows] = True
        out: list[DeviceEvent] = []
        out += self._outage_events(rows, since, until)
        out += self._alarm_events(rows, since, until)
        out += self._control_events(wanted, since, until)
        out.sort(
            key=lambda e: (e.received_date_time, e.created_date_time, e.meter_index, e.event_type)
        )
        return out

    def _outage_events(
        self, rows: npt.NDArray[np.int64], since: int, until: int
    ) -> list[DeviceEvent]:
        out: list[DeviceEvent] = []
        # a power-off learnt from the log arrives at restoration: look back one outage length
        # (and an injected outage may merge with a random one that began before it)
        injected = min((o.start for o in self.state.outages if o.end > since), default=since)
        look_back = min(since, injected) - MAX_OUTAGE_SECONDS
        spans = self.schedule.power_off_spans(self.state, rows, look_back, until + 1)
        for meter, merged in spans.items():
            for start, end in merged:
                lost = self.schedule.last_gasp_lost(meter, start)
                received = end if lost else start
                if since < received <= until:
                    details = (("source", "event log" if lost else "last gasp"),)
                    out.append(self.event(meter, "power_off", start, received, details=details))
                if since < end <= until:
                    out.append(self.event(meter, "power_restored", end))
        return out

    def _alarm_events(
        self, rows: npt.NDArray[np.int64], since: int, until: int
    ) -> list[DeviceEvent]:
        out: list[DeviceEvent] = []
        back = _CLOCK_SET_DELAY[1]
        for alarm in self.schedule.alarms(rows, since + 1 - back, until + 1):
            if since < alarm.at <= until:
                out.append(self.event(alarm.meter, alarm.kind, alarm.at))
            if alarm.kind == "clock_error":
                fixed = alarm.at + self.schedule.clock_set_delay(alarm)
                if since < fixed <= until:
                    out.append(
                        self.event(
                            alarm.meter, "clock_set", fixed, reason="clock set by the head-end"
                        )
                    )
        return out

    def _control_events(
        self, wanted: npt.NDArray[np.bool_], since: int, until: int
    ) -> list[DeviceEvent]:
        out: list[DeviceEvent] = []
        names = {"closed": "connected", "open": "disconnected", "armed": "armed_for_closure"}
        for meter, changes in self.state.relay.items():
            if not wanted[meter]:
                continue
            for c in changes:
                if since < c.at <= until:
                    status = {"closed": "Closed", "open": "Opened", "armed": "Armed"}[c.state.value]
                    reason = "customer pressed the button" if c.cause == "customer" else None
                    out.append(
                        self.event(
                            meter,
                            names[c.state.value],
                            c.at,
                            reason=reason,
                            details=(("Contactor status", status),),
                        )
                    )
        for meter, resets in self.state.demand_resets.items():
            if wanted[meter]:
                out += [
                    self.event(meter, "demand_reset_occurred", t)
                    for t in resets
                    if since < t <= until
                ]
        for meter, windows in self.state.load_control.items():
            if not wanted[meter]:
                continue
            for w in windows:
                if since < w.start <= until:
                    out.append(
                        self.event(
                            meter,
                            "load_control_started",
                            w.start,
                            details=(("shed", f"{w.shed:g}"),),
                        )
                    )
                if since < w.end <= until:
                    out.append(self.event(meter, "load_control_stopped", w.end))
        return out
