"""Result from per-item outcomes; reply headers (digest 6.4, 6.8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cimmeter.message.envelope import Header, ReplyResult
from cimmeter.message.verbs import Verb
from cimmeter.service.errors import ErrorCodeTable, Problem
from cimmeter.service.replies import Outcomes, build_reply, reply_header

CODES = ErrorCodeTable.load()
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 3))
def test_result_follows_the_item_outcomes(ok: int, failed: int, notes: int) -> None:
    outcomes = Outcomes()
    outcomes.ok(ok)
    for _ in range(failed):
        outcomes.fail(CODES.error(Problem.OBJECT_NOT_FOUND))
    for _ in range(notes):
        outcomes.note(CODES.error(Problem.MESSAGE_WARNING))
    expected = (
        ReplyResult.OK if failed == 0 else ReplyResult.FAILED if ok == 0 else ReplyResult.PARTIAL
    )
    assert outcomes.result is expected
    assert len(outcomes.errors) == failed + notes


def test_a_failure_needs_a_fatal_error_and_a_note_a_mild_one() -> None:
    outcomes = Outcomes()
    with pytest.raises(ValueError, match="FATAL"):
        outcomes.fail(CODES.error(Problem.MESSAGE_WARNING))
    with pytest.raises(ValueError, match="INFORM or WARNING"):
        outcomes.note(CODES.error(Problem.OBJECT_NOT_FOUND))


def test_reply_header_is_reply_with_the_request_correlation() -> None:
    request = Header(verb=Verb.get, noun="MeterReadings", message_id="m-1", correlation_id="c-1")
    header = reply_header(request, "MeterReadings", source="MDM", message_id="r-1", now=NOW)
    assert (header.verb, header.noun, header.correlation_id) == (Verb.reply, "MeterReadings", "c-1")
    assert (header.source, header.message_id, header.timestamp) == ("MDM", "r-1", NOW)


def test_without_correlation_id_the_reply_correlates_to_the_message_id() -> None:
    request = Header(verb=Verb.created, noun="EndDeviceEvents", message_id="m-9")
    header = reply_header(request, "EndDeviceEvents", source="MDM", message_id="r", now=NOW)
    assert header.correlation_id == "m-9"


def test_ok_without_errors_gets_the_success_code() -> None:
    header = Header(verb=Verb.reply, noun="MeterReadings")
    reply = build_reply(header, ReplyResult.OK, [], codes=CODES)
    assert [(e.code, e.level.value) for e in reply.reply.errors] == [("0.0", "INFORM")]
    accepted = build_reply(header, ReplyResult.OK, [], codes=CODES, success=Problem.ACCEPTED)
    assert accepted.reply.errors[0].code == "0.3"
    partial = build_reply(
        header, ReplyResult.PARTIAL, [CODES.error(Problem.OBJECT_NOT_FOUND)], codes=CODES
    )
    assert [e.code for e in partial.reply.errors] == ["2.2"]
