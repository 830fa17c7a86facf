"""Digest 4.14 (and 4.15 direction B): master data linkage. The CIS links a meter to a usage
point at the MDM, which informs the head-end; the head-end's readings then name that usage
point. A link of the same meter elsewhere is refused at both ends ("meter already linked to
another usage point"); the link ends with `close` at both. The head-end's discovery of its
meters (`created MeterConfig`) is accepted by the MDM as master data."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.envelope import ReplyResult
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import Verb
from cimmeter.service.headend_config import fleet_meter_config
from cimmeter.store.records import LinkageKind, ObjectKind
from tests.service.conftest import T0
from tests.service.sequences.conftest import FLEET_START, FWD_REG, System, linkage

UP_NEW = "c3c3c3c3-0000-4000-8000-00000000000c"
UP_OTHER = "d4d4d4d4-0000-4000-8000-00000000000d"


def test_master_data_linkage(system: System) -> None:
    index = system.electric()
    meter, old_up = system.meter(index), system.usage_point(index)
    points = REGISTRY.noun("UsagePointConfig").payload
    more = points.model_validate({"UsagePoint": [{"mRID": UP_NEW}, {"mRID": UP_OTHER}]})
    assert system.cis("create", more).result is ReplyResult.OK
    # the head-end learns the link in force (as it would have when the meter was installed)
    system.mdm_sends(
        lambda tx, now: system.mdm.sync_to_headend(
            tx, now, Verb.create, linkage(meter, old_up, FLEET_START)
        )
    )
    moved = T0 + timedelta(hours=2)
    system.tick(to=moved)
    # the meter moves to UP_NEW: close, then create, at the MDM, then at the head-end
    for verb, document in (
        (Verb.close, linkage(meter, old_up, moved)),
        (Verb.create, linkage(meter, UP_NEW, moved)),
    ):
        assert system.cis(verb.value, document).result is ReplyResult.OK
        out = system.mdm_sends(
            lambda tx, now, v=verb, d=document: system.mdm.sync_to_headend(tx, now, v, d)  # type: ignore[misc]
        )
        (reply,) = system.exchanged(correlation_id=out.correlation_id, verb="reply")
        assert reply.message.reply.result is ReplyResult.OK  # type: ignore[attr-defined]
    conflict = linkage(meter, UP_OTHER, moved + timedelta(minutes=5))
    refused = system.cis("create", conflict)
    assert refused.result is ReplyResult.FAILED
    assert refused.reply.reply.errors[0].reason == "meter already linked to another usage point"  # type: ignore[union-attr]
    out = system.mdm_sends(
        lambda tx, now: system.mdm.sync_to_headend(tx, now, Verb.create, conflict)
    )
    (reply,) = system.exchanged(correlation_id=out.correlation_id, verb="reply")
    assert reply.message.reply.errors[0].reason == "meter already linked to another usage point"  # type: ignore[attr-defined]

    # the head-end's reading names the new usage point; the MDM attributes it there
    system.tick(timedelta(hours=1))
    read = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx, now, meters=[meter], reading_types=[FWD_REG], asynchronous=False
        )
    )
    (answer,) = system.exchanged(correlation_id=read.correlation_id, verb="reply")
    document = answer.message.payload.document  # type: ignore[attr-defined]
    assert [r.usage_point.mrid for r in document.meter_reading] == [UP_NEW]
    assert answer.result == "OK"

    # the head-end discovers its meters: the MDM takes them as master data (names, serials)
    system.headend.discover(
        system.he_store, system.clock.now(), fleet_meter_config(system.sim.fleet, [index])
    )
    system.exchange.deliver()
    (announced,) = system.exchanged(sender="headend", verb="created", noun="MeterConfig")
    assert announced.result == "OK"

    with system.mdm_store.snapshot() as reader:
        mdm_links = reader.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=meter)
        stored = reader.get_object(ObjectKind.METER, meter)
    assert [(x.to_mrid, x.valid_to) for x in mdm_links] == [(old_up, moved), (UP_NEW, None)]
    assert (
        stored is not None
        and stored.serial_number == system.sim.fleet.meter_info(index).serial_number
    )
    with system.he_store.snapshot() as reader:
        he_links = reader.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=meter)
    assert [(x.to_mrid, x.valid_from, x.valid_to) for x in he_links] == [
        (old_up, FLEET_START, moved),
        (UP_NEW, moved, None),
    ]
