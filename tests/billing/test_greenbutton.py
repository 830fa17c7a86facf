"""Green Button: DST rules, the ReadingType and quality mappings, export validity, import of
other utilities' feeds, and the export -> import -> export round trip (hypothesis)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from typer.testing import CliRunner

from cimmeter.cli.app import app
from cimmeter.codes import ReadingType
from cimmeter.greenbutton.espi import (
    decode_rule,
    espi_qualities,
    quality_codes,
    reading_type_fields,
    reading_type_from_espi,
    time_parameters,
)
from cimmeter.greenbutton.export import ExportOptions, StoreFeedReader, feed_bytes, iter_feed
from cimmeter.greenbutton.importer import FeedError, import_feed
from cimmeter.greenbutton.validate import validation_errors
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store import ReadingQuery, Store, open_store
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind
from tests.billing.conftest import (
    DELIVERED,
    HOURLY_DELIVERED,
    RECEIVED,
    config,
    day_period,
    fill_store,
    quarter_ends,
    utc,
)

ESPI = "{http://naesb.org/espi}"
ATOM = "{http://www.w3.org/2005/Atom}"
runner = CliRunner()


# -- vocabulary -----------------------------------------------------------------------------------


def test_dst_rules_of_three_zones() -> None:
    ny = time_parameters(ZoneInfo("America/New_York"), 2024)
    # The GBA sample feed's "DST For North America": second Sunday of March and first Sunday
    # of November at 02:00, EST = -5 h, DST +1 h.
    assert (ny.dst_start_rule, ny.dst_end_rule, ny.tz_offset, ny.dst_offset) == (
        "360E2000",
        "B40E2000",
        -18000,
        3600,
    )
    berlin = time_parameters(ZoneInfo("Europe/Berlin"), 2024)
    # Last Sunday (operator 7) of March at 02:00 CET and of October at 03:00 CEST.
    assert decode_rule(berlin.dst_start_rule) == {
        "month": 3, "operator": 7, "day_of_month": 0, "day_of_week": 7, "hour": 2, "seconds": 0,
    }  # fmt: skip
    assert decode_rule(berlin.dst_end_rule)["month"] == 10
    assert decode_rule(berlin.dst_end_rule)["hour"] == 3
    assert (berlin.tz_offset, berlin.dst_offset) == (3600, 3600)
    tokyo = time_parameters(ZoneInfo("Asia/Tokyo"), 2024)
    assert (tokyo.dst_start_rule, tokyo.dst_offset, tokyo.tz_offset) == ("FFFFFFFF", 0, 32400)


def test_reading_type_mapping_both_ways() -> None:
    rt = ReadingType.parse(DELIVERED)
    fields = dict(reading_type_fields(rt))
    assert fields["intervalLength"] == 900
    assert (fields["kind"], fields["uom"], fields["powerOfTenMultiplier"]) == (12, 72, 3)
    assert "interharmonic" not in fields
    assert reading_type_from_espi(fields) == rt
    # The GBA sample's ReadingType, field by field (digest 5.1.15): no measuringPeriod
    # element, so intervalLength 900 gives fifteenMinute.
    sample = {
        "accumulationBehaviour": 4, "commodity": 1, "currency": 840, "dataQualifier": 12,
        "flowDirection": 1, "intervalLength": 900, "kind": 12, "phase": 769,
        "powerOfTenMultiplier": 0, "timeAttribute": 0, "uom": 72,
        "interharmonic": (600, 800), "argument": (1, 2),
    }  # fmt: skip
    assert str(reading_type_from_espi(sample)) == "0.12.2.4.1.1.12.600.800.1.2.0.0.0.769.0.72.840"


def test_quality_mapping() -> None:
    assert espi_qualities(()) == ()
    assert espi_qualities(("3.0.0",)) == ()
    assert espi_qualities(("3.8.0", "1.4.9")) == (8, 16)
    assert espi_qualities(("3.6.3", "3.0.1")) == (10, 17)
    assert quality_codes([0, 7, 8, 13]) == ("3.7.0", "3.8.0", "5.13.0")
    for codes in (("3.8.2",), ("1.4.9",), ("3.6.3",), ("3.7.1", "3.0.1")):
        espi = espi_qualities(codes)
        assert espi_qualities(quality_codes(espi)) == espi  # stable after one trip


# -- export ---------------------------------------------------------------------------------------


def _store(tmp: Path, blocks: Sequence[ReadingBlock], ups: Sequence[str]) -> Store:
    store = open_store(f"sqlite:///{tmp / 'gb.db'}", upgrade=True)
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    with store.transaction() as tx:
        for up in ups:
            tx.put_object(MasterObject(ObjectKind.METER, f"m-{up}", updated_at=t0))
            tx.put_object(MasterObject(ObjectKind.USAGE_POINT, up, updated_at=t0))
            tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, f"m-{up}", up, t0))
        if blocks:
            result = tx.ingest_readings(list(blocks), received_at=t0)
            assert not result.rejected
    return store


def _series(
    meter: str, rt: str, ts: np.ndarray, values: Sequence[float], q: object = None
) -> ReadingBlock:
    return ReadingBlock.build(
        rt,
        ts,
        np.asarray(values, dtype=np.float64),
        q,
        meter=ObjectRef.of(meter),  # type: ignore[arg-type]
    )


def test_export_of_dst_days_validates_with_one_block_per_local_day(tmp_path: Path) -> None:
    zone = "America/New_York"
    first = day_period(zone, date(2024, 11, 2))
    last = day_period(zone, date(2024, 11, 4))
    ts = quarter_ends(first.start, last.end)
    assert ts.shape[0] == 96 + 100 + 96
    values = np.full(ts.shape[0], 1.234)
    qualities = [["3.8.0"] if i == 100 else [] for i in range(ts.shape[0])]
    store = _store(tmp_path, [_series("m-A", DELIVERED, ts, values, qualities)], ["A"])
    with store:
        options = ExportOptions(first.start, last.end, config(zone), updated=utc(2024, 12, 1))
        data = feed_bytes(StoreFeedReader(store), ["A"], options)
    assert validation_errors(data) == []
    root = etree.fromstring(data)
    blocks = root.findall(f".//{ESPI}IntervalBlock")
    counts = [len(b.findall(f"{ESPI}IntervalReading")) for b in blocks]
    assert counts == [96, 100, 96]
    assert [b.findtext(f"{ESPI}interval/{ESPI}duration") for b in blocks] == [
        "86400",
        "90000",
        "86400",
    ]
    # 1.234 kWh is written as 1234 Wh: powerOfTenMultiplier 0.
    assert root.findtext(f".//{ESPI}ReadingType/{ESPI}powerOfTenMultiplier") == "0"
    readings = root.findall(f".//{ESPI}IntervalReading")
    assert readings[0].findtext(f"{ESPI}value") == "1234"
    assert readings[0].findtext(f"{ESPI}timePeriod/{ESPI}start") == str(
        int(first.start.timestamp())
    )
    assert readings[100].findtext(f"{ESPI}ReadingQuality/{ESPI}quality") == "8"
    # Links: the MeterReading is related to its IntervalBlocks and ReadingType.
    entries = root.findall(f"{ATOM}entry")
    mr = next(e for e in entries if e.find(f"{ATOM}content/{ESPI}MeterReading") is not None)
    related = [ln.get("href") for ln in mr.findall(f"{ATOM}link[@rel='related']")]
    assert related[0].endswith("/UsagePoint/A/MeterReading/1/IntervalBlock")
    assert related[1].endswith("/ReadingType/1")


def test_usage_summary_from_determinants(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 's.db'}"
        fill_store(url, 1, utc(2024, 2, 28), utc(2024, 4, 2))
        with open_store(url) as store:
            cfg = config("Europe/Berlin")
            options = ExportOptions(
                utc(2024, 2, 29, 23), utc(2024, 3, 31, 22), cfg, utc(2024, 4, 2)
            )
            data = feed_bytes(StoreFeedReader(store), ["u0"], options)
    assert validation_errors(data) == []
    summary = etree.fromstring(data).find(f".//{ESPI}UsageSummary")
    assert summary is not None
    # Berlin March 2024: 2972 quarter hours of 1 kWh = 2,972,000 Wh; peak 4 kW.
    assert summary.findtext(f"{ESPI}overallConsumptionLastPeriod/{ESPI}value") == "2972000"
    assert summary.findtext(f"{ESPI}peakDemand/{ESPI}value") == "4000"
    assert summary.findtext(f"{ESPI}billingPeriod/{ESPI}duration") == str(743 * 3600)
    assert summary.findtext(f"{ESPI}qualityOfReading") == "0"


# -- import ---------------------------------------------------------------------------------------


def test_import_of_another_utilitys_feed(store_url: str, shared: Path) -> None:
    """On SQLite and PostgreSQL."""
    sample = shared / "reference" / "greenbutton-samples" / "test_usage_data_01.xml"
    with open_store(store_url, upgrade=True) as store:
        stats = import_feed(store, sample, received_at=utc(2024, 1, 1))
        assert stats.usage_points == ["5446AF3F"]
        assert stats.created_meters == ["greenbutton:5446AF3F"]
        with store.snapshot() as snap:
            (block,) = list(snap.read_readings(ReadingQuery(usage_points=("5446AF3F",))))
    assert stats.readings == len(block) == 96
    assert block.reading_type == "0.12.2.4.1.1.12.600.800.1.2.0.0.0.769.0.72.840"
    # The first readings of the sample: 282 (quality 8), 323 (7), 294; 3/1/2012 05:00Z + 900.
    assert block.values[:3].tolist() == [282.0, 323.0, 294.0]
    assert block.timestamps[0] == 1330578000 + 900
    assert [block.qualities_at(i) for i in range(3)] == [("3.8.0",), ("3.7.0",), ()]


def test_import_rejects_a_feed_whose_blocks_have_no_meter_reading(tmp_path: Path) -> None:
    feed = """<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title>
