"""Both roles in one process (issue 6, "Sequences"): an MDM and a head-end, each a service core
with its own store, joined by the in-process exchange (`cimmeter.service.inproc`), which passes
every message as XML bytes, parsed by the receiver with the real codecs.

The head-end drives a quiet simulated fleet (nothing happens by chance: each test makes what
happens). The MDM knows the fleet's meters, usage points and links, sent by a CIS through the
MDM's own handlers (`create MeterConfig`, `UsagePointConfig`, `MasterDataLinkageConfig`), so
every sequence starts from master data the MDM accepted. Routes: MDM requests -> head-end;
head-end results (ReplyAddress) and events (`topic:*`) -> MDM; MDM events -> a CIS sink.

Each sequence runs on SQLite and on PostgreSQL (two throw-away databases).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.generation import Realism
from cimmeter.headend.network import SimulatedNetwork
from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import (
    EventMessage,
    Header,
    Payload,
    Request,
    RequestMessage,
    write_xml,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.model.base import CimDocument
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import HandleResult, Outgoing, send_request
from cimmeter.service.headend import HeadEndOptions, HeadEndService
from cimmeter.service.inproc import Exchange, Exchanged
from cimmeter.service.mdm import MdmService
from cimmeter.store.base import ReadingQuery, Store, StoreTransaction
from tests.service.conftest import T0, PgDatabase, _open_store

FLEET_START = T0 - timedelta(days=7)
MDM_REPLIES = "http://127.0.0.1:8080/mdm/replies"
CIS = "CIS-1"

FWD = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
FWD_REG = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
MAX_DEMAND = "8.8.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"


class Ids:
    """Deterministic ids with a prefix per peer (`mdm-1`, `hes-1`, ...)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}-{self.n}"


@dataclass
class System:
    """The MDM, the head-end, the fleet, both stores, the clock and the exchange."""

    exchange: Exchange
    mdm: MdmService
    headend: HeadEndService
    sim: Simulation
    mdm_store: Store
    he_store: Store
    clock: ManualClock
    start: int = 0
    """Where the exchange log stood when the test began (master data loading excluded)."""
    _cis_ids: int = 0

    # -- the fleet ---------------------------------------------------------------------------

    def meter(self, index: int) -> str:
        mrid = self.sim.fleet.meter_ref(index).mrid
        assert mrid is not None
        return mrid

    def usage_point(self, index: int) -> str:
        mrid = self.sim.fleet.usage_point_ref(index).mrid
        assert mrid is not None
        return mrid

    def electric(self, *, enrolled: bool | None = None, skip: int = 0) -> int:
        fleet = self.sim.fleet
        found = [
            m
            for m in range(fleet.n)
            if fleet.kind[m] == 0 and (enrolled is None or bool(fleet.enrolled[m]) == enrolled)
        ]
        return found[skip]

    def same_transformer(self, index: int) -> list[int]:
        fleet = self.sim.fleet
        return [m for m in range(fleet.n) if fleet.transformer[m] == fleet.transformer[index]]

    # -- acting ------------------------------------------------------------------------------

    def mdm_sends(self, build: Callable[[StoreTransaction, datetime], Outgoing]) -> Outgoing:
        """The MDM makes a request in a transaction of its own (as its runtime would), then
        the exchange delivers everything."""
        with self.mdm_store.transaction() as tx:
            out = build(tx, self.clock.now())
        self.exchange.deliver()
        return out

    def cis(
        self, verb: str, document: CimDocument, *, source: str = CIS, **header: Any
    ) -> HandleResult:
        """A message of an enterprise system (CIS, WMS, ...) to the MDM, as bytes, logged by
        the exchange: a RequestMessage for a request verb, an EventMessage for a past tense."""
        self._cis_ids += 1
        noun = REGISTRY.entry_of(document).noun
        head = Header(
            verb=Verb(verb),
            noun=noun,
            timestamp=self.clock.now(),
            source=source,
            message_id=f"{source.lower()}-{self._cis_ids}",
            **header,
        )
        payload = Payload(document=document)
        message: RequestMessage | EventMessage = (
            RequestMessage(header=head, payload=payload)
            if VERBS[Verb(verb)].kind is VerbKind.request
            else EventMessage(header=head, payload=payload)
        )
        result = self.exchange.send(source, "mdm", write_xml(message))
        self.exchange.deliver()
        return result

    def mdm_cancels(
        self, correlation: str, verb: Verb = Verb.cancel, document: CimDocument | None = None
    ) -> Outgoing:
        """The MDM cancels (or changes) one of its controls: the same CorrelationID as the
        create names it (digest 4.7, 4.17 note 4), a new MessageID."""
        self._cis_ids += 1

        def build(tx: StoreTransaction, now: datetime) -> Outgoing:
            message = RequestMessage(
                header=Header(
                    verb=verb,
                    noun="EndDeviceControls",
                    timestamp=now,
                    source="MDM-1",
                    message_id=f"{correlation}-{verb.value}-{self._cis_ids}",
                    correlation_id=correlation,
                ),
                payload=Payload(document=document) if document is not None else None,
            )
            return send_request(tx, "headend", message, now)

        return self.mdm_sends(build)

    def cis_get(self, noun: str, query: CimDocument, **header: Any) -> HandleResult:
        """A CIS `get` to the MDM (the query in Request, digest fact 1)."""
        self._cis_ids += 1
        message = RequestMessage(
            header=Header(
                verb=Verb.get,
                noun=noun,
                timestamp=self.clock.now(),
                source=CIS,
                message_id=f"cis-{self._cis_ids}",
                **header,
            ),
            request=Request(query=query),
        )
        return self.exchange.send(CIS, "mdm", write_xml(message))

    def tick(
        self, advance: timedelta | None = None, *, to: datetime | None = None
    ) -> list[Exchanged]:
        return self.exchange.tick(advance, to=to)

    # -- looking -----------------------------------------------------------------------------

    def exchanged(self, **filters: Any) -> list[Exchanged]:
        """What was exchanged since the test began, filtered (`Exchange.find`)."""
        return self.exchange.find(since=self.start, **filters)

    def flow(self, since: int | None = None) -> list[tuple[str, str, str, str]]:
        """(sender, receiver, verb, noun) of each message, in order."""
        return [
            (e.sender, e.receiver, e.verb, e.noun)
            for e in self.exchange.log[self.start if since is None else since :]
        ]

    def mdm_readings(self, meter: str, reading_type: str) -> list[ReadingBlock]:
        with self.mdm_store.snapshot() as reader:
            return list(
                reader.read_readings(ReadingQuery(meters=[meter], reading_types=[reading_type]))
            )


