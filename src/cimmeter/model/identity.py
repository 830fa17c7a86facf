"""How messages identify an object: by mRID, or by a Name with its NameType (digest 2.2.3).

A receiver resolves in this order: mRID, then (name, NameType), then a bare name; Connexo also
accepts a serial number (digest 1.3.6). `ObjectRef` carries whichever of these a message gave,
unresolved, so that the store can resolve it and an error can say which identifier failed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """An unresolved reference to an identified object, as a message gave it."""

    mrid: str | None = None
    name: str | None = None
    name_type: str | None = None
    name_type_authority: str | None = None
    serial_number: str | None = None

    def __post_init__(self) -> None:
        if not (self.mrid or self.name or self.serial_number):
            raise ValueError("an ObjectRef needs an mRID, a name or a serial number")

    @classmethod
    def of(cls, mrid: str) -> ObjectRef:
        return cls(mrid=mrid)

    def describe(self) -> str:
        """How an error message names the object: `mRID 1234`, `name 'M-17' (MeterSerialNumber)`."""
        if self.mrid:
            return f"mRID {self.mrid}"
        if self.name:
            kind = f" ({self.name_type})" if self.name_type else ""
            return f"name {self.name!r}{kind}"
        return f"serial number {self.serial_number!r}"

    def __str__(self) -> str:
        return self.describe()
