"""Small CIM types shared by the profiles (digest 2.2.3, 2.2.4, 2.2.6).

CIMTool makes a separate complexType per profile (digest 2.2.1), but these small types have the
same content in every profile that uses them, and payload elements are in the profile's namespace
whatever the type, so one class serves them all. Field order is the XSD order (digest 2.2.2):
`DateTimeInterval` is `end` then `start`, `Status` has `value` last, `NameType` is description,
name, NameTypeAuthority.

Classes whose content differs by profile (`Meter`, `EndDevice`, `UsagePoint` in MeterConfig ...)
belong to the noun's own module.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from cimmeter.model.base import CimEnum, CimModel, DateTime, Float, Ref, Required

# -- identification (digest 2.2.3) --------------------------------------------------------------


class NameTypeAuthority(CimModel):
    description: str | None = None
    name: Annotated[str | None, Required()] = None


class NameType(CimModel):
    description: str | None = None
    name: Annotated[str | None, Required()] = None
    name_type_authority: NameTypeAuthority | None = Field(None, alias="NameTypeAuthority")


class Name(CimModel):
    """An alternative identifier of an object, e.g. a meter serial number (digest 2.2.3)."""

    name: Annotated[str | None, Required()] = None
    name_type: NameType | None = Field(None, alias="NameType")


class IdentifiedObject(CimModel):
    """mRID and Names only: the shape of most references to objects in a profile."""

    mrid: str | None = Field(None, alias="mRID")
    names: tuple[Name, ...] = Field((), alias="Names")


# A few profiles make mRID mandatory in a reference (MeterReadSchedule EndDevice, digest 3.3).
class RequiredIdentifiedObject(CimModel):
    mrid: Annotated[str | None, Required()] = Field(None, alias="mRID")
    names: tuple[Name, ...] = Field((), alias="Names")


class UsagePoint(IdentifiedObject):
    pass


class UsagePointGroup(IdentifiedObject):
    pass


class EndDeviceGroup(IdentifiedObject):
    pass


# -- ref elements (digest 2.2.4) ----------------------------------------------------------------


class ReadingTypeRef(Ref):
    """`<ReadingType ref="..."/>`: the 18-field ReadingType code (digest 5.1)."""

    xml_name: ClassVar[str | None] = "ReadingType"
    code_kind: ClassVar[str | None] = "ReadingType"


class ReadingQualityTypeRef(Ref):
    """`<ReadingQualityType ref="..."/>`: `systemId.category.subCategory` (digest 5.3)."""

    xml_name: ClassVar[str | None] = "ReadingQualityType"
    code_kind: ClassVar[str | None] = "ReadingQualityType"


class EndDeviceEventTypeRef(Ref):
    """`<EndDeviceEventType ref="..."/>`: `type.domain.subDomain.eventOrAction` (digest 5.2)."""

    xml_name: ClassVar[str | None] = "EndDeviceEventType"
    code_kind: ClassVar[str | None] = "EndDeviceEventType"


class EndDeviceControlTypeRef(Ref):
    """`<EndDeviceControlType ref="..."/>`: `type.domain.subDomain.eventOrAction` (digest 5.2)."""

    xml_name: ClassVar[str | None] = "EndDeviceControlType"
    code_kind: ClassVar[str | None] = "EndDeviceControlType"


# -- common small types (digest 2.2.6) ----------------------------------------------------------


class DateTimeInterval(CimModel):
    """`end` comes before `start` (alphabetical, digest 2.2.2)."""

    end: DateTime | None = None
    start: DateTime | None = None


class Status(CimModel):
    date_time: DateTime | None = Field(None, alias="dateTime")
    reason: str | None = None
    remark: str | None = None
    value: str | None = None


class RationalNumber(CimModel):
    denominator: Annotated[int | None, Required()] = None
    numerator: Annotated[int | None, Required()] = None


class ReadingInterharmonic(CimModel):
    denominator: Annotated[int | None, Required()] = None
    numerator: Annotated[int | None, Required()] = None


class ElectronicAddress(CimModel):
    email1: str | None = None
    email2: str | None = None
    lan: str | None = None
    mac: str | None = None
    password: str | None = None
    radio: str | None = None
    user_id: str | None = Field(None, alias="userID")
    web: str | None = None


class ConfigurationEvent(CimModel):
    """Carries the effective date of a change on config objects (digest 2.2.6)."""

    mrid: str | None = Field(None, alias="mRID")
    created_date_time: DateTime | None = Field(None, alias="createdDateTime")
    effective_date_time: DateTime | None = Field(None, alias="effectiveDateTime")
    modified_by: str | None = Field(None, alias="modifiedBy")
    reason: str | None = None
    remark: str | None = None
    severity: str | None = None
    type: str | None = None
    names: tuple[Name, ...] = Field((), alias="Names")
    status: Status | None = None


class TimePoint(CimModel):
    date_time: DateTime | None = Field(None, alias="dateTime")
    relative_time_interval: Float | None = Field(None, alias="relativeTimeInterval")
    sequence_number: int | None = Field(None, alias="sequenceNumber")
    window: DateTimeInterval | None = None


class TelephoneNumber(CimModel):
    area_code: str | None = Field(None, alias="areaCode")
    city_code: str | None = Field(None, alias="cityCode")
    country_code: str | None = Field(None, alias="countryCode")
    extension: str | None = None
    local_number: str | None = Field(None, alias="localNumber")


class StreetDetail(CimModel):
    address_general: str | None = Field(None, alias="addressGeneral")
    building_name: str | None = Field(None, alias="buildingName")
    code: str | None = None
    name: str | None = None
    number: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    suite_number: str | None = Field(None, alias="suiteNumber")
    type: str | None = None
    within_town_limits: bool | None = Field(None, alias="withinTownLimits")


class TownDetail(CimModel):
    code: str | None = None
    country: str | None = None
    name: str | None = None
    section: str | None = None
    state_or_province: str | None = Field(None, alias="stateOrProvince")


class StreetAddress(CimModel):
    status: Status | None = None
    street_detail: StreetDetail | None = Field(None, alias="streetDetail")
    town_detail: TownDetail | None = Field(None, alias="townDetail")


class PostalAddress(CimModel):
    po_box: str | None = Field(None, alias="poBox")
    postal_code: str | None = Field(None, alias="postalCode")
    street_detail: StreetDetail | None = Field(None, alias="streetDetail")
    town_detail: TownDetail | None = Field(None, alias="townDetail")


# -- enumerations the profiles restrict (digest 2.2.5) ------------------------------------------


class ReadingReasonKind(CimEnum):
    billing = "billing"
    demandReset = "demandReset"
    inquiry = "inquiry"
    installation = "installation"
    loadManagement = "loadManagement"
    loadResearch = "loadResearch"
    moveIn = "moveIn"
    moveOut = "moveOut"
    other = "other"
    removal = "removal"
    serviceConnect = "serviceConnect"
    serviceDisconnect = "serviceDisconnect"


class ServiceKind(CimEnum):
    electricity = "electricity"
    gas = "gas"
    heat = "heat"
    internet = "internet"
    other = "other"
    rates = "rates"
    refuse = "refuse"
    sewerage = "sewerage"
    time = "time"
    tvLicence = "tvLicence"
    water = "water"


class CustomerKind(CimEnum):
    commercialIndustrial = "commercialIndustrial"
    energyServiceScheduler = "energyServiceScheduler"
    energyServiceSupplier = "energyServiceSupplier"
    internalUse = "internalUse"
    other = "other"
    pumpingLoad = "pumpingLoad"
    residential = "residential"
    residentialAndCommercial = "residentialAndCommercial"
    residentialAndStreetlight = "residentialAndStreetlight"
    residentialFarmService = "residentialFarmService"
    residentialStreetlightOthers = "residentialStreetlightOthers"
    windMachine = "windMachine"


class SupplierKind(CimEnum):
    other = "other"
    retailer = "retailer"
    utility = "utility"


class MeterMultiplierKind(CimEnum):
    ctRatio = "ctRatio"
    kE = "kE"
    kH = "kH"
    kR = "kR"
    ptRatio = "ptRatio"
    transformerRatio = "transformerRatio"


class ServiceMultiplierKind(CimEnum):
    ctRatio = "ctRatio"
    ptRatio = "ptRatio"
    transformerRatio = "transformerRatio"


class PhaseCode(CimEnum):
    A = "A"
    AB = "AB"
    ABC = "ABC"
    ABCN = "ABCN"
    ABN = "ABN"
    AC = "AC"
    ACN = "ACN"
    AN = "AN"
    B = "B"
    BC = "BC"
    BCN = "BCN"
    BN = "BN"
    C = "C"
    CN = "CN"
    N = "N"
    s1 = "s1"
    s12 = "s12"
    s12N = "s12N"
    s1N = "s1N"
    s2 = "s2"
    s2N = "s2N"


__all__ = [
    "ConfigurationEvent",
    "CustomerKind",
    "DateTimeInterval",
    "ElectronicAddress",
    "EndDeviceControlTypeRef",
    "EndDeviceEventTypeRef",
    "EndDeviceGroup",
    "IdentifiedObject",
    "MeterMultiplierKind",
    "Name",
    "NameType",
    "NameTypeAuthority",
    "PhaseCode",
    "PostalAddress",
    "RationalNumber",
    "ReadingInterharmonic",
    "ReadingQualityTypeRef",
    "ReadingReasonKind",
    "ReadingTypeRef",
    "RequiredIdentifiedObject",
    "ServiceKind",
    "ServiceMultiplierKind",
    "Status",
    "StreetAddress",
    "StreetDetail",
    "SupplierKind",
    "TelephoneNumber",
    "TimePoint",
    "TownDetail",
    "UsagePoint",
    "UsagePointGroup",
]
