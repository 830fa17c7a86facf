"""What the store keeps, as plain immutable records (no XML, no rules of the standard).

Master data is generic: every identified object (meter, usage point, customer, group, ...) is a
`MasterObject` of a `kind`, with its mRID, its Names, a few indexed attributes, and the whole
object as the lossless JSON form of its model (`document`), so vendor extensions survive.
Relationships that change over time are `Linkage`s with a validity interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class ObjectKind(StrEnum):
    """Kinds of master data the store keeps (the CIM class of the object)."""

    METER = "Meter"
    END_DEVICE = "EndDevice"
    COM_MODULE = "ComModule"
    USAGE_POINT = "UsagePoint"
    USAGE_POINT_LOCATION = "UsagePointLocation"
    SERVICE_LOCATION = "ServiceLocation"
    SERVICE_CATEGORY = "ServiceCategory"
    SERVICE_SUPPLIER = "ServiceSupplier"
    CUSTOMER = "Customer"
    CUSTOMER_ACCOUNT = "CustomerAccount"
    CUSTOMER_AGREEMENT = "CustomerAgreement"
    PRICING_STRUCTURE = "PricingStructure"
    END_DEVICE_GROUP = "EndDeviceGroup"
    USAGE_POINT_GROUP = "UsagePointGroup"
    READ_SCHEDULE = "MeterReadSchedule"
    SERVICE_REQUEST = "MeterServiceRequest"


class LinkageKind(StrEnum):
    """Relationships with validity intervals. `from` is the first-named object."""

    METER_USAGE_POINT = "meter-usagepoint"
    USAGE_POINT_AGREEMENT = "usagepoint-agreement"
    METER_COM_MODULE = "meter-commodule"
    AGREEMENT_ACCOUNT = "agreement-account"
    ACCOUNT_CUSTOMER = "account-customer"
    USAGE_POINT_LOCATION = "usagepoint-location"
    GROUP_MEMBER = "group-member"
    CHECK_METER = "meter-checkmeter"


@dataclass(frozen=True, slots=True)
class Name:
    """A CIM Name (digest 2.2.3): the name, its NameType and the NameType's authority."""

    name: str
    name_type: str | None = None
    name_type_authority: str | None = None


@dataclass(frozen=True, slots=True)
class MasterObject:
    """One identified object of master data, with its full document."""

    kind: ObjectKind
    mrid: str
    names: tuple[Name, ...] = ()
    serial_number: str | None = None
    status: str | None = None
    """Lifecycle or status value as the message gave it (e.g. `installed`, `inStock`)."""
    document: Mapping[str, Any] = field(default_factory=dict)
    """The object as the JSON form of its model (lossless; vendor elements included)."""
    version: int = 0
    """Incremented on every change; 0 for a record not yet stored."""
    updated_at: datetime | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Linkage:
    """A relationship valid over (valid_from, valid_to]; valid_to None = still open."""

    kind: LinkageKind
    from_mrid: str
    to_mrid: str
    valid_from: datetime
    valid_to: datetime | None = None
    role: str | None = None
    reason: str | None = None
    cancelled: bool = False
    id: int | None = None

    def valid_at(self, at: datetime) -> bool:
        """True when the linkage holds at `at` (half-open: from < at <= to, digest decisions)."""
        if self.cancelled or at <= self.valid_from:
            return False
        return self.valid_to is None or at <= self.valid_to


