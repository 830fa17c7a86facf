"""MeterConfig, UsagePointConfig and MasterDataLinkageConfig through the MDM (digest 4.10,
4.14, 4.15): objects, links with effective times, gets, and the sync to the head-end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.message.envelope import (
    EventMessage,
    Header,
    Payload,
    ReplyResult,
    Request,
    RequestMessage,
    ResponseMessage,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MdmService
from cimmeter.store.base import ReadingQuery, Store
from cimmeter.store.records import LinkageKind, ObjectKind
from tests.service.conftest import T0, Ids, errors_of
from tests.service.helpers import block, document, readings_bytes, request_message

pytestmark = pytest.mark.skipif(
    REGISTRY.find_noun("MasterDataLinkageConfig") is None
    or REGISTRY.find_noun("UsagePointConfig") is None,
    reason="the config nouns (branch nouns-config) are not on main yet",
)


@pytest.fixture
def mdm(ids: Ids) -> MdmService:
    config = ServiceConfig(role="mdm", source="MDM", reply_address="http://127.0.0.1:8000/mdm")
    return MdmService(config, new_id=ids)


_IDS = iter(range(1, 1_000_000))


def send(mdm: MdmService, store: Store, clock: ManualClock, verb: Verb, doc: CimDocument) -> object:
    return mdm.handle(request_message(verb, doc, message_id=f"rq-{next(_IDS)}"), store, clock)


def meters_doc(*meters: dict[str, object]) -> CimDocument:
    return document("MeterConfig", {"Meter": list(meters)})


def usage_points_doc(*points: dict[str, object]) -> CimDocument:
    return document("UsagePointConfig", {"UsagePoint": list(points)})


def link_doc(at_minutes: int, **objects: object) -> CimDocument:
    event = {
        "createdDateTime": T0.isoformat(),
        "effectiveDateTime": (T0 + timedelta(minutes=at_minutes)).isoformat(),
    }
    return document("MasterDataLinkageConfig", {"ConfigurationEvent": event, **objects})


@pytest.fixture
def master(mdm: MdmService, store: Store, clock: ManualClock) -> Store:
    meters = meters_doc(
        {"mRID": "m-1", "serialNumber": "SN-1", "Names": [{"name": "SN-1"}]},
        {"mRID": "m-2", "serialNumber": "SN-2"},
    )
    assert send(mdm, store, clock, Verb.create, meters).result is ReplyResult.OK
    points = usage_points_doc({"mRID": "up-1"}, {"mRID": "up-2"})
    assert send(mdm, store, clock, Verb.create, points).result is ReplyResult.OK
    return store


def links(store: Store, meter: str) -> list[tuple[str, int, int | None, bool]]:
    """(usage point, minutes from T0 to start, to end, cancelled) of a meter's links."""
    with store.snapshot() as reader:
        found = reader.linkages(
            LinkageKind.METER_USAGE_POINT, from_mrid=meter, include_cancelled=True
        )

    def minutes(at: object) -> int | None:
        return None if at is None else int((at - T0).total_seconds() // 60)

    return [
        (x.to_mrid, minutes(x.valid_from) or 0, minutes(x.valid_to), x.cancelled) for x in found
    ]


def test_meter_config_objects_are_stored_whole(master: Store) -> None:
    with master.snapshot() as reader:
        meter = reader.get_object(ObjectKind.METER, "m-1")
    assert meter is not None
    assert (meter.serial_number, [n.name for n in meter.names]) == ("SN-1", ["SN-1"])
    assert meter.document["serialNumber"] == "SN-1"


def test_link_create_is_idempotent_and_refuses_a_second_usage_point(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    linked = send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(0, Meter=[{"mRID": "m-1"}], UsagePoint=[{"mRID": "up-1"}]),
    )
    assert linked.result is ReplyResult.OK
    assert [(o.destination, o.verb) for o in linked.outgoing] == [
        ("topic:created.MasterDataLinkageConfig", "created")
    ]
    again = send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(0, Meter=[{"mRID": "m-1"}], UsagePoint=[{"mRID": "up-1"}]),
    )
    assert again.result is ReplyResult.OK
    assert errors_of(again) == [("2.12", "INFORM")]
    elsewhere = send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(60, Meter=[{"mRID": "m-1"}], UsagePoint=[{"mRID": "up-2"}]),
    )
    assert elsewhere.result is ReplyResult.FAILED
    (error,) = elsewhere.reply.reply.errors
    assert (error.code, error.reason) == ("2.5", "meter already linked to another usage point")
    assert links(master, "m-1") == [("up-1", 0, None, False)]


