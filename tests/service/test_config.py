"""ServiceConfig: the ReplyAddress allowlist (DECISIONS.md: loopback only by default)."""

from __future__ import annotations

import pytest

from cimmeter.service.config import ServiceConfig


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8080/mdm/replies",
        "https://127.0.0.2/x",
        "http://localhost/replies",
        "http://[::1]:9000/",
    ],
)
def test_loopback_urls_are_allowed_by_default(address: str) -> None:
    assert ServiceConfig(role="mdm", source="MDM").reply_address_allowed(address)


@pytest.mark.parametrize(
    "address",
    [
        "http://cis.example.com/replies",
        "http://127.0.0.1.evil.example/x",
        "http://10.0.0.5/replies",
        "ftp://127.0.0.1/x",
        "cimmeter.replies",
        "http://user@[not-an-ip/",
        "",
    ],
)
def test_other_addresses_are_refused_by_default(address: str) -> None:
    assert not ServiceConfig(role="mdm", source="MDM").reply_address_allowed(address)


def test_configured_patterns_extend_or_replace_loopback() -> None:
    config = ServiceConfig(
        role="headend",
        source="HES",
        allow_reply_to=("https://mdm.example.com/*", "amqp:cimmeter.replies.*"),
    )
    assert config.reply_address_allowed("https://mdm.example.com/MeterReadings")
    assert config.reply_address_allowed("amqp:cimmeter.replies.mdm")
    assert not config.reply_address_allowed("http://127.0.0.1/x")  # loopback not listed
    assert not config.reply_address_allowed("https://mdm.example.com.evil/x")


def test_async_result_form_per_peer() -> None:
    config = ServiceConfig(role="headend", source="HES", async_result_form={"MDM-B": "created"})
    assert config.result_form_for("MDM-B") == "created"
    assert config.result_form_for("MDM-A") == "reply"
    assert config.result_form_for(None) == "reply"
    assert config.topic("created", "MeterReadings") == "topic:created.MeterReadings"