@dataclass(frozen=True, slots=True)
class ReadingTypeRecord:
    """A registered ReadingType: its 18-field code and, optionally, the names it was sent with."""

    code: str
    names: tuple[Name, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReadingVersion:
    """One version of a reading: the current one has `superseded_at` None."""

    value: float
    qualities: tuple[str, ...]
    recorded_at: datetime
    superseded_at: datetime | None
    source: str | None = None
    series: Literal["raw", "final"] = "raw"
    note: str | None = None


class RejectCode(StrEnum):
    """Why an item was rejected, as a stable symbol; the service maps it to the configured
    61968-100 error code table (digest 6.7)."""

    UNKNOWN_METER = "unknown-meter"
    AMBIGUOUS_METER = "ambiguous-meter"
    UNKNOWN_USAGE_POINT = "unknown-usage-point"
    AMBIGUOUS_USAGE_POINT = "ambiguous-usage-point"
    UNKNOWN_DEVICE = "unknown-device"
    MISSING_IDENTITY = "missing-identity"
    MALFORMED_READING_TYPE = "malformed-reading-type"
    MALFORMED_EVENT_TYPE = "malformed-event-type"
    INVALID_VALUE = "invalid-value"
    TIMESTAMP_OUT_OF_RANGE = "timestamp-out-of-range"
    TIMESTAMP_WITHOUT_ZONE = "timestamp-without-zone"
    NO_LINKED_METER = "no-linked-meter"
    SEVERAL_LINKED_METERS = "several-linked-meters"
    USAGE_POINT_MISMATCH = "usage-point-mismatch"
    DUPLICATE_EVENT = "duplicate-event"


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """Why one item of a message was not stored: which item, what was wrong, what was expected."""

    reason: str
    code: str
    """Error code (the service maps it to the configured 61968-100 code table)."""
    object_id: str | None = None
    """mRID or Name of the object concerned, as the message gave it."""
    path: str | None = None
    """Element path of the offending element (`/MeterReadings/MeterReading[3]/...`)."""
    block_index: int | None = None
    row_index: int | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting readings did, per category of row."""

    inserted: int = 0
    unchanged: int = 0
    """Same value and quality again: a no-op (DESIGN.md rule 4)."""
    versioned: int = 0
    """A different value for an existing (meter, reading type, time): the old one kept as a
    prior version."""
    rejected: Sequence[RejectedItem] = ()
    rejected_readings: int = 0
    """How many readings the rejected items cover (an item may be a whole block, e.g. an
    unknown meter, or one reading)."""

    @property
    def accepted(self) -> int:
        return self.inserted + self.unchanged + self.versioned


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An end device event (digest 3.4.1), as stored."""

    mrid: str
    type_code: str
    """EndDeviceEventType code `type.domain.subDomain.eventOrAction`, as received."""
    created: datetime
    device_mrid: str | None = None
    usage_point_mrid: str | None = None
    reason: str | None = None
    severity: str | None = None
    issuer_id: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    received_at: datetime | None = None


class ControlState(StrEnum):
    """The lifecycle of an end device control request (issue 5)."""

    REQUESTED = "requested"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    EXECUTED = "executed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """One EndDeviceControl for one device and its current state; history in `transitions`."""

    mrid: str
    type_code: str
    device_mrid: str | None
    state: ControlState
    requested_at: datetime
    correlation_id: str | None = None
    reply_address: str | None = None
    scheduled_at: datetime | None = None
    expires_at: datetime | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    transitions: tuple[tuple[ControlState, datetime, str | None], ...] = ()


class MessageDirection(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


@dataclass(frozen=True, slots=True)
class MessageLogEntry:
    """A logged message: enough to answer a retry with the stored reply and match async replies."""

    direction: MessageDirection
    verb: str
    noun: str
    message_id: str | None
    correlation_id: str | None
    source: str | None
    received_at: datetime
    status: str
    """`OK`, `PARTIAL`, `FAILED` (the Reply's Result), or `pending` for sent requests."""
    content_hash: str | None = None
    reply: bytes | None = None
    """The serialized reply we sent (inbound) or received (outbound)."""
    reply_address: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to publish once its transaction committed (DESIGN.md rule 5)."""

    destination: str
    """Where it goes: a ReplyAddress URL, `topic:<verb>.<Noun>`, or `headend`/`mdm` in-process."""
    verb: str
    noun: str
    body: bytes
    content_type: str = "application/xml"
    correlation_id: str | None = None
    message_id: str | None = None
    created_at: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """Internal time-driven work (control expiry, async request expiry, VEE after ingest)."""

    kind: str
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VeeFinding:
    """One VEE finding as stored (issue 10): a rule that failed, a method that estimated, or a
    person's edit, over the readings of one channel from `start` to `end` (interval ends)."""

    meter_mrid: str
    reading_type: str
    rule: str
    start: datetime
    end: datetime
    count: int
    reason: str
    quality: str
    usage_point_mrid: str | None = None
    actor: str | None = None
    """Who: the user of an edit; None for VEE itself."""
    run_id: int | None = None


@dataclass(frozen=True, slots=True)
class VeeRun:
    """One VEE run: when, over what range and scope, and its counts."""

    started_at: datetime
    start: datetime
    end: datetime
    scope: str
    stats: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
