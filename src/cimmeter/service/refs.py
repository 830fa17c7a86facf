"""Naming and finding objects: a message's identifiers -> `ObjectRef` -> a stored object.

Objects are named by mRID, by Names (name + NameType + authority), or (Connexo) by serial
number (digest 1.3.6, 2.2.3). Any model or JSON object with `mRID` / `Names` / `serialNumber`
gives an `ObjectRef`; the store resolves it (mRID, then name with type, then bare name, then
serial number). A failed resolution is reported on the item, saying which identifier failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cimmeter.model.identity import ObjectRef
from cimmeter.service.errors import Problem
from cimmeter.store.base import ResolveError, StoreReader
from cimmeter.store.records import MasterObject, Name, ObjectKind


def ref_of(obj: Any) -> ObjectRef | None:
    """The identity of a model object (`mrid`, `names`, `serial_number` attributes), or None."""
    if obj is None:
        return None
    mrid = getattr(obj, "mrid", None) or None
    serial = getattr(obj, "serial_number", None) or None
    names = getattr(obj, "names", ()) or ()
    name = name_type = authority = None
    if names:
        first = names[0]
        name = getattr(first, "name", None) or None
        nt = getattr(first, "name_type", None)
        if nt is not None:
            name_type = getattr(nt, "name", None)
            nta = getattr(nt, "name_type_authority", None)
            authority = getattr(nta, "name", None) if nta is not None else None
    if not (mrid or name or serial):
        return None
    return ObjectRef(mrid, name, name_type, authority, serial)


def ref_of_json(obj: Mapping[str, Any]) -> ObjectRef | None:
    """The identity of an object in the JSON form of a model (aliases as keys)."""
    mrid = obj.get("mRID") or None
    serial = obj.get("serialNumber") or None
    names = names_of_json(obj)
    first = names[0] if names else None
    if not (mrid or first or serial):
        return None
    return ObjectRef(
        mrid,
        first.name if first else None,
        first.name_type if first else None,
        first.name_type_authority if first else None,
        serial,
    )


def names_of_json(obj: Mapping[str, Any]) -> tuple[Name, ...]:
    names: list[Name] = []
    for entry in obj.get("Names", ()) or ():
        if not isinstance(entry, Mapping) or not entry.get("name"):
            continue
        name_type = entry.get("NameType") or {}
        authority = name_type.get("NameTypeAuthority") or {}
        names.append(Name(entry["name"], name_type.get("name"), authority.get("name")))
    return tuple(names)


def describe(ref: ObjectRef | None) -> str:
    return ref.describe() if ref is not None else "an object without mRID or Names"


class Resolution:
    """The outcome of resolving a reference: the object, or the problem and its text."""

    __slots__ = ("detail", "obj", "problem")

    def __init__(
        self, obj: MasterObject | None, problem: Problem | None = None, detail: str = ""
    ) -> None:
        self.obj = obj
        self.problem = problem
        self.detail = detail


def resolve(
    reader: StoreReader, kinds: Sequence[ObjectKind], ref: ObjectRef | None, what: str
) -> Resolution:
    """Find the live object `ref` names among `kinds` (in order: the first kind that knows it
    wins). `what` names the element for the error (`EndDevice`, `UsagePoint`)."""
    if ref is None:
        return Resolution(
            None, Problem.INVALID_ELEMENT, f"{what} has no mRID, Names or serialNumber"
        )
    several: ResolveError | None = None
    for kind in kinds:
        try:
            return Resolution(reader.resolve(kind, ref))
        except ResolveError as exc:
            if exc.matches > 1:
                several = exc
    if several is not None:
        return Resolution(
            None,
            Problem.OBJECT_AMBIGUOUS,
            f"{what} {ref.describe()} matches {several.matches} objects; name it by mRID",
        )
    kinds_text = " or ".join(k.value for k in kinds)
    return Resolution(None, Problem.OBJECT_NOT_FOUND, f"no {kinds_text} with {ref.describe()}")


DEVICE_KINDS = (ObjectKind.METER, ObjectKind.END_DEVICE)

__all__ = [
    "DEVICE_KINDS",
    "Resolution",
    "describe",
    "names_of_json",
    "ref_of",
    "ref_of_json",
    "resolve",
]
