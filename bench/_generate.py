"""Generate MeterReadings documents for the benchmarks (cached under bench/out/, git-ignored).

The shape follows digest 3.1 in schema order: per meter one MeterReading with one IntervalBlock
of 15-minute readings (`timeStamp` = end of interval, `value` a decimal text) and the
ReadingType ref after the readings, then the Meter and UsagePoint. One reading in
`quality_every` carries a ReadingQuality (estimated, `2.8.1`), as real load profiles do.
Values and mRIDs are deterministic from the meter index, so a cached file is reproducible.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

PROFILE_NS = "http://iec.ch/TC57/2011/MeterReadings#"
MESSAGE_NS = "http://iec.ch/TC57/2011/schema/message"
READING_TYPE = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"  # 15-min forward active energy, kWh
ESTIMATED = "2.8.1"
START = datetime(2026, 1, 1, tzinfo=UTC)
_SEED = uuid.UUID("6f1c2a8e-2f4b-4d7e-9b1a-0c3d5e7f9a1b")


def meter_mrid(index: int) -> str:
    return str(uuid.uuid5(_SEED, f"meter-{index}"))


def _timestamps(readings: int, step: int) -> list[str]:
    return [
        (START + timedelta(seconds=step * (k + 1))).strftime("%Y-%m-%dT%H:%M:%SZ")
        for k in range(readings)
    ]


def _meter_reading(index: int, stamps: list[str], quality_every: int) -> Iterator[str]:
    yield "<m:MeterReading><m:IntervalBlocks>\n"
    base = (index * 7919) % 1000
    for k, stamp in enumerate(stamps):
        value = ((base + k * 37) % 2000) / 1000  # 0.000 .. 1.999 kWh, three decimals
        quality = (
            f'<m:ReadingQualities><m:ReadingQualityType ref="{ESTIMATED}"/></m:ReadingQualities>'
            if quality_every and (index + k) % quality_every == 0
            else ""
        )
        yield (
            f"<m:IntervalReadings><m:timeStamp>{stamp}</m:timeStamp>"
            f"<m:value>{value:g}</m:value>{quality}</m:IntervalReadings>\n"
        )
    yield (
        f'<m:ReadingType ref="{READING_TYPE}"/></m:IntervalBlocks>\n'
        f"<m:Meter><m:mRID>{meter_mrid(index)}</m:mRID></m:Meter>"
        f"<m:UsagePoint><m:Names><m:name>UP-{index:07d}</m:name></m:Names></m:UsagePoint>"
        "</m:MeterReading>\n"
    )


def write_document(
    path: Path,
    meters: int,
    readings: int = 96,
    *,
    step: int = 900,
    quality_every: int = 50,
    envelope: bool = False,
) -> Path:
    """Write a MeterReadings document of `meters` x `readings` interval readings to `path`."""
    stamps = _timestamps(readings, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        if envelope:
            out.write(
                f'<msg:EventMessage xmlns:msg="{MESSAGE_NS}"><msg:Header>'
                "<msg:Verb>created</msg:Verb><msg:Noun>MeterReadings</msg:Noun>"
                "<msg:Timestamp>2026-01-02T00:00:00Z</msg:Timestamp>"
                "<msg:Source>bench</msg:Source><msg:MessageID>bench-1</msg:MessageID>"
                "</msg:Header><msg:Payload>\n"
            )
        out.write(f'<m:MeterReadings xmlns:m="{PROFILE_NS}">\n')
        for index in range(meters):
            out.writelines(_meter_reading(index, stamps, quality_every))
        out.write("</m:MeterReadings>\n")
        if envelope:
            out.write("</msg:Payload></msg:EventMessage>\n")
    tmp.replace(path)
    return path


def cached_document(meters: int, readings: int = 96, *, envelope: bool = False) -> Path:
    """The document for `meters` x `readings`, generated once under bench/out/."""
    kind = "event" if envelope else "bare"
    path = OUT / f"meter-readings-{meters}x{readings}-{kind}.xml"
    if not path.exists():
        write_document(path, meters, readings, envelope=envelope)
    return path
