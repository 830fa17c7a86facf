"""The simulated fleet: meters, usage points, service locations, transformers and feeders.

Everything is derived from the seed, attribute by attribute, with the counter-based hash of
`noise` keyed by the meter's index, so meter 17 is the same meter in a fleet of 100 or of
100,000 and the same seed always gives the same fleet (DECISIONS.md, "Simulated meters").
Attributes are numpy columns, so a fleet of 50,000 meters is a few megabytes; identifiers are
computed when asked for: mRID = UUIDv5 of (seed, kind, index).

Electric meters hang under distribution transformers (3-10 meters each) and transformers under
feeders (10-40 each), in index order; gas and water meters are battery powered and belong to no
transformer (-1).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cimmeter.headend import noise
from cimmeter.headend.code_table import DEVICE_TYPE_BY_KIND, MEASURING_PERIOD_BY_SECONDS
from cimmeter.headend.errors import FleetOptionsError, UnknownDeviceError
from cimmeter.model.identity import ObjectRef

IntArray = npt.NDArray[np.int64]
MeterKind = Literal["electric", "gas", "water"]
CustomerClass = Literal["residential", "commercial"]
ObjectKind = Literal["meter", "usage-point", "service-location", "transformer", "feeder"]

KINDS: Final[tuple[MeterKind, ...]] = ("electric", "gas", "water")
CLASSES: Final[tuple[CustomerClass, ...]] = ("residential", "commercial")
ELECTRIC: Final = 0
GAS: Final = 1
WATER: Final = 2
RESIDENTIAL: Final = 0
COMMERCIAL: Final = 1

FLEET_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://cimmeter.org/simulated-fleet")
"""The UUIDv5 namespace of simulated identifiers: mRID = uuid5(FLEET_NAMESPACE, 'seed/kind/i')."""

# digest 2.2.3: objects may be named with a NameType; these group names are ours (M)
NAME_TYPES: Final[dict[ObjectKind, str]] = {
    "meter": "MeterName",
    "usage-point": "UsagePointName",
    "service-location": "ServiceLocationName",
    "transformer": "Transformer",
    "feeder": "Feeder",
}
_NAME_PREFIX: Final[dict[ObjectKind, str]] = {
    "meter": "SIM-M",
    "usage-point": "SIM-UP",
    "service-location": "SIM-SL",
    "transformer": "SIM-TX",
    "feeder": "SIM-FDR",
}


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise FleetOptionsError(f"{name} must be within 0..1, got {value}")


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """What a fleet is made of. Shares are probabilities per meter, drawn from the seed."""

    n_meters: int
    seed: int = 0
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    """When the seeded initial registers apply; no data exists before it."""
    interval: timedelta = timedelta(minutes=15)
    """Interval length of electric load profiles (must be a MeasuringPeriodKind, digest 5.1.3)."""
    volume_interval: timedelta = timedelta(hours=1)
    """Interval length of gas and water profiles."""
    gas_share: float = 0.0
    water_share: float = 0.0
    commercial_share: float = 0.08
    """Share of electric meters at commercial customers."""
    solar_share: float = 0.15
    """Share of residential electric meters with rooftop solar."""
    load_control_share: float = 0.25
    """Share of electric meters enrolled in load control."""
    utc_offset: timedelta = timedelta(0)
    """The region's standard time (no DST) that load shapes and daily reads follow."""
    meters_per_transformer: tuple[int, int] = (3, 10)
    transformers_per_feeder: tuple[int, int] = (10, 40)

    def __post_init__(self) -> None:
        if self.n_meters < 0:
            raise FleetOptionsError(f"n_meters must be >= 0, got {self.n_meters}")
        if self.start.tzinfo is None:
            raise FleetOptionsError("start must be timezone-aware")
        for name in ("gas_share", "water_share", "commercial_share", "solar_share"):
            _check_share(name, getattr(self, name))
        _check_share("load_control_share", self.load_control_share)
        if self.gas_share + self.water_share > 1.0:
            raise FleetOptionsError("gas_share + water_share must not exceed 1")
        for name in ("interval", "volume_interval"):
            seconds = getattr(self, name).total_seconds()
            if seconds != int(seconds) or int(seconds) not in MEASURING_PERIOD_BY_SECONDS:
                known = ", ".join(f"{s}s" for s in sorted(MEASURING_PERIOD_BY_SECONDS))
                raise FleetOptionsError(f"{name} must be one of {known}, got {seconds}s")
            if int(self.start.timestamp()) % int(seconds):
                raise FleetOptionsError(f"start must lie on the {name} grid, got {self.start}")
        if self.utc_offset.total_seconds() % 60:
            raise FleetOptionsError("utc_offset must be whole minutes")
        for name in ("meters_per_transformer", "transformers_per_feeder"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise FleetOptionsError(f"{name} must be (low, high) with 1 <= low <= high")

    @property
    def start_epoch(self) -> int:
        return int(self.start.timestamp())

    @property
    def interval_seconds(self) -> int:
        return int(self.interval.total_seconds())

    @property
    def volume_interval_seconds(self) -> int:
        return int(self.volume_interval.total_seconds())

    @property
    def utc_offset_seconds(self) -> int:
        return int(self.utc_offset.total_seconds())


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A transformer or a feeder: travels as a group with a NameType (DECISIONS.md, M)."""

    kind: ObjectKind
    index: int
    mrid: str
    name: str
    name_type: str


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """The master data of one simulated meter (for MeterConfig / UsagePointConfig / linkage)."""

    index: int
    mrid: str
    name: str
    serial_number: str
    kind: MeterKind
    end_device_type: int
    usage_point_mrid: str
    usage_point_name: str
    service_location_mrid: str
    customer_class: CustomerClass
    solar_kw: float
    load_control_enrolled: bool
    transformer: GroupInfo | None
    feeder: GroupInfo | None


def _lognormal(key: int, index: IntArray, median: float, sigma: float) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = median * np.exp(sigma * noise.normal(key, index))
    return out


def _group_sizes(seed: int, stream: str, count: int, low: int, high: int) -> IntArray:
    """Group index of each of `count` members grouped in index order, group sizes low..high."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    n_groups = count // low + 2
    u = noise.uniform(noise.stream_key(seed, stream), np.arange(n_groups))
    sizes = low + np.floor(u * (high - low + 1)).astype(np.int64)
    ends = np.cumsum(sizes)
    out: IntArray = np.searchsorted(ends, np.arange(count), side="right").astype(np.int64)
    return out


@dataclass(eq=False)
class Fleet:
    """A simulated fleet, as columns indexed by meter index."""

    options: FleetOptions
    kind: npt.NDArray[np.uint8] = field(init=False, repr=False)
    customer_class: npt.NDArray[np.uint8] = field(init=False, repr=False)
    solar_kw: npt.NDArray[np.float64] = field(init=False, repr=False)
    enrolled: npt.NDArray[np.bool_] = field(init=False, repr=False)
    transformer: IntArray = field(init=False, repr=False)
    feeder: IntArray = field(init=False, repr=False)
    transformer_feeder: IntArray = field(init=False, repr=False)
    daily_use: npt.NDArray[np.float64] = field(init=False, repr=False)
    """kWh per (week)day for electric meters, m3 per day of base use for gas and water."""
    heating: npt.NDArray[np.float64] = field(init=False, repr=False)
    """Electric: load multiplier per degree below 16 C; gas: m3 per degree-day below 15.5 C."""
    cooling: npt.NDArray[np.float64] = field(init=False, repr=False)
    noise_sigma: npt.NDArray[np.float64] = field(init=False, repr=False)
    initial_forward: IntArray = field(init=False, repr=False)
    """Seeded initial register at `options.start`, in Wh (electric) or litres (gas, water)."""
    initial_reverse: IntArray = field(init=False, repr=False)
    kind_overrides: dict[int, MeterKind] = field(default_factory=dict, repr=False)
    """Meters added with a given kind (Fleet.extend); the others draw theirs from the seed."""
    mrid_overrides: dict[int, str] = field(default_factory=dict, repr=False)
    """Meters added with an mRID of their own (an MDM installed them)."""
    _lookup: dict[str, int] | None = field(init=False, repr=False, default=None)
    _mrid_prefixes: dict[str, hashlib._Hash] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._build()

    def extend(
        self, count: int, *, kind: MeterKind | None = None, mrids: list[str] | None = None
    ) -> range:
        """Add `count` meters after the last (an MDM installs meters the head-end does not
        know: DECISIONS.md, "Simulated meters"). Meters already there do not change: every
        attribute is drawn by index, and the new electric meters fill the last transformer
        before starting new ones. Returns the new indexes."""
        if mrids is not None and len(mrids) != count:
            raise FleetOptionsError(f"{len(mrids)} mRIDs for {count} new meters")
        first = self.n
        added = range(first, first + count)
        for pos, index in enumerate(added):
            if kind is not None:
                self.kind_overrides[index] = kind
            if mrids is not None:
                mrid = mrids[pos].lower()
                if mrid in self._all_mrids():
                    raise FleetOptionsError(f"mRID {mrid} already names a meter of the fleet")
                self.mrid_overrides[index] = mrid
        self.options = replace(self.options, n_meters=first + count)
        self._build()
        return added

    def _build(self) -> None:
        self._lookup = None
        o = self.options
        n, seed = o.n_meters, o.seed
        idx = np.arange(n, dtype=np.int64)

        def u(stream: str) -> npt.NDArray[np.float64]:
            return noise.uniform(noise.stream_key(seed, "fleet." + stream), idx)

        draw = u("kind")
        self.kind = np.full(n, ELECTRIC, dtype=np.uint8)
        self.kind[draw < o.gas_share + o.water_share] = WATER
        self.kind[draw < o.gas_share] = GAS
        for index, kind in self.kind_overrides.items():
            self.kind[index] = KINDS.index(kind)
        electric = self.kind == ELECTRIC
        commercial = electric & (u("class") < o.commercial_share)
        self.customer_class = commercial.astype(np.uint8)
        residential = electric & ~commercial
        has_solar = residential & (u("solar") < o.solar_share)
        self.solar_kw = np.where(has_solar, np.round(3.0 + 7.0 * u("solar.kw"), 1), 0.0)
        self.enrolled = electric & (u("load-control") < o.load_control_share)

        # topology: electric meters in index order under transformers, those under feeders
        low, high = o.meters_per_transformer
        rank = np.cumsum(electric) - 1
        tx_of_rank = _group_sizes(seed, "fleet.transformers", int(electric.sum()), low, high)
        self.transformer = np.where(electric, tx_of_rank[np.clip(rank, 0, None)], -1)
        n_tx = int(tx_of_rank[-1]) + 1 if len(tx_of_rank) else 0
        f_low, f_high = o.transformers_per_feeder
        self.transformer_feeder = _group_sizes(seed, "fleet.feeders", n_tx, f_low, f_high)
        self.feeder = np.full(n, -1, dtype=np.int64)
        if n_tx:
            self.feeder[electric] = self.transformer_feeder[self.transformer[electric]]

        # consumption parameters, by kind and class
        key = noise.stream_key(seed, "fleet.use")
        res_kwh = np.clip(_lognormal(key, idx, 20.0, 0.35), 4.0, 80.0)
        com_kwh = np.clip(_lognormal(key, idx, 250.0, 0.8), 30.0, 4000.0)
        gas_m3 = np.clip(_lognormal(key, idx, 0.6, 0.3), 0.1, 3.0)
        water_m3 = np.clip(_lognormal(key, idx, 0.35, 0.4), 0.05, 2.0)
        self.daily_use = np.select(
            [commercial, residential, self.kind == GAS], [com_kwh, res_kwh, gas_m3], water_m3
        )
        sens = u("heating")
        self.heating = np.select(
            [commercial, residential, self.kind == GAS],
            # about a third of homes heat with electricity (a steeper response)
            [np.full(n, 0.01), np.where(sens < 0.33, 0.05, 0.012), 0.15 + 0.25 * sens],
            0.0,
        )
        self.cooling = np.select(
            [commercial, residential], [np.full(n, 0.04), 0.02 + 0.06 * u("cooling")], 0.0
        )
        self.noise_sigma = np.select(
            [commercial, residential, self.kind == GAS], [0.08, 0.30, 0.25], 0.60
        )
        years = 0.5 + 14.5 * u("register.age")
        self.initial_forward = np.floor(self.daily_use * 365.0 * years * 1000.0).astype(np.int64)
        self.initial_reverse = np.where(
            has_solar, np.floor(u("register.reverse") * 4000.0 * years * 1000.0), 0
        ).astype(np.int64)

    # -- sizes and selections ------------------------------------------------------------------

    @property
    def n(self) -> int:
        return self.options.n_meters

    @property
    def seed(self) -> int:
        return self.options.seed

    @property
    def n_transformers(self) -> int:
        return len(self.transformer_feeder)

    @property
    def n_feeders(self) -> int:
        return int(self.transformer_feeder.max()) + 1 if self.n_transformers else 0

    def meters_of_kind(self, kind: MeterKind) -> IntArray:
        out: IntArray = np.flatnonzero(self.kind == KINDS.index(kind)).astype(np.int64)
        return out

    def meters_under_transformer(self, transformer: int) -> IntArray:
        out: IntArray = np.flatnonzero(self.transformer == transformer).astype(np.int64)
        return out

    def meters_under_feeder(self, feeder: int) -> IntArray:
        out: IntArray = np.flatnonzero(self.feeder == feeder).astype(np.int64)
        return out

    def has_solar(self, index: int) -> bool:
        return bool(self.solar_kw[index] > 0)

    def kind_of(self, index: int) -> MeterKind:
        return KINDS[int(self.kind[index])]

    # -- identity ------------------------------------------------------------------------------

    def mrid(self, kind: ObjectKind, index: int) -> str:
        if kind == "meter" and index in self.mrid_overrides:
            return self.mrid_overrides[index]
        return self._derived_mrid(kind, index)

    def _derived_mrid(self, kind: ObjectKind, index: int) -> str:
        """mRID = UUIDv5 of (seed, kind, index) (DECISIONS.md, "Simulated meters"): the same
        string as `str(uuid.uuid5(FLEET_NAMESPACE, f"{seed}/{kind}/{index}"))`, computed from a
        pre-hashed prefix because blocks name their meter thousands of times a second."""
        digest = self._mrid_prefix(kind).copy()
        digest.update(str(index).encode())
        b = bytearray(digest.digest()[:16])
        b[6] = (b[6] & 0x0F) | 0x50  # version 5 (RFC 4122, 4.3)
        b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = b.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _mrid_prefix(self, kind: ObjectKind) -> hashlib._Hash:
        prefix = self._mrid_prefixes.get(kind)
        if prefix is None:
            prefix = hashlib.sha1(FLEET_NAMESPACE.bytes + f"{self.seed}/{kind}/".encode())
            self._mrid_prefixes[kind] = prefix
        return prefix

    def name(self, kind: ObjectKind, index: int) -> str:
        width = 7 if kind in ("meter", "usage-point", "service-location") else 5
        return f"{_NAME_PREFIX[kind]}{index:0{width}d}"

    def meter_ref(self, index: int) -> ObjectRef:
        return ObjectRef(mrid=self.mrid("meter", index))

    def usage_point_ref(self, index: int) -> ObjectRef:
        return ObjectRef(mrid=self.mrid("usage-point", index))

    def group(self, kind: Literal["transformer", "feeder"], index: int) -> GroupInfo:
        return GroupInfo(
            kind, index, self.mrid(kind, index), self.name(kind, index), NAME_TYPES[kind]
        )

    def meter_info(self, index: int) -> MeterInfo:
        self._check_index(index)
        kind = self.kind_of(index)
        tx = int(self.transformer[index])
        return MeterInfo(
            index=index,
            mrid=self.mrid("meter", index),
            name=self.name("meter", index),
            serial_number=f"SIM{self.seed % 100000:05d}{index:09d}",
            kind=kind,
            end_device_type=DEVICE_TYPE_BY_KIND[kind],
            usage_point_mrid=self.mrid("usage-point", index),
            usage_point_name=self.name("usage-point", index),
            service_location_mrid=self.mrid("service-location", index),
            customer_class=CLASSES[int(self.customer_class[index])],
            solar_kw=float(self.solar_kw[index]),
            load_control_enrolled=bool(self.enrolled[index]),
            transformer=self.group("transformer", tx) if tx >= 0 else None,
            feeder=self.group("feeder", int(self.feeder[index])) if tx >= 0 else None,
        )

    def iter_meter_info(self) -> Iterator[MeterInfo]:
        for i in range(self.n):
            yield self.meter_info(i)

    def index_of(self, ref: ObjectRef) -> int:
        """The meter index a reference names: a meter or usage point by mRID, by name, or a
        meter by serial number (digest 1.3.6)."""
        if ref.mrid is not None:
            found = self._all_mrids().get(ref.mrid.lower())
            if found is not None:
                return found
        for text in (ref.name, ref.serial_number):
            index = self._parse_name(text)
            if index is not None:
                return index
        raise UnknownDeviceError(ref.describe())

    def _all_mrids(self) -> dict[str, int]:
        """mRID of every meter and usage point -> meter index (built on first use)."""
        if self._lookup is None:
            lookup: dict[str, int] = {}
            for i in range(self.n):
                lookup[self.mrid("meter", i)] = i
                lookup[self.mrid("usage-point", i)] = i
            self._lookup = lookup
        return self._lookup

    def _parse_name(self, text: str | None) -> int | None:
        if not text:
            return None
        prefixes = (
            _NAME_PREFIX["meter"],
            _NAME_PREFIX["usage-point"],
            f"SIM{self.seed % 100000:05d}",
        )
        for prefix in prefixes:
            digits = text[len(prefix) :]
            if text.startswith(prefix) and digits.isascii() and digits.isdigit():
                index = int(digits)
                return index if 0 <= index < self.n else None
        return None

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.n:
            raise UnknownDeviceError(f"index {index} (the fleet has {self.n} meters)")
