"""Digest 4.5: end device event notification. Meters raise tamper alarms; the head-end
collects them at its tick and publishes `created EndDeviceEvents`; the MDM stores them,
acknowledges, and forwards them to its subscribers (CIS). Pull variant: the MDM asks the
head-end for a meter's events of the day before the head-end started publishing (`get
EndDeviceEvents`, asynchronous) and stores the answer."""

from __future__ import annotations

from datetime import timedelta

from cimmeter.headend.events import EventRates
from cimmeter.store.base import EventQuery, Store
from tests.service.conftest import T0
from tests.service.sequences.conftest import MDM_REPLIES, build_system, quiet_fleet


def test_event_notification(stores: tuple[Store, Store]) -> None:
    rates = EventRates(
        0.0, 0.0, 75.0, 0.0, tamper=1.0, reverse_energy=0.0, clock_error=0.0, low_battery=0.0
    )
    system = build_system(stores, quiet_fleet(rates=rates))
    fleet = system.sim.fleet
    electric = [system.meter(i) for i in range(fleet.n) if fleet.kind[i] == 0]
    system.exchange.run_until(T0 + timedelta(days=1), timedelta(hours=1))
    published = system.exchanged(sender="headend", verb="created", noun="EndDeviceEvents")
    assert published and all(p.receiver == "mdm" and p.result == "OK" for p in published)
    assert {p.destination for p in published} == {"topic:created.EndDeviceEvents"}
    forwarded = system.exchanged(sender="mdm", receiver="sink:cis", noun="EndDeviceEvents")
    assert len(forwarded) == len(published)
    with system.mdm_store.snapshot() as reader:
        stored = reader.query_events(EventQuery(type_patterns=["*.12.0.257"]))
    assert sorted(e.device_mrid or "" for e in stored) == sorted(electric)  # one a meter a day
    assert all(e.usage_point_mrid for e in stored)  # attributed by the MDM's links
    first = stored[0]
    assert first.device_mrid is not None

    # the pull variant, asynchronous
    request = system.mdm_sends(
        lambda tx, now: system.mdm.request_events(
            tx, now, meters=[first.device_mrid or ""], start=T0 - timedelta(days=1), end=T0
        )
    )
    system.tick(timedelta(minutes=1))
    (result,) = [
        e
        for e in system.exchanged(sender="headend", noun="EndDeviceEvents")
        if e.destination == MDM_REPLIES
    ]
    assert (result.verb, result.correlation_id, result.result) == (
        "reply",
        request.correlation_id,
        "OK",
    )
    assert first.type_code in result.body.decode()
    with system.mdm_store.snapshot() as reader:
        pulled = reader.query_events(
            EventQuery(devices=[first.device_mrid], type_patterns=["*.12.0.257"])
        )
    assert len(pulled) == 2  # the day before, pulled, and the day published
    assert pulled[0].created <= T0 < pulled[1].created
    assert pulled[0].correlation_id == request.correlation_id
