"""Message log (idempotency, correlation), outbox, jobs, events and controls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cimmeter.store import (
    ControlTransitionError,
    DuplicateMessageError,
    EventQuery,
    Store,
    StoreError,
)
from cimmeter.store.records import (
    ControlRecord,
    ControlState,
    EventRecord,
    Job,
    Linkage,
    LinkageKind,
    MasterObject,
    MessageDirection,
    MessageLogEntry,
    ObjectKind,
    OutboxMessage,
    RejectCode,
)
from tests.store.conftest import T0

H = timedelta(hours=1)


def inbound(message_id: str | None, source: str | None = "CIS", **kw: object) -> MessageLogEntry:
    return MessageLogEntry(
        direction=MessageDirection.INBOUND,
        verb=str(kw.pop("verb", "create")),
        noun=str(kw.pop("noun", "MeterReadings")),
        message_id=message_id,
        correlation_id=kw.pop("correlation_id", None),  # type: ignore[arg-type]
        source=source,
        received_at=T0,
        status="OK",
        reply=kw.pop("reply", b"<reply/>"),  # type: ignore[arg-type]
    )


def test_idempotency_key_is_source_and_message_id(store: Store) -> None:
    with store.transaction() as tx:
        entry = tx.log_message(inbound("msg-1"))
        tx.log_message(inbound("msg-1", source="OTHER"))  # another source: another key
        tx.log_message(inbound("msg-1", source=None))
        tx.log_message(inbound(None))  # no MessageID: no de-duplication
        tx.log_message(inbound(None))
    assert entry.id is not None
    with store.snapshot() as snap:
        found = snap.find_message("CIS", "msg-1")
        assert found is not None
        assert found.reply == b"<reply/>"
        assert found.id == entry.id
        assert snap.find_message(None, "msg-1") is not None
        assert snap.find_message("CIS", "msg-2") is None

    def log_again() -> None:
        with store.transaction() as tx:
            tx.log_message(inbound("msg-1"))

    with pytest.raises(DuplicateMessageError, match="msg-1 from CIS"):
        log_again()


def test_update_message_and_correlation(store: Store) -> None:
    with store.transaction() as tx:
        request = tx.log_message(
            MessageLogEntry(
                MessageDirection.OUTBOUND,
                "get",
                "MeterReadings",
                "out-1",
                "corr-9",
                "MDM",
                T0,
                "pending",
            )
        )
        tx.log_message(inbound("in-7", correlation_id="corr-9", verb="reply"))
        assert request.id is not None
        tx.update_message(request.id, status="OK", reply=b"<data/>")
        with pytest.raises(StoreError, match="no message log entry"):
            tx.update_message(10_000, status="OK", reply=None)
    with store.snapshot() as snap:
        both = snap.find_by_correlation("corr-9")
        assert [e.direction for e in both] == [MessageDirection.OUTBOUND, MessageDirection.INBOUND]
        assert both[0].status == "OK"
        assert both[0].reply == b"<data/>"
        assert [e.message_id for e in snap.find_by_correlation("corr-9", direction="in")] == [
            "in-7"
        ]


def test_outbox_lifecycle(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.enqueue(
            OutboxMessage(
                "topic:created.EndDeviceEvents",
                "created",
                "EndDeviceEvents",
                b"<a/>",
                created_at=T0,
            )
        )
        second = tx.enqueue(
            OutboxMessage(
                "http://127.0.0.1/reply", "reply", "MeterReadings", b"<b/>", correlation_id="c1"
            )
        )
    assert first.id is not None
    assert second.id is not None
    with store.transaction() as tx:
        tx.mark_failed(first.id, "connection refused")
        tx.mark_sent(second.id, T0 + H)
        with pytest.raises(StoreError, match="no outbox message"):
            tx.mark_sent(999, T0)
    with store.snapshot() as snap:
        pending = snap.pending_outbox()
    assert [(m.id, m.attempts, m.last_error, m.body) for m in pending] == [
        (first.id, 1, "connection refused", b"<a/>")
    ]


def test_outbox_rows_commit_with_the_message_or_not_at_all(store: Store) -> None:
    def handle_and_fail() -> None:
        with store.transaction() as tx:
            tx.log_message(inbound("m-1"))
            tx.enqueue(OutboxMessage("topic:x", "created", "EndDeviceEvents", b"<a/>"))
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        handle_and_fail()
    with store.snapshot() as snap:
        assert snap.pending_outbox() == []
        assert snap.find_message("CIS", "m-1") is None


def test_jobs(store: Store) -> None:
    with store.transaction() as tx:
        late = tx.schedule_job(Job("control-expiry", T0 + 2 * H, {"control": "c1"}))
        soon = tx.schedule_job(Job("async-expiry", T0 + H, {"correlation": "x"}))
    with store.snapshot() as snap:
        assert snap.due_jobs(T0) == []
        assert [j.kind for j in snap.due_jobs(T0 + 3 * H)] == ["async-expiry", "control-expiry"]
        assert snap.due_jobs(T0 + H)[0].payload == {"correlation": "x"}
    assert soon.id is not None
    assert late.id is not None
    with store.transaction() as tx:
        tx.finish_job(soon.id, T0 + H)
    with store.snapshot() as snap:
        assert [j.id for j in snap.due_jobs(T0 + 3 * H)] == [late.id]


def devices(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_object(MasterObject(ObjectKind.METER, "m1", updated_at=T0))
        tx.put_object(MasterObject(ObjectKind.END_DEVICE, "d1", updated_at=T0))
        tx.put_object(MasterObject(ObjectKind.USAGE_POINT, "u1", updated_at=T0))
        tx.open_linkage(Linkage(LinkageKind.METER_USAGE_POINT, "m1", "u1", T0 - H))


def event(mrid: str, code: str = "3.26.38.150", **kw: object) -> EventRecord:
    return EventRecord(
        mrid=mrid,
        type_code=code,
        created=kw.pop("created", T0 + H),  # type: ignore[arg-type]
        **kw,
    )  # type: ignore[arg-type]


def test_events_are_stored_attributed_and_idempotent(store: Store) -> None:
    devices(store)
    with store.transaction() as tx:
        rejected = tx.add_events(
            [
                event("e1", device_mrid="m1", details={"voltage": "207"}),
                event("e2", "1.26.25.85", device_mrid="d1"),
                event("e3", usage_point_mrid="u1", created=T0 + 2 * H),
                event("e4", device_mrid="ghost"),
                event("e5", "3.26.x.150", device_mrid="m1"),
                event("e6", device_mrid="m1", created=(T0 + H).replace(tzinfo=None)),
                event("e7"),
            ]
        )
    assert [(r.block_index, r.code) for r in rejected] == [
        (3, RejectCode.UNKNOWN_DEVICE),
        (4, RejectCode.MALFORMED_EVENT_TYPE),
        (5, RejectCode.TIMESTAMP_WITHOUT_ZONE),
        (6, RejectCode.MISSING_IDENTITY),
    ]
    with store.transaction() as tx:
        again = tx.add_events([event("e1", device_mrid="m1", details={"voltage": "207"})])
        conflict = tx.add_events([event("e1", device_mrid="m1", details={"voltage": "999"})])
    assert again == []
    assert [r.code for r in conflict] == [RejectCode.DUPLICATE_EVENT]
    with store.snapshot() as snap:
        everything = snap.query_events(EventQuery())
        assert [(e.mrid, e.device_mrid, e.usage_point_mrid) for e in everything] == [
            ("e1", "m1", "u1"),  # usage point from the linkage at the event's time
            ("e2", "d1", None),
            ("e3", "m1", "u1"),  # device from the linkage
        ]
        assert everything[0].details == {"voltage": "207"}
        assert [e.mrid for e in snap.query_events(EventQuery(type_patterns=["*.26.38.*"]))] == [
            "e1",
            "e3",
        ]
        assert [e.mrid for e in snap.query_events(EventQuery(devices=["d1"]))] == ["e2"]
        assert [e.mrid for e in snap.query_events(EventQuery(usage_points=["u1"], limit=1))] == [
            "e1"
        ]
        window = EventQuery(start=T0 + H, end=T0 + 2 * H)  # half-open: e3 only
        assert [e.mrid for e in snap.query_events(window)] == ["e3"]


def test_control_lifecycle(store: Store) -> None:
    control = ControlRecord(
        "ctl-1",
        "3.31.0.18",
        "m1",
        ControlState.REQUESTED,
        T0,
        correlation_id="c-1",
        reply_address="http://127.0.0.1/cb",
        expires_at=T0 + 4 * H,
        document={"reason": "debt"},
    )
    with store.transaction() as tx:
        stored = tx.put_control(control)
        with pytest.raises(StoreError, match="already recorded"):
            tx.put_control(control)
    assert stored.transitions == ((ControlState.REQUESTED, T0, None),)
    with store.transaction() as tx:
        tx.transition_control("ctl-1", ControlState.SENT, T0 + H)
        done = tx.transition_control("ctl-1", ControlState.EXECUTED, T0 + 2 * H, "relay open")
    assert done.state is ControlState.EXECUTED
    assert [t[0] for t in done.transitions] == [
        ControlState.REQUESTED,
        ControlState.SENT,
        ControlState.EXECUTED,
    ]
    assert done.transitions[-1] == (ControlState.EXECUTED, T0 + 2 * H, "relay open")
    with store.transaction() as tx, pytest.raises(ControlTransitionError, match="is executed"):
        tx.transition_control("ctl-1", ControlState.CANCELLED, T0 + 3 * H)
    with store.snapshot() as snap:
        assert [c.mrid for c in snap.find_controls(correlation_id="c-1")] == ["ctl-1"]
        assert snap.find_controls(states=[ControlState.REQUESTED]) == []
        assert [
            c.mrid for c in snap.find_controls(device_mrid="m1", states=[ControlState.EXECUTED])
        ] == ["ctl-1"]
        got = snap.get_control("ctl-1")
        assert got is not None
        assert got.document == {"reason": "debt"}
        assert got.expires_at == T0 + 4 * H
        assert snap.get_control("nope") is None
