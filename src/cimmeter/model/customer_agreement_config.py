"""CustomerAgreementConfig: supply contracts as master data (digest 3.9.5, **M**).

Namespace `http://iec.ch/TC57/2011/CustomerAgreementConfig#`, root `CustomerAgreementConfig`.
No public schema was found: reconstructed from the CIM15 `CustomerAgreement` class (an
Agreement, a Document) and kept minimal, in CIMTool order (digest 2.2.2): `mRID`, the simple
attributes `isPrePay`, `loadMgmt`, `shutOffDateTime`, then, alphabetically ignoring case,
`ConfigurationEvents`, `Customer`, `CustomerAccount`, `Names`, `PricingStructures`,
`ServiceCategory`, `ServiceSupplier`, `status`, `UsagePoints`, `validityInterval`. The
associated objects are references (mRID, Names). Elements a partner's profile adds are kept as
extensions.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, DateTime
from cimmeter.model.common import (
    ConfigurationEvent,
    DateTimeInterval,
    IdentifiedObject,
    Name,
    Status,
)


class Customer(IdentifiedObject):
    pass


class CustomerAccount(IdentifiedObject):
    pass


class PricingStructure(IdentifiedObject):
    pass


class ServiceCategory(IdentifiedObject):
    pass


class ServiceSupplier(IdentifiedObject):
    pass


class UsagePoint(IdentifiedObject):
    pass


# digest 3.9.5 (M): CIM15 CustomerAgreement attributes and associations, minimal.
class CustomerAgreement(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    is_pre_pay: bool | None = Field(None, alias="isPrePay")
    load_mgmt: str | None = Field(None, alias="loadMgmt")
    shut_off_date_time: DateTime | None = Field(None, alias="shutOffDateTime")
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    customer: Customer | None = Field(None, alias="Customer")
    customer_account: CustomerAccount | None = Field(None, alias="CustomerAccount")
    names: tuple[Name, ...] = Field((), alias="Names")
    pricing_structures: tuple[PricingStructure, ...] = Field((), alias="PricingStructures")
    service_category: ServiceCategory | None = Field(None, alias="ServiceCategory")
    service_supplier: ServiceSupplier | None = Field(None, alias="ServiceSupplier")
    status: Status | None = None
    usage_points: tuple[UsagePoint, ...] = Field((), alias="UsagePoints")
    validity_interval: DateTimeInterval | None = Field(None, alias="validityInterval")
    """When the agreement is in force (end, start)."""


# digest 3.9.5 (M)
class CustomerAgreementConfig(CimDocument):
    profile: ClassVar[str] = "CustomerAgreementConfig"

    customer_agreement: tuple[CustomerAgreement, ...] = Field((), alias="CustomerAgreement")


__all__ = [
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "CustomerAgreementConfig",
    "PricingStructure",
    "ServiceCategory",
    "ServiceSupplier",
    "UsagePoint",
]
