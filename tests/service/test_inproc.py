"""The in-process exchange: routes, sinks, replies fed back to the requester, the log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import ReplyResult
from cimmeter.service.clock import ManualClock
from cimmeter.service.inproc import Exchange, ExchangeError
from cimmeter.store.base import Store
from tests.service.conftest import T0, Ids
from tests.service.headend_support import FWD_REG, get_readings, headend, meter, quiet_sim


@pytest.fixture
def sim() -> Simulation:
    return quiet_sim()


def test_routes_need_known_peers_and_unrouted_destinations_fail(
    store: Store, ids: Ids, sim: Simulation
) -> None:
    exchange = Exchange(ManualClock(T0))
    exchange.add("headend", headend(sim, ids), store)
    with pytest.raises(ExchangeError, match="no peer"):
        exchange.route("headend", "topic:*", "mdm")
    with pytest.raises(ExchangeError, match="taken or reserved"):
        exchange.add("headend", headend(sim, ids), store)
    # an asynchronous read puts its result in the outbox for a destination nobody routes
    result = exchange.send(
        "MDM-1", "headend", get_readings([meter(sim, 0)], [FWD_REG], asynchronous=True)
    )
    assert result.result is ReplyResult.OK
    with pytest.raises(ExchangeError, match="no route"):
        exchange.tick(timedelta(minutes=1))


def test_sinks_record_and_outboxes_empty(store: Store, ids: Ids, sim: Simulation) -> None:
    clock = ManualClock(T0)
    exchange = Exchange(clock)
    he = headend(sim, ids)
    exchange.add("headend", he, store)
    exchange.route("headend", "*", "sink:mdm")
    he.start(store, clock.now())
    exchange.send("MDM-1", "headend", get_readings([meter(sim, 0)], [FWD_REG], asynchronous=True))
    delivered = exchange.tick(timedelta(minutes=1))
    assert [(e.sender, e.receiver, e.verb, e.noun, e.result) for e in delivered] == [
        ("headend", "sink:mdm", "reply", "MeterReadings", None)
    ]
    assert delivered[0].message.kind == "ResponseMessage"
    assert str(exchange.log[0]).startswith("MDM-1 => headend: get MeterReadings")
    with store.snapshot() as reader:
        assert reader.pending_outbox() == []
    assert exchange.find(receiver="sink:mdm") == delivered
