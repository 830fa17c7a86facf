"""UsagePointConfig: usage point master data (digest 3.7.1).

Namespace `http://iec.ch/TC57/2011/UsagePointConfig#`, root `UsagePointConfig` (SmenCim
`UsagePointConfig.xsd`). Connexo's copy adds `status`, `CustomAttributeSet` and an open
`xs:any` after `UsagePoint/UsagePointLocation`, which readers keep as extensions.

A usage point here has no meter and no customer agreement: those links are
MasterDataLinkageConfig (digest 3.7.1, 3.8.1). What must be measured at it is
`MetrologyRequirements` (ReadingType refs, at least one each); the full ReadingTypes can travel
at the root.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimEnum, CimModel, Float, Required
from cimmeter.model.common import (
    ConfigurationEvent,
    IdentifiedObject,
    Name,
    NameType,
    PhaseCode,
    ReadingReasonKind,
    ReadingTypeRef,
    ServiceKind,
    ServiceMultiplierKind,
    SupplierKind,
)
from cimmeter.model.meter_readings import ReadingType

# -- enumerations (digest 2.2.5) ----------------------------------------------------------------


class AmiBillingReadyKind(CimEnum):
    amiCapable = "amiCapable"
    amiDisabled = "amiDisabled"
    billingApproved = "billingApproved"
    enabled = "enabled"
    nonAmi = "nonAmi"
    nonMetered = "nonMetered"
    operable = "operable"


class UsagePointConnectedKind(CimEnum):
    connected = "connected"
    logicallyDisconnected = "logicallyDisconnected"
    physicallyDisconnected = "physicallyDisconnected"


# -- what a usage point refers to ---------------------------------------------------------------


class MetrologyRequirement(CimModel):
    """What must be measured at the usage point, and why."""

    mrid: str | None = Field(None, alias="mRID")
    reason: ReadingReasonKind | None = None
    names: tuple[Name, ...] = Field((), alias="Names")
    reading_types: Annotated[tuple[ReadingTypeRef, ...], Required()] = Field(
        (), alias="ReadingTypes"
    )


class PricingStructure(CimModel):
    """The tariff (`code`)."""

    mrid: str | None = Field(None, alias="mRID")
    code: str | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class ServiceCategory(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: ServiceKind | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class ServiceLocation(IdentifiedObject):
    pass


class ServiceMultiplierName(CimModel):
    """`ServiceMultipliers/Names`: here `NameType` is 1..1 (both public copies; probably a
    profile glitch, digest 2.2.3). Written as the schema says, read without it."""

    xml_name: ClassVar[str | None] = "ServiceMultiplierName"

    name: Annotated[str | None, Required()] = None
    name_type: Annotated[NameType | None, Required()] = Field(None, alias="NameType")


class ServiceMultiplier(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: ServiceMultiplierKind | None = None
    value: Float | None = None
    names: tuple[ServiceMultiplierName, ...] = Field((), alias="Names")


class ServiceSupplier(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: SupplierKind | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class TransformerTank(IdentifiedObject):
    pass


class UsagePointLocation(IdentifiedObject):
    pass


class UsagePoint(CimModel):
    """A usage point (service delivery point) as master data (digest 3.7.1). Ratings are
    xs:float in the CIM units (A, V, W)."""

    mrid: str | None = Field(None, alias="mRID")
    ami_billing_ready: AmiBillingReadyKind | None = Field(None, alias="amiBillingReady")
    check_billing: bool | None = Field(None, alias="checkBilling")
    connection_state: UsagePointConnectedKind | None = Field(None, alias="connectionState")
    estimated_load: Float | None = Field(None, alias="estimatedLoad")
    grounded: bool | None = None
    is_sdp: bool | None = Field(None, alias="isSdp")
    is_virtual: bool | None = Field(None, alias="isVirtual")
    minimal_usage_expected: bool | None = Field(None, alias="minimalUsageExpected")
    nominal_service_voltage: Float | None = Field(None, alias="nominalServiceVoltage")
    outage_region: str | None = Field(None, alias="outageRegion")
    phase_code: PhaseCode | None = Field(None, alias="phaseCode")
    rated_current: Float | None = Field(None, alias="ratedCurrent")
    rated_power: Float | None = Field(None, alias="ratedPower")
    read_cycle: str | None = Field(None, alias="readCycle")
    read_route: str | None = Field(None, alias="readRoute")
    service_delivery_remark: str | None = Field(None, alias="serviceDeliveryRemark")
    service_priority: str | None = Field(None, alias="servicePriority")
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    equipments: TransformerTank | None = Field(None, alias="Equipments")
    """0..1 despite the plural (both public copies)."""
    metrology_requirements: tuple[MetrologyRequirement, ...] = Field(
        (), alias="MetrologyRequirements"
    )
    names: tuple[Name, ...] = Field((), alias="Names")
    pricing_structures: PricingStructure | None = Field(None, alias="PricingStructures")
    """0..1 despite the plural (both public copies)."""
    service_category: ServiceCategory | None = Field(None, alias="ServiceCategory")
    service_location: ServiceLocation | None = Field(None, alias="ServiceLocation")
    service_multipliers: tuple[ServiceMultiplier, ...] = Field((), alias="ServiceMultipliers")
    service_supplier: ServiceSupplier | None = Field(None, alias="ServiceSupplier")
    usage_point_location: UsagePointLocation | None = Field(None, alias="UsagePointLocation")


class UsagePointConfig(CimDocument):
    profile: ClassVar[str] = "UsagePointConfig"

    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")


__all__ = [
    "AmiBillingReadyKind",
    "MetrologyRequirement",
    "PhaseCode",
    "PricingStructure",
    "ServiceCategory",
    "ServiceLocation",
    "ServiceMultiplier",
    "ServiceMultiplierKind",
    "ServiceMultiplierName",
    "ServiceSupplier",
    "SupplierKind",
    "TransformerTank",
    "UsagePoint",
    "UsagePointConfig",
    "UsagePointConnectedKind",
    "UsagePointLocation",
]
