"""ServiceLocationConfig: where a service is delivered, as master data (digest 3.9.1).

Namespace `http://iec.ch/TC57/2011/ServiceLocationConfig#`, root `ServiceLocationConfig`
(SmenCim `ServiceLocationConfig.xsd`). A ServiceLocation is a CIM Location: simple attributes
first (`accessMethod` ... `type`), then `ConfigurationEvents` (0..1, the effective date of the
change), coordinates, addresses, phones and `status` in CIMTool order (digest 2.2.2).
`PositionPoints` carry the coordinates as strings, `xPosition` and `yPosition` required.

The Location parts shared with UsagePointLocationConfig (`CoordinateSystem`, `PositionPoint`)
are declared here.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, Required
from cimmeter.model.common import (
    ConfigurationEvent,
    ElectronicAddress,
    Name,
    Status,
    StreetAddress,
    TelephoneNumber,
)


class CoordinateSystem(CimModel):
    """The coordinate reference system of the PositionPoints (`crsUrn`, e.g. EPSG:4326)."""

    mrid: str | None = Field(None, alias="mRID")
    crs_urn: str | None = Field(None, alias="crsUrn")
    names: tuple[Name, ...] = Field((), alias="Names")


class PositionPoint(CimModel):
    """One point of a location; coordinates are strings in the CoordinateSystem's units."""

    sequence_number: int | None = Field(None, alias="sequenceNumber")
    x_position: Annotated[str | None, Required()] = Field(None, alias="xPosition")
    y_position: Annotated[str | None, Required()] = Field(None, alias="yPosition")
    z_position: str | None = Field(None, alias="zPosition")


class ServiceLocation(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    access_method: str | None = Field(None, alias="accessMethod")
    direction: str | None = None
    geo_info_reference: str | None = Field(None, alias="geoInfoReference")
    needs_inspection: bool | None = Field(None, alias="needsInspection")
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


class ServiceLocationConfig(CimDocument):
    profile: ClassVar[str] = "ServiceLocationConfig"

    service_location: tuple[ServiceLocation, ...] = Field((), alias="ServiceLocation")


__all__ = ["CoordinateSystem", "PositionPoint", "ServiceLocation", "ServiceLocationConfig"]
