"""VEE against the store: read raw channels in blocks, run the engine, write the final series
and the findings back, one transaction per chunk of meters.

The final series is written with `ingest_readings(series="final")`, so it is versioned like raw
data: an unchanged value is a no-op (a re-run changes nothing), a changed one keeps the old
version. Each final block's batch source says why (`vee:actual`, `vee:estimate:linear`, ...).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from cimmeter.codes.reading_type import ReadingType
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock, concat_blocks
from cimmeter.store.base import ReadingQuery, Store, StoreReader, StoreTransaction
from cimmeter.store.records import LinkageKind, ObjectKind, VeeFinding, VeeRun
from cimmeter.vee import context as ctxmod
from cimmeter.vee.config import VeeConfig
from cimmeter.vee.engine import run_channel
from cimmeter.vee.model import WHY, ChannelInput, ChannelResult

HISTORY = timedelta(weeks=4)
CHUNK = 200
"""Meters per transaction."""


@dataclass
class RunSummary:
    """What a VEE run did."""

    meters: int = 0
    channels: int = 0
    readings: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    """actual / estimated / edited / missing."""
    rules: Counter[str] = field(default_factory=Counter)
    """Findings per rule (and per `estimate:<method>`)."""
    written: int = 0
    """Final rows inserted or versioned (0 on an idempotent re-run)."""
    run_ids: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per rule and method, summed over channels (engine time only)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "meters": self.meters,
            "channels": self.channels,
            "readings": self.readings,
            "counts": dict(self.counts),
            "rules": dict(sorted(self.rules.items())),
            "written": self.written,
        }


def load_config(reader: StoreReader, config: VeeConfig | None) -> VeeConfig:
    """The given configuration, else the one stored with `vee rules set`, else defaults."""
    if config is not None:
        return config
    stored = reader.get_vee_config()
    return VeeConfig.from_mapping(stored, "stored vee config") if stored else VeeConfig()


def select_meters(
    reader: StoreReader,
    *,
    usage_points: Sequence[str] = (),
    group: str | None = None,
    at: datetime,
) -> list[str]:
    """Meters to run: of the usage points, of a group's usage points, or all."""
    ups = list(usage_points)
    if group is not None:
        found = reader.get_object(ObjectKind.USAGE_POINT_GROUP, group)
        if found is None or found.deleted:
            found = reader.resolve(ObjectKind.USAGE_POINT_GROUP, ObjectRef(name=group))
        ups += [
            lk.to_mrid for lk in reader.linkages(LinkageKind.GROUP_MEMBER, from_mrid=found.mrid)
        ]
    if ups:
        meters: set[str] = set()
        for up in ups:
            meters.update(
                lk.from_mrid for lk in reader.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=up)
            )
        return sorted(meters)
    out: list[str] = []
    after: str | None = None
    while True:
        page = reader.list_objects(ObjectKind.METER, after_mrid=after, limit=1000)
        if not page:
            return out
        out += [m.mrid for m in page]
        after = page[-1].mrid


def _by_channel(blocks: Iterable[ReadingBlock]) -> dict[tuple[str, str], ReadingBlock]:
    """Blocks by (meter mRID, reading type), one block per channel (usage points merged)."""
    parts: dict[tuple[str, str], list[ReadingBlock]] = defaultdict(list)
    for b in blocks:
        if b.meter is None or b.meter.mrid is None:
            continue
        parts[(b.meter.mrid, b.reading_type)].append(b)
    out: dict[tuple[str, str], ReadingBlock] = {}
    for key, group in parts.items():
        if len(group) == 1:
            out[key] = group[0]
            continue
        bare = [
            ReadingBlock(
                g.reading_type,
                g.timestamps,
                g.values,
                g.quality,
                g.quality_sets,
                meter=g.meter,
                kind=g.kind,
            )
            for g in group
        ]
        merged = concat_blocks(bare)
        order = np.argsort(merged.timestamps, kind="stable")
        out[key] = merged.take(order)
    return out


def _quantity(reading_type: str) -> tuple[int, ...]:
    rt = ReadingType.parse(reading_type)
    return (rt.flow_direction, rt.commodity, rt.measurement_kind, rt.multiplier, rt.unit)


