"""MeterConfig: meter asset master data and the device functions it uses (digest 3.6.1).

Namespace `http://iec.ch/TC57/2011/MeterConfig#`, root `MeterConfig`. Structure, order and
cardinalities follow the 2011 profile (SmenCim `MeterConfig.xsd`). Connexo's copy is the same
plus vendor extensions, which readers keep as extensions and writers put back in place: root
`MeterStatusSource` and `Ping`; after `Meter/status` `PingResult`, `MeterStatus`,
`MeterCustomAttributeSet`, `ConnectionAttributes`, `SecurityKeys`,
`TimeSeriesCustomAttributeSet`, `SharedCommunicationSchedules`; `SimpleEndDeviceFunction/Zones`.

The device functions (communication, connect/disconnect, metrology with its registers and
channels) are defined at the root and referenced from a Meter by ref elements
(`<ComFunction ref="..."/>`, digest 2.2.4). A Meter has no UsagePoint: that link is a
MasterDataLinkageConfig (digest 3.6.1, 3.8.1).

The function, asset-info and lifecycle classes are shared with EndDeviceConfig and
ComModuleConfig, whose profiles declare them with the same content (digest 3.6.3, 3.6.4).
"""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimEnum, CimModel, DateTime, Float, Money, Ref
from cimmeter.model.common import (
    ConfigurationEvent,
    ElectronicAddress,
    IdentifiedObject,
    MeterMultiplierKind,
    Name,
    ReadingTypeRef,
    Status,
)
from cimmeter.model.meter_readings import ReadingType

# -- enumerations (digest 2.2.5) ----------------------------------------------------------------


class ComDirectionKind(CimEnum):
    biDirectional = "biDirectional"
    fromDevice = "fromDevice"
    toDevice = "toDevice"


class ComTechnologyKind(CimEnum):
    cellular = "cellular"
    ethernet = "ethernet"
    homePlug = "homePlug"
    pager = "pager"
    phone = "phone"
    plc = "plc"
    rf = "rf"
    rfMesh = "rfMesh"
    zigbee = "zigbee"


class EndDeviceFunctionKind(CimEnum):
    autonomousDst = "autonomousDst"
    demandResponse = "demandResponse"
    electricMetering = "electricMetering"
    gasMetering = "gasMetering"
    metrology = "metrology"
    onRequestRead = "onRequestRead"
    outageHistory = "outageHistory"
    relaysProgramming = "relaysProgramming"
    reverseFlow = "reverseFlow"
    waterMetering = "waterMetering"


class CorporateStandardKind(CimEnum):
    experimental = "experimental"
    other = "other"
    standard = "standard"
    underEvaluation = "underEvaluation"


class AssetModelUsageKind(CimEnum):
    customerSubstation = "customerSubstation"
    distributionOverhead = "distributionOverhead"
    distributionUnderground = "distributionUnderground"
    other = "other"
    streetlight = "streetlight"
    substation = "substation"
    transmission = "transmission"
    unknown = "unknown"


class SealKind(CimEnum):
    lead = "lead"
    lock = "lock"
    other = "other"
    steel = "steel"


class SealConditionKind(CimEnum):
    broken = "broken"
    locked = "locked"
    missing = "missing"
    open = "open"
    other = "other"


# -- device functions (defined at the root, referenced from the device) -------------------------


class TimeInterval(CimModel):
    """A time-of-day range (xs:time, local to the device unless a zone is given): `end` first."""

    end: time | None = None
    start: time | None = None


class Channel(CimModel):
    """One recorded quantity of a register: its ReadingType ref (digest 2.2.4)."""

    mrid: str | None = Field(None, alias="mRID")
    is_virtual: bool | None = Field(None, alias="isVirtual")
    names: tuple[Name, ...] = Field((), alias="Names")
    reading_type: ReadingTypeRef | None = Field(None, alias="ReadingType")


