"""What VEE reads around a channel from the store: relay and linkage history, tainting events,
check meters and usage point groups. Small per-meter queries; the readings themselves come in
blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from cimmeter.store.base import EventQuery, StoreReader
from cimmeter.store.records import LinkageKind, ObjectKind
from cimmeter.vee.model import NO_SPANS, Spans, Taint, spans

# EndDeviceEventType patterns (digest 5.2.5; the device type digit is a wildcard, digest 4.0)
OUTAGE_START: Final = "*.26.0.85"  # Power.NA.Failed
OUTAGE_END: Final = "*.26.0.216"  # Power.NA.Restored
POINT_TAINTS: Final[dict[str, str]] = {
    "*.12.0.257": "tamper detected",  # Security.NA.TamperDetected
    "*.36.0.79": "clock error",  # Clock.NA.Error
    "*.36.116.24": "clock changed",  # Clock.TimeSync.Changed
}
RELAY_OPEN: Final = "*.31.0.68"  # RCDSwitch.NA.Disconnected (C)
RELAY_CLOSED: Final = "*.31.0.42"  # RCDSwitch.NA.Connected (C)


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def at_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _matches(code: str, pattern: str) -> bool:
    parts, want = code.split("."), pattern.split(".")
    return len(parts) == len(want) and all(w in ("*", p) for p, w in zip(parts, want, strict=True))


def _open_close(
    events: list[tuple[int, str]], opening: str, closing: str, start: int, end: int, limit: int
) -> list[tuple[int, int]]:
    """Spans from an opening event to the next closing one (or `limit` seconds, or `end`)."""
    out: list[tuple[int, int]] = []
    opened: int | None = None
    for t, code in events:
        if _matches(code, opening) and opened is None:
            opened = t
        elif _matches(code, closing) and opened is not None:
            out.append((opened, t))
            opened = None
    if opened is not None:
        out.append((opened, min(end, opened + limit)))
    return [(a, b) for a, b in out if b > start and a < end]


def device_events(reader: StoreReader, meter: str, start: int, end: int) -> list[tuple[int, str]]:
    """(time, code) of the meter's events over the range, with a week before it (an outage or
    an open relay may have started earlier)."""
    found = reader.query_events(
        EventQuery(devices=[meter], start=at_epoch(start - 7 * 86_400), end=at_epoch(end))
    )
    return sorted((epoch(e.created), e.type_code) for e in found)


def chunk_events(
    reader: StoreReader, meters: list[str], start: int, end: int
) -> dict[str, list[tuple[int, str]]]:
    """`device_events` of many meters in one query."""
    out: dict[str, list[tuple[int, str]]] = {m: [] for m in meters}
    if not meters:
        return out
    found = reader.query_events(
        EventQuery(devices=meters, start=at_epoch(start - 7 * 86_400), end=at_epoch(end))
    )
    for e in found:
        if e.device_mrid in out:
            out[e.device_mrid].append((epoch(e.created), e.type_code))
    for events in out.values():
        events.sort()
    return out


def taints(
    events: list[tuple[int, str]], start: int, end: int, outage_hours: float
) -> tuple[Taint, ...]:
    out = [
        Taint(a, b, "power outage")
        for a, b in _open_close(
            events, OUTAGE_START, OUTAGE_END, start, end, int(outage_hours * 3600)
        )
    ]
    for t, code in events:
        for pattern, reason in POINT_TAINTS.items():
            if start < t <= end and _matches(code, pattern):
                out.append(Taint(t - 1, t, reason))
    return tuple(out)


def relay_open(events: list[tuple[int, str]], start: int, end: int) -> Spans:
    return spans(_open_close(events, RELAY_OPEN, RELAY_CLOSED, start, end, end - start + 1))


def inactive(reader: StoreReader, meter: str, start: int, end: int) -> Spans:
    """Where the meter was linked to no usage point within (start, end] (complement of its
    meter-usagepoint linkages). No linkage at all: the meter is not managed by usage point,
    nothing is inactive."""
    links = reader.linkages(LinkageKind.METER_USAGE_POINT, from_mrid=meter)
    if not links:
        return NO_SPANS
    covered = sorted(
        (epoch(lk.valid_from), epoch(lk.valid_to) if lk.valid_to else end) for lk in links
    )
    gaps: list[tuple[int, int]] = []
    cursor = start
    for a, b in covered:
        if a > cursor:
            gaps.append((cursor, min(a, end)))
        cursor = max(cursor, b)
    if cursor < end:
        gaps.append((cursor, end))
    return spans([(a, b) for a, b in gaps if b > a])


def check_meter(reader: StoreReader, meter: str, at: datetime) -> str | None:
    links = reader.linkages(LinkageKind.CHECK_METER, from_mrid=meter, at=at)
    return links[0].to_mrid if links else None


def groups_of(reader: StoreReader, usage_point: str | None, at: datetime) -> tuple[str, ...]:
    """The names (else mRIDs) of the usage point groups it belongs to at `at`."""
    if usage_point is None:
        return ()
    out: list[str] = []
    for link in reader.linkages(LinkageKind.GROUP_MEMBER, to_mrid=usage_point, at=at):
        group = reader.get_object(ObjectKind.USAGE_POINT_GROUP, link.from_mrid)
        if group is None:
            continue
        out.append(link.from_mrid)
        out.extend(n.name for n in group.names)
    return tuple(out)
