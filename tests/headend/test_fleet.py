"""The fleet: determinism, identity, topology, shares, options."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimmeter.headend import noise
from cimmeter.headend.errors import FleetOptionsError, UnknownDeviceError
from cimmeter.headend.fleet import FLEET_NAMESPACE, GAS, WATER, Fleet, FleetOptions
from cimmeter.model.identity import ObjectRef

COLUMNS = (
    "kind",
    "customer_class",
    "solar_kw",
    "enrolled",
    "transformer",
    "feeder",
    "daily_use",
    "heating",
    "cooling",
    "initial_forward",
    "initial_reverse",
)


def test_the_same_seed_gives_the_same_fleet_and_another_seed_another() -> None:
    a, b = Fleet(FleetOptions(500, seed=1)), Fleet(FleetOptions(500, seed=1))
    c = Fleet(FleetOptions(500, seed=2))
    for name in COLUMNS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.daily_use, c.daily_use)
    assert a.mrid("meter", 3) == b.mrid("meter", 3) != c.mrid("meter", 3)


def test_a_meter_is_the_same_meter_in_a_larger_fleet() -> None:
    small, large = Fleet(FleetOptions(100, seed=4)), Fleet(FleetOptions(5000, seed=4))
    for name in COLUMNS:
        assert np.array_equal(getattr(small, name), getattr(large, name)[:100]), name


def test_mrid_is_uuid5_of_seed_kind_and_index() -> None:
    fleet = Fleet(FleetOptions(10, seed=42))
    expected = uuid.uuid5(FLEET_NAMESPACE, "42/meter/7")
    assert fleet.mrid("meter", 7) == str(expected)
    assert uuid.UUID(fleet.mrid("usage-point", 7)).version == 5
    kinds = ("meter", "usage-point", "service-location", "transformer", "feeder")
    assert len({fleet.mrid(k, 7) for k in kinds}) == 5  # type: ignore[arg-type]


def test_references_resolve_by_mrid_name_serial_number_and_usage_point() -> None:
    fleet = Fleet(FleetOptions(50, seed=3))
    info = fleet.meter_info(17)
    for ref in (
        ObjectRef(mrid=info.mrid),
        ObjectRef(mrid=info.mrid.upper()),
        ObjectRef(name=info.name),
        ObjectRef(serial_number=info.serial_number),
        ObjectRef(mrid=info.usage_point_mrid),
        ObjectRef(name=info.usage_point_name),
    ):
        assert fleet.index_of(ref) == 17, ref
    for ref in (
        ObjectRef(mrid=str(uuid.uuid4())),
        ObjectRef(name="SIM-M0000050"),
        ObjectRef(name="nobody"),
    ):
        with pytest.raises(UnknownDeviceError, match="no simulated meter"):
            fleet.index_of(ref)


def test_electric_meters_hang_under_transformers_and_transformers_under_feeders() -> None:
    fleet = Fleet(FleetOptions(3000, seed=9, gas_share=0.1, water_share=0.1))
    electric = fleet.kind == 0
    assert np.all(fleet.transformer[electric] >= 0)
    assert np.all(fleet.transformer[~electric] == -1)
    assert np.all(fleet.feeder[~electric] == -1)
    sizes = np.bincount(fleet.transformer[electric])
    assert sizes[:-1].min() >= 3  # the last transformer may still be filling up
    assert sizes.max() <= 10
    per_feeder = np.bincount(fleet.transformer_feeder)
    assert per_feeder[:-1].min() >= 10
    assert per_feeder.max() <= 40
    # a feeder's meters are exactly the meters of its transformers
    for f in range(fleet.n_feeders):
        tx = np.flatnonzero(fleet.transformer_feeder == f)
        assert set(fleet.meters_under_feeder(f).tolist()) == set(
            np.flatnonzero(np.isin(fleet.transformer, tx)).tolist()
        )
    info = fleet.meter_info(int(np.flatnonzero(electric)[0]))
    assert info.transformer is not None
    assert info.transformer.name_type == "Transformer"
    assert info.feeder is not None
    assert info.feeder.name.startswith("SIM-FDR")


def test_shares_are_about_what_was_asked() -> None:
    fleet = Fleet(
        FleetOptions(
            20000,
            seed=1,
            gas_share=0.2,
            water_share=0.1,
            commercial_share=0.1,
            solar_share=0.3,
            load_control_share=0.4,
        )
    )
    electric = fleet.kind == 0
    assert np.mean(fleet.kind == GAS) == pytest.approx(0.2, abs=0.02)
    assert np.mean(fleet.kind == WATER) == pytest.approx(0.1, abs=0.02)
    assert np.mean(fleet.customer_class[electric]) == pytest.approx(0.1, abs=0.02)
    residential = electric & (fleet.customer_class == 0)
    assert np.mean(fleet.solar_kw[residential] > 0) == pytest.approx(0.3, abs=0.02)
    assert np.all(fleet.solar_kw[~residential] == 0)
    assert np.mean(fleet.enrolled[electric]) == pytest.approx(0.4, abs=0.02)
    assert not fleet.enrolled[~electric].any()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_meters": -1}, "n_meters"),
        ({"n_meters": 1, "gas_share": 1.5}, "gas_share"),
        ({"n_meters": 1, "gas_share": 0.6, "water_share": 0.6}, "must not exceed"),
        ({"n_meters": 1, "interval": timedelta(minutes=7)}, "interval must be one of"),
        ({"n_meters": 1, "start": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"n_meters": 1, "start": datetime(2025, 1, 1, 0, 5, tzinfo=UTC)}, "grid"),
        ({"n_meters": 1, "meters_per_transformer": (5, 2)}, "low <= high"),
    ],
)
def test_bad_options_are_refused_with_a_reason(options: dict[str, object], message: str) -> None:
    with pytest.raises(FleetOptionsError, match=message):
        FleetOptions(**options)  # type: ignore[arg-type]


def test_an_empty_fleet_is_a_fleet() -> None:
    fleet = Fleet(FleetOptions(0))
    assert fleet.n_transformers == 0
    assert fleet.n_feeders == 0


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**40), stream=st.text(max_size=8), n=st.integers(1, 200))
def test_noise_is_a_pure_function_of_its_keys(seed: int, stream: str, n: int) -> None:
    key = noise.stream_key(seed, stream)
    a = np.arange(n)
    whole = noise.uniform(key, a[:, None], a[None, :])
    assert np.array_equal(whole[3 % n], noise.uniform(key, a[3 % n], a))
    assert np.all((whole >= 0) & (whole < 1))
    assert noise.stream_key(seed, stream + "x") != key


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    kind=st.sampled_from(["meter", "usage-point", "service-location", "transformer", "feeder"]),
    index=st.integers(0, 10**9),
)
def test_the_fast_mrid_is_exactly_uuid5(seed: int, kind: str, index: int) -> None:
    fleet = Fleet(FleetOptions(0, seed=seed))
    assert fleet.mrid(kind, index) == str(uuid.uuid5(FLEET_NAMESPACE, f"{seed}/{kind}/{index}"))  # type: ignore[arg-type]
