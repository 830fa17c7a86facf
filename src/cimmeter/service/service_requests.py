"""MeterServiceRequests in the MDM: field work orders, tracked, and their effects (digest 4.10).

A work order (`MeterServiceWork`) is stored as a `MeterServiceRequest` object and follows its
lifecycle: `create` / `change` (requests from CIS), `created` / `changed` / `closed` (events from
work management), `cancel`, `close`. Its mRID is the one given, else one we assign (Reply/ID).

When a message reports the work done (`close`, `closed`, or a status value in
`COMPLETED_STATUSES`), its effects are applied (digest 4.10, steps 3-4, M):
- the final reads of the removed meter and the initial reads of the installed one (`Meter` /
  `OldMeter` `MeterReadings/Readings`) are stored as register readings (source `field`);
- the meter-usage point links: an exchange (an `OldMeter`, or `type` containing "exchange")
  closes OldMeter's link at its removal time and links Meter from its installation time; a
  removal (`type` containing "remov") closes Meter's link; an installation (`type` containing
  "install") links Meter. Removal time = the latest final read, installation time = the
  earliest initial read, else the work's time (last ActivityRecord, lastModifiedDateTime,
  now), so readings between the two belong to neither meter (digest 4.10 failure paths).
The usage point is the work's `UsagePoint`, else the one the old meter is linked to.
Applying twice changes nothing (the same reads are no-ops, the same links are in force), so a
repeated completion is harmless. Other work (disconnect, inspection ...) is only tracked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cimmeter.message.envelope import ID, IDKind
from cimmeter.message.verbs import Verb
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.linkages import Link, close_link, create_link
from cimmeter.service.master_data import document_json, document_of, master_object
from cimmeter.service.refs import DEVICE_KINDS, ref_of_json, resolve
from cimmeter.store.records import LinkageKind, MasterObject, ObjectKind

NOUN = "MeterServiceRequests"
ELEMENT = "MeterServiceWork"
COMPLETED_STATUSES = frozenset({"completed", "complete", "closed", "done", "finished"})
"""Status values that report the work done (M: the profile leaves `status/value` free)."""

Json = dict[str, Any]

_PUBLISHED = {
    Verb.create: Verb.created,
    Verb.change: Verb.changed,
    Verb.cancel: Verb.canceled,
    Verb.close: Verb.closed,
    Verb.created: Verb.created,
    Verb.changed: Verb.changed,
    Verb.closed: Verb.closed,
}


def apply_service_requests(ctx: HandlerContext) -> Handled:
    """Track work orders and apply completed ones (module docstring)."""
    document = ctx.inbound.document
    if document is None:
        raise RequestFailed(
            ctx.error(Problem.INVALID_MESSAGE, f"no {NOUN} in Payload", path="/Payload")
        )
    works = document_json(document).get(ELEMENT, ())
    if not works:
        raise RequestFailed(
            ctx.error(Problem.INVALID_ELEMENT, f"{NOUN} holds no {ELEMENT}", path=f"/{NOUN}")
        )
    verb = ctx.inbound.verb
    applied: list[Json] = []
    ids: list[ID] = []
    for n, work in enumerate(works, start=1):
        path = f"/{NOUN}/{ELEMENT}[{n}]"
        stored = _track(ctx, work, path)
        if stored is None:
            continue
        done = verb in (Verb.close, Verb.closed) or (
            (stored.status or "").lower() in COMPLETED_STATUSES and verb is not Verb.cancel
        )
        if done and not _apply_effects(ctx, stored.document, path):
            continue
        ctx.ok()
        applied.append(dict(stored.document))
        ids.append(ID(value=stored.mrid, kind=IDKind.uuid, object_type="MeterServiceRequest"))
    if applied:
        ctx.publish(_PUBLISHED[verb], document_of(NOUN, {ELEMENT: applied}))
    return Handled(ids=tuple(ids) if verb in (Verb.create, Verb.created) else ())


def _track(ctx: HandlerContext, work: Json, path: str) -> MasterObject | None:
    """Store the work order as the verb says; None (item failed) when it cannot be."""
    verb = ctx.inbound.verb
    kind = ObjectKind.SERVICE_REQUEST
    existing = ctx.tx.get_object(kind, work["mRID"]) if work.get("mRID") else None
    if existing is None and ref_of_json(work) is not None and not work.get("mRID"):
        existing = resolve(ctx.tx, (kind,), ref_of_json(work), ELEMENT).obj
    if existing is not None and existing.deleted:
        existing = None
    if verb in (Verb.create, Verb.created) and existing is None:
        mrid = work.get("mRID") or str(uuid.uuid4())
        document = {**work, "mRID": mrid}
    elif existing is None:
        if verb is Verb.closed or verb is Verb.changed:
            mrid = work.get("mRID") or str(uuid.uuid4())  # an order we never saw: track it now
            document = {**work, "mRID": mrid}
        else:
            ref = ref_of_json(work)
            ctx.fail(
                Problem.OBJECT_NOT_FOUND,
                f"no MeterServiceRequest with {ref.describe() if ref else 'no mRID or Names'}",
                path=path,
                object_ref=ref,
                object_type="MeterServiceRequest",
            )
            return None
    else:
        if verb is Verb.cancel and (existing.status or "").lower() in COMPLETED_STATUSES:
            ctx.fail(
                Problem.INVALID_STATE,
                f"work {existing.mrid} is {existing.status}; a completed work cannot be cancelled",
                path=path,
                object_id=existing.mrid,
                object_type="MeterServiceRequest",
            )
            return None
        mrid = existing.mrid
        document = {**existing.document, **work, "mRID": mrid}
    status = {Verb.cancel: "cancelled", Verb.close: "closed", Verb.closed: "closed"}.get(verb)
    if status is not None:
        document["status"] = {**(document.get("status") or {}), "value": status}
    stored = master_object(kind, mrid, document, ctx.now)
    ctx.tx.put_object(stored)
    return stored


def _apply_effects(ctx: HandlerContext, work: Mapping[str, Any], path: str) -> bool:
    """Reads and links of a completed work (module docstring); False when it failed."""
    text = f"{work.get('type') or ''} {work.get('kind') or ''}".lower()
    meter_json = work.get("Meter") or {}
    old_json = work.get("OldMeter") or {}
    if old_json or "exchange" in text:
        action = "exchange"
    elif "remov" in text:
        action = "removal"
    elif "install" in text:
        action = "install"
    else:
        return True  # tracked only
    meter = _device(ctx, meter_json, f"{path}/Meter")
    if meter is None:
        return False
    old = None
    if action == "exchange":
        if not old_json:
            ctx.fail(Problem.INVALID_ELEMENT, "an exchange names its OldMeter", path=path)
            return False
        old = _device(ctx, old_json, f"{path}/OldMeter")
        if old is None:
            return False
    work_time = _work_time(work, ctx.now)
    removed = old if action == "exchange" else meter if action == "removal" else None
    installed = meter if action in ("exchange", "install") else None
    removed_json = old_json if action == "exchange" else meter_json
    remove_at = (_read_time(removed_json, max) or work_time) if removed else None
    install_at = (_read_time(meter_json, min) or work_time) if installed else None
    usage_point = _usage_point(ctx, work, removed, remove_at or work_time, path)
    if usage_point is None:
        return False
    for device, data, where in ((old, old_json, "OldMeter"), (meter, meter_json, "Meter")):
        if device is not None and not _store_reads(ctx, device, data, f"{path}/{where}"):
            return False
    ok = True
    if removed is not None and remove_at is not None:
        link = Link(
            LinkageKind.METER_USAGE_POINT, removed, usage_point, path, ObjectRef(mrid=removed.mrid)
        )
        ok = close_link(ctx, link, remove_at, {})
    if ok and installed is not None and install_at is not None:
        link = Link(
            LinkageKind.METER_USAGE_POINT,
            installed,
            usage_point,
            path,
            ObjectRef(mrid=installed.mrid),
        )
        ok = create_link(
            ctx, link, install_at, {"reason": f"MeterServiceRequest {work.get('mRID')}"}
        )
    return ok


def _device(ctx: HandlerContext, data: Mapping[str, Any], path: str) -> MasterObject | None:
    ref = ref_of_json(data)
    found = resolve(ctx.tx, DEVICE_KINDS, ref, "Meter")
    if found.obj is None:
        assert found.problem is not None
        ctx.fail(found.problem, found.detail, path=path, object_ref=ref, object_type="Meter")
    return found.obj


def _usage_point(
    ctx: HandlerContext,
    work: Mapping[str, Any],
    removed: MasterObject | None,
    at: datetime,
    path: str,
) -> MasterObject | None:
    given = work.get("UsagePoint")
    if given:
        ref = ref_of_json(given)
        found = resolve(ctx.tx, (ObjectKind.USAGE_POINT,), ref, "UsagePoint")
        if found.obj is None:
            assert found.problem is not None
            ctx.fail(found.problem, found.detail, path=f"{path}/UsagePoint", object_ref=ref)
        return found.obj
    if removed is not None:
        links = [
            x
            for x in ctx.tx.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=removed.mrid)
            if not x.cancelled and (x.valid_to is None or x.valid_to >= at) and x.valid_from < at
        ]
        if links:
            found_up = ctx.tx.get_object(ObjectKind.USAGE_POINT, links[-1].to_mrid)
            if found_up is not None:
                return found_up
    ctx.fail(
        Problem.INVALID_ELEMENT,
        "the work names no UsagePoint and the meter is linked to none",
        path=f"{path}/UsagePoint",
    )
    return None


def _readings(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        reading
        for meter_reading in data.get("MeterReadings", ()) or ()
        for reading in meter_reading.get("Readings", ()) or ()
    ]


def _read_time(data: Mapping[str, Any], pick: Any) -> datetime | None:
    times = [datetime.fromisoformat(r["timeStamp"]) for r in _readings(data) if r.get("timeStamp")]
    result: datetime | None = pick(times) if times else None
    return result


def _work_time(work: Mapping[str, Any], now: datetime) -> datetime:
    records = [r for r in work.get("ActivityRecords", ()) or () if r.get("createdDateTime")]
    if records:
        return max(datetime.fromisoformat(r["createdDateTime"]) for r in records)
    if work.get("lastModifiedDateTime"):
        return datetime.fromisoformat(work["lastModifiedDateTime"])
    return now


def _store_reads(
    ctx: HandlerContext, meter: MasterObject, data: Mapping[str, Any], path: str
) -> bool:
    """Final or initial register reads of a meter, as register blocks (source `field`)."""
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for reading in _readings(data):
        code = (reading.get("ReadingType") or {}).get("ref")
        if code and reading.get("timeStamp") and reading.get("value") is not None:
            by_type.setdefault(code, []).append(reading)
    if not by_type:
        return True
    blocks = [
        ReadingBlock.build(
            code,
            [int(datetime.fromisoformat(r["timeStamp"]).timestamp()) for r in rows],
            [float(r["value"]) for r in rows],
            [_qualities(r) for r in rows],
            meter=ObjectRef(mrid=meter.mrid),
            kind="register",
            source="field",
        )
        for code, rows in by_type.items()
    ]
    result = ctx.tx.ingest_readings(blocks, received_at=ctx.now, source="field")
    for item in result.rejected:
        ctx.fail(
            ctx.codes.problem_of_store_code(str(item.code)),
            item.reason,
            path=f"{path}/MeterReadings",
            object_id=meter.mrid,
            object_type="Meter",
        )
    return not result.rejected


def _qualities(reading: Mapping[str, Any]) -> Sequence[str]:
    return [
        q["ReadingQualityType"]["ref"]
        for q in reading.get("ReadingQualities", ()) or ()
        if (q.get("ReadingQualityType") or {}).get("ref")
    ]


__all__ = ["COMPLETED_STATUSES", "apply_service_requests"]
