"""Digest 4.12: read schedule management. The MDM creates a schedule at the head-end, asks for
it back, changes its period, and cancels it: reads follow each version, and stop."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.envelope import (
    ID,
    Header,
    Payload,
    Request,
    RequestMessage,
    ResponseMessage,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.meter_read_schedule import MeterReadSchedule
from cimmeter.service.core import send_request
from cimmeter.store.records import ObjectKind
from tests.service.conftest import T0
from tests.service.sequences.conftest import FWD, System


def _schedule(meter: str, period: int) -> MeterReadSchedule:
    return MeterReadSchedule.model_validate(
        {
            "EndDevice": [{"mRID": meter}],
            "ReadingType": [{"mRID": FWD}],
            "TimeSchedule": [{"recurrencePeriod": period}],
        }
    )


def test_read_schedule_management(system: System) -> None:
    m = system.meter(system.electric())
    created = system.mdm_sends(
        lambda tx, now: system.mdm.sync_to_headend(tx, now, Verb.create, _schedule(m, 3600))
    )
    name = created.correlation_id or ""

    def ask(verb: Verb, document: MeterReadSchedule | None, suffix: str) -> None:
        # the MDM names the schedule in Request/ID (digest 4.12 step 3, 4.17 note 4)
        def build(tx, now):  # type: ignore[no-untyped-def]
            message = RequestMessage(
                header=Header(
                    verb=verb,
                    noun="MeterReadSchedule",
                    timestamp=now,
                    source="MDM-1",
                    message_id=f"{name}-{suffix}",
                    correlation_id=f"{name}-{suffix}",
                ),
                request=Request(ids=(ID(value=name),)),
                payload=None if document is None else Payload(document=document),
            )
            return send_request(tx, "headend", message, now)

        system.mdm_sends(build)

    ask(Verb.get, None, "get")
    get_reply = system.exchanged(verb="reply", noun="MeterReadSchedule")[-1].message
    assert isinstance(get_reply, ResponseMessage) and get_reply.payload is not None
    assert isinstance(get_reply.payload.document, MeterReadSchedule)

    system.tick(to=T0 + timedelta(hours=1, minutes=1))
    ask(Verb.change, _schedule(m, 7200), "change")
    system.exchange.run_until(T0 + timedelta(hours=4, minutes=1), timedelta(minutes=30))
    ask(Verb.cancel, None, "cancel")
    system.exchange.run_until(T0 + timedelta(hours=8), timedelta(hours=1))

    assert [
        (e.sender, e.verb, e.noun, e.result) for e in system.exchanged(noun="MeterReadSchedule")
    ] == [
        ("mdm", "create", "MeterReadSchedule", "OK"),
        ("headend", "reply", "MeterReadSchedule", "OK"),
        ("mdm", "get", "MeterReadSchedule", "OK"),
        ("headend", "reply", "MeterReadSchedule", "OK"),
        ("mdm", "change", "MeterReadSchedule", "OK"),
        ("headend", "reply", "MeterReadSchedule", "OK"),
        ("mdm", "cancel", "MeterReadSchedule", "OK"),
        ("headend", "reply", "MeterReadSchedule", "OK"),
    ]
    reads = system.exchanged(sender="headend", verb="created", noun="MeterReadings")
    # 01:00 (hourly), then 02:00 and 04:00 (every two hours), nothing after the cancel
    assert [e.at for e in reads] == [
        T0 + timedelta(hours=1, minutes=1),
        T0 + timedelta(hours=2, minutes=1),
        T0 + timedelta(hours=4, minutes=1),
    ]
    (block,) = system.mdm_readings(m, FWD)
    assert len(block) == 16  # 4 hours of 15-minute intervals, each read once
    with system.he_store.snapshot() as reader:
        history = reader.object_history(ObjectKind.READ_SCHEDULE, name)
        assert reader.get_object(ObjectKind.READ_SCHEDULE, name).deleted  # type: ignore[union-attr]
    assert len(history) >= 2
