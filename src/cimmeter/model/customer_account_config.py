"""CustomerAccountConfig: billing accounts as master data (digest 3.9.5, **M**).

Namespace `http://iec.ch/TC57/2011/CustomerAccountConfig#`, root `CustomerAccountConfig`. No
public schema was found: reconstructed from the CIM15 `CustomerAccount` class (a Document) and
kept minimal, in CIMTool order (digest 2.2.2): `mRID`, `billingCycle`, `budgetBill`, then
`ConfigurationEvents` (0..1), the owning `Customer` (mRID, Names), `Names` and `status`.
Elements a partner's profile adds are kept as extensions.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import ConfigurationEvent, IdentifiedObject, Name, Status


class Customer(IdentifiedObject):
    """The account holder, by mRID or Names."""


# digest 3.9.5 (M): CIM15 CustomerAccount attributes, minimal; no public profile to check.
class CustomerAccount(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    billing_cycle: str | None = Field(None, alias="billingCycle")
    budget_bill: str | None = Field(None, alias="budgetBill")
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    customer: Customer | None = Field(None, alias="Customer")
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None


# digest 3.9.5 (M)
class CustomerAccountConfig(CimDocument):
    profile: ClassVar[str] = "CustomerAccountConfig"

    customer_account: tuple[CustomerAccount, ...] = Field((), alias="CustomerAccount")


__all__ = ["Customer", "CustomerAccount", "CustomerAccountConfig"]
