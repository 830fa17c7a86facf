"""Digest 4.4: bulk / historical reads. The MDM asks for two days of interval data of the whole
fleet asynchronously; the head-end answers in several parts with the same CorrelationID (0.1
more follow, 0.2 last); the MDM stores every part (an idempotent upsert, so a part sent twice
changes nothing)."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.envelope import ResponseMessage
from cimmeter.service.headend import HeadEndOptions
from cimmeter.store.base import ReadingQuery, Store
from tests.service.conftest import T0
from tests.service.sequences.conftest import FWD, MDM_REPLIES, build_system


def test_bulk_historical_reads(stores: tuple[Store, Store]) -> None:
    system = build_system(stores, options=HeadEndOptions(max_readings_per_part=500))
    fleet = system.sim.fleet
    meters = [system.meter(i) for i in range(fleet.n)]
    start, end = T0 - timedelta(days=2), T0
    request = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx, now, meters=meters, reading_types=[FWD], start=start, end=end
        )
    )
    system.tick(timedelta(minutes=1))
    parts = system.exchanged(sender="headend", receiver="mdm", noun="MeterReadings")
    results = [p for p in parts if p.destination == MDM_REPLIES]
    assert len(results) == 6  # whole MeterReadings of 192 readings, at most 500 a part
    assert {p.correlation_id for p in parts} == {request.correlation_id}
    codes = []
    for part in results:
        message = part.message
        assert isinstance(message, ResponseMessage)
        codes.append([e.code for e in message.reply.errors])
        assert part.result == "OK"
    assert codes[:-1] == [["0.1"]] * (len(results) - 1)
    assert codes[-1] == ["0.2"]
    # MDM store: 2 days x 96 intervals for each meter, attributed to its usage point
    with system.mdm_store.snapshot() as reader:
        blocks = list(
            reader.read_readings(
                ReadingQuery(meters=meters, reading_types=[FWD], start=start, end=end)
            )
        )
        by_point = list(
            reader.read_readings(
                ReadingQuery(usage_points=[system.usage_point(0)], reading_types=[FWD])
            )
        )
    assert sum(len(b) for b in blocks) == fleet.n * 192
    assert sum(len(b) for b in by_point) == 192
    # a part delivered again (a transport retry) stores nothing twice
    again = system.exchange.peers["mdm"].core.handle(
        results[0].body, system.mdm_store, system.clock
    )
    assert again.duplicate
