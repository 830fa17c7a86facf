"""GetMeterConfig: the query profile of `get MeterConfig` (digest 3.6.2).

Namespace `http://iec.ch/TC57/2011/GetMeterConfig#`, root `GetMeterConfig` (Connexo
`GetMeterConfig.xsd`, no second public copy). It goes in `Request`, after StartTime/EndTime/
Option/ID (digest fact 1); the reply carries MeterConfig in Payload. Every child selects meters:
by the meter itself, or by what it is linked to (usage point, customer, groups ...). Each
object is named by mRID and/or Names (digest 2.2.3).

Connexo declares its typed `GetMeterConfig` operation in the `MeterConfigMessage` namespace
with the ordinary request type (digest 2.1.3); readers accept that form as well.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import (
    CustomerKind,
    EndDeviceGroup,
    IdentifiedObject,
    Name,
    UsagePoint,
    UsagePointGroup,
)


class Customer(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: CustomerKind | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class CustomerAccount(IdentifiedObject):
    pass


class CustomerAgreement(IdentifiedObject):
    pass


class Meter(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    amr_system: str | None = Field(None, alias="amrSystem")
    """Select the meters of one head-end / AMR system."""
    names: tuple[Name, ...] = Field((), alias="Names")


class ServiceLocation(IdentifiedObject):
    pass


class GetMeterConfig(CimDocument):
    profile: ClassVar[str] = "GetMeterConfig"

    customer: tuple[Customer, ...] = Field((), alias="Customer")
    customer_account: tuple[CustomerAccount, ...] = Field((), alias="CustomerAccount")
    customer_agreement: tuple[CustomerAgreement, ...] = Field((), alias="CustomerAgreement")
    end_device_group: tuple[EndDeviceGroup, ...] = Field((), alias="EndDeviceGroup")
    meter: tuple[Meter, ...] = Field((), alias="Meter")
    service_location: tuple[ServiceLocation, ...] = Field((), alias="ServiceLocation")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")
    usage_point_group: tuple[UsagePointGroup, ...] = Field((), alias="UsagePointGroup")


__all__ = [
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "CustomerKind",
    "GetMeterConfig",
    "Meter",
    "ServiceLocation",
]
