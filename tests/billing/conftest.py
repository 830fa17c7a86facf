"""Shared helpers of the billing tests: a small TOU calendar and series builders."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime

import numpy as np

from cimmeter.billing import BillingConfig
from cimmeter.billing.calendar import local_midnight
from cimmeter.billing.determinants import billing_config_from_mapping
from cimmeter.billing.periods import BillingPeriod
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from tests.store.conftest import store_url

__all__ = ["store_url"]  # the SQLite + PostgreSQL fixture of the store tests

DELIVERED = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
RECEIVED = "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"
HOURLY_DELIVERED = "0.0.7.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
DELIVERED_WH = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.0.72.0"

CALENDAR_TOML = """
timezone = "{zone}"
weekend = ["saturday", "sunday"]

[periods]
on_peak = 1
off_peak = 2

[[seasons]]
name = "winter"
start = "10-01"
end = "04-30"
# On weekends the on-peak window 01:00-04:00 straddles both DST transitions.
weekday = {{ "00:00" = "off_peak", "07:00" = "on_peak", "19:00" = "off_peak" }}
weekend = {{ "00:00" = "off_peak", "01:00" = "on_peak", "04:00" = "off_peak" }}
holiday = {{ "00:00" = "off_peak" }}

[[seasons]]
name = "summer"
start = "05-01"
end = "09-30"
weekday = {{ "00:00" = "off_peak", "14:00" = "on_peak", "18:00" = "off_peak" }}
weekend = {{ "00:00" = "off_peak" }}

[demand]
window_minutes = 15

[holidays]
2024 = ["2024-01-01", "2024-12-25"]
"""


def config(zone: str, **extra: object) -> BillingConfig:
    data = tomllib.loads(CALENDAR_TOML.format(zone=zone))
    data.update(extra)
    return billing_config_from_mapping(data, source="test")


def day_period(zone: str, day: date) -> BillingPeriod:
    cal = config(zone).calendar
    nxt = date.fromordinal(day.toordinal() + 1)
    return BillingPeriod(
        local_midnight(day, cal.zone), local_midnight(nxt, cal.zone), day.isoformat()
    )


def quarter_ends(start: datetime, end: datetime, step: int = 900) -> np.ndarray:
    """Every interval end in (start, end]."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    return np.arange(lo + step, hi + 1, step, dtype=np.int64)


def block(
    up: str,
    timestamps: np.ndarray,
    values: Sequence[float] | np.ndarray,
    rt: str = DELIVERED,
    qualities: Sequence[Sequence[str]] | None = None,
    meter: str | None = None,
) -> ReadingBlock:
    return ReadingBlock.build(
        rt,
        timestamps,
        np.asarray(values, dtype=np.float64),
        qualities,
        meter=ObjectRef.of(meter or f"m-{up}"),
        usage_point=ObjectRef.of(up),
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class ListSource:
    """A BillingSource over blocks in memory (filters like the store: by UP and range)."""

    def __init__(self, blocks: Sequence[ReadingBlock]) -> None:
        self.blocks = list(blocks)
        self.reads: list[tuple[datetime, datetime]] = []

    def usage_points(self) -> Iterator[str]:
        yield from sorted(
            {b.usage_point.mrid for b in self.blocks if b.usage_point and b.usage_point.mrid}
        )

    def interval_blocks(
        self, usage_points: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[ReadingBlock]:
        self.reads.append((start, end))
        lo, hi = int(start.timestamp()), int(end.timestamp())
        for b in self.blocks:
            if b.usage_point is None or b.usage_point.mrid not in usage_points:
                continue
            sel = (b.timestamps > lo) & (b.timestamps <= hi)
            if sel.any():
                yield b.take(sel)


def fill_store(url: str, usage_points: int, start: datetime, end: datetime) -> None:
    """A store with `usage_points` meters/usage points (m<i> -> u<i>) and 15-minute delivered
    energy of (i + 1) kWh per interval in (start, end]; u0's interval at index 5 is estimated."""
    from cimmeter.store import open_store
    from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    ts = quarter_ends(start, end)
    with open_store(url, upgrade=True) as store, store.transaction() as tx:
        blocks = []
        for i in range(usage_points):
            tx.put_object(MasterObject(ObjectKind.METER, f"m{i}", updated_at=t0))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, f"u{i}", updated_at=t0))
            tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, f"m{i}", f"u{i}", t0))
            qualities = [["3.8.0"] if (i == 0 and k == 5) else [] for k in range(ts.shape[0])]
            blocks.append(
                ReadingBlock.build(
                    DELIVERED,
                    ts,
                    np.full(ts.shape[0], float(i + 1)),
                    qualities,
                    meter=ObjectRef.of(f"m{i}"),
                )
            )
        result = tx.ingest_readings(blocks, received_at=t0)
        assert not result.rejected, result.rejected
