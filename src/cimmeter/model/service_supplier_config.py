"""ServiceSupplierConfig: utilities and retailers that supply a service (digest 3.9.4).

Namespace `http://iec.ch/TC57/2011/ServiceSupplierConfig#`, root `ServiceSupplierConfig`
(SmenCim `ServiceSupplierConfig.xsd`): `ServiceSupplier` with `issuerIdentificationNumber`,
`kind` (SupplierKind, enumerated), `ConfigurationEvents` 0..1, `Names` and its `Organisation`
(contact data: electronic address, phones, postal and street address).

`Organisation` is declared here and reused by CustomerConfig (a Customer is an OrganisationRole
as well, digest 3.9.5).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import (
    ConfigurationEvent,
    ElectronicAddress,
    Name,
    PostalAddress,
    StreetAddress,
    SupplierKind,
    TelephoneNumber,
)


class Organisation(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    electronic_address: ElectronicAddress | None = Field(None, alias="electronicAddress")
    names: tuple[Name, ...] = Field((), alias="Names")
    phone1: TelephoneNumber | None = None
    phone2: TelephoneNumber | None = None
    postal_address: PostalAddress | None = Field(None, alias="postalAddress")
    street_address: StreetAddress | None = Field(None, alias="streetAddress")


class ServiceSupplier(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    issuer_identification_number: str | None = Field(None, alias="issuerIdentificationNumber")
    kind: SupplierKind | None = None
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    names: tuple[Name, ...] = Field((), alias="Names")
    organisation: Organisation | None = Field(None, alias="Organisation")


class ServiceSupplierConfig(CimDocument):
    profile: ClassVar[str] = "ServiceSupplierConfig"

    service_supplier: tuple[ServiceSupplier, ...] = Field((), alias="ServiceSupplier")


__all__ = ["Organisation", "ServiceSupplier", "ServiceSupplierConfig", "SupplierKind"]
