"""ComModuleConfig: master data of communication modules (digest 3.6.4).

Root `ComModuleConfig` with the root-level `ComFunction`s and the `ComModule`s that reference
them. No public XSD was found: the structure is read from SmenCim's classes generated from the
profile (`test/SmenXsdToCs1/ComModuleConfig/*.cs`, V-weak). Generated C# keeps neither the
namespace nor minOccurs, so both are M: the namespace follows the 2011 pattern
(`http://iec.ch/TC57/2011/ComModuleConfig#`), every element is optional and arrays are 0..*.

A ComModule is linked to its meter through MasterDataLinkageConfig (whose root has
`ComModule`, digest 3.8.1).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, DateTime, Float, Money
from cimmeter.model.common import ConfigurationEvent, ElectronicAddress, Name, Status
from cimmeter.model.meter_config import (
    ComFunction,
    ComFunctionRef,
    LifecycleDate,
    ProductAssetModel,
)


class ActivityRecord(CimModel):
    """The ComModule variant carries mRID and Names (digest 2.2.6)."""

    mrid: str | None = Field(None, alias="mRID")
    created_date_time: DateTime | None = Field(None, alias="createdDateTime")
    reason: str | None = None
    severity: str | None = None
    type: str | None = None
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None


class EndDeviceInfo(CimModel):
    """`ComModule/AssetInfo`: only the asset model in this profile."""

    asset_model: ProductAssetModel | None = Field(None, alias="AssetModel")


# digest 3.6.4 (M): cardinalities inferred from the generated classes (arrays 0..*, else 0..1).
class ComModule(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    amr_system: str | None = Field(None, alias="amrSystem")
    initial_condition: str | None = Field(None, alias="initialCondition")
    initial_loss_of_life: Float | None = Field(None, alias="initialLossOfLife")
    lot_number: str | None = Field(None, alias="lotNumber")
    purchase_price: Money | None = Field(None, alias="purchasePrice")
    serial_number: str | None = Field(None, alias="serialNumber")
    supports_autonomous_dst: bool | None = Field(None, alias="supportsAutonomousDst")
    time_zone_offset: Float | None = Field(None, alias="timeZoneOffset")
    type: str | None = None
    utc_number: str | None = Field(None, alias="utcNumber")
    activity_records: tuple[ActivityRecord, ...] = Field((), alias="ActivityRecords")
    asset_info: EndDeviceInfo | None = Field(None, alias="AssetInfo")
    com_functions: tuple[ComFunctionRef, ...] = Field((), alias="ComFunctions")
    """Refs to root-level ComFunctions (note the plural, unlike Meter's `ComFunction`)."""
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    electronic_address: ElectronicAddress | None = Field(None, alias="electronicAddress")
    lifecycle: LifecycleDate | None = None
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None


# digest 3.6.4 (M): the namespace http://iec.ch/TC57/2011/ComModuleConfig# is not verified.
class ComModuleConfig(CimDocument):
    profile: ClassVar[str] = "ComModuleConfig"

    com_function: tuple[ComFunction, ...] = Field((), alias="ComFunction")
    com_module: tuple[ComModule, ...] = Field((), alias="ComModule")


__all__ = ["ActivityRecord", "ComModule", "ComModuleConfig", "EndDeviceInfo"]