def test_close_ends_the_link_and_readings_follow_the_history(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    pair = {"Meter": [{"Names": [{"name": "SN-1"}]}], "UsagePoint": [{"mRID": "up-1"}]}
    assert send(mdm, master, clock, Verb.create, link_doc(0, **pair)).result is ReplyResult.OK
    closed = send(mdm, master, clock, Verb.close, link_doc(30, **pair))
    assert closed.result is ReplyResult.OK
    assert links(master, "m-1") == [("up-1", 0, 30, False)]
    again = send(mdm, master, clock, Verb.close, link_doc(30, **pair))
    assert again.result is ReplyResult.OK and errors_of(again) == [("2.12", "INFORM")]
    mdm.handle(readings_bytes([block("m-1", [1.0, 2.0, 3.0])]), master, clock)
    with master.snapshot() as reader:
        (attributed,) = reader.read_readings(ReadingQuery(usage_points=["up-1"]))
    assert attributed.values.tolist() == [1.0, 2.0]  # (0, 30]: not the reading at 45 minutes
    # after the close the meter can move to another usage point
    moved = send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(60, Meter=[{"mRID": "m-1"}], UsagePoint=[{"mRID": "up-2"}]),
    )
    assert moved.result is ReplyResult.OK


def test_cancel_and_change_of_links(mdm: MdmService, master: Store, clock: ManualClock) -> None:
    pair = {"Meter": [{"mRID": "m-2"}], "UsagePoint": [{"mRID": "up-2"}]}
    send(mdm, master, clock, Verb.create, link_doc(0, **pair))
    changed = send(mdm, master, clock, Verb.change, link_doc(15, **pair))
    assert changed.result is ReplyResult.OK
    assert links(master, "m-2") == [("up-2", 0, None, True), ("up-2", 15, None, False)]
    cancelled = send(mdm, master, clock, Verb.cancel, link_doc(15, **pair))
    assert cancelled.result is ReplyResult.OK
    assert links(master, "m-2") == [("up-2", 0, None, True), ("up-2", 15, None, True)]
    nothing = send(mdm, master, clock, Verb.cancel, link_doc(15, **pair))
    assert nothing.result is ReplyResult.FAILED


def test_links_need_an_effective_time_known_objects_and_a_pair(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    no_time = document(
        "MasterDataLinkageConfig", {"Meter": [{"mRID": "m-1"}], "UsagePoint": [{"mRID": "up-1"}]}
    )
    result = send(mdm, master, clock, Verb.create, no_time)
    assert [e.code for e in result.reply.reply.errors] == ["2.1"]
    unknown = send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(0, Meter=[{"mRID": "m-1"}], UsagePoint=[{"mRID": "up-9"}]),
    )
    assert unknown.result is ReplyResult.FAILED
    assert unknown.reply.reply.errors[0].details == (
        "/MasterDataLinkageConfig/UsagePoint[1]: no UsagePoint with mRID up-9"
    )
    lonely = send(mdm, master, clock, Verb.create, link_doc(0, Meter=[{"mRID": "m-1"}]))
    assert "nothing to link" in (lonely.reply.reply.errors[0].details or "")


def test_get_meter_config_by_meter_and_by_usage_point(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(0, Meter=[{"mRID": "m-2"}], UsagePoint=[{"mRID": "up-2"}]),
    )
    clock.advance(timedelta(hours=1))
    query_cls = REGISTRY.noun("MeterConfig").query
    assert query_cls is not None
    for selector, expected in (
        ({"Meter": [{"mRID": "m-1"}]}, ["m-1"]),
        ({"UsagePoint": [{"mRID": "up-2"}]}, ["m-2"]),
    ):
        message = RequestMessage(
            header=Header(verb=Verb.get, noun="MeterConfig", message_id=f"g-{next(_IDS)}"),
            request=Request(query=query_cls.model_validate(selector)),
        )
        reply = mdm.handle(message, master, clock).reply
        assert isinstance(reply, ResponseMessage) and reply.document is not None
        assert [m.mrid for m in reply.document.meter] == expected
        assert reply.document.meter[0].serial_number == expected[0].replace("m-", "SN-")


