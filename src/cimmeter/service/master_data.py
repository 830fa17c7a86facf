"""Master data in the MDM: config nouns, groups and read schedules (digest 2.3, 3.6-3.9, 4.12).

One table (`CONFIG_NOUNS`) says, per noun, which elements of its document are the objects and
what kind of object each is (MeterConfig/Meter -> Meter, UsagePointConfig/UsagePoint -> UsagePoint,
EndDeviceGroups/EndDeviceGroup -> EndDeviceGroup with its members ...). The handlers work on
the lossless JSON form of the document, so every element, vendor extensions included, is kept
in the store and given back by `get` (DESIGN.md), whatever the exact profile model.

Per object (an item of the reply):
- `create`: a new object. mRID as given, or one we assign (returned in Reply/ID, kind uuid).
  The same object again (same content) is an OK no-op with an INFORM; other content under an
  existing identity fails `object-exists` (use `change`). A group's members become group-member
  links from now; an unknown member fails as its own item (PARTIAL).
- `change`: the stored object updated with the elements given (top-level elements replace the
  stored ones, the others are kept): a partial update, as `elementOperation` suggests (digest
  6.5, M). A group's members, when given, replace the membership from now.
- `close` / `cancel`: status `closed` / `cancelled` from `ConfigurationEvents/effectiveDateTime`
  (or now); the object and its history are kept (digest 2.3, M).
- `delete`: the object is marked deleted (history kept); its open group memberships end now.
- `get`: objects named by the query profile or Request/ID, or all (at most
  `max_objects_per_reply`), in the noun's document.
Each change is published as the past-tense event of the noun with the objects applied
(`topic:created.MeterConfig` ...).

MeterReadSchedule has no identity of its own in its profile (digest 3.3): a schedule is named by
Request/ID, else by the CorrelationID (or MessageID) of its `create`, which the reply returns
in Reply/ID; `change`/`cancel`/`close`/`delete` name it the same way (digest 4.17 note 4, as
controls are named). Its targets and ReadingTypes are checked: unknown ones fail as items.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cimmeter.codes import CodeError, ReadingType
from cimmeter.message.envelope import ID, IDKind, RequestMessage
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import VERBS, Verb
from cimmeter.model.base import CimDocument
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.refs import DEVICE_KINDS, describe, names_of_json, ref_of_json, resolve
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """Objects of a noun's document: the element holding them and their kind."""

    element: str
    kind: ObjectKind
    members: str | None = None
    """For groups: the element listing the members."""
    member_kinds: tuple[ObjectKind, ...] = ()


CONFIG_NOUNS: dict[str, tuple[ObjectSpec, ...]] = {
    "MeterConfig": (ObjectSpec("Meter", ObjectKind.METER),),
    "EndDeviceConfig": (ObjectSpec("EndDevice", ObjectKind.END_DEVICE),),
    "ComModuleConfig": (ObjectSpec("ComModule", ObjectKind.COM_MODULE),),
    "UsagePointConfig": (ObjectSpec("UsagePoint", ObjectKind.USAGE_POINT),),
    "UsagePointLocationConfig": (
        ObjectSpec("UsagePointLocation", ObjectKind.USAGE_POINT_LOCATION),
    ),
    "ServiceLocationConfig": (ObjectSpec("ServiceLocation", ObjectKind.SERVICE_LOCATION),),
    "ServiceCategoryConfig": (ObjectSpec("ServiceCategory", ObjectKind.SERVICE_CATEGORY),),
    "ServiceSupplierConfig": (ObjectSpec("ServiceSupplier", ObjectKind.SERVICE_SUPPLIER),),
    "CustomerConfig": (ObjectSpec("Customer", ObjectKind.CUSTOMER),),
    "CustomerAccountConfig": (ObjectSpec("CustomerAccount", ObjectKind.CUSTOMER_ACCOUNT),),
    "CustomerAgreementConfig": (ObjectSpec("CustomerAgreement", ObjectKind.CUSTOMER_AGREEMENT),),
    "PricingStructureConfig": (ObjectSpec("PricingStructure", ObjectKind.PRICING_STRUCTURE),),
    "EndDeviceGroups": (
        ObjectSpec("EndDeviceGroup", ObjectKind.END_DEVICE_GROUP, "EndDevices", DEVICE_KINDS),
    ),
    "UsagePointGroups": (
        ObjectSpec(
            "UsagePointGroup",
            ObjectKind.USAGE_POINT_GROUP,
            "UsagePoints",
            (ObjectKind.USAGE_POINT,),
        ),
    ),
}
"""Noun -> its objects (digest 3.6-3.9). One line per noun; the handlers are generic."""

