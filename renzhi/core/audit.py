"""The audit chain: every state change and every login attempt appends one hash-linked event.

Appending locks the single `AuditHead` row (`select_for_update`), so concurrent writers are
serialised and the chain never forks; on SQLite the IMMEDIATE transaction mode does the same.
Callers are actions already inside `transaction.atomic()`; the event commits or rolls back with
the change it records.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
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
    info = request or current_request.get()
    if label is None:
        label = str(obj) if obj is not None else ""
    with transaction.atomic():
        head = _locked_head()
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_label=_actor_label(actor),
            verb=verb[:64],
            object_type=(object_type or (obj._meta.label_lower if obj is not None else ""))[:64],
            object_id=(object_id or (str(obj.pk) if obj is not None else ""))[:64],
            object_label=label[:200],
            before=_plain(before),
            after=_plain(after),
            ip=info.ip[:45],
            user_agent=info.user_agent[:300],
            prev_hash=head.hash,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        AuditHead.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)
        return event


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

    The head is read first and the walk stops at its seq: events appended while we walk belong
    to a later check, so a busy system is not reported as broken. Rows are read by id, not seq,
    so a row whose seq was edited is named itself rather than its neighbour.
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
    last_event_id: int | None = None
    while checked < head.seq:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if checked == head.seq:
                break
            if event.seq != expected_seq:
                return checked, BrokenLink(
                    event.id, event.seq, f"sequence gap: expected seq {expected_seq}"
                )
            if event.prev_hash != expected_prev:
                return checked, BrokenLink(event.id, event.seq, "previous hash does not match")
            if event_hash(event) != event.hash:
                return checked, BrokenLink(event.id, event.seq, "content does not match its hash")
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
            last_id = last_event_id = event.id
    if checked < head.seq:
        return checked, BrokenLink(
            None,
            expected_seq,
            f"events missing at the end: the head records {head.seq}, found {checked}",
        )
    if head.hash != expected_prev:
        return checked, BrokenLink(
            last_event_id, head.seq, "the chain head hash does not match the last event"
        )
    # Rows past the head are fine only if the head has moved on since (a concurrent append).
    # Read the rows first: an event is visible only together with its head update.
    beyond = AuditEvent.objects.filter(seq__gt=head.seq).order_by("-seq").first()
    if beyond is not None:
        current = AuditHead.objects.get(pk=head.pk)
        if beyond.seq > current.seq:
            return checked, BrokenLink(
                beyond.id, beyond.seq, "event lies beyond the chain head (head rolled back?)"
            )
    return checked, None


def _read_head() -> AuditHead | None:
    return AuditHead.objects.filter(pk=1).first()


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.get_or_create(pk=1)
        head = AuditHead.objects.select_for_update().get(pk=1)
    return head


def _actor_label(actor: User | None) -> str:
    if actor is None or not actor.pk:
        return ""
    return f"{actor.username}"[:150]


def _plain(value: Any) -> Any:
    """Round-trip through JSON so what is hashed equals what the database gives back."""
    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))
