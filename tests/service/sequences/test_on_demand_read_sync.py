"""Digest 4.2: on-demand read, synchronous. The MDM reads a meter live through the head-end
while the call is open, stores the values, then answers a CIS from stored data."""

from __future__ import annotations

from cimmeter.message.envelope import ReplyResult
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.store.records import MessageDirection
from tests.service.sequences.conftest import FWD_REG, System


def test_on_demand_read_sync(system: System) -> None:
    m = system.meter(system.electric())
    unknown = "00000000-0000-4000-8000-00000000abcd"
    request = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx, now, meters=[m, unknown], reading_types=[FWD_REG], asynchronous=False
        )
    )
    correlation = request.correlation_id
    assert system.flow() == [
        ("mdm", "headend", "get", "MeterReadings"),
        ("headend", "mdm", "reply", "MeterReadings"),
        ("mdm", "sink:cis", "created", "MeterReadings"),
    ]
    get, reply, _ = system.exchanged()
    assert get.correlation_id == reply.correlation_id == correlation
    assert get.message.header.async_reply_flag is None  # type: ignore[attr-defined]
    assert reply.message.reply.result is ReplyResult.PARTIAL  # type: ignore[attr-defined]
    errors = reply.message.reply.errors  # type: ignore[attr-defined]
    assert [(e.reason, e.id.value) for e in errors if e.id] == [("device not found", unknown)]
    assert reply.result == "OK"  # the MDM stored what came
    # MDM store: the live register value, at the time of the read
    (block,) = system.mdm_readings(m, FWD_REG)
    assert block.timestamps.tolist() == [int(system.clock.now().timestamp())]
    assert block.values[0] > 0
    with system.mdm_store.snapshot() as reader:
        (logged,) = [
            e
            for e in reader.find_by_correlation(correlation or "")
            if e.direction is MessageDirection.OUTBOUND
        ]
    assert logged.status == "PARTIAL"
    # head-end store: the request and its reply logged, nothing else kept
    with system.he_store.snapshot() as reader:
        (entry,) = reader.find_by_correlation(correlation or "")
        assert (entry.verb, entry.status) == ("get", "PARTIAL")
        assert reader.pending_outbox() == []
    # step 2: the CIS asks the MDM, which answers from the stored value
    query = GetMeterReadings.model_validate(
        {"EndDevice": [{"mRID": m}], "ReadingType": [{"mRID": FWD_REG}]}
    )
    answer = system.cis_get("MeterReadings", query)
    assert answer.result is ReplyResult.OK
    assert str(block.values[0])[:6] in answer.reply_xml.decode()