STATUS_OF_VERB = {Verb.close: "closed", Verb.cancel: "cancelled"}


def document_json(document: CimDocument) -> Json:
    """The lossless JSON form of a document (aliases as keys, defaults left out)."""
    data: Json = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return data


def document_of(noun: str, objects: Mapping[str, Sequence[Mapping[str, Any]]]) -> CimDocument:
    """A noun's document holding the given objects (element -> list of JSON objects)."""
    cls = REGISTRY.noun(noun).payload
    return cls.model_validate({k: list(v) for k, v in objects.items() if v})


def document_from_json(noun: str, data: Mapping[str, Any]) -> CimDocument:
    """A noun's whole document from its JSON form."""
    return REGISTRY.noun(noun).payload.model_validate(dict(data))


def _payload_json(ctx: HandlerContext) -> Json:
    document = ctx.inbound.document
    if document is None:
        raise RequestFailed(
            ctx.error(Problem.INVALID_MESSAGE, f"no {ctx.noun} in Payload", path="/Payload")
        )
    return document_json(document)


def _status_of(obj: Mapping[str, Any]) -> str | None:
    status = obj.get("status")
    return status.get("value") if isinstance(status, Mapping) else None


def _effective(obj: Mapping[str, Any], now: datetime) -> datetime:
    events = obj.get("ConfigurationEvents")
    if isinstance(events, Sequence) and events and isinstance(events[0], Mapping):
        events = events[0]
    if isinstance(events, Mapping) and events.get("effectiveDateTime"):
        return datetime.fromisoformat(str(events["effectiveDateTime"]))
    return now


def master_object(kind: ObjectKind, mrid: str, obj: Json, now: datetime) -> MasterObject:
    return MasterObject(
        kind=kind,
        mrid=mrid,
        names=names_of_json(obj),
        serial_number=obj.get("serialNumber"),
        status=_status_of(obj),
        document=obj,
        updated_at=now,
    )


# -- config objects -----------------------------------------------------------------------------

ConfigAction = Callable[[HandlerContext, ObjectSpec, Json, str], Json | None]
"""Apply a verb to one object; returns the object as applied (for the event), or None."""


def _create(ctx: HandlerContext, spec: ObjectSpec, obj: Json, path: str) -> Json | None:
    ref = ref_of_json(obj)
    if ref is None:
        ctx.fail(
            Problem.INVALID_ELEMENT,
            f"{spec.element} has no mRID, Names or serialNumber",
            path=path,
            object_type=spec.kind.value,
        )
        return None
    if not obj.get("mRID"):
        named = resolve(ctx.tx, (spec.kind,), ref, spec.element)
        if named.problem is Problem.OBJECT_AMBIGUOUS:
            ctx.fail(
                Problem.OBJECT_AMBIGUOUS,
                named.detail,
                path=path,
                object_ref=ref,
                object_type=spec.kind.value,
            )
            return None
    existing = _existing(ctx, spec.kind, obj)
    if existing is not None:
        if _same(existing.document, obj):
            ctx.note(
                Problem.DUPLICATE_ITEM,
                f"{spec.kind.value} {ref.describe()} exists with this content",
                path=path,
                object_ref=ref,
                object_type=spec.kind.value,
            )
            ctx.ok()
            return None
        ctx.fail(
            Problem.OBJECT_EXISTS,
            f"{spec.kind.value} {ref.describe()} already exists (mRID {existing.mrid}); use change",
            path=path,
            object_ref=ref,
            object_type=spec.kind.value,
        )
        return None
    mrid = obj.get("mRID") or str(uuid.uuid4())
    stored = {**obj, "mRID": mrid}
    ctx.tx.put_object(master_object(spec.kind, mrid, stored, ctx.now))
    if spec.members:
        _set_members(ctx, spec, mrid, stored.get(spec.members, []), path, replace=False)
    ctx.ok()
    return stored


