"""EndDeviceGroups: named sets of end devices, targets of reads, schedules and controls (3.8.3).

Namespace `http://iec.ch/TC57/2011/EndDeviceGroups#`, root `EndDeviceGroups` (SmenCim
`src/SmenCimWsdl/EndDeviceGroups.xsd`). A group is `mRID`, `DemandResponsePrograms` refs,
its members `EndDevices` (mRID, Names) and `Names`. The CIM `EndDeviceGroup.type` is not in this
profile: what kind of group it is travels as the NameType of one of its Names.

Transformers and feeders travel as groups (DECISIONS.md, marked M): a group whose Name has the
NameType `Transformer` (or `Feeder`), the transformer's id as the name, and the devices (here)
or usage points (UsagePointGroups) it supplies as members. `group_name` and `group_kind` write
and read that convention.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import ClassVar

from pydantic import Field

from cimmeter.model.base import CimDocument, CimModel, Ref
from cimmeter.model.common import IdentifiedObject, Name, NameType

# -- the group-kind convention (DECISIONS.md: transformers and feeders as groups) --------------


# digest 3.8.3 (M): no public profile says how to type a group; the NameType is our convention.
class GroupKind(enum.StrEnum):
    """What a group stands for, carried as the NameType name of one of its Names."""

    transformer = "Transformer"
    feeder = "Feeder"


def group_name(kind: GroupKind, name: str) -> Name:
    """The Name that marks a group as a transformer or feeder: `<name>` of NameType `<kind>`."""
    return Name(name=name, name_type=NameType(name=kind.value))


def group_kind(names: Iterable[Name]) -> tuple[GroupKind, str] | None:
    """(kind, name) of the first Name whose NameType is a `GroupKind`, or None.

    NameType names match case-insensitively: partners spell them `transformer`, `TRANSFORMER`."""
    kinds = {kind.value.casefold(): kind for kind in GroupKind}
    for name in names:
        type_name = name.name_type.name if name.name_type is not None else None
        kind = kinds.get(type_name.casefold()) if type_name else None
        if kind is not None and name.name:
            return kind, name.name
    return None


# -- the profile ---------------------------------------------------------------------------------


class DemandResponseProgramRef(Ref):
    """`<DemandResponsePrograms ref="..."/>`: the mRID of a program (digest 2.2.4)."""

    xml_name: ClassVar[str | None] = "DemandResponseProgram"


class DemandResponseProgram(CimModel):
    """A demand response program, sent alongside the groups that enrol in it."""

    mrid: str | None = Field(None, alias="mRID")
    type: str | None = None
    names: tuple[Name, ...] = Field((), alias="Names")


class EndDevice(IdentifiedObject):
    """A member of a group: mRID and Names only."""


class EndDeviceGroup(CimModel):
    mrid: str | None = Field(None, alias="mRID")
    demand_response_programs: tuple[DemandResponseProgramRef, ...] = Field(
        (), alias="DemandResponsePrograms"
    )
    end_devices: tuple[EndDevice, ...] = Field((), alias="EndDevices")
    names: tuple[Name, ...] = Field((), alias="Names")


class EndDeviceGroups(CimDocument):
    profile: ClassVar[str] = "EndDeviceGroups"

    demand_response_program: tuple[DemandResponseProgram, ...] = Field(
        (), alias="DemandResponseProgram"
    )
    end_device_group: tuple[EndDeviceGroup, ...] = Field((), alias="EndDeviceGroup")


__all__ = [
    "DemandResponseProgram",
    "DemandResponseProgramRef",
    "EndDevice",
    "EndDeviceGroup",
    "EndDeviceGroups",
    "GroupKind",
    "group_kind",
    "group_name",
]
