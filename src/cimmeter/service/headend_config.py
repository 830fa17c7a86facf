"""Meter configuration and links at the head-end (digest 4.10, 4.14, 4.15).

MeterConfig from the MDM (direction A of 4.15; Connexo: create/change/delete, V(impl)):
- `create`: per Meter (an item): named by mRID, Names or serial number. A meter the device
  network has already is recorded as configured; one it does not have is commissioned in it
  (the simulated network adds a virtual meter, DECISIONS.md) and `created MeterConfig` is
  published with the request's CorrelationID (digest 4.10 step 6). A meter configured before
  with the same content is an OK no-op; other content fails `object-exists` (Connexo's "fail on
  existent device"; use `change`). A Meter without mRID gets one (returned in Reply/ID).
- `change`: the stored configuration takes the elements given (top-level elements replace).
- `delete`: the meter is removed (history kept): reads and controls naming it fail from then on.
The kind of a new meter follows `EndDeviceInfo/capability` (gasMetering, waterMetering; else
electric) (M: the profile has no other kind of meter).

Discovery (direction B): `discover` publishes `created MeterConfig` for meters the head-end
found, e.g. the simulated fleet (`fleet_meter_config`).

MasterDataLinkageConfig from the MDM (digest 4.10 step 5, 4.14; Connexo create/close,
V(impl)): the head-end keeps only what it uses, meter <-> usage point links, to name the usage
point of the readings and events it sends (the MDM stays the system of record, digest 1.3.5).
`ConfigurationEvent/effectiveDateTime` is required. `create` links each Meter/EndDevice with
each UsagePoint from that time (the same link in force: OK no-op; a meter linked elsewhere:
FAILED item "meter already linked to another usage point"); `close` ends the link then (a link
already ended: OK no-op). Other objects in the message are acknowledged with an INFORM.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from cimmeter.headend.fleet import Fleet, MeterKind
from cimmeter.message.envelope import ID, IDKind
from cimmeter.message.verbs import Verb
from cimmeter.model.identity import ObjectRef
from cimmeter.model.master_data_linkage_config import MasterDataLinkageConfig
from cimmeter.model.meter_config import MeterConfig
from cimmeter.service.core import Handled, HandlerContext
from cimmeter.service.errors import Problem, RequestFailed
from cimmeter.service.headend_common import HeadEnd, Named, Work, publish, resolve_targets
from cimmeter.service.refs import names_of_json, ref_of, ref_of_json
from cimmeter.store.base import StoreError
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, ObjectKind

Json = dict[str, Any]

KIND_OF_CAPABILITY: Final[dict[str, MeterKind]] = {
    # EndDeviceInfo/capability flag -> kind of simulated meter (digest 3.6.1; M)
    "gasMetering": "gas",
    "waterMetering": "water",
}

LINKED_ELEMENTS: Final = ("Meter", "EndDevice")
"""Elements of MasterDataLinkageConfig whose objects the head-end links to UsagePoints."""


def _meters(ctx: HandlerContext) -> list[Json]:
    document = ctx.inbound.document
    if not isinstance(document, MeterConfig) or not document.meter:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "the Payload needs MeterConfig with at least one Meter (digest 3.6.1)",
                path="/Payload",
            )
        )
    data = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return list(data.get("Meter", []))


def _kind(meter: Json) -> MeterKind:
    capability = (meter.get("EndDeviceInfo") or {}).get("capability") or {}
    for flag, kind in KIND_OF_CAPABILITY.items():
        if capability.get(flag):
            return kind
    return "electric"


def _object(mrid: str, meter: Json, now: datetime) -> MasterObject:
    status = (meter.get("status") or {}).get("value")
    return MasterObject(
        kind=ObjectKind.METER,
        mrid=mrid,
        names=names_of_json(meter),
        serial_number=meter.get("serialNumber"),
        status=status,
        document={**meter, "mRID": mrid},
        updated_at=now,
    )


def create_meter_config(he: HeadEnd, ctx: HandlerContext) -> Handled:
    ids: list[ID] = []
    commissioned: list[Json] = []
    for index, meter in enumerate(_meters(ctx), 1):
        path = f"/MeterConfig/Meter[{index}]"
        ref = ref_of_json(meter)
        if ref is None:
            meter = {**meter, "mRID": str(uuid.uuid4())}
            ref = ObjectRef(mrid=meter["mRID"])
        stored = ctx.tx.get_object(ObjectKind.METER, ref.mrid) if ref.mrid else None
        if stored is not None and not stored.deleted:
            if dict(stored.document) == {**meter, "mRID": stored.mrid}:
                ctx.ok()
                ids.append(ID(value=stored.mrid, kind=IDKind.uuid, object_type="Meter"))
                continue
            ctx.fail(
                Problem.OBJECT_EXISTS,
                f"meter {ref.describe()} is configured already with other content; use change",
                path=path,
                object_ref=ref,
                object_type="Meter",
            )
            continue
        (known,) = he.network.identify([ref])
        if isinstance(known, ObjectRef) and known.mrid:
            mrid = known.mrid
        else:
            if not ref.mrid:
                meter = {**meter, "mRID": str(uuid.uuid4())}
            added = he.network.add_meter(
                ObjectRef(mrid=meter.get("mRID") or ref.mrid), _kind(meter)
            )
            assert added.mrid is not None
            mrid = added.mrid
            commissioned.append({**meter, "mRID": mrid})
        ctx.tx.put_object(_object(mrid, meter, ctx.now))
        ctx.ok()
        ids.append(ID(value=mrid, kind=IDKind.uuid, object_type="Meter"))
    if commissioned:
        publish(
            ctx,
            Verb.created,
            "MeterConfig",
            MeterConfig.model_validate({"Meter": commissioned}),
            correlation_id=ctx.header.correlation_id or ctx.header.message_id,
        )
    return Handled(ids=tuple(ids))


def change_meter_config(he: HeadEnd, ctx: HandlerContext) -> Handled:
    for index, meter in enumerate(_meters(ctx), 1):
        path = f"/MeterConfig/Meter[{index}]"
        targets = resolve_targets(
            he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, [Named("Meter", path, ref_of_json(meter))]
        )
        if not targets:
            continue
        stored = ctx.tx.get_object(ObjectKind.METER, targets[0].mrid)
        merged = {**(dict(stored.document) if stored is not None else {}), **meter}
        ctx.tx.put_object(_object(targets[0].mrid, merged, ctx.now))
        ctx.ok()
    return Handled()


def delete_meter_config(he: HeadEnd, ctx: HandlerContext) -> Handled:
    for index, meter in enumerate(_meters(ctx), 1):
        path = f"/MeterConfig/Meter[{index}]"
        targets = resolve_targets(
            he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, [Named("Meter", path, ref_of_json(meter))]
        )
        if not targets:
            continue
        mrid = targets[0].mrid
        if ctx.tx.get_object(ObjectKind.METER, mrid) is None:
            ctx.tx.put_object(_object(mrid, meter, ctx.now))
        ctx.tx.delete_object(ObjectKind.METER, mrid, ctx.now)
        ctx.ok()
    return Handled()


def discover(work: Work, document: MeterConfig) -> None:
    """Direction B of digest 4.15: record the meters and publish `created MeterConfig`."""
    data = document.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for meter in data.get("Meter", []):
        if meter.get("mRID"):
            work.tx.put_object(_object(meter["mRID"], meter, work.now))
    publish(work, Verb.created, "MeterConfig", document)


def fleet_meter_config(fleet: Fleet, indexes: Iterable[int]) -> MeterConfig:
    """MeterConfig of simulated meters: mRID, name, serial number, kind (EndDeviceInfo)."""
    meters = []
    for index in indexes:
        info = fleet.meter_info(index)
        capability = {"gas": "gasMetering", "water": "waterMetering"}.get(
            info.kind, "electricMetering"
        )
        meters.append(
            {
                "mRID": info.mrid,
                "serialNumber": info.serial_number,
                "EndDeviceInfo": {"capability": {capability: True}},
                "Names": [{"name": info.name}],
            }
        )
    return MeterConfig.model_validate({"Meter": meters})


# -- MasterDataLinkageConfig ---------------------------------------------------------------------


def _linkage_document(ctx: HandlerContext) -> tuple[MasterDataLinkageConfig, datetime]:
    document = ctx.inbound.document
    if not isinstance(document, MasterDataLinkageConfig):
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "the Payload needs a MasterDataLinkageConfig (digest 3.8.1)",
                path="/Payload",
            )
        )
    event = document.configuration_event
    effective = event.effective_date_time if event is not None else None
    if effective is None:
        raise RequestFailed(
            ctx.error(
                Problem.INVALID_ELEMENT,
                "ConfigurationEvent/effectiveDateTime is required (digest 4.14)",
                path="/MasterDataLinkageConfig/ConfigurationEvent",
            )
        )
    return document, effective


def _pairs(
    he: HeadEnd, ctx: HandlerContext, document: MasterDataLinkageConfig
) -> list[tuple[str, str, str]]:
    """(meter mRID, usage point mRID, path) of every Meter/EndDevice x UsagePoint pair."""
    named = [
        *(
            Named("EndDevice", f"/MasterDataLinkageConfig/Meter[{i}]", ref_of(m))
            for i, m in enumerate(document.meter, 1)
        ),
        *(
            Named("EndDevice", f"/MasterDataLinkageConfig/EndDevice[{i}]", ref_of(d))
            for i, d in enumerate(document.end_device, 1)
        ),
    ]
    usage_points = []
    for i, up in enumerate(document.usage_point, 1):
        if up.mrid:
            usage_points.append(up.mrid)
        else:
            ctx.fail(
                Problem.INVALID_ELEMENT,
                "the head-end links usage points by mRID",
                path=f"/MasterDataLinkageConfig/UsagePoint[{i}]",
                object_ref=ref_of(up),
                object_type="UsagePoint",
            )
    others = [
        name
        for name in (
            "CustomerAgreement",
            "CustomerAccount",
            "Customer",
            "ServiceLocation",
            "ComModule",
        )
        if getattr(document, _field(name))
    ]
    if others:
        ctx.note(
            Problem.MESSAGE_WARNING,
            f"the head-end keeps only meter-usage point links; {', '.join(others)} acknowledged "
            "and not kept",
            path="/MasterDataLinkageConfig",
        )
    if not named or not usage_points:
        if not ctx.outcomes.failed:
            raise RequestFailed(
                ctx.error(
                    Problem.INVALID_ELEMENT,
                    "a link at the head-end needs a Meter (or EndDevice) and a UsagePoint",
                    path="/MasterDataLinkageConfig",
                )
            )
        return []
    targets = resolve_targets(he, ctx.tx, ctx.now, ctx.codes, ctx.outcomes, named)
    return [(t.mrid, up, t.path) for t in targets for up in usage_points]


def _field(element: str) -> str:
    return {
        "CustomerAgreement": "customer_agreement",
        "CustomerAccount": "customer_account",
        "Customer": "customer",
        "ServiceLocation": "service_location",
        "ComModule": "com_module",
    }[element]


def create_linkage(he: HeadEnd, ctx: HandlerContext) -> Handled:
    document, effective = _linkage_document(ctx)
    reason = document.configuration_event.reason if document.configuration_event else None
    for meter, usage_point, path in _pairs(he, ctx, document):
        if any(
            link.to_mrid == usage_point
            and link.valid_from <= effective
            and (link.valid_to is None or effective < link.valid_to)
            for link in ctx.tx.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=meter)
        ):
            ctx.ok()  # digest 4.14: already linked to the same usage point -> no-op
            continue
        try:
            ctx.tx.open_linkage(
                Linkage(LinkageKind.METER_USAGE_POINT, meter, usage_point, effective, reason=reason)
            )
        except StoreError as exc:
            ctx.fail(
                Problem.INVALID_RELATIONSHIP,
                f"meter {meter} cannot be linked to usage point {usage_point} from "
                f"{effective.isoformat()}: {exc}",
                path=path,
                reason="meter already linked to another usage point",
                object_id=meter,
                object_type="Meter",
            )
            continue
        ctx.ok()
    return Handled()


def close_linkage(he: HeadEnd, ctx: HandlerContext) -> Handled:
    document, effective = _linkage_document(ctx)
    for meter, usage_point, path in _pairs(he, ctx, document):
        try:
            ctx.tx.close_linkage(LinkageKind.METER_USAGE_POINT, meter, usage_point, effective)
        except StoreError as exc:
            ended = [
                link
                for link in ctx.tx.linkages(
                    LinkageKind.METER_USAGE_POINT, from_mrid=meter, to_mrid=usage_point
                )
                if link.valid_to is not None and link.valid_to <= effective
            ]
            if ended:
                ctx.ok()  # already ended: no-op
                continue
            ctx.fail(
                Problem.INVALID_RELATIONSHIP,
                f"no link of meter {meter} to usage point {usage_point} to end at "
                f"{effective.isoformat()}: {exc}",
                path=path,
                object_id=meter,
                object_type="Meter",
            )
            continue
        ctx.ok()
    return Handled()


__all__ = [
    "KIND_OF_CAPABILITY",
    "change_meter_config",
    "close_linkage",
    "create_linkage",
    "create_meter_config",
    "delete_meter_config",
    "discover",
    "fleet_meter_config",
]