def _existing(ctx: HandlerContext, kind: ObjectKind, obj: Mapping[str, Any]) -> MasterObject | None:
    if obj.get("mRID"):
        found = ctx.tx.get_object(kind, str(obj["mRID"]))
        return found if found is not None and not found.deleted else None
    ref = ref_of_json(obj)
    found_by_name = resolve(ctx.tx, (kind,), ref, kind.value)
    return found_by_name.obj


def _same(stored: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """The same object again (an mRID we assigned does not count as a difference)."""

    def content(obj: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k != "mRID"}

    return content(stored) == content(given)


def _found(ctx: HandlerContext, spec: ObjectSpec, obj: Json, path: str) -> MasterObject | None:
    ref = ref_of_json(obj)
    result = resolve(ctx.tx, (spec.kind,), ref, spec.element)
    if result.obj is None:
        assert result.problem is not None
        ctx.fail(
            result.problem,
            result.detail,
            path=path,
            object_ref=ref,
            object_type=spec.kind.value,
        )
    return result.obj


def _change(ctx: HandlerContext, spec: ObjectSpec, obj: Json, path: str) -> Json | None:
    existing = _found(ctx, spec, obj, path)
    if existing is None:
        return None
    merged = {**existing.document, **obj, "mRID": existing.mrid}
    ctx.tx.put_object(master_object(spec.kind, existing.mrid, merged, ctx.now))
    if spec.members and spec.members in obj:
        _set_members(ctx, spec, existing.mrid, obj[spec.members], path, replace=True)
    ctx.ok()
    return merged


def _set_status(ctx: HandlerContext, spec: ObjectSpec, obj: Json, path: str) -> Json | None:
    existing = _found(ctx, spec, obj, path)
    if existing is None:
        return None
    value = STATUS_OF_VERB[ctx.inbound.verb]
    at = _effective(obj, ctx.now)
    status = {"dateTime": at.isoformat(), "value": value}
    updated = {**existing.document, **obj, "mRID": existing.mrid, "status": status}
    ctx.tx.put_object(master_object(spec.kind, existing.mrid, updated, ctx.now))
    ctx.ok()
    return updated


def _delete(ctx: HandlerContext, spec: ObjectSpec, obj: Json, path: str) -> Json | None:
    existing = _found(ctx, spec, obj, path)
    if existing is None:
        return None
    if spec.members:
        _set_members(ctx, spec, existing.mrid, [], path, replace=True)
    ctx.tx.delete_object(spec.kind, existing.mrid, ctx.now)
    ctx.ok()
    return dict(existing.document)


def _set_members(
    ctx: HandlerContext,
    spec: ObjectSpec,
    group_mrid: str,
    members: Sequence[Mapping[str, Any]],
    path: str,
    *,
    replace: bool,
) -> None:
    """Group membership as group-member links from now; unknown members fail as items."""
    wanted: list[str] = []
    for n, member in enumerate(members, start=1):
        ref = ref_of_json(member)
        found = resolve(ctx.tx, spec.member_kinds, ref, str(spec.members))
        if found.obj is None:
            assert found.problem is not None
            ctx.fail(
                found.problem,
                found.detail,
                path=f"{path}/{spec.members}[{n}]",
                object_ref=ref,
                object_type=spec.member_kinds[0].value,
            )
            continue
        wanted.append(found.obj.mrid)
    current = {
        link.to_mrid
        for link in ctx.tx.linkages(LinkageKind.GROUP_MEMBER, from_mrid=group_mrid, at=ctx.now)
    }
    if replace:
        for gone in sorted(current - set(wanted)):
            ctx.tx.close_linkage(LinkageKind.GROUP_MEMBER, group_mrid, gone, ctx.now)
    for mrid in dict.fromkeys(wanted):
        if mrid not in current:
            ctx.tx.open_linkage(
                Linkage(LinkageKind.GROUP_MEMBER, group_mrid, mrid, valid_from=ctx.now)
            )


CONFIG_ACTIONS: dict[Verb, ConfigAction] = {
    Verb.create: _create,
    Verb.change: _change,
    Verb.close: _set_status,
    Verb.cancel: _set_status,
    Verb.delete: _delete,
}


def _upsert(ctx: HandlerContext, spec: ObjectSpec, obj: Json, path: str) -> Json | None:
    """An event reports the object as it is: create it, or change the stored one."""
    if _existing(ctx, spec.kind, obj) is None:
        return _create(ctx, spec, obj, path)
    return _change(ctx, spec, obj, path)


CONFIG_EVENT_ACTIONS: dict[Verb, ConfigAction] = {
    Verb.created: _upsert,
    Verb.changed: _upsert,
    Verb.deleted: _delete,
}
"""Events from a head-end that discovered or changed devices (digest 4.15 direction B)."""


def apply_config(ctx: HandlerContext) -> Handled:
    """create/change/close/cancel/delete of a config noun's objects (module docstring)."""
    return _apply(ctx, CONFIG_ACTIONS[ctx.inbound.verb], VERBS[ctx.inbound.verb].past)


def apply_config_event(ctx: HandlerContext) -> Handled:
    """`created`/`changed`/`deleted` of a config noun. The result of our own request to the
    head-end (matched by CorrelationID) is acknowledged: we are the system of record and
    already hold the objects; any other event is applied and passed on to subscribers."""
    if ctx.correlated is not None:
        ctx.ok()
        return Handled()
    return _apply(ctx, CONFIG_EVENT_ACTIONS[ctx.inbound.verb], ctx.inbound.verb)


def _apply(ctx: HandlerContext, action: ConfigAction, published: Verb | None) -> Handled:
    data = _payload_json(ctx)
    applied: dict[str, list[Json]] = {}
    ids: list[ID] = []
    found_any = False
    for spec in CONFIG_NOUNS[ctx.noun]:
        for n, obj in enumerate(data.get(spec.element, ()), start=1):
            found_any = True
            result = action(ctx, spec, obj, f"/{ctx.noun}/{spec.element}[{n}]")
            if result is not None:
                applied.setdefault(spec.element, []).append(result)
                ids.append(ID(value=result["mRID"], kind=IDKind.uuid, object_type=spec.kind.value))
    if not found_any:
        elements = ", ".join(s.element for s in CONFIG_NOUNS[ctx.noun])
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                f"{ctx.noun} holds no {elements}: nothing to {ctx.inbound.verb.value}",
                path=f"/{ctx.noun}",
            )
        )
    if applied and published is not None:
        ctx.publish(published, document_of(ctx.noun, applied))
    created = ctx.inbound.verb in (Verb.create, Verb.created)
    return Handled(ids=tuple(ids) if created else ())


