"""Linkages with validity intervals: open, close, cancel, history, and "who was there at t"."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import LinkageConflict, ReadingQuery, Store, StoreError
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind
from tests.store.conftest import RT, T0

MU = LinkageKind.METER_USAGE_POINT
H = timedelta(hours=1)


def setup(store: Store, meters: int = 2, usage_points: int = 2) -> None:
    with store.transaction() as tx:
        for i in range(meters):
            tx.put_object(MasterObject(ObjectKind.METER, f"m{i}", updated_at=T0))
        for i in range(usage_points):
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"u{i}", updated_at=T0))


def test_who_was_at_the_usage_point_at_t(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.open_linkage(Linkage(MU, "m0", "u0", T0))
        closed = tx.close_linkage(MU, "m0", "u0", T0 + 10 * H)
        tx.open_linkage(Linkage(MU, "m1", "u0", T0 + 10 * H, reason="exchange"))
    assert closed.valid_to == T0 + 10 * H
    with store.snapshot() as snap:

        def at(t: object) -> list[str]:
            return [link.from_mrid for link in snap.linkages(MU, to_mrid="u0", at=t)]  # type: ignore[arg-type]

        # Half-open (from, to]: at the change instant the old meter still holds.
        assert at(T0) == []
        assert at(T0 + H) == ["m0"]
        assert at(T0 + 10 * H) == ["m0"]
        assert at(T0 + 10 * H + timedelta(seconds=1)) == ["m1"]
        history = snap.linkages(MU, to_mrid="u0")
        assert [(link.from_mrid, link.valid_to) for link in history] == [
            ("m0", T0 + 10 * H),
            ("m1", None),
        ]
        assert history[1].reason == "exchange"


def test_overlaps_are_refused(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.open_linkage(Linkage(MU, "m0", "u0", T0))
    with store.transaction() as tx, pytest.raises(LinkageConflict, match="already linked to u0"):
        tx.open_linkage(Linkage(MU, "m0", "u1", T0 + H))  # a meter is at one usage point
    with store.transaction() as tx, pytest.raises(LinkageConflict, match="already linked"):
        tx.open_linkage(Linkage(MU, "m0", "u0", T0 - H, T0 + H))  # same pair, overlapping
    with store.transaction() as tx:
        # A usage point may have several meters (main and check meter).
        tx.open_linkage(Linkage(MU, "m1", "u0", T0))
        # A group holds many members at once.
        tx.open_linkage(Linkage(LinkageKind.GROUP_MEMBER, "g", "m0", T0))
        tx.open_linkage(Linkage(LinkageKind.GROUP_MEMBER, "g", "m1", T0))
        # Before the first one: fine.
        tx.open_linkage(Linkage(MU, "m0", "u1", T0 - 5 * H, T0 - H))


def test_close_and_cancel_errors_and_history(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        link = tx.open_linkage(Linkage(MU, "m0", "u0", T0))
        with pytest.raises(StoreError, match="cannot close"):
            tx.close_linkage(MU, "m0", "u0", T0)
    with store.transaction() as tx, pytest.raises(LinkageConflict, match="no open linkage"):
        tx.close_linkage(MU, "m0", "u1", T0 + H)
    with store.transaction() as tx:
        assert link.id is not None
        cancelled = tx.cancel_linkage(link.id)
        assert cancelled.cancelled
        assert tx.cancel_linkage(link.id).cancelled  # idempotent
        # Cancelled: no longer blocks a new linkage, no longer valid, kept in history.
        tx.open_linkage(Linkage(MU, "m0", "u1", T0))
    with store.snapshot() as snap:
        assert snap.linkages(MU, from_mrid="m0", at=T0 + H)[0].to_mrid == "u1"
        assert len(snap.linkages(MU, from_mrid="m0")) == 1
        assert len(snap.linkages(MU, from_mrid="m0", include_cancelled=True)) == 2
    with store.transaction() as tx, pytest.raises(StoreError, match="valid_to"):
        tx.open_linkage(Linkage(MU, "m1", "u1", T0, T0))


def test_linkage_changes_reattribute_stored_readings(store: Store) -> None:
    """Readings that arrived before their linkage get attributed once it is known."""
    setup(store)
    ts = int(T0.timestamp()) + 900 * np.arange(1, 9)
    block = ReadingBlock.build(RT, ts, np.arange(8.0), meter=ObjectRef.of("m0"))
    with store.transaction() as tx:
        tx.ingest_readings([block], received_at=T0 + 3 * H)

    def attributed() -> list[tuple[str | None, int]]:
        with store.snapshot() as snap:
            blocks = list(snap.read_readings(ReadingQuery(meters=["m0"])))
        return [(b.usage_point.mrid if b.usage_point else None, len(b)) for b in blocks]

    assert attributed() == [(None, 8)]
    with store.transaction() as tx:
        tx.open_linkage(Linkage(MU, "m0", "u0", T0))
    assert attributed() == [("u0", 8)]
    with store.transaction() as tx:
        tx.close_linkage(MU, "m0", "u0", T0 + H)  # readings at 0:15..1:00 stay with u0
        link = tx.open_linkage(Linkage(MU, "m0", "u1", T0 + H))
    assert attributed() == [("u0", 4), ("u1", 4)]
    with store.snapshot() as snap:
        by_up = list(snap.read_readings(ReadingQuery(usage_points=["u1"])))
    assert [len(b) for b in by_up] == [4]
    assert by_up[0].timestamps[0] == int((T0 + H).timestamp()) + 900
    with store.transaction() as tx:
        assert link.id is not None
        tx.cancel_linkage(link.id)
    assert attributed() == [("u0", 4), (None, 4)]


def test_a_usage_point_created_after_its_linkage_gets_the_readings(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_object(MasterObject(ObjectKind.METER, "m0", updated_at=T0))
        tx.open_linkage(Linkage(MU, "m0", "late-up", T0))
        ts = int(T0.timestamp()) + 900 * np.arange(1, 5)
        tx.ingest_readings(
            [ReadingBlock.build(RT, ts, np.ones(4), meter=ObjectRef.of("m0"))], received_at=T0
        )
    with store.snapshot() as snap:
        assert [b.usage_point for b in snap.read_readings(ReadingQuery())] == [None]
    with store.transaction() as tx:
        tx.put_object(MasterObject(ObjectKind.USAGE_POINT, "late-up", updated_at=T0 + H))
    with store.snapshot() as snap:
        blocks = list(snap.read_readings(ReadingQuery(usage_points=["late-up"])))
    assert [(b.usage_point.mrid if b.usage_point else None, len(b)) for b in blocks] == [
        ("late-up", 4)
    ]
