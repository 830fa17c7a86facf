"""The pipeline of `ServiceCore.handle` on a real store, with a small test role.

What is checked: Result from per-item outcomes, idempotency by (Source, MessageID) and its
fallbacks, unsupported operations, the ReplyAddress allowlist and asynchronous results, one
transaction per message (data + log + outbox, or nothing), faults only for undispatchable
input, correlation of responses to our own requests, and `tick`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cimmeter.message.envelope import (
    EventMessage,
    FaultMessage,
    Header,
    Payload,
    Reply,
    ReplyResult,
    Request,
    RequestMessage,
    ResponseMessage,
    write_xml,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.end_device_events import EndDeviceEvent, EndDeviceEvents
from cimmeter.model.get_meter_readings import EndDevice, GetMeterReadings
from cimmeter.model.meter_readings import MeterReadings
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import (
    Handled,
    HandlerContext,
    HandlerSpec,
    HandlerTable,
    JobContext,
    Role,
    ServiceCore,
    send_request,
)
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.store.base import Store
from cimmeter.store.records import Job, MasterObject, MessageDirection, ObjectKind
from tests.service.conftest import T0, Ids, errors_of

CALLS: list[str] = []


def _store_events(ctx: HandlerContext) -> Handled:
    document = ctx.inbound.document
    assert isinstance(document, EndDeviceEvents)
    for n, event in enumerate(document.end_device_event, start=1):
        mrid = event.mrid or ""
        CALLS.append(mrid)
        path = f"/EndDeviceEvents/EndDeviceEvent[{n}]"
        if mrid == "bad":
            ctx.fail(Problem.OBJECT_NOT_FOUND, "no such device", path=path, object_id=mrid)
            continue
        ctx.tx.put_object(MasterObject(ObjectKind.END_DEVICE, mrid, updated_at=ctx.now))
        if mrid == "boom":
            ctx.publish(Verb.created, document)
            raise RuntimeError("disk on fire")
        if mrid == "refuse":
            raise RequestFailed(ctx.error(Problem.INVALID_STATE, "refused after a write"))
        ctx.ok()
    ctx.publish(Verb.created, document)
    return Handled()


def _get_readings(ctx: HandlerContext) -> Handled:
    ctx.outcomes.ok()
    return Handled(payload=MeterReadings())


CORRELATED: list[Any] = []


def _events_reply(ctx: HandlerContext) -> Handled:
    CORRELATED.append(ctx.correlated)
    ctx.outcomes.ok()
    return Handled()


def _ping_job(ctx: JobContext) -> None:
    message = EventMessage(
        header=Header(verb=Verb.created, noun="EndDeviceEvents", message_id=ctx.new_id())
    )
    ctx.enqueue("topic:created.EndDeviceEvents", message)


ROLE = Role(
    name="mdm",
    title="Test MDM",
    handlers=HandlerTable(
        [
            HandlerSpec("EndDeviceEvents", "created", _store_events, "store events"),
            HandlerSpec("EndDeviceEvents", "closed", _store_events, "store events"),
            HandlerSpec("EndDeviceEvents", "reply", _events_reply, "results"),
            HandlerSpec("MeterReadings", "get", _get_readings, "answer", async_mode="inline"),
        ]
    ),
    jobs={"ping": _ping_job},
)


@pytest.fixture
def core(ids: Ids) -> ServiceCore:
    CALLS.clear()
    CORRELATED.clear()
    return ServiceCore(ServiceConfig(role="mdm", source="MDM"), ROLE, new_id=ids)


def events(
    *mrids: str,
    message_id: str | None = "msg-1",
    source: str | None = "HES",
    correlation_id: str | None = None,
    verb: Verb = Verb.created,
) -> EventMessage:
    document = EndDeviceEvents(
        end_device_event=tuple(
            EndDeviceEvent(mrid=m, created_date_time=T0, end_device_event_type="3.26.0.85")
            for m in mrids
        )
    )
    header = Header(
        verb=verb,
        noun="EndDeviceEvents",
        message_id=message_id,
        source=source,
        correlation_id=correlation_id,
        timestamp=T0,
    )
    return EventMessage(header=header, payload=Payload(document=document))


def get_readings(**header: Any) -> RequestMessage:
    query = GetMeterReadings(end_device=(EndDevice(mrid="m-1"),))
    return RequestMessage(
        header=Header(verb=Verb.get, noun="MeterReadings", **header),
        request=Request(query=query),
    )


def objects(store: Store) -> list[str]:
    with store.snapshot() as reader:
        return [o.mrid for o in reader.list_objects(ObjectKind.END_DEVICE)]


def outbox(store: Store) -> list[tuple[str, str, str]]:
    with store.snapshot() as reader:
        return [(m.destination, m.verb, m.noun) for m in reader.pending_outbox()]


# -- results and the log ------------------------------------------------------------------------


def test_ok_stores_logs_and_publishes_in_one_go(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    result = core.handle(events("d-1", "d-2"), store, clock)
    assert result.result is ReplyResult.OK
    assert errors_of(result) == [("0.0", "INFORM")]
    assert isinstance(result.reply, ResponseMessage)
    assert result.reply.header.verb is Verb.reply
    assert result.reply.header.correlation_id == "msg-1"
    assert objects(store) == ["d-1", "d-2"]
    assert [(o.destination, o.verb) for o in result.outgoing] == [
        ("topic:created.EndDeviceEvents", "created")
    ]
    assert outbox(store) == [("topic:created.EndDeviceEvents", "created", "EndDeviceEvents")]
    with store.snapshot() as reader:
        logged = reader.find_message("HES", "msg-1")
    assert logged is not None and logged.status == "OK" and logged.reply == result.reply_xml


def test_bad_items_make_a_partial_reply_and_good_ones_are_stored(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    result = core.handle(events("d-1", "bad", "d-3"), store, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert (error.code, error.details) == (
        "2.2",
        "/EndDeviceEvents/EndDeviceEvent[2]: no such device",
    )
    assert error.id is not None and error.id.value == "bad"
    assert objects(store) == ["d-1", "d-3"]
    only_bad = core.handle(events("bad", message_id="msg-2"), store, clock)
    assert only_bad.result is ReplyResult.FAILED


# -- idempotency --------------------------------------------------------------------------------


def test_a_retry_returns_the_stored_reply_byte_for_byte_and_applies_nothing(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    first = core.handle(events("d-1"), store, clock)
    clock.advance(timedelta(minutes=5))
    again = core.handle(events("d-1"), store, clock)
    assert again.duplicate and not first.duplicate
    assert again.reply_xml == first.reply_xml
    assert again.outgoing == ()
    assert CALLS == ["d-1"]
    assert outbox(store) == [("topic:created.EndDeviceEvents", "created", "EndDeviceEvents")]
    # the same message as bytes, in a typed SOAP form, is the same content
    as_bytes = core.handle(write_xml(events("d-1"), form="typed", soap_version="1.1"), store, clock)
    assert as_bytes.duplicate and as_bytes.reply_xml == first.reply_xml


def test_same_message_id_with_other_content_gets_the_stored_reply_and_a_warning(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    core.handle(events("d-1"), store, clock)
    other = core.handle(events("d-9"), store, clock)
    assert other.duplicate
    assert errors_of(other) == [("0.0", "INFORM"), ("1.5", "WARNING")]
    assert other.reply.reply.errors[-1].reason == "duplicate MessageID with different content"
    assert objects(store) == ["d-1"]


def test_the_key_includes_the_source(core: ServiceCore, store: Store, clock: ManualClock) -> None:
    core.handle(events("d-1", source="HES-A"), store, clock)
    second = core.handle(events("d-2", source="HES-B"), store, clock)
    assert not second.duplicate
    assert objects(store) == ["d-1", "d-2"]


def test_without_message_id_correlation_and_content_de_duplicate(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    first = core.handle(events("d-1", message_id=None, correlation_id="c-1"), store, clock)
    again = core.handle(events("d-1", message_id=None, correlation_id="c-1"), store, clock)
    assert again.duplicate and again.reply_xml == first.reply_xml
    # another part of a multi-part result with the same CorrelationID is new content
    part = core.handle(events("d-2", message_id=None, correlation_id="c-1"), store, clock)
    assert not part.duplicate
    assert objects(store) == ["d-1", "d-2"]


def test_without_any_id_nothing_is_de_duplicated_and_an_inform_says_so(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    first = core.handle(events("d-1", message_id=None), store, clock)
    assert ("1.6", "INFORM") in errors_of(first)
    assert first.result is ReplyResult.OK
    again = core.handle(events("d-1", message_id=None), store, clock)
    assert not again.duplicate and CALLS == ["d-1", "d-1"]


# -- unsupported operations ------------------------------------------------------------------


def test_unsupported_verb_gets_failed_naming_the_supported_verbs(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    result = core.handle(events("d-1", verb=Verb.deleted), store, clock)
    assert result.result is ReplyResult.FAILED
    (error,) = result.reply.reply.errors
    assert error.code == "1.3"
    assert error.details == (
        "/Header: the Test MDM does not accept deleted EndDeviceEvents; "
        "it accepts created, closed, reply EndDeviceEvents"
    )
    assert objects(store) == []
    again = core.handle(events("d-1", verb=Verb.deleted), store, clock)
    assert again.duplicate and again.reply_xml == result.reply_xml


def test_unsupported_noun_gets_failed_naming_the_supported_nouns(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    message = RequestMessage(
        header=Header(verb=Verb.create, noun="EndDeviceControls", message_id="x")
    )
    result = core.handle(message, store, clock)
    assert result.result is ReplyResult.FAILED
    assert result.reply.reply.errors[0].details == (
        "/Header: the Test MDM does not accept the noun EndDeviceControls; "
        "it accepts EndDeviceEvents, MeterReadings"
    )


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<RequestMessage", "1.1"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "1.1"),
        (b'<MeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadings#"/>', "1.2"),
        (
            b'<ResponseMessage xmlns="http://iec.ch/TC57/2011/schema/message"><Header>'
            b"<Noun>MeterReadings</Noun></Header></ResponseMessage>",
            "1.1",
        ),
    ],
)
def test_undispatchable_input_gets_a_fault_and_nothing_is_logged(
    core: ServiceCore, store: Store, clock: ManualClock, body: bytes, code: str
) -> None:
    result = core.handle(body, store, clock)
    assert result.fault and isinstance(result.reply, FaultMessage)
    assert result.reply.reply.result is ReplyResult.FAILED
    assert result.reply.reply.errors[0].code in ("1.1", "1.2")
    assert result.reply.reply.errors[0].details


# -- one transaction ---------------------------------------------------------------------------


def test_a_crash_mid_handler_commits_nothing_and_enqueues_nothing(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    result = core.handle(events("d-1", "boom"), store, clock)
    assert result.result is ReplyResult.FAILED
    assert errors_of(result) == [("3.1", "CATASTROPHIC")]
    assert result.outgoing == ()
    assert objects(store) == []
    assert outbox(store) == []
    with store.snapshot() as reader:
        assert reader.find_message("HES", "msg-1") is None
    # not logged: the retry is processed afresh (and fails again the same way)
    CALLS.clear()
    core.handle(events("d-1", "boom"), store, clock)
    assert CALLS == ["d-1", "boom"]


def test_request_failed_rolls_back_the_writes_and_logs_the_failure(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    result = core.handle(events("d-1", "refuse"), store, clock)
    assert result.result is ReplyResult.FAILED
    assert errors_of(result) == [("2.15", "FATAL")]
    assert objects(store) == []
    assert outbox(store) == []
    again = core.handle(events("d-1", "refuse"), store, clock)
    assert again.duplicate and again.reply_xml == result.reply_xml


# -- asynchronous requests and the allowlist ---------------------------------------------------


def test_async_request_is_acknowledged_and_the_result_goes_to_reply_address(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    message = get_readings(
        message_id="g-1",
        correlation_id="c-7",
        source="CIS",
        async_reply_flag=True,
        reply_address="http://127.0.0.1:9000/cis",
    )
    result = core.handle(message, store, clock)
    assert result.result is ReplyResult.OK
    assert errors_of(result) == [("0.3", "INFORM")]
    assert isinstance(result.reply, ResponseMessage) and result.reply.payload is None
    (out,) = result.outgoing
    assert (out.destination, out.verb, out.noun, out.correlation_id) == (
        "http://127.0.0.1:9000/cis",
        "reply",
        "MeterReadings",
        "c-7",
    )
    sent = out.message
    assert isinstance(sent, ResponseMessage)
    assert sent.reply.result is ReplyResult.OK
    assert isinstance(sent.document, MeterReadings)
    assert outbox(store) == [("http://127.0.0.1:9000/cis", "reply", "MeterReadings")]


def test_async_result_as_created_event_for_peers_configured_so(
    store: Store, clock: ManualClock, ids: Ids
) -> None:
    config = ServiceConfig(role="mdm", source="MDM", async_result_form={"CIS": "created"})
    core = ServiceCore(config, ROLE, new_id=ids)
    message = get_readings(
        message_id="g-1", source="CIS", async_reply_flag=True, reply_address="http://localhost/r"
    )
    (out,) = core.handle(message, store, clock).outgoing
    sent = out.message
    assert isinstance(sent, EventMessage)
    assert (sent.header.verb, sent.header.correlation_id) == (Verb.created, "g-1")
    assert sent.reply is not None and sent.reply.result is ReplyResult.OK


@pytest.mark.parametrize(
    ("address", "code"),
    [("http://cis.example.com/replies", "4.1"), (None, "1.4")],
)
def test_async_request_without_an_allowed_reply_address_fails(
    core: ServiceCore, store: Store, clock: ManualClock, address: str | None, code: str
) -> None:
    message = get_readings(message_id="g-2", async_reply_flag=True, reply_address=address)
    result = core.handle(message, store, clock)
    assert result.result is ReplyResult.FAILED
    assert [e.code for e in result.reply.reply.errors] == [code]
    assert result.outgoing == () and outbox(store) == []


def test_sync_request_with_an_unused_reply_address_is_answered_in_the_reply(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    result = core.handle(
        get_readings(message_id="g-3", reply_address="http://cis.example.com/x"), store, clock
    )
    assert result.result is ReplyResult.OK
    assert isinstance(result.reply, ResponseMessage)
    assert isinstance(result.reply.document, MeterReadings)
    assert result.outgoing == ()


# -- correlation of responses ------------------------------------------------------------------


def test_a_response_is_matched_to_our_request_and_its_result_recorded(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    request = RequestMessage(
        header=Header(
            verb=Verb.get,
            noun="EndDeviceEvents",
            message_id="q-1",
            correlation_id="q-1",
            source="MDM",
        )
    )
    with store.transaction() as tx:
        send_request(tx, "headend", request, T0)
    response = ResponseMessage(
        header=Header(
            verb=Verb.created, noun="EndDeviceEvents", correlation_id="q-1", source="HES"
        ),
        reply=Reply(result=ReplyResult.PARTIAL),
    )
    result = core.handle(response, store, clock)
    assert result.result is ReplyResult.OK
    (entry,) = CORRELATED
    assert entry is not None and entry.message_id == "q-1"
    with store.snapshot() as reader:
        (logged,) = reader.find_by_correlation("q-1", direction=MessageDirection.OUTBOUND.value)
        assert logged.status == "PARTIAL"
        assert [m.destination for m in reader.pending_outbox()] == ["headend"]


def test_an_unknown_correlation_is_processed_with_a_warning(
    core: ServiceCore, store: Store, clock: ManualClock
) -> None:
    response = ResponseMessage(
        header=Header(verb=Verb.reply, noun="EndDeviceEvents", correlation_id="nobody"),
        reply=Reply(result=ReplyResult.OK),
    )
    result = core.handle(response, store, clock)
    assert result.result is ReplyResult.OK
    assert ("2.14", "WARNING") in errors_of(result)
    assert CORRELATED == [None]


# -- tick ---------------------------------------------------------------------------------------


def test_tick_runs_due_jobs_once(core: ServiceCore, store: Store) -> None:
    with store.transaction() as tx:
        tx.schedule_job(Job("ping", T0 + timedelta(minutes=5)))
        tx.schedule_job(Job("ping", T0 + timedelta(hours=5)))
    assert core.tick(T0, store) == []
    (out,) = core.tick(T0 + timedelta(minutes=10), store)
    assert out.destination == "topic:created.EndDeviceEvents"
    assert core.tick(T0 + timedelta(minutes=20), store) == []
    assert len(core.tick(datetime(2026, 3, 2, tzinfo=UTC), store)) == 1


def test_errors_beyond_the_limit_are_summed_up(store: Store, clock: ManualClock, ids: Ids) -> None:
    core = ServiceCore(
        ServiceConfig(role="mdm", source="MDM", max_errors_per_reply=2), ROLE, new_id=ids
    )
    result = core.handle(events("bad", "bad", "bad", "d-1"), store, clock)
    assert result.result is ReplyResult.PARTIAL
    assert errors_of(result) == [("2.2", "FATAL"), ("2.2", "FATAL"), ("2.11", "WARNING")]
    assert "1 more errors are not listed" in (result.reply.reply.errors[-1].details or "")
