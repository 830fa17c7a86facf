"""VEE after ingest: the MDM schedules a `vee.run` job when it stores readings; `tick` runs it
in its own transaction, later, and the final series appears."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.service.mdm_readings import VEE_JOB
from cimmeter.store.base import ReadingQuery, Store
from tests.service.conftest import T0, Ids
from tests.service.helpers import add_meter, block, readings_bytes


def service(after_ingest: bool) -> MdmService:
    config = ServiceConfig(role="mdm", source="MDM", vee_after_ingest=after_ingest)
    return MdmService(config, new_id=Ids())


def final(store: Store) -> list[float]:
    with store.snapshot() as reader:
        blocks = list(reader.read_readings(ReadingQuery(meters=["m-1"], series="final")))
    return [v for b in blocks for v in b.values.tolist()]


def values() -> list[float]:
    vs = [0.4 + 0.01 * (i % 7) for i in range(48)]
    vs[20] = 30.0  # a spike
    return vs


def test_ingest_schedules_vee_and_tick_runs_it(store: Store) -> None:
    add_meter(store, "m-1", up="up-1")
    mdm, clock = service(True), ManualClock(T0 + timedelta(days=1))
    result = mdm.handle(readings_bytes([block("m-1", values())]), store, clock)
    assert result.result.value == "OK"
    assert final(store) == []  # not in the ingest transaction
    with store.snapshot() as reader:
        (job,) = [j for j in reader.due_jobs(clock.now() + timedelta(hours=1)) if j.kind == VEE_JOB]
    assert job.payload["meters"] == ["m-1"]
    mdm.tick(clock.now() + timedelta(minutes=1), store)
    got = final(store)
    assert len(got) == 48 and got[20] < 1.0  # the spike is estimated in the final series
    with store.snapshot() as reader:
        assert not [
            j for j in reader.due_jobs(clock.now() + timedelta(hours=1)) if j.kind == VEE_JOB
        ]
        assert {f.rule for f in reader.vee_findings(meters=["m-1"])} >= {"spike"}


def test_no_job_unless_configured(store: Store) -> None:
    add_meter(store, "m-1", up="up-1")
    mdm, clock = service(False), ManualClock(T0 + timedelta(days=1))
    mdm.handle(readings_bytes([block("m-1", values())]), store, clock)
    with store.snapshot() as reader:
        assert not [
            j for j in reader.due_jobs(clock.now() + timedelta(days=1)) if j.kind == VEE_JOB
        ]


def test_get_meter_readings_returns_the_final_series_with_its_qualities(store: Store) -> None:
    from cimmeter.message.envelope import Header, Option, Request, RequestMessage
    from cimmeter.message.verbs import Verb
    from cimmeter.model.get_meter_readings import EndDevice, GetMeterReadings
    from cimmeter.model.meter_readings import MeterReadings

    add_meter(store, "m-1", up="up-1")
    mdm, clock = service(True), ManualClock(T0 + timedelta(days=1))
    mdm.handle(readings_bytes([block("m-1", values())]), store, clock)
    mdm.tick(clock.now() + timedelta(minutes=1), store)

    def get(series: str) -> MeterReadings:
        query = GetMeterReadings(end_device=(EndDevice(mrid="m-1"),))
        message = RequestMessage(
            header=Header(
                verb=Verb.get, noun="MeterReadings", message_id=f"g-{series}", source="CIS"
            ),
            request=Request(query=query, options=(Option(name="series", value=series),)),
        )
        document = mdm.handle(message, store, clock).reply.payload.document
        assert isinstance(document, MeterReadings)
        return document

    def by_value(document: MeterReadings) -> list[tuple[float, tuple[str, ...]]]:
        (reading,) = document.meter_reading
        return [
            (float(r.value or 0), tuple(q.reading_quality_type.ref for q in r.reading_qualities))
            for r in reading.interval_blocks[0].interval_readings
        ]

    final, raw = by_value(get("final")), by_value(get("raw"))
    assert raw[20] == (30.0, ())
    assert final[20][0] < 1.0 and {"3.5.256", "3.8.0"} <= set(final[20][1])
    assert final[0][1] == ("3.0.1",)


def test_serve_vee_turns_on_vee_after_ingest() -> None:
    from cimmeter.runtime.app import Role as ServeRole
    from cimmeter.runtime.app import ServeOptions, _config

    on = _config(ServeRole.MDM, ServeOptions(vee=True))
    off = _config(ServeRole.MDM, ServeOptions())
    assert on.vee_after_ingest and not off.vee_after_ingest
    # get MeterReadings answers the best series either way: VEE's final values where it ran,
    # the raw ones where it has not (yet)
    assert on.default_series == off.default_series == "best"
