"""Transformers and feeders as groups with a NameType (DECISIONS.md, digest 3.8.3-3.8.4, M)."""

from __future__ import annotations

from pathlib import Path

from cimmeter.message.envelope import read_xml, write_xml
from cimmeter.model.common import Name, NameType
from cimmeter.model.end_device_groups import (
    EndDevice,
    EndDeviceGroup,
    EndDeviceGroups,
    GroupKind,
    group_kind,
    group_name,
)
from cimmeter.model.usage_point_groups import UsagePoint, UsagePointGroup, UsagePointGroups

DATA = Path(__file__).resolve().parents[1] / "data"


def test_group_name_marks_the_kind_and_group_kind_reads_it_back() -> None:
    name = group_name(GroupKind.transformer, "TR-0042")
    assert name == Name(name="TR-0042", name_type=NameType(name="Transformer"))
    assert group_kind([Name(name="other"), name]) == (GroupKind.transformer, "TR-0042")
    assert group_kind([group_name(GroupKind.feeder, "F-12")]) == (GroupKind.feeder, "F-12")


def test_group_kind_matches_case_insensitively_and_ignores_other_names() -> None:
    assert group_kind([Name(name="F-1", name_type=NameType(name="FEEDER"))]) == (
        GroupKind.feeder,
        "F-1",
    )
    assert group_kind([Name(name="17", name_type=NameType(name="MulticastGroupId"))]) is None
    assert group_kind([Name(name="x")]) is None
    assert group_kind([]) is None


def test_a_transformer_travels_as_a_device_group_and_a_feeder_as_a_usage_point_group() -> None:
    transformer = EndDeviceGroups(
        end_device_group=(
            EndDeviceGroup(
                mrid="tr-42",
                end_devices=(EndDevice(mrid="d1"), EndDevice(mrid="d2")),
                names=(group_name(GroupKind.transformer, "TR-0042"),),
            ),
        )
    )
    feeder = UsagePointGroups(
        usage_point_group=(
            UsagePointGroup(
                mrid="f-12",
                names=(group_name(GroupKind.feeder, "F-12"),),
                usage_points=(UsagePoint(mrid="up1"),),
            ),
        )
    )
    for document in (transformer, feeder):
        again = read_xml(write_xml(document), strict=True).document
        assert again == document
    assert isinstance(again, UsagePointGroups)
    assert group_kind(again.usage_point_group[0].names) == (GroupKind.feeder, "F-12")


def test_the_samples_carry_the_convention() -> None:
    devices = read_xml(DATA / "EndDeviceGroups" / "create.xml").document
    assert isinstance(devices, EndDeviceGroups)
    group = devices.end_device_group[0]
    assert group_kind(group.names) == (GroupKind.transformer, "TR-0042")
    assert len(group.end_devices) == 2

    points = read_xml(DATA / "UsagePointGroups" / "reply.xml").document
    assert isinstance(points, UsagePointGroups)
    assert [group_kind(g.names) for g in points.usage_point_group] == [
        (GroupKind.feeder, "F-12"),
        (GroupKind.feeder, "F-13"),
    ]
