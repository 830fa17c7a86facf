"""`cimmeter demo`: the whole system in one process, touring the standard's main sequences.

What runs (no servers needed):
- the MDM and the head-end, each a service core (`MdmService`, `HeadEndService`) over its own
  SQLite store (`cimmeter-demo.db`, `cimmeter-demo-headend.db`);
- the real HTTP server (`runtime.server.Server`: SOAP + WSDL, REST/JSON + OpenAPI) on loopback,
  the MDM at the root and the head-end under `/headend`, without authentication (it listens on
  127.0.0.1 only, and says so);
- a simulated fleet of 200 meters behind the head-end (`cimmeter.headend`).

The tour plays a CIS and an operator: the master data goes to the MDM over HTTP, as a CIS would
send it (`create MeterConfig`, `UsagePointConfig`, `MasterDataLinkageConfig`); the MDM's own
requests to its head-end and the head-end's results and events travel between the two cores as
XML bytes through the in-process exchange (`service.inproc`, DECISIONS.md "serve --role both":
in one process the MDM reaches its head-end in-process). Time is simulated (a `ManualClock`
shared by the server and the exchange), so a day of data and an outage take seconds, and the
same seed gives the same tour. Everything lands in the SQLite stores; the summary counts what
the MDM's store holds.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.table import Table

from cimmeter.codes import named
from cimmeter.headend.devices import RelayState
from cimmeter.headend.fleet import ELECTRIC
from cimmeter.headend.network import SimulatedNetwork
from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import Message
from cimmeter.message.verbs import Verb
from cimmeter.runtime.app import ServiceHandler
from cimmeter.runtime.read_side import StoreReadSide
from cimmeter.runtime.server import Server, ServeSettings, Wiring
from cimmeter.runtime.simulate import MessageNumbers, SimulateOptions, master_data
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import Outgoing
from cimmeter.service.headend import HeadEndOptions, HeadEndService
from cimmeter.service.headend_common import ENERGIZATION
from cimmeter.service.headend_config import fleet_meter_config
from cimmeter.service.inproc import Exchange, Exchanged
from cimmeter.service.mdm import MdmService
from cimmeter.store import EventQuery, ReadingQuery, Store, open_store
from cimmeter.store.base import StoreTransaction
from cimmeter.store.records import ControlState, ObjectKind
from cimmeter.transport.client import HttpSender
from cimmeter.transport.http import HttpSettings, Mount
from cimmeter.transport.inbound import Role

FLEET_START: Final = datetime(2025, 6, 2, tzinfo=UTC)
"""The fleet's first day (a Monday); the tour starts one day later."""
TOUR_START: Final = FLEET_START + timedelta(days=1)
MDM_REPLIES: Final = "http://127.0.0.1/mdm/replies"
"""The MDM's ReplyAddress: loopback (allowed by default), routed to the MDM in-process."""
DB_FILES: Final = ("cimmeter-demo.db", "cimmeter-demo-headend.db")

FWD_REGISTER: Final = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
"""Forward active energy register (kWh): what an on-demand read asks for."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    directory: Path
    meters: int = 200
    seed: int = 1
    host: str = "127.0.0.1"
    port: int = 8600


@dataclass(slots=True)
class DemoReport:
    """What the tour did and found (the CLI prints it; tests assert on it)."""

    base_url: str = ""
    mdm_db: str = ""
    headend_db: str = ""
    seconds: float = 0.0
    http_messages: int = 0
    exchanged: int = 0
    meters: int = 0
    usage_points: int = 0
    readings: int = 0
    events: int = 0
    out_meters: list[str] = field(default_factory=list)
    unreachable_during: int = 0
    energised_after: int = 0
    on_demand_kwh: float | None = None
    controls: dict[str, str] = field(default_factory=dict)
    """Control name -> its final state at the MDM."""
    relay_after: dict[str, str] = field(default_factory=dict)
    demand_before_kw: float = 0.0
    demand_after_kw: float = 0.0
    vee_counts: dict[str, int] = field(default_factory=dict)
    """actual / estimated / edited / missing interval readings of the day after VEE."""
    vee_rules: dict[str, int] = field(default_factory=dict)
    greenbutton_file: str = ""
    greenbutton_readings: int = 0
    greenbutton_errors: list[str] = field(default_factory=list)


class DemoError(RuntimeError):
    """The demo cannot start (port taken, store not writable) or a step did not happen."""


class _Background:
    """The HTTP server in a thread of its own, with its own event loop."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="cimmeter-demo-http", daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.server.serve(lambda _: self.ready.set()))
        except BaseException as exc:  # reported by start()
            self.error = exc
            self.ready.set()

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(60) or self.error is not None:
            settings = self.server.settings
            why = "the port is taken?" if isinstance(self.error, SystemExit) else repr(self.error)
            raise DemoError(
                f"cannot serve on {settings.host}:{settings.port} ({why}); try --port 0"
            )

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.server.stop)
            self.thread.join(30)


