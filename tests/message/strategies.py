"""Hypothesis strategies derived from the model declarations (the codec's own plans).

`model_strategy(cls)` builds any CimModel: every soft-required element is present (so that the
XML is schema-valid), choices get at most one member, depth is bounded. `message_strategy()`
builds messages of every kind for every registered noun (the registry drives everything: a new
noun is covered without touching this file).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from cimmeter.message.envelope import (
    EventMessage,
    FaultMessage,
    Header,
    Message,
    Payload,
    Request,
    RequestMessage,
    ResponseMessage,
)
from cimmeter.message.registry import REGISTRY, NounEntry
from cimmeter.message.verbs import TYPED_EVENT_OPERATIONS, TYPED_REQUEST_OPERATIONS, Verb
from cimmeter.model.base import CimDocument, CimModel, Extension
from cimmeter.xml import codec

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]
)
# A small alphabet keeps generation fast; it still has markup, non-ASCII and spaces.
TEXT = st.text(st.sampled_from("aZ09 <&>\"'é€𝄞\u00a0-_.:/"), max_size=5)
DATETIMES = st.datetimes(
    min_value=__import__("datetime").datetime(1990, 1, 1),
    max_value=__import__("datetime").datetime(2090, 1, 1),
    timezones=ZONES,
)
DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
TIMES = st.times(timezones=st.none() | ZONES)  # xs:time: a time of day, with or without zone
DECIMALS = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False)

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    codec.STRING.xsd: TEXT,
    codec.BOOLEAN.xsd: st.booleans(),
    codec.INTEGER.xsd: st.integers(-(10**12), 10**12),
    codec.FLOAT.xsd: st.floats(allow_nan=False, allow_infinity=False, width=32),
    codec.DECIMAL.xsd: DECIMALS,
    codec.DATETIME.xsd: DATETIMES,
    codec.DATE.xsd: DATES,
    codec.TIME.xsd: TIMES,
    codec.QNAME.xsd: st.sampled_from(["{urn:example:codes}E17", "local"]),
}
READING_VALUES = st.one_of(DECIMALS, st.sampled_from(["ON", "1e3", "+7", "n/a"]))
VENDOR = '<n0:vendor xmlns:n0="urn:vendor">v</n0:vendor>'


def _scalar(fp: codec.FieldPlan) -> st.SearchStrategy[Any]:
    assert fp.scalar is not None
    if fp.scalar.enum is not None:
        return st.sampled_from(list(fp.scalar.enum))
    if fp.scalar is codec.READING_VALUE:
        return READING_VALUES
    if fp.kind == "text":
        return TEXT.filter(bool)  # empty text content reads back as None
    return SCALARS[fp.scalar.xsd]


@st.composite
def _extensions(draw: st.DrawFn, cls: type[CimModel], present: list[str]) -> tuple[Extension, ...]:
    plan = codec.plan_of(cls)
    if plan.text is not None or draw(st.integers(0, 5)) != 0:
        return ()
    after = draw(st.sampled_from([None, *present]))
    return (Extension(attribute="{urn:vendor}a", value="1"), Extension(after=after, xml=VENDOR))


@st.composite
def model_strategy(
    draw: st.DrawFn, cls: type[CimModel], depth: int = 0, extensions: bool = False
) -> CimModel:
    plan = codec.plan_of(cls)
    values: dict[str, Any] = {}
    choices: dict[str, str] = {}
    for fp in plan.fields:
        if fp.choice is not None:
            if fp.choice not in choices:
                group = [f.name for f in plan.fields if f.choice == fp.choice]
                choices[fp.choice] = draw(st.sampled_from([None, *group]))
            if choices[fp.choice] != fp.name:
                continue
        if fp.kind == "wildcard":
            continue
        if fp.model is not None:
            item: st.SearchStrategy[Any] = model_strategy(fp.model, depth + 1, extensions)
        else:
            item = _scalar(fp)
        need = fp.required or fp.choice is not None
        if depth > 2 and not need:
            continue
        if fp.many:
            values[fp.name] = tuple(draw(st.lists(item, min_size=1 if need else 0, max_size=2)))
        elif need or draw(st.booleans()):
            values[fp.name] = draw(item)
    if extensions:
        present = [
            fp.xml
            for fp in plan.fields
            if fp.kind == "element" and values.get(fp.name) not in (None, ())
        ]
        values["extensions"] = draw(_extensions(cls, present))
    return cls.model_validate(values)


def document_strategy(cls: type[CimDocument], extensions: bool = False) -> st.SearchStrategy[Any]:
    return model_strategy(cls, 0, extensions)


def _header(verb: Verb, noun: str) -> st.SearchStrategy[Header]:
    return model_strategy(Header, 1).map(
        lambda h: h.model_copy(update={"verb": verb, "noun": noun})
    )


@st.composite
def messages_of(draw: st.DrawFn, entry: NounEntry, extensions: bool = False) -> Message:
    """One message of a noun: a request, event, response (possibly a Get) or a fault."""
    doc = draw(document_strategy(entry.payload, extensions))
    kinds = ["create", "event", "response", "fault"] + (["get"] if entry.gettable else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "create":
        verb = draw(st.sampled_from(TYPED_REQUEST_OPERATIONS))
        request = draw(st.none() | model_strategy(Request, 1))
        return RequestMessage(
            header=draw(_header(verb, entry.noun)), request=request, payload=Payload(document=doc)
        )
    if kind == "event":
        verb = draw(st.sampled_from(TYPED_EVENT_OPERATIONS))
        return EventMessage(header=draw(_header(verb, entry.noun)), payload=Payload(document=doc))
    if kind == "response":
        reply = draw(model_strategy(ResponseMessage.model_fields["reply"].annotation, 1))  # type: ignore[arg-type]
        return ResponseMessage(
            header=draw(_header(Verb.reply, entry.noun)),
            reply=reply,
            payload=Payload(document=doc, format=draw(st.none() | st.just("XML"))),
        )
    if kind == "fault":
        return FaultMessage(
            reply=draw(model_strategy(FaultMessage.model_fields["reply"].annotation, 1))
        )  # type: ignore[arg-type]
    request = draw(model_strategy(Request, 1))
    if entry.query is not None:
        request = request.model_copy(
            update={"query": draw(document_strategy(entry.query, extensions))}
        )
    return RequestMessage(header=draw(_header(Verb.get, entry.noun)), request=request)


ENTRIES = list(REGISTRY)


def any_message(extensions: bool = False) -> st.SearchStrategy[tuple[NounEntry, Message]]:
    return st.sampled_from(ENTRIES).flatmap(
        lambda e: messages_of(e, extensions).map(lambda m: (e, m))
    )


def any_document(extensions: bool = False) -> st.SearchStrategy[CimDocument]:
    docs = [e.payload for e in ENTRIES] + [e.query for e in ENTRIES if e.query is not None]
    return st.sampled_from(docs).flatmap(lambda d: document_strategy(d, extensions))


__all__ = [
    "Decimal",
    "any_document",
    "any_message",
    "document_strategy",
    "messages_of",
    "model_strategy",
]
