"""Green Button Download My Data: an ESPI Atom feed of usage points, written as a stream.

Per usage point the feed holds (ESPI conventions, links `self`, `up` and `related`):

- a `UsagePoint` entry (related: its MeterReadings, UsageSummaries, LocalTimeParameters);
- one `LocalTimeParameters` entry for the feed: the zone's standard offset and DST rules;
- per interval ReadingType: a `MeterReading` entry (related: its IntervalBlocks and its
  ReadingType), the `ReadingType` entry (ESPI fields mapped from the 61968-9 code, digest
  5.1.15), and one `IntervalBlock` per local day with `IntervalReading`s (timePeriod = the
  interval, value, ReadingQuality);
- per billing period ending in the range: a `UsageSummary` from the billing determinants
  (overall consumption, peak demand with its time, quality).

ESPI values are integers (Int48): a series is written with the smallest power of ten that
makes its values whole (kWh with 3 decimals -> Wh), and the ReadingType's
`powerOfTenMultiplier` says so; the physical quantity is unchanged.

Memory is flat in the number of usage points and readings: usage points are read in chunks,
the document is written with lxml's incremental writer (`etree.xmlfile`), and the bulk of the
bytes, the IntervalBlocks, are formatted from the reading columns directly (one string per
reading, no element objects) between flushes of the writer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Protocol
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import numpy as np
import numpy.typing as npt
from lxml import etree

from cimmeter.billing.calendar import LocalDay, local_days
from cimmeter.billing.determinants import BillingConfig, Determinants, run_billing
from cimmeter.billing.publish import _labels
from cimmeter.codes import CodeError, ReadingType
from cimmeter.greenbutton.espi import (
    ATOM,
    ESPI,
    espi_qualities,
    interval_seconds,
    reading_type_fields,
    time_parameters,
)
from cimmeter.model.readings import ReadingBlock, concat_blocks
from cimmeter.store.base import ReadingQuery, ReadSeries, Store
from cimmeter.store.records import MasterObject, ObjectKind

DEFAULT_BASE = "/espi/1_1/resource"
INT48 = 2**47 - 1
_SERVICE_KIND = {1: 0, 2: 0, 4: 0, 7: 1, 9: 2}
"""61968-9 commodity -> ESPI ServiceKind (electricity 0, gas 1, water 2)."""


class ExportError(ValueError):
    """A series that cannot be written as ESPI (e.g. a value beyond Int48)."""


class FeedReader(Protocol):
    """What the exporter reads: a store snapshot adapter or the REST read side."""

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None: ...

    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]: ...


class StoreFeedReader:
    """A `FeedReader` over a store: each call in its own snapshot."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None:
        with self.store.snapshot() as snap:
            return snap.get_object(kind, mrid)

    def read_readings(self, query: ReadingQuery) -> Iterator[ReadingBlock]:
        with self.store.snapshot() as snap:
            yield from snap.read_readings(query)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    start: datetime
    end: datetime
    billing: BillingConfig
    """Zone (local days, DST rules) and billing periods for the UsageSummaries."""
    updated: datetime
    """`published`/`updated` of every entry (the export time)."""
    base: str = DEFAULT_BASE
    retail_customer: str = "1"
    series: ReadSeries = "best"
    chunk: int = 100
    """Usage points read per query."""
    title: str = "Green Button Download My Data"


@dataclass(slots=True)
class ExportStats:
    usage_points: int = 0
    readings: int = 0
    interval_blocks: int = 0
    usage_summaries: int = 0
    bytes: int = 0
    reading_types: dict[str, str] = field(default_factory=dict)


