"""The code systems of IEC 61968-9 Ed.2 (digest section 5).

Three small immutable value types, each a frozen dataclass of ints (hashable, compared by kind
and numbers), with strict parsing (digest 5.4), canonical text, names, descriptions and JSON.
Their tables are the CSV files in `codes/data/`.

ReadingType (18 fields, digest 5.1)::

    from cimmeter.codes import ReadingType
    rt = ReadingType.parse("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0")
    rt.measuring_period                 # 2
    rt.name_of("measuringPeriod")       # "fifteenMinute" (None for a number the table lacks)
    rt.describe()                       # "15-minute delta forward active energy, kWh"
    str(rt)                             # canonical text
    ReadingType.build(unit="Wh", multiplier="k", measuring_period="fifteenMinute",
                      accumulation="deltaData", flow_direction="forward",
                      commodity="electricitySecondaryMetered", measurement_kind="energy")
    ReadingType.named("fifteenMinuteDeltaForwardKWh")
    rt.to_dict() / rt.to_json()         # {"kind", "code", "fields": {cimName: {code, name}}, ...}

EndDeviceEventType / EndDeviceControlType (`type.domain.subDomain.eventOrAction`, 5.2)::

    from cimmeter.codes import EndDeviceControlType, EndDeviceEventType, named
    named.REMOTE_DISCONNECT             # EndDeviceControlType 3.31.0.23
    EndDeviceControlType.named("remoteDisconnect")       # the same, by id
    EndDeviceEventType.named("powerOff")                 # 3.26.0.85
    event = EndDeviceEventType.parse("0.26.0.85")        # type 0 is kept, never rewritten
    event.matches(named.POWER_OFF)      # True: domain, subDomain, eventOrAction compared
    event.matches("*.26.*.85")          # patterns with * fields
    event.identify()                    # the named codes it means (also other forms in use)
    named.REMOTE_DISCONNECT.outcome("processed")         # 3.31.0.68 (digest 4.7)
    EndDeviceEventType.parse("3.31.0.44").outcome_for(named.REMOTE_DISCONNECT)  # "processed"

ReadingQualityType (`systemId.category.subCategory`, 5.3; 2 = head-end, 3 = MDM)::

    named.MDM_ESTIMATED                 # 3.8.0; the VEE set of digest 5.3.4 is in `named`
    ReadingQualityType.build(system_id="MDM", category="validation", sub_category="zeroUsage")

Any code: `parse_any(text)` picks the system by field count. Words: `search("power off")`.
Errors: `CodeError` (malformed code, names the field), `UnknownNameError` (a name no table
holds, from `build`/`named`). Unknown numbers are kept and round-tripped (digest 5.4).
"""

from cimmeter.codes import named
from cimmeter.codes.base import CodeField, DottedCode
from cimmeter.codes.detect import AnyCode, parse_any
from cimmeter.codes.end_device_event_type import (
    EndDeviceCode,
    EndDeviceControlType,
    EndDeviceEventType,
    NamedEndDeviceCode,
    named_end_device_codes,
)
from cimmeter.codes.errors import CodeError, UnknownNameError
from cimmeter.codes.reading_quality_type import ReadingQualityType, named_quality_codes
from cimmeter.codes.reading_type import ReadingType, named_reading_types
from cimmeter.codes.search import SearchHit, search
from cimmeter.codes.tables import CodeRow, CodeTable

__all__ = [
    "AnyCode",
    "CodeError",
    "CodeField",
    "CodeRow",
    "CodeTable",
    "DottedCode",
    "EndDeviceCode",
    "EndDeviceControlType",
    "EndDeviceEventType",
    "NamedEndDeviceCode",
    "ReadingQualityType",
    "ReadingType",
    "SearchHit",
    "UnknownNameError",
    "named",
    "named_end_device_codes",
    "named_quality_codes",
    "named_reading_types",
    "parse_any",
    "search",
]
