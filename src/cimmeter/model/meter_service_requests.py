"""MeterServiceRequests: field work on meters (install, remove, exchange, disconnect; 3.8.2).

Namespace `http://iec.ch/TC57/2011/MeterServiceRequests#`, root `MeterServiceRequests` with
`MeterServiceWork` 0..*, then the catalogue objects `ReadingQualityType` and `ReadingType`.
Source: JAXB classes generated from the 2011 profile (V-weak, digest 3.8.2) and an EPRI interop
message log of 2011 that uses them. The singular `MeterServiceRequest` is accepted as Noun and
root on input (digest 1.2); we emit the plural.

A work order names its kind (`WorkKind`), the new or affected `Meter` (required; it carries the
final and initial reads as `MeterReadings`), the `OldMeter` of an exchange, the `Customers`, the
`UsagePoint` with its service location and multipliers, and `ActivityRecords` (what happened,
when). What we know differs from the other profiles in three places, all kept as the source has
them: `status/value` is required, `ActivityRecords` require `createdDateTime` and `type`, and a
Reading requires its `timeStamp`.

Choices where the source is silent or odd (digest 3.8.2, M):
- the source gives `MeterServiceWork` and its `UsagePoint` no identity at all; we add `mRID`
  and `Names` at their CIMTool places (both optional) so a work order and its usage point can
  be named;
- `Reading.value` is `xs:float` in the source; we keep the reading-value type of MeterReadings
  (a decimal string, digest 2.2.5), which a float reader accepts;
- the full `ReadingType` is the MeterReadings one (`argument`/`interharmonic` as rational
  numbers; the source has them as ref elements, which readers keep as extensions);
- the EPRI log carries an envelope `Header` inside the root: readers keep it as an extension.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import (
    CimDocument,
    CimEnum,
    CimModel,
    DateTime,
    Float,
    ReadingValue,
    Required,
)
from cimmeter.model.common import (
    DateTimeInterval,
    IdentifiedObject,
    MeterMultiplierKind,
    Name,
    PhaseCode,
    ReadingReasonKind,
    ReadingTypeRef,
    ServiceMultiplierKind,
    StreetDetail,
    TownDetail,
)
from cimmeter.model.customer_config import CustomerKind
from cimmeter.model.meter_readings import ReadingQuality, ReadingQualityType, ReadingType


class WorkKind(CimEnum):
    """`MeterServiceWork.kind` (digest 2.2.5, V-weak)."""

    construction = "construction"
    disconnect = "disconnect"
    inspection = "inspection"
    maintenance = "maintenance"
    meter = "meter"
    other = "other"
    reconnect = "reconnect"
    repair = "repair"
    service = "service"
    test = "test"


class Status(CimModel):
    """In this profile `value` is required (digest 2.2.6)."""

    date_time: DateTime | None = Field(None, alias="dateTime")
    reason: str | None = None
    remark: str | None = None
    value: Annotated[str | None, Required()] = None


class ActivityRecord(CimModel):
    """Something that happened to the work order (`type`), and when (`createdDateTime`)."""

    created_date_time: Annotated[DateTime | None, Required()] = Field(None, alias="createdDateTime")
    reason: str | None = None
    severity: str | None = None
    type: Annotated[str | None, Required()] = None


class CustomerAgreement(IdentifiedObject):
    pass


class Customer(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: CustomerKind | None = None
    puc_number: str | None = Field(None, alias="pucNumber")
    special_need: str | None = Field(None, alias="specialNeed")
    vip: bool | None = None
    customer_agreements: tuple[CustomerAgreement, ...] = Field((), alias="CustomerAgreements")
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None


class Reading(CimModel):
    """A final or initial register read; `timeStamp` is required in this profile."""

    reason: ReadingReasonKind | None = None
    reported_date_time: DateTime | None = Field(None, alias="reportedDateTime")
    source: str | None = None
    time_stamp: Annotated[DateTime | None, Required()] = Field(None, alias="timeStamp")
    # xs:float in the source (V-weak); the decimal string of MeterReadings here (digest 2.2.5).
    value: ReadingValue | None = None
    reading_qualities: tuple[ReadingQuality, ...] = Field((), alias="ReadingQualities")
    reading_type: Annotated[ReadingTypeRef | None, Required()] = Field(None, alias="ReadingType")
    time_period: DateTimeInterval | None = Field(None, alias="timePeriod")


class MeterReading(CimModel):
    readings: tuple[Reading, ...] = Field((), alias="Readings")
    values_interval: DateTimeInterval | None = Field(None, alias="valuesInterval")


class MeterMultiplier(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: Annotated[MeterMultiplierKind | None, Required()] = None
    value: Annotated[Float | None, Required()] = None
    names: tuple[Name, ...] = Field((), alias="Names")


class Meter(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    amr_system: str | None = Field(None, alias="amrSystem")
    form_number: str | None = Field(None, alias="formNumber")
    serial_number: str | None = Field(None, alias="serialNumber")
    meter_multipliers: tuple[MeterMultiplier, ...] = Field((), alias="MeterMultipliers")
    meter_readings: tuple[MeterReading, ...] = Field((), alias="MeterReadings")
    """The final (old meter) or initial (new meter) reads of the work (digest 4.10)."""
    names: tuple[Name, ...] = Field((), alias="Names")


class StreetAddress(CimModel):
    """This profile's street address has no `status`."""

    street_detail: StreetDetail | None = Field(None, alias="streetDetail")
    town_detail: TownDetail | None = Field(None, alias="townDetail")


