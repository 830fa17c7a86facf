"""The base of every typed CIM model: declared once, everything else derived from it.

A model is a frozen pydantic v2 class whose fields are declared **in XSD sequence order** (digest
2.2.2: `mRID` first, then simple attributes alphabetically, then compound attributes and
associations alphabetically ignoring case). Python names are snake_case; the alias is the exact
CIM element name. The XML codec (`cimmeter.xml.codec`), our XSD files (`cimmeter.xml.xsdgen`) and
the JSON form (`cimmeter.message.json`) are all derived from these declarations.

What XML needs beyond a field's type is said with small markers in `Annotated[...]`:

- `Attribute()`: an XML attribute (the `ref` of a ref element, the IDatts of an envelope `ID`);
- `Text()`: the element's text content (`ID` has text plus attributes);
- `Required()`: `minOccurs="1"` in the schema. The model still accepts None, so that one broken
  item does not sink a message (DESIGN.md rule 7); `cimmeter.message.validate` reports it;
- `Choice("group")`: consecutive fields of one group form an `xs:choice` (EndDeviceControl's
  PanDemandResponse / PanDisplay / PanPricing, digest 3.5);
- `Wildcard()`: the field holds a noun document found at an `xs:any` position (envelope only).

A `tuple[...]` field is `maxOccurs="unbounded"`, anything else at most one. A pydantic-required
field (no default) is a hard requirement: the document cannot be read without it (Header/Verb).

Namespaces are not part of the models: every element of a profile is in that profile's namespace
(`elementFormDefault="qualified"`, digest 2.1.1), so one shared type such as `Name` serves every
profile. Elements and attributes the model does not know (vendor extensions) are kept verbatim in
`extensions` and written back at the same place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

# -- markers -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attribute:
    """The field is an XML attribute of the element (unqualified, digest 2.1.1)."""


@dataclass(frozen=True, slots=True)
class Text:
    """The field is the text content of the element (simpleContent with attributes)."""


@dataclass(frozen=True, slots=True)
class Required:
    """The schema requires the element (minOccurs 1), but a reader keeps going without it."""


@dataclass(frozen=True, slots=True)
class Choice:
    """Consecutive fields with the same group form one `xs:choice` in the schema."""

    group: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    """The field holds a noun document from an `xs:any namespace="##other"` position."""

    process_contents: str = "lax"


@dataclass(frozen=True, slots=True)
class XsdType:
    """The XSD built-in type of a scalar when its Python type does not say it (`xs:QName`)."""

    name: str


# -- scalar types --------------------------------------------------------------------------------


def format_decimal(value: Decimal) -> str:
    """Plain decimal notation (never an exponent): what xs:decimal and reading values need."""
    return format(value, "f")


def _reading_value(value: object) -> object:
    """Reading values are xs:string holding a decimal (digest 2.2.5): Decimal when the text is a
    plain decimal that writes back identically, else the string as received (`ON`, `1e3`)."""
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        if number.is_finite() and format_decimal(number) == value:
            return number
        return value
    return value


def _json_decimal_or_str(value: Decimal | str) -> str:
    return format_decimal(value) if isinstance(value, Decimal) else value


ReadingValue = Annotated[
    Decimal | str,
    BeforeValidator(_reading_value),
    PlainSerializer(_json_decimal_or_str, when_used="json"),
    XsdType("xs:string"),
]
"""`Reading.value`, `IntervalReading.value`: Decimal, or the text when it is not a plain decimal."""

Money = Annotated[Decimal, PlainSerializer(format_decimal, when_used="json")]
"""CIM Money (xs:decimal, digest 2.2.5)."""

DateTime = AwareDatetime
"""xs:dateTime; always with a zone (DESIGN.md rule 6, digest 2.2.5)."""

QName = Annotated[str, XsdType("xs:QName")]
"""xs:QName, kept as `{namespace}local` (or a bare local name) so it survives any prefix."""

Float = float
"""CIM float datatypes (Minutes, Seconds, PerCent, Temperature, FloatQuantity): xs:float."""


class CimEnum(enum.StrEnum):
    """A CIM enumeration that the profile XSD restricts (digest 2.2.5); the value is the literal.

    `xsd_name` is the name of its simpleType; readers match case-insensitively with a warning."""

    @classmethod
    def xsd_name(cls) -> str:
        return cls.__name__


# -- models --------------------------------------------------------------------------------------


class Extension(BaseModel):
    """An element or attribute the model does not know (a vendor extension), kept verbatim.

    An element is kept as its XML text (with the namespace declarations it needs) and the name
    of the known element it followed (`after`, None at the start), so that the writer puts it
    back in the same place. An attribute is kept as its Clark name `{ns}name` and value.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    after: str | None = None
    xml: str | None = None
    attribute: str | None = None
    value: str | None = None


class CimModel(BaseModel):
    """A CIM class as a profile uses it. Field order = XSD sequence order (see module doc)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        ser_json_inf_nan="strings",
        use_enum_values=False,
    )

    xml_name: ClassVar[str | None] = None
    """The complexType name in the schema (None: the class name)."""
    xml_inline: ClassVar[bool] = False
    """True: the schema declares this type anonymously at each use (ref elements, `ID`)."""
    xml_any_after: ClassVar[str | None] = None
    """Open content: an `xs:any ##other` follows this element (envelope Header, Reply)."""
    xml_any_first: ClassVar[bool] = False
    xml_hints: ClassVar[dict[str, str]] = {}
    """Element names met in the wild that this class does not have, with what to use instead;
    readers keep such elements as extensions and add the hint to their warning."""
    """Open content at the very start (when `xml_any_after` is None)."""

    extensions: tuple[Extension, ...] = Field((), alias="#extensions")
    """Unknown elements and attributes, kept and written back (never part of the schema)."""

    @classmethod
    def type_name(cls) -> str:
        return cls.xml_name or cls.__name__


class CimDocument(CimModel):
    """The root of a profile document (`MeterReadings`, `GetMeterReadings`, ...).

    Its element name is `profile`; its namespace `http://iec.ch/TC57/2011/<profile>#` on output
    (cimmeter.xml.namespaces.profile_ns), whatever spelling it arrived in.
    """

    profile: ClassVar[str]


class Ref(CimModel):
    """A reference to a catalogue object: `<ReadingType ref="0.0.0..."/>` (digest 2.2.4).

    The element is required where it is used; its `ref` attribute is optional in the schema but
    empty references are reported by the business rules. A plain string converts to a Ref.
    """

    xml_inline: ClassVar[bool] = True
    code_kind: ClassVar[str | None] = None
    """Which code system `ref` holds (checked by cimmeter.message.validate)."""

    ref: Annotated[str | None, Attribute()] = Field(
        None, validation_alias=AliasChoices("ref", "@ref")
    )

    @model_validator(mode="before")
    @classmethod
    def _from_code(cls, data: Any) -> Any:
        return {"ref": data} if isinstance(data, str) else data


__all__ = [
    "Attribute",
    "Choice",
    "CimDocument",
    "CimEnum",
    "CimModel",
    "DateTime",
    "Extension",
    "Float",
    "Money",
    "QName",
    "ReadingValue",
    "Ref",
    "Required",
    "Text",
    "Wildcard",
    "XsdType",
    "format_decimal",
]
