"""PricingStructureConfig: rate plans (tariff groupings) as master data (digest 3.9.5, **M**).

Namespace `http://iec.ch/TC57/2011/PricingStructureConfig#`, root `PricingStructureConfig`. No
public schema was found: reconstructed from the CIM15 `PricingStructure` class (a Document) and
kept minimal, in CIMTool order (digest 2.2.2): `mRID`, the simple attributes `code`,
`dailyCeilingUsage`, `dailyEstimatedUsage`, `dailyFloorUsage`, `revenueKind`, `taxExemption`,
then `ConfigurationEvents` (0..1), `Names`, `ServiceCategory` and `Tariffs` (references).
`revenueKind` is a plain string: the CIM RevenueKind literals (residential, commercial, ...)
are not restricted, since no profile shows them enumerated. Elements a partner's profile adds
are kept as extensions.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import ConfigurationEvent, IdentifiedObject, Name


class ServiceCategory(IdentifiedObject):
    pass


class Tariff(IdentifiedObject):
    pass


# digest 3.9.5 (M): CIM15 PricingStructure attributes and associations, minimal.
class PricingStructure(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    code: str | None = None
    daily_ceiling_usage: int | None = Field(None, alias="dailyCeilingUsage")
    daily_estimated_usage: int | None = Field(None, alias="dailyEstimatedUsage")
    daily_floor_usage: int | None = Field(None, alias="dailyFloorUsage")
    revenue_kind: str | None = Field(None, alias="revenueKind")
    tax_exemption: bool | None = Field(None, alias="taxExemption")
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    names: tuple[Name, ...] = Field((), alias="Names")
    service_category: ServiceCategory | None = Field(None, alias="ServiceCategory")
    tariffs: tuple[Tariff, ...] = Field((), alias="Tariffs")


# digest 3.9.5 (M)
class PricingStructureConfig(CimDocument):
    profile: ClassVar[str] = "PricingStructureConfig"

    pricing_structure: tuple[PricingStructure, ...] = Field((), alias="PricingStructure")


__all__ = ["PricingStructure", "PricingStructureConfig", "ServiceCategory", "Tariff"]
