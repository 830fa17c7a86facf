"""UsagePointLocationConfig: where a usage point is, as master data (digest 3.9.2).

Namespace `http://iec.ch/TC57/2011/UsagePointLocationConfig#`, root `UsagePointLocationConfig`
(SmenCim `UsagePointLocationConfig.xsd`). The same Location structure as ServiceLocation, with
`remark` where ServiceLocation has `needsInspection`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import (
    ConfigurationEvent,
    ElectronicAddress,
    Name,
    Status,
    StreetAddress,
    TelephoneNumber,
)
from cimmeter.model.service_location_config import CoordinateSystem, PositionPoint


class UsagePointLocation(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    access_method: str | None = Field(None, alias="accessMethod")
    direction: str | None = None
    geo_info_reference: str | None = Field(None, alias="geoInfoReference")
    remark: str | None = None
    site_access_problem: str | None = Field(None, alias="siteAccessProblem")
    type: str | None = None
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    coordinate_system: CoordinateSystem | None = Field(None, alias="CoordinateSystem")
    electronic_address: ElectronicAddress | None = Field(None, alias="electronicAddress")
    main_address: StreetAddress | None = Field(None, alias="mainAddress")
    names: tuple[Name, ...] = Field((), alias="Names")
    phone1: TelephoneNumber | None = None
    phone2: TelephoneNumber | None = None
    position_points: tuple[PositionPoint, ...] = Field((), alias="PositionPoints")
    secondary_address: StreetAddress | None = Field(None, alias="secondaryAddress")
    status: Status | None = None


class UsagePointLocationConfig(CimDocument):
    profile: ClassVar[str] = "UsagePointLocationConfig"

    usage_point_location: tuple[UsagePointLocation, ...] = Field((), alias="UsagePointLocation")


__all__ = ["CoordinateSystem", "PositionPoint", "UsagePointLocation", "UsagePointLocationConfig"]
