"""Replies the way integrators expect them (digest 6.4, 6.8; issue 6, "Replies").

`Outcomes` counts what happened to each item of a message (a MeterReading, an event, a config
object, a selector of a query) and collects one `Error` per failed item. The Result follows:
OK when no item failed, FAILED when none succeeded, PARTIAL otherwise (digest 6.4, as Connexo
computes it). Warnings and notes never change the Result.

Every ResponseMessage we send has verb `reply` (DECISIONS.md), the noun of the message it
answers, our Source, a fresh MessageID, and the request's CorrelationID, or its MessageID when
the request has no CorrelationID (digest 6.8: the three matching conventions in use all work).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cimmeter.message.envelope import (
    ID,
    Error,
    ErrorLevel,
    EventMessage,
    FaultMessage,
    Header,
    Payload,
    Reply,
    ReplyResult,
    ResponseMessage,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.service.errors import ErrorCodeTable, Problem

_NOT_FAILURES = (ErrorLevel.INFORM, ErrorLevel.WARNING)


@dataclass(slots=True)
class Outcomes:
    """Per-item outcomes of one message, and the Errors to report."""

    succeeded: int = 0
    failed: int = 0
    errors: list[Error] = field(default_factory=list)

    def ok(self, count: int = 1) -> None:
        """`count` items were applied (or were already there: a no-op is a success)."""
        self.succeeded += count

    def fail(self, error: Error, count: int = 1) -> None:
        """One item (covering `count` sub-items, e.g. readings) was not applied."""
        if error.level in _NOT_FAILURES:
            raise ValueError(f"a failed item needs a FATAL or CATASTROPHIC error: {error}")
        self.failed += count
        self.errors.append(error)

    def note(self, error: Error) -> None:
        """A warning or information that does not change the Result."""
        if error.level not in _NOT_FAILURES:
            raise ValueError(f"a note is INFORM or WARNING: {error}")
        self.errors.append(error)

    def incomplete(self, error: Error) -> None:
        """The answer leaves something out (a limit was reached): counts as a failed part,
        so the Result is PARTIAL, with a WARNING saying what is missing."""
        self.failed += 1
        self.errors.append(error)

    def merge(self, other: Outcomes) -> None:
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.errors.extend(other.errors)

    @property
    def result(self) -> ReplyResult:
        if self.failed == 0:
            return ReplyResult.OK
        if self.succeeded == 0:
            return ReplyResult.FAILED
        return ReplyResult.PARTIAL


def correlation_of(header: Header) -> str | None:
    """What a reply to `header` carries as CorrelationID (see the module docstring)."""
    return header.correlation_id or header.message_id


def reply_header(
    request: Header | None, noun: str, *, source: str, message_id: str, now: datetime
) -> Header:
    return Header(
        verb=Verb.reply,
        noun=noun,
        timestamp=now,
        source=source,
        message_id=message_id,
        correlation_id=correlation_of(request) if request is not None else None,
    )


def build_reply(
    header: Header,
    result: ReplyResult,
    errors: Sequence[Error],
    *,
    codes: ErrorCodeTable,
    payload: CimDocument | None = None,
    ids: Sequence[ID] = (),
    success: Problem = Problem.OK,
) -> ResponseMessage:
    """A ResponseMessage. A Result OK without any Error gets the success code (`0.0`, or `0.3`
    for an asynchronous acknowledgement: digest 6.7 rule 2)."""
    if result is ReplyResult.OK and not errors:
        errors = (codes.error(success),)
    return ResponseMessage(
        header=header,
        reply=Reply(result=result, errors=tuple(errors), ids=tuple(ids)),
        payload=Payload(document=payload) if payload is not None else None,
    )


def failed_reply(
    header: Header, errors: Sequence[Error], *, codes: ErrorCodeTable
) -> ResponseMessage:
    return build_reply(header, ReplyResult.FAILED, errors, codes=codes)


def event_message(
    verb: Verb,
    noun: str,
    document: CimDocument | None,
    *,
    source: str,
    message_id: str,
    now: datetime,
    correlation_id: str | None = None,
    reply: Reply | None = None,
) -> EventMessage:
    """An EventMessage (published event, or an asynchronous result in the `created` form; then
    `reply` carries its Result, the Connexo variant the digest describes in 6.1)."""
    return EventMessage(
        header=Header(
            verb=verb,
            noun=noun,
            timestamp=now,
            source=source,
            message_id=message_id,
            correlation_id=correlation_id,
        ),
        reply=reply,
        payload=Payload(document=document) if document is not None else None,
    )


def fault(errors: Sequence[Error]) -> FaultMessage:
    """A FaultMessage: only for input that cannot be processed at all (DECISIONS.md)."""
    return FaultMessage(reply=Reply(result=ReplyResult.FAILED, errors=tuple(errors)))


__all__ = [
    "Outcomes",
    "build_reply",
    "correlation_of",
    "event_message",
    "failed_reply",
    "fault",
    "reply_header",
]
