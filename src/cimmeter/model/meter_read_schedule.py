"""MeterReadSchedule: when to read which devices and quantities (digest 3.3).

Namespace `http://iec.ch/TC57/2011/MeterReadSchedule#` (singular), root `MeterReadSchedule`
(SmenCim `MeterReadSchedule.xsd`). Many texts say "MeterReadSchedules": readers accept both,
writers emit the singular (digest 2.1.1, DECISIONS.md). Note `EndDevice/mRID` is required here.
There is no Get query profile: `get MeterReadSchedule` carries only StartTime, EndTime, Option
and ID in Request (digest 3.3).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, Float
from cimmeter.model.common import (
    DateTimeInterval,
    EndDeviceGroup,
    IdentifiedObject,
    RequiredIdentifiedObject,
    TimePoint,
    UsagePoint,
    UsagePointGroup,
)


class CustomerAccount(IdentifiedObject):
    pass


class CustomerAgreement(IdentifiedObject):
    pass


class EndDevice(RequiredIdentifiedObject):
    """mRID is 1..1 in this profile (digest 3.3)."""


class ReadingType(IdentifiedObject):
    """What to read: mRID = the ReadingType code, or Names."""


class TimeSchedule(CimModel):
    """When to read: a recurrence (`recurrencePeriod` seconds, e.g. 86400 = daily, plus
    `offset`), a free-text `recurrencePattern` (M: iCalendar RRULE or vendor text), or
    explicit `TimePoints`; `scheduleInterval` is the validity (end, start)."""

    disabled: bool | None = None
    offset: Float | None = None
    recurrence_pattern: str | None = Field(None, alias="recurrencePattern")  # digest 3.3 (M)
    recurrence_period: Float | None = Field(None, alias="recurrencePeriod")
    schedule_interval: DateTimeInterval | None = Field(None, alias="scheduleInterval")
    time_points: tuple[TimePoint, ...] = Field((), alias="TimePoints")


class MeterReadSchedule(CimDocument):
    profile: ClassVar[str] = "MeterReadSchedule"

    customer_account: tuple[CustomerAccount, ...] = Field((), alias="CustomerAccount")
    customer_agreement: tuple[CustomerAgreement, ...] = Field((), alias="CustomerAgreement")
    end_device: tuple[EndDevice, ...] = Field((), alias="EndDevice")
    end_device_group: tuple[EndDeviceGroup, ...] = Field((), alias="EndDeviceGroup")
    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")
    time_schedule: tuple[TimeSchedule, ...] = Field((), alias="TimeSchedule")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")
    usage_point_group: tuple[UsagePointGroup, ...] = Field((), alias="UsagePointGroup")


__all__ = [
    "CustomerAccount",
    "CustomerAgreement",
    "EndDevice",
    "MeterReadSchedule",
    "ReadingType",
    "TimeSchedule",
]
