"""EndDeviceEvents: events and alarms raised by end devices (digest 3.4.1).

Namespace `http://iec.ch/TC57/2011/EndDeviceEvents#`, root `EndDeviceEvents` (SmenCim
`EndDeviceEvents.xsd`; Connexo's copy adds `Asset/serialNumber`, kept as an extension by
readers). The device is `Assets` (0..1 despite the plural): there is no `EndDevice` or `Meter`
element. `createdDateTime` (when the event occurred, device time) and the `EndDeviceEventType`
ref (`type.domain.subDomain.eventOrAction`, digest 5.2) are required. MeterReadings uses the
same EndDeviceEvent structure inside a MeterReading (digest 3.1).

Control outcomes come back as `created EndDeviceEvents` whose event type is the control code
with its last field replaced (digest fact 7, 4.7).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, DateTime, Required
from cimmeter.model.common import EndDeviceEventTypeRef, IdentifiedObject, Name, Status


class Asset(IdentifiedObject):
    """The device that raised an event (`Assets`, 0..1 despite the plural, digest 3.4.1)."""


class UsagePoint(IdentifiedObject):
    pass


class EndDeviceEventDetail(CimModel):
    name: Annotated[str | None, Required()] = None
    value: str | None = None


class EndDeviceEvent(CimModel):
    """An event of a device; the same structure as in EndDeviceEvents (digest 3.4.1)."""

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


class EndDeviceEventType(CimModel):
    """Catalogue entry for an event type; `mRID` is the 4-part code (digest 2.2.4)."""

    mrid: str | None = Field(None, alias="mRID")
    domain: str | None = None
    event_or_action: str | None = Field(None, alias="eventOrAction")
    sub_domain: str | None = Field(None, alias="subDomain")
    type: str | None = None
    names: Annotated[tuple[Name, ...], Required()] = Field((), alias="Names")


class EndDeviceEvents(CimDocument):
    profile: ClassVar[str] = "EndDeviceEvents"

    end_device_event: tuple[EndDeviceEvent, ...] = Field((), alias="EndDeviceEvent")
    end_device_event_type: tuple[EndDeviceEventType, ...] = Field((), alias="EndDeviceEventType")


__all__ = [
    "Asset",
    "EndDeviceEvent",
    "EndDeviceEventDetail",
    "EndDeviceEventType",
    "EndDeviceEvents",
    "UsagePoint",
]
