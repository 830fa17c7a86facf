"""MeterConfig and MasterDataLinkageConfig at the head-end (digest 4.10, 4.14, 4.15)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import ReplyResult, ResponseMessage
from cimmeter.model.common import ConfigurationEvent
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.model.master_data_linkage_config import MasterDataLinkageConfig
from cimmeter.model.meter_config import MeterConfig
from cimmeter.model.meter_readings import MeterReadings
from cimmeter.service.clock import ManualClock
from cimmeter.service.headend_config import fleet_meter_config
from cimmeter.store.base import Store
from cimmeter.store.records import LinkageKind, ObjectKind
from tests.service.conftest import T0, Ids, errors_of
from tests.service.headend_support import (
    FWD_REG,
    electric,
    get_readings,
    headend,
    meter,
    parsed,
    quiet_sim,
    request,
    to,
)

NEW = "5b0e2a8c-8d4f-4c39-9d57-1c2a3b4c5d6e"
UP1 = "0f9c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"


@pytest.fixture
def sim() -> Simulation:
    return quiet_sim()


def _meter_config(mrid: str, serial: str = "SN-1", **extra: object) -> MeterConfig:
    return MeterConfig.model_validate(
        {"Meter": [{"mRID": mrid, "serialNumber": serial, "Names": [{"name": serial}], **extra}]}
    )


def _link(meter_mrid: str, usage_point: str, at: object) -> MasterDataLinkageConfig:
    return MasterDataLinkageConfig.model_validate(
        {
            "ConfigurationEvent": ConfigurationEvent(created_date_time=T0, effective_date_time=at),  # type: ignore[arg-type]
            "Meter": [{"mRID": meter_mrid}],
            "UsagePoint": [{"mRID": usage_point}],
        }
    )


def test_an_unknown_meter_is_commissioned_and_announced(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    n = sim.fleet.n
    message = request("create", "MeterConfig", document=_meter_config(NEW), correlation="mc-1")
    result = he.handle(message, store, clock)
    assert result.result is ReplyResult.OK
    assert [i.value for i in result.reply.reply.ids] == [NEW]
    assert sim.fleet.n == n + 1
    (announced,) = to(result.outgoing, "topic:created.MeterConfig")
    assert announced.correlation_id == "mc-1"
    assert NEW in announced.body.decode()
    read = he.handle(get_readings([NEW], [FWD_REG]), store, clock)
    assert read.result is ReplyResult.OK
    by_serial = he.handle(
        request(
            "get",
            "MeterReadings",
            query=GetMeterReadings.model_validate(
                {"EndDevice": [{"Names": [{"name": "SN-1"}]}], "ReadingType": [{"mRID": FWD_REG}]}
            ),
        ),
        store,
        clock,
    )
    assert by_serial.result is ReplyResult.OK
    again = he.handle(request("create", "MeterConfig", document=_meter_config(NEW)), store, clock)
    assert again.result is ReplyResult.OK
    assert sim.fleet.n == n + 1
    other = he.handle(
        request("create", "MeterConfig", document=_meter_config(NEW, "SN-2")), store, clock
    )
    assert other.result is ReplyResult.FAILED
    assert errors_of(other)[0][0] == "2.4"


def test_a_known_meter_is_recorded_without_commissioning(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    n = sim.fleet.n
    result = he.handle(
        request("create", "MeterConfig", document=_meter_config(meter(sim, 0))), store, clock
    )
    assert result.result is ReplyResult.OK
    assert sim.fleet.n == n
    assert to(result.outgoing, "topic:created.MeterConfig") == []
    with store.snapshot() as reader:
        stored = reader.get_object(ObjectKind.METER, meter(sim, 0))
    assert stored is not None and stored.serial_number == "SN-1"


def test_a_deleted_meter_is_no_longer_read(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = meter(sim, 1)
    deleted = he.handle(request("delete", "MeterConfig", document=_meter_config(m)), store, clock)
    assert deleted.result is ReplyResult.OK
    read = he.handle(get_readings([m], [FWD_REG]), store, clock)
    assert read.result is ReplyResult.FAILED
    assert read.reply.reply.errors[0].reason == "device removed"


def test_links_name_the_usage_point_of_readings_until_closed(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    m = meter(sim, electric(sim))
    start = T0 - timedelta(days=1)
    created = he.handle(
        request("create", "MasterDataLinkageConfig", document=_link(m, UP1, start)), store, clock
    )
    assert created.result is ReplyResult.OK
    same = he.handle(
        request("create", "MasterDataLinkageConfig", document=_link(m, UP1, start)), store, clock
    )
    assert same.result is ReplyResult.OK
    elsewhere = he.handle(
        request(
            "create", "MasterDataLinkageConfig", document=_link(m, NEW, start + timedelta(hours=1))
        ),
        store,
        clock,
    )
    assert elsewhere.result is ReplyResult.FAILED
    assert elsewhere.reply.reply.errors[0].reason == "meter already linked to another usage point"
    read = he.handle(get_readings([m], [FWD_REG]), store, clock)
    reply = read.reply
    assert isinstance(reply, ResponseMessage) and reply.payload is not None
    document = reply.payload.document
    assert isinstance(document, MeterReadings)
    (mr,) = document.meter_reading
    assert mr.usage_point is not None and mr.usage_point.mrid == UP1
    closed = he.handle(
        request(
            "close", "MasterDataLinkageConfig", document=_link(m, UP1, T0 - timedelta(minutes=1))
        ),
        store,
        clock,
    )
    assert closed.result is ReplyResult.OK
    with store.snapshot() as reader:
        (link,) = reader.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=m)
    assert link.valid_to == T0 - timedelta(minutes=1)
    read = he.handle(get_readings([m], [FWD_REG]), store, clock)
    reply = read.reply
    assert isinstance(reply, ResponseMessage) and reply.payload is not None
    assert isinstance(reply.payload.document, MeterReadings)
    assert reply.payload.document.meter_reading[0].usage_point is None


def test_a_link_needs_its_effective_time(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    document = MasterDataLinkageConfig.model_validate(
        {"Meter": [{"mRID": meter(sim, 0)}], "UsagePoint": [{"mRID": UP1}]}
    )
    result = he.handle(
        request("create", "MasterDataLinkageConfig", document=document), store, clock
    )
    assert result.result is ReplyResult.FAILED
    assert "effectiveDateTime" in (result.reply.reply.errors[0].details or "")


def test_discovery_publishes_the_fleet_as_created_meter_config(
    store: Store, clock: ManualClock, ids: Ids, sim: Simulation
) -> None:
    he = headend(sim, ids)
    (out,) = he.discover(store, clock.now(), fleet_meter_config(sim.fleet, range(3)))
    assert (out.destination, out.verb, out.noun) == (
        "topic:created.MeterConfig",
        "created",
        "MeterConfig",
    )
    document = parsed(out).document  # type: ignore[attr-defined]
    assert isinstance(document, MeterConfig)
    assert [m.mrid for m in document.meter] == [meter(sim, i) for i in range(3)]
    with store.snapshot() as reader:
        assert reader.count_objects(ObjectKind.METER) == 3
