"""Digest 4.3: on-demand read, asynchronous. The head-end accepts at once (PARTIAL: it names
the device it does not know), reads at its next tick and sends the result to the MDM's
ReplyAddress with the CorrelationID; the MDM stores it and acknowledges."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.envelope import ReplyResult, ResponseMessage
from cimmeter.store.records import MessageDirection
from tests.service.sequences.conftest import FWD_REG, MDM_REPLIES, System


def test_on_demand_read_async(system: System) -> None:
    a, b = system.meter(system.electric()), system.meter(system.electric(skip=1))
    unknown = "00000000-0000-4000-8000-00000000abcd"
    request = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx, now, meters=[a, b, unknown], reading_types=[FWD_REG]
        )
    )
    correlation = request.correlation_id
    assert system.flow() == [
        ("mdm", "headend", "get", "MeterReadings"),
        ("headend", "mdm", "reply", "MeterReadings"),
    ]
    get, ack = system.exchanged()
    header = get.message.header  # type: ignore[attr-defined]
    assert (header.async_reply_flag, header.reply_address) == (True, MDM_REPLIES)
    assert ack.correlation_id == correlation
    acknowledgement = ack.message
    assert isinstance(acknowledgement, ResponseMessage)
    assert acknowledgement.payload is None
    assert acknowledgement.reply.result is ReplyResult.PARTIAL
    assert [e.id.value for e in acknowledgement.reply.errors if e.id] == [unknown]
    assert system.mdm_readings(a, FWD_REG) == []  # nothing read yet

    mark = system.exchange.mark()
    system.tick(timedelta(seconds=30))
    result = system.exchange.find(since=mark, sender="headend", receiver="mdm")
    (delivered,) = [e for e in result if e.destination == MDM_REPLIES]
    assert (delivered.verb, delivered.noun, delivered.correlation_id) == (
        "reply",
        "MeterReadings",
        correlation,
    )
    answer = delivered.message
    assert isinstance(answer, ResponseMessage)
    assert answer.reply.result is ReplyResult.OK
    assert delivered.result == "OK"  # the MDM's acknowledgement
    read_at = int(system.clock.now().timestamp())
    for m in (a, b):
        (block,) = system.mdm_readings(m, FWD_REG)
        assert block.timestamps.tolist() == [read_at]
    with system.mdm_store.snapshot() as reader:
        (logged,) = [
            e
            for e in reader.find_by_correlation(correlation or "")
            if e.direction is MessageDirection.OUTBOUND
        ]
    assert logged.status == "OK"  # the result closed the request
    with system.he_store.snapshot() as reader:
        assert reader.pending_outbox() == []
        assert (
            reader.due_jobs(system.clock.now() + timedelta(days=1), limit=100)[0].kind
            == "headend-events"
        )