<updated>2024-01-01T00:00:00Z</updated><link rel="self" href="/f"/>
<entry><id>e</id><link rel="self" href="/UsagePoint/9/MeterReading/1/IntervalBlock/1"/>
<link rel="up" href="/UsagePoint/9/MeterReading/1/IntervalBlock"/><title/>
<content><IntervalBlock xmlns="http://naesb.org/espi"><interval><duration>900</duration>
<start>0</start></interval></IntervalBlock></content>
<published>2024-01-01T00:00:00Z</published><updated>2024-01-01T00:00:00Z</updated></entry></feed>"""
    path = tmp_path / "orphan.xml"
    path.write_text(feed)
    assert validation_errors(path) == []  # valid ESPI, but nothing to attribute the block to
    with (
        open_store(f"sqlite:///{tmp_path / 'o.db'}", upgrade=True) as store,
        pytest.raises(
            FeedError,
            match=r"IntervalBlock /UsagePoint/9/MeterReading/1/IntervalBlock/1: no MeterReading",
        ),
    ):
        import_feed(store, path)


def test_cli_export_and_import(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    fill_store(url, 2, utc(2024, 3, 9), utc(2024, 3, 12))
    out = tmp_path / "gb.xml"
    result = runner.invoke(
        app,
        [
            "export", "greenbutton", "--usage-point", "u1", "--from", "2024-03-10", "--to",
            "2024-03-11", "--db", url, "--timezone", "America/New_York", "--out", str(out),
            "--validate",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 usage points, 92 readings in 1 interval blocks" in result.stderr
    assert "valid ESPI feed" in result.stderr
    other = f"sqlite:///{tmp_path / 'other.db'}"
    result = runner.invoke(app, ["import", "greenbutton", str(out), "--db", other])
    assert result.exit_code == 0, result.output
    assert "92 readings of u1" in result.stdout
    result = runner.invoke(
        app, ["import", "greenbutton", str(tmp_path / "nope.xml"), "--db", other]
    )
    assert result.exit_code == 2
    broken = tmp_path / "broken.xml"
    broken.write_bytes(out.read_bytes().replace(b"<kind>12</kind>", b"<kind>energy</kind>"))
    result = runner.invoke(app, ["import", "greenbutton", str(broken), "--db", other])
    assert result.exit_code == 1
    assert "not a valid ESPI feed" in result.stderr
    result = runner.invoke(
        app, ["export", "greenbutton", "--from", "2024-03-10", "--to", "yesterday", "--db", url]
    )
    assert result.exit_code == 2 and "--to 'yesterday'" in result.stderr


# -- round trip -----------------------------------------------------------------------------------

QUALITIES = [[], ["3.8.0"], ["3.7.0"], ["1.4.9"], ["3.0.1"], ["3.6.3", "3.8.0"]]
START = utc(2024, 3, 9, 5)  # around New York's spring DST change
END = utc(2024, 3, 12, 4)


@st.composite
def series(draw: st.DrawFn, up: str, rt: str) -> ReadingBlock:
    step = 3600 if rt == HOURLY_DELIVERED else 900
    slots = (int(END.timestamp()) - int(START.timestamp())) // step
    first = draw(st.integers(0, slots - 1))
    n = draw(st.integers(1, min(40, slots - first)))
    ts = int(START.timestamp()) + step * np.arange(first + 1, first + n + 1, dtype=np.int64)
    milli = draw(st.lists(st.integers(-(10**7), 10**7), min_size=n, max_size=n))
    qualities = draw(st.lists(st.sampled_from(QUALITIES), min_size=n, max_size=n))
    return _series(f"m-{up}", rt, ts, [m / 1000 for m in milli], qualities)


@st.composite
def stores(draw: st.DrawFn) -> tuple[list[str], list[ReadingBlock]]:
    ups = draw(st.lists(st.sampled_from(["A", "B/1", "C d"]), min_size=1, max_size=2, unique=True))
    blocks = []
    for up in ups:
        for rt in draw(
            st.lists(
                st.sampled_from([DELIVERED, RECEIVED, HOURLY_DELIVERED]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ):
            blocks.append(draw(series(up, rt)))
    return ups, blocks


def _content(data: bytes) -> dict[tuple[str, tuple[object, ...]], list[tuple[str, ...]]]:
    """What a feed says, keyed by (usage point title, ESPI ReadingType fields)."""
    root = etree.fromstring(data)
    entries = root.findall(f"{ATOM}entry")

    def href(e: etree._Element, rel: str) -> list[str]:
        return [ln.get("href", "") for ln in e.findall(f"{ATOM}link[@rel='{rel}']")]

    types = {
        href(e, "self")[0]: tuple(
            (c.tag, c.text, tuple(x.text for x in c))
            for c in e.find(f"{ATOM}content/{ESPI}ReadingType")
        )
        for e in entries
        if e.find(f"{ATOM}content/{ESPI}ReadingType") is not None
    }
    titles = {
        href(e, "self")[0]: e.findtext(f"{ATOM}title")
        for e in entries
        if e.find(f"{ATOM}content/{ESPI}UsagePoint") is not None
    }
    meter_readings = {
        href(e, "self")[0]: (href(e, "up")[0].rsplit("/MeterReading", 1)[0], href(e, "related")[1])
        for e in entries
        if e.find(f"{ATOM}content/{ESPI}MeterReading") is not None
    }
    out: dict[tuple[str, tuple[object, ...]], list[tuple[str, ...]]] = {}
    for e in entries:
        block = e.find(f"{ATOM}content/{ESPI}IntervalBlock")
        if block is None:
            continue
        up, rt = meter_readings[href(e, "up")[0].rsplit("/IntervalBlock", 1)[0]]
        rows = out.setdefault((titles[up] or "", types[rt]), [])
        for r in block.iterfind(f"{ESPI}IntervalReading"):
            rows.append(tuple(etree.tostring(r, method="c14n").decode().split("><")))
    for e in entries:
        summary = e.find(f"{ATOM}content/{ESPI}UsageSummary")
        if summary is not None:
            summary.remove(summary.find(f"{ESPI}statusTimeStamp"))
            out[(e.findtext(f"{ATOM}title") or "", ())] = [
                (etree.tostring(summary, method="c14n").decode(),)
            ]
    return out


@settings(max_examples=25)
@given(stores())
def test_export_import_export_gives_the_same_values_and_reading_types(
    case: tuple[list[str], list[ReadingBlock]],
) -> None:
    ups, blocks = case
    cfg = config("America/New_York")
    options = ExportOptions(START, END, cfg, updated=utc(2024, 4, 1))
    with tempfile.TemporaryDirectory() as tmp:
        first_dir, second_dir = Path(tmp) / "1", Path(tmp) / "2"
        first_dir.mkdir()
        second_dir.mkdir()
        with _store(first_dir, blocks, ups) as store:
            first = feed_bytes(StoreFeedReader(store), ups, options)
        path = Path(tmp) / "feed.xml"
        path.write_bytes(first)
        assert validation_errors(path) == []
        with open_store(f"sqlite:///{second_dir / 'gb.db'}", upgrade=True) as store:
            stats = import_feed(store, path, received_at=utc(2024, 4, 2))
            assert stats.rejected == 0
            assert sorted(stats.usage_points) == sorted(ups)
            second = feed_bytes(StoreFeedReader(store), ups, options)
    assert _content(second) == _content(first)
    # And the values are the stored physical quantities: kWh * 1000 with 3 decimals -> Wh.
    total = sum(len(b) for b in blocks)
    assert sum(len(rows) for key, rows in _content(first).items() if key[1]) == total


class _CountingReader:
    """A FeedReader over a store that counts the usage points it was asked to read."""

    def __init__(self, store: Store) -> None:
        self.inner = StoreFeedReader(store)
        self.read: list[str] = []

    def get_object(self, kind: ObjectKind, mrid: str) -> MasterObject | None:
        return self.inner.get_object(kind, mrid)

    def read_readings(self, query: ReadingQuery):  # type: ignore[no-untyped-def]
        self.read.extend(query.usage_points)
        return self.inner.read_readings(query)


def test_bulk_export_streams_chunk_by_chunk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    fill_store(url, 30, utc(2024, 3, 12, 4), utc(2024, 3, 13, 4))
    with open_store(url) as store:
        reader = _CountingReader(store)
        options = ExportOptions(
            utc(2024, 3, 12, 4), utc(2024, 3, 13, 4), config("America/New_York"),
            updated=utc(2024, 4, 1), chunk=10,
        )  # fmt: skip
        chunks = iter_feed(reader, [f"u{i}" for i in range(30)], options)
        head = b""
        while b"/UsagePoint/u1/MeterReading/1/IntervalBlock/1" not in head:
            head += next(chunks)
        # The first chunk of 10 usage points is read and being written; the rest is not read.
        assert reader.read == [f"u{i}" for i in range(10)]
        rest = b"".join(chunks)
    assert reader.read == [f"u{i}" for i in range(30)]
    assert validation_errors(head + rest) == []
    assert (head + rest).count(b"<IntervalBlock ") == 30
