"""Write huge MeterReadings from blocks, in constant memory (digest 3.1, 2.2.2, 6.1).

Blocks are grouped into one `MeterReading` per run of consecutive blocks with the same meter
and usage point, and written as text as they come, in schema element order: `IntervalBlocks`
(readings, then the `ReadingType` ref after them), `Meter`, `Readings` (value before its
`ReadingType`), `UsagePoint`. Per reading: `reportedDateTime?, source?, timeStamp, value,
ReadingQualities*, timePeriod?`. Values are written in Python's shortest round-trip form, so
parsing them back gives the same float64. Every text that is not a number or timestamp made
here is escaped. An optional 61968-100 envelope (Header, then the Payload) wraps the document.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from lxml import etree

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.xml.datetimes import format_epochs
from cimmeter.xml.namespaces import MESSAGE_NS, profile_ns
from cimmeter.xml.safe import make_parser
from cimmeter.xml.stream import MessageHeader

PROFILE_NS = profile_ns("MeterReadings")

# which 61968-100 message carries a verb (digest 6.1, 6.6): past tense -> event, reply -> response
_MESSAGE_OF_VERB = {
    **dict.fromkeys(
        ("created", "changed", "canceled", "closed", "deleted", "executed"), "EventMessage"
    ),
    "reply": "ResponseMessage",
    **dict.fromkeys(
        ("create", "change", "cancel", "close", "delete", "execute", "get"), "RequestMessage"
    ),
}

# Header children in schema order (digest 6.2), MessageHeader field -> element
_HEADER_FIELDS = (
    ("verb", "Verb"),
    ("noun", "Noun"),
    ("revision", "Revision"),
    ("context", "Context"),
    ("timestamp", "Timestamp"),
    ("source", "Source"),
    ("async_reply_flag", "AsyncReplyFlag"),
    ("reply_address", "ReplyAddress"),
    ("ack_required", "AckRequired"),
    ("user", "User"),
    ("message_id", "MessageID"),
    ("correlation_id", "CorrelationID"),
    ("comment", "Comment"),
)


def _text(value: str) -> str:
    return escape(value, {"\r": "&#13;"})


def _value_text(value: float) -> str:
    text = repr(value)
    return {"nan": "NaN", "inf": "INF", "-inf": "-INF"}.get(text, text)


def _object_ref(tag: str, ref: ObjectRef) -> str:
    parts = [f"<m:{tag}>"]
    if ref.mrid:
        parts.append(f"<m:mRID>{_text(ref.mrid)}</m:mRID>")
    if ref.name:
        parts.append(f"<m:Names><m:name>{_text(ref.name)}</m:name>")
        if ref.name_type:
            parts.append(f"<m:NameType><m:name>{_text(ref.name_type)}</m:name>")
            if ref.name_type_authority:
                parts.append(
                    "<m:NameTypeAuthority>"
                    f"<m:name>{_text(ref.name_type_authority)}</m:name></m:NameTypeAuthority>"
                )
            parts.append("</m:NameType>")
        parts.append("</m:Names>")
    parts.append(f"</m:{tag}>")
    return "".join(parts)


def _qualities(block: ReadingBlock) -> list[str]:
    return [
        "".join(
            f"<m:ReadingQualities><m:ReadingQualityType ref={quoteattr(code)}/>"
            "</m:ReadingQualities>"
            for code in codes
        )
        for codes in block.quality_sets
    ]


def _readings(block: ReadingBlock, element: str) -> Iterator[str]:
    """The readings of a block; `element` is `IntervalReadings` or `Readings`."""
    stamps = format_epochs(block.timestamps)
    if np.isfinite(block.values).all():
        values: Iterable[str] = map(repr, block.values.tolist())  # shortest round-trip form
    else:
        values = map(_value_text, block.values.tolist())
    quality_xml = _qualities(block)
    rt_ref = quoteattr(block.reading_type)
    source = f"<m:source>{_text(block.source)}</m:source>" if block.source else ""
    register = element == "Readings"
    if not block.extras:
        # the usual block: one string for all its readings (no generator step per reading)
        start = f"<m:{element}>{source}<m:timeStamp>"
        end = (f"<m:ReadingType ref={rt_ref}/>" if register else "") + f"</m:{element}>\n"
        if len(quality_xml) == 1:
            yield "".join(
                [
                    f"{start}{stamp}</m:timeStamp><m:value>{value}</m:value>{end}"
                    for stamp, value in zip(stamps, values, strict=True)
                ]
            )
        else:
            yield "".join(
                [
                    f"{start}{stamp}</m:timeStamp><m:value>{value}</m:value>{quality_xml[q]}{end}"
                    for stamp, value, q in zip(stamps, values, block.quality.tolist(), strict=True)
                ]
            )
        return
    for i, (stamp, value, q) in enumerate(zip(stamps, values, block.quality.tolist(), strict=True)):
        extras = block.extras.get(i)
        if extras is None:
            yield (
                f"<m:{element}>{source}<m:timeStamp>{stamp}</m:timeStamp>"
                f"<m:value>{value}</m:value>{quality_xml[q]}"
                + (f"<m:ReadingType ref={rt_ref}/>" if register else "")
                + f"</m:{element}>\n"
            )
            continue
        head = []
        if register and "reason" in extras:
            head.append(f"<m:reason>{_text(extras['reason'])}</m:reason>")
        if "reportedDateTime" in extras:
            head.append(
                f"<m:reportedDateTime>{_text(extras['reportedDateTime'])}</m:reportedDateTime>"
            )
        if "source" in extras:
            head.append(f"<m:source>{_text(extras['source'])}</m:source>")
        elif source:
            head.append(source)
        stamp_text = _text(extras.get("timeStamp", stamp))
        qualities = extras.get("ReadingQualities", quality_xml[q])
        tail = extras.get("timePeriod", "") + extras.get("xml", "")
        yield (
            f"<m:{element}>{''.join(head)}<m:timeStamp>{stamp_text}</m:timeStamp>"
            f"<m:value>{value}</m:value>{qualities}"
            + (f"<m:ReadingType ref={rt_ref}/>" if register else "")
            + f"{tail}</m:{element}>\n"
        )


def _meter_reading(blocks: list[ReadingBlock]) -> Iterator[str]:
    first = blocks[0]
    yield "<m:MeterReading>\n"
    for block in blocks:
        if block.kind == "interval":
            yield "<m:IntervalBlocks>\n"
            yield from _readings(block, "IntervalReadings")
            yield f"<m:ReadingType ref={quoteattr(block.reading_type)}/></m:IntervalBlocks>\n"
    if first.meter is not None:
        yield _object_ref("Meter", first.meter)
    for block in blocks:
        if block.kind == "register":
            yield from _readings(block, "Readings")
    if first.usage_point is not None:
        yield _object_ref("UsagePoint", first.usage_point)
    yield "</m:MeterReading>\n"


def _header_xml(header: MessageHeader) -> str:
    parts = ["<msg:Header>"]
    for field_name, element in _HEADER_FIELDS:
        if field_name == "user":
            if header.user_id:
                parts.append(f"<msg:User><msg:UserID>{_text(header.user_id)}</msg:UserID>")
                if header.organization:
                    parts.append(
                        f"<msg:Organization>{_text(header.organization)}</msg:Organization>"
                    )
                parts.append("</msg:User>")
            continue
        value = getattr(header, field_name)
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else _text(str(value))
        parts.append(f"<msg:{element}>{text}</msg:{element}>")
    for name, prop_value in header.properties:
        parts.append(f"<msg:Property><msg:Name>{_text(name)}</msg:Name>")
        if prop_value is not None:
            parts.append(f"<msg:Value>{_text(prop_value)}</msg:Value>")
        parts.append("</msg:Property>")
    parts.append("</msg:Header>")
    return "".join(parts)


def _document(
    blocks: Iterable[ReadingBlock], header: MessageHeader | None, catalogues: Iterable[bytes]
) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    message = None
    if header is not None:
        message = _MESSAGE_OF_VERB.get((header.verb or "").lower(), "EventMessage")
        yield f'<msg:{message} xmlns:msg="{MESSAGE_NS}">{_header_xml(header)}'
        if message == "ResponseMessage":
            yield "<msg:Reply><msg:Result>OK</msg:Result></msg:Reply>"
        yield "<msg:Payload>\n"
    yield f'<m:MeterReadings xmlns:m="{PROFILE_NS}">\n'
    # EndDeviceEventType precedes the MeterReading elements, the other catalogues follow them
    before: list[bytes] = []
    after: list[bytes] = []
    for fragment in catalogues:
        local = etree.QName(etree.fromstring(fragment, make_parser())).localname
        (before if local == "EndDeviceEventType" else after).append(fragment)
    yield from (f.decode() for f in before)
    key = lambda b: (b.meter, b.usage_point)  # noqa: E731 - grouping key
    for _, group in itertools.groupby(blocks, key=key):
        yield from _meter_reading(list(group))
    yield from (f.decode() for f in after)
    yield "</m:MeterReadings>\n"
    if message is not None:
        yield f"</msg:Payload></msg:{message}>\n"


def write_meter_readings(
    target: str | Path | IO[bytes],
    blocks: Iterable[ReadingBlock],
    *,
    header: MessageHeader | None = None,
    catalogues: Iterable[bytes] = (),
) -> int:
    """Write a MeterReadings document (in an envelope when `header` is given); bytes written.

    `catalogues`: root catalogue elements (ReadingQualityType, ReadingType) as XML fragments,
    e.g. `reader.catalogues`; they follow the MeterReading elements (digest 3.1 order)."""
    if isinstance(target, str | Path):
        with open(target, "wb") as out:
            return _write(out, blocks, header, catalogues)
    return _write(target, blocks, header, catalogues)


def _write(
    out: IO[bytes],
    blocks: Iterable[ReadingBlock],
    header: MessageHeader | None,
    catalogues: Iterable[bytes],
) -> int:
    written = 0
    buffer: list[str] = []
    size = 0
    for piece in _document(blocks, header, catalogues):
        buffer.append(piece)
        size += len(piece)
        if size >= 1 << 16:
            written += out.write("".join(buffer).encode())
            buffer.clear()
            size = 0
    written += out.write("".join(buffer).encode())
    return written


def meter_readings_element(blocks: Iterable[ReadingBlock]) -> bytes:
    """One `MeterReadings` element (no XML declaration, no envelope) holding `blocks`, grouped
    into one MeterReading per (meter, usage point) in first-seen order, as
    `cimmeter.model.meter_readings.blocks_to_meter_readings` groups them. The columnar way to
    put readings in a reply's Payload without building a model per reading."""
    groups: dict[tuple[ObjectRef | None, ObjectRef | None], list[ReadingBlock]] = {}
    for block in blocks:
        groups.setdefault((block.meter, block.usage_point), []).append(block)
    parts = [f'<m:MeterReadings xmlns:m="{PROFILE_NS}">']
    for group in groups.values():
        parts.extend(_meter_reading(group))
    parts.append("</m:MeterReadings>")
    return "".join(parts).encode()


def meter_readings_bytes(
    blocks: Iterable[ReadingBlock],
    *,
    header: MessageHeader | None = None,
    catalogues: Iterable[bytes] = (),
) -> bytes:
    """The document as bytes (small messages, tests)."""
    return "".join(_document(blocks, header, catalogues)).encode()