def test_get_usage_point_config_by_meter(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    send(
        mdm,
        master,
        clock,
        Verb.create,
        link_doc(0, Meter=[{"mRID": "m-1"}], UsagePoint=[{"mRID": "up-1"}]),
    )
    clock.advance(timedelta(hours=1))
    query_cls = REGISTRY.noun("UsagePointConfig").query
    assert query_cls is not None
    message = RequestMessage(
        header=Header(verb=Verb.get, noun="UsagePointConfig", message_id="g-up"),
        request=Request(query=query_cls.model_validate({"Meter": [{"mRID": "m-1"}]})),
    )
    reply = mdm.handle(message, master, clock).reply
    assert isinstance(reply, ResponseMessage) and reply.document is not None
    assert [u.mrid for u in reply.document.usage_point] == ["up-1"]


def test_sync_to_the_head_end_and_its_answer(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    with master.transaction() as tx:
        out = mdm.sync_to_headend(
            tx, T0, Verb.create, meters_doc({"mRID": "m-1", "serialNumber": "SN-1"})
        )
    sent = out.message
    assert isinstance(sent, RequestMessage) and out.destination == "headend"
    assert (sent.header.verb, sent.header.noun) == (Verb.create, "MeterConfig")
    # the head-end answers with the past tense (Connexo) and our CorrelationID
    answer = EventMessage(
        header=Header(
            verb=Verb.created,
            noun="MeterConfig",
            correlation_id=out.correlation_id,
            message_id="he-1",
        ),
        payload=Payload(document=meters_doc({"mRID": "m-1", "serialNumber": "CHANGED"})),
    )
    assert mdm.handle(answer, master, clock).result is ReplyResult.OK
    with master.snapshot() as reader:
        meter = reader.get_object(ObjectKind.METER, "m-1")
        (entry,) = reader.find_by_correlation(out.correlation_id or "", direction="out")
    assert meter is not None and meter.serial_number == "SN-1"  # our own sync: acknowledged only
    assert entry.status == "OK"
    # a head-end's own discovery event is applied
    discovered = EventMessage(
        header=Header(verb=Verb.created, noun="MeterConfig", message_id="he-2", source="HES"),
        payload=Payload(document=meters_doc({"mRID": "m-7", "serialNumber": "SN-7"})),
    )
    assert mdm.handle(discovered, master, clock).result is ReplyResult.OK
    with master.snapshot() as reader:
        assert reader.get_object(ObjectKind.METER, "m-7") is not None


def test_linkage_events_of_another_system_of_record_are_applied(
    mdm: MdmService, master: Store, clock: ManualClock
) -> None:
    created = EventMessage(
        header=Header(
            # Connexo's misspelled Header Noun: the payload decides (digest 2.3)
            verb=Verb.created,
            noun="MasterDateLinkageConfig",
            message_id="cis-1",
            source="CIS",
        ),
        payload=Payload(
            document=link_doc(0, Meter=[{"mRID": "m-2"}], UsagePoint=[{"mRID": "up-2"}])
        ),
    )
    result = mdm.handle(created, master, clock)
    assert result.result is ReplyResult.OK
    assert result.reply.header.noun == "MasterDataLinkageConfig"
    assert links(master, "m-2") == [("up-2", 0, None, False)]
    deleted = EventMessage(
        header=Header(verb=Verb.deleted, noun="MeterConfig", message_id="he-9", source="HES"),
        payload=Payload(document=meters_doc({"mRID": "m-1"})),
    )
    assert mdm.handle(deleted, master, clock).result is ReplyResult.OK
    with master.snapshot() as reader:
        meter = reader.get_object(ObjectKind.METER, "m-1")
    assert meter is not None and meter.deleted
