"""Master data in the MDM: groups, customer configs, read schedules, field work (digest 4.10,
4.12), through `handle`, asserting the reply and the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cimmeter.message.envelope import (
    ID,
    Header,
    IDKind,
    ReplyResult,
    Request,
    RequestMessage,
    ResponseMessage,
    read_xml,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.store.base import ReadingQuery, Store
from cimmeter.store.records import LinkageKind, ObjectKind
from tests.conftest import DATA
from tests.service.conftest import T0, Ids, errors_of
from tests.service.helpers import add_meter, document, request_message


@pytest.fixture
def mdm(ids: Ids) -> MdmService:
    return MdmService(ServiceConfig(role="mdm", source="MDM"), new_id=ids)


@pytest.fixture
def meters(store: Store) -> Store:
    add_meter(store, "m-1", name="SN-1", up="up-1")
    add_meter(store, "m-2", up="up-2")
    return store


def members(store: Store, group: str) -> list[str]:
    with store.snapshot() as reader:
        links = reader.linkages(
            LinkageKind.GROUP_MEMBER, from_mrid=group, at=T0 + timedelta(hours=1)
        )
    return sorted(link.to_mrid for link in links)


# -- generic config objects (CustomerConfig as the example) -----------------------------------


def customers(*objects: dict[str, object]) -> CimDocument:
    return document("CustomerConfig", {"Customer": list(objects)})


def test_create_stores_objects_assigns_missing_mrids_and_publishes(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    message = request_message(
        Verb.create,
        customers({"mRID": "c-1", "Names": [{"name": "Ada"}]}, {"Names": [{"name": "Bob"}]}),
    )
    result = mdm.handle(message, store, clock)
    assert result.result is ReplyResult.OK
    ids = [(i.value, i.object_type) for i in result.reply.reply.ids]
    assert ids[0] == ("c-1", "Customer") and ids[1][1] == "Customer" and ids[1][0] != "c-1"
    with store.snapshot() as reader:
        ada = reader.get_object(ObjectKind.CUSTOMER, "c-1")
        bob = reader.get_object(ObjectKind.CUSTOMER, ids[1][0] or "")
    assert ada is not None and [n.name for n in ada.names] == ["Ada"]
    assert bob is not None and bob.document["Names"] == [{"name": "Bob"}]
    assert [(o.destination, o.verb) for o in result.outgoing] == [
        ("topic:created.CustomerConfig", "created")
    ]


def test_create_again_is_a_no_op_and_other_content_fails(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    first = customers({"mRID": "c-1", "kind": "residential"})
    mdm.handle(request_message(Verb.create, first), store, clock)
    again = mdm.handle(request_message(Verb.create, first, message_id="rq-2"), store, clock)
    assert again.result is ReplyResult.OK
    assert errors_of(again) == [("2.12", "INFORM")]
    other = customers({"mRID": "c-1", "kind": "commercialIndustrial"})
    clash = mdm.handle(request_message(Verb.create, other, message_id="rq-3"), store, clock)
    assert clash.result is ReplyResult.FAILED
    (error,) = clash.reply.reply.errors
    assert error.code == "2.4" and "use change" in (error.details or "")


def test_change_updates_close_sets_status_delete_marks_deleted(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    created = customers({"mRID": "c-1", "kind": "residential", "Names": [{"name": "Ada"}]})
    mdm.handle(request_message(Verb.create, created), store, clock)
    changed = customers({"mRID": "c-1", "kind": "commercialIndustrial"})
    result = mdm.handle(request_message(Verb.change, changed, message_id="rq-2"), store, clock)
    assert result.result is ReplyResult.OK
    with store.snapshot() as reader:
        stored = reader.get_object(ObjectKind.CUSTOMER, "c-1")
    assert stored is not None
    assert stored.document["kind"] == "commercialIndustrial"
    assert stored.document["Names"] == [{"name": "Ada"}]  # kept: a partial update
    closed = mdm.handle(request_message(Verb.close, changed, message_id="rq-3"), store, clock)
    assert closed.result is ReplyResult.OK
    with store.snapshot() as reader:
        stored = reader.get_object(ObjectKind.CUSTOMER, "c-1")
    assert stored is not None and stored.status == "closed"
    gone = mdm.handle(request_message(Verb.delete, changed, message_id="rq-4"), store, clock)
    assert gone.result is ReplyResult.OK
    with store.snapshot() as reader:
        stored = reader.get_object(ObjectKind.CUSTOMER, "c-1")
        assert reader.count_objects(ObjectKind.CUSTOMER) == 0
    assert stored is not None and stored.deleted


def test_change_of_an_unknown_object_fails_and_an_empty_document_is_refused(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    result = mdm.handle(
        request_message(Verb.change, customers({"mRID": "nobody"})),
        store,
        clock,
    )
    assert result.result is ReplyResult.FAILED
    assert result.reply.reply.errors[0].details == (
        "/CustomerConfig/Customer[1]: no Customer with mRID nobody"
    )
    empty = mdm.handle(request_message(Verb.create, customers(), message_id="rq-2"), store, clock)
    assert [e.code for e in empty.reply.reply.errors] == ["2.1"]


def test_get_returns_the_stored_objects(mdm: MdmService, store: Store, clock: ManualClock) -> None:
    objects = customers(
        {"mRID": "c-1", "kind": "residential"}, {"mRID": "c-2", "kind": "windMachine"}
    )
    mdm.handle(request_message(Verb.create, objects), store, clock)
    get = RequestMessage(
        header=Header(verb=Verb.get, noun="CustomerConfig", message_id="g-1"),
        request=Request(ids=(ID(value="c-2", kind=IDKind.uuid),)),
    )
    result = mdm.handle(get, store, clock)
    assert isinstance(result.reply, ResponseMessage)
    found = result.reply.document
    assert found is not None
    assert [c.mrid for c in found.customer] == ["c-2"]
    every = RequestMessage(header=Header(verb=Verb.get, noun="CustomerConfig", message_id="g-2"))
    everything = mdm.handle(every, store, clock).reply
    assert isinstance(everything, ResponseMessage) and everything.document is not None
    assert [c.mrid for c in everything.document.customer] == ["c-1", "c-2"]


# -- groups ---------------------------------------------------------------------------------


def test_groups_keep_their_members_as_links(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    groups = document(
        "EndDeviceGroups",
        {
            "EndDeviceGroup": [
                {
                    "mRID": "g-1",
                    "EndDevices": [
                        {"mRID": "m-1"},
                        {"Names": [{"name": "SN-1"}]},
                        {"mRID": "ghost"},
                    ],
                }
            ]
        },
    )
    result = mdm.handle(request_message(Verb.create, groups), meters, clock)
    assert result.result is ReplyResult.PARTIAL
    (error,) = result.reply.reply.errors
    assert (
        error.details
        == "/EndDeviceGroups/EndDeviceGroup[1]/EndDevices[3]: no Meter or EndDevice with mRID ghost"
    )
    assert members(meters, "g-1") == ["m-1"]
    clock.advance(timedelta(minutes=10))
    changed = document(
        "EndDeviceGroups", {"EndDeviceGroup": [{"mRID": "g-1", "EndDevices": [{"mRID": "m-2"}]}]}
    )
    result = mdm.handle(request_message(Verb.change, changed, message_id="rq-2"), meters, clock)
    assert result.result is ReplyResult.OK
    assert members(meters, "g-1") == ["m-2"]


# -- read schedules --------------------------------------------------------------------------


def schedule(**extra: object) -> CimDocument:
    data: dict[str, object] = {
        "EndDevice": [{"mRID": "m-1"}],
        "UsagePointGroup": [],
        "ReadingType": [{"mRID": "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"}],
        "TimeSchedule": [
            {
                "recurrencePeriod": 86400.0,
                "scheduleInterval": {
                    "end": "2026-12-31T00:00:00Z",
                    "start": "2026-03-01T00:00:00Z",
                },
            }
        ],
        **extra,
    }
    return document("MeterReadSchedule", data)


def test_read_schedules_are_named_by_correlation_id_and_followed(
    mdm: MdmService, meters: Store, clock: ManualClock
) -> None:
    create = request_message(Verb.create, schedule(), correlation_id="daily-1")
    result = mdm.handle(create, meters, clock)
    assert result.result is ReplyResult.OK
    assert [(i.value, i.kind) for i in result.reply.reply.ids] == [("daily-1", IDKind.transaction)]
    get = RequestMessage(
        header=Header(verb=Verb.get, noun="MeterReadSchedule", message_id="g-1"),
        request=Request(ids=(ID(value="daily-1"),)),
    )
    answer = mdm.handle(get, meters, clock).reply
    assert isinstance(answer, ResponseMessage) and answer.document is not None
    assert [d.mrid for d in answer.document.end_device] == ["m-1"]
    listing = mdm.handle(
        RequestMessage(header=Header(verb=Verb.get, noun="MeterReadSchedule", message_id="g-2")),
        meters,
        clock,
    )
    assert [i.value for i in listing.reply.reply.ids] == ["daily-1"]
    cancel = RequestMessage(
        header=Header(
            verb=Verb.cancel, noun="MeterReadSchedule", message_id="rq-9", correlation_id="daily-1"
        )
    )
    assert mdm.handle(cancel, meters, clock).result is ReplyResult.OK
    with meters.snapshot() as reader:
        stored = reader.get_object(ObjectKind.READ_SCHEDULE, "daily-1")
    assert stored is not None and stored.status == "cancelled"


def test_read_schedule_checks(mdm: MdmService, meters: Store, clock: ManualClock) -> None:
    unknown = schedule(UsagePoint=[{"mRID": "up-404"}])
    partial = mdm.handle(request_message(Verb.create, unknown, correlation_id="s-1"), meters, clock)
    assert partial.result is ReplyResult.PARTIAL
    assert (
        partial.reply.reply.errors[0].details
        == "/MeterReadSchedule/UsagePoint[1]: no UsagePoint with mRID up-404"
    )
    reversed_interval = schedule(
        TimeSchedule=[
            {"scheduleInterval": {"end": "2026-01-01T00:00:00Z", "start": "2026-03-01T00:00:00Z"}}
        ]
    )
    bad = mdm.handle(
        request_message(Verb.create, reversed_interval, message_id="rq-2", correlation_id="s-2"),
        meters,
        clock,
    )
    assert [e.code for e in bad.reply.reply.errors] == ["2.6"]
    missing = RequestMessage(
        header=Header(
            verb=Verb.delete, noun="MeterReadSchedule", message_id="rq-3", correlation_id="nope"
        )
    )
    assert [e.code for e in mdm.handle(missing, meters, clock).reply.reply.errors] == ["2.2"]


# -- field work: meter exchange (digest 4.10) -----------------------------------------------------

OLD = "0b6f3c52-8a8e-4d31-bf38-6c1f2a000001"
NEW = "0b6f3c52-8a8e-4d31-bf38-6c1f2a000099"
REGISTER = "0.0.0.9.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
REMOVED_AT = datetime(2024, 4, 3, 13, 58, tzinfo=UTC)
INSTALLED_AT = datetime(2024, 4, 3, 14, 2, tzinfo=UTC)


def test_a_completed_exchange_stores_the_reads_and_moves_the_link(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)
    add_meter(store, OLD, up="up-x", since=since)
    add_meter(store, NEW)
    result = mdm.handle((DATA / "MeterServiceRequests" / "created.xml").read_bytes(), store, clock)
    assert result.result is ReplyResult.OK, result.reply_xml.decode()
    with store.snapshot() as reader:
        links = reader.linkages(LinkageKind.METER_USAGE_POINT, to_mrid="up-x")
        old_reads = list(reader.read_readings(ReadingQuery(meters=[OLD], reading_types=[REGISTER])))
        new_reads = list(reader.read_readings(ReadingQuery(meters=[NEW], reading_types=[REGISTER])))
        work = reader.get_object(ObjectKind.SERVICE_REQUEST, "a0b1c2d3-e4f5-4a6b-8c7d-0000000817aa")
    assert [(x.from_mrid, x.valid_from, x.valid_to) for x in links] == [
        (OLD, since, REMOVED_AT),
        (NEW, INSTALLED_AT, None),
    ]
    assert [b.values.tolist() for b in old_reads] == [[18231.407]]
    assert [b.values.tolist() for b in new_reads] == [[0.0]]
    assert work is not None and work.status == "completed"
    assert [(o.destination, o.verb) for o in result.outgoing] == [
        ("topic:created.MeterServiceRequests", "created")
    ]
    # the same completion again (a retry with a new MessageID) changes nothing
    again = read_xml((DATA / "MeterServiceRequests" / "created.xml").read_bytes()).message
    assert again is not None
    header = again.header.model_copy(update={"message_id": "retry"})
    result = mdm.handle(again.model_copy(update={"header": header}), store, clock)
    assert result.result is ReplyResult.OK
    with store.snapshot() as reader:
        assert len(reader.linkages(LinkageKind.METER_USAGE_POINT, to_mrid="up-x")) == 2
    # a completed work cannot be cancelled
    cancel = request_message(
        Verb.cancel,
        document(
            "MeterServiceRequests",
            {"MeterServiceWork": [{"mRID": "a0b1c2d3-e4f5-4a6b-8c7d-0000000817aa", "Meter": {}}]},
        ),
        message_id="rq-c",
    )
    refused = mdm.handle(cancel, store, clock)
    assert refused.result is ReplyResult.FAILED
    assert [e.code for e in refused.reply.reply.errors] == ["2.15"]


def test_an_exchange_with_an_unknown_new_meter_fails_and_changes_no_link(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    add_meter(store, OLD, up="up-x", since=datetime(2024, 1, 1, tzinfo=UTC))
    result = mdm.handle((DATA / "MeterServiceRequests" / "created.xml").read_bytes(), store, clock)
    assert result.result is ReplyResult.FAILED
    assert [e.code for e in result.reply.reply.errors] == ["2.2"]
    with store.snapshot() as reader:
        (link,) = reader.linkages(LinkageKind.METER_USAGE_POINT, to_mrid="up-x")
    assert link.valid_to is None


def test_an_order_is_tracked_until_done(mdm: MdmService, meters: Store, clock: ManualClock) -> None:
    order = document(
        "MeterServiceRequests",
        {
            "MeterServiceWork": [
                {"kind": "disconnect", "Meter": {"mRID": "m-1"}, "status": {"value": "requested"}}
            ]
        },
    )
    result = mdm.handle(request_message(Verb.create, order), meters, clock)
    assert result.result is ReplyResult.OK
    (work_id,) = [i.value for i in result.reply.reply.ids]
    done = document(
        "MeterServiceRequests",
        {"MeterServiceWork": [{"mRID": work_id, "Meter": {"mRID": "m-1"}}]},
    )
    closed = mdm.handle(request_message(Verb.close, done, message_id="rq-2"), meters, clock)
    assert closed.result is ReplyResult.OK
    with meters.snapshot() as reader:
        stored = reader.get_object(ObjectKind.SERVICE_REQUEST, work_id or "")
        (link,) = reader.linkages(LinkageKind.METER_USAGE_POINT, from_mrid="m-1")
    assert stored is not None and stored.status == "closed"
    assert stored.document["kind"] == "disconnect"
    assert link.valid_to is None  # a disconnect order moves no link


def test_a_name_that_matches_several_objects_is_refused(
    mdm: MdmService, store: Store, clock: ManualClock
) -> None:
    two = customers(
        {"mRID": "c-1", "Names": [{"name": "Ada"}]}, {"mRID": "c-2", "Names": [{"name": "Ada"}]}
    )
    assert mdm.handle(request_message(Verb.create, two), store, clock).result is ReplyResult.OK
    third = customers({"Names": [{"name": "Ada"}], "kind": "residential"})
    result = mdm.handle(request_message(Verb.create, third, message_id="rq-2"), store, clock)
    assert result.result is ReplyResult.FAILED
    (error,) = result.reply.reply.errors
    assert error.code == "2.3" and "name it by mRID" in (error.details or "")
    change = mdm.handle(request_message(Verb.change, third, message_id="rq-3"), store, clock)
    assert [e.code for e in change.reply.reply.errors] == ["2.3"]
