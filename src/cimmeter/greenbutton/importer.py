"""Green Button import: any valid ESPI feed into the store, as readings of usage points.

A utility migrating data hands us feeds written by others, so the reader relies on ESPI's link
conventions only, not on our own layout: a MeterReading's `up` link is its usage point's
`.../MeterReading` collection, its `related` links name its ReadingType; an IntervalBlock's `up`
link is `<MeterReading>/IntervalBlock`. The file is read twice with `iterparse` (memory flat):
the first pass collects the small entries (UsagePoints, MeterReadings, ReadingTypes), the second
streams the IntervalBlocks into `ingest_readings` in batches.

The usage point's mRID is the last segment of its `self` link (percent-decoded) unless the
caller names one. A usage point the store does not know is created; one without a meter gets a
virtual meter `greenbutton:<mRID>` linked from 1990 on, because the store attributes readings
through a meter (DESIGN.md). ESPI values are scaled by the ReadingType's
`powerOfTenMultiplier`, which the 61968-9 ReadingType keeps (field 16), so values are stored as
written; ESPI qualities map to 61968-9 codes (`cimmeter.greenbutton.espi.quality_codes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import unquote

import numpy as np
from lxml import etree

from cimmeter.billing.determinants import MEASURING_PERIOD_SECONDS as MEASURING_SECONDS
from cimmeter.codes import ReadingType
from cimmeter.greenbutton.espi import ATOM, ESPI, quality_codes, reading_type_from_espi
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store.base import Store, StoreTransaction
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, Name, ObjectKind

_ENTRY = f"{{{ATOM}}}entry"
_VIRTUAL_FROM = datetime(1990, 1, 1, tzinfo=UTC)


class FeedError(ValueError):
    """A feed that cannot be imported: says which entry (its self link) and what is wrong."""


@dataclass(slots=True)
class ImportStats:
    usage_points: list[str] = field(default_factory=list)
    readings: int = 0
    rejected: int = 0
    reading_types: set[str] = field(default_factory=set)
    created_meters: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Entry:
    self_href: str
    up_href: str
    related: tuple[str, ...]
    title: str
    content: etree._Element | None


def _entries(source: str | Path | IO[bytes]) -> Iterator[_Entry]:
    for _, elem in etree.iterparse(
        source if not isinstance(source, Path) else str(source),
        events=("end",),
        tag=_ENTRY,
        no_network=True,
        resolve_entities=False,
        huge_tree=True,
    ):
        links = elem.findall(f"{{{ATOM}}}link")
        self_href = next((ln.get("href", "") for ln in links if ln.get("rel") == "self"), "")
        up_href = next((ln.get("href", "") for ln in links if ln.get("rel") == "up"), "")
        related = tuple(ln.get("href", "") for ln in links if ln.get("rel") == "related")
        title = elem.findtext(f"{{{ATOM}}}title") or ""
        content = elem.find(f"{{{ATOM}}}content")
        child = None
        if content is not None:
            child = next((c for c in content if isinstance(c.tag, str)), None)
        yield _Entry(self_href, up_href, related, title, child)
        elem.clear(keep_tail=False)
        while elem.getprevious() is not None:
            del elem.getparent()[0]  # type: ignore[union-attr]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _int(element: etree._Element, name: str, where: str) -> int | None:
    text = element.findtext(f"{{{ESPI}}}{name}")
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise FeedError(f"{where}: {name} {text!r} is not an integer") from None


def _reading_type(content: etree._Element, where: str) -> ReadingType:
    fields: dict[str, int | tuple[int, int]] = {}
    for child in content:
        if not isinstance(child.tag, str):
            continue
        name = _local(child)
        if name in ("interharmonic", "argument"):
            num = _int(child, "numerator", where) or 0
            den = _int(child, "denominator", where) or 0
            fields[name] = (num, den)
        elif name != "defaultQuality":
            try:
                fields[name] = int((child.text or "").strip())
            except ValueError:
                raise FeedError(f"{where}: {name} {child.text!r} is not an integer") from None
    return reading_type_from_espi(fields)


def _parent(href: str, collection: str) -> str:
    """`.../X/<collection>/<id>` or `.../X/<collection>` -> `.../X`."""
    marker = f"/{collection}"
    pos = href.rfind(marker)
    return href[:pos] if pos >= 0 else ""


@dataclass(slots=True)
class _Index:
    usage_points: dict[str, tuple[str, str]] = field(default_factory=dict)
    """self href -> (mRID, title)."""
    meter_readings: dict[str, str] = field(default_factory=dict)
    """MeterReading self href -> its usage point's self href."""
    meter_reading_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reading_types: dict[str, ReadingType] = field(default_factory=dict)


def _index(source: str | Path | IO[bytes], usage_point: str | None) -> _Index:
    index = _Index()
    for entry in _entries(source):
        if entry.content is None:
            continue
        kind = _local(entry.content)
        if kind == "UsagePoint":
            segment = entry.self_href.rstrip("/").rsplit("/", 1)[-1]
            index.usage_points[entry.self_href] = (usage_point or unquote(segment), entry.title)
        elif kind == "MeterReading":
            up = _parent(entry.self_href, "MeterReading") or _parent(entry.up_href, "MeterReading")
            index.meter_readings[entry.self_href] = up
            index.meter_reading_types[entry.self_href] = entry.related
        elif kind == "ReadingType":
            index.reading_types[entry.self_href] = _reading_type(
                entry.content, f"ReadingType {entry.self_href}"
            )
    if usage_point is not None and len(index.usage_points) > 1:
        raise FeedError(
            f"the feed holds {len(index.usage_points)} usage points; --usage-point names one"
        )
    return index


