"""Which code system a dotted text belongs to, by its field count (18, 4 or 3; digest 5.4)."""

from __future__ import annotations

from typing import Literal

from cimmeter.codes.end_device_event_type import (
    EndDeviceControlType,
    EndDeviceEventType,
    kind_for,
)
from cimmeter.codes.errors import CodeError
from cimmeter.codes.reading_quality_type import ReadingQualityType
from cimmeter.codes.reading_type import ReadingType

AnyCode = ReadingType | EndDeviceEventType | EndDeviceControlType | ReadingQualityType
EndDeviceKind = Literal["event", "control"]


def parse_any(text: str, *, end_device: EndDeviceKind | None = None) -> AnyCode:
    """Parse a ReadingType (18 fields), an EndDevice code (4) or a ReadingQualityType (3).

    A 4-field code is an EndDeviceControlType when its eventOrAction is a command verb
    (Disconnect, Reset, ...) and an EndDeviceEventType otherwise, unless `end_device` says.
    """
    if not isinstance(text, str) or not text:
        raise CodeError(text, "expected a dotted code of 18, 4 or 3 fields")
    count = text.count(".") + 1
    if count == 18:
        return ReadingType.parse(text)
    if count == 3:
        return ReadingQualityType.parse(text)
    if count == 4:
        if end_device == "event":
            return EndDeviceEventType.parse(text)
        if end_device == "control":
            return EndDeviceControlType.parse(text)
        code = EndDeviceEventType.parse(text)
        return kind_for(code)(*code.values)
    raise CodeError(
        text,
        f"expected 18 (ReadingType), 4 (EndDeviceEventType/ControlType) or 3 "
        f"(ReadingQualityType) dot-separated fields, found {count}",
    )
