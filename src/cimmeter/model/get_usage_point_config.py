"""GetUsagePointConfig: the query profile of `get UsagePointConfig` (digest 3.7.2, M).

No public query profile exists: SmenCim's `GetUsagePointConfigMessage.xsd` has only StartTime,
EndTime, Option and ID, and Connexo's `get` sends a `UsagePointConfig` document (usage points
with mRID/Names) in Payload as the filter. Readers accept both forms as they are: a query-less
Get, and a UsagePointConfig in Payload (a RequestMessage whose `document` is the filter).

When cimmeter sends a query it uses this profile, shaped like GetMeterConfig as the digest
expects: namespace `http://iec.ch/TC57/2011/GetUsagePointConfig#`, root `GetUsagePointConfig`,
children (alphabetical, digest 2.2.2) naming the usage points directly or through what they are
linked to, each by mRID and/or Names. A receiver that does not know the profile ignores it
(the Get request's `xs:any` is lax).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument
from cimmeter.model.common import IdentifiedObject, UsagePoint, UsagePointGroup


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


class ServiceLocation(IdentifiedObject):
    pass


# digest 3.7.2 (M): the whole profile (namespace, root, children) is unverified.
class GetUsagePointConfig(CimDocument):
    profile: ClassVar[str] = "GetUsagePointConfig"

    customer: tuple[Customer, ...] = Field((), alias="Customer")
    customer_account: tuple[CustomerAccount, ...] = Field((), alias="CustomerAccount")
    customer_agreement: tuple[CustomerAgreement, ...] = Field((), alias="CustomerAgreement")
    end_device: tuple[EndDevice, ...] = Field((), alias="EndDevice")
    meter: tuple[Meter, ...] = Field((), alias="Meter")
    service_location: tuple[ServiceLocation, ...] = Field((), alias="ServiceLocation")
    usage_point: tuple[UsagePoint, ...] = Field((), alias="UsagePoint")
    usage_point_group: tuple[UsagePointGroup, ...] = Field((), alias="UsagePointGroup")


__all__ = [
    "Customer",
    "CustomerAccount",
    "CustomerAgreement",
    "EndDevice",
    "GetUsagePointConfig",
    "Meter",
    "ServiceLocation",
]
