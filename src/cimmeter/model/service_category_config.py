"""ServiceCategoryConfig: the kinds of service a utility delivers (digest 3.9.3).

Namespace `http://iec.ch/TC57/2011/ServiceCategoryConfig#`, root `ServiceCategoryConfig`
(SmenCim `ServiceCategoryConfig.xsd`): `ServiceCategory` with `kind` (ServiceKind, enumerated),
`ConfigurationEvents` 0..1 and `Names`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import ConfigurationEvent, Name, ServiceKind


class ServiceCategory(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    kind: ServiceKind | None = None
    configuration_events: ConfigurationEvent | None = Field(None, alias="ConfigurationEvents")
    names: tuple[Name, ...] = Field((), alias="Names")


class ServiceCategoryConfig(CimDocument):
    profile: ClassVar[str] = "ServiceCategoryConfig"

    service_category: tuple[ServiceCategory, ...] = Field((), alias="ServiceCategory")


__all__ = ["ServiceCategory", "ServiceCategoryConfig"]
