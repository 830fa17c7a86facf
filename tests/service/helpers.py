"""Builders shared by the MDM tests: master data put straight into the store, and messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cimmeter.message.envelope import EventMessage, Header, Payload, RequestMessage
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.store.base import ReadingQuery, Store
from cimmeter.store.records import Linkage, LinkageKind, MasterObject, Name, ObjectKind
from cimmeter.xml.stream import MessageHeader
from cimmeter.xml.stream_write import meter_readings_bytes
from tests.service.conftest import T0

RT = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
"""15-minute delta forward active energy, kWh."""
RT2 = "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"
"""15-minute delta reverse active energy, kWh."""
REG = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
"""Bulk forward active energy register, kWh."""
SINCE = T0 - timedelta(days=30)


def add_meter(
    store: Store,
    mrid: str,
    *,
    name: str | None = None,
    up: str | None = None,
    since: datetime = SINCE,
) -> None:
    """A meter (named `name` when given), linked to usage point `up` from `since`."""
    with store.transaction() as tx:
        names = (Name(name, "MeterSerialNumber"),) if name else ()
        tx.put_object(
            MasterObject(
                ObjectKind.METER, mrid, names=names, document={"mRID": mrid}, updated_at=SINCE
            )
        )
        if up is not None:
            if tx.get_object(ObjectKind.USAGE_POINT, up) is None:
                tx.put_object(
                    MasterObject(
                        ObjectKind.USAGE_POINT, up, document={"mRID": up}, updated_at=SINCE
                    )
                )
            tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, mrid, up, valid_from=since))


def add_group(store: Store, kind: ObjectKind, mrid: str, members: Sequence[str]) -> None:
    with store.transaction() as tx:
        tx.put_object(MasterObject(kind, mrid, document={"mRID": mrid}, updated_at=SINCE))
        for member in members:
            tx.open_linkage(Linkage(LinkageKind.GROUP_MEMBER, mrid, member, valid_from=SINCE))


def document(noun: str, data: dict[str, object]) -> CimDocument:
    """A noun's document from its JSON form (aliases as keys)."""
    from cimmeter.message.registry import REGISTRY

    return REGISTRY.noun(noun).payload.model_validate(data)


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def quarter_hours(n: int, start: datetime = T0) -> list[int]:
    """`n` 15-minute interval ends after `start`."""
    return [epoch(start) + 900 * (i + 1) for i in range(n)]


def block(
    meter: str | ObjectRef,
    values: Sequence[float],
    *,
    reading_type: str = RT,
    start: datetime = T0,
    kind: str = "interval",
    qualities: Sequence[Sequence[str]] | None = None,
) -> ReadingBlock:
    ref = meter if isinstance(meter, ObjectRef) else ObjectRef(mrid=meter)
    return ReadingBlock.build(
        reading_type,
        quarter_hours(len(values), start),
        list(values),
        qualities,
        meter=ref,
        kind="register" if kind == "register" else "interval",
    )


def readings_bytes(
    blocks: Sequence[ReadingBlock],
    *,
    verb: str = "created",
    message_id: str | None = "mr-1",
    source: str = "HES",
    correlation_id: str | None = None,
) -> bytes:
    """A MeterReadings message as bytes, written by the streaming writer (the bulk path)."""
    header = MessageHeader(
        verb=verb,
        noun="MeterReadings",
        timestamp=T0.isoformat(),
        source=source,
        message_id=message_id,
        correlation_id=correlation_id,
    )
    return meter_readings_bytes(blocks, header=header)


def event_message(
    verb: Verb,
    document: CimDocument,
    *,
    message_id: str = "ev-1",
    source: str = "HES",
    **header: object,
) -> EventMessage:
    noun = type(document).profile
    return EventMessage(
        header=Header(verb=verb, noun=noun, message_id=message_id, source=source, **header),
        payload=Payload(document=document),
    )


def request_message(
    verb: Verb,
    document: CimDocument,
    *,
    message_id: str = "rq-1",
    source: str = "CIS",
    **header: object,
) -> RequestMessage:
    noun = type(document).profile
    return RequestMessage(
        header=Header(verb=verb, noun=noun, message_id=message_id, source=source, **header),
        payload=Payload(document=document),
    )


def stored_values(store: Store, meter: str, reading_type: str = RT) -> list[tuple[int, float]]:
    with store.snapshot() as reader:
        blocks = list(
            reader.read_readings(ReadingQuery(meters=[meter], reading_types=[reading_type]))
        )
    return [(int(t), float(v)) for b in blocks for t, v in zip(b.timestamps, b.values, strict=True)]
