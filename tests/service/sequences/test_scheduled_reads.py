"""Digest 4.1: scheduled (periodic) reads. The MDM gives the head-end an hourly schedule for
three meters; at each occurrence the head-end publishes `created MeterReadings` (the hour's
intervals), the MDM stores them, acknowledges, and passes them on to the CIS."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.verbs import Verb
from cimmeter.model.meter_read_schedule import MeterReadSchedule
from cimmeter.store.records import ObjectKind
from tests.service.conftest import T0
from tests.service.sequences.conftest import FWD, System


def test_scheduled_reads(system: System) -> None:
    meters = [system.meter(system.electric(skip=i)) for i in range(3)]
    schedule = MeterReadSchedule.model_validate(
        {
            "EndDevice": [{"mRID": m} for m in meters],
            "ReadingType": [{"mRID": FWD}],
            "TimeSchedule": [
                {"recurrencePeriod": 3600, "scheduleInterval": {"start": T0.isoformat()}}
            ],
        }
    )
    sync = system.mdm_sends(
        lambda tx, now: system.mdm.sync_to_headend(tx, now, Verb.create, schedule)
    )
    create, reply = system.exchanged()
    assert (create.verb, create.noun, reply.verb, reply.noun) == (
        "create",
        "MeterReadSchedule",
        "reply",
        "MeterReadSchedule",
    )
    assert reply.correlation_id == sync.correlation_id
    assert reply.message.reply.result.value == "OK"  # type: ignore[attr-defined]

    mark = system.exchange.mark()
    system.exchange.run_until(T0 + timedelta(hours=3, minutes=1), timedelta(minutes=15))
    published = system.exchange.find(
        since=mark, sender="headend", verb="created", noun="MeterReadings"
    )
    assert len(published) == 3  # 01:00, 02:00, 03:00
    assert all(p.result == "OK" and p.receiver == "mdm" for p in published)
    forwarded = system.exchange.find(
        since=mark, sender="mdm", receiver="sink:cis", noun="MeterReadings"
    )
    assert len(forwarded) == 3
    # MDM store: 3 hours of 15-minute data per meter, from the schedule's start
    for m in meters:
        (block,) = system.mdm_readings(m, FWD)
        assert len(block) == 12
        assert block.timestamps[0] == int((T0 + timedelta(minutes=15)).timestamp())
    # head-end store: the schedule, named by the request's CorrelationID, and its next run
    with system.he_store.snapshot() as reader:
        stored = reader.get_object(ObjectKind.READ_SCHEDULE, sync.correlation_id or "")
        jobs = [j for j in reader.due_jobs(T0 + timedelta(days=1)) if j.kind == "headend-schedule"]
    assert stored is not None and not stored.deleted
    assert [j.payload["at"] for j in jobs] == [(T0 + timedelta(hours=4)).isoformat()]
