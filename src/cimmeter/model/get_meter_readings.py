"""GetMeterReadings: the query profile of `get MeterReadings` (digest 3.2).

Namespace `http://iec.ch/TC57/2011/GetMeterReadings#`, root `GetMeterReadings`. It goes in
`Request`, after StartTime/EndTime/Option/ID, never in Payload (digest fact 1). Every child is a
filter: different kinds combine with AND, several of one kind with OR (M).

Source: Connexo `GetMeterReadings.xsd` (no second public copy). `EndDevice/serialNumber` and
`Meter/serialNumber` may be Connexo additions (digest 3.2); they are kept because the digest
lists them in the structure. Connexo's `Reading/scheduleStrategy`, `connectionMethod` and
`dataSource` are vendor extensions: a reader keeps them as extensions.

The time range can come from three places; precedence Reading/timePeriod, then TimeSchedule,
then Request StartTime/EndTime (digest 3.2, M; DECISIONS.md).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, Required
from cimmeter.model.common import (
    DateTimeInterval,
    EndDeviceGroup,
    IdentifiedObject,
    Name,
    ReadingReasonKind,
    UsagePoint,
    UsagePointGroup,
)


class EndDevice(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    serial_number: str | None = Field(None, alias="serialNumber")
    names: tuple[Name, ...] = Field((), alias="Names")


class Meter(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    serial_number: str | None = Field(None, alias="serialNumber")
    names: tuple[Name, ...] = Field((), alias="Names")


class EndDeviceEventType(IdentifiedObject):
    """In a query profile type objects are not ref elements: mRID and Names (digest 2.2.4)."""


class ReadingType(IdentifiedObject):
    """Which quantity: mRID = the 18-field ReadingType code, or Names (digest 3.2)."""


class ReadingQualityType(IdentifiedObject):
    """`mRID` = the quality code `systemId.category.subCategory` (digest 5.3)."""


class TransformerTank(IdentifiedObject):
    pass


class CoincidentEndDeviceEvent(CimModel):
    xml_name: ClassVar[str | None] = "EndDeviceEvent"

    end_device_event_type: Annotated[EndDeviceEventType | None, Required()] = Field(
        None, alias="EndDeviceEventType"
    )


class CoincidentReading(CimModel):
    reason: ReadingReasonKind | None = None
    source: str | None = None
    reading_type: Annotated[ReadingType | None, Required()] = Field(None, alias="ReadingType")
    time_period: DateTimeInterval | None = Field(None, alias="timePeriod")


class CoincidentMeterReadings(CimModel):
    """Coincident-read trigger selection (`GetMeterReadings/MeterReadings`, rarely used)."""

    xml_name: ClassVar[str | None] = "MeterReadings"

    is_coincident_trigger: bool | None = Field(None, alias="isCoincidentTrigger")
    end_device_events: CoincidentEndDeviceEvent | None = Field(None, alias="EndDeviceEvents")
    meter: Meter | None = Field(None, alias="Meter")
    readings: CoincidentReading | None = Field(None, alias="Readings")
    usage_point: UsagePoint | None = Field(None, alias="UsagePoint")


class Reading(CimModel):
    """Options for the returned readings: reason (`inquiry` = on-demand), source, timePeriod.

    Connexo reads `source` (`System` = stored, `Meter` = read the device now, `Hybrid`) and
    takes `timePeriod` as the half-open range (start, end] (digest 3.2, V(impl))."""

    reason: ReadingReasonKind | None = None
    source: str | None = None
    time_period: DateTimeInterval | None = Field(None, alias="timePeriod")


class ReadingQuality(CimModel):
    reading_quality_type: Annotated[ReadingQualityType | None, Required()] = Field(
        None, alias="ReadingQualityType"
    )


class TimeSchedule(CimModel):
    schedule_interval: Annotated[DateTimeInterval | None, Required()] = Field(
        None, alias="scheduleInterval"
    )


class GetMeterReadings(CimDocument):
    # digest 3.2 (M): kinds of filter combine with AND, several of one kind with OR.
    profile: ClassVar[str] = "GetMeterReadings"

    end_device: tuple[EndDevice, ...] = Field((), alias="EndDevice")
    end_device_group: tuple[EndDeviceGroup, ...] = Field((), alias="EndDeviceGroup")
    meter_readings: CoincidentMeterReadings | None = Field(None, alias="MeterReadings")
    reading: tuple[Reading, ...] = Field((), alias="Reading")
    reading_quality: tuple[ReadingQuality, ...] = Field((), alias="ReadingQuality")
    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")
    time_schedule: tuple[TimeSchedule, ...] = Field((), alias="TimeSchedule")
    transformer_tank: tuple[TransformerTank, ...] = Field((), alias="TransformerTank")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")
    usage_point_group: tuple[UsagePointGroup, ...] = Field((), alias="UsagePointGroup")


__all__ = [
    "CoincidentEndDeviceEvent",
    "CoincidentMeterReadings",
    "CoincidentReading",
    "EndDevice",
    "EndDeviceEventType",
    "GetMeterReadings",
    "Meter",
    "Reading",
    "ReadingQuality",
    "ReadingQualityType",
    "ReadingType",
    "TimeSchedule",
    "TransformerTank",
]