def _meter_reading_type(index: _Index, mr: str) -> ReadingType | None:
    for href in index.meter_reading_types.get(mr, ()):
        rt = index.reading_types.get(href)
        if rt is not None:
            return rt
    return None


def _block_readings(
    content: etree._Element, rt: ReadingType, where: str
) -> tuple[list[int], list[float], list[tuple[str, ...]]]:
    interval = content.find(f"{{{ESPI}}}interval")
    start = _int(interval, "start", where) if interval is not None else None
    length = MEASURING_SECONDS.get(rt.measuring_period, 0)
    stamps: list[int] = []
    values: list[float] = []
    qualities: list[tuple[str, ...]] = []
    for n, reading in enumerate(content.iterfind(f"{{{ESPI}}}IntervalReading")):
        period = reading.find(f"{{{ESPI}}}timePeriod")
        if period is not None:
            begin = _int(period, "start", where)
            duration = _int(period, "duration", where) or length
        else:
            begin = None if start is None else start + n * length
            duration = length
        value = _int(reading, "value", where)
        if begin is None or value is None:
            continue  # nothing to store: no time or no value
        stamps.append(begin + duration)
        values.append(float(value))
        qualities.append(
            quality_codes(
                int(q.text)
                for q in reading.iterfind(f"{{{ESPI}}}ReadingQuality/{{{ESPI}}}quality")
                if q.text and q.text.strip().isdigit()
            )
        )
    return stamps, values, qualities


def _prepare_usage_point(
    tx: StoreTransaction, mrid: str, title: str, stats: ImportStats, at: datetime
) -> str:
    """Make sure the usage point exists and has a meter; returns the meter to attribute to."""
    if tx.get_object(ObjectKind.USAGE_POINT, mrid) is None:
        names = (Name(title, "GreenButtonTitle"),) if title and title != mrid else ()
        tx.put_object(MasterObject(ObjectKind.USAGE_POINT, mrid, names=names, updated_at=at))
    links = tx.linkages(LinkageKind.METER_USAGE_POINT, to_mrid=mrid)
    if links:
        return ""  # attributed through the meters the usage point already has
    meter = f"greenbutton:{mrid}"
    if tx.get_object(ObjectKind.METER, meter) is None:
        tx.put_object(MasterObject(ObjectKind.METER, meter, updated_at=at))
        stats.created_meters.append(meter)
    tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, meter, mrid, _VIRTUAL_FROM))
    return meter


def import_feed(
    store: Store,
    source: str | Path,
    *,
    usage_point: str | None = None,
    received_at: datetime | None = None,
    batch_readings: int = 200_000,
) -> ImportStats:
    """Read the feed at `source` into the store (see the module docstring)."""
    index = _index(source, usage_point)
    stats = ImportStats()
    received = received_at or datetime.now(UTC)
    meters: dict[str, str] = {}
    with store.transaction() as tx:
        for up_href, (mrid, title) in index.usage_points.items():
            meters[up_href] = _prepare_usage_point(tx, mrid, title, stats, received)
            stats.usage_points.append(mrid)
    pending: list[ReadingBlock] = []
    size = 0
    for entry in _entries(source):
        if entry.content is None or _local(entry.content) != "IntervalBlock":
            continue
        where = f"IntervalBlock {entry.self_href}"
        mr = _parent(entry.self_href, "IntervalBlock") or _parent(entry.up_href, "IntervalBlock")
        owner = index.meter_readings.get(mr)
        if owner is None or owner not in index.usage_points:
            raise FeedError(f"{where}: no MeterReading/UsagePoint entry for {mr or '(no link)'}")
        rt = _meter_reading_type(index, mr)
        if rt is None:
            raise FeedError(f"{where}: MeterReading {mr} has no ReadingType entry in the feed")
        stamps, values, qualities = _block_readings(entry.content, rt, where)
        if not stamps:
            continue
        mrid = index.usage_points[owner][0]
        meter = meters[owner]
        pending.append(
            ReadingBlock.build(
                str(rt),
                np.asarray(stamps, dtype=np.int64),
                np.asarray(values, dtype=np.float64),
                qualities,
                meter=ObjectRef.of(meter) if meter else None,
                usage_point=ObjectRef.of(mrid),
                source="greenbutton",
            )
        )
        stats.reading_types.add(str(rt))
        size += len(stamps)
        if size >= batch_readings:
            _ingest(store, pending, received, stats)
            pending, size = [], 0
    _ingest(store, pending, received, stats)
    return stats


def _ingest(
    store: Store, blocks: list[ReadingBlock], received: datetime, stats: ImportStats
) -> None:
    if not blocks:
        return
    with store.transaction() as tx:
        result = tx.ingest_readings(blocks, received_at=received, source="greenbutton")
    rejected = sum(
        len(blocks[r.block_index]) if r.row_index is None else 1
        for r in result.rejected
        if r.block_index is not None
    )
    stats.rejected += rejected
    stats.readings += sum(len(b) for b in blocks) - rejected


__all__ = ["FeedError", "ImportStats", "import_feed"]
