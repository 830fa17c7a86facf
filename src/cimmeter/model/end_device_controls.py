"""EndDeviceControls: commands to end devices (digest 3.5).

Namespace `http://iec.ch/TC57/2011/EndDeviceControls#`, root `EndDeviceControls` (SmenCim
`EndDeviceControls.xsd`; Connexo's copy adds `scheduleStrategy` and `EndDeviceControlAttribute`,
kept as extensions by readers). What to do is the `EndDeviceControlType` ref (e.g. `3.31.0.23`
remote disconnect, digest 5.2.5); targets are EndDevices, EndDeviceGroups, UsagePoints and
UsagePointGroups (at least one, M); when is `primaryDeviceTiming/interval`.

There is no `EndDeviceAction` element and no `scheduledInterval` (DECISIONS.md, digest 3.5):
the action is a choice of PanDemandResponse / PanDisplay / PanPricing, and a plain connect or
disconnect carries none of them. Readers keep the other spellings as extensions, with a warning.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import (
    Choice,
    CimDocument,
    CimEnum,
    CimModel,
    DateTime,
    Float,
    Money,
    Required,
)
from cimmeter.model.common import (
    DateTimeInterval,
    ElectronicAddress,
    EndDeviceControlTypeRef,
    EndDeviceGroup,
    Name,
    UsagePoint,
    UsagePointGroup,
)


class RandomisationKind(CimEnum):
    default = "default"
    end = "end"
    none = "none"
    start = "start"
    startAndEnd = "startAndEnd"


class TransmissionModeKind(CimEnum):
    anonymous = "anonymous"
    both = "both"
    normal = "normal"


class ControlledAppliance(CimModel):
    is_electric_vehicle: bool | None = Field(None, alias="isElectricVehicle")
    is_exterior_lighting: bool | None = Field(None, alias="isExteriorLighting")
    is_generation_system: bool | None = Field(None, alias="isGenerationSystem")
    is_hvac_compressor_or_furnace: bool | None = Field(None, alias="isHvacCompressorOrFurnace")
    is_interior_lighting: bool | None = Field(None, alias="isInteriorLighting")
    is_irrigation_pump: bool | None = Field(None, alias="isIrrigationPump")
    is_managed_commercial_industrial_load: bool | None = Field(
        None, alias="isManagedCommercialIndustrialLoad"
    )
    is_pool_pump_spa_jacuzzi: bool | None = Field(None, alias="isPoolPumpSpaJacuzzi")
    is_simple_misc_load: bool | None = Field(None, alias="isSimpleMiscLoad")
    is_smart_appliance: bool | None = Field(None, alias="isSmartAppliance")
    is_strip_and_baseboard_heater: bool | None = Field(None, alias="isStripAndBaseboardHeater")
    is_water_heater: bool | None = Field(None, alias="isWaterHeater")


class PanDemandResponse(CimModel):
    """Load control / demand response action (digest 3.5, 4.8)."""

    avg_load_adjustment: Float | None = Field(None, alias="avgLoadAdjustment")
    cancel_control_mode: str | None = Field(None, alias="cancelControlMode")
    cancel_date_time: DateTime | None = Field(None, alias="cancelDateTime")
    cancel_now: bool | None = Field(None, alias="cancelNow")
    command: str | None = None
    cooling_offset: Float | None = Field(None, alias="coolingOffset")
    cooling_setpoint: Float | None = Field(None, alias="coolingSetpoint")
    criticality_level: str | None = Field(None, alias="criticalityLevel")
    duration: Float | None = None
    duration_indefinite: bool | None = Field(None, alias="durationIndefinite")
    duty_cycle: Float | None = Field(None, alias="dutyCycle")
    enrollment_group: str | None = Field(None, alias="enrollmentGroup")
    heating_offset: Float | None = Field(None, alias="heatingOffset")
    heating_setpoint: Float | None = Field(None, alias="heatingSetpoint")
    start_date_time: DateTime | None = Field(None, alias="startDateTime")
    appliance: ControlledAppliance | None = None


class PanDisplay(CimModel):
    """A text message for an in-home display."""

    command: str | None = None
    confirmation_required: bool | None = Field(None, alias="confirmationRequired")
    duration: Float | None = None
    duration_indefinite: bool | None = Field(None, alias="durationIndefinite")
    priority: str | None = None
    start_date_time: DateTime | None = Field(None, alias="startDateTime")
    text_message: str | None = Field(None, alias="textMessage")
    transmission_mode: TransmissionModeKind | None = Field(None, alias="transmissionMode")


class PanPricingDetail(CimModel):
    alternate_cost_delivered: Float | None = Field(None, alias="alternateCostDelivered")
    alternate_cost_unit: str | None = Field(None, alias="alternateCostUnit")
    current_time_date: DateTime | None = Field(None, alias="currentTimeDate")
    generation_price: Money | None = Field(None, alias="generationPrice")
    generation_price_ratio: Float | None = Field(None, alias="generationPriceRatio")
    price: Money | None = None
    price_ratio: Float | None = Field(None, alias="priceRatio")
    price_tier: int | None = Field(None, alias="priceTier")
    price_tier_count: int | None = Field(None, alias="priceTierCount")
    price_tier_label: str | None = Field(None, alias="priceTierLabel")
    rate_label: str | None = Field(None, alias="rateLabel")
    register_tier: str | None = Field(None, alias="registerTier")
    unit_of_measure: str | None = Field(None, alias="unitOfMeasure")


class PanPricing(CimModel):
    """Price signal to PAN devices."""

    command: str | None = None
    duration: Float | None = None
    duration_indefinite: bool | None = Field(None, alias="durationIndefinite")
    provider_id: int | None = Field(None, alias="providerID")
    start_date_time: DateTime | None = Field(None, alias="startDateTime")
    pan_pricing_details: tuple[PanPricingDetail, ...] = Field((), alias="PanPricingDetails")


class EndDevice(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    install_code: str | None = Field(None, alias="installCode")
    is_pan: bool | None = Field(None, alias="isPan")
    electronic_address: ElectronicAddress | None = Field(None, alias="electronicAddress")
    names: tuple[Name, ...] = Field((), alias="Names")


class EndDeviceTiming(CimModel):
    """When: `interval` is the execution window (end, start); start = scheduled time."""

    duration: Float | None = None
    duration_indefinite: bool | None = Field(None, alias="durationIndefinite")
    randomisation: RandomisationKind | None = None
    interval: DateTimeInterval | None = None


_ACTION = Choice("EndDeviceAction")


class EndDeviceControl(CimModel):
    # DECISIONS.md / digest 3.5: spellings from other CIM versions, kept with a warning.
    xml_hints: ClassVar[dict[str, str]] = {
        "EndDeviceAction": "the 2011 profile has no EndDeviceAction element; the action is "
        "PanDemandResponse, PanDisplay or PanPricing (none for connect/disconnect)",
        "scheduledInterval": "the 2011 profile schedules with primaryDeviceTiming/interval",
    }

    mrid: str | None = Field(None, alias="mRID")
    dr_program_level: int | None = Field(None, alias="drProgramLevel")
    dr_program_mandatory: bool | None = Field(None, alias="drProgramMandatory")
    issuer_id: str | None = Field(None, alias="issuerID")
    issuer_tracking_id: str | None = Field(None, alias="issuerTrackingID")
    """The requester's id, echoed in resulting events (digest 3.5)."""
    price_signal: Float | None = Field(None, alias="priceSignal")
    reason: str | None = None
    # The EndDeviceAction association, realised as a choice of its subclasses (digest 3.5).
    pan_demand_response: Annotated[PanDemandResponse | None, _ACTION] = Field(
        None, alias="PanDemandResponse"
    )
    pan_display: Annotated[PanDisplay | None, _ACTION] = Field(None, alias="PanDisplay")
    pan_pricing: Annotated[PanPricing | None, _ACTION] = Field(None, alias="PanPricing")
    end_device_control_type: Annotated[EndDeviceControlTypeRef | None, Required()] = Field(
        None, alias="EndDeviceControlType"
    )
    end_device_groups: tuple[EndDeviceGroup, ...] = Field((), alias="EndDeviceGroups")
    end_devices: tuple[EndDevice, ...] = Field((), alias="EndDevices")
    primary_device_timing: EndDeviceTiming | None = Field(None, alias="primaryDeviceTiming")
    secondary_device_timing: EndDeviceTiming | None = Field(None, alias="secondaryDeviceTiming")
    usage_point_groups: tuple[UsagePointGroup, ...] = Field((), alias="UsagePointGroups")
    usage_points: tuple[UsagePoint, ...] = Field((), alias="UsagePoints")


class EndDeviceControlType(CimModel):
    """Catalogue entry for a control type; `mRID` is the 4-part code (digest 2.2.4)."""

    mrid: str | None = Field(None, alias="mRID")
    domain: str | None = None
    event_or_action: str | None = Field(None, alias="eventOrAction")
    sub_domain: str | None = Field(None, alias="subDomain")
    type: str | None = None
    names: Annotated[tuple[Name, ...], Required()] = Field((), alias="Names")


class EndDeviceControls(CimDocument):
    profile: ClassVar[str] = "EndDeviceControls"

    end_device_control: tuple[EndDeviceControl, ...] = Field((), alias="EndDeviceControl")
    end_device_control_type: tuple[EndDeviceControlType, ...] = Field(
        (), alias="EndDeviceControlType"
    )


__all__ = [
    "ControlledAppliance",
    "EndDevice",
    "EndDeviceControl",
    "EndDeviceControlType",
    "EndDeviceControls",
    "EndDeviceTiming",
    "PanDemandResponse",
    "PanDisplay",
    "PanPricing",
    "PanPricingDetail",
    "RandomisationKind",
    "TransmissionModeKind",
]
