"""Readings as CSV: one row per reading (DECISIONS.md, "CSV of readings").

Columns `meter,usage_point,reading_type,timestamp,value,quality`: the meter and usage point as
their identifier (the mRID, else the name; `ObjectRef.describe` is for people, not for this),
the timestamp in ISO 8601 UTC with `Z`, the value in its shortest round-trip form, and the
quality codes joined by `;`. Writing streams block by block; reading groups consecutive rows
of the same meter, usage point and reading type back into blocks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.xml.datetimes import DateTimeLexicalError, EpochConverter, format_epochs

COLUMNS = ("meter", "usage_point", "reading_type", "timestamp", "value", "quality")


class ReadingsCsvError(ValueError):
    """A CSV row that cannot be read as a reading: which line, which column, what was wrong."""

    def __init__(self, line: int, column: str, reason: str) -> None:
        super().__init__(f"line {line}: column {column}: {reason}")
        self.line = line
        self.column = column
        self.reason = reason


def _ref_text(ref: ObjectRef | None) -> str:
    if ref is None:
        return ""
    return ref.mrid or ref.name or ref.serial_number or ""


def _value_text(value: float) -> str:
    text = repr(value)
    return {"nan": "NaN", "inf": "INF", "-inf": "-INF"}.get(text, text)


def _rows(blocks: Iterable[ReadingBlock]) -> Iterator[list[str]]:
    for block in blocks:
        meter, usage_point = _ref_text(block.meter), _ref_text(block.usage_point)
        qualities = [";".join(codes) for codes in block.quality_sets]
        for stamp, value, q in zip(
            format_epochs(block.timestamps),
            block.values.tolist(),
            block.quality.tolist(),
            strict=True,
        ):
            yield [meter, usage_point, block.reading_type, stamp, _value_text(value), qualities[q]]


def write_readings_csv(target: str | Path | IO[str], blocks: Iterable[ReadingBlock]) -> int:
    """Write the header and one row per reading; returns the number of readings."""
    if isinstance(target, str | Path):
        with open(target, "w", newline="", encoding="utf-8") as out:
            return write_readings_csv(out, blocks)
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in _rows(blocks):
        writer.writerow(row)
        count += 1
    return count


def readings_csv_text(blocks: Iterable[ReadingBlock]) -> str:
    out = io.StringIO()
    write_readings_csv(out, blocks)
    return out.getvalue()


def read_readings_csv(
    source: str | Path | IO[str], *, max_rows_per_block: int = 100_000
) -> Iterator[ReadingBlock]:
    """Blocks from CSV rows (consecutive rows of one meter, usage point and reading type).

    Meter and usage point come back as `ObjectRef(mrid=...)`: the CSV keeps one identifier."""
    if isinstance(source, str | Path):
        with open(source, newline="", encoding="utf-8") as f:
            yield from read_readings_csv(f, max_rows_per_block=max_rows_per_block)
        return
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None or tuple(header) != COLUMNS:
        raise ReadingsCsvError(1, "header", f"expected the columns {','.join(COLUMNS)}")
    epochs = EpochConverter()
    key: tuple[str, str, str] | None = None
    stamps: list[str] = []
    values: list[float] = []
    qualities: list[list[str]] = []
    first_line = 2

    def flush() -> ReadingBlock:
        assert key is not None
        converted, bad = epochs.convert(stamps)
        if bad:
            raise ReadingsCsvError(first_line + bad[0].index, "timestamp", bad[0].reason)
        meter, usage_point, reading_type = key
        return ReadingBlock.build(
            reading_type,
            converted,
            np.asarray(values, dtype=np.float64),
            qualities,
            meter=ObjectRef(mrid=meter) if meter else None,
            usage_point=ObjectRef(mrid=usage_point) if usage_point else None,
        )

    for line, row in enumerate(reader, start=2):
        if len(row) != len(COLUMNS):
            raise ReadingsCsvError(line, "row", f"{len(row)} fields, expected {len(COLUMNS)}")
        meter, usage_point, reading_type, stamp, value, quality = row
        if (meter, usage_point, reading_type) != key or len(stamps) >= max_rows_per_block:
            if key is not None:
                yield flush()
            key, stamps, values, qualities, first_line = (
                (meter, usage_point, reading_type),
                [],
                [],
                [],
                line,
            )
        try:
            values.append(float(value.replace("INF", "inf")))
        except ValueError:
            raise ReadingsCsvError(line, "value", f"{value!r} is not a number") from None
        stamps.append(stamp)
        qualities.append([q for q in quality.split(";") if q])
    if key is not None:
        yield flush()


__all__ = [
    "COLUMNS",
    "DateTimeLexicalError",
    "ReadingsCsvError",
    "read_readings_csv",
    "readings_csv_text",
    "write_readings_csv",
]
