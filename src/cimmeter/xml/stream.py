"""Streaming, columnar MeterReadings: read and write documents of any size in constant memory.

Reading (`read_meter_readings`, `iter_blocks`): the document is parsed by the safe `iterparse`
(no DTDs, bounded depth and size), one `MeterReading` at a time; each is turned into
`ReadingBlock`s (one per IntervalBlock, the Readings grouped by ReadingType into register
blocks) and then dropped from the tree. Texts leave the tree through compiled XPath calls and
become columns through numpy and a timestamp cache, so no Python object is made per reading
(DESIGN.md, "Readings are columns"); a block falls back to a per-reading path only when it
carries something unusual (extra attributes, a bad value, a comment inside a value...).

Input forms (digest 2.1.3, 6.1): a bare `MeterReadings` root; a generic envelope
(`RequestMessage`, `ResponseMessage`, `EventMessage`, `Message`, any accepted message
namespace); a typed wrapper (`CreatedMeterReadings`, `MeterReadingsResponseMessage`, ...); any
of these in a SOAP 1.1 or 1.2 Envelope; a gzip+base64 `Payload/Compressed` (digest 6.5). The
Header (it precedes the Payload) is available as `reader.header` before the first block.

Nothing is lost: per MeterReading, whatever is not a reading (Meter/UsagePoint names and
status, valuesInterval, EndDeviceEvents, PendingCalculation, isCoincidentTrigger, vendor
elements) is kept as XML (`MeterReadingChunk.xml`); rare per-reading attributes go to the
block's `extras`; the root catalogues (ReadingType, ReadingQualityType, EndDeviceEventType)
are kept as XML fragments (`reader.catalogues`).

Bad readings do not sink good ones (DESIGN rule 7): a non-numeric value, a timestamp without
zone, a missing timestamp or value, gives a `ReadingItemError` (line, element path, reason,
expected) and the reading is skipped. Input that is not well-formed or is hostile raises the
safe parser's errors. With `validate=True` the structure is checked against an XSD while
streaming (see `cimmeter.xml.stream_validate`).

Writing (`write_meter_readings`): blocks are serialized as they come, in schema element order
(digest 2.2.2, 3.1), values in their shortest round-trip form.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from lxml import etree

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import (
    NO_QUALITY,
    Float64Array,
    QualitySet,
    ReadingBlock,
)
from cimmeter.xml.datetimes import EXPECTED as EXPECTED_DATETIME
from cimmeter.xml.datetimes import DateTimeLexicalError, EpochConverter, has_fraction, parse_epoch
from cimmeter.xml.errors import XmlInputError, XmlSyntaxError
from cimmeter.xml.namespaces import (
    SOAP11_NS,
    SOAP12_NS,
    message_generation,
    profile_of,
    wrapper_of,
)
from cimmeter.xml.safe import DEFAULT_LIMITS, XmlLimits, iterparse

Source = bytes | str | Path | IO[bytes]

PROFILE = "MeterReadings"


class MeterReadingsStructureError(XmlInputError):
    """A document that is well-formed but is not a MeterReadings message in any accepted form."""


class StreamValidationError(XmlInputError):
    """The document does not follow the XSD it was validated against (line, path, expectation)."""


@dataclass(frozen=True, slots=True)
class ReadingItemError:
    """One reading (or block) that was skipped, and why (DESIGN rule 7)."""

    line: int | None
    path: str
    reason: str
    expected: str | None = None
    meter: ObjectRef | None = None
    usage_point: ObjectRef | None = None

    def one_line(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        wanted = f" (expected {self.expected})" if self.expected else ""
        return f"{where}{self.path}: {self.reason}{wanted}"


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """The 61968-100 Header of the message (digest 6.2), as far as it is given."""

    verb: str | None = None
    noun: str | None = None
    revision: str | None = None
    context: str | None = None
    timestamp: str | None = None
    source: str | None = None
    async_reply_flag: bool | None = None
    reply_address: str | None = None
    ack_required: bool | None = None
    user_id: str | None = None
    organization: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    comment: str | None = None
    properties: tuple[tuple[str, str | None], ...] = ()
    xml: bytes | None = None
    """The Header element as read (extension elements included)."""


@dataclass(frozen=True, slots=True)
class MeterReadingChunk:
    """The blocks of one MeterReading, and what else it carried."""

    index: int
    """Position of the MeterReading in the document, from 1."""
    line: int | None
    meter: ObjectRef | None
    usage_point: ObjectRef | None
    blocks: tuple[ReadingBlock, ...]
    errors: tuple[ReadingItemError, ...]
    xml: bytes | None
    """The MeterReading without its IntervalReadings and Readings, when it carries anything
    the blocks do not (events, status, valuesInterval, PendingCalculation, more names, vendor
    elements); None when the blocks say everything."""


@dataclass(slots=True)
class _Envelope:
    form: str = "bare"
    soap: str | None = None
    root: str | None = None
    header: MessageHeader | None = None
    reply_xml: bytes | None = None
    request_xml: bytes | None = None
    path_prefix: str = ""
    warnings: list[str] = field(default_factory=list)


# -- XPath programs, compiled once per profile namespace ------------------------------------

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_CHARS = frozenset("0123456789.+-eE")
_ONE_NUMBER = re.compile(rf"{_NUMBER}|NaN|[+-]?INF", re.ASCII)
EXPECTED_VALUE = "a decimal number as text, e.g. 12.345 (or NaN, INF, -INF)"


class _Programs:
    """Tags and the few compiled XPath expressions of one profile namespace (prefix `m`).

    libxml2's XPath costs ~0.1 us per node it visits and builds node sets, so the hot path uses
    it only for `count(*/*)`; texts come out through tag-filtered `iter` (C-level matching)."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        nsmap = {"m": ns}

        def xp(expr: str) -> etree.XPath:
            return etree.XPath(expr, namespaces=nsmap, smart_strings=False)

        t = self.tag
        self.interval_readings = t("IntervalReadings")
        self.time_stamp = t("timeStamp")
        self.value = t("value")
        self.reading_qualities = t("ReadingQualities")
        self.reading_quality_type = t("ReadingQualityType")
        self.reading_type_tag = t("ReadingType")
        self.grandchildren = xp("count(*/*)")
        self.quality_refs = xp("m:ReadingQualities/m:ReadingQualityType/@ref")
        self.plain_children = frozenset(
            t(x) for x in ("IntervalBlocks", "Meter", "UsagePoint", "Readings")
        )

    def tag(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"


_PROGRAMS: dict[str, _Programs] = {}


def _programs(ns: str) -> _Programs:
    found = _PROGRAMS.get(ns)
    if found is None:
        found = _PROGRAMS[ns] = _Programs(ns)
    return found


# -- the reader ------------------------------------------------------------------------------


class MeterReadingsReader:
    """One pass over a MeterReadings document; iterate `blocks()` or `meter_readings()` once.

    After (or during) the iteration: `header`, `form`, `warnings`, `errors` (capped at
    `max_errors`; `error_count` counts all), `catalogues`, `reading_count`.
    """

    def __init__(
        self,
        source: Source,
        *,
        validate: bool = False,
        schema: str | Path | None = None,
        parallel: bool | None = None,
        limits: XmlLimits = DEFAULT_LIMITS,
        max_errors: int = 10_000,
    ) -> None:
        self._source = source
        self._validate = validate
        self._schema = schema
        self._parallel = parallel
        self._limits = limits
        self._max_errors = max_errors
        self._env = _Envelope()
        self._epochs = EpochConverter()
        self._used = False
        self.errors: list[ReadingItemError] = []
        self.error_count = 0
        self.catalogues: list[bytes] = []
        self.reading_count = 0
        self.meter_reading_count = 0
        self.profile_namespace: str | None = None
        self._tree_root: Any = None

    # -- public view --------------------------------------------------------------------------

    @property
    def header(self) -> MessageHeader | None:
        return self._env.header

    @property
    def form(self) -> str:
        """`bare`, `envelope` (generic 61968-100) or `typed` (per-noun wrapper), `+soap11/12`."""
        return self._env.form + (f"+{self._env.soap}" if self._env.soap else "")

    @property
    def root(self) -> str | None:
        """Local name of the message element (`EventMessage`, `CreatedMeterReadings`...)."""
        return self._env.root

    @property
    def reply_xml(self) -> bytes | None:
        return self._env.reply_xml

    @property
    def request_xml(self) -> bytes | None:
        return self._env.request_xml

    @property
    def warnings(self) -> list[str]:
        return self._env.warnings

    def __iter__(self) -> Iterator[ReadingBlock]:
        return self.blocks()

    def blocks(self) -> Iterator[ReadingBlock]:
        for chunk in self.meter_readings():
            yield from chunk.blocks

    def meter_readings(self) -> Iterator[MeterReadingChunk]:
        if self._used:
            raise RuntimeError("a MeterReadingsReader is read once; make a new one")
        self._used = True
        if not self._validate:
            yield from self._parse(self._source, schema=None, profile_ns=None)
            return
        from cimmeter.xml import stream_validate

        plan = stream_validate.plan(self._source, self._schema, self._parallel, self._limits)
        done = False
        try:
            yield from self._parse(
                plan.source, schema=plan.inline_schema, profile_ns=plan.profile_namespace
            )
            done = True
        except XmlSyntaxError as exc:
            behind = stream_validate.schema_error_behind(exc)
            if behind is None:
                raise
            raise stream_validate.schema_error(behind, self._tree_root) from None
        finally:
            if not done:
                plan.close()  # stop a parallel validator when we stop early
        plan.finish()  # the parallel validator's verdict: raises when it found an error

    # -- parsing ------------------------------------------------------------------------------

    def _parse(
        self, source: Source, schema: etree.XMLSchema | None, profile_ns: str | None
    ) -> Iterator[MeterReadingChunk]:
        events = iterparse(
            source,
            events=("start", "end"),
            remove_comments=True,
            remove_pis=True,
            tag=(
                "{*}MeterReadings",
                "{*}MeterReading",
                "{*}Header",
                "{*}Reply",
                "{*}Request",
                "{*}Compressed",
            ),
            limits=self._limits,
            schema=schema,
        )
        programs: _Programs | None = None
        payload_root: Any = None
        found = False
        for event, el in events:
            if self._tree_root is None:
                self._tree_root = el.getroottree().getroot()
            tag = el.tag
            ns, _, local = tag[1:].partition("}") if tag[0] == "{" else ("", "", tag)
            if local == "MeterReading":
                if (
                    event == "end"
                    and programs is not None
                    and ns == programs.ns
                    and el.getparent() is payload_root
                ):
                    yield self._meter_reading(el, programs)
                    _drop_done(el)
                continue
            if payload_root is not None:
                # inside the payload: vendor elements that happen to share a name are content
                if el is payload_root and event == "end":
                    self._keep_catalogues(el, programs)
                    payload_root = None
                continue
            if event == "start":
                if local == "MeterReadings" and not found:
                    found = True
                    payload_root = el
                    programs = _programs(ns)
                    self._classify(el, ns)
                    if profile_ns is not None and ns != profile_ns:
                        raise StreamValidationError(
                            f"MeterReadings in namespace {ns!r} cannot be validated",
                            line=el.sourceline,
                            path=self._env.path_prefix + "/MeterReadings",
                            expected=f"the schema's namespace {profile_ns!r}",
                        )
                continue
            if local == "Header":
                self._read_header(el, ns)
            elif local == "Reply" and self._is_envelope_part(el, ns):
                self._env.reply_xml = etree.tostring(el)
            elif local == "Request" and self._is_envelope_part(el, ns):
                self._env.request_xml = etree.tostring(el)
            elif local == "Compressed" and not found and self._is_envelope_part(el, ns):
                found = True
                yield from self._compressed(el)
        if not found:
            raise MeterReadingsStructureError(
                "no MeterReadings payload in the document",
                expected="a MeterReadings root, or one in the Payload of a 61968-100 message",
            )

    def _meter_reading(self, mr: Any, programs: _Programs) -> MeterReadingChunk:
        self.meter_reading_count += 1
        extractor = _Extractor(self, mr, programs, self.meter_reading_count)
        chunk = extractor.run()
        for error in chunk.errors:
            self.error_count += 1
            if len(self.errors) < self._max_errors:
                self.errors.append(error)
        self.reading_count += sum(len(b) for b in chunk.blocks)
        return chunk

    def _compressed(self, el: Any) -> Iterator[MeterReadingChunk]:
        """Payload/Compressed: base64 of gzip (digest 6.5), read as a nested document."""
        try:
            data = base64.b64decode("".join(el.itertext()), validate=False)
            stream: Any = gzip.GzipFile(fileobj=io.BytesIO(data))
            stream.peek(1)
        except (binascii.Error, OSError, EOFError) as exc:
            raise MeterReadingsStructureError(
                f"Payload/Compressed is not base64 of gzip data: {exc}",
                line=el.sourceline,
                path=self._env.path_prefix + "/Compressed",
                expected="base64 text of a gzip-compressed MeterReadings document",
            ) from None
        self._classify_envelope(el)
        nested = MeterReadingsReader(
            stream,
            validate=self._validate,
            schema=self._schema,
            parallel=False,
            limits=self._limits,
            max_errors=self._max_errors,
        )
        header, env = self._env.header, self._env
        for chunk in nested.meter_readings():
            self.meter_reading_count += 1
            self.reading_count += sum(len(b) for b in chunk.blocks)
            for error in chunk.errors:
                self.error_count += 1
                if len(self.errors) < self._max_errors:
                    self.errors.append(error)
            yield chunk
        self.catalogues.extend(nested.catalogues)
        env.warnings.extend(nested.warnings)
        self.profile_namespace = nested.profile_namespace
        env.header = header

    def _classify(self, root: Any, ns: str) -> None:
        """Where the MeterReadings sits tells the form of the message (digest 2.1.3)."""
        self.profile_namespace = ns
        profile = profile_of(ns)
        if profile is None or profile.profile != PROFILE:
            self._env.warnings.append(
                f"MeterReadings in namespace {ns!r}, not a MeterReadings profile namespace; "
                "read as http://iec.ch/TC57/2011/MeterReadings#"
            )
        elif not profile.canonical:
            self._env.warnings.append(
                f"MeterReadings profile namespace {ns!r} read as the 2011 profile (digest 2.1.2)"
            )
        self._classify_envelope(root)

    def _classify_envelope(self, payload: Any) -> None:
        ancestors = list(payload.iterancestors())
        names = [etree.QName(a).localname for a in reversed(ancestors)]
        self._env.path_prefix = "".join(f"/{n}" for n in names)
        for a in ancestors:
            q = etree.QName(a)
            if q.namespace in (SOAP11_NS, SOAP12_NS):
                self._env.soap = "soap11" if q.namespace == SOAP11_NS else "soap12"
            elif q.localname != "Payload" and q.namespace:
                generation = message_generation(q.namespace)
                if generation is not None:
                    self._env.form, self._env.root = "envelope", q.localname
                    if generation.warning:
                        self._env.warnings.append(generation.warning)
                elif wrapper_of(q.namespace) is not None:
                    self._env.form, self._env.root = "typed", q.localname
        if ancestors and self._env.root is None:
            self._env.warnings.append(
                "MeterReadings inside " + self._env.path_prefix + ", not a known message form"
            )

    def _is_envelope_part(self, el: Any, ns: str) -> bool:
        return message_generation(ns) is not None or wrapper_of(ns) is not None

    def _read_header(self, el: Any, ns: str) -> None:
        if not self._is_envelope_part(el, ns) or self._env.header is not None:
            return  # a SOAP Header, or one inside a vendor element
        values: dict[str, str] = {}
        properties: list[tuple[str, str | None]] = []
        user: dict[str, str] = {}
        for child in el.iterchildren("{*}*"):
            local = etree.QName(child).localname
            if local == "Property":
                name = child.findtext("{*}Name") or ""
                properties.append((name, child.findtext("{*}Value")))
            elif local == "User":
                user = {etree.QName(c).localname: (c.text or "").strip() for c in child}
            else:
                values.setdefault(local, (child.text or "").strip())

        def flag(name: str) -> bool | None:
            text = values.get(name)
            return None if text is None else text in ("true", "1")

        self._env.header = MessageHeader(
            verb=values.get("Verb"),
            noun=values.get("Noun"),
            revision=values.get("Revision"),
            context=values.get("Context"),
            timestamp=values.get("Timestamp"),
            source=values.get("Source"),
            async_reply_flag=flag("AsyncReplyFlag"),
            reply_address=values.get("ReplyAddress"),
            ack_required=flag("AckRequired"),
            user_id=user.get("UserID"),
            organization=user.get("Organization"),
            message_id=values.get("MessageID"),
            correlation_id=values.get("CorrelationID"),
            comment=values.get("Comment"),
            properties=tuple(properties),
            xml=etree.tostring(el),
        )

    def _keep_catalogues(self, root: Any, programs: _Programs | None) -> None:
        mr_tag = programs.tag("MeterReading") if programs else None
        for child in root.iterchildren("{*}*"):
            if child.tag != mr_tag:
                self.catalogues.append(etree.tostring(child, with_tail=False))
        root.clear()


def _drop_done(mr: Any) -> None:
    """Free a MeterReading that was read, and the one before it (constant memory)."""
    mr.clear(keep_tail=False)
    previous = mr.getprevious()
    parent = mr.getparent()
    while previous is not None and previous.tag == mr.tag:
        parent.remove(previous)
        previous = mr.getprevious()


# -- one MeterReading --------------------------------------------------------------------------


class _Extractor:
    """Turns one complete MeterReading element into blocks (fast path) or per reading (slow)."""

    def __init__(
        self, reader: MeterReadingsReader, mr: Any, programs: _Programs, index: int
    ) -> None:
        self.reader = reader
        self.mr = mr
        self.p = programs
        self.index = index
        self.errors: list[ReadingItemError] = []
        self.path = f"{reader._env.path_prefix}/MeterReadings/MeterReading[{index}]"
        self.more = False
        """True when the MeterReading holds something the blocks do not say (kept as XML)."""
        self.meter, more_m = _object_ref(mr.find(programs.tag("Meter")))
        self.usage_point, more_u = _object_ref(mr.find(programs.tag("UsagePoint")))
        self.more = more_m or more_u

    def run(self) -> MeterReadingChunk:
        p = self.p
        blocks = [
            self._interval_block(ib, n)
            for n, ib in enumerate(self.mr.iterchildren(p.tag("IntervalBlocks")), 1)
        ]
        blocks.extend(self._register_blocks())
        xml = None
        if self.more or any(c.tag not in p.plain_children for c in self.mr):
            etree.strip_elements(
                self.mr, p.tag("IntervalReadings"), p.tag("Readings"), with_tail=True
            )
            xml = etree.tostring(self.mr, with_tail=False)
        return MeterReadingChunk(
            self.index,
            self.mr.sourceline,
            self.meter,
            self.usage_point,
            tuple(b for b in blocks if b is not None),
            tuple(self.errors),
            xml,
        )

    def error(self, el: Any, path: str, reason: str, expected: str | None = None) -> None:
        line = el.sourceline if el is not None else None
        self.errors.append(
            ReadingItemError(line, path, reason, expected, self.meter, self.usage_point)
        )

    # -- interval blocks ------------------------------------------------------------------------

    def _interval_block(self, ib: Any, n: int) -> ReadingBlock | None:
        p = self.p
        path = f"{self.path}/IntervalBlocks[{n}]"
        last = ib[len(ib) - 1] if len(ib) else None
        if last is None or last.tag != p.reading_type_tag:
            rt = ib.find(p.reading_type_tag)
            if rt is None:
                self.error(
                    ib,
                    path,
                    "IntervalBlock without ReadingType: its readings are skipped",
                    "a ReadingType ref after the IntervalReadings (digest 3.1)",
                )
                return None
            return self._slow_block(ib, path, (rt.get("ref") or "").strip())
        reading_type = (last.get("ref") or "").strip()
        # Fast path, for blocks of [IntervalReadings*, ReadingType] whose readings hold a
        # timeStamp, a value and plain quality refs. `iter` yields their texts interleaved in
        # document order; lengths, counts and the two lexical forms (a timestamp never reads as
        # a number, nor the reverse) show any reading that departs from that shape, and then
        # the block is read reading by reading. Comments and PIs are dropped by the parser,
        # so each text is one node.
        count = len(ib) - 1
        texts: list[str | None] = [e.text for e in ib.iter(p.time_stamp, p.value)]
        qualities = list(ib.iter(p.reading_qualities))
        if (
            len(texts) != 2 * count
            or int(p.grandchildren(ib)) != 2 * count + len(qualities)
            or None in texts
        ):
            return self._slow_block(ib, path, reading_type)
        ts_texts = cast(list[str], texts[0::2])
        epochs, bad_ts = self.reader._epochs.convert(ts_texts)
        if bad_ts:
            return self._slow_block(ib, path, reading_type)
        values, bad_values = _floats(cast(list[str], texts[1::2]))
        if bad_values:
            return self._slow_block(ib, path, reading_type)
        sets: list[QualitySet] = [NO_QUALITY]
        quality = np.zeros(count, dtype=np.int32)
        if qualities:
            seen: dict[QualitySet, int] = {NO_QUALITY: 0}
            by_reading: dict[Any, set[str]] = {}
            for rq in qualities:
                if len(rq) != 1 or rq[0].tag != p.reading_quality_type or rq.getparent() is None:
                    return self._slow_block(ib, path, reading_type)
                by_reading.setdefault(rq.getparent(), set()).add((rq[0].get("ref") or "").strip())
            for ir, codes in by_reading.items():
                if ir.tag != p.interval_readings:
                    return self._slow_block(ib, path, reading_type)
                key = tuple(sorted(codes))
                pos = seen.get(key)
                if pos is None:
                    pos = seen[key] = len(sets)
                    sets.append(key)
                quality[ib.index(ir)] = pos
        return ReadingBlock(
            reading_type,
            epochs,
            values,
            quality,
            tuple(sets),
            meter=self.meter,
            usage_point=self.usage_point,
            kind="interval",
        )

    def _slow_block(self, ib: Any, path: str, reading_type: str) -> ReadingBlock:
        self.more = True  # e.g. a PendingCalculation; the XML keeps what the rows do not
        rows = _Rows()
        for i, ir in enumerate(ib.iterchildren(self.p.tag("IntervalReadings")), 1):
            self._reading(ir, f"{path}/IntervalReadings[{i}]", rows, register=False)
        return rows.block(reading_type, self.meter, self.usage_point, "interval")

    # -- registers --------------------------------------------------------------------------------

    def _register_blocks(self) -> list[ReadingBlock]:
        p = self.p
        groups: dict[str, _Rows] = {}
        for i, reading in enumerate(self.mr.iterchildren(p.tag("Readings")), 1):
            self.more = self.more or reading.find(p.tag("timePeriod")) is not None
            path = f"{self.path}/Readings[{i}]"
            ref = reading.find(p.tag("ReadingType"))
            if ref is None:
                self.error(
                    reading,
                    path,
                    "Reading without ReadingType: skipped",
                    "a ReadingType ref after the value (digest 3.1)",
                )
                continue
            rows = groups.setdefault((ref.get("ref") or "").strip(), _Rows())
            self._reading(reading, path, rows, register=True)
        return [
            rows.block(rt, self.meter, self.usage_point, "register") for rt, rows in groups.items()
        ]

    # -- one reading, the careful way -------------------------------------------------------------

    def _reading(self, el: Any, path: str, rows: _Rows, *, register: bool) -> None:
        p = self.p
        ts_el = el.find(p.tag("timeStamp"))
        v_el = el.find(p.tag("value"))
        if ts_el is None:
            self.error(
                el,
                path,
                "reading without timeStamp: skipped",
                "a timeStamp (the end of the interval the value belongs to)",
            )
            return
        ts_text = "".join(ts_el.itertext())
        try:
            epoch = parse_epoch(ts_text)
        except DateTimeLexicalError as exc:
            self.error(
                ts_el,
                path + "/timeStamp",
                f"{exc.reason} ({ts_text.strip()!r}): skipped",
                EXPECTED_DATETIME,
            )
            return
        if v_el is None:
            self.error(el, path, "reading without value: skipped", EXPECTED_VALUE)
            return
        v_text = "".join(v_el.itertext()).strip()
        value = _one_float(v_text)
        if value is None:
            self.error(
                v_el, path + "/value", f"value {v_text!r} is not a number: skipped", EXPECTED_VALUE
            )
            return
        extras: dict[str, str] = {}
        if has_fraction(ts_text):
            extras["timeStamp"] = ts_text.strip()
        codes = {r.strip() for r in p.quality_refs(el)}
        detailed = False
        other: list[bytes] = []
        for child in el.iterchildren():
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            local = etree.QName(child).localname if child.tag.startswith("{" + p.ns) else None
            if local in ("timeStamp", "value") or (register and local == "ReadingType"):
                continue
            if local == "ReadingQualities":
                if len(child) != 1 or child.attrib:
                    detailed = True
            elif local in ("reportedDateTime", "source", "reason") and len(child) == 0:
                extras[local] = (child.text or "").strip()
            else:
                other.append(etree.tostring(child, with_tail=False))
        if detailed:
            quals = el.iterchildren(p.tag("ReadingQualities"))
            extras["ReadingQualities"] = b"".join(
                etree.tostring(q, with_tail=False) for q in quals
            ).decode()
        if other:
            extras["xml"] = b"".join(other).decode()
        rows.add(epoch, value, tuple(sorted(codes)), extras)


class _Rows:
    """Readings gathered one by one (slow path), then made a block."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.values: list[float] = []
        self.qualities: list[QualitySet] = []
        self.extras: dict[int, dict[str, str]] = {}

    def add(self, epoch: int, value: float, codes: QualitySet, extras: dict[str, str]) -> None:
        if extras:
            self.extras[len(self.epochs)] = extras
        self.epochs.append(epoch)
        self.values.append(value)
        self.qualities.append(codes)

    def block(
        self,
        reading_type: str,
        meter: ObjectRef | None,
        usage_point: ObjectRef | None,
        kind: Any,
    ) -> ReadingBlock:
        # one `source` shared by every reading is the block's source, not a per-row extra
        sources = {e.get("source") for e in self.extras.values()}
        source = None
        if len(sources) == 1 and len(self.extras) == len(self.epochs):
            (only,) = sources
            if only is not None:
                source = only
                for e in self.extras.values():
                    del e["source"]
                self.extras = {i: e for i, e in self.extras.items() if e}
        block = ReadingBlock.build(
            reading_type,
            self.epochs,
            self.values,
            self.qualities,
            meter=meter,
            usage_point=usage_point,
            kind=kind,
            source=source,
        )
        block.extras.update(self.extras)
        return block


# -- helpers -----------------------------------------------------------------------------------


def _floats(texts: Sequence[str]) -> tuple[Float64Array, list[int]]:
    """Float64 column of decimal texts; the indexes of texts that are not numbers."""
    # only digits, signs, points and exponents: numpy's conversion (C) agrees with xs:decimal
    # there, and rejects the odd ones ("1e", "."), which then go one by one
    if set("".join(texts)) <= _NUMBER_CHARS:
        try:
            return np.array(texts, dtype=np.float64), []
        except ValueError:
            pass
    out = np.empty(len(texts), dtype=np.float64)
    bad: list[int] = []
    for i, text in enumerate(texts):
        value = _one_float(text.strip())
        if value is None:
            bad.append(i)
            out[i] = np.nan
        else:
            out[i] = value
    return out, bad


def _one_float(text: str) -> float | None:
    if not _ONE_NUMBER.fullmatch(text):
        return None
    return float(text.replace("INF", "inf"))


_PLAIN_REF_CHILDREN = frozenset({"mRID", "Names", "serialNumber"})


def _object_ref(el: Any) -> tuple[ObjectRef | None, bool]:
    """Meter / UsagePoint: mRID, else the first Name with its NameType (digest 2.2.3); and
    whether the element says more than the `ObjectRef` holds (status, more names...)."""
    if el is None:
        return None, False
    mrid = name = name_type = authority = serial = None
    more = bool(el.attrib)
    names = 0
    for child in el.iterchildren():
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        more = more or local not in _PLAIN_REF_CHILDREN or len(child.attrib) > 0
        if local == "mRID":
            mrid = (child.text or "").strip() or None
        elif local == "serialNumber":  # Connexo extension (digest 3.1)
            serial = (child.text or "").strip() or None
        elif local == "Names":
            names += 1
            if names > 1:
                more = True
                continue
            name = (child.findtext("{*}name") or "").strip() or None
            name_type_el = child.find("{*}NameType")
            more = more or len(child) > 1 + (name_type_el is not None)
            if name_type_el is not None:
                name_type = (name_type_el.findtext("{*}name") or "").strip() or None
                more = more or len(name_type_el) > 1
    if not (mrid or name or serial):
        return None, True
    return ObjectRef(mrid, name, name_type, authority, serial), more


# -- public entry points -----------------------------------------------------------------------


def read_meter_readings(
    source: Source,
    *,
    validate: bool = False,
    schema: str | Path | None = None,
    parallel: bool | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
    max_errors: int = 10_000,
) -> MeterReadingsReader:
    """A reader over `source` (file path, bytes or binary stream); iterate it for blocks.

    `validate`: check the structure against `schema` (a MeterReadings XSD path; default ours)
    while streaming; `parallel` (default: when two CPUs are there and the input is a file or
    bytes) runs that check in a second process over the same bytes, and the iteration raises
    `StreamValidationError` at its end when it failed.
    """
    return MeterReadingsReader(
        source,
        validate=validate,
        schema=schema,
        parallel=parallel,
        limits=limits,
        max_errors=max_errors,
    )


def iter_blocks(source: Source, **options: Any) -> Iterator[ReadingBlock]:
    """The blocks of a MeterReadings document (see `read_meter_readings` for the options)."""
    return read_meter_readings(source, **options).blocks()


def header_datetime(header: MessageHeader) -> datetime | None:
    """The Header Timestamp as an aware UTC datetime (None when absent or without zone)."""
    if not header.timestamp:
        return None
    try:
        epoch = parse_epoch(header.timestamp)
    except DateTimeLexicalError:
        return None
    from datetime import UTC

    return datetime.fromtimestamp(epoch, UTC)


__all__ = [
    "MessageHeader",
    "MeterReadingChunk",
    "MeterReadingsReader",
    "MeterReadingsStructureError",
    "ReadingItemError",
    "StreamValidationError",
    "header_datetime",
    "iter_blocks",
    "read_meter_readings",
]