class ServiceLocation(CimModel):
    access_method: str | None = Field(None, alias="accessMethod")
    needs_inspection: bool | None = Field(None, alias="needsInspection")
    site_access_problem: str | None = Field(None, alias="siteAccessProblem")
    main_address: StreetAddress | None = Field(None, alias="mainAddress")


class ServiceMultiplier(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: Annotated[ServiceMultiplierKind | None, Required()] = None
    value: Annotated[Float | None, Required()] = None
    names: tuple[Name, ...] = Field((), alias="Names")


class UsagePoint(CimModel):
    # digest 3.8.2 (M): mRID and Names are ours; the source gives this UsagePoint no identity.
    mrid: str | None = Field(None, alias="mRID")
    check_billing: bool | None = Field(None, alias="checkBilling")
    grounded: bool | None = None
    is_virtual: bool | None = Field(None, alias="isVirtual")
    nominal_service_voltage: Float | None = Field(None, alias="nominalServiceVoltage")
    phase_code: PhaseCode | None = Field(None, alias="phaseCode")
    rated_current: Float | None = Field(None, alias="ratedCurrent")
    rated_power: Float | None = Field(None, alias="ratedPower")
    service_delivery_remark: str | None = Field(None, alias="serviceDeliveryRemark")
    service_priority: str | None = Field(None, alias="servicePriority")
    names: tuple[Name, ...] = Field((), alias="Names")  # digest 3.8.2 (M)
    service_location: ServiceLocation | None = Field(None, alias="ServiceLocation")
    service_multipliers: tuple[ServiceMultiplier, ...] = Field((), alias="ServiceMultipliers")


class MeterServiceWork(CimModel):
    """One work order on one meter (an exchange names the `OldMeter` too)."""

    # digest 3.8.2 (M): mRID and Names are ours; the source gives the work order no identity.
    mrid: str | None = Field(None, alias="mRID")
    kind: WorkKind | None = None
    last_modified_date_time: DateTime | None = Field(None, alias="lastModifiedDateTime")
    priority: str | None = None
    request_date_time: DateTime | None = Field(None, alias="requestDateTime")
    type: str | None = None
    activity_records: tuple[ActivityRecord, ...] = Field((), alias="ActivityRecords")
    customers: tuple[Customer, ...] = Field((), alias="Customers")
    meter: Annotated[Meter | None, Required()] = Field(None, alias="Meter")
    names: tuple[Name, ...] = Field((), alias="Names")  # digest 3.8.2 (M)
    old_meter: Meter | None = Field(None, alias="OldMeter")
    status: Status | None = None
    usage_point: UsagePoint | None = Field(None, alias="UsagePoint")


class MeterServiceRequests(CimDocument):
    profile: ClassVar[str] = "MeterServiceRequests"

    meter_service_work: tuple[MeterServiceWork, ...] = Field((), alias="MeterServiceWork")
    reading_quality_type: tuple[ReadingQualityType, ...] = Field((), alias="ReadingQualityType")
    # The MeterReadings ReadingType (V); the source makes argument/interharmonic ref elements.
    reading_type: tuple[ReadingType, ...] = Field((), alias="ReadingType")


__all__ = [
    "ActivityRecord",
    "Customer",
    "CustomerAgreement",
    "Meter",
    "MeterMultiplier",
    "MeterMultiplierKind",
    "MeterReading",
    "MeterServiceRequests",
    "MeterServiceWork",
    "PhaseCode",
    "Reading",
    "ServiceLocation",
    "ServiceMultiplier",
    "ServiceMultiplierKind",
    "Status",
    "StreetAddress",
    "UsagePoint",
    "WorkKind",
]
