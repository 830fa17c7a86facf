"""Where billing gets the series it bills on: the seam between billing and VEE.

Billing bills on final (post-VEE) data. `BillingSource` is the one thing billing asks for:
interval readings of some usage points in a UTC range, as columnar blocks. Today
`StoreSource` reads them with `read_readings` (series `raw`, or `final` once VEE writes it);
when VEE lands, a source that yields VEE's final series (falling back to raw where VEE has not
run) plugs in here without billing changing. Quality travels with the blocks, so billing counts
estimated, edited and missing intervals from the codes VEE set (digest 5.3.4).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cimmeter.model.readings import ReadingBlock
from cimmeter.store.base import ReadingQuery, ReadSeries, Store
from cimmeter.store.records import ObjectKind


class BillingSource(Protocol):
    """Interval readings to bill on, and the usage points there are."""

    def usage_points(self) -> Iterator[str]:
        """Every live usage point mRID, in mRID order."""
        ...

    def interval_blocks(
        self, usage_points: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[ReadingBlock]:
        """Interval readings attributed to these usage points with start < timestamp <= end
        (one block per meter, usage point and reading type; a meter exchange gives several)."""
        ...


@dataclass(frozen=True, slots=True)
class StoreSource:
    """Billing input straight from the store (`read_readings`)."""

    store: Store
    series: ReadSeries = "best"
    page: int = 1000

    def usage_points(self) -> Iterator[str]:
        after: str | None = None
        while True:
            with self.store.snapshot() as snap:
                objs = snap.list_objects(ObjectKind.USAGE_POINT, after_mrid=after, limit=self.page)
            if not objs:
                return
            for obj in objs:
                yield obj.mrid
            after = objs[-1].mrid

    def interval_blocks(
        self, usage_points: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[ReadingBlock]:
        if not usage_points:
            return
        with self.store.snapshot() as snap:
            yield from snap.read_readings(
                ReadingQuery(
                    usage_points=tuple(usage_points),
                    start=start,
                    end=end,
                    series=self.series,
                    kind="interval",
                )
            )


__all__ = ["BillingSource", "StoreSource"]
