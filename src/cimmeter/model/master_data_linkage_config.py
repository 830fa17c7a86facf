"""MasterDataLinkageConfig: links between master data objects (digest 3.8.1, 4.14).

Namespace `http://iec.ch/TC57/2011/MasterDataLinkageConfig#`, root `MasterDataLinkageConfig`
(Connexo `MasterDataLinkageConfig.xsd`, no second public copy). **All the objects of one
message are linked to each other**: one Meter and one UsagePoint = the meter is installed at
the usage point. `create` establishes the links from `ConfigurationEvent/effectiveDateTime`,
`close` ends them at that time (Connexo implements exactly these two, V(impl)); `delete` for
unlink is M. Links are not objects: they have no mRID.

Every object is named by mRID and/or Names (digest 2.2.3). Connexo's `Meter/role` and
`Meter/ReadingTypeMapping` are vendor extensions, kept as such by readers. Connexo's outbound
events carry the Header Noun `MasterDateLinkageConfig` (sic): the payload is identified by its
root element, so that is only a warning (digest 2.3).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument
from cimmeter.model.common import ConfigurationEvent, IdentifiedObject, UsagePoint


class AuxiliaryAgreement(IdentifiedObject):
    pass


class ComModule(IdentifiedObject):
    pass


class Customer(IdentifiedObject):
    pass


class CustomerAccount(IdentifiedObject):
    pass


class CustomerAgreement(IdentifiedObject):
    pass


class EndDevice(IdentifiedObject):
    pass


class Meter(IdentifiedObject):
    pass


class PricingStructure(IdentifiedObject):
    pass


class ServiceLocation(IdentifiedObject):
    pass


class ServiceSupplier(IdentifiedObject):
    pass


class TransformerTank(IdentifiedObject):
    pass


class UsagePointLocation(IdentifiedObject):
    pass


class MasterDataLinkageConfig(CimDocument):
    profile: ClassVar[str] = "MasterDataLinkageConfig"

    auxiliary_agreement: tuple[AuxiliaryAgreement, ...] = Field((), alias="AuxiliaryAgreement")
    com_module: tuple[ComModule, ...] = Field((), alias="ComModule")
    configuration_event: ConfigurationEvent | None = Field(None, alias="ConfigurationEvent")
    """When the links start (`create`) or end (`close`): `effectiveDateTime`. Singular here."""
    customer: tuple[Customer, ...] = Field((), alias="Customer")
    customer_account: tuple[CustomerAccount, ...] = Field((), alias="CustomerAccount")
    customer_agreement: tuple[CustomerAgreement, ...] = Field((), alias="CustomerAgreement")
    end_device: tuple[EndDevice, ...] = Field((), alias="EndDevice")
    meter: tuple[Meter, ...] = Field((), alias="Meter")
    pricing_structure: tuple[PricingStructure, ...] = Field((), alias="PricingStructure")
    service_location: tuple[ServiceLocation, ...] = Field((), alias="ServiceLocation")
    service_supplier: tuple[ServiceSupplier, ...] = Field((), alias="ServiceSupplier")
    transformer_tank: tuple[TransformerTank, ...] = Field((), alias="TransformerTank")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")
    usage_point_location: tuple[UsagePointLocation, ...] = Field((), alias="UsagePointLocation")


__all__ = [
    "AuxiliaryAgreement",
    "ComModule",
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "EndDevice",
    "MasterDataLinkageConfig",
    "Meter",
    "PricingStructure",
    "ServiceLocation",
    "ServiceSupplier",
    "TransformerTank",
    "UsagePointLocation",
]
