"""The namespaces of 61968-9 messages, what we emit and what we accept (digest 2.1, 6.11).

Emitted: profiles `http://iec.ch/TC57/2011/<Profile>#`, envelope
`http://iec.ch/TC57/2011/schema/message`, typed SOAP wrappers `http://iec.ch/TC57/2011/<Noun>Message`.
Accepted (DECISIONS.md): message namespaces of 2011 (with or without `www.`), `www.../2008` and
`2021` (structure unknown: read as 2011 with a warning), and any wrapper namespace ending in
`<Noun>Message`. The tables below are data; readers call `message_generation` / `profile_of`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_NS = "http://iec.ch/TC57/2011/schema/message"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

PROFILE_BASE = "http://iec.ch/TC57/2011/"


@dataclass(frozen=True, slots=True)
class MessageNamespace:
    uri: str
    generation: str
    warning: str | None
    """What a reader reports when it meets this namespace (None: the one we emit)."""


ACCEPTED_MESSAGE_NAMESPACES: dict[str, MessageNamespace] = {
    ns.uri: ns
    for ns in (
        MessageNamespace(MESSAGE_NS, "2011", None),
        MessageNamespace(
            "http://www.iec.ch/TC57/2011/schema/message",
            "2011",
            "message namespace spelled with 'www.' (digest 2.1.2); read as 2011",
        ),
        MessageNamespace(
            "http://www.iec.ch/TC57/2008/schema/message",
            "2008",
            "61968-9 Ed.1 (2008) message namespace; read as 2011 (digest 6.11)",
        ),
        MessageNamespace(
            "http://iec.ch/TC57/2021/schema/message",
            "2021",
            "IEC 61968-100 Ed.2 (2021) message namespace, structure unverified; read as 2011",
        ),
    )
}

# <base><Noun>Message with an optional Get prefix; 2011 and 2017 wrappers both seen (digest 6.11).
_WRAPPER = re.compile(r"^https?://(?:www\.)?iec\.ch/TC57/(\d{4})/(Get)?([A-Za-z]+)Message$")
# profile namespace: .../TC57/<year>/<Profile>#
_PROFILE = re.compile(r"^https?://(?:www\.)?iec\.ch/TC57/(\d{4})/([A-Za-z]+)#$")


def profile_ns(profile: str) -> str:
    """The namespace we emit for a profile, e.g. `MeterReadings` -> `.../2011/MeterReadings#`."""
    return f"{PROFILE_BASE}{profile}#"


def wrapper_ns(noun: str, *, get: bool = False) -> str:
    """The typed SOAP wrapper namespace: `.../2011/<Noun>Message` or `.../2011/Get<Noun>Message`."""
    return f"{PROFILE_BASE}{'Get' if get else ''}{noun}Message"


def message_generation(uri: str) -> MessageNamespace | None:
    """The accepted envelope namespace `uri` is, or None when it is not one."""
    return ACCEPTED_MESSAGE_NAMESPACES.get(uri)


@dataclass(frozen=True, slots=True)
class WrapperNamespace:
    year: str
    noun: str
    get: bool


def wrapper_of(uri: str) -> WrapperNamespace | None:
    """Decode a typed wrapper namespace (`.../<year>/[Get]<Noun>Message`), any year."""
    m = _WRAPPER.match(uri)
    return WrapperNamespace(m.group(1), m.group(3), bool(m.group(2))) if m else None


@dataclass(frozen=True, slots=True)
class ProfileNamespace:
    year: str
    profile: str
    canonical: bool
    """True for exactly what we emit (2011, no `www.`, http)."""


def profile_of(uri: str) -> ProfileNamespace | None:
    """Decode a profile namespace (`.../<year>/<Profile>#`), any year or spelling."""
    m = _PROFILE.match(uri)
    if not m:
        return None
    return ProfileNamespace(m.group(1), m.group(2), uri == profile_ns(m.group(2)))
