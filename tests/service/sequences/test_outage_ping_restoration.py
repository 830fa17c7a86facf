"""Digest 4.6: outage detection with ping and restoration verification. A transformer fails:
its meters' last gasps (power off) reach the MDM through the head-end and are forwarded to the
OMS (the CIS sink here). The MDM pings the meters it believes out and a neighbour: the
neighbour answers energised (1), the dark ones are "not reachable" (an Error, never a 0).
Power returns: restoration events arrive, a new ping finds every meter energised."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.message.envelope import ReplyResult
from cimmeter.service.headend_common import ENERGIZATION
from cimmeter.store.base import EventQuery
from tests.service.conftest import T0
from tests.service.sequences.conftest import System


def test_outage_ping_restoration(system: System) -> None:
    fleet = system.sim.fleet
    victim = system.electric()
    out = system.same_transformer(victim)
    neighbour = next(i for i in range(fleet.n) if i not in out)
    outage_start, outage_end = T0 + timedelta(minutes=7), T0 + timedelta(minutes=50)
    system.sim.inject_outage(
        "transformer", int(fleet.transformer[victim]), outage_start, outage_end
    )
    system.tick(timedelta(minutes=10))

    power_off = system.exchanged(sender="headend", verb="created", noun="EndDeviceEvents")
    assert len(power_off) == 1 and power_off[0].result == "OK"
    assert {system.meter(i) in power_off[0].body.decode() for i in out} == {True}
    assert len(system.exchanged(sender="mdm", receiver="sink:cis", noun="EndDeviceEvents")) == 1

    def ping(indexes: list[int]) -> str:
        request = system.mdm_sends(
            lambda tx, now: system.mdm.request_read(
                tx,
                now,
                meters=[system.meter(i) for i in indexes],
                reading_types=[ENERGIZATION],
                asynchronous=False,
            )
        )
        (reply,) = system.exchanged(correlation_id=request.correlation_id, verb="reply")
        return reply.message.reply  # type: ignore[attr-defined, no-any-return]

    during = ping([*out, neighbour])
    assert during.result is ReplyResult.PARTIAL  # type: ignore[attr-defined]
    unreachable = {e.id.value: e.reason for e in during.errors if e.id}  # type: ignore[attr-defined]
    assert unreachable == {system.meter(i): "device not reachable" for i in out}
    (energised,) = system.mdm_readings(system.meter(neighbour), ENERGIZATION)
    assert energised.values.tolist() == [1.0]
    assert all(system.mdm_readings(system.meter(i), ENERGIZATION) == [] for i in out)

    system.tick(to=T0 + timedelta(hours=1))
    after = ping(out)
    assert after.result is ReplyResult.OK  # type: ignore[attr-defined]
    for i in out:
        (block,) = system.mdm_readings(system.meter(i), ENERGIZATION)
        assert block.values.tolist() == [1.0]

    with system.mdm_store.snapshot() as reader:
        off = reader.query_events(EventQuery(type_patterns=["*.26.0.85"]))
        on = reader.query_events(EventQuery(type_patterns=["*.26.0.216"]))
    assert sorted(e.device_mrid or "" for e in off) == sorted(system.meter(i) for i in out)
    assert {e.created for e in off} == {outage_start}
    assert {e.created for e in on} == {outage_end}
    points = {system.meter(i): system.usage_point(i) for i in out}
    assert all(e.usage_point_mrid == points[e.device_mrid or ""] for e in on)
