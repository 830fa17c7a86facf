"""MeterReadings: meter readings, interval data and their qualities (digest 3.1).

Namespace `http://iec.ch/TC57/2011/MeterReadings#`, root `MeterReadings`. Structure, order and
cardinalities follow the 2011 profile (SmenCim `MeterReadings.xsd`; Connexo's copy is identical
plus extensions: `Meter/serialNumber`, `LoadProfile`, `RegisterGroup`, which a reader keeps as
extensions). Surprises kept on purpose (digest 2.2.2): `Reading.value` comes before its
ReadingType ref, `IntervalBlock.ReadingType` after the readings, `MeterReading.valuesInterval`
last.

For big documents use the streaming columnar reader; this module also converts between the
typed model and columnar `ReadingBlock`s for small messages (`meter_readings_to_blocks`,
`blocks_to_meter_readings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from cimmeter.model.base import (
    CimDocument,
    CimModel,
    DateTime,
    Float,
    ReadingValue,
    Required,
)
from cimmeter.model.common import (
    DateTimeInterval,
    Name,
    NameType,
    NameTypeAuthority,
    RationalNumber,
    ReadingInterharmonic,
    ReadingQualityTypeRef,
    ReadingReasonKind,
    ReadingTypeRef,
    Status,
)
from cimmeter.model.end_device_events import (
    Asset,
    EndDeviceEvent,
    EndDeviceEventDetail,
    EndDeviceEventType,
    UsagePoint,
)
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock, ReadingBlockError


class ReadingQuality(CimModel):
    comment: str | None = None
    source: str | None = None
    time_stamp: DateTime | None = Field(None, alias="timeStamp")
    reading_quality_type: Annotated[ReadingQualityTypeRef | None, Required()] = Field(
        None, alias="ReadingQualityType"
    )


class IntervalReading(CimModel):
    reported_date_time: DateTime | None = Field(None, alias="reportedDateTime")
    source: str | None = None
    time_stamp: DateTime | None = Field(None, alias="timeStamp")
    """End of the interval the value belongs to (digest 3.1)."""
    value: ReadingValue | None = None
    reading_qualities: tuple[ReadingQuality, ...] = Field((), alias="ReadingQualities")
    time_period: DateTimeInterval | None = Field(None, alias="timePeriod")


class PendingCalculation(CimModel):
    """Scaling still to be applied to the values of a block (digest 3.1)."""

    multiply_before_add: bool | None = Field(None, alias="multiplyBeforeAdd")
    offset: int | None = None
    scalar_denominator: int | None = Field(None, alias="scalarDenominator")
    scalar_float: Float | None = Field(None, alias="scalarFloat")
    scalar_numerator: int | None = Field(None, alias="scalarNumerator")
    reading_type: Annotated[ReadingTypeRef | None, Required()] = Field(None, alias="ReadingType")


class IntervalBlock(CimModel):
    """Load profile of one ReadingType: the ReadingType ref comes after the readings."""

    interval_readings: tuple[IntervalReading, ...] = Field((), alias="IntervalReadings")
    pending_calculation: PendingCalculation | None = Field(None, alias="PendingCalculation")
    reading_type: Annotated[ReadingTypeRef | None, Required()] = Field(None, alias="ReadingType")


class Meter(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None


class Reading(CimModel):
    """A register, billing or instantaneous value: `value` before its ReadingType ref."""

    reason: ReadingReasonKind | None = None
    reported_date_time: DateTime | None = Field(None, alias="reportedDateTime")
    source: str | None = None
    time_stamp: DateTime | None = Field(None, alias="timeStamp")
    value: ReadingValue | None = None
    reading_qualities: tuple[ReadingQuality, ...] = Field((), alias="ReadingQualities")
    reading_type: Annotated[ReadingTypeRef | None, Required()] = Field(None, alias="ReadingType")
    time_period: DateTimeInterval | None = Field(None, alias="timePeriod")


class MeterReading(CimModel):
    """Readings of one meter and/or usage point; `valuesInterval` comes last."""

    is_coincident_trigger: bool | None = Field(None, alias="isCoincidentTrigger")
    end_device_events: tuple[EndDeviceEvent, ...] = Field((), alias="EndDeviceEvents")
    interval_blocks: tuple[IntervalBlock, ...] = Field((), alias="IntervalBlocks")
    meter: Meter | None = Field(None, alias="Meter")
    readings: tuple[Reading, ...] = Field((), alias="Readings")
    usage_point: UsagePoint | None = Field(None, alias="UsagePoint")
    values_interval: DateTimeInterval | None = Field(None, alias="valuesInterval")


class ReadingQualityType(CimModel):
    """Catalogue entry for a quality code `systemId.category.subCategory` (digest 5.3)."""

    mrid: str | None = Field(None, alias="mRID")
    category: str | None = None
    sub_category: str | None = Field(None, alias="subCategory")
    system_id: str | None = Field(None, alias="systemId")
    names: Annotated[tuple[Name, ...], Required()] = Field((), alias="Names")


class ReadingType(CimModel):
    """The full 18-attribute ReadingType (catalogue); enum-like attributes are numeric codes."""

    mrid: str | None = Field(None, alias="mRID")
    accumulation: str | None = None
    aggregate: str | None = None
    commodity: str | None = None
    consumption_tier: int | None = Field(None, alias="consumptionTier")
    cpp: int | None = None
    currency: str | None = None
    flow_direction: str | None = Field(None, alias="flowDirection")
    macro_period: str | None = Field(None, alias="macroPeriod")
    measurement_kind: str | None = Field(None, alias="measurementKind")
    measuring_period: str | None = Field(None, alias="measuringPeriod")
    multiplier: str | None = None
    phases: str | None = None
    tou: int | None = None
    unit: str | None = None
    argument: RationalNumber | None = None
    interharmonic: ReadingInterharmonic | None = None
    names: Annotated[tuple[Name, ...], Required()] = Field((), alias="Names")


class MeterReadings(CimDocument):
    profile: ClassVar[str] = "MeterReadings"

    end_device_event_type: tuple[EndDeviceEventType, ...] = Field((), alias="EndDeviceEventType")
    meter_reading: tuple[MeterReading, ...] = Field((), alias="MeterReading")
    reading_quality_type: tuple[ReadingQualityType, ...] = Field((), alias="ReadingQualityType")
    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")


# -- columnar conversion (small messages) -------------------------------------------------------


class ReadingConversionError(ReadingBlockError):
    """A reading that cannot become a columnar row (no timestamp, no ReadingType)."""


def _object_ref(obj: Meter | UsagePoint | None) -> ObjectRef | None:
    if obj is None:
        return None
    first = obj.names[0] if obj.names else None
    name_type = first.name_type if first else None
    authority = name_type.name_type_authority if name_type else None
    if not (obj.mrid or (first and first.name)):
        return None
    return ObjectRef(
        mrid=obj.mrid,
        name=first.name if first else None,
        name_type=name_type.name if name_type else None,
        name_type_authority=authority.name if authority else None,
    )


def _names_of(ref: ObjectRef) -> tuple[Name, ...]:
    if not ref.name:
        return ()
    name_type = None
    if ref.name_type:
        authority = (
            NameTypeAuthority(name=ref.name_type_authority) if ref.name_type_authority else None
        )
        name_type = NameType(name=ref.name_type, name_type_authority=authority)
    return (Name(name=ref.name, name_type=name_type),)


def _epoch(ts: datetime | None, where: str) -> int:
    if ts is None:
        raise ReadingConversionError(f"{where}: a reading without timeStamp has no row")
    return int(ts.timestamp())


def _float(value: Decimal | str | None) -> float:
    if value is None:
        return float("nan")
    try:
        return float(Decimal(value) if isinstance(value, str) else value)
    except InvalidOperation:
        return float("nan")


def _interval_text(interval: DateTimeInterval) -> str:
    return f"{interval.start.isoformat() if interval.start else ''}/" + (
        interval.end.isoformat() if interval.end else ""
    )


def _interval_of(text: str) -> DateTimeInterval:
    start, _, end = text.partition("/")
    return DateTimeInterval(
        start=datetime.fromisoformat(start) if start else None,
        end=datetime.fromisoformat(end) if end else None,
    )


def _row_extras(
    reading: Reading | IntervalReading,
) -> dict[str, str]:
    extras: dict[str, str] = {}
    if reading.reported_date_time is not None:
        extras["reportedDateTime"] = reading.reported_date_time.isoformat()
    if reading.source is not None:
        extras["source"] = reading.source
    if isinstance(reading, Reading) and reading.reason is not None:
        extras["reason"] = reading.reason.value
    if reading.time_period is not None:
        extras["timePeriod"] = _interval_text(reading.time_period)
    if isinstance(reading.value, str):
        extras["value"] = reading.value  # a non-numeric value: the float column holds NaN
    return extras


def _block(
    reading_type: str,
    readings: Sequence[Reading | IntervalReading],
    *,
    meter: ObjectRef | None,
    usage_point: ObjectRef | None,
    kind: str,
    where: str,
) -> ReadingBlock:
    timestamps = [_epoch(r.time_stamp, f"{where}[{i + 1}]") for i, r in enumerate(readings)]
    qualities = [
        [q.reading_quality_type.ref for q in r.reading_qualities if q.reading_quality_type]
        for r in readings
    ]
    block = ReadingBlock.build(
        reading_type,
        timestamps,
        [_float(r.value) for r in readings],
        [[q for q in qs if q] for qs in qualities],
        meter=meter,
        usage_point=usage_point,
        kind="interval" if kind == "interval" else "register",
    )
    block.extras.update({i: extras for i, r in enumerate(readings) if (extras := _row_extras(r))})
    return block


def meter_readings_to_blocks(document: MeterReadings) -> list[ReadingBlock]:
    """The readings of a (small) MeterReadings document as columnar blocks.

    One block per IntervalBlock (kind `interval`) and one per ReadingType of the `Readings` of a
    MeterReading (kind `register`), in document order. Rare per-reading attributes travel in
    `extras`. Not carried: events, Meter status, several Names of a meter (the first is used),
    PendingCalculation, quality comments and timestamps, sub-second timestamps.
    """
    blocks: list[ReadingBlock] = []
    for m, mr in enumerate(document.meter_reading, start=1):
        meter = _object_ref(mr.meter)
        usage_point = _object_ref(mr.usage_point)
        for b, ib in enumerate(mr.interval_blocks, start=1):
            where = f"/MeterReadings/MeterReading[{m}]/IntervalBlocks[{b}]"
            if ib.reading_type is None or not ib.reading_type.ref:
                raise ReadingConversionError(f"{where}: IntervalBlock without ReadingType ref")
            blocks.append(
                _block(
                    ib.reading_type.ref,
                    ib.interval_readings,
                    meter=meter,
                    usage_point=usage_point,
                    kind="interval",
                    where=f"{where}/IntervalReadings",
                )
            )
        by_type: dict[str, list[Reading]] = {}
        for r, reading in enumerate(mr.readings, start=1):
            if reading.reading_type is None or not reading.reading_type.ref:
                raise ReadingConversionError(
                    f"/MeterReadings/MeterReading[{m}]/Readings[{r}]: Reading without ReadingType"
                )
            by_type.setdefault(reading.reading_type.ref, []).append(reading)
        for reading_type, readings in by_type.items():
            blocks.append(
                _block(
                    reading_type,
                    readings,
                    meter=meter,
                    usage_point=usage_point,
                    kind="register",
                    where=f"/MeterReadings/MeterReading[{m}]/Readings",
                )
            )
    return blocks


def _value_of(block: ReadingBlock, i: int) -> Decimal | str | None:
    text = block.extras.get(i, {}).get("value")
    if text is not None:
        return text
    number = float(block.values[i])
    if np.isnan(number):
        return None
    return Decimal(repr(number))


def _readings_of(block: ReadingBlock) -> Iterable[IntervalReading | Reading]:
    for i in range(len(block)):
        extras = block.extras.get(i, {})
        qualities = tuple(
            ReadingQuality(reading_quality_type=ReadingQualityTypeRef(ref=code))
            for code in block.qualities_at(i)
        )
        reported = extras.get("reportedDateTime")
        period = extras.get("timePeriod")
        common = {
            "reported_date_time": datetime.fromisoformat(reported) if reported else None,
            "source": extras.get("source"),
            "time_stamp": datetime.fromtimestamp(int(block.timestamps[i]), UTC),
            "value": _value_of(block, i),
            "reading_qualities": qualities,
            "time_period": _interval_of(period) if period else None,
        }
        if block.kind == "interval":
            yield IntervalReading(**common)
        else:
            reason = extras.get("reason")
            yield Reading(
                **common,
                reason=ReadingReasonKind(reason) if reason else None,
                reading_type=ReadingTypeRef(ref=block.reading_type),
            )


def blocks_to_meter_readings(blocks: Iterable[ReadingBlock]) -> MeterReadings:
    """Columnar blocks as one MeterReadings document: one MeterReading per (meter, usage point),
    an IntervalBlock per interval block, `Readings` for register blocks (digest 3.1)."""
    groups: dict[tuple[ObjectRef | None, ObjectRef | None], list[ReadingBlock]] = {}
    for block in blocks:
        groups.setdefault((block.meter, block.usage_point), []).append(block)
    meter_readings = []
    for (meter, usage_point), group in groups.items():
        interval_blocks = tuple(
            IntervalBlock(
                interval_readings=tuple(
                    r for r in _readings_of(b) if isinstance(r, IntervalReading)
                ),
                reading_type=ReadingTypeRef(ref=b.reading_type),
            )
            for b in group
            if b.kind == "interval"
        )
        readings = tuple(
            r
            for b in group
            if b.kind == "register"
            for r in _readings_of(b)
            if isinstance(r, Reading)
        )
        meter_readings.append(
            MeterReading(
                interval_blocks=interval_blocks,
                meter=Meter(mrid=meter.mrid, names=_names_of(meter)) if meter else None,
                readings=readings,
                usage_point=UsagePoint(mrid=usage_point.mrid, names=_names_of(usage_point))
                if usage_point
                else None,
            )
        )
    return MeterReadings(meter_reading=tuple(meter_readings))


__all__ = [
    "Asset",
    "EndDeviceEvent",
    "EndDeviceEventDetail",
    "EndDeviceEventType",
    "IntervalBlock",
    "IntervalReading",
    "Meter",
    "MeterReading",
    "MeterReadings",
    "PendingCalculation",
    "Reading",
    "ReadingConversionError",
    "ReadingQuality",
    "ReadingQualityType",
    "ReadingType",
    "UsagePoint",
    "blocks_to_meter_readings",
    "meter_readings_to_blocks",
]
