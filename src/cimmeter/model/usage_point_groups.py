"""UsagePointGroups: named sets of usage points (digest 3.8.4).

Namespace `http://iec.ch/TC57/2011/UsagePointGroups#`, root `UsagePointGroups` (SmenCim
`UsagePointGroups.xsd`). Unlike EndDeviceGroup, `DemandResponsePrograms` is a single ref (0..1)
and the members `UsagePoints` come last, after `Names`.

A transformer or feeder is a UsagePointGroup whose Name has the NameType `Transformer` or
`Feeder` (DECISIONS.md, M): see `group_name` / `group_kind` in `cimmeter.model.end_device_groups`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel
from cimmeter.model.common import IdentifiedObject, Name
from cimmeter.model.end_device_groups import (
    DemandResponseProgram,
    DemandResponseProgramRef,
    GroupKind,
    group_kind,
    group_name,
)


class UsagePoint(IdentifiedObject):
    """A member of a group: mRID and Names only."""


class UsagePointGroup(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    demand_response_programs: DemandResponseProgramRef | None = Field(
        None, alias="DemandResponsePrograms"
    )
    """0..1 in this profile despite the plural (digest 3.8.4)."""
    names: tuple[Name, ...] = Field((), alias="Names")
    usage_points: tuple[UsagePoint, ...] = Field((), alias="UsagePoints")


class UsagePointGroups(CimDocument):
    profile: ClassVar[str] = "UsagePointGroups"

    demand_response_program: tuple[DemandResponseProgram, ...] = Field(
        (), alias="DemandResponseProgram"
    )
    usage_point_group: tuple[UsagePointGroup, ...] = Field((), alias="UsagePointGroup")


__all__ = [
    "DemandResponseProgram",
    "DemandResponseProgramRef",
    "GroupKind",
    "UsagePoint",
    "UsagePointGroup",
    "UsagePointGroups",
    "group_kind",
    "group_name",
]
