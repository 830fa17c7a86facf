"""Structured logs: one JSON object per line, with the fields transports attach."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from cimmeter.runtime.logging import JsonLinesFormatter, configure_logging


def test_a_record_is_one_json_line_with_its_fields() -> None:
    record = logging.LogRecord("cimmeter.http", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"status": 200, "path": "/messages", "message": "not overwritten"}
    line = JsonLinesFormatter().format(record)
    data = json.loads(line)
    assert "\n" not in line
    assert data["logger"] == "cimmeter.http" and data["level"] == "info"
    assert data["status"] == 200 and data["path"] == "/messages"
    assert data["message"] == "request"
    assert data["time"].endswith("+00:00")


def test_configure_logging_sends_every_logger_to_the_stream() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("info", stream)
        logging.getLogger("cimmeter.amqp").warning("lost", extra={"fields": {"pause_s": 0.5}})
        logging.getLogger("cimmeter.amqp").debug("not shown")
    finally:
        root.handlers, root.level = saved[0], saved[1]
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [(x["message"], x["pause_s"]) for x in lines] == [("lost", 0.5)]


def test_default_handler_follows_stderr_when_it_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A test runner (or a daemoniser) swaps sys.stderr after logging was configured; records
    # must go to the stderr of their time, never to a closed stream.
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging()
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("cimmeter.test").warning("after the swap")
    assert json.loads(second.getvalue())["message"] == "after the swap"