# -- get ----------------------------------------------------------------------------------------


def get_config(ctx: HandlerContext) -> Handled:
    """`get` of a config noun: by the query profile's selectors or Request/ID, else all."""
    spec = CONFIG_NOUNS[ctx.noun][0]
    mrids: list[str] = []
    selected = False
    query = ctx.inbound.query
    if query is not None:
        selected, mrids = _query_selection(ctx, spec, document_json(query))
    message = ctx.inbound.message
    request = message.request if isinstance(message, RequestMessage) else None
    for n, given in enumerate(request.ids if request else (), start=1):
        if not given.value:
            continue
        selected = True
        obj: Json = (
            {"Names": [{"name": given.value}]}
            if given.kind is IDKind.name
            else {"mRID": given.value}
        )
        found = _found(ctx, spec, obj, f"/Request/ID[{n}]")
        if found is not None:
            ctx.ok()
            mrids.append(found.mrid)
    limit = ctx.config.max_objects_per_reply
    if not selected:
        objects = ctx.tx.list_objects(spec.kind, limit=limit + 1)
        if len(objects) > limit:
            ctx.outcomes.incomplete(
                ctx.error(
                    Problem.RESULT_TRUNCATED,
                    f"more than {limit} {spec.kind.value} objects; the first {limit} by mRID "
                    f"are returned, the next after {objects[limit - 1].mrid}",
                    path="/Request",
                )
            )
            objects = objects[:limit]
        ctx.ok()
    else:
        objects = [o for m in dict.fromkeys(mrids) if (o := ctx.tx.get_object(spec.kind, m))]
        objects = [o for o in objects if not o.deleted]
    if selected and not objects:
        return Handled()
    return Handled(
        payload=document_of(ctx.noun, {spec.element: [dict(o.document) for o in objects]})
    )


