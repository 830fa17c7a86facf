"""The MDM receiving readings (digest 4.1, 4.3) and answering `get MeterReadings` (3.2, 4.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.message.envelope import (
    ID,
    EventMessage,
    Header,
    IDKind,
    Option,
    Payload,
    Reply,
    ReplyResult,
    Request,
    RequestMessage,
    ResponseMessage,
    read_xml,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.common import DateTimeInterval, EndDeviceGroup
from cimmeter.model.end_device_events import EndDeviceEvent
from cimmeter.model.get_meter_readings import (
    EndDevice,
    GetMeterReadings,
    ReadingQuality,
    ReadingQualityType,
    ReadingType,
    UsagePoint,
)
from cimmeter.model.get_meter_readings import Reading as QueryReading
from cimmeter.model.meter_readings import (
    Meter,
    MeterReading,
    MeterReadings,
    Reading,
    blocks_to_meter_readings,
)
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.store.base import EventQuery, ReadingQuery, Store
from cimmeter.store.records import MessageDirection, ObjectKind
from tests.service.conftest import T0, Ids, errors_of
from tests.service.helpers import (
    REG,
    RT,
    RT2,
    add_group,
    add_meter,
    block,
    epoch,
    quarter_hours,
    readings_bytes,
    stored_values,
)


@pytest.fixture
def mdm(ids: Ids) -> MdmService:
    config = ServiceConfig(role="mdm", source="MDM", reply_address="http://127.0.0.1:8000/mdm")
    return MdmService(config, new_id=ids)


@pytest.fixture
def meters(store: Store) -> Store:
    add_meter(store, "m-1", name="SN-1", up="up-1")
    add_meter(store, "m-2", up="up-2")
    return store


def published(result: object) -> list[tuple[str, str]]:
    return [(o.destination, o.verb) for o in result.outgoing]


# -- receiving ----------------------------------------------------------------------------------


def test_created_readings_are_stored_attributed_and_published(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    body = readings_bytes([block("m-1", [1.0, 2.0, 3.0]), block("m-2", [4.0, 5.0])])
    result = mdm.handle(body, meters, clock)
    assert result.result is ReplyResult.OK
    assert errors_of(result) == [("0.0", "INFORM")]
    assert stored_values(meters, "m-1") == list(zip(quarter_hours(3), [1.0, 2.0, 3.0], strict=True))
    with meters.snapshot() as reader:
        (by_up,) = reader.read_readings(ReadingQuery(usage_points=["up-2"]))
    assert by_up.values.tolist() == [4.0, 5.0]
    assert published(result) == [("topic:created.MeterReadings", "created")]
    event = result.outgoing[0].message
    assert isinstance(event, EventMessage) and event.header.source == "MDM"
    assert isinstance(event.document, MeterReadings)
    assert [
        len(mr.interval_blocks[0].interval_readings) for mr in event.document.meter_reading
    ] == [3, 2]


def test_the_typed_model_path_stores_the_same(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    document = blocks_to_meter_readings([block("m-1", [1.5, 2.5])])
    message = EventMessage(
        header=Header(verb=Verb.created, noun="MeterReadings", message_id="x-1", source="HES"),
        payload=Payload(document=document),
    )
    result = mdm.handle(message, meters, clock)
    assert result.result is ReplyResult.OK
    assert stored_values(meters, "m-1") == list(zip(quarter_hours(2), [1.5, 2.5], strict=True))


def test_an_unknown_meter_fails_its_meter_reading_and_the_rest_is_stored(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    body = readings_bytes(
        [
            block("m-1", [1.0, 2.0]),
            block("nobody", [7.0, 8.0, 9.0]),
            block("nobody", [7.0], reading_type=RT2),
        ]
    )
    result = mdm.handle(body, meters, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert (error.code, error.level.value if error.level else None) == ("2.2", "FATAL")
    assert error.details is not None and error.details.startswith("/MeterReadings/MeterReading[2]")
    assert "2 items, 4 readings" in error.details
    assert error.id is not None and (error.id.value, error.id.object_type) == ("nobody", "Meter")
    assert stored_values(meters, "m-1") == list(zip(quarter_hours(2), [1.0, 2.0], strict=True))
    event = result.outgoing[0].message
    assert isinstance(event.document, MeterReadings)
    assert [mr.meter.mrid for mr in event.document.meter_reading if mr.meter] == ["m-1"]


def test_a_bad_value_fails_that_reading_only(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    body = readings_bytes([block("m-1", [1.0, 2.0, 3.0])]).replace(b">2.0<", b">two<")
    result = mdm.handle(body, meters, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert error.code == "2.9"
    assert error.details is not None and "IntervalReadings[2]" in error.details
    assert [v for _, v in stored_values(meters, "m-1")] == [1.0, 3.0]


def test_a_retry_stores_nothing_twice_and_a_replay_with_a_new_id_changes_nothing(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    body = readings_bytes([block("m-1", [1.0, 2.0])])
    first = mdm.handle(body, meters, clock)
    again = mdm.handle(body, meters, clock)
    assert again.duplicate and again.reply_xml == first.reply_xml and again.outgoing == ()
    replay = mdm.handle(
        readings_bytes([block("m-1", [1.0, 2.0])], message_id="mr-2"), meters, clock
    )
    assert replay.result is ReplyResult.OK and not replay.duplicate
    assert replay.outgoing == ()  # nothing changed: nothing to publish
    with meters.snapshot() as reader:
        versions = reader.reading_versions("m-1", RT, T0 + timedelta(minutes=15))
    assert len(versions) == 1


def test_a_changed_value_is_versioned_and_published_as_changed(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    mdm.handle(readings_bytes([block("m-1", [1.0, 2.0])]), meters, clock)
    result = mdm.handle(
        readings_bytes([block("m-1", [1.0, 2.5])], verb="changed", message_id="mr-2"), meters, clock
    )
    assert result.result is ReplyResult.OK
    assert published(result) == [("topic:changed.MeterReadings", "changed")]
    with meters.snapshot() as reader:
        versions = reader.reading_versions("m-1", RT, T0 + timedelta(minutes=30))
    assert [v.value for v in versions] == [2.0, 2.5]


def test_small_batches_give_the_same_result(store: Store, clock: ManualClock, ids: Ids) -> None:
    add_meter(store, "m-1", up="up-1")
    config = ServiceConfig(
        role="mdm", source="MDM", ingest_batch_blocks=1, max_readings_per_event=2
    )
    mdm = MdmService(config, new_id=ids)
    add_meter(store, "m-2", up="up-2")
    body = readings_bytes([block("m-1", [1.0, 2.0, 3.0]), block("m-2", [4.0], reading_type=RT2)])
    result = mdm.handle(body, store, clock)
    assert result.result is ReplyResult.OK
    assert [v for _, v in stored_values(store, "m-1")] == [1.0, 2.0, 3.0]
    # two ingest batches (one per MeterReading); the first event is split (at most 2 readings)
    sizes = [
        sum(
            len(ib.interval_readings)
            for mr in o.message.document.meter_reading
            for ib in mr.interval_blocks
        )
        for o in result.outgoing
    ]
    assert sizes == [2, 1, 1]


def test_manual_reads_by_create_and_meter_names(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    document = MeterReadings(
        meter_reading=(
            MeterReading(
                meter=Meter(names=({"name": "SN-1"},)),
                readings=(
                    Reading(time_stamp=T0, value="12345.6", reading_type=REG, source="manual"),
                ),
            ),
        )
    )
    message = RequestMessage(
        header=Header(verb=Verb.create, noun="MeterReadings", message_id="wm-1", source="WMS"),
        payload=Payload(document=document),
    )
    result = mdm.handle(message, meters, clock)
    assert result.result is ReplyResult.OK
    with meters.snapshot() as reader:
        (stored,) = reader.read_readings(ReadingQuery(meters=["m-1"], reading_types=[REG]))
    assert (stored.kind, stored.values.tolist(), stored.timestamps.tolist()) == (
        "register",
        [12345.6],
        [epoch(T0)],
    )


def test_events_inside_meter_readings_are_stored(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    document = blocks_to_meter_readings([block("m-1", [1.0])])
    with_event = document.meter_reading[0].model_copy(
        update={
            "end_device_events": (
                EndDeviceEvent(mrid="e-1", created_date_time=T0, end_device_event_type="3.26.0.85"),
            )
        }
    )
    message = EventMessage(
        header=Header(verb=Verb.created, noun="MeterReadings", message_id="x-2", source="HES"),
        payload=Payload(document=MeterReadings(meter_reading=(with_event,))),
    )
    result = mdm.handle(message, meters, clock)
    assert result.result is ReplyResult.OK
    with meters.snapshot() as reader:
        (event,) = reader.query_events(EventQuery(devices=["m-1"]))
    assert (event.mrid, event.type_code, event.usage_point_mrid) == ("e-1", "3.26.0.85", "up-1")
    # the same event through the streaming path, as bytes, is the same event
    again = mdm.handle(
        message.model_copy(
            update={"header": message.header.model_copy(update={"message_id": "x-3"})}
        ),
        meters,
        clock,
    )
    assert again.result is ReplyResult.OK


def test_the_result_of_our_read_is_stored_and_closes_the_request(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    with meters.transaction() as tx:
        request = mdm.request_read(
            tx, T0, meters=["m-1"], reading_types=[RT], start=T0, end=T0 + timedelta(hours=1)
        )
    sent = request.message
    assert isinstance(sent, RequestMessage) and sent.header.async_reply_flag
    assert sent.header.reply_address == "http://127.0.0.1:8000/mdm"
    assert request.destination == "headend" and request.correlation_id
    query = sent.request.query if sent.request else None
    assert isinstance(query, GetMeterReadings) and query.end_device[0].mrid == "m-1"
    # the head-end answers with verb `reply` (Connexo) through the created operation
    body = readings_bytes(
        [block("m-1", [9.0])], verb="reply", message_id=None, correlation_id=request.correlation_id
    )
    result = mdm.handle(body, meters, clock)
    assert result.result is ReplyResult.OK
    assert stored_values(meters, "m-1") == [(quarter_hours(1)[0], 9.0)]
    with meters.snapshot() as reader:
        (entry,) = reader.find_by_correlation(
            request.correlation_id or "", direction=MessageDirection.OUTBOUND.value
        )
    assert entry.status == "OK"


def test_a_failed_result_without_readings_is_acknowledged(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    with meters.transaction() as tx:
        request = mdm.request_read(tx, T0, meters=["m-1"])
    response = ResponseMessage(
        header=Header(verb=Verb.reply, noun="MeterReadings", correlation_id=request.correlation_id),
        reply=Reply(result=ReplyResult.FAILED),
    )
    result = mdm.handle(response, meters, clock)
    assert result.result is ReplyResult.OK
    with meters.snapshot() as reader:
        (entry,) = reader.find_by_correlation(request.correlation_id or "", direction="out")
    assert entry.status == "FAILED"


def test_expired_requests_are_marked_by_tick(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    with meters.transaction() as tx:
        request = mdm.request_read(tx, T0, meters=["m-1"], timeout=timedelta(minutes=10))
    assert mdm.tick(T0 + timedelta(minutes=5), meters) == []
    mdm.tick(T0 + timedelta(minutes=11), meters)
    with meters.snapshot() as reader:
        (entry,) = reader.find_by_correlation(request.correlation_id or "", direction="out")
    assert entry.status == "expired"


# -- get MeterReadings --------------------------------------------------------------------------


_GETS = iter(range(1, 1_000_000))


def get(query: GetMeterReadings | None = None, **request: object) -> RequestMessage:
    message_id = f"g-{next(_GETS)}"
    return RequestMessage(
        header=Header(verb=Verb.get, noun="MeterReadings", message_id=message_id, source="CIS"),
        request=Request(query=query, **request),
    )


def period(start_minutes: int, end_minutes: int) -> tuple[QueryReading]:
    interval = DateTimeInterval(
        start=T0 + timedelta(minutes=start_minutes), end=T0 + timedelta(minutes=end_minutes)
    )
    return (QueryReading(time_period=interval),)


@pytest.fixture
def stored(mdm: MdmService, meters: Store, clock: ManualClock) -> Store:
    body = readings_bytes(
        [
            block("m-1", [1.0, 2.0, 3.0, 4.0]),
            block("m-1", [0.5, 0.5, 0.5, 0.5], reading_type=RT2),
            block("m-2", [10.0, 20.0, 30.0, 40.0], qualities=[[], ["3.8.0"], [], ["3.8.0"]]),
        ]
    )
    assert mdm.handle(body, meters, clock).result is ReplyResult.OK
    return meters


def values_of(result: object) -> dict[tuple[str | None, str | None], list[float]]:
    reply = result.reply
    assert isinstance(reply, ResponseMessage)
    document = reply.document
    assert isinstance(document, MeterReadings)
    found: dict[tuple[str | None, str | None], list[float]] = {}
    for mr in document.meter_reading:
        for ib in mr.interval_blocks:
            key = (
                mr.meter.mrid if mr.meter else None,
                ib.reading_type.ref if ib.reading_type else None,
            )
            found[key] = [float(r.value) for r in ib.interval_readings if r.value is not None]
    return found


def test_get_by_meter_and_half_open_reading_period(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    # (15, 45]: the readings ending at 30 and 45 minutes
    query = GetMeterReadings(
        end_device=(EndDevice(mrid="m-1"),),
        reading=period(15, 45),
        reading_type=(ReadingType(mrid=RT),),
    )
    result = mdm.handle(get(query), stored, clock)
    assert result.result is ReplyResult.OK
    assert values_of(result) == {("m-1", RT): [2.0, 3.0]}
    assert result.reply.header.verb is Verb.reply
    assert result.reply.header.correlation_id.startswith("g-")


def test_the_reply_xml_written_from_columns_is_the_reply_model(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    query = GetMeterReadings(
        end_device=(EndDevice(mrid="m-1"), EndDevice(mrid="m-2")), reading=period(0, 60)
    )
    message = get(query)
    result = mdm.handle(message, stored, clock)
    assert result.columnar  # the Payload was written from the arrays, no model yet
    assert result.result is ReplyResult.OK
    written = read_xml(result.reply_xml).message
    assert isinstance(written, ResponseMessage)
    assert written == result.reply  # building the model lazily gives what was written
    assert not result.columnar
    assert values_of(result)[("m-2", RT)] == [10.0, 20.0, 30.0, 40.0]
    # the stored reply answers a retry, byte for byte
    again = mdm.handle(message, stored, clock)
    assert again.duplicate
    assert again.reply_xml == result.reply_xml


def test_get_answers_vee_values_where_vee_ran_and_raw_elsewhere(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    # VEE replaced the second reading of m-1 with an estimate (final series, its quality)
    with stored.transaction() as tx:
        tx.ingest_readings(
            [block("m-1", [1.0, 2.5], qualities=[[], ["3.8.1"]])],
            received_at=clock.now(),
            series="final",
        )
    query = GetMeterReadings(
        end_device=(EndDevice(mrid="m-1"),),
        reading=period(0, 60),
        reading_type=(ReadingType(mrid=RT),),
    )
    default = mdm.handle(get(query), stored, clock)
    assert values_of(default) == {("m-1", RT): [1.0, 2.5, 3.0, 4.0]}  # best: final, then raw
    readings = default.reply.document.meter_reading[0].interval_blocks[0].interval_readings
    assert [[q.reading_quality_type.ref for q in r.reading_qualities] for r in readings] == [
        [],
        ["3.8.1"],
        [],
        [],
    ]
    raw = mdm.handle(get(query, options=(Option(name="series", value="raw"),)), stored, clock)
    assert values_of(raw) == {("m-1", RT): [1.0, 2.0, 3.0, 4.0]}
    final = mdm.handle(get(query, options=(Option(name="series", value="final"),)), stored, clock)
    assert values_of(final) == {("m-1", RT): [1.0, 2.5]}


def test_get_by_usage_point_name_of_meter_and_request_times(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    query = GetMeterReadings(usage_point=(UsagePoint(mrid="up-2"),))
    result = mdm.handle(get(query, start_time=T0, end_time=T0 + timedelta(hours=2)), stored, clock)
    assert values_of(result) == {("m-2", RT): [10.0, 20.0, 30.0, 40.0]}
    by_name = GetMeterReadings(end_device=(EndDevice(names=({"name": "SN-1"},)),))
    result = mdm.handle(
        get(by_name, start_time=T0, end_time=T0 + timedelta(hours=2)), stored, clock
    )
    assert set(values_of(result)) == {("m-1", RT), ("m-1", RT2)}


def test_reading_period_wins_over_request_times(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    query = GetMeterReadings(end_device=(EndDevice(mrid="m-2"),), reading=period(0, 15))
    result = mdm.handle(get(query, start_time=T0, end_time=T0 + timedelta(hours=2)), stored, clock)
    assert values_of(result) == {("m-2", RT): [10.0]}


def test_get_by_group_and_quality(mdm: MdmService, stored: Store, clock: ManualClock) -> None:
    add_group(stored, ObjectKind.END_DEVICE_GROUP, "g-all", ["m-1", "m-2"])
    query = GetMeterReadings(
        end_device_group=(EndDeviceGroup(mrid="g-all"),),
        reading=period(0, 60),
        reading_quality=(ReadingQuality(reading_quality_type=ReadingQualityType(mrid="3.8")),),
    )
    result = mdm.handle(get(query), stored, clock)
    assert values_of(result) == {("m-2", RT): [20.0, 40.0]}


def test_request_ids_select_meters(mdm: MdmService, stored: Store, clock: ManualClock) -> None:
    message = get(
        GetMeterReadings(reading=period(0, 15), reading_type=(ReadingType(mrid=RT),)),
        ids=(ID(value="m-2", kind=IDKind.uuid), ID(value="SN-1", kind=IDKind.name)),
    )
    assert values_of(mdm.handle(message, stored, clock)) == {
        ("m-2", RT): [10.0],
        ("m-1", RT): [1.0],
    }


def test_an_unknown_meter_makes_a_partial_answer(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    query = GetMeterReadings(
        end_device=(EndDevice(mrid="m-1"), EndDevice(mrid="ghost")),
        reading=period(0, 15),
        reading_type=(ReadingType(mrid=RT),),
    )
    result = mdm.handle(get(query), stored, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert error.code == "2.2" and error.details == (
        "/GetMeterReadings/EndDevice[2]: no Meter or EndDevice with mRID ghost"
    )
    assert values_of(result) == {("m-1", RT): [1.0]}
    only_ghost = GetMeterReadings(end_device=(EndDevice(mrid="ghost"),))
    failed = mdm.handle(get(only_ghost), stored, clock)
    assert failed.result is ReplyResult.FAILED
    assert isinstance(failed.reply, ResponseMessage) and failed.reply.payload is None


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [(60, 30, "2.6"), (0, 60 * 24 * 500, "2.7")],
)
def test_reversed_or_too_long_ranges_are_refused(
    mdm: MdmService, stored: Store, clock: ManualClock, start: int, end: int, code: str
) -> None:
    query = GetMeterReadings(end_device=(EndDevice(mrid="m-1"),), reading=period(start, end))
    result = mdm.handle(get(query), stored, clock)
    assert result.result is ReplyResult.FAILED
    assert [e.code for e in result.reply.reply.errors] == [code]
    assert result.reply.reply.errors[0].details.startswith(
        "/GetMeterReadings/Reading[1]/timePeriod"
    )


def test_no_selector_and_a_bad_series_option_are_refused(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    result = mdm.handle(get(GetMeterReadings()), stored, clock)
    assert [e.code for e in result.reply.reply.errors] == ["2.1"]
    query = GetMeterReadings(end_device=(EndDevice(mrid="m-1"),))
    bad = mdm.handle(get(query, options=(Option(name="series", value="cooked"),)), stored, clock)
    assert bad.result is ReplyResult.FAILED
    assert "series='cooked'" in (bad.reply.reply.errors[0].details or "")


def test_large_answers_are_limited_and_say_where_they_stopped(
    stored: Store, clock: ManualClock, ids: Ids
) -> None:
    mdm = MdmService(ServiceConfig(role="mdm", source="MDM", max_readings_per_reply=5), new_id=ids)
    query = GetMeterReadings(
        end_device=(EndDevice(mrid="m-1"), EndDevice(mrid="m-2")), reading=period(0, 60)
    )
    result = mdm.handle(get(query), stored, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert (error.code, error.level.value if error.level else None) == ("2.11", "WARNING")
    assert "12 readings match; this reply holds the first 5" in (error.details or "")
    assert sum(len(v) for v in values_of(result).values()) == 5


def test_asynchronous_get_sends_the_answer_to_reply_address(
    mdm: MdmService, stored: Store, clock: ManualClock
) -> None:
    message = get(GetMeterReadings(end_device=(EndDevice(mrid="m-1"),), reading=period(0, 15)))
    message = message.model_copy(
        update={
            "header": message.header.model_copy(
                update={
                    "async_reply_flag": True,
                    "reply_address": "http://localhost:7000/cis",
                    "correlation_id": "c-9",
                }
            )
        }
    )
    result = mdm.handle(message, stored, clock)
    assert errors_of(result) == [("0.3", "INFORM")]
    (out,) = result.outgoing
    assert (out.destination, out.verb, out.correlation_id) == (
        "http://localhost:7000/cis",
        "reply",
        "c-9",
    )
    answer = read_xml(out.body).message
    assert isinstance(answer, ResponseMessage) and isinstance(answer.document, MeterReadings)
    assert len(answer.document.meter_reading) == 1


def test_readings_are_attributed_by_usage_point_history(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    """A reading after the meter left its usage point is not the usage point's."""
    from cimmeter.store.records import LinkageKind

    with meters.transaction() as tx:
        tx.close_linkage(LinkageKind.METER_USAGE_POINT, "m-1", "up-1", T0 + timedelta(minutes=30))
    mdm.handle(readings_bytes([block("m-1", [1.0, 2.0, 3.0])]), meters, clock)
    query = GetMeterReadings(usage_point=(UsagePoint(mrid="up-1"),), reading=period(0, 60))
    assert values_of(mdm.handle(get(query), meters, clock)) == {("m-1", RT): [1.0, 2.0]}


def test_a_document_broken_midway_stores_nothing_and_gets_a_fault(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    body = readings_bytes([block("m-1", [1.0, 2.0]), block("m-2", [3.0])])
    broken = body[: body.index(b"<m:Meter><m:mRID>m-2")]
    result = mdm.handle(broken, meters, clock)
    assert result.fault and result.reply.reply.errors[0].code == "1.1"
    assert stored_values(meters, "m-1") == []
    with meters.snapshot() as reader:
        assert reader.pending_outbox() == []
        assert reader.find_message("HES", "mr-1") is None


def test_a_timestamp_without_zone_fails_that_reading(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    body = readings_bytes([block("m-1", [1.0, 2.0])]).replace(
        b"2026-03-01T00:30:00Z", b"2026-03-01T00:30:00"
    )
    result = mdm.handle(body, meters, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert error.code == "2.10"
    assert "IntervalReadings[2]" in (error.details or "")
    assert [v for _, v in stored_values(meters, "m-1")] == [1.0]
