"""Editing by a person, and the per usage point report.

An edit writes one final-series value with `3.7.0` (edited) or `3.7.1` (added where no raw
reading is), as a new version (the value before stays a prior version), with the batch source
`edit:<user>` and an `edit` finding that keeps the reason. VEE keeps edits on later runs unless
`raw_replaces_edit` is set.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import BlockKind, ReadingBlock
from cimmeter.store.base import ReadingQuery, StoreError, StoreReader, StoreTransaction
from cimmeter.store.records import LinkageKind, VeeFinding
from cimmeter.vee.context import epoch
from cimmeter.vee.model import interval_seconds
from cimmeter.vee.quality import ADDED, EDITED


class EditError(StoreError):
    """An edit that cannot be placed: no meter linked to the usage point at that time."""


def edit_reading(
    tx: StoreTransaction,
    *,
    usage_point: str,
    reading_type: str,
    at: datetime,
    value: float,
    reason: str,
    user: str,
    now: datetime,
) -> str:
    """Write an edited value into the final series; returns the quality code written."""
    if not reason.strip():
        raise EditError("an edit needs a reason")
    links = tx.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=usage_point, at=at)
    if not links:
        raise EditError(f"no meter linked to usage point {usage_point} at {at.isoformat()}")
    meter = links[0].from_mrid
    raw = tx.reading_versions(meter, reading_type, at)
    code = EDITED if raw else ADDED
    kind: BlockKind = "interval" if interval_seconds(reading_type) else "register"
    block = ReadingBlock.build(
        reading_type,
        [epoch(at)],
        [value],
        [(code,)],
        meter=ObjectRef(mrid=meter),
        kind=kind,
        source=f"edit:{user}",
    )
    result = tx.ingest_readings([block], received_at=now, source=f"edit:{user}", series="final")
    if result.rejected:
        raise EditError("; ".join(r.reason for r in result.rejected))
    tx.add_vee_findings(
        [
            VeeFinding(
                meter,
                reading_type,
                "edit",
                at,
                at,
                1,
                reason,
                code,
                usage_point_mrid=usage_point,
                actor=user,
            )
        ]
    )
    return code


def parse_period(text: str) -> tuple[datetime, datetime]:
    """`2024-03` (a month) or `2024-03-05` (a day), in UTC."""
    try:
        if len(text) == 7:
            start = datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
            end = (start + timedelta(days=32)).replace(day=1)
        else:
            start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            end = start + timedelta(days=1)
    except ValueError as error:
        raise ValueError(f"--period: {text!r} is not YYYY-MM or YYYY-MM-DD") from error
    return start, end


@dataclass
class UsagePointReport:
    usage_point: str
    expected: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        total = max(self.expected, 1)
        pct = {
            k: round(100.0 * self.counts[k] / total, 2)
            for k in ("actual", "estimated", "edited", "missing")
        }
        return {
            "usage_point": self.usage_point,
            "expected": self.expected,
            "counts": {k: self.counts[k] for k in ("actual", "estimated", "edited", "missing")},
            "percent": pct,
            "rules": dict(sorted(self.rules.items())),
        }


def report(reader: StoreReader, start: datetime, end: datetime) -> list[UsagePointReport]:
    """Per usage point over (start, end]: actual / estimated / edited / missing interval
    readings of the final series, and the findings per rule."""
    out: dict[str, UsagePointReport] = {}
    counted: set[tuple[str, str]] = set()
    s, e = epoch(start), epoch(end)
    for block in reader.read_readings(
        ReadingQuery(start=start, end=end, series="final", kind="interval")
    ):
        up = block.usage_point.mrid if block.usage_point else None
        if up is None:
            continue
        rep = out.setdefault(up, UsagePointReport(up))
        width = interval_seconds(block.reading_type)
        if width and (up, block.reading_type) not in counted:
            # once per channel of the usage point, whichever meters measured it
            counted.add((up, block.reading_type))
            rep.expected += (e // width) - (s // width)
        kinds = np.array([_kind(qs) for qs in block.quality_sets], dtype=np.int8)
        per = np.bincount(kinds[block.quality], minlength=3)
        rep.counts.update({"actual": int(per[0]), "estimated": int(per[1]), "edited": int(per[2])})
    for f in reader.vee_findings(start=start, end=end):
        if f.usage_point_mrid is None:
            continue
        rep = out.setdefault(f.usage_point_mrid, UsagePointReport(f.usage_point_mrid))
        rep.rules[f.rule] += f.count or 1
    for rep in out.values():
        done = sum(rep.counts[k] for k in ("actual", "estimated", "edited"))
        rep.counts["missing"] = max(0, rep.expected - done)
    return [out[k] for k in sorted(out)]


def _kind(codes: tuple[str, ...]) -> int:
    if any(c.startswith("3.7.") for c in codes):
        return 2
    if any(c.startswith("3.8.") for c in codes):
        return 1
    return 0
