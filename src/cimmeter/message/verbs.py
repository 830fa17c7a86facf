"""The 14 verbs of IEC 61968-100 and what each means (digest 2.3, 6.6).

Lower case in the Header, `canceled` with one `l`; no `show`/`subscribe` (removed in 2011).
Present tense = request, past tense = event, `reply` = response. The SOAP operation of a typed
wrapper is the capitalised verb plus the noun (`CreatedMeterReadings`, digest 6.9).

What arrives is classified by its root element, never by its verb (DECISIONS.md): the kind of
a verb here is what a sender should use, and what a reader compares against to warn.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from cimmeter.model.base import CimEnum

MessageKind = Literal["RequestMessage", "ResponseMessage", "EventMessage", "FaultMessage"]


class Verb(CimEnum):
    """`HeaderType/Verb`, in schema order (digest 6.6)."""

    cancel = "cancel"
    canceled = "canceled"
    change = "change"
    changed = "changed"
    create = "create"
    created = "created"
    close = "close"
    closed = "closed"
    delete = "delete"
    deleted = "deleted"
    get = "get"
    reply = "reply"
    execute = "execute"
    executed = "executed"

    @classmethod
    def xsd_name(cls) -> str:
        return "VerbType"


class VerbKind(enum.StrEnum):
    request = "request"
    event = "event"
    response = "response"


@dataclass(frozen=True, slots=True)
class VerbInfo:
    verb: Verb
    kind: VerbKind
    operation: str
    """Capitalised verb of the typed SOAP operation (`Created` in `CreatedMeterReadings`)."""
    past: Verb | None
    """The event verb that reports a request's result (`create` -> `created`)."""


VERBS: dict[Verb, VerbInfo] = {
    info.verb: info
    for info in (
        VerbInfo(Verb.cancel, VerbKind.request, "Cancel", Verb.canceled),
        VerbInfo(Verb.canceled, VerbKind.event, "Canceled", None),
        VerbInfo(Verb.change, VerbKind.request, "Change", Verb.changed),
        VerbInfo(Verb.changed, VerbKind.event, "Changed", None),
        VerbInfo(Verb.create, VerbKind.request, "Create", Verb.created),
        VerbInfo(Verb.created, VerbKind.event, "Created", None),
        VerbInfo(Verb.close, VerbKind.request, "Close", Verb.closed),
        VerbInfo(Verb.closed, VerbKind.event, "Closed", None),
        VerbInfo(Verb.delete, VerbKind.request, "Delete", Verb.deleted),
        VerbInfo(Verb.deleted, VerbKind.event, "Deleted", None),
        VerbInfo(Verb.get, VerbKind.request, "Get", Verb.reply),
        VerbInfo(Verb.reply, VerbKind.response, "Reply", None),
        VerbInfo(Verb.execute, VerbKind.request, "Execute", Verb.executed),
        VerbInfo(Verb.executed, VerbKind.event, "Executed", None),
    )
}

# digest 6.6 (M): present tense -> request, past tense -> event, reply -> response.
KIND_OF_VERB: dict[VerbKind, MessageKind] = {
    VerbKind.request: "RequestMessage",
    VerbKind.event: "EventMessage",
    VerbKind.response: "ResponseMessage",
}
"""The message a sender uses for a verb (digest 6.6, verb-to-root mapping)."""

# Typed wrapper operations (digest 2.1.3, 6.9): requests and events by capitalised verb. The
# templates have no Execute/Executed operations; Connexo adds `Reply<Noun>` as an event (2.3).
TYPED_REQUEST_OPERATIONS: tuple[Verb, ...] = (
    Verb.create,
    Verb.change,
    Verb.cancel,
    Verb.close,
    Verb.delete,
)
TYPED_EVENT_OPERATIONS: tuple[Verb, ...] = (
    Verb.created,
    Verb.changed,
    Verb.canceled,
    Verb.closed,
    Verb.deleted,
)
_ACCEPTED_OPERATIONS: dict[str, tuple[MessageKind, Verb | None]] = {
    **{
        VERBS[v].operation: ("RequestMessage", v) for v in (*TYPED_REQUEST_OPERATIONS, Verb.execute)
    },
    **{VERBS[v].operation: ("EventMessage", v) for v in (*TYPED_EVENT_OPERATIONS, Verb.executed)},
    "Reply": ("EventMessage", None),
}


def operation_of(local_name: str, noun: str) -> tuple[MessageKind, Verb | None] | None:
    """The message kind and verb a typed wrapper element stands for, or None.

    `CreatedMeterReadings` -> (EventMessage, created); `MeterReadingsResponseMessage` ->
    (ResponseMessage, None); `GetMeterReadings` -> (RequestMessage, get)."""
    if local_name == f"{noun}ResponseMessage":
        return ("ResponseMessage", None)
    if local_name == f"{noun}FaultMessage":
        return ("FaultMessage", None)
    if local_name == f"Get{noun}":
        return ("RequestMessage", Verb.get)
    if local_name.endswith(noun):
        return _ACCEPTED_OPERATIONS.get(local_name[: -len(noun)])
    return None


def typed_element_name(kind: MessageKind, verb: Verb | None, noun: str) -> str:
    """The typed wrapper element for a message (`CreateMeterReadings`, `GetMeterReadings`)."""
    if kind == "ResponseMessage":
        return f"{noun}ResponseMessage"
    if kind == "FaultMessage":
        return f"{noun}FaultMessage"
    if verb is None:
        raise ValueError(f"a {kind} needs a verb to name its typed wrapper")
    return f"{VERBS[verb].operation}{noun}"


__all__ = [
    "KIND_OF_VERB",
    "TYPED_EVENT_OPERATIONS",
    "TYPED_REQUEST_OPERATIONS",
    "VERBS",
    "MessageKind",
    "Verb",
    "VerbInfo",
    "VerbKind",
    "operation_of",
    "typed_element_name",
]
