"""EndDeviceConfig: master data of end devices that are not meters (digest 3.6.3).

Namespace `http://iec.ch/TC57/2011/EndDeviceConfig#`, root `EndDeviceConfig`: in-home displays,
load-control switches, PAN devices. Same shape as MeterConfig (SmenCim and Connexo
`EndDeviceConfig.xsd`; Connexo adds `MeterCustomAttributeSet` and
`TimeSeriesCustomAttributeSet` after `EndDevice/status`, kept as extensions by readers), with
`EndDevice` instead of `Meter`: no `formNumber` and no `MeterMultipliers`, plus `installCode`
and `isPan` for PAN devices. The functions, asset info and lifecycle are MeterConfig's.

`get EndDeviceConfig` (StartTime/EndTime/Option/ID, no query profile) is M: no public WSDL has
it (digest 2.3).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, DateTime, Float, Money, Required
from cimmeter.model.common import ConfigurationEvent, ElectronicAddress, Name, Status
from cimmeter.model.meter_config import (
    ActivityRecord,
    ComFunction,
    ComFunctionRef,
    ConnectDisconnectFunction,
    ConnectDisconnectFunctionRef,
    EndDeviceInfo,
    LifecycleDate,
    SealConditionKind,
    SealKind,
    SimpleEndDeviceFunction,
    SimpleEndDeviceFunctionRef,
)
from cimmeter.model.meter_readings import ReadingType


class Seal(CimModel):
    """In this profile a Seal has no mRID and no Names, and `sealNumber` is required (digest
    3.6.1: both public copies agree)."""

    applied_date_time: DateTime | None = Field(None, alias="appliedDateTime")
    condition: SealConditionKind | None = None
    kind: SealKind | None = None
    seal_number: Annotated[str | None, Required()] = Field(None, alias="sealNumber")


class EndDevice(CimModel):
    """The function refs are a repeated choice in the profile: see `meter_config.Meter`."""

    mrid: str | None = Field(None, alias="mRID")
    amr_system: str | None = Field(None, alias="amrSystem")
    initial_condition: str | None = Field(None, alias="initialCondition")
    initial_loss_of_life: Float | None = Field(None, alias="initialLossOfLife")
    install_code: str | None = Field(None, alias="installCode")
    """The PAN install code (with `isPan`)."""
    is_pan: bool | None = Field(None, alias="isPan")
    is_virtual: bool | None = Field(None, alias="isVirtual")
    lot_number: str | None = Field(None, alias="lotNumber")
    purchase_price: Money | None = Field(None, alias="purchasePrice")
    serial_number: str | None = Field(None, alias="serialNumber")
    time_zone_offset: Float | None = Field(None, alias="timeZoneOffset")
    type: str | None = None
    utc_number: str | None = Field(None, alias="utcNumber")
    activity_records: tuple[ActivityRecord, ...] = Field((), alias="ActivityRecords")
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    electronic_address: ElectronicAddress | None = Field(None, alias="electronicAddress")
    com_functions: tuple[ComFunctionRef, ...] = Field((), alias="ComFunction")
    connect_disconnect_functions: tuple[ConnectDisconnectFunctionRef, ...] = Field(
        (), alias="ConnectDisconnectFunction"
    )
    simple_end_device_functions: tuple[SimpleEndDeviceFunctionRef, ...] = Field(
        (), alias="SimpleEndDeviceFunction"
    )
    end_device_info: EndDeviceInfo | None = Field(None, alias="EndDeviceInfo")
    lifecycle: LifecycleDate | None = None
    names: tuple[Name, ...] = Field((), alias="Names")
    seals: tuple[Seal, ...] = Field((), alias="Seals")
    status: Status | None = None


class EndDeviceConfig(CimDocument):
    profile: ClassVar[str] = "EndDeviceConfig"

    com_function: tuple[ComFunction, ...] = Field((), alias="ComFunction")
    connect_disconnect_function: tuple[ConnectDisconnectFunction, ...] = Field(
        (), alias="ConnectDisconnectFunction"
    )
    end_device: tuple[EndDevice, ...] = Field((), alias="EndDevice")
    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")
    simple_end_device_function: tuple[SimpleEndDeviceFunction, ...] = Field(
        (), alias="SimpleEndDeviceFunction"
    )


__all__ = ["EndDevice", "EndDeviceConfig", "Seal"]
