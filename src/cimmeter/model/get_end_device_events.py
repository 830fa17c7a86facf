"""GetEndDeviceEvents: the query profile of `get EndDeviceEvents` (digest 3.4.2).

Namespace `http://iec.ch/TC57/2011/GetEndDeviceEvents#`, root `GetEndDeviceEvents`, carried in
`Request` (digest fact 1). Source: Connexo `GetEndDeviceEvents.xsd`. In this profile `Name` has
only `name` (no NameType, digest 3.4.2), and `Asset`/`Meter` carry `serialNumber`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, DateTime, Required
from cimmeter.model.common import (
    DateTimeInterval,
    EndDeviceEventTypeRef,
    ServiceKind,
    Status,
)


class Name(CimModel):
    """The reduced Name of this profile: `name` only."""

    name: Annotated[str | None, Required()] = None


class IdentifiedObject(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    names: tuple[Name, ...] = Field((), alias="Names")


class Customer(IdentifiedObject):
    pass


class EndDeviceEventType(IdentifiedObject):
    """mRID = the 4-part event code (digest 5.2)."""


class EndDeviceGroup(IdentifiedObject):
    pass


class UsagePoint(IdentifiedObject):
    pass


class Asset(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    serial_number: str | None = Field(None, alias="serialNumber")
    names: tuple[Name, ...] = Field((), alias="Names")


class Meter(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    serial_number: str | None = Field(None, alias="serialNumber")
    names: tuple[Name, ...] = Field((), alias="Names")


class EndDeviceEventDetail(CimModel):
    name: Annotated[str | None, Required()] = None
    value: str | None = None


class EndDeviceEvent(CimModel):
    """The full event structure, as a filter by example (rarely used, digest 3.4.2)."""

    mrid: str | None = Field(None, alias="mRID")
    created_date_time: Annotated[DateTime | None, Required()] = Field(None, alias="createdDateTime")
    issuer_id: str | None = Field(None, alias="issuerID")
    issuer_tracking_id: str | None = Field(None, alias="issuerTrackingID")
    reason: str | None = None
    severity: str | None = None
    user_id: str | None = Field(None, alias="userID")
    assets: Asset | None = Field(None, alias="Assets")
    end_device_event_details: tuple[EndDeviceEventDetail, ...] = Field(
        (), alias="EndDeviceEventDetails"
    )
    end_device_event_type: Annotated[EndDeviceEventTypeRef | None, Required()] = Field(
        None, alias="EndDeviceEventType"
    )
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None
    usage_point: UsagePoint | None = Field(None, alias="UsagePoint")


class ServiceCategory(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: ServiceKind | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class TimeSchedule(CimModel):
    schedule_interval: Annotated[DateTimeInterval | None, Required()] = Field(
        None, alias="scheduleInterval"
    )


class GetEndDeviceEvents(CimDocument):
    profile: ClassVar[str] = "GetEndDeviceEvents"

    customer: tuple[Customer, ...] = Field((), alias="Customer")
    end_device_event: tuple[EndDeviceEvent, ...] = Field((), alias="EndDeviceEvent")
    end_device_event_type: tuple[EndDeviceEventType, ...] = Field((), alias="EndDeviceEventType")
    end_device_group: tuple[EndDeviceGroup, ...] = Field((), alias="EndDeviceGroup")
    meter: tuple[Meter, ...] = Field((), alias="Meter")
    service_category: tuple[ServiceCategory, ...] = Field((), alias="ServiceCategory")
    time_schedule: tuple[TimeSchedule, ...] = Field((), alias="TimeSchedule")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")


__all__ = [
    "Asset",
    "Customer",
    "EndDeviceEvent",
    "EndDeviceEventDetail",
    "EndDeviceEventType",
    "EndDeviceGroup",
    "GetEndDeviceEvents",
    "Meter",
    "Name",
    "ServiceCategory",
    "TimeSchedule",
    "UsagePoint",
]
