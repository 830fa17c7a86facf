"""Properties of ingest on both engines (hypothesis): what goes in comes out, re-ingest is a
no-op, and a changed value leaves exactly one prior version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store
from cimmeter.store.records import MasterObject, ObjectKind
from tests.store.conftest import RT, RT2, T0

QUALITY_CODES = ["1.4.9", "2.8.0", "3.8.1", "1.5.257"]
BASE = int(T0.timestamp())

values = st.floats(allow_nan=False, allow_infinity=False, width=64)
offsets = st.lists(st.integers(1, 400), min_size=1, max_size=40, unique=True)
qualities = st.lists(st.sampled_from(QUALITY_CODES), max_size=2)


@st.composite
def block_specs(draw: st.DrawFn) -> list[tuple[str, str, list[int], list[float], list[list[str]]]]:
    """Up to 3 (meter, reading type) series with distinct keys: (meter index, rt, ts, v, q)."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from("ab"), st.sampled_from([RT, RT2])),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    specs = []
    for meter, rt in keys:
        times = draw(offsets)
        specs.append(
            (
                meter,
                rt,
                [BASE + 900 * t for t in times],
                draw(st.lists(values, min_size=len(times), max_size=len(times))),
                draw(st.lists(qualities, min_size=len(times), max_size=len(times))),
            )
        )
    return specs


def make_blocks(
    specs: list[tuple[str, str, list[int], list[float], list[list[str]]]], prefix: str
) -> list[ReadingBlock]:
    return [
        ReadingBlock.build(rt, ts, vs, qs, meter=ObjectRef.of(prefix + meter))
        for meter, rt, ts, vs, qs in specs
    ]


def meters(store: Store, prefix: str) -> None:
    with store.transaction() as tx:
        for m in "ab":
            tx.put_object(MasterObject(ObjectKind.METER, prefix + m, updated_at=T0))


def sorted_block(block: ReadingBlock) -> ReadingBlock:
    return block.take(np.argsort(block.timestamps, kind="stable"))


def read(store: Store, prefix: str) -> dict[tuple[str, str], ReadingBlock]:
    with store.snapshot() as snap:
        got = snap.read_readings(ReadingQuery(meters=[prefix + "a", prefix + "b"]))
        return {(b.meter.mrid if b.meter else "", b.reading_type): b for b in got}


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(specs=block_specs())
def test_ingest_then_read_back_gives_the_same_readings(
    store: Store, specs: list[tuple[str, str, list[int], list[float], list[list[str]]]]
) -> None:
    prefix = uuid.uuid4().hex
    meters(store, prefix)
    sent = make_blocks(specs, prefix)
    with store.transaction() as tx:
        result = tx.ingest_readings(sent, received_at=T0)
    assert result.inserted == sum(len(b) for b in sent)
    got = read(store, prefix)
    assert len(got) == len(sent)
    for block in sent:
        assert block.meter is not None
        back = got[(str(block.meter.mrid), block.reading_type)]
        assert back.same_readings(sorted_block(block))
    with store.transaction() as tx:
        again = tx.ingest_readings(sent, received_at=T0 + timedelta(hours=1))
    assert (again.inserted, again.versioned, again.unchanged) == (0, 0, result.inserted)
    assert all(got[k].same_readings(v) for k, v in read(store, prefix).items())


@SETTINGS
@given(specs=block_specs(), data=st.data())
def test_a_changed_value_leaves_exactly_one_prior_version(
    store: Store,
    specs: list[tuple[str, str, list[int], list[float], list[list[str]]]],
    data: st.DataObject,
) -> None:
    prefix = uuid.uuid4().hex
    meters(store, prefix)
    sent = make_blocks(specs, prefix)
    with store.transaction() as tx:
        tx.ingest_readings(sent, received_at=T0)
    changed_blocks = []
    changed_keys = []
    for block in sent:
        mask = np.array(
            data.draw(st.lists(st.booleans(), min_size=len(block), max_size=len(block)))
        )
        new_values = block.values.copy()
        new_values[mask] = np.where(block.values[mask] == 1e6, 2e6, 1e6)
        changed_blocks.append(
            ReadingBlock(
                block.reading_type,
                block.timestamps,
                new_values,
                block.quality,
                block.quality_sets,
                meter=block.meter,
            )
        )
        changed_keys += [(block, int(i)) for i in np.flatnonzero(mask)]
    later = T0 + timedelta(days=1)
    with store.transaction() as tx:
        result = tx.ingest_readings(changed_blocks, received_at=later)
    assert result.versioned == len(changed_keys)
    assert result.unchanged == sum(len(b) for b in sent) - len(changed_keys)
    with store.snapshot() as snap:
        for block, row in changed_keys[:5]:
            assert block.meter is not None
            at = datetime.fromtimestamp(int(block.timestamps[row]), UTC)
            versions = snap.reading_versions(str(block.meter.mrid), block.reading_type, at)
            assert len(versions) == 2
            assert versions[0].value == block.values[row]
            assert versions[0].qualities == block.qualities_at(row)
            assert versions[0].superseded_at == later
            assert versions[1].value in (1e6, 2e6)
            assert versions[1].superseded_at is None
