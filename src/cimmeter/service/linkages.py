"""MasterDataLinkageConfig in the MDM: links with an effective time (digest 3.8.1, 4.10, 4.14).

All the objects of one message are linked to each other, pair by pair, where a pair means a
relationship (`LINK_PAIRS`: Meter/EndDevice - UsagePoint, UsagePoint - CustomerAgreement,
Meter - ComModule, CustomerAgreement - CustomerAccount, CustomerAccount - Customer, UsagePoint -
UsagePointLocation/ServiceLocation). Each link is an item of the reply. The time is
`ConfigurationEvent/effectiveDateTime`, required (Connexo faults without it; we answer FAILED).

- `create` links from the effective time (V(impl)). The same link already in force is an OK
  no-op; a meter linked to another usage point at that time fails with "meter already linked to
  another usage point" (digest 4.10, 4.14); other overlaps the store refuses fail likewise.
- `close` ends the link at the effective time (V(impl)); a link already closed at that time is
  an OK no-op.
- `cancel` undoes a link made in error (M): the link of the pair starting at the effective time,
  else its latest one, is kept in history as cancelled; readings are attributed again.
- `change` corrects the effective time (M): the link in force is cancelled and made again from
  the new time.
- `delete` removes the record (M): as `cancel` (history keeps it, marked cancelled).
Objects must exist (by mRID, Names or serial number); an unknown one fails every link it is in.
The applied message is published as the past-tense event (`topic:created.MasterDataLinkageConfig`
..., digest 4.14 step 3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cimmeter.message.verbs import VERBS, Verb
from cimmeter.model.identity import ObjectRef
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.master_data import document_json
from cimmeter.service.refs import ref_of_json, resolve
from cimmeter.store.base import StoreError
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

NOUN = "MasterDataLinkageConfig"

LINK_ELEMENTS: dict[str, tuple[ObjectKind, ...]] = {
    "Meter": (ObjectKind.METER,),
    "EndDevice": (ObjectKind.END_DEVICE, ObjectKind.METER),
    "UsagePoint": (ObjectKind.USAGE_POINT,),
    "ComModule": (ObjectKind.COM_MODULE,),
    "CustomerAgreement": (ObjectKind.CUSTOMER_AGREEMENT,),
    "CustomerAccount": (ObjectKind.CUSTOMER_ACCOUNT,),
    "Customer": (ObjectKind.CUSTOMER,),
    "UsagePointLocation": (ObjectKind.USAGE_POINT_LOCATION,),
    "ServiceLocation": (ObjectKind.SERVICE_LOCATION,),
}
"""Elements of MasterDataLinkageConfig that name linkable objects, and the kinds they name."""

LINK_PAIRS: dict[tuple[str, str], LinkageKind] = {
    ("Meter", "UsagePoint"): LinkageKind.METER_USAGE_POINT,
    ("EndDevice", "UsagePoint"): LinkageKind.METER_USAGE_POINT,
    ("UsagePoint", "CustomerAgreement"): LinkageKind.USAGE_POINT_AGREEMENT,
    ("Meter", "ComModule"): LinkageKind.METER_COM_MODULE,
    ("EndDevice", "ComModule"): LinkageKind.METER_COM_MODULE,
    ("CustomerAgreement", "CustomerAccount"): LinkageKind.AGREEMENT_ACCOUNT,
    ("CustomerAccount", "Customer"): LinkageKind.ACCOUNT_CUSTOMER,
    ("UsagePoint", "UsagePointLocation"): LinkageKind.USAGE_POINT_LOCATION,
    ("UsagePoint", "ServiceLocation"): LinkageKind.USAGE_POINT_LOCATION,
}
"""(from element, to element) -> the relationship; `from` is the store's first-named object."""

ALREADY_LINKED = "meter already linked to another usage point"


@dataclass(frozen=True, slots=True)
class Link:
    """One link of the message: the pair, its kind and where its ends are in the message."""

    kind: LinkageKind
    source: MasterObject
    target: MasterObject
    path: str
    ref: ObjectRef | None

    def text(self) -> str:
        return (
            f"{self.source.kind.value} {self.source.mrid} - "
            f"{self.target.kind.value} {self.target.mrid}"
        )


LinkAction = Callable[[HandlerContext, Link, datetime, Mapping[str, Any]], bool]
"""Apply a verb to one link; True when it was applied (or was already so)."""