@dataclass(frozen=True, slots=True)
class _Selector:
    """A query element that selects the noun's objects: directly, through a linkage, or
    through group membership."""

    kinds: tuple[ObjectKind, ...]
    linkage: LinkageKind | None = None
    direction: str = "direct"
    """`direct`; `to` (the selector is the link's target: take its sources); `from`."""
    group: bool = False


_SELECTORS: dict[ObjectKind, dict[str, _Selector]] = {
    ObjectKind.METER: {
        "Meter": _Selector(DEVICE_KINDS),
        "EndDevice": _Selector(DEVICE_KINDS),
        "UsagePoint": _Selector(
            (ObjectKind.USAGE_POINT,), LinkageKind.METER_USAGE_POINT, direction="to"
        ),
        "EndDeviceGroup": _Selector((ObjectKind.END_DEVICE_GROUP,), group=True),
    },
    ObjectKind.USAGE_POINT: {
        "UsagePoint": _Selector((ObjectKind.USAGE_POINT,)),
        "Meter": _Selector(DEVICE_KINDS, LinkageKind.METER_USAGE_POINT, direction="from"),
        "EndDevice": _Selector(DEVICE_KINDS, LinkageKind.METER_USAGE_POINT, direction="from"),
        "UsagePointGroup": _Selector((ObjectKind.USAGE_POINT_GROUP,), group=True),
        "CustomerAgreement": _Selector(
            (ObjectKind.CUSTOMER_AGREEMENT,), LinkageKind.USAGE_POINT_AGREEMENT, direction="to"
        ),
    },
}
"""How the Get query profiles select objects (GetMeterConfig, GetUsagePointConfig: digest
3.6.2, 3.7.2); links are taken as they are now."""


def _query_selection(ctx: HandlerContext, spec: ObjectSpec, query: Json) -> tuple[bool, list[str]]:
    selectors = _SELECTORS.get(spec.kind, {spec.element: _Selector((spec.kind,))})
    mrids: list[str] = []
    selected = False
    for element, items in query.items():
        if element.startswith("#") or not isinstance(items, list):
            continue
        selector = selectors.get(element)
        for n, item in enumerate(items, start=1):
            selected = True
            profile = ctx.inbound.query.profile if ctx.inbound.query else ctx.noun
            path = f"/{profile}/{element}[{n}]"
            if selector is None:
                ctx.fail(
                    Problem.INVALID_ELEMENT,
                    f"{element} is not a selector this service supports for {ctx.noun}; "
                    f"it supports {', '.join(selectors)}",
                    path=path,
                )
                continue
            ref = ref_of_json(item)
            found = resolve(ctx.tx, selector.kinds, ref, element)
            if found.obj is None:
                assert found.problem is not None
                ctx.fail(
                    found.problem, found.detail, path=path, object_ref=ref, object_type=element
                )
                continue
            ctx.ok()
            mrids += _follow(ctx, selector, found.obj.mrid)
    return selected, mrids