def run_meters(
    tx: StoreTransaction,
    meters: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    config: VeeConfig,
    summary: RunSummary,
    run_id: int | None = None,
) -> None:
    """VEE over (start, end] for these meters, inside one transaction."""
    s, e, n = ctxmod.epoch(start), ctxmod.epoch(end), ctxmod.epoch(now)
    raw = _by_channel(tx.read_readings(ReadingQuery(meters=meters, start=start, end=end)))
    final = _by_channel(
        tx.read_readings(ReadingQuery(meters=meters, start=start, end=end, series="final"))
    )
    history = _by_channel(
        tx.read_readings(
            ReadingQuery(meters=meters, start=start - HISTORY, end=start, series="final")
        )
    )
    raw_history = _by_channel(
        tx.read_readings(ReadingQuery(meters=meters, start=start - HISTORY, end=start))
    )
    by_meter: dict[str, list[str]] = defaultdict(list)
    for meter, rt in raw:
        by_meter[meter].append(rt)
    blocks: list[ReadingBlock] = []
    findings: list[VeeFinding] = []
    events_of = ctxmod.chunk_events(tx, list(by_meter), s, e)
    for meter, rts in sorted(by_meter.items()):
        summary.meters += 1
        events = events_of.get(meter, [])
        relay = ctxmod.relay_open(events, s, e)
        inactive = ctxmod.inactive(tx, meter, s, e)
        check = ctxmod.check_meter(tx, meter, end)
        check_blocks = (
            _by_channel(tx.read_readings(ReadingQuery(meters=[check], start=start, end=end)))
            if check
            else {}
        )
        up = _usage_point(raw[(meter, rts[0])]) or _linked_usage_point(tx, meter, end)
        groups = ctxmod.groups_of(tx, up, end)
        taints = ctxmod.taints(
            events, s, e, float(config.params("event_taint", "", groups)["outage_hours"])
        )
        kinds = {rt: raw[(meter, rt)].kind for rt in rts}
        quantity = {rt: _quantity(rt) for rt in rts}
        finals: dict[str, ReadingBlock] = {}
        # interval channels first: the register advance check compares with their final values
        for rt in sorted(rts, key=lambda r: kinds[r] != "interval"):
            same = [o for o in rts if kinds[o] != kinds[rt] and quantity[o] == quantity[rt]]
            partner = same[0] if same else None
            partner_block = raw.get((meter, partner)) if partner else None
            if partner in finals:
                partner_block = finals[partner]
            inp = ChannelInput(
                raw[(meter, rt)],
                s,
                e,
                n,
                history=history.get((meter, rt)) or raw_history.get((meter, rt)),
                prior_final=final.get((meter, rt)),
                relay_open=relay,
                inactive=inactive,
                taints=taints,
                check_meter=(check_blocks.get((check, rt)) if check else None),
                registers=partner_block if kinds[rt] == "interval" else None,
                intervals=partner_block if kinds[rt] == "register" else None,
                groups=groups,
            )
            result = run_channel(inp, config, summary.timings)
            finals[rt] = result.final
            summary.channels += 1
            summary.readings += len(raw[(meter, rt)])
            summary.counts.update(result.counts())
            summary.rules.update(f.rule for f in result.findings)
            blocks += _split_by_why(result)
            findings += [
                VeeFinding(
                    meter,
                    rt,
                    f.rule,
                    ctxmod.at_epoch(f.start),
                    ctxmod.at_epoch(f.end),
                    f.count,
                    f.reason,
                    f.quality,
                    usage_point_mrid=up,
                    run_id=run_id,
                )
                for f in result.findings
            ]
    tx.replace_vee_findings(list(meters), start, end, findings)
    if blocks:
        outcome = tx.ingest_readings(blocks, received_at=now, source="vee", series="final")
        summary.written += outcome.inserted + outcome.versioned


def _usage_point(block: ReadingBlock) -> str | None:
    return block.usage_point.mrid if block.usage_point is not None else None


def _linked_usage_point(reader: StoreReader, meter: str, at: datetime) -> str | None:
    links = reader.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=meter, at=at)
    return links[0].to_mrid if links else None


def _split_by_why(result: ChannelResult) -> list[ReadingBlock]:
    """The final block split by why, each part with its batch source (`vee:<why>`); edits are
    already stored as they are, so they are not written again."""
    out: list[ReadingBlock] = []
    final = result.final
    present = np.unique(result.why)
    for w in present.tolist():
        if WHY[w] == "edit":
            continue
        sel = result.why == w if len(present) > 1 else slice(None)
        out.append(
            ReadingBlock(
                final.reading_type,
                final.timestamps[sel],
                final.values[sel],
                final.quality[sel],
                final.quality_sets,
                meter=final.meter,
                kind=final.kind,
                source=f"vee:{WHY[w]}",
            )
        )
    return out


def config_hash(config: VeeConfig) -> str:
    text = json.dumps(config.to_mapping(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_vee(
    store: Store,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    meters: Sequence[str] | None = None,
    usage_points: Sequence[str] = (),
    group: str | None = None,
    config: VeeConfig | None = None,
    chunk: int = CHUNK,
) -> RunSummary:
    """VEE over (start, end]: the chosen meters (all by default), chunk by chunk."""
    with store.snapshot() as reader:
        config = load_config(reader, config)
        if meters is None:
            meters = select_meters(reader, usage_points=usage_points, group=group, at=end)
    summary = RunSummary()
    scope = (
        f"group {group}"
        if group
        else f"usage points {','.join(usage_points)}"
        if usage_points
        else f"{len(meters)} meters"
    )
    with store.transaction() as tx:
        run = tx.add_vee_run(VeeRun(now, start, end, scope, {"config": config_hash(config)}))
    assert run.id is not None
    summary.run_ids.append(run.id)
    for i in range(0, len(meters), chunk):
        with store.transaction() as tx:
            run_meters(tx, meters[i : i + chunk], start, end, now, config, summary, run.id)
    return summary