def quiet_fleet(n: int = 12, rates: EventRates | None = None) -> Simulation:
    return Simulation(
        FleetOptions(n_meters=n, seed=11, start=FLEET_START, load_control_share=0.5),
        rates=rates or EventRates.none(),
        realism=Realism.clean(),
        customer_presses_button=False,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two upgraded, empty stores of one engine: the MDM's and the head-end's."""
    open_store = _open_store()
    if request.param == "sqlite":
        with (
            open_store(f"sqlite:///{tmp_path / 'mdm.db'}", upgrade=True) as mdm,
            open_store(f"sqlite:///{tmp_path / 'headend.db'}", upgrade=True) as headend,
        ):
            yield mdm, headend
        return
    databases = [PgDatabase(), PgDatabase()]
    try:
        with (
            open_store(databases[0].url, upgrade=True) as mdm,
            open_store(databases[1].url, upgrade=True) as headend,
        ):
            yield mdm, headend
    finally:
        for database in databases:
            database.drop()


def build_system(
    stores: tuple[Store, Store],
    sim: Simulation | None = None,
    options: HeadEndOptions | None = None,
    **headend_config: Any,
) -> System:
    mdm_store, he_store = stores
    sim = sim or quiet_fleet()
    clock = ManualClock(T0)
    mdm = MdmService(
        ServiceConfig(
            role="mdm", source="MDM-1", reply_address=MDM_REPLIES, headend_destination="headend"
        ),
        new_id=Ids("mdm"),
    )
    headend = HeadEndService(
        ServiceConfig(role="headend", source="HES-1", **headend_config),
        SimulatedNetwork(sim),
        options,
        new_id=Ids("hes"),
    )
    exchange = Exchange(clock)
    exchange.add("mdm", mdm, mdm_store)
    exchange.add("headend", headend, he_store)
    exchange.route("mdm", "headend", "headend")
    exchange.route("headend", "http://127.0.0.1:8080/mdm*", "mdm")
    exchange.route("headend", "topic:*", "mdm")
    exchange.route("mdm", "topic:*", "sink:cis")
    system = System(exchange, mdm, headend, sim, mdm_store, he_store, clock)
    _load_master_data(system)
    headend.start(he_store, clock.now())
    system.start = exchange.mark()
    return system


def _load_master_data(system: System) -> None:
    """The CIS gives the MDM the fleet: meters, usage points, and their links."""
    n = system.sim.fleet.n
    meters = REGISTRY.noun("MeterConfig").payload.model_validate(
        {
            "Meter": [
                {"mRID": system.meter(i), "Names": [{"name": system.sim.fleet.name("meter", i)}]}
                for i in range(n)
            ]
        }
    )
    assert system.cis("create", meters).result.value == "OK"
    points = REGISTRY.noun("UsagePointConfig").payload.model_validate(
        {"UsagePoint": [{"mRID": system.usage_point(i)} for i in range(n)]}
    )
    assert system.cis("create", points).result.value == "OK"
    for i in range(n):
        link = linkage(system.meter(i), system.usage_point(i), FLEET_START)
        assert system.cis("create", link).result.value == "OK"


def linkage(meter: str | None, usage_point: str, at: datetime, **others: Any) -> CimDocument:
    data: dict[str, Any] = {
        "ConfigurationEvent": {
            "createdDateTime": at.isoformat(),
            "effectiveDateTime": at.isoformat(),
        },
        "UsagePoint": [{"mRID": usage_point}],
        **others,
    }
    if meter is not None:
        data["Meter"] = [{"mRID": meter}]
    return REGISTRY.noun("MasterDataLinkageConfig").payload.model_validate(data)


@pytest.fixture
def system(stores: tuple[Store, Store]) -> System:
    return build_system(stores)
