"""The MDM and end device events (digest 4.5) and the controls it issues (digest 4.7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.message.envelope import (
    ID,
    Error,
    ErrorLevel,
    EventMessage,
    Header,
    IDKind,
    Payload,
    Reply,
    ReplyResult,
    Request,
    RequestMessage,
    ResponseMessage,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.end_device_controls import EndDeviceControls
from cimmeter.model.end_device_events import (
    Asset,
    EndDeviceEvent,
    EndDeviceEventDetail,
    EndDeviceEvents,
    UsagePoint,
)
from cimmeter.model.get_end_device_events import (
    EndDeviceEventType,
    GetEndDeviceEvents,
    Meter,
    TimeSchedule,
)
from cimmeter.model.get_end_device_events import UsagePoint as QueryUsagePoint
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.store.base import EventQuery, Store
from cimmeter.store.records import ControlState
from tests.service.conftest import T0, Ids, errors_of
from tests.service.helpers import add_meter

POWER_OFF = "3.26.0.85"
RESTORED = "3.26.0.216"


@pytest.fixture
def mdm(ids: Ids) -> MdmService:
    config = ServiceConfig(role="mdm", source="MDM", reply_address="http://127.0.0.1:8000/mdm")
    return MdmService(config, new_id=ids)


@pytest.fixture
def meters(store: Store) -> Store:
    add_meter(store, "m-1", name="SN-1", up="up-1")
    add_meter(store, "m-2", up="up-2")
    return store


def event(
    mrid: str | None,
    device: str | None = "m-1",
    code: str = POWER_OFF,
    minutes: int = 0,
    **fields: object,
) -> EndDeviceEvent:
    return EndDeviceEvent(
        mrid=mrid,
        created_date_time=T0 + timedelta(minutes=minutes),
        end_device_event_type=code,
        assets=Asset(mrid=device) if device else None,
        **fields,
    )


def events_message(
    *events: EndDeviceEvent,
    verb: Verb = Verb.created,
    message_id: str = "ev-1",
    correlation_id: str | None = None,
) -> EventMessage:
    return EventMessage(
        header=Header(
            verb=verb,
            noun="EndDeviceEvents",
            message_id=message_id,
            source="HES",
            correlation_id=correlation_id,
        ),
        payload=Payload(document=EndDeviceEvents(end_device_event=events)),
    )


def stored_events(store: Store, device: str = "m-1") -> list[tuple[str, str, str | None]]:
    with store.snapshot() as reader:
        found = reader.query_events(EventQuery(devices=[device]))
    return [(e.mrid, e.type_code, e.usage_point_mrid) for e in found]


# -- receiving ---------------------------------------------------------------------------------


def test_created_events_are_stored_with_their_usage_point_and_published(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    detail = EndDeviceEventDetail(name="Phase", value="A")
    message = events_message(
        event("e-1", end_device_event_details=(detail,)), event("e-2", code=RESTORED, minutes=5)
    )
    result = mdm.handle(message, meters, clock)
    assert result.result is ReplyResult.OK
    assert stored_events(meters) == [("e-1", POWER_OFF, "up-1"), ("e-2", RESTORED, "up-1")]
    with meters.snapshot() as reader:
        first = reader.query_events(EventQuery(devices=["m-1"]))[0]
    assert first.details == {"Phase": "A"} and first.received_at == T0
    ((destination, verb),) = [(o.destination, o.verb) for o in result.outgoing]
    assert (destination, verb) == ("topic:created.EndDeviceEvents", "created")
    sent = result.outgoing[0].message
    assert isinstance(sent.document, EndDeviceEvents) and len(sent.document.end_device_event) == 2


def test_an_unknown_device_makes_a_partial_reply(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    result = mdm.handle(events_message(event("e-1"), event("e-9", device="ghost")), meters, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert error.code == "2.2"
    assert error.details == (
        "/EndDeviceEvents/EndDeviceEvent[2]/Assets: no Meter or EndDevice with mRID ghost"
    )
    assert error.id is not None and error.id.value == "ghost"
    assert stored_events(meters) == [("e-1", POWER_OFF, "up-1")]


def test_events_are_found_by_device_name_and_by_usage_point(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    by_name = event("e-1", device=None).model_copy(
        update={"assets": Asset(names=({"name": "SN-1"},))}
    )
    by_up = event("e-2", device=None, usage_point=UsagePoint(mrid="up-2"))
    result = mdm.handle(events_message(by_name, by_up), meters, clock)
    assert result.result is ReplyResult.OK
    assert stored_events(meters, "m-1") == [("e-1", POWER_OFF, "up-1")]
    assert stored_events(meters, "m-2") == [("e-2", POWER_OFF, "up-2")]


def test_replays_are_de_duplicated_even_without_mrids(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    first = mdm.handle(events_message(event("e-1"), event(None, minutes=3)), meters, clock)
    assert first.result is ReplyResult.OK
    replay = mdm.handle(
        events_message(event("e-1"), event(None, minutes=3), message_id="ev-2"), meters, clock
    )
    assert replay.result is ReplyResult.OK and not replay.duplicate
    found = stored_events(meters)
    assert len(found) == 2
    assert found[0][0] == "e-1" and found[1][0] != "e-1"  # a stable mRID was made


def test_an_event_stored_with_other_content_fails(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    mdm.handle(events_message(event("e-1")), meters, clock)
    other = mdm.handle(
        events_message(event("e-1", code=RESTORED), message_id="ev-2"), meters, clock
    )
    assert other.result is ReplyResult.FAILED
    assert [e.code for e in other.reply.reply.errors] == ["2.4"]


@pytest.mark.parametrize(
    ("bad", "code", "where"),
    [
        (event("e-8", code="3.26.0"), "2.8", "/EndDeviceEventType"),
        (
            EndDeviceEvent(mrid="e-8", assets=Asset(mrid="m-1"), end_device_event_type=POWER_OFF),
            "2.1",
            "",
        ),
        (event("e-8", device=None), "2.1", ""),
    ],
)
def test_malformed_events_fail_one_by_one(
    mdm: MdmService, meters: Store, clock: ManualClock, bad: EndDeviceEvent, code: str, where: str
) -> None:
    result = mdm.handle(events_message(event("e-1"), bad), meters, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert error.code == code
    assert (error.details or "").startswith(f"/EndDeviceEvents/EndDeviceEvent[2]{where}")
    assert [e[0] for e in stored_events(meters)] == ["e-1"]


def test_an_unknown_but_well_formed_code_is_stored(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    result = mdm.handle(events_message(event("e-1", code="3.99.999.999")), meters, clock)
    assert result.result is ReplyResult.OK
    assert stored_events(meters) == [("e-1", "3.99.999.999", "up-1")]


def test_closed_events_are_kept_next_to_the_event(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    mdm.handle(events_message(event("e-1")), meters, clock)
    result = mdm.handle(
        events_message(event("e-1"), verb=Verb.closed, message_id="ev-2"), meters, clock
    )
    assert result.result is ReplyResult.OK
    assert [e[0] for e in stored_events(meters)] == ["e-1", "e-1#closed"]
    assert [(o.destination, o.verb) for o in result.outgoing] == [
        ("topic:closed.EndDeviceEvents", "closed")
    ]


# -- get EndDeviceEvents ---------------------------------------------------------------------


def get_events(
    query: GetEndDeviceEvents, message_id: str = "g-1", **request: object
) -> RequestMessage:
    return RequestMessage(
        header=Header(verb=Verb.get, noun="EndDeviceEvents", message_id=message_id, source="OMS"),
        request=Request(query=query, **request),
    )


@pytest.fixture
def with_events(mdm: MdmService, meters: Store, clock: ManualClock) -> Store:
    message = events_message(
        event("e-1"),
        event("e-2", code=RESTORED, minutes=10),
        event("e-3", device="m-2", minutes=20),
        event("e-4", code="3.12.43.257", minutes=30),
    )
    assert mdm.handle(message, meters, clock).result is ReplyResult.OK
    return meters


def mrids(result: object) -> list[str | None]:
    reply = result.reply
    assert isinstance(reply, ResponseMessage) and isinstance(reply.document, EndDeviceEvents)
    return [e.mrid for e in reply.document.end_device_event]


def test_get_events_by_meter_type_pattern_and_time(
    mdm: MdmService, with_events: Store, clock: ManualClock
) -> None:
    window = (
        TimeSchedule(
            schedule_interval=DateTimeInterval(
                start=T0 - timedelta(minutes=1), end=T0 + timedelta(hours=1)
            )
        ),
    )
    query = GetEndDeviceEvents(meter=(Meter(mrid="m-1"),), time_schedule=window)
    result = mdm.handle(get_events(query), with_events, clock)
    assert result.result is ReplyResult.OK
    assert mrids(result) == ["e-1", "e-2", "e-4"]
    power = GetEndDeviceEvents(
        meter=(Meter(mrid="m-1"),),
        end_device_event_type=(EndDeviceEventType(mrid="*.26.*.*"),),
        time_schedule=window,
    )
    assert mrids(mdm.handle(get_events(power, "g-2"), with_events, clock)) == ["e-1", "e-2"]
    later = GetEndDeviceEvents(meter=(Meter(mrid="m-1"),))
    message = get_events(
        later, "g-3", start_time=T0 + timedelta(minutes=5), end_time=T0 + timedelta(minutes=30)
    )
    assert mrids(mdm.handle(message, with_events, clock)) == ["e-2", "e-4"]


def test_get_events_by_usage_point_and_the_answers_carry_the_device(
    mdm: MdmService, with_events: Store, clock: ManualClock
) -> None:
    window = (
        TimeSchedule(
            schedule_interval=DateTimeInterval(
                start=T0 - timedelta(minutes=1), end=T0 + timedelta(hours=1)
            )
        ),
    )
    query = GetEndDeviceEvents(usage_point=(QueryUsagePoint(mrid="up-2"),), time_schedule=window)
    result = mdm.handle(get_events(query), with_events, clock)
    reply = result.reply
    assert isinstance(reply, ResponseMessage) and isinstance(reply.document, EndDeviceEvents)
    (found,) = reply.document.end_device_event
    assert (found.mrid, found.assets.mrid if found.assets else None) == ("e-3", "m-2")


def test_get_events_with_an_unknown_meter_and_no_selector(
    mdm: MdmService, with_events: Store, clock: ManualClock
) -> None:
    window = (
        TimeSchedule(
            schedule_interval=DateTimeInterval(
                start=T0 - timedelta(minutes=1), end=T0 + timedelta(hours=1)
            )
        ),
    )
    query = GetEndDeviceEvents(meter=(Meter(mrid="m-2"), Meter(mrid="ghost")), time_schedule=window)
    result = mdm.handle(get_events(query), with_events, clock)
    assert result.result is ReplyResult.PARTIAL
    assert mrids(result) == ["e-3"]
    none = mdm.handle(get_events(GetEndDeviceEvents(), "g-2"), with_events, clock)
    assert none.result is ReplyResult.FAILED and [e.code for e in none.reply.reply.errors] == [
        "2.1"
    ]


def test_get_events_is_limited(with_events: Store, clock: ManualClock, ids: Ids) -> None:
    mdm = MdmService(ServiceConfig(role="mdm", source="MDM", max_events_per_reply=2), new_id=ids)
    window = (
        TimeSchedule(
            schedule_interval=DateTimeInterval(
                start=T0 - timedelta(minutes=1), end=T0 + timedelta(hours=1)
            )
        ),
    )
    query = GetEndDeviceEvents(meter=(Meter(mrid="m-1"),), time_schedule=window)
    result = mdm.handle(get_events(query), with_events, clock)
    assert result.result is ReplyResult.PARTIAL
    assert mrids(result) == ["e-1", "e-2"]
    assert errors_of(result) == [("2.11", "WARNING")]


# -- controls ----------------------------------------------------------------------------------


def control_states(store: Store, correlation: str) -> dict[str | None, str]:
    with store.snapshot() as reader:
        return {
            c.device_mrid: c.state.value for c in reader.find_controls(correlation_id=correlation)
        }


def test_a_control_follows_reply_and_outcome_events(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    with meters.transaction() as tx:
        out = mdm.issue_control(tx, T0, control_type="3.31.0.23", devices=["m-1", "m-2"])
    sent = out.message
    assert isinstance(sent, RequestMessage)
    assert (sent.header.verb, sent.header.noun, sent.header.async_reply_flag) == (
        Verb.create,
        "EndDeviceControls",
        True,
    )
    assert isinstance(sent.document, EndDeviceControls)
    (control,) = sent.document.end_device_control
    assert control.end_device_control_type is not None
    assert control.end_device_control_type.ref == "3.31.0.23"
    assert [d.mrid for d in control.end_devices] == ["m-1", "m-2"]
    correlation = out.correlation_id or ""
    assert control_states(meters, correlation) == {"m-1": "requested", "m-2": "requested"}
    # the head-end accepts, m-2 refused (an Error naming the device)
    ack = ResponseMessage(
        header=Header(verb=Verb.reply, noun="EndDeviceControls", correlation_id=correlation),
        reply=Reply(
            result=ReplyResult.PARTIAL,
            errors=(
                Error(
                    code="2.2",
                    level=ErrorLevel.FATAL,
                    details="no such meter",
                    id=ID(value="m-2", kind=IDKind.uuid),
                ),
            ),
        ),
    )
    assert mdm.handle(ack, meters, clock).result is ReplyResult.OK
    assert control_states(meters, correlation) == {"m-1": "acknowledged", "m-2": "failed"}
    # the outcome arrives as created EndDeviceEvents (switch convention: 68 = Disconnected)
    outcome = events_message(
        event("o-1", code="3.31.0.68", minutes=2),
        correlation_id=correlation,
        message_id="ev-9",
    )
    assert mdm.handle(outcome, meters, clock).result is ReplyResult.OK
    assert control_states(meters, correlation) == {"m-1": "executed", "m-2": "failed"}
    # the expiry job finds nothing left to expire
    mdm.tick(T0 + timedelta(days=1), meters)
    assert control_states(meters, correlation) == {"m-1": "executed", "m-2": "failed"}


def test_a_control_without_outcome_expires_and_generic_outcomes_are_accepted(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    with meters.transaction() as tx:
        a = mdm.issue_control(
            tx, T0, control_type="3.8.0.214", devices=["m-1"], timeout=timedelta(minutes=30)
        )
        b = mdm.issue_control(tx, T0, control_type="3.8.0.214", devices=["m-2"])
    outcome = events_message(
        event("o-2", device="m-2", code="3.8.0.79"),
        correlation_id=b.correlation_id,
        message_id="ev-3",
    )
    mdm.handle(outcome, meters, clock)
    assert control_states(meters, b.correlation_id or "") == {"m-2": "failed"}
    mdm.tick(T0 + timedelta(minutes=31), meters)
    assert control_states(meters, a.correlation_id or "") == {"m-1": "expired"}


def test_lifecycle_notices_of_controls(mdm: MdmService, meters: Store, clock: ManualClock) -> None:
    with meters.transaction() as tx:
        out = mdm.issue_control(tx, T0, control_type="3.15.0.54", devices=["m-1"])
    correlation = out.correlation_id or ""
    for verb, state in ((Verb.created, "acknowledged"), (Verb.executed, "executed")):
        notice = EventMessage(
            header=Header(
                verb=verb,
                noun="EndDeviceControls",
                correlation_id=correlation,
                message_id=f"n-{verb.value}",
            )
        )
        assert mdm.handle(notice, meters, clock).result is ReplyResult.OK
        assert control_states(meters, correlation) == {"m-1": state}
    late = EventMessage(
        header=Header(
            verb=Verb.canceled,
            noun="EndDeviceControls",
            correlation_id=correlation,
            message_id="n-x",
        )
    )
    mdm.handle(late, meters, clock)
    assert control_states(meters, correlation) == {"m-1": "executed"}  # final states stay
    with meters.snapshot() as reader:
        (control,) = reader.find_controls(correlation_id=correlation)
    assert [t[0] for t in control.transitions] == [
        ControlState.REQUESTED,
        ControlState.ACKNOWLEDGED,
        ControlState.EXECUTED,
    ]