def _follow(ctx: HandlerContext, selector: _Selector, mrid: str) -> list[str]:
    if selector.group:
        return [
            link.to_mrid
            for link in ctx.tx.linkages(LinkageKind.GROUP_MEMBER, from_mrid=mrid, at=ctx.now)
        ]
    if selector.linkage is None:
        return [mrid]
    if selector.direction == "to":
        links = ctx.tx.linkages(selector.linkage, to_mrid=mrid, at=ctx.now)
        return [link.from_mrid for link in links]
    links = ctx.tx.linkages(selector.linkage, from_mrid=mrid, at=ctx.now)
    return [link.to_mrid for link in links]


# -- MeterReadSchedule ----------------------------------------------------------------------------

SCHEDULE = "MeterReadSchedule"

_SCHEDULE_TARGETS: dict[str, tuple[ObjectKind, ...]] = {
    "EndDevice": DEVICE_KINDS,
    "EndDeviceGroup": (ObjectKind.END_DEVICE_GROUP,),
    "UsagePoint": (ObjectKind.USAGE_POINT,),
    "UsagePointGroup": (ObjectKind.USAGE_POINT_GROUP,),
    "CustomerAccount": (ObjectKind.CUSTOMER_ACCOUNT,),
    "CustomerAgreement": (ObjectKind.CUSTOMER_AGREEMENT,),
}
"""The targets a MeterReadSchedule may name (digest 3.3, 4.12)."""


def _schedule_id(ctx: HandlerContext) -> str:
    message = ctx.inbound.message
    request = message.request if isinstance(message, RequestMessage) else None
    for given in request.ids if request else ():
        if given.value:
            return given.value
    payload = message.payload if isinstance(message, RequestMessage) else None
    for given in payload.ids if payload is not None else ():
        if given.value:
            return given.value
    name = ctx.header.correlation_id or ctx.header.message_id
    if not name:
        raise RequestFailed(
            ctx.error(
                Problem.MISSING_HEADER_DATA,
                "a MeterReadSchedule is named by Request/ID, else by the CorrelationID or "
                "MessageID of its create; this message has none",
                path="/Request/ID",
            )
        )
    return name


def _check_schedule(ctx: HandlerContext, data: Json) -> None:
    """Targets must exist and ReadingTypes be well-formed; the schedule interval ordered."""
    found_target = False
    for element, kinds in _SCHEDULE_TARGETS.items():
        for n, item in enumerate(data.get(element, ()), start=1):
            found_target = True
            ref = ref_of_json(item)
            result = resolve(ctx.tx, kinds, ref, element)
            path = f"/{SCHEDULE}/{element}[{n}]"
            if result.obj is None:
                assert result.problem is not None
                ctx.fail(
                    result.problem, result.detail, path=path, object_ref=ref, object_type=element
                )
            else:
                ctx.ok()
    if not found_target:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "a MeterReadSchedule names at least one target (EndDevice, EndDeviceGroup, "
                "UsagePoint, UsagePointGroup, CustomerAccount, CustomerAgreement)",
                path=f"/{SCHEDULE}",
            )
        )
    for n, item in enumerate(data.get("ReadingType", ()), start=1):
        code = item.get("mRID")
        path = f"/{SCHEDULE}/ReadingType[{n}]"
        if not code:
            continue  # named by Names: kept as given
        try:
            ReadingType.parse(code)
        except CodeError as exc:
            ctx.fail(Problem.MALFORMED_CODE, str(exc), path=path, object_id=code)
    for n, schedule in enumerate(data.get("TimeSchedule", ()), start=1):
        interval = schedule.get("scheduleInterval") or {}
        start, end = interval.get("start"), interval.get("end")
        if start and end and datetime.fromisoformat(end) < datetime.fromisoformat(start):
            raise RequestFailed(
                ctx.error(
                    Problem.INVALID_TIME_RANGE,
                    f"scheduleInterval end {end} is before start {start}",
                    path=f"/{SCHEDULE}/TimeSchedule[{n}]/scheduleInterval",
                )
            )


