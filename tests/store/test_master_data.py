"""Master data: generic objects with versions, soft delete and resolution by identifier."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.model.identity import ObjectRef
from cimmeter.store import ResolveError, Store, StoreError
from cimmeter.store.records import MasterObject, Name, ObjectKind
from tests.store.conftest import T0

METER = ObjectKind.METER


def meter(mrid: str, *names: Name, serial: str | None = None, **document: object) -> MasterObject:
    return MasterObject(
        METER, mrid, names=names, serial_number=serial, document=document, updated_at=T0
    )


def test_put_get_and_versions(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.put_object(meter("m1", Name("S-1", "MeterSerialNumber", "HES"), model="A1"))
        same = tx.put_object(meter("m1", Name("S-1", "MeterSerialNumber", "HES"), model="A1"))
        changed = tx.put_object(
            MasterObject(
                METER,
                "m1",
                status="installed",
                document={"model": "A2"},
                updated_at=T0 + timedelta(days=1),
            )
        )
    assert (first.version, same.version, changed.version) == (1, 1, 2)
    with store.snapshot() as snap:
        got = snap.get_object(METER, "m1")
        history = snap.object_history(METER, "m1")
    assert got is not None
    assert got.status == "installed"
    assert got.document == {"model": "A2"}
    assert got.names == ()
    assert got.updated_at == T0 + timedelta(days=1)
    assert [h.version for h in history] == [1, 2]
    assert history[0].names == (Name("S-1", "MeterSerialNumber", "HES"),)
    assert history[0].document == {"model": "A1"}


def test_put_requires_an_aware_time(store: Store) -> None:
    with store.transaction() as tx, pytest.raises(StoreError, match="timezone-aware"):
        tx.put_object(MasterObject(METER, "m1", updated_at=T0.replace(tzinfo=None)))
    with store.transaction() as tx, pytest.raises(StoreError, match="updated_at is required"):
        tx.put_object(MasterObject(METER, "m1"))


def test_soft_delete_keeps_history_and_hides_from_resolve(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_object(meter("m1", serial="S1"))
        assert tx.delete_object(METER, "m1", T0 + timedelta(hours=1))
        assert not tx.delete_object(METER, "m1", T0 + timedelta(hours=2))
        assert not tx.delete_object(METER, "nope", T0)
    with store.snapshot() as snap:
        gone = snap.get_object(METER, "m1")
        assert gone is not None
        assert gone.deleted
        assert gone.version == 2
        assert [h.deleted for h in snap.object_history(METER, "m1")] == [False, True]
        assert snap.count_objects(METER) == 0
        with pytest.raises(ResolveError, match="no Meter found for mRID m1"):
            snap.resolve(METER, ObjectRef.of("m1"))
    with store.transaction() as tx:
        revived = tx.put_object(meter("m1", serial="S1"))
    assert (revived.deleted, revived.version) == (False, 3)


def test_resolve_order_and_ambiguity(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_object(meter("m1", Name("A", "MeterSerialNumber"), serial="SER-1"))
        tx.put_object(meter("m2", Name("A", "SapDeviceId"), Name("m1", "Alias")))
        tx.put_object(meter("m3", Name("B", "SapDeviceId", "SAP"), Name("B", "SapDeviceId", "CIS")))
        tx.put_object(
            MasterObject(ObjectKind.USAGE_POINT, "up1", names=(Name("A"),), updated_at=T0)
        )
    with store.snapshot() as snap:
        # mRID first, even though "m1" is also m2's name.
        assert snap.resolve(METER, ObjectRef(mrid="m1", name="m1")).mrid == "m1"
        # An unknown mRID falls through to the name the reference also carries.
        assert (
            snap.resolve(METER, ObjectRef(mrid="zz", name="A", name_type="SapDeviceId")).mrid
            == "m2"
        )
        assert snap.resolve(METER, ObjectRef(name="A", name_type="MeterSerialNumber")).mrid == "m1"
        # A bare name matching two meters is ambiguous, never a guess.
        with pytest.raises(ResolveError, match="2 Meter found for name 'A'") as error:
            snap.resolve(METER, ObjectRef(name="A"))
        assert error.value.matches == 2
        # The authority narrows (name, NameType).
        ref = ObjectRef(name="B", name_type="SapDeviceId", name_type_authority="CIS")
        assert snap.resolve(METER, ref).mrid == "m3"
        assert snap.resolve(METER, ObjectRef(serial_number="SER-1")).mrid == "m1"
        with pytest.raises(ResolveError, match="no Meter found for serial number 'X'"):
            snap.resolve(METER, ObjectRef(serial_number="X"))
        # Kinds are separate: the usage point named "A" is not a meter.
        assert snap.resolve(ObjectKind.USAGE_POINT, ObjectRef(name="A")).mrid == "up1"


def test_list_and_count_are_keyset_paginated(store: Store) -> None:
    with store.transaction() as tx:
        for i in range(7):
            tx.put_object(meter(f"m{i}"))
        tx.put_object(MasterObject(ObjectKind.USAGE_POINT, "u", updated_at=T0))
    with store.snapshot() as snap:
        page1 = snap.list_objects(METER, limit=3)
        page2 = snap.list_objects(METER, after_mrid=page1[-1].mrid, limit=3)
        page3 = snap.list_objects(METER, after_mrid=page2[-1].mrid, limit=3)
        assert [o.mrid for o in page1 + page2 + page3] == [f"m{i}" for i in range(7)]
        assert snap.count_objects(METER) == 7
        assert snap.count_objects(ObjectKind.CUSTOMER) == 0


def test_document_survives_round_trip(store: Store) -> None:
    document = {"EndDeviceInfo": {"AssetModel": {"modelNumber": "X"}}, "vendor:ext": [1, 2.5, None]}
    with store.transaction() as tx:
        tx.put_object(meter("m1", **document))
    with store.snapshot() as snap:
        got = snap.get_object(METER, "m1")
    assert got is not None
    assert got.document == document
