"""The audit chain: every state change and every login attempt appends one hash-linked event.

Appending takes the chain lock — a transaction-scoped advisory lock on PostgreSQL; on SQLite the
IMMEDIATE transaction mode already admits one writer at a time — then reads the last event by
its `seq` index and inserts the next. Concurrent writers are serialised and the chain never
forks. Callers are actions already inside `transaction.atomic()`; the event commits or rolls
back with the change it records.

`AuditHead` anchors the tail: after each commit that appended events it is moved forward to the
last committed event (never backwards), so `verify_chain` notices events deleted from the end.
It is not updated inside the writing transaction because PostgreSQL keeps every version of a
row updated many times in one transaction, which made a 10,000-event import quadratic.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from renzhi.core.models import AuditEvent, AuditHead, User

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class RequestInfo:
    ip: str = ""
    user_agent: str = ""


# Set per request by `renzhi.core.middleware.AuditContextMiddleware`.
current_request: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar(
    "renzhi_audit_request",
    default=RequestInfo(),  # noqa: B039 (frozen, immutable)
)


def record(
    actor: User | None,
    verb: str,
    obj: models.Model | None = None,
    *,
    before: Any = None,
    after: Any = None,
    label: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    request: RequestInfo | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the caller's transaction."""
    entry = AuditEntry(verb, obj, before, after, label, object_type, object_id)
    return record_many(actor, [entry], request=request)[0]


@dataclass(frozen=True)
class AuditEntry:
    """One event to append with `record_many`."""

    verb: str
    obj: models.Model | None = None
    before: Any = None
    after: Any = None
    label: str | None = None
    object_type: str | None = None
    object_id: str | None = None


def record_many(
    actor: User | None, entries: list[AuditEntry], *, request: RequestInfo | None = None
) -> list[AuditEvent]:
    """Append several events by one actor in order, locking the chain once (bulk intake)."""
    info = request or current_request.get()
    if not entries:
        return []
    with transaction.atomic():
        _lock_chain()
        seq, prev = _tail()
        now = timezone.now()
        events = []
        for entry in entries:
            obj = entry.obj
            label = entry.label
            if label is None:
                label = str(obj) if obj is not None else ""
            seq += 1
            event = AuditEvent(
                seq=seq,
                at=now,
                actor=actor if actor is not None and actor.pk else None,
                actor_label=_actor_label(actor),
                verb=entry.verb[:64],
                object_type=(
                    entry.object_type or (obj._meta.label_lower if obj is not None else "")
                )[:64],
                object_id=(entry.object_id or (str(obj.pk) if obj is not None else ""))[:64],
                object_label=label[:200],
                before=_plain(entry.before),
                after=_plain(entry.after),
                ip=info.ip[:45],
                user_agent=info.user_agent[:300],
                prev_hash=prev,
            )
            event.hash = prev = event_hash(event)
            events.append(event)
        if len(events) == 1:
            events[0].save(force_insert=True)
        else:
            AuditEvent.objects.bulk_create(events, batch_size=1000)
        _sync_head_on_commit()
        return events


def sync_head() -> None:
    """Move the head forward to the last committed event (never backwards)."""
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    if last is None:
        return
    moved = AuditHead.objects.filter(pk=1, seq__lt=last[0]).update(seq=last[0], hash=last[1])
    if not moved and not AuditHead.objects.filter(pk=1).exists():  # a flushed database
        AuditHead.objects.get_or_create(pk=1, defaults={"seq": last[0], "hash": last[1]})


def event_hash(event: AuditEvent) -> str:
    content = {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    event_id: int | None
    seq: int
    reason: str


def verify_chain(batch_size: int = 5000) -> tuple[int, BrokenLink | None]:
    """Walk the chain in insertion order. Returns (events checked, first broken link or None).

    Every event must follow its predecessor (seq + 1, previous hash) and match its own hash.
    The head, read first, must point at an event of the chain with the same hash: a head beyond
    the last event means events were deleted from the end. Rows are read by id, not seq, so a
    row whose seq was edited is named itself rather than its neighbour.
    """
    head = _read_head()
    if head is None:
        first = AuditEvent.objects.order_by("id").first()
        if first is None:
            return 0, None
        return 0, BrokenLink(first.id, first.seq, "the chain head row is missing")
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq:
                return checked, BrokenLink(
                    event.id, event.seq, f"sequence gap: expected seq {expected_seq}"
                )
            if event.prev_hash != expected_prev:
                return checked, BrokenLink(event.id, event.seq, "previous hash does not match")
            if event_hash(event) != event.hash:
                return checked, BrokenLink(event.id, event.seq, "content does not match its hash")
            if event.seq == head.seq and event.hash != head.hash:
                return checked, BrokenLink(
                    event.id, event.seq, "the chain head hash does not match this event"
                )
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
            last_id = event.id
    if checked < head.seq:
        return checked, BrokenLink(
            None,
            expected_seq,
            f"events missing at the end: the head records {head.seq}, found {checked}",
        )
    return checked, None


def _read_head() -> AuditHead | None:
    return AuditHead.objects.filter(pk=1).first()


# Key of the PostgreSQL advisory lock that serialises appends ("RENZ" in ASCII).
CHAIN_LOCK_KEY = 0x52454E5A


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    elif connection.vendor != "sqlite":  # SQLite: BEGIN IMMEDIATE already holds the write lock
        AuditHead.objects.select_for_update().filter(pk=1).exists()


def _tail() -> tuple[int, str]:
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return last if last is not None else (0, GENESIS_HASH)


def _sync_head_on_commit() -> None:
    """Register `sync_head` once per transaction (every later append is covered by it)."""
    pending = getattr(connection, "run_on_commit", [])
    if not any(entry[1] is sync_head for entry in pending):
        transaction.on_commit(sync_head)


def _actor_label(actor: User | None) -> str:
    if actor is None or not actor.pk:
        return ""
    return f"{actor.username}"[:150]


def _plain(value: Any) -> Any:
    """Round-trip through JSON so what is hashed equals what the database gives back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))
