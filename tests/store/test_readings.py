"""Readings: bulk ingest, rejection per item, versioning, attribution and reading back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store, StoreError
from cimmeter.store.records import (
    Linkage,
    LinkageKind,
    MasterObject,
    Name,
    ObjectKind,
    ReadingTypeRecord,
    RejectCode,
)
from tests.store.conftest import RT, RT2, T0

MU = LinkageKind.METER_USAGE_POINT
H = timedelta(hours=1)
BASE = int(T0.timestamp())


def ts(n: int, start: int = BASE, step: int = 900) -> np.ndarray:
    return start + step * np.arange(1, n + 1, dtype=np.int64)


def setup(store: Store) -> None:
    with store.transaction() as tx:
        for i in range(3):
            tx.put_object(
                MasterObject(
                    ObjectKind.METER,
                    f"m{i}",
                    names=(Name(f"SER{i}", "MeterSerialNumber"),),
                    updated_at=T0,
                )
            )
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"u{i}", updated_at=T0))
        tx.open_linkage(Linkage(MU, "m0", "u0", T0 - 100 * H))
        tx.open_linkage(Linkage(MU, "m1", "u1", T0 - 100 * H))


def read(store: Store, **query: object) -> list[ReadingBlock]:
    with store.snapshot() as snap:
        return list(snap.read_readings(ReadingQuery(**query)))  # type: ignore[arg-type]


def block(meter: str | None, n: int = 4, values: object = None, **kw: object) -> ReadingBlock:
    vs = np.arange(float(n)) if values is None else values
    return ReadingBlock.build(
        kw.pop("rt", RT),  # type: ignore[arg-type]
        kw.pop("timestamps", ts(n)),  # type: ignore[arg-type]
        vs,  # type: ignore[arg-type]
        meter=ObjectRef.of(meter) if meter else None,
        **kw,  # type: ignore[arg-type]
    )


def test_ingest_and_read_back(store: Store) -> None:
    setup(store)
    sent = [
        block("m0", 96, qualities=[["1.4.9"] if i % 10 == 0 else [] for i in range(96)]),
        block("m1", 5, rt=RT2, kind="register"),
    ]
    with store.transaction() as tx:
        result = tx.ingest_readings(sent, received_at=T0 + 30 * H, source="HES")
    assert (result.inserted, result.unchanged, result.versioned, result.rejected) == (101, 0, 0, ())
    got = read(store)
    assert [
        (
            b.meter.mrid if b.meter else None,
            b.usage_point.mrid if b.usage_point else None,
            b.reading_type,
            b.kind,
            len(b),
        )
        for b in got
    ] == [
        ("m0", "u0", RT, "interval", 96),
        ("m1", "u1", RT2, "register", 5),
    ]
    assert got[0].same_readings(sent[0])
    assert got[1].same_readings(sent[1])
    assert got[0].qualities_at(10) == ("1.4.9",)
    assert got[0].qualities_at(11) == ()


def test_time_range_is_half_open(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.ingest_readings([block("m0", 8)], received_at=T0)
    start = datetime.fromtimestamp(BASE + 900 * 2, UTC)
    end = datetime.fromtimestamp(BASE + 900 * 5, UTC)
    got = read(store, meters=["m0"], start=start, end=end)
    # (start, end]: the reading stamped at start belongs to the interval before it.
    assert got[0].timestamps.tolist() == (BASE + 900 * np.arange(3, 6)).tolist()
    with pytest.raises(StoreError, match="timezone-aware"):
        read(store, meters=["m0"], start=start.replace(tzinfo=None))


def test_rejections_are_per_item_and_specific(store: Store) -> None:
    setup(store)
    values = np.array([1.0, np.nan, 3.0, np.inf, 5.0])
    stamps = ts(5)
    stamps[2] = 100  # 1970: a clock reset, not data
    sent = [
        block("m0", 5, values=values, timestamps=stamps),
        block("ghost", 3),
        block("m1", 3, rt="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.-3.72"),
        block("m1", 3, rt="0.0.2.4.1.1.12.0.0.0.0.0.0.0.-1.3.72.0"),
        ReadingBlock.build(RT, ts(2), [1.0, 2.0], meter=ObjectRef(name="SER2")),
    ]
    with store.transaction() as tx:
        result = tx.ingest_readings(sent, received_at=T0)
    assert result.inserted == 2 + 2  # m0 rows 0 and 4, SER2 by name
    assert result.rejected_readings == 3 + 3 + 3 + 3
    by_code = {(r.code, r.block_index, r.row_index) for r in result.rejected}
    assert by_code == {
        (RejectCode.INVALID_VALUE, 0, 1),
        (RejectCode.TIMESTAMP_OUT_OF_RANGE, 0, 2),
        (RejectCode.INVALID_VALUE, 0, 3),
        (RejectCode.UNKNOWN_METER, 1, None),
        (RejectCode.MALFORMED_READING_TYPE, 2, None),
        (RejectCode.MALFORMED_READING_TYPE, 3, None),
    }
    reasons = {r.code: r.reason for r in result.rejected}
    assert "mRID ghost" in reasons[RejectCode.UNKNOWN_METER]
    ghost = next(r for r in result.rejected if r.code == RejectCode.UNKNOWN_METER)
    assert ghost.object_id == "ghost"
    assert "field 15 (phases)" in next(r.reason for r in result.rejected if r.block_index == 3)
    assert "nan" in next(r.reason for r in result.rejected if r.row_index == 1)
    # A negative multiplier (field 16) is legal (digest 5.4).
    with store.transaction() as tx:
        milli = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.-3.72.0"
        assert tx.ingest_readings([block("m1", 2, rt=milli)], received_at=T0).inserted == 2
        assert tx.get_reading_type(milli) is not None


def test_versioning(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.ingest_readings([block("m0", 4)], received_at=T0, source="HES")
    with store.transaction() as tx:
        again = tx.ingest_readings([block("m0", 4)], received_at=T0 + H)
    assert (again.inserted, again.unchanged, again.versioned) == (0, 4, 0)
    changed = block(
        "m0", 4, values=np.array([0.0, 10.0, 2.0, 3.0]), qualities=[[], [], ["2.8.0"], []]
    )
    with store.transaction() as tx:
        result = tx.ingest_readings([changed], received_at=T0 + 2 * H, source="VEE")
    # Row 1: new value; row 2: same value, new quality set -> also a new version.
    assert (result.inserted, result.unchanged, result.versioned) == (0, 2, 2)
    with store.snapshot() as snap:
        at = datetime.fromtimestamp(int(ts(4)[1]), UTC)
        versions = snap.reading_versions("m0", RT, at)
        quality_only = snap.reading_versions("m0", RT, datetime.fromtimestamp(int(ts(4)[2]), UTC))
        untouched = snap.reading_versions("m0", RT, datetime.fromtimestamp(int(ts(4)[0]), UTC))
    assert [(v.value, v.qualities, v.source, v.recorded_at, v.superseded_at) for v in versions] == [
        (1.0, (), "HES", T0, T0 + 2 * H),
        (10.0, (), "VEE", T0 + 2 * H, None),
    ]
    assert [v.qualities for v in quality_only] == [(), ("2.8.0",)]
    assert len(untouched) == 1
    assert read(store)[0].values.tolist() == [0.0, 10.0, 2.0, 3.0]


def test_same_key_twice_in_one_message_applies_in_order(store: Store) -> None:
    setup(store)
    first = block("m0", 3, values=np.array([1.0, 2.0, 3.0]))
    second = block("m0", 2, values=np.array([1.0, 9.0]))
    with store.transaction() as tx:
        result = tx.ingest_readings([first, second], received_at=T0)
    assert (result.inserted, result.unchanged, result.versioned) == (3, 1, 1)
    assert read(store)[0].values.tolist() == [1.0, 9.0, 3.0]


def test_best_series_is_final_where_vee_wrote_and_raw_elsewhere(store: Store) -> None:
    setup(store)
    stamps = ts(6)
    with store.transaction() as tx:
        tx.ingest_readings(
            [block("m0", 6), block("m0", 6, rt=RT2, values=np.full(6, 7.0))], received_at=T0
        )
        # VEE wrote readings 2..4 of RT only (an estimate in the middle, with its quality)
        tx.ingest_readings(
            [
                block(
                    "m0",
                    3,
                    values=np.array([1.0, 20.0, 3.0]),
                    timestamps=stamps[1:4],
                    qualities=[[], ["3.8.1"], []],
                )
            ],
            received_at=T0,
            series="final",
        )
    got = {b.reading_type: b for b in read(store, series="best")}
    assert got[RT].timestamps.tolist() == list(stamps)
    assert got[RT].values.tolist() == [0.0, 1.0, 20.0, 3.0, 4.0, 5.0]
    assert [got[RT].qualities_at(i) for i in range(6)] == [(), (), ("3.8.1",), (), (), ()]
    assert got[RT2].values.tolist() == [7.0] * 6  # no final rows: raw
    # the time range applies before choosing: only the final span's middle
    middle = read(store, series="best", start=datetime.fromtimestamp(int(stamps[1]), UTC))
    assert {b.reading_type: b.values.tolist() for b in middle}[RT] == [20.0, 3.0, 4.0, 5.0]


def test_series_are_kept_apart(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.ingest_readings([block("m0", 3)], received_at=T0)
        final = tx.ingest_readings(
            [block("m0", 3, values=np.array([5.0, 5.0, 5.0]))], received_at=T0, series="final"
        )
    assert (final.inserted, final.versioned) == (3, 0)
    assert read(store)[0].values.tolist() == [0.0, 1.0, 2.0]
    assert read(store, series="final")[0].values.tolist() == [5.0, 5.0, 5.0]
    with store.transaction() as tx, pytest.raises(StoreError, match="series"):
        tx.ingest_readings([block("m0")], received_at=T0, series="cooked")  # type: ignore[arg-type]


def test_attribution_by_linkage_at_each_timestamp(store: Store) -> None:
    setup(store)
    change = T0 + H  # m2 moves from u2 to u0's neighbour u1? no: from nothing to u2 at T0+1h
    with store.transaction() as tx:
        tx.open_linkage(Linkage(MU, "m2", "u2", change))
        result = tx.ingest_readings([block("m2", 8)], received_at=T0)
    assert result.inserted == 8
    assert not result.rejected
    got = read(store, meters=["m2"])
    assert [(b.usage_point.mrid if b.usage_point else None, len(b)) for b in got] == [
        (None, 4),
        ("u2", 4),
    ]


def test_block_naming_meter_and_other_usage_point(store: Store) -> None:
    setup(store)
    sent = ReadingBlock.build(
        RT, ts(3), [1.0, 2.0, 3.0], meter=ObjectRef.of("m0"), usage_point=ObjectRef.of("u1")
    )
    agreeing = ReadingBlock.build(
        RT2, ts(2), [1.0, 2.0], meter=ObjectRef.of("m0"), usage_point=ObjectRef.of("u0")
    )
    with store.transaction() as tx:
        result = tx.ingest_readings([sent, agreeing], received_at=T0)
    assert result.inserted == 2
    assert {r.code for r in result.rejected} == {RejectCode.USAGE_POINT_MISMATCH}
    assert len(result.rejected) == 3


def test_block_naming_only_a_usage_point(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        # u2: nobody until T0+1h, then m2; from T0+1.5h also a check meter m1? m1 is at u1.
        tx.open_linkage(Linkage(MU, "m2", "u2", T0 + H))
    only_up = ReadingBlock.build(RT, ts(8), np.arange(8.0), usage_point=ObjectRef.of("u2"))
    unknown_up = ReadingBlock.build(RT, ts(2), [1.0, 2.0], usage_point=ObjectRef.of("u9"))
    with store.transaction() as tx:
        result = tx.ingest_readings([only_up, unknown_up], received_at=T0)
    assert result.inserted == 4
    codes = [(r.code, r.row_index) for r in result.rejected]
    assert codes == [(RejectCode.UNKNOWN_USAGE_POINT, None)] + [
        (RejectCode.NO_LINKED_METER, i) for i in range(4)
    ]
    got = read(store, meters=["m2"])
    assert got[0].usage_point is not None
    assert got[0].usage_point.mrid == "u2"
    assert got[0].values.tolist() == [4.0, 5.0, 6.0, 7.0]


def test_several_meters_at_a_usage_point_make_a_usage_point_block_ambiguous(
    store: Store,
) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.open_linkage(Linkage(MU, "m2", "u0", T0 - H))  # a check meter next to m0
        result = tx.ingest_readings(
            [ReadingBlock.build(RT, ts(2), [1.0, 2.0], usage_point=ObjectRef.of("u0"))],
            received_at=T0,
        )
    assert [r.code for r in result.rejected] == [RejectCode.SEVERAL_LINKED_METERS] * 2


def test_query_by_usage_point_reading_type_kind_and_quality(store: Store) -> None:
    setup(store)
    with store.transaction() as tx:
        tx.ingest_readings(
            [
                block("m0", 4, qualities=[["3.8.1"], [], ["1.4.9"], []]),
                block("m0", 4, rt=RT2, kind="register"),
                block("m1", 4),
            ],
            received_at=T0,
        )
    assert [len(b) for b in read(store, usage_points=["u0"])] == [4, 4]
    assert [b.reading_type for b in read(store, usage_points=["u0"], reading_types=[RT2])] == [RT2]
    assert [b.kind for b in read(store, meters=["m0"], kind="register")] == ["register"]
    flagged = read(store, quality_prefixes=["3.8"])
    assert [(b.meter.mrid if b.meter else None, len(b)) for b in flagged] == [("m0", 1)]
    assert read(store, meters=["nobody"]) == []
    assert read(store, reading_types=["not-a-code"]) == []
    assert read(store, meters=["m0"], usage_points=["u1"]) == []


def test_reading_types_are_registered_canonically(store: Store) -> None:
    setup(store)
    padded = "00.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
    with store.transaction() as tx:
        tx.ingest_readings([block("m0", 2, rt=padded)], received_at=T0)
        tx.put_reading_type(ReadingTypeRecord(RT2, names=(Name("Energy register"),)))
    with store.snapshot() as snap:
        assert [r.code for r in snap.list_reading_types()] == sorted([RT, RT2])
        record = snap.get_reading_type(RT2)
        assert record is not None
        assert record.names == (Name("Energy register"),)
        assert snap.get_reading_type("garbage") is None
    assert read(store)[0].reading_type == RT


def test_extras_survive(store: Store) -> None:
    setup(store)
    sent = block("m0", 3)
    sent.extras[1] = {"reportedDateTime": "2026-01-01T00:31:00Z", "reason": "manual"}
    with store.transaction() as tx:
        tx.ingest_readings([sent], received_at=T0)
    assert read(store)[0].extras == {1: sent.extras[1]}


def test_ingest_needs_an_aware_received_time(store: Store) -> None:
    setup(store)
    with store.transaction() as tx, pytest.raises(StoreError, match="timezone-aware"):
        tx.ingest_readings([block("m0")], received_at=T0.replace(tzinfo=None))


def test_nothing_commits_when_the_transaction_fails(store: Store) -> None:
    setup(store)

    def fail_after_ingest() -> None:
        with store.transaction() as tx:
            tx.ingest_readings([block("m0", 4)], received_at=T0)
            raise RuntimeError("the reply could not be built")

    with pytest.raises(RuntimeError):
        fail_after_ingest()
    assert read(store) == []
