"""CustomerConfig: customers as master data (digest 3.9.5, **M**).

Namespace `http://iec.ch/TC57/2011/CustomerConfig#`, root `CustomerConfig`. No public schema
was found: the structure is reconstructed from the CIM15 `Customer` class (an OrganisationRole)
and kept minimal, in CIMTool order (digest 2.2.2): `mRID`, the simple attributes `kind`,
`pucNumber`, `specialNeed`, `vip`, then `ConfigurationEvents` (0..1, the effective date),
`Names`, `Organisation` (contact data, as in ServiceSupplierConfig) and `status`. Elements a
partner's profile adds are kept as extensions. Customers are linked to accounts, agreements
and usage points through MasterDataLinkageConfig (V), not here.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import ConfigurationEvent, CustomerKind, Name, Status
from cimmeter.model.service_supplier_config import Organisation


# digest 3.9.5 (M): CIM15 Customer attributes, minimal; no public profile to check against.
class Customer(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: CustomerKind | None = None
    puc_number: str | None = Field(None, alias="pucNumber")
    special_need: str | None = Field(None, alias="specialNeed")
    vip: bool | None = None
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    names: tuple[Name, ...] = Field((), alias="Names")
    organisation: Organisation | None = Field(None, alias="Organisation")
    status: Status | None = None


# digest 3.9.5 (M)
class CustomerConfig(CimDocument):
    profile: ClassVar[str] = "CustomerConfig"

    customer: tuple[Customer, ...] = Field((), alias="Customer")


__all__ = ["Customer", "CustomerConfig", "CustomerKind"]
