"""Every row of the MDM's table answers a minimal message with a Reply, never a crash."""

from __future__ import annotations

from cimmeter.message.envelope import (
    EventMessage,
    Header,
    Message,
    Payload,
    Reply,
    ReplyResult,
    RequestMessage,
    ResponseMessage,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.service.clock import ManualClock
from cimmeter.service.config import ServiceConfig
from cimmeter.service.mdm import MDM_ROLE, MdmService
from cimmeter.store.base import Store
from tests.service.conftest import Ids
from tests.service.helpers import add_meter


def minimal(noun: str, verb: str, n: int) -> Message:
    header = Header(
        verb=Verb(verb), noun=noun, message_id=f"t-{n}", source="T", correlation_id=f"c-{n}"
    )
    entry = REGISTRY.find_noun(noun)
    payload = Payload(document=entry.payload()) if entry is not None else None
    if verb == "reply":
        return ResponseMessage(header=header, reply=Reply(result=ReplyResult.OK), payload=payload)
    if VERBS[Verb(verb)].kind is VerbKind.event:
        return EventMessage(header=header, payload=payload)
    return RequestMessage(header=header, payload=payload if verb != "get" else None)


def test_every_row_answers_without_an_internal_error(
    store: Store, clock: ManualClock, ids: Ids
) -> None:
    add_meter(store, "m-1", up="up-1")
    mdm = MdmService(ServiceConfig(role="mdm", source="MDM"), new_id=ids)
    rows = list(MDM_ROLE.handlers)
    assert len(rows) > 150
    for n, spec in enumerate(rows):
        result = mdm.handle(minimal(spec.noun, spec.verb, n), store, clock)
        codes = [e.code for e in result.reply.reply.errors]
        assert not result.fault, (spec.noun, spec.verb, result.reply_xml)
        assert "3.1" not in codes and "1.3" not in codes, (spec.noun, spec.verb, codes)
        assert isinstance(result.reply, ResponseMessage)
        assert result.reply.header.noun == spec.noun
