"""Recall and precision of VEE per rule against the simulator's injected anomalies (issue 10).

`evaluate` runs the engine (no store) over a fleet's blocks with anomalies injected by
`cimmeter.headend.inject_anomalies`, and scores each rule against the ground truth:

- recall: share of injected anomalies of a kind whose readings the matching rule flagged (for
  gaps: every missing reading flagged *and* filled in the final series);
- precision: share of readings a rule flagged that belong to an anomaly of its kind;
- clean false positives: readings flagged by any validation rule on the same fleet without
  anomalies, over all readings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from cimmeter.headend.anomalies import InjectedAnomaly
from cimmeter.model.readings import ReadingBlock, concat_blocks
from cimmeter.vee.config import VeeConfig
from cimmeter.vee.engine import run_channel
from cimmeter.vee.model import ChannelInput, ChannelResult, interval_seconds

RULE_OF: Final[dict[str, str]] = {  # the rule that should catch each kind
    "gap": "gap",
    "spike": "spike",
    "zero_run": "zero_run",
    "flat_line": "flat_line",
    "negative": "negative",
    "duplicate": "duplicate",
    "off_grid": "off_grid",
    "register_jump": "register_advance",
    "rollover": "rollover",
}
NOT_ANOMALIES: Final = frozenset({"incomplete_day", "event_taint", "stale", "future"})
"""Rules that report a consequence or context, not an anomaly of their own."""


@dataclass
class Score:
    injected: int = 0
    detected: int = 0
    flagged: int = 0
    true_flagged: int = 0

    @property
    def recall(self) -> float:
        return self.detected / self.injected if self.injected else float("nan")

    @property
    def precision(self) -> float:
        return self.true_flagged / self.flagged if self.flagged else float("nan")


@dataclass
class Evaluation:
    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    readings: int = 0
    flagged_clean: int = 0
    clean_readings: int = 0
    filled_gaps: int = 0

    @property
    def clean_false_positive_rate(self) -> float:
        return self.flagged_clean / self.clean_readings if self.clean_readings else 0.0


Key = tuple[str, str]


def channels(blocks: Iterable[ReadingBlock]) -> dict[Key, ReadingBlock]:
    """Blocks merged per (meter, reading type), timestamps ascending (stable)."""
    parts: dict[Key, list[ReadingBlock]] = defaultdict(list)
    for b in blocks:
        who = b.meter.mrid if b.meter is not None and b.meter.mrid else str(b.meter)
        parts[(who, b.reading_type)].append(b)
    out: dict[Key, ReadingBlock] = {}
    for key, group in parts.items():
        merged = concat_blocks(group) if len(group) > 1 else group[0]
        out[key] = merged.take(np.argsort(merged.timestamps, kind="stable"))
    return out


def _quantity(rt: str) -> tuple[str, ...]:
    f = rt.split(".")
    return (f[4], f[5], f[6], f[15], f[16])


def run_fleet(
    blocks: dict[Key, ReadingBlock], start: int, end: int, config: VeeConfig | None = None
) -> dict[Key, ChannelResult]:
    """The engine over every channel, interval and register channels of a meter paired."""
    by_meter: dict[str, list[str]] = defaultdict(list)
    for meter, rt in blocks:
        by_meter[meter].append(rt)
    out: dict[Key, ChannelResult] = {}
    for meter, rts in by_meter.items():
        # interval channels first: the register check compares with their final values
        for rt in sorted(rts, key=lambda r: blocks[(meter, r)].kind != "interval"):
            b = blocks[(meter, rt)]
            partner = next(
                (
                    o
                    for o in rts
                    if blocks[(meter, o)].kind != b.kind and _quantity(o) == _quantity(rt)
                ),
                None,
            )
            p = blocks[(meter, partner)] if partner else None
            if b.kind == "register" and partner and (meter, partner) in out:
                p = out[(meter, partner)].final
            inp = ChannelInput(
                b,
                start,
                end,
                end + 86_400,
                registers=p if b.kind == "interval" else None,
                intervals=p if b.kind == "register" else None,
            )
            out[(meter, rt)] = run_channel(inp, config)
    return out


def _tampered_spans(
    result: ChannelResult, key: Key, by_channel: dict[Key, list[InjectedAnomaly]]
) -> set[int]:
    """Register reads whose span (read before, read] holds an anomaly injected into the paired
    interval channel: there the register and the intervals really disagree."""
    reads = result.final.timestamps
    out: set[int] = set()
    for (meter, rt), anomalies in by_channel.items():
        if meter != key[0] or rt == key[1] or _quantity(rt) != _quantity(key[1]):
            continue
        for a in anomalies:
            for t in a.timestamps:
                i = int(np.searchsorted(reads, t))
                if 0 < i < len(reads):
                    out.add(int(reads[i]))
    return out


def _is_level(reading_type: str) -> bool:
    return reading_type.split(".")[6] in ("8", "37")  # measurementKind demand, power


def _rule_for(anomaly: InjectedAnomaly, reading_type: str) -> str:
    if anomaly.kind == "register_jump" and _is_level(reading_type):
        return "demand_jump"  # a demand register holds a level: its jump is a jump
    return RULE_OF[anomaly.kind]


def flagged(result: ChannelResult, rule: str, width: int | None) -> set[int]:
    """Timestamps a rule's findings cover."""
    out: set[int] = set()
    for f in result.findings:
        if f.rule != rule:
            continue
        if width and f.count > 1:
            out.update(range(f.start, f.end + 1, width))
        elif f.count > 1:  # consecutive register reads: those of the final series in between
            ts = result.final.timestamps
            out.update(ts[(ts >= f.start) & (ts <= f.end)].tolist())
        else:
            out.add(f.start)
    return out