class _Sink:
    """The writer's output: chunks collected between yields (so memory stays flat)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _uuid(href: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, href)}"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _a(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def _e(tag: str) -> str:
    return f"{{{ESPI}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: object | None = None) -> etree._Element:
    child = etree.SubElement(parent, _e(tag))
    if text is not None:
        child.text = str(text)
    return child


def _entry(
    self_href: str,
    up_href: str,
    related: Sequence[str],
    title: str,
    content: etree._Element,
    updated: str,
) -> etree._Element:
    entry = etree.Element(_a("entry"), nsmap={None: ATOM})
    etree.SubElement(entry, _a("id")).text = _uuid(self_href)
    etree.SubElement(entry, _a("link"), rel="self", href=self_href)
    etree.SubElement(entry, _a("link"), rel="up", href=up_href)
    for href in related:
        etree.SubElement(entry, _a("link"), rel="related", href=href)
    etree.SubElement(entry, _a("title")).text = title
    etree.SubElement(entry, _a("content")).append(content)
    etree.SubElement(entry, _a("published")).text = updated
    etree.SubElement(entry, _a("updated")).text = updated
    return entry


def _espi(tag: str) -> etree._Element:
    return etree.Element(_e(tag), nsmap={None: ESPI})


@dataclass(slots=True)
class _Series:
    """One interval series of a usage point, ready to write (integer values)."""

    code: str
    espi_type: ReadingType
    seconds: int
    starts: npt.NDArray[np.int64]
    values: npt.NDArray[np.int64]
    quality: npt.NDArray[np.int32]
    quality_xml: list[str]
    heads: list[str] = field(default_factory=list)
    """Per reading: `<IntervalReading>`, its ReadingQualities and the timePeriod's start tag."""
    start_texts: list[str] = field(default_factory=list)
    value_texts: list[str] = field(default_factory=list)


def _scale(values: npt.NDArray[np.float64]) -> int:
    """Smallest number of decimals (0..9) that makes every value whole."""
    for digits in range(10):
        scaled = values * 10.0**digits
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return digits
    return 9


def _prepare(code: str, blocks: Sequence[ReadingBlock]) -> _Series | None:
    block = blocks[0] if len(blocks) == 1 else concat_blocks(blocks)
    if len(blocks) > 1:
        block = block.take(np.argsort(block.timestamps, kind="stable"))
    keep = ~np.isnan(block.values)
    if not keep.all():
        block = block.take(keep)
    if not len(block):
        return None
    rt = ReadingType.parse(code)
    seconds = interval_seconds(rt)
    if not seconds:
        diffs = np.diff(block.timestamps)
        positive = diffs[diffs > 0]
        seconds = int(positive.min()) if positive.shape[0] else 3600
    digits = _scale(block.values)
    scaled = np.round(block.values * 10.0**digits)
    if scaled.shape[0] and float(np.abs(scaled).max()) > INT48:
        raise ExportError(
            f"ReadingType {code}: a value does not fit ESPI's Int48 after scaling by 10^{digits}"
        )
    espi_type = ReadingType(*[*rt.values[:15], rt.multiplier - digits, *rt.values[16:]])
    quality_xml = [
        "".join(
            f"<ReadingQuality><quality>{q}</quality></ReadingQuality>" for q in espi_qualities(qs)
        )
        for qs in block.quality_sets
    ]
    starts = block.timestamps - seconds
    values = scaled.astype(np.int64)
    open_tag = [
        f"<IntervalReading>{q}<timePeriod><duration>{seconds}</duration><start>"
        for q in quality_xml
    ]
    heads = (
        [open_tag[0]] * len(block)
        if not block.quality.any()
        else [open_tag[q] for q in block.quality.tolist()]
    )
    return _Series(
        code, espi_type, seconds, starts, values, block.quality, quality_xml,
        heads, _texts(starts, _START_TEXTS), _texts(values, None, _END),
    )  # fmt: skip


_MID = "</start></timePeriod><value>"
_END = "</value></IntervalReading>"
_START_TEXTS: dict[int, str] = {}
"""Decimal text of interval starts: every usage point of an export shares the same few
thousand instants, so their text is made once (a dict lookup is cheaper than int -> str)."""


def _texts(
    column: npt.NDArray[np.int64], cache: dict[int, str] | None, suffix: str = ""
) -> list[str]:
    """The decimal text (+ suffix) of every value, converting each distinct value once."""
    unique, inverse = np.unique(column, return_inverse=True)
    if cache is None:
        texts = [f"{x}{suffix}" for x in unique.tolist()]
    else:
        if len(cache) > 1_000_000:
            cache.clear()
        texts = [cache.get(x) or cache.setdefault(x, str(x)) for x in unique.tolist()]
    return [texts[i] for i in inverse.tolist()]


