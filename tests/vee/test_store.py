"""VEE against the store, on SQLite and PostgreSQL: raw stays, final is versioned beside it,
re-runs change nothing, actuals replace estimates, edits stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store
from cimmeter.store.records import EventRecord, Linkage, LinkageKind, MasterObject, Name, ObjectKind
from cimmeter.vee.editing import edit_reading, report
from cimmeter.vee.runner import run_vee
from tests.vee.helpers import DAY, FWD, IV, START, load

T0 = datetime.fromtimestamp(START, UTC)
END = T0 + timedelta(days=14)
NOW = END + timedelta(days=1)
TS, VS = load()


def setup(store: Store, *, gap: slice = slice(100, 103), spike: int = 200) -> np.ndarray:
    with store.transaction() as tx:
        for i in range(2):
            tx.put_object(MasterObject(ObjectKind.METER, f"m{i}", updated_at=T0))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"u{i}", updated_at=T0))
            tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, f"m{i}", f"u{i}", T0))
        tx.put_object(
            MasterObject(ObjectKind.USAGE_POINT_GROUP, "g1", names=(Name("north"),), updated_at=T0)
        )
        tx.open_linkage(Linkage(LinkageKind.GROUP_MEMBER, "g1", "u1", T0))
        keep = np.ones(len(TS), bool)
        keep[gap] = False
        vs = VS.copy()
        vs[spike] = 15.0
        blocks = [
            ReadingBlock.build(FWD, TS[keep], vs[keep], meter=ObjectRef(mrid="m0")),
            ReadingBlock.build(FWD, TS, VS, meter=ObjectRef(mrid="m1")),
        ]
        result = tx.ingest_readings(blocks, received_at=T0, source="headend")
        assert not result.rejected
    return keep


def final(store: Store, meter: str = "m0") -> ReadingBlock:
    with store.snapshot() as r:
        (b,) = list(r.read_readings(ReadingQuery(meters=[meter], series="final")))
    return b


def test_run_writes_final_beside_raw_and_is_idempotent(store: Store) -> None:
    keep = setup(store)
    first = run_vee(store, start=T0, end=END, now=NOW)
    assert first.meters == 2
    assert first.counts["estimated"] == 3 + 1  # the gap and the spike
    assert first.rules["gap"] == 1 and first.rules["spike"] == 1
    assert first.written == 2 * len(TS)
    out = final(store)
    assert len(out) == len(TS)
    assert "3.8.1" in out.qualities_at(101) and "3.5.256" in out.qualities_at(200)
    assert out.values[200] < 2.0
    with store.snapshot() as r:
        (raw,) = list(r.read_readings(ReadingQuery(meters=["m0"])))
        findings = r.vee_findings(meters=["m0"])
        versions = r.reading_versions(
            "m0", FWD, datetime.fromtimestamp(int(TS[101]), UTC), series="final"
        )
    assert (
        len(raw) == int(keep.sum()) and raw.values[np.searchsorted(raw.timestamps, TS[200])] == 15.0
    )
    assert {f.rule for f in findings} >= {"gap", "spike", "estimate:linear", "incomplete_day"}
    assert all(f.usage_point_mrid == "u0" for f in findings)
    assert versions[-1].source == "vee:estimate:linear"
    again = run_vee(store, start=T0, end=END, now=NOW)
    assert again.written == 0
    with store.snapshot() as r:
        assert len(r.vee_findings(meters=["m0"])) == len(findings)
    assert final(store).same_readings(out)


def test_late_actual_replaces_estimate_and_keeps_it_as_version(store: Store) -> None:
    setup(store)
    run_vee(store, start=T0, end=END, now=NOW)
    estimate = float(final(store).values[101])
    with store.transaction() as tx:
        late = ReadingBlock.build(FWD, TS[100:103], VS[100:103], meter=ObjectRef(mrid="m0"))
        tx.ingest_readings([late], received_at=NOW, source="headend")
    run_vee(store, start=T0, end=END, now=NOW + timedelta(hours=1))
    out = final(store)
    assert out.values[101] == VS[101]
    assert out.qualities_at(101) == ("3.0.1",)
    with store.snapshot() as r:
        versions = r.reading_versions(
            "m0", FWD, datetime.fromtimestamp(int(TS[101]), UTC), series="final"
        )
    assert [v.value for v in versions] == [estimate, VS[101]]
    assert "3.8.1" in versions[0].qualities


def test_edit_is_versioned_explained_and_survives_reruns_and_resent_raw(store: Store) -> None:
    setup(store)
    run_vee(store, start=T0, end=END, now=NOW)
    at = datetime.fromtimestamp(int(TS[300]), UTC)
    with store.transaction() as tx:
        code = edit_reading(
            tx,
            usage_point="u0",
            reading_type=FWD,
            at=at,
            value=0.999,
            reason="customer read",
            user="alice",
            now=NOW,
        )
    assert code == "3.7.0"
    with store.transaction() as tx:  # the head-end sends the raw value again, changed
        again = ReadingBlock.build(FWD, TS[300:301], [0.5], meter=ObjectRef(mrid="m0"))
        tx.ingest_readings([again], received_at=NOW, source="headend")
    summary = run_vee(store, start=T0, end=END, now=NOW + timedelta(hours=2))
    assert summary.counts["edited"] == 1
    out = final(store)
    assert out.values[300] == 0.999 and out.qualities_at(300) == ("3.7.0",)
    with store.snapshot() as r:
        versions = r.reading_versions("m0", FWD, at, series="final")
        edits = [f for f in r.vee_findings(meters=["m0"]) if f.rule == "edit"]
    assert versions[-1].source == "edit:alice" and versions[-2].qualities == ("3.0.1",)
    assert [(e.actor, e.reason) for e in edits] == [("alice", "customer read")]


def test_scope_group_and_report(store: Store) -> None:
    setup(store)
    summary = run_vee(store, start=T0, end=END, now=NOW, group="north")
    assert summary.meters == 1  # only u1's meter
    assert final(store, "m1").same_readings(final(store, "m1"))
    run_vee(store, start=T0, end=END, now=NOW, usage_points=["u0"])
    with store.snapshot() as reader:
        rows = {r.usage_point: r.as_dict() for r in report(reader, T0, END)}
    assert rows["u1"]["counts"] == {"actual": len(TS), "estimated": 0, "edited": 0, "missing": 0}
    assert rows["u0"]["counts"]["estimated"] == 4
    assert rows["u0"]["rules"]["gap"] == 3 and rows["u0"]["rules"]["spike"] == 1


def test_relay_open_zeros_do_not_fire_and_gaps_fill_with_zero(store: Store) -> None:
    keep = np.ones(len(TS), bool)
    keep[400:420] = False
    setup(store, gap=slice(400, 420))
    with store.transaction() as tx:
        tx.add_events(
            [
                EventRecord(
                    "e1", "3.31.0.68", datetime.fromtimestamp(int(TS[399]), UTC), device_mrid="m0"
                ),
                EventRecord(
                    "e2", "3.31.0.42", datetime.fromtimestamp(int(TS[419]), UTC), device_mrid="m0"
                ),
                EventRecord(
                    "e3", "3.26.0.85", datetime.fromtimestamp(int(TS[600]), UTC), device_mrid="m0"
                ),
                EventRecord(
                    "e4", "3.26.0.216", datetime.fromtimestamp(int(TS[604]), UTC), device_mrid="m0"
                ),
            ]
        )
    run_vee(store, start=T0, end=END, now=NOW)
    out = final(store)
    assert np.all(out.values[400:420] == 0.0)
    assert "3.8.5" in out.qualities_at(410)
    assert "3.10.0" in out.qualities_at(602)
    assert DAY and IV