def evaluate(
    noisy: Sequence[ReadingBlock],
    truth: Sequence[InjectedAnomaly],
    clean: Sequence[ReadingBlock],
    start: int,
    end: int,
    config: VeeConfig | None = None,
) -> Evaluation:
    ev = Evaluation()
    results = run_fleet(channels(noisy), start, end, config)
    by_channel: dict[Key, list[InjectedAnomaly]] = defaultdict(list)
    for a in truth:
        who = a.meter.mrid if a.meter is not None and a.meter.mrid else str(a.meter)
        by_channel[(who, a.reading_type)].append(a)
    for key, result in results.items():
        width = interval_seconds(key[1]) if result.final.kind == "interval" else None
        anomalies = by_channel.get(key, [])
        truth_ts: dict[str, set[int]] = defaultdict(set)
        for a in anomalies:
            if a.kind == "rollover" and _is_level(key[1]):
                continue  # a demand register holds a level: it has no dials to roll over
            rule = _rule_for(a, key[1])
            truth_ts[rule].update(a.timestamps)
            score = ev.scores[a.kind]
            score.injected += 1
            hit = flagged(result, rule, width)
            if a.kind == "gap":
                filled = set(result.final.timestamps.tolist())
                ok = all(t in hit and t in filled for t in a.timestamps)
            else:
                ok = any(t in hit for t in a.timestamps)
            score.detected += ok
        for rule in {f.rule for f in result.findings}:
            if rule.startswith("estimate:") or rule in NOT_ANOMALIES:
                continue
            hit = flagged(result, rule, width)
            real = truth_ts.get(rule, set())
            if rule == "register_advance":
                real = real | _tampered_spans(result, key, by_channel)
            kind = (
                "register_jump"
                if rule == "demand_jump"
                else next((k for k, r in RULE_OF.items() if r == rule), rule)
            )
            score = ev.scores[kind]
            score.flagged += len(hit)
            score.true_flagged += len(hit & real)
        ev.readings += len(result.final)
    clean_results = run_fleet(channels(clean), start, end, config)
    for key, result in clean_results.items():
        width = interval_seconds(key[1]) if result.final.kind == "interval" else None
        ev.clean_readings += len(result.final)
        clean_hit: set[int] = set()
        for rule in {f.rule for f in result.findings}:
            if not rule.startswith("estimate:") and rule not in NOT_ANOMALIES:
                clean_hit |= flagged(result, rule, width)
        ev.flagged_clean += len(clean_hit)
    return ev