def create_link(ctx: HandlerContext, link: Link, at: datetime, event: Mapping[str, Any]) -> bool:
    tx = ctx.tx
    if link.kind is LinkageKind.METER_USAGE_POINT:
        for other in tx.linkages(link.kind, from_mrid=link.source.mrid):
            if other.cancelled or not _covers(other, at):
                continue
            if other.to_mrid == link.target.mrid:
                ctx.note(
                    Problem.DUPLICATE_ITEM,
                    f"{link.text()} is linked since {other.valid_from.isoformat()}",
                    path=link.path,
                    object_ref=link.ref,
                    object_type="Meter",
                )
                return True
            until = other.valid_to.isoformat() if other.valid_to else "now"
            ctx.fail(
                Problem.INVALID_RELATIONSHIP,
                f"{ALREADY_LINKED}: meter {link.source.mrid} is linked to usage point "
                f"{other.to_mrid} from {other.valid_from.isoformat()} until {until}; close that "
                "link first",
                path=link.path,
                object_ref=link.ref,
                object_type="Meter",
                reason=ALREADY_LINKED,
            )
            return False
    else:
        for other in tx.linkages(link.kind, from_mrid=link.source.mrid, to_mrid=link.target.mrid):
            if not other.cancelled and _covers(other, at):
                ctx.note(
                    Problem.DUPLICATE_ITEM,
                    f"{link.text()} is linked since {other.valid_from.isoformat()}",
                    path=link.path,
                )
                return True
    try:
        tx.open_linkage(
            Linkage(
                link.kind,
                link.source.mrid,
                link.target.mrid,
                valid_from=at,
                reason=event.get("reason"),
            )
        )
    except StoreError as exc:
        ctx.fail(Problem.INVALID_RELATIONSHIP, str(exc), path=link.path, object_ref=link.ref)
        return False
    return True


def _covers(linkage: Linkage, at: datetime) -> bool:
    """The linkage is in force at `at` or later (it would overlap a link starting at `at`)."""
    return linkage.valid_to is None or linkage.valid_to > at


def close_link(ctx: HandlerContext, link: Link, at: datetime, event: Mapping[str, Any]) -> bool:
    pair = ctx.tx.linkages(link.kind, from_mrid=link.source.mrid, to_mrid=link.target.mrid)
    if any(not x.cancelled and x.valid_to == at for x in pair):
        ctx.note(
            Problem.DUPLICATE_ITEM,
            f"{link.text()} is closed at {at.isoformat()} already",
            path=link.path,
        )
        return True
    try:
        ctx.tx.close_linkage(link.kind, link.source.mrid, link.target.mrid, at)
    except StoreError as exc:
        ctx.fail(Problem.INVALID_RELATIONSHIP, str(exc), path=link.path, object_ref=link.ref)
        return False
    return True


def _to_cancel(ctx: HandlerContext, link: Link, at: datetime | None) -> Linkage | None:
    pair = [
        x
        for x in ctx.tx.linkages(link.kind, from_mrid=link.source.mrid, to_mrid=link.target.mrid)
        if not x.cancelled
    ]
    exact = [x for x in pair if at is not None and x.valid_from == at]
    chosen = exact[-1] if exact else (pair[-1] if pair else None)
    if chosen is None:
        ctx.fail(
            Problem.INVALID_RELATIONSHIP,
            f"no link {link.text()} to {ctx.inbound.verb.value}",
            path=link.path,
            object_ref=link.ref,
        )
    return chosen


def _cancel(ctx: HandlerContext, link: Link, at: datetime, event: Mapping[str, Any]) -> bool:
    chosen = _to_cancel(ctx, link, at)
    if chosen is None or chosen.id is None:
        return False
    ctx.tx.cancel_linkage(chosen.id)
    return True


def _change(ctx: HandlerContext, link: Link, at: datetime, event: Mapping[str, Any]) -> bool:
    pair = ctx.tx.linkages(link.kind, from_mrid=link.source.mrid, to_mrid=link.target.mrid)
    current = [x for x in pair if not x.cancelled and x.valid_to is None]
    if not current or current[-1].id is None:
        ctx.fail(
            Problem.INVALID_RELATIONSHIP,
            f"no link {link.text()} in force to change",
            path=link.path,
            object_ref=link.ref,
        )
        return False
    if current[-1].valid_from == at:
        ctx.note(Problem.DUPLICATE_ITEM, f"{link.text()} starts at {at.isoformat()} already")
        return True
    ctx.tx.cancel_linkage(current[-1].id)
    return create_link(ctx, link, at, event)