def apply_schedule(ctx: HandlerContext) -> Handled:
    """create/change/cancel/close/delete MeterReadSchedule (module docstring)."""
    verb = ctx.inbound.verb
    name = _schedule_id(ctx)
    existing = ctx.tx.get_object(ObjectKind.READ_SCHEDULE, name)
    live = existing is not None and not existing.deleted
    schedule_id = ID(value=name, kind=IDKind.transaction, object_type=SCHEDULE)
    if verb is not Verb.create and not live:
        raise RequestFailed(
            ctx.error(
                Problem.OBJECT_NOT_FOUND,
                f"no MeterReadSchedule {name!r}",
                path="/Request/ID",
                object_id=name,
                object_type=SCHEDULE,
            )
        )
    if verb in (Verb.create, Verb.change):
        data = _payload_json(ctx)
        if verb is Verb.create and live:
            assert existing is not None
            if existing.document == data:
                ctx.note(Problem.DUPLICATE_ITEM, f"MeterReadSchedule {name!r} exists as given")
                ctx.ok()
                return Handled(ids=(schedule_id,))
            raise RequestFailed(
                ctx.error(
                    Problem.OBJECT_EXISTS,
                    f"MeterReadSchedule {name!r} exists; use change",
                    object_id=name,
                    object_type=SCHEDULE,
                )
            )
        _check_schedule(ctx, data)
        status = (
            "disabled" if any(t.get("disabled") for t in data.get("TimeSchedule", ())) else "active"
        )
        ctx.tx.put_object(
            MasterObject(
                ObjectKind.READ_SCHEDULE, name, status=status, document=data, updated_at=ctx.now
            )
        )
        document = document_from_json(SCHEDULE, data)
    else:
        assert existing is not None
        if verb is Verb.delete:
            ctx.tx.delete_object(ObjectKind.READ_SCHEDULE, name, ctx.now)
        else:
            ctx.tx.put_object(
                MasterObject(
                    ObjectKind.READ_SCHEDULE,
                    name,
                    status=STATUS_OF_VERB[verb],
                    document=existing.document,
                    updated_at=ctx.now,
                )
            )
        ctx.ok()
        document = document_from_json(SCHEDULE, existing.document)
    past = VERBS[verb].past
    assert past is not None
    if ctx.outcomes.succeeded:
        ctx.publish(past, document)
    return Handled(ids=(schedule_id,))


def get_schedule(ctx: HandlerContext) -> Handled:
    """`get MeterReadSchedule` (digest 4.12 step 4): the schedule named by Request/ID; without
    one, the names of the schedules in force in Reply/ID (a Payload holds one schedule)."""
    message = ctx.inbound.message
    request = message.request if isinstance(message, RequestMessage) else None
    names = [i.value for i in (request.ids if request else ()) if i.value]
    if not names:
        schedules = ctx.tx.list_objects(
            ObjectKind.READ_SCHEDULE, limit=ctx.config.max_objects_per_reply
        )
        ctx.ok()
        return Handled(
            ids=tuple(
                ID(value=o.mrid, kind=IDKind.transaction, object_type=SCHEDULE) for o in schedules
            )
        )
    found = ctx.tx.get_object(ObjectKind.READ_SCHEDULE, names[0])
    if found is None or found.deleted:
        ctx.fail(
            Problem.OBJECT_NOT_FOUND,
            f"no MeterReadSchedule {names[0]!r}",
            path="/Request/ID[1]",
            object_id=names[0],
            object_type=SCHEDULE,
        )
        return Handled()
    if len(names) > 1:
        ctx.note(
            Problem.MESSAGE_WARNING,
            f"a reply holds one MeterReadSchedule: {names[0]!r} is returned, not "
            f"{', '.join(repr(n) for n in names[1:])}",
            path="/Request/ID",
        )
    ctx.ok()
    return Handled(
        payload=document_from_json(SCHEDULE, found.document),
        ids=(ID(value=found.mrid, kind=IDKind.transaction, object_type=SCHEDULE),),
    )


__all__ = [
    "CONFIG_ACTIONS",
    "CONFIG_EVENT_ACTIONS",
    "CONFIG_NOUNS",
    "ObjectSpec",
    "apply_config",
    "apply_config_event",
    "apply_schedule",
    "describe",
    "document_from_json",
    "document_json",
    "document_of",
    "get_config",
    "get_schedule",
    "master_object",
]
