"""Digest 4.10 (with 4.15 and 4.14): meter exchange at a usage point, with configuration sync.

The old meter M1 (a meter of the fleet) serves usage point UP; the head-end knows the link.
1. The CIS registers the new meter M2 at the MDM; the MDM configures it at the head-end
   (`create MeterConfig`): the head-end does not know it, commissions it (a new virtual meter)
   and announces it (`created MeterConfig`, the request's CorrelationID).
2. The crew exchanges the meters and reads both registers; work management reports the work
   done (`created MeterServiceRequests`): the MDM stores M1's final read and M2's initial read
   and moves the link (M1 until the removal, M2 from the installation; nothing in between).
3. The MDM tells the head-end: `close` M1's link, `create` M2's link, `delete MeterConfig` M1.
4. The MDM reads M2 (asynchronously): its data is attributed to UP; M1 can no longer be read.
"""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import Verb
from cimmeter.model.identity import ObjectRef
from cimmeter.store.base import ReadingQuery
from cimmeter.store.records import LinkageKind, ObjectKind
from tests.service.conftest import T0
from tests.service.sequences.conftest import FLEET_START, FWD, FWD_REG, System, linkage

M2 = "4f1c7b9e-2d3a-4e5f-9a8b-7c6d5e4f3a2b"


def test_meter_install_removal_exchange(system: System) -> None:
    index = system.electric()
    m1, up = system.meter(index), system.usage_point(index)
    meter_config = REGISTRY.noun("MeterConfig").payload
    # the head-end was told of M1's link when M1 was installed
    system.mdm_sends(
        lambda tx, now: system.mdm.sync_to_headend(
            tx, now, Verb.create, linkage(m1, up, FLEET_START)
        )
    )

    # 1. the new meter, at the MDM and at the head-end
    m2_config = meter_config.model_validate(
        {"Meter": [{"mRID": M2, "serialNumber": "SN-M2", "Names": [{"name": "SN-M2"}]}]}
    )
    assert system.cis("create", m2_config).result.value == "OK"
    n_before = system.sim.fleet.n
    sync = system.mdm_sends(
        lambda tx, now: system.mdm.sync_to_headend(tx, now, Verb.create, m2_config)
    )
    assert system.sim.fleet.n == n_before + 1
    about = system.exchanged(correlation_id=sync.correlation_id)
    assert [(e.sender, e.verb, e.noun, e.result) for e in about] == [
        ("mdm", "create", "MeterConfig", "OK"),
        ("headend", "reply", "MeterConfig", "OK"),
        ("headend", "created", "MeterConfig", "OK"),
    ]

    # 2. the field work, with the registers the crew read
    removed, installed = T0 + timedelta(hours=10), T0 + timedelta(hours=10, minutes=20)
    network = system.headend.network
    (final,) = network.read_on_demand([ObjectRef(mrid=m1)], [FWD_REG], removed).blocks
    (initial,) = network.read_on_demand([ObjectRef(mrid=M2)], [FWD_REG], installed).blocks
    system.tick(to=installed + timedelta(minutes=10))

    def reads(reason: str, at: object, value: float) -> dict[str, object]:
        return {
            "Readings": [
                {"reason": reason, "timeStamp": at, "value": value, "ReadingType": {"ref": FWD_REG}}
            ]
        }

    work = REGISTRY.noun("MeterServiceRequests").payload.model_validate(
        {
            "MeterServiceWork": [
                {
                    "mRID": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "kind": "meter",
                    "type": "exchange",
                    "Meter": {
                        "mRID": M2,
                        "MeterReadings": [
                            reads("installation", installed, float(initial.values[0]))
                        ],
                    },
                    "OldMeter": {
                        "mRID": m1,
                        "MeterReadings": [reads("removal", removed, float(final.values[0]))],
                    },
                    "UsagePoint": {"mRID": up},
                    "status": {"value": "completed"},
                }
            ]
        }
    )
    done = system.cis("created", work, source="WMS-1", correlation_id="WO-17")
    assert done.result.value == "OK", done.reply_xml.decode()

    # 3. the head-end follows
    for verb, document in (
        (Verb.close, linkage(m1, up, removed)),
        (Verb.create, linkage(M2, up, installed)),
        (Verb.delete, meter_config.model_validate({"Meter": [{"mRID": m1}]})),
    ):
        out = system.mdm_sends(
            lambda tx, now, v=verb, d=document: system.mdm.sync_to_headend(tx, now, v, d)
        )  # type: ignore[misc]
        (reply,) = system.exchanged(correlation_id=out.correlation_id, verb="reply")
        assert reply.message.reply.result.value == "OK", reply.body.decode()  # type: ignore[attr-defined]

    # 4. reading the new meter (and the old one, no longer there)
    read = system.mdm_sends(
        lambda tx, now: system.mdm.request_read(
            tx,
            now,
            meters=[M2, m1],
            reading_types=[FWD],
            start=installed,
            end=installed + timedelta(hours=1),
        )
    )
    (ack,) = system.exchanged(correlation_id=read.correlation_id, verb="reply")
    assert ack.message.reply.result.value == "PARTIAL"  # type: ignore[attr-defined]
    assert [e.reason for e in ack.message.reply.errors] == ["device removed"]  # type: ignore[attr-defined]
    system.tick(timedelta(minutes=1))
    result = [
        e
        for e in system.exchanged(correlation_id=read.correlation_id, verb="reply")
        if e.sender == "headend"
    ][-1]
    assert result.result == "OK"
    document = result.message.payload.document  # type: ignore[attr-defined]
    assert [(r.meter.mrid, r.usage_point.mrid) for r in document.meter_reading] == [(M2, up)]

    # the MDM: link history, final and initial reads, the new meter's data on the usage point
    with system.mdm_store.snapshot() as reader:
        links = reader.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=up)
        on_point = list(
            reader.read_readings(
                ReadingQuery(usage_points=[up], reading_types=[FWD], start=installed)
            )
        )
        final_read = list(reader.read_readings(ReadingQuery(meters=[m1], reading_types=[FWD_REG])))
        initial_read = list(
            reader.read_readings(ReadingQuery(meters=[M2], reading_types=[FWD_REG]))
        )
    assert [(x.from_mrid, x.valid_from, x.valid_to) for x in links] == [
        (m1, FLEET_START, removed),
        (M2, installed, None),
    ]
    assert [(b.timestamps.tolist(), b.values.tolist()) for b in final_read] == [
        ([int(removed.timestamp())], final.values.tolist())
    ]
    assert [b.values.tolist() for b in initial_read] == [initial.values.tolist()]
    assert sum(len(b) for b in on_point) == 4 and all(
        b.meter and b.meter.mrid == M2 for b in on_point
    )
    # the head-end: M2 configured, M1 removed, the same link history
    with system.he_store.snapshot() as reader:
        m2 = reader.get_object(ObjectKind.METER, M2)
        old = reader.get_object(ObjectKind.METER, m1)
        he_links = reader.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=up)
    assert m2 is not None and m2.serial_number == "SN-M2" and not m2.deleted
    assert old is not None and old.deleted
    assert [(x.from_mrid, x.valid_from, x.valid_to) for x in he_links] == [
        (m1, FLEET_START, removed),
        (M2, installed, None),
    ]