LINK_ACTIONS: dict[Verb, LinkAction] = {
    Verb.create: create_link,
    Verb.close: close_link,
    Verb.cancel: _cancel,
    Verb.change: _change,
    Verb.delete: _cancel,
}


EVENT_VERBS: dict[Verb, Verb] = {
    Verb.created: Verb.create,
    Verb.changed: Verb.change,
    Verb.closed: Verb.close,
    Verb.canceled: Verb.cancel,
    Verb.deleted: Verb.delete,
}
"""A linkage event reports what its sender did: the same as the request verb here."""


def apply_linkage_event(ctx: HandlerContext) -> Handled:
    """`created`/`closed`/... MasterDataLinkageConfig: the result of our own request to the
    head-end (matched by CorrelationID) is acknowledged; any other is applied as the request
    of the same verb would be (digest 4.14: another system of record announcing links)."""
    if ctx.correlated is not None:
        ctx.ok()
        return Handled()
    return _apply(ctx, EVENT_VERBS[ctx.inbound.verb], ctx.inbound.verb)


def apply_linkage(ctx: HandlerContext) -> Handled:
    """create/change/close/cancel/delete MasterDataLinkageConfig (module docstring)."""
    past = VERBS[ctx.inbound.verb].past
    assert past is not None
    return _apply(ctx, ctx.inbound.verb, past)


def _apply(ctx: HandlerContext, verb: Verb, published: Verb) -> Handled:
    document = ctx.inbound.document
    if document is None:
        raise RequestFailed(
            ctx.error(Problem.INVALID_MESSAGE, f"no {NOUN} in Payload", path="/Payload")
        )
    data = document_json(document)
    given = data.get("ConfigurationEvent") or {}
    if isinstance(given, list):  # a profile variant with several: the first decides
        given = given[0] if given else {}
    event: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    effective_text = event.get("effectiveDateTime")
    if not effective_text:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "ConfigurationEvent/effectiveDateTime is required: when the links start "
                "(create) or end (close)",
                path=f"/{NOUN}/ConfigurationEvent",
            )
        )
    at = datetime.fromisoformat(effective_text)
    objects = _objects(ctx, data)
    pairs = [
        (a_element, b_element, kind)
        for (a_element, b_element), kind in LINK_PAIRS.items()
        if a_element in objects and b_element in objects
    ]
    if not pairs:
        present = ", ".join(objects) or "no object"
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                f"{present}: nothing to link; pairs are "
                + ", ".join(f"{a}-{b}" for a, b in LINK_PAIRS),
                path=f"/{NOUN}",
            )
        )
    action = LINK_ACTIONS[verb]
    for a_element, b_element, kind in pairs:
        for a_path, a_ref, a_obj in objects[a_element]:
            for b_path, _b_ref, b_obj in objects[b_element]:
                if a_obj is None or b_obj is None:
                    continue  # already failed when resolving
                link = Link(kind, a_obj, b_obj, f"{a_path} - {b_path}", a_ref)
                if action(ctx, link, at, event):
                    ctx.ok()
    if ctx.outcomes.succeeded:
        ctx.publish(published, document)
    return Handled()


def _objects(
    ctx: HandlerContext, data: Mapping[str, Any]
) -> dict[str, list[tuple[str, ObjectRef | None, MasterObject | None]]]:
    """The objects of the message by element, resolved; an unknown one fails (once)."""
    objects: dict[str, list[tuple[str, ObjectRef | None, MasterObject | None]]] = {}
    for element, kinds in LINK_ELEMENTS.items():
        for n, item in enumerate(data.get(element, ()), start=1):
            path = f"/{NOUN}/{element}[{n}]"
            ref = ref_of_json(item)
            found = resolve(ctx.tx, kinds, ref, element)
            if found.obj is None:
                assert found.problem is not None
                ctx.fail(
                    found.problem, found.detail, path=path, object_ref=ref, object_type=element
                )
            objects.setdefault(element, []).append((path, ref, found.obj))
    return objects


__all__ = [
    "ALREADY_LINKED",
    "EVENT_VERBS",
    "LINK_ACTIONS",
    "LINK_ELEMENTS",
    "LINK_PAIRS",
    "Link",
    "apply_linkage",
    "apply_linkage_event",
    "close_link",
    "create_link",
]