class Register(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    is_virtual: bool | None = Field(None, alias="isVirtual")
    left_digit_count: int | None = Field(None, alias="leftDigitCount")
    right_digit_count: int | None = Field(None, alias="rightDigitCount")
    tou_tier_name: str | None = Field(None, alias="touTierName")
    channels: tuple[Channel, ...] = Field((), alias="Channels")
    names: tuple[Name, ...] = Field((), alias="Names")
    tou_tier: TimeInterval | None = Field(None, alias="touTier")


class ComFunction(CimModel):
    """A communication function: AMR address, router, technology (digest 3.6.1)."""

    mrid: str | None = Field(None, alias="mRID")
    amr_address: str | None = Field(None, alias="amrAddress")
    amr_router: str | None = Field(None, alias="amrRouter")
    config_id: str | None = Field(None, alias="configID")
    direction: ComDirectionKind | None = None
    enabled: bool | None = None
    firmware_id: str | None = Field(None, alias="firmwareID")
    hardware_id: str | None = Field(None, alias="hardwareID")
    password: str | None = None
    program_id: str | None = Field(None, alias="programID")
    technology: ComTechnologyKind | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class RemoteConnectDisconnectInfo(CimModel):
    """Arming, limits and push-button use of a breaker. Voltages, energies and powers are
    xs:float values in the CIM units (V, Wh, W); `armedTimeout` in seconds (digest 2.2.5)."""

    armed_timeout: Float | None = Field(None, alias="armedTimeout")
    customer_voltage_limit: Float | None = Field(None, alias="customerVoltageLimit")
    energy_limit: Float | None = Field(None, alias="energyLimit")
    energy_usage_start_date_time: DateTime | None = Field(None, alias="energyUsageStartDateTime")
    energy_usage_warning: Float | None = Field(None, alias="energyUsageWarning")
    is_arm_connect: bool | None = Field(None, alias="isArmConnect")
    is_arm_disconnect: bool | None = Field(None, alias="isArmDisconnect")
    is_energy_limiting: bool | None = Field(None, alias="isEnergyLimiting")
    needs_power_limit_check: bool | None = Field(None, alias="needsPowerLimitCheck")
    needs_voltage_limit_check: bool | None = Field(None, alias="needsVoltageLimitCheck")
    power_limit: Float | None = Field(None, alias="powerLimit")
    use_pushbutton: bool | None = Field(None, alias="usePushbutton")


class ConnectDisconnectFunction(CimModel):
    """The breaker / service switch of a device and its state (digest 3.6.1)."""

    mrid: str | None = Field(None, alias="mRID")
    enabled: bool | None = None
    event_count: int | None = Field(None, alias="eventCount")
    is_connected: bool | None = Field(None, alias="isConnected")
    is_delayed_discon: bool | None = Field(None, alias="isDelayedDiscon")
    is_local_auto_discon_op: bool | None = Field(None, alias="isLocalAutoDisconOp")
    is_local_auto_recon_op: bool | None = Field(None, alias="isLocalAutoReconOp")
    is_remote_auto_discon_op: bool | None = Field(None, alias="isRemoteAutoDisconOp")
    is_remote_auto_recon_op: bool | None = Field(None, alias="isRemoteAutoReconOp")
    password: str | None = None
    names: tuple[Name, ...] = Field((), alias="Names")
    rcd_info: RemoteConnectDisconnectInfo | None = Field(None, alias="rcdInfo")


class SimpleEndDeviceFunction(CimModel):
    """A function of a kind (metrology, ...) with the registers it keeps (digest 3.6.1)."""

    mrid: str | None = Field(None, alias="mRID")
    config_id: str | None = Field(None, alias="configID")
    enabled: bool | None = None
    firmware_id: str | None = Field(None, alias="firmwareID")
    hardware_id: str | None = Field(None, alias="hardwareID")
    kind: EndDeviceFunctionKind | None = None
    password: str | None = None
    program_id: str | None = Field(None, alias="programID")
    names: tuple[Name, ...] = Field((), alias="Names")
    registers: tuple[Register, ...] = Field((), alias="Registers")


# The three ref elements by which a device names the root-level functions it uses (2.2.4).


class ComFunctionRef(Ref):
    xml_name: ClassVar[str | None] = "ComFunction"


class ConnectDisconnectFunctionRef(Ref):
    xml_name: ClassVar[str | None] = "ConnectDisconnectFunction"


class SimpleEndDeviceFunctionRef(Ref):
    xml_name: ClassVar[str | None] = "SimpleEndDeviceFunction"


# -- asset information --------------------------------------------------------------------------


class ActivityRecord(CimModel):
    created_date_time: DateTime | None = Field(None, alias="createdDateTime")
    reason: str | None = None
    severity: str | None = None
    type: str | None = None
    status: Status | None = None


class Manufacturer(IdentifiedObject):
    """The manufacturer's name goes in `Names/name` (digest 3.6.1)."""


class ProductAssetModel(CimModel):
    corporate_standard_kind: CorporateStandardKind | None = Field(
        None, alias="corporateStandardKind"
    )
    model_number: str | None = Field(None, alias="modelNumber")
    model_version: str | None = Field(None, alias="modelVersion")
    usage_kind: AssetModelUsageKind | None = Field(None, alias="usageKind")
    manufacturer: Manufacturer | None = Field(None, alias="Manufacturer")


class EndDeviceCapability(CimModel):
    """What a device can do: 18 flags, alphabetical (digest 3.6.1, 3.10)."""

    autonomous_dst: bool | None = Field(None, alias="autonomousDst")
    communication: bool | None = None
    connect_disconnect: bool | None = Field(None, alias="connectDisconnect")
    demand_response: bool | None = Field(None, alias="demandResponse")
    electric_metering: bool | None = Field(None, alias="electricMetering")
    gas_metering: bool | None = Field(None, alias="gasMetering")
    metrology: bool | None = None
    on_request_read: bool | None = Field(None, alias="onRequestRead")
    outage_history: bool | None = Field(None, alias="outageHistory")
    pressure_compensation: bool | None = Field(None, alias="pressureCompensation")
    pricing_info: bool | None = Field(None, alias="pricingInfo")
    pulse_output: bool | None = Field(None, alias="pulseOutput")
    relays_programming: bool | None = Field(None, alias="relaysProgramming")
    reverse_flow: bool | None = Field(None, alias="reverseFlow")
    super_compressibility_compensation: bool | None = Field(
        None, alias="superCompressibilityCompensation"
    )
    temperature_compensation: bool | None = Field(None, alias="temperatureCompensation")
    text_message: bool | None = Field(None, alias="textMessage")
    water_metering: bool | None = Field(None, alias="waterMetering")


class EndDeviceInfo(CimModel):
    is_solid_state: bool | None = Field(None, alias="isSolidState")
    phase_count: int | None = Field(None, alias="phaseCount")
    rated_current: Float | None = Field(None, alias="ratedCurrent")
    rated_voltage: Float | None = Field(None, alias="ratedVoltage")
    asset_model: ProductAssetModel | None = Field(None, alias="AssetModel")
    capability: EndDeviceCapability | None = None


class LifecycleDate(CimModel):
    """Asset lifecycle dates: xs:date, not dateTime (digest 2.2.5)."""

    installation_date: date | None = Field(None, alias="installationDate")
    manufactured_date: date | None = Field(None, alias="manufacturedDate")
    purchase_date: date | None = Field(None, alias="purchaseDate")
    received_date: date | None = Field(None, alias="receivedDate")
    removal_date: date | None = Field(None, alias="removalDate")
    retired_date: date | None = Field(None, alias="retiredDate")


class MeterMultiplier(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: MeterMultiplierKind | None = None
    value: Float | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class Seal(CimModel):
    """In MeterConfig a Seal has mRID and Names and every field is optional (unlike
    EndDeviceConfig, digest 3.6.1)."""

    mrid: str | None = Field(None, alias="mRID")
    applied_date_time: DateTime | None = Field(None, alias="appliedDateTime")
    condition: SealConditionKind | None = None
    kind: SealKind | None = None
    seal_number: str | None = Field(None, alias="sealNumber")
    names: tuple[Name, ...] = Field((), alias="Names")


# -- the meter ----------------------------------------------------------------------------------


class Meter(CimModel):
    """A meter as asset master data (digest 3.6.1).

    The profile puts the three function refs in one repeated `xs:choice`; the model keeps them
    as three lists in that position and writes them grouped (ComFunction, then
    ConnectDisconnectFunction, then SimpleEndDeviceFunction), which the vendor schemas accept.
    Refs that arrive interleaved are read, with an out-of-order warning."""

    mrid: str | None = Field(None, alias="mRID")
    amr_system: str | None = Field(None, alias="amrSystem")
    """The head-end / AMR system the meter belongs to."""
    form_number: str | None = Field(None, alias="formNumber")
    initial_condition: str | None = Field(None, alias="initialCondition")
    initial_loss_of_life: Float | None = Field(None, alias="initialLossOfLife")
    is_virtual: bool | None = Field(None, alias="isVirtual")
    lot_number: str | None = Field(None, alias="lotNumber")
    purchase_price: Money | None = Field(None, alias="purchasePrice")
    serial_number: str | None = Field(None, alias="serialNumber")
    time_zone_offset: Float | None = Field(None, alias="timeZoneOffset")
    """Minutes from UTC."""
    type: str | None = None
    utc_number: str | None = Field(None, alias="utcNumber")
    activity_records: tuple[ActivityRecord, ...] = Field((), alias="ActivityRecords")
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    """0..1 despite the plural: carries the effective date of this configuration (2.2.6)."""
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
    meter_multipliers: tuple[MeterMultiplier, ...] = Field((), alias="MeterMultipliers")
    names: tuple[Name, ...] = Field((), alias="Names")
    seals: tuple[Seal, ...] = Field((), alias="Seals")
    status: Status | None = None


class MeterConfig(CimDocument):
    profile: ClassVar[str] = "MeterConfig"

    com_function: tuple[ComFunction, ...] = Field((), alias="ComFunction")
    connect_disconnect_function: tuple[ConnectDisconnectFunction, ...] = Field(
        (), alias="ConnectDisconnectFunction"
    )
    meter: tuple[Meter, ...] = Field((), alias="Meter")
    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")
    """Full ReadingType definitions the Channels refer to (catalogue, digest 2.2.4)."""
    simple_end_device_function: tuple[SimpleEndDeviceFunction, ...] = Field(
        (), alias="SimpleEndDeviceFunction"
    )


__all__ = [
    "ActivityRecord",
    "AssetModelUsageKind",
    "Channel",
    "ComDirectionKind",
    "ComFunction",
    "ComFunctionRef",
    "ComTechnologyKind",
    "ConnectDisconnectFunction",
    "ConnectDisconnectFunctionRef",
    "CorporateStandardKind",
    "EndDeviceCapability",
    "EndDeviceFunctionKind",
    "EndDeviceInfo",
    "LifecycleDate",
    "Manufacturer",
    "Meter",
    "MeterConfig",
    "MeterMultiplier",
    "MeterMultiplierKind",
    "ProductAssetModel",
    "Register",
    "RemoteConnectDisconnectInfo",
    "Seal",
    "SealConditionKind",
    "SealKind",
    "SimpleEndDeviceFunction",
    "SimpleEndDeviceFunctionRef",
    "TimeInterval",
]
