"""Digest 4.11: customer move-out / move-in with a switching read. Customer A leaves usage point
UP at D and customer B moves in: the CIS ends A's agreement link and links B's agreement from
D; the MDM takes the switching read at D from the meter through the head-end (an on-demand
read), stores it, and passes it to the CIS: the same register value closes A's period and
opens B's."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.registry import REGISTRY
from cimmeter.store.base import ReadingQuery
from cimmeter.store.records import LinkageKind
from tests.service.conftest import T0
from tests.service.sequences.conftest import FLEET_START, FWD_REG, System, linkage

A = "a1a1a1a1-0000-4000-8000-00000000000a"
B = "b2b2b2b2-0000-4000-8000-00000000000b"


def test_customer_move_in_move_out(system: System) -> None:
    index = system.electric()
    meter, up = system.meter(index), system.usage_point(index)
    agreements = REGISTRY.noun("CustomerAgreementConfig").payload
    assert (
        system.cis(
            "create", agreements.model_validate({"CustomerAgreement": [{"mRID": A}]})
        ).result.value
        == "OK"
    )
    assert (
        system.cis(
            "create", linkage(None, up, FLEET_START, CustomerAgreement=[{"mRID": A}])
        ).result.value
        == "OK"
    )

    moving = T0 + timedelta(hours=12)
    system.tick(to=moving)
    mark = system.exchange.mark()
    # 1. the CIS: A's agreement ends at D, B's begins at D
    assert (
        system.cis("close", linkage(None, up, moving, CustomerAgreement=[{"mRID": A}])).result.value
        == "OK"
    )
    assert (
        system.cis(
            "create", agreements.model_validate({"CustomerAgreement": [{"mRID": B}]})
        ).result.value
        == "OK"
    )
    assert (
        system.cis(
            "create", linkage(None, up, moving, CustomerAgreement=[{"mRID": B}])
        ).result.value
        == "OK"
    )
    # 2. the switching read, live from the meter at D
    read = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx, now, meters=[meter], reading_types=[FWD_REG], asynchronous=False
        )
    )
    flow = [(e.sender, e.receiver, e.verb, e.noun, e.result) for e in system.exchange.log[mark:]]
    assert [f for f in flow if f[0] != "mdm" or f[1] != "sink:cis"] == [
        ("CIS-1", "mdm", "close", "MasterDataLinkageConfig", "OK"),
        ("CIS-1", "mdm", "create", "CustomerAgreementConfig", "OK"),
        ("CIS-1", "mdm", "create", "MasterDataLinkageConfig", "OK"),
        ("mdm", "headend", "get", "MeterReadings", "OK"),
        ("headend", "mdm", "reply", "MeterReadings", "OK"),
    ]
    # 3. the CIS gets the switching read
    (to_cis,) = system.exchange.find(
        since=mark, sender="mdm", receiver="sink:cis", noun="MeterReadings"
    )
    assert to_cis.verb == "created" and meter in to_cis.body.decode()
    assert read.correlation_id is not None

    with system.mdm_store.snapshot() as reader:
        links = reader.linkages(LinkageKind.USAGE_POINT_AGREEMENT, from_mrid=up)
        (switching,) = list(
            reader.read_readings(ReadingQuery(usage_points=[up], reading_types=[FWD_REG]))
        )
    assert [(x.to_mrid, x.valid_from, x.valid_to) for x in links] == [
        (A, FLEET_START, moving),
        (B, moving, None),
    ]
    assert switching.timestamps.tolist() == [int(moving.timestamp())]
    assert switching.values[0] > 0
    # A's agreement holds the read as its last instant, B's starts from it (half-open periods)
    assert links[0].valid_at(moving) and not links[1].valid_at(moving)
    with system.he_store.snapshot() as reader:
        (entry,) = reader.find_by_correlation(read.correlation_id)
        assert entry.status == "OK"
        assert (
            reader.linkages(LinkageKind.USAGE_POINT_AGREEMENT) == []
        )  # not the head-end's business