def _check_port(host: str, port: int) -> None:
    """A clear error before anything starts when the port is taken (uvicorn would exit)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DemoError(
                f"cannot listen on {host}:{port} ({exc.strerror}); try another --port, or 0"
            ) from None


class Ids:
    """Deterministic message ids per role (`mdm-1`, `hes-1`, ...): the same tour twice writes
    the same messages."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}-{self.n}"


class Demo:
    """The system and the tour (module doc). `start()`, `tour()`, then `serve_until_interrupted()`
    or `close()`."""

    def __init__(self, options: DemoOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.report = DemoReport()
        self.clock = ManualClock(TOUR_START)
        self.sim: Simulation = SimulateOptions(
            meters=options.meters, seed=options.seed, start=FLEET_START
        ).simulation()
        self.stores: list[Store] = []
        self.background: _Background | None = None

    # -- the system ------------------------------------------------------------------------------

    def start(self) -> None:
        _check_port(self.options.host, self.options.port)
        directory = self.options.directory
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory / name for name in DB_FILES]
        for path in paths:  # a fresh store each run: the tour's ids repeat
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)
        self.report.mdm_db, self.report.headend_db = (str(p) for p in paths)
        self.mdm_store = open_store(f"sqlite:///{paths[0]}", upgrade=True)
        self.stores.append(self.mdm_store)
        self.he_store = open_store(f"sqlite:///{paths[1]}", upgrade=True)
        self.stores.append(self.he_store)
        self.mdm = MdmService(
            ServiceConfig(
                role="mdm",
                source="MDM-1",
                reply_address=MDM_REPLIES,
                headend_destination="headend",
            ),
            new_id=Ids("mdm"),
        )
        self.headend = HeadEndService(
            ServiceConfig(role="headend", source="HES-1"),
            SimulatedNetwork(self.sim),
            HeadEndOptions(max_sync_devices=50),
            new_id=Ids("hes"),
        )
        exchange = Exchange(self.clock)
        exchange.add("mdm", self.mdm, self.mdm_store)
        exchange.add("headend", self.headend, self.he_store)
        exchange.route("mdm", "headend", "headend")
        exchange.route("headend", "http://127.0.0.1*", "mdm")
        exchange.route("headend", "topic:*", "mdm")
        exchange.route("mdm", "topic:*", "sink:subscribers")
        self.exchange = exchange
        self.headend.start(self.he_store, self.clock.now())
        wiring = Wiring(
            [
                Mount(Role.MDM, ServiceHandler(self.mdm, self.mdm_store, self.clock)),
                Mount(
                    Role.HEADEND,
                    ServiceHandler(self.headend, self.he_store, self.clock),
                    "/headend",
                ),
            ],
            read_side=StoreReadSide(self.mdm_store),
            health=lambda: {"store": "ok"},
        )
        settings = ServeSettings(
            host=self.options.host,
            port=self.options.port,
            http=HttpSettings(require_auth=False),
        )
        self.background = _Background(Server(wiring, settings, self.clock))
        self.background.start()
        self.report.base_url = self.background.server.base_url

    def close(self) -> None:
        if self.background is not None:
            self.background.stop()
        for store in self.stores:
            store.close()

    def serve_until_interrupted(self, poll_seconds: float = 1.0) -> None:
        """Keep serving; simulated time follows the wall clock, and what arrives over HTTP
        (an MDM request to the head-end, say) is delivered and its jobs run."""
        last = time.monotonic()
        try:
            while True:
                time.sleep(poll_seconds)
                now = time.monotonic()
                self.exchange.tick(timedelta(seconds=now - last))
                last = now
        except KeyboardInterrupt:
            self.console.print("stopping")

    # -- acting ------------------------------------------------------------------------------------

    def mdm_sends(self, build: Callable[[StoreTransaction, datetime], Outgoing]) -> Outgoing:
        """The MDM makes a request in a transaction of its own; the exchange delivers it."""
        with self.mdm_store.transaction() as tx:
            out = build(tx, self.clock.now())
        self.exchange.deliver()
        return out

    def reply_to(self, request: Outgoing) -> Message:
        found = self.exchange.find(correlation_id=request.correlation_id, verb="reply")
        if not found:
            raise DemoError(f"no reply to {request.verb} {request.noun}")
        return found[-1].message

    def meter(self, index: int) -> str:
        mrid = self.sim.fleet.meter_ref(index).mrid
        assert mrid is not None
        return mrid

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def step(self, number: int, title: str) -> None:
        self.console.print(f"\n[bold cyan]{number}. {title}[/bold cyan]", highlight=False)

    def flow(self, entries: Sequence[Exchanged], limit: int = 6) -> None:
        """The messages that went between MDM and head-end, one short line each."""
        shown = [e for e in entries if e.receiver != "sink:subscribers"]
        for entry in shown[:limit]:
            result = f" -> {entry.result}" if entry.result else ""
            self.say(
                f"   [dim]{entry.sender} => {entry.receiver}: {entry.verb} {entry.noun}{result}[/]"
            )
        if len(shown) > limit:
            self.say(f"   [dim]... and {len(shown) - limit} more[/]")

    # -- the tour ----------------------------------------------------------------------------------

    def tour(self) -> DemoReport:
        began = time.perf_counter()
        r = self.report
        self.say(
            f"[bold]cimmeter demo[/bold]: an MDM and a head-end with {self.options.meters} "
            f"simulated meters, SQLite stores in {self.options.directory}"
        )
        self.say(
            f"HTTP server on {r.base_url} (MDM at /, head-end at /headend); no authentication: "
            "it listens on 127.0.0.1 only"
        )
        self.say(f"simulated time starts at {self.clock.now():%Y-%m-%d %H:%M} UTC")
        self._install()
        self._day_of_readings()
        self._outage()
        self._on_demand_read()
        self._disconnect_reconnect()
        self._demand_reset()
        self._vee_and_green_button()
        r.seconds = time.perf_counter() - began
        self._summary()
        return r

    def _install(self) -> None:
        self.step(1, "Install the meters (CIS -> MDM over HTTP, SOAP)")
        options = SimulateOptions(
            meters=self.options.meters, seed=self.options.seed, start=FLEET_START, source="CIS-1"
        )
        sent = {"MeterConfig": 0, "UsagePointConfig": 0, "MasterDataLinkageConfig": 0}
        results: dict[str, int] = {}
        with HttpSender(self.report.base_url) as sender:
            for message in master_data(self.sim, options, MessageNumbers(self.options.seed)):
                result = sender.send(message.body).result
                results[result] = results.get(result, 0) + 1
                sent[message.noun] += 1
        self.report.http_messages += sum(sent.values())
        if set(results) != {"OK"}:
            raise DemoError(f"installing the meters: {results}")
        self.say(
            f"   create MeterConfig ({self.options.meters} meters), create UsagePointConfig, "
            f"{sent['MasterDataLinkageConfig']} x create MasterDataLinkageConfig: all OK"
        )
        mark = self.exchange.mark()
        document = fleet_meter_config(self.sim.fleet, range(self.sim.fleet.n))
        self.mdm_sends(lambda tx, now: self.mdm.sync_to_headend(tx, now, Verb.create, document))
        self.say("   the MDM tells its head-end (create MeterConfig):")
        self.flow(self.exchange.log[mark:])
        with self.mdm_store.snapshot() as reader:
            self.report.meters = reader.count_objects(ObjectKind.METER)
            self.report.usage_points = reader.count_objects(ObjectKind.USAGE_POINT)
        self.say(
            f"   the MDM's store: {self.report.meters} meters, "
            f"{self.report.usage_points} usage points, each linked"
        )

    def _count_readings(self, meters: Sequence[str] = ()) -> int:
        with self.mdm_store.snapshot() as reader:
            return sum(len(b) for b in reader.read_readings(ReadingQuery(meters=meters)))

    def _day_of_readings(self) -> None:
        self.step(2, "A day of readings (MDM get MeterReadings -> head-end, asynchronous)")
        mark = self.exchange.mark()
        meters = [self.meter(i) for i in range(self.sim.fleet.n)]
        self.mdm_sends(
            lambda tx, now: self.mdm.request_read(
                tx, now, meters=meters, start=FLEET_START, end=TOUR_START, asynchronous=True
            )
        )
        self.exchange.tick(timedelta(minutes=1))
        self.flow(self.exchange.log[mark:])
        readings = self._count_readings()
        if readings == 0:
            raise DemoError("no readings reached the MDM")
        self.say(
            f"   {readings:,} readings stored by the MDM (15-minute kWh forward and reverse, "
            "daily registers, maximum demand)"
        )

    def _ping(self, meters: Sequence[str]) -> Message:
        request = self.mdm_sends(
            lambda tx, now: self.mdm.request_read(
                tx, now, meters=meters, reading_types=[ENERGIZATION], asynchronous=False
            )
        )
        return self.reply_to(request)

    def _outage(self) -> None:
        fleet = self.sim.fleet
        victim = next(
            i
            for i in range(fleet.n)
            if fleet.kind[i] == ELECTRIC
            and len(fleet.meters_under_transformer(int(fleet.transformer[i]))) >= 3
        )
        transformer = int(fleet.transformer[victim])
        out = [int(i) for i in fleet.meters_under_transformer(transformer)]
        neighbour = next(i for i in range(fleet.n) if i not in out and fleet.kind[i] == ELECTRIC)
        name = fleet.name("transformer", transformer)
        self.step(3, f"An outage on transformer {name} ({len(out)} meters), verified by ping")
        now = self.clock.now()
        start, end = now + timedelta(minutes=7), now + timedelta(minutes=50)
        self.sim.inject_outage("transformer", transformer, start, end)
        self.say(f"   power fails at {start:%H:%M}; the meters send their last gasps")
        mark = self.exchange.mark()
        self.exchange.tick(to=now + timedelta(minutes=10))
        self.flow(self.exchange.log[mark:])
        out_mrids = [self.meter(i) for i in out]
        self.report.out_meters = out_mrids
        with self.mdm_store.snapshot() as reader:
            off = reader.query_events(EventQuery(devices=out_mrids, type_patterns=["*.26.0.85"]))
        self.say(f"   the MDM holds {len(off)} power-off events (3.26.0.85) for those meters")
        during = self._ping([*out_mrids, self.meter(neighbour)])
        reply = getattr(during, "reply", None)
        errors = [e for e in (reply.errors if reply else ()) if e.reason == "device not reachable"]
        self.report.unreachable_during = len(errors)
        self.say(
            f"   ping ({len(out) + 1} meters): {reply.result.value if reply else '?'}, "
            f"{len(errors)} not reachable, the neighbour answers energised"
        )
        mark = self.exchange.mark()
        self.exchange.tick(to=now + timedelta(hours=1))
        with self.mdm_store.snapshot() as reader:
            on = reader.query_events(EventQuery(devices=out_mrids, type_patterns=["*.26.0.216"]))
        self.say(f"   power returns at {end:%H:%M}: {len(on)} power-restored events (3.26.0.216)")
        after = self._ping(out_mrids)
        reply = getattr(after, "reply", None)
        with self.mdm_store.snapshot() as reader:
            energised = [
                b
                for b in reader.read_readings(
                    ReadingQuery(meters=out_mrids, reading_types=[ENERGIZATION])
                )
                if len(b) and b.values[-1] == 1.0
            ]
        self.report.energised_after = len(energised)
        self.say(
            f"   ping again: {reply.result.value if reply else '?'}, {len(energised)} of "
            f"{len(out)} energised: restoration verified"
        )

    def _electric(self, skip: int) -> int:
        fleet = self.sim.fleet
        outage = set(self.report.out_meters)
        found = [
            i for i in range(fleet.n) if fleet.kind[i] == ELECTRIC and self.meter(i) not in outage
        ]
        return found[skip]

    def _on_demand_read(self) -> None:
        index = self._electric(1)
        name = self.sim.fleet.name("meter", index)
        self.step(4, f"An on-demand read of {name} (synchronous get MeterReadings)")
        mrid = self.meter(index)
        request = self.mdm_sends(
            lambda tx, now: self.mdm.request_read(
                tx, now, meters=[mrid], reading_types=[FWD_REGISTER], asynchronous=False
            )
        )
        reply = getattr(self.reply_to(request), "reply", None)
        now = self.clock.now()
        with self.mdm_store.snapshot() as reader:
            blocks = [
                b
                for b in reader.read_readings(
                    ReadingQuery(meters=[mrid], reading_types=[FWD_REGISTER])
                )
                if len(b)
            ]
        latest = max(((int(b.timestamps[-1]), float(b.values[-1])) for b in blocks), default=None)
        if latest is None or latest[0] != int(now.timestamp()):
            raise DemoError("the on-demand register read did not reach the MDM")
        self.report.on_demand_kwh = latest[1]
        self.say(
            f"   reply {reply.result.value if reply else '?'}: register {latest[1]:,.3f} kWh "
            f"at {now:%H:%M}, stored by the MDM"
        )

    def _control(self, label: str, code: str, mrid: str) -> str:
        mark = self.exchange.mark()
        request = self.mdm_sends(
            lambda tx, now: self.mdm.issue_control(
                tx, now, control_type=code, devices=[mrid], issuer_tracking_id=label
            )
        )
        self.exchange.tick(timedelta(minutes=6))
        self.flow(
            [e for e in self.exchange.log[mark:] if e.correlation_id == request.correlation_id]
        )
        with self.mdm_store.snapshot() as reader:
            states = {c.state for c in reader.find_controls(correlation_id=request.correlation_id)}
        state = states.pop().value if len(states) == 1 else str(sorted(states))
        self.report.controls[label] = state
        return state

    def _disconnect_reconnect(self) -> None:
        index = self._electric(2)
        mrid = self.meter(index)
        name = self.sim.fleet.name("meter", index)
        self.step(5, f"Remote disconnect and reconnect of {name} (create EndDeviceControls)")
        for label, code in (
            ("disconnect", str(named.REMOTE_DISCONNECT)),
            ("reconnect", str(named.REMOTE_CONNECT)),
        ):
            self.say(f"   {label} ({code}):")
            state = self._control(label, code, mrid)
            relay = self.sim.relay(index, int(self.clock.now().timestamp()))
            self.report.relay_after[label] = relay.value
            self.say(f"   the MDM's control is {state}; the meter's relay is {relay.value}")
            if label == "disconnect" and relay is not RelayState.OPEN:
                raise DemoError("the relay did not open")

    def _demand_reset(self) -> None:
        index = self._electric(3)
        mrid = self.meter(index)
        name = self.sim.fleet.name("meter", index)
        self.step(6, f"A demand reset of {name}")
        at = int(self.clock.now().timestamp())
        self.report.demand_before_kw = self.sim.max_demand_kw(index, at)
        state = self._control("demand reset", str(named.DEMAND_RESET), mrid)
        self.report.demand_after_kw = self.sim.max_demand_kw(
            index, int(self.clock.now().timestamp())
        )
        self.say(
            f"   maximum demand {self.report.demand_before_kw:.2f} kW before, "
            f"{self.report.demand_after_kw:.2f} kW after; the MDM's control is {state}"
        )

    def _vee_and_green_button(self) -> None:
        from cimmeter.billing.determinants import billing_config_from_mapping
        from cimmeter.greenbutton.export import ExportOptions, StoreFeedReader, write_feed
        from cimmeter.greenbutton.validate import validation_errors
        from cimmeter.vee.runner import run_vee

        self.step(7, "VEE of the day's readings, and one customer's day as Green Button")
        summary = run_vee(self.mdm_store, start=FLEET_START, end=TOUR_START, now=self.clock.now())
        r = self.report
        r.vee_counts = {k: int(v) for k, v in summary.counts.items()}
        r.vee_rules = {k: int(v) for k, v in summary.rules.items()}
        estimated = r.vee_counts.get("estimated", 0)
        rules = ", ".join(f"{k} {v}" for k, v in sorted(r.vee_rules.items())) or "none"
        self.say(
            f"   {summary.readings:,} raw readings of {summary.channels} channels validated: "
            f"{r.vee_counts.get('actual', 0):,} actual, {estimated} estimated "
            f"(raw kept, estimates beside them); findings: {rules}"
        )
        up = self.sim.fleet.mrid("usage-point", 0)
        path = self.options.directory / f"greenbutton-{self.sim.fleet.name('usage-point', 0)}.xml"
        options = ExportOptions(
            start=FLEET_START,
            end=TOUR_START,
            billing=billing_config_from_mapping({"timezone": "UTC"}, source="demo"),
            updated=self.clock.now(),
        )
        with path.open("wb") as out:
            stats = write_feed(out, StoreFeedReader(self.mdm_store), [up], options)
        r.greenbutton_file = str(path)
        r.greenbutton_readings = stats.readings
        r.greenbutton_errors = validation_errors(path)
        verdict = "valid against the ESPI schema" if not r.greenbutton_errors else "INVALID"
        self.say(
            f"   Green Button (ESPI) file of usage point {self.sim.fleet.name('usage-point', 0)}: "
            f"{stats.readings} readings, {verdict}: {path}"
        )
        if r.greenbutton_errors:
            raise DemoError(f"the Green Button file is not valid: {r.greenbutton_errors[:3]}")

    def _summary(self) -> None:
        r = self.report
        r.readings = self._count_readings()
        with self.mdm_store.snapshot() as reader:
            events = reader.query_events(EventQuery())
            controls = reader.find_controls()
        r.events = len(events)
        r.exchanged = len([e for e in self.exchange.log if not e.receiver.startswith("sink:")])
        executed = sum(1 for c in controls if c.state is ControlState.EXECUTED)
        table = Table(title="What the MDM's store holds", show_header=True, header_style="bold")
        table.add_column("what")
        table.add_column("count", justify="right")
        for what, count in (
            ("meters", r.meters),
            ("usage points", r.usage_points),
            ("readings", r.readings),
            ("end device events", r.events),
            ("controls executed", executed),
            ("readings estimated by VEE", r.vee_counts.get("estimated", 0)),
            ("messages over HTTP (CIS -> MDM)", r.http_messages),
            ("messages MDM <-> head-end", r.exchanged),
        ):
            table.add_row(what, f"{count:,}")
        self.console.print()
        self.console.print(table)
        self.say(f"tour done in {r.seconds:.1f} s")
        base = r.base_url
        meter = self.meter(0)
        self.say("\n[bold]Look around[/bold] (no authentication on 127.0.0.1):")
        for label, url in (
            ("REST docs", f"{base}/docs"),
            ("OpenAPI", f"{base}/openapi.json"),
            ("health", f"{base}/health"),
            ("meters", f"{base}/meters"),
            ("readings of a meter", f"{base}/meters/{meter}/readings"),
            ("events", f"{base}/events"),
            ("SOAP WSDL", f"{base}/soap/SendMeterReadings?wsdl"),
        ):
            self.say(f"  {label:<20} {url}")
        self.say(f"stores: {r.mdm_db} (MDM), {r.headend_db} (head-end)")


def run_demo(options: DemoOptions, console: Console, *, once: bool) -> DemoReport:
    """Start, tour, then serve until Ctrl-C (or stop at once with `once`)."""
    demo = Demo(options, console)
    try:
        demo.start()
        report = demo.tour()
        if not once:
            console.print("\nserving until Ctrl-C ...")
            demo.serve_until_interrupted()
        return report
    finally:
        demo.close()


def temporary_directory() -> Path:
    """A fresh folder for `--tmp` (kept after the run, so the stores can be looked at)."""
    return Path(tempfile.mkdtemp(prefix="cimmeter-demo-"))


__all__ = [
    "DB_FILES",
    "Demo",
    "DemoError",
    "DemoOptions",
    "DemoReport",
    "run_demo",
    "temporary_directory",
]
