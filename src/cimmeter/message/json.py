"""The JSON form of every message and document (digest 6.10; an extension: no edition of
61968-100 defines a normative JSON binding).

It mirrors the XML element names and loses nothing either way (XML -> JSON -> XML gives the
same infoset):

- a message is an object with `messageKind` ("RequestMessage", "ResponseMessage",
  "EventMessage", "FaultMessage": JSON has no root element name) and the XML children of its
  root: `Header`, `Request`, `Reply`, `Payload`;
- a bare profile document is `{"MeterReadings": {...}}`, keyed by its root element name; so is
  the document inside Payload, Request (the Get query) and an OperationSet Operation;
- every element that may repeat (maxOccurs > 1) is always an array, even with one item;
- a ref element is `{"ref": "0.0.2..."}` (`@ref` is accepted on input); an envelope `ID` is
  `{"value": "...", "kind": "uuid", ...}`;
- date-times are RFC 3339 strings with their offset; reading values and Money are strings
  (lossless decimals); booleans are JSON booleans; xs:float INF/NaN are the strings
  "Infinity"/"NaN";
- elements the models do not know travel as `"#extensions": [{"after": ..., "xml": ...}]`.

`json_schema()` gives the JSON Schema of this form, generated from the same models.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from cimmeter.message.envelope import MESSAGE_CLASSES, Message
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import KIND_OF_VERB, VERBS, Verb
from cimmeter.model.base import CimDocument
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.issues import DocumentError, Issue

KIND_KEY = "messageKind"  # digest 6.10 (M): the recommended JSON form


class JsonInputError(XmlInputError):
    """JSON that is not a message or document of this form (what, where, what was expected)."""


def to_json(obj: Message | CimDocument) -> dict[str, Any]:
    """The JSON form of a message or a bare document, as plain Python data."""
    data = obj.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(obj, CimDocument):
        return {obj.profile: data}
    return {KIND_KEY: obj.kind, **data}


def dumps(obj: Message | CimDocument, *, indent: int | None = 2) -> str:
    return json.dumps(to_json(obj), indent=indent, ensure_ascii=False)


def _guess_kind(data: dict[str, Any]) -> str:
    """The message kind of JSON without `messageKind`: by its parts, else by its verb."""
    if "Reply" in data:
        return "ResponseMessage" if "Header" in data else "FaultMessage"
    if "Request" in data:
        return "RequestMessage"
    header = data.get("Header")
    verb = header.get("Verb") if isinstance(header, dict) else None
    if isinstance(verb, str) and verb in Verb.__members__:
        return KIND_OF_VERB[VERBS[Verb(verb)].kind]
    return "EventMessage"


def from_json(data: Any) -> Message | CimDocument:
    """A message or document from its JSON form; `DocumentError` lists every problem."""
    if not isinstance(data, dict):
        raise JsonInputError(
            f"expected a JSON object, got {type(data).__name__}",
            path="/",
            expected="a message object or {profile: document}",
        )
    cls: type[BaseModel]
    if KIND_KEY in data or "Header" in data or "Reply" in data:
        kind = str(data.get(KIND_KEY) or _guess_kind(data))
        message_cls = MESSAGE_CLASSES.get(kind)  # type: ignore[call-overload]
        if message_cls is None:
            raise JsonInputError(
                f"unknown messageKind {kind!r}",
                path=f"/{KIND_KEY}",
                expected=", ".join(MESSAGE_CLASSES),
            )
        cls, body, root = message_cls, {k: v for k, v in data.items() if k != KIND_KEY}, kind
    else:
        if len(data) != 1:
            raise JsonInputError(
                f"a document is one key, found {len(data)}: {', '.join(map(str, data))}",
                path="/",
                expected="{profile: document}, or a message with messageKind",
            )
        ((root, body),) = data.items()
        found = REGISTRY.document_class("", root)
        if found is None:
            raise JsonInputError(
                f"unknown document {root!r}",
                path=f"/{root}",
                expected="a registered profile such as MeterReadings",
            )
        cls = found[0]
    try:
        result = cls.model_validate(body)
    except ValidationError as exc:
        raise DocumentError(_issues(exc, root)) from None
    assert isinstance(result, Message | CimDocument)
    return result


def loads(text: str | bytes) -> Message | CimDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonInputError(
            f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        ) from None
    return from_json(data)


def _issues(exc: ValidationError, root: str) -> list[Issue]:
    issues = []
    for error in exc.errors():
        path = "/" + "/".join([root, *(str(p) for p in error["loc"])])
        issues.append(Issue("error", error["msg"], path, None, None))
    return issues


# -- JSON Schema ---------------------------------------------------------------------------------

_DOCUMENT_HOLDERS = {"Request": "#query", "Payload": "#document", "Operation": "#document"}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the JSON form: a message (by messageKind) or a document."""
    documents: list[type[CimDocument]] = []
    for entry in REGISTRY:
        documents.append(entry.payload)
        if entry.query is not None:
            documents.append(entry.query)
    models: list[type[BaseModel]] = [*MESSAGE_CLASSES.values(), *documents]
    refs, schema = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/$defs/{model}", by_alias=True
    )
    defs: dict[str, Any] = schema["$defs"]

    def ref_of(model: type[BaseModel]) -> str:
        ref: str = refs[(model, "validation")]["$ref"]
        return ref

    document_properties = {doc.profile: {"$ref": ref_of(doc)} for doc in documents}
    for name, wildcard in _DOCUMENT_HOLDERS.items():
        holder = defs[name]
        holder["properties"].pop(wildcard, None)
        holder["properties"].update(document_properties)
    alternatives: list[dict[str, Any]] = []
    for kind, cls in MESSAGE_CLASSES.items():
        definition = defs[ref_of(cls).rsplit("/", 1)[1]]
        definition["properties"] = {KIND_KEY: {"const": kind}, **definition["properties"]}
        definition["required"] = [KIND_KEY, *definition.get("required", [])]
        alternatives.append({"$ref": ref_of(cls)})
    for doc in documents:
        alternatives.append(
            {
                "type": "object",
                "properties": {doc.profile: {"$ref": ref_of(doc)}},
                "required": [doc.profile],
                "additionalProperties": False,
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cimmeter JSON form of IEC 61968-100 messages and 61968-9 documents",
        "oneOf": alternatives,
        "$defs": defs,
    }


__all__ = ["KIND_KEY", "JsonInputError", "dumps", "from_json", "json_schema", "loads", "to_json"]