def _interval_block_entry(
    self_href: str,
    up_href: str,
    day_start: int,
    day_seconds: int,
    s: _Series,
    rows: slice,
    updated: str,
) -> bytes:
    """One IntervalBlock entry as bytes, formatted straight from the columns."""
    # The hot loop of the export: the reading texts were made per series (`_prepare`); here
    # they are interleaved with the constant tag between them by slice assignment, then joined.
    n = rows.stop - rows.start
    parts: list[str] = [_MID] * (4 * n)
    parts[0::4] = s.heads[rows]
    parts[1::4] = s.start_texts[rows]
    parts[3::4] = s.value_texts[rows]
    readings = "".join(parts)
    return (
        f'<entry xmlns="{ATOM}"><id>{_uuid(self_href)}</id>'
        f'<link rel="self" href={quoteattr(self_href)}/><link rel="up" href={quoteattr(up_href)}/>'
        f'<title/><content><IntervalBlock xmlns="{ESPI}"><interval><duration>{day_seconds}'
        f"</duration><start>{day_start}</start></interval>{readings}</IntervalBlock></content>"
        f"<published>{updated}</published><updated>{updated}</updated></entry>"
    ).encode()


class _ChunkSource:
    """A BillingSource serving the chunk's blocks already read (the export range), and the
    reader for ranges outside it (a billing period reaching before the export's start)."""

    def __init__(
        self, reader: FeedReader, blocks: list[ReadingBlock], lo: int, hi: int, series: ReadSeries
    ) -> None:
        self.reader, self.blocks, self.lo, self.hi, self.series = reader, blocks, lo, hi, series

    def usage_points(self) -> Iterator[str]:
        return iter(())

    def interval_blocks(
        self, usage_points: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[ReadingBlock]:
        a, b = int(start.timestamp()), int(end.timestamp())
        wanted = set(usage_points)
        if self.lo <= a and b <= self.hi:
            for block in self.blocks:
                if block.usage_point is not None and block.usage_point.mrid in wanted:
                    inside = (block.timestamps > a) & (block.timestamps <= b)
                    yield block if inside.all() else block.take(inside)
            return
        yield from self.reader.read_readings(
            ReadingQuery(
                usage_points=tuple(usage_points),
                start=start,
                end=end,
                series=self.series,
                kind="interval",
            )
        )


def iter_feed(
    reader: FeedReader,
    usage_points: Iterable[str],
    options: ExportOptions,
    stats: ExportStats | None = None,
) -> Iterator[bytes]:
    """The feed as byte chunks (a few entries each); see the module docstring."""
    stats = stats if stats is not None else ExportStats()
    zone = options.billing.calendar.zone
    updated = _iso(options.updated)
    base = options.base.rstrip("/")
    customer = f"{base}/RetailCustomer/{quote(options.retail_customer, safe='')}"
    ltp_href = f"{base}/LocalTimeParameters/1"
    lo, hi = int(options.start.timestamp()), int(options.end.timestamp())
    first_day = options.start.astimezone(zone).date()
    last_day = options.end.astimezone(zone).date()
    days = local_days(first_day, last_day, zone)
    day_starts = np.array([d.start for d in days], dtype=np.int64)
    type_hrefs: dict[ReadingType, str] = {}
    sink = _Sink()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(_a("feed"), nsmap={None: ATOM}):
            feed_href = f"{customer}/UsagePoint"
            head = etree.Element(_a("id"), nsmap={None: ATOM})
            head.text = _uuid(f"{feed_href}?{lo}-{hi}")
            xf.write(head)
            title = etree.Element(_a("title"), nsmap={None: ATOM})
            title.text = options.title
            xf.write(title)
            stamp = etree.Element(_a("updated"), nsmap={None: ATOM})
            stamp.text = updated
            xf.write(stamp)
            xf.write(etree.Element(_a("link"), nsmap={None: ATOM}, rel="self", href=feed_href))
            xf.write(_time_entry(options, ltp_href, base, updated))
            xf.flush()
            yield sink.take()
            for pending in _batches(usage_points, options.chunk):
                yield from _chunk(
                    reader,
                    pending,
                    options,
                    xf,
                    sink,
                    stats,
                    type_hrefs,
                    customer,
                    ltp_href,
                    base,
                    updated,
                    days,
                    day_starts,
                    lo,
                    hi,
                )
    yield sink.take()


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """`items` in lists of `size` (the last one shorter), without reading ahead."""
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _time_entry(options: ExportOptions, href: str, base: str, updated: str) -> etree._Element:
    params = time_parameters(options.billing.calendar.zone, options.end.year)
    content = _espi("LocalTimeParameters")
    _sub(content, "dstEndRule", params.dst_end_rule)
    _sub(content, "dstOffset", params.dst_offset)
    _sub(content, "dstStartRule", params.dst_start_rule)
    _sub(content, "tzOffset", params.tz_offset)
    return _entry(
        href, f"{base}/LocalTimeParameters", (), options.billing.calendar.timezone, content, updated
    )


def _chunk(
    reader: FeedReader,
    ups: list[str],
    options: ExportOptions,
    xf: Any,
    sink: _Sink,
    stats: ExportStats,
    type_hrefs: dict[ReadingType, str],
    customer: str,
    ltp_href: str,
    base: str,
    updated: str,
    days: list[LocalDay],
    day_starts: npt.NDArray[np.int64],
    lo: int,
    hi: int,
) -> Iterator[bytes]:
    blocks = [
        b
        for b in reader.read_readings(
            ReadingQuery(
                usage_points=tuple(ups),
                start=options.start,
                end=options.end,
                series=options.series,
                kind="interval",
            )
        )
        if b.usage_point is not None and len(b)
    ]
    by_up: dict[str, dict[str, list[ReadingBlock]]] = {}
    for b in blocks:
        assert b.usage_point is not None
        by_up.setdefault(b.usage_point.mrid or "", {}).setdefault(b.reading_type, []).append(b)
    summaries = _determinants(reader, ups, blocks, options, lo, hi)
    for up in ups:
        obj = reader.get_object(ObjectKind.USAGE_POINT, up)
        if obj is None and up not in by_up:
            continue
        stats.usage_points += 1
        up_href = f"{customer}/UsagePoint/{quote(up, safe='')}"
        series = []
        for code in sorted(by_up.get(up, {})):
            try:
                prepared = _prepare(code, by_up[up][code])
            except CodeError:
                continue
            if prepared is not None:
                series.append(prepared)
        xf.write(_usage_point_entry(up, obj, up_href, customer, ltp_href, series, updated))
        for n, s in enumerate(series, start=1):
            mr_href = f"{up_href}/MeterReading/{n}"
            rt_href = type_hrefs.get(s.espi_type)
            new_type = rt_href is None
            if rt_href is None:
                rt_href = type_hrefs[s.espi_type] = f"{base}/ReadingType/{len(type_hrefs) + 1}"
                stats.reading_types[rt_href] = s.code
            content = _espi("MeterReading")
            xf.write(
                _entry(
                    mr_href,
                    f"{up_href}/MeterReading",
                    (f"{mr_href}/IntervalBlock", rt_href),
                    s.code,
                    content,
                    updated,
                )
            )
            if new_type:
                xf.write(_reading_type_entry(s.espi_type, rt_href, base, updated))
            xf.flush()
            yield sink.take()
            index = np.searchsorted(day_starts, s.starts, side="right") - 1
            cuts = np.flatnonzero(np.diff(index)) + 1
            bounds = [0, *cuts.tolist(), int(index.shape[0])]
            for k in range(len(bounds) - 1):
                first, after = bounds[k], bounds[k + 1]
                day = days[int(index[first])] if index[first] >= 0 else None
                d_start = day.start if day else int(s.starts[first])
                d_len = (day.end - day.start) if day else 86400
                entry = _interval_block_entry(
                    f"{mr_href}/IntervalBlock/{k + 1}",
                    f"{mr_href}/IntervalBlock",
                    d_start,
                    d_len,
                    s,
                    slice(first, after),
                    updated,
                )
                stats.readings += after - first
                stats.interval_blocks += 1
                yield entry
        for n, d in enumerate(summaries.get(up, ()), start=1):
            xf.write(_summary_entry(d, f"{up_href}/UsageSummary/{n}", up_href, updated, options))
            stats.usage_summaries += 1
        xf.flush()
        yield sink.take()


def _determinants(
    reader: FeedReader,
    ups: list[str],
    blocks: list[ReadingBlock],
    options: ExportOptions,
    lo: int,
    hi: int,
) -> dict[str, list[Determinants]]:
    """Determinants of the billing periods that end in (start, end], per usage point."""
    source = _ChunkSource(reader, blocks, lo, hi, options.series)
    out: dict[str, list[Determinants]] = {}
    zone = options.billing.calendar.zone
    for label in _labels(options.start, options.end, zone):
        ending = [
            up
            for up in ups
            if (p := options.billing.cycles.cycle_of(up).period(label, zone)) is not None
            and lo < p.end_epoch <= hi
        ]
        if not ending:
            continue
        for d in run_billing(source, options.billing, label, usage_points=ending, coincident=False):
            if d.reading_types:
                out.setdefault(d.usage_point, []).append(d)
    return out


def _usage_point_entry(
    up: str,
    obj: MasterObject | None,
    href: str,
    customer: str,
    ltp_href: str,
    series: list[_Series],
    updated: str,
) -> etree._Element:
    content = _espi("UsagePoint")
    commodity = series[0].espi_type.commodity if series else 1
    category = _sub(content, "ServiceCategory")
    _sub(category, "kind", _SERVICE_KIND.get(commodity, 0))
    title = obj.names[0].name if obj is not None and obj.names else up
    return _entry(
        href,
        f"{customer}/UsagePoint",
        (f"{href}/MeterReading", f"{href}/UsageSummary", ltp_href),
        title,
        content,
        updated,
    )


def _reading_type_entry(rt: ReadingType, href: str, base: str, updated: str) -> etree._Element:
    content = _espi("ReadingType")
    for element, value in reading_type_fields(rt):
        if isinstance(value, tuple):
            pair = _sub(content, element)
            _sub(pair, "numerator", value[0])
            _sub(pair, "denominator", value[1])
        else:
            _sub(content, element, value)
    return _entry(href, f"{base}/ReadingType", (), rt.describe(), content, updated)


def _summary_entry(
    d: Determinants, href: str, up_href: str, updated: str, options: ExportOptions
) -> etree._Element:
    content = _espi("UsageSummary")
    period = _sub(content, "billingPeriod")
    _sub(period, "duration", d.period.end_epoch - d.period.start_epoch)
    _sub(period, "start", d.period.start_epoch)
    overall = _sub(content, "overallConsumptionLastPeriod")
    _sub(overall, "powerOfTenMultiplier", 0)
    _sub(overall, "uom", 72)
    _sub(overall, "value", round(d.delivered_kwh * 1000))
    if d.max_demand is not None:
        peak = _sub(content, "peakDemand")
        _sub(peak, "powerOfTenMultiplier", 0)
        _sub(peak, "timeStamp", int(d.max_demand.at.timestamp()))
        _sub(peak, "uom", 38)
        _sub(peak, "value", round(d.max_demand.kw * 1000))
    quality = 10 if d.missing else 8 if d.estimated else 7 if d.edited else 0
    _sub(content, "qualityOfReading", quality)
    _sub(content, "statusTimeStamp", int(options.updated.timestamp()))
    code = d.reading_types.get("delivered")
    _sub(content, "commodity", ReadingType.parse(code).commodity if code else 1)
    label = f"billing period {d.period.label}"
    return _entry(href, f"{up_href}/UsageSummary", (), label, content, updated)


def write_feed(
    out: IO[bytes], reader: FeedReader, usage_points: Iterable[str], options: ExportOptions
) -> ExportStats:
    """Write the feed to a binary file; returns what it holds."""
    stats = ExportStats()
    for chunk in iter_feed(reader, usage_points, options, stats):
        stats.bytes += len(chunk)
        out.write(chunk)
    return stats


def feed_bytes(reader: FeedReader, usage_points: Iterable[str], options: ExportOptions) -> bytes:
    """The whole feed in memory (small exports, tests)."""
    return b"".join(iter_feed(reader, usage_points, options))


__all__ = [
    "DEFAULT_BASE",
    "ExportError",
    "ExportOptions",
    "ExportStats",
    "FeedReader",
    "StoreFeedReader",
    "feed_bytes",
    "iter_feed",
    "write_feed",
]
