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

Hashes alone do not stop someone who can write to the database: they can rewrite the whole
chain and recompute every hash. So each event also carries `hmac`, an HMAC-SHA256 of its hash
under `RENZHI_AUDIT_KEY`, a key that lives in the environment, not in the database; it is
computed where the hash is computed (a future sequencer that replaces the chain lock keeps it).
`write_anchor` appends the head's seq, hash and a keyed digest to an append-only file outside
the database (and to the `renzhi.audit.anchor` logger, which operators may route to syslog), so
even a writer who holds the key cannot rewrite history before the last anchor unnoticed.
`verify_chain` checks all three.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import os
import warnings
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from renzhi.core.models import AuditEvent, AuditHead, User

GENESIS_HASH = "0" * 64
anchor_log = logging.getLogger("renzhi.audit.anchor")


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
    key = audit_key()
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
            event.hmac = event_hmac(event.hash, key)
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


def audit_key() -> bytes:
    """The HMAC key: RENZHI_AUDIT_KEY; in development and tests derived from SECRET_KEY.

    With DEBUG off and no key, nothing is audited and so nothing is changed: refusing is safer
    than a chain anyone with database access can rewrite.
    """
    configured = getattr(settings, "RENZHI_AUDIT_KEY", "")
    if configured:
        return configured.encode("utf-8")
    if not (settings.DEBUG or getattr(settings, "TESTING", False)):
        raise ImproperlyConfigured("RENZHI_AUDIT_KEY must be set when DEBUG is off")
    if not getattr(settings, "TESTING", False):
        warnings.warn(
            "RENZHI_AUDIT_KEY is not set: the audit HMAC key is derived from SECRET_KEY "
            "(development only).",
            RuntimeWarning,
            stacklevel=2,
        )
    return hashlib.sha256(b"renzhi-audit-key:" + settings.SECRET_KEY.encode("utf-8")).digest()


def event_hmac(event_hash_hex: str, key: bytes | None = None) -> str:
    """HMAC of an event's hash (which covers its content, seq and the previous hash)."""
    return _mac(key or audit_key(), "event", event_hash_hex)


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    hmac: str
    at: str

    def line(self) -> str:
        return f"{self.seq} {self.hash} {self.hmac} {self.at}\n"


def write_anchor(path: str | os.PathLike[str] | None = None) -> Anchor | None:
    """Append the last event's seq and hash, keyed, to the anchor file (run it from cron).

    The file is opened for appending only; give it to a user the application cannot rewrite it
    as (e.g. `chattr +a`), or ship the `renzhi.audit.anchor` log lines to a syslog host.
    """
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    if last is None:
        return None
    at = timezone.now().astimezone(UTC).isoformat(timespec="seconds")
    anchor = Anchor(last[0], last[1], _mac(audit_key(), "anchor", last[0], last[1], at), at)
    target = os.fspath(path or settings.RENZHI_AUDIT_ANCHOR_FILE)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, anchor.line().encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    anchor_log.info("audit anchor %s", anchor.line().strip())
    return anchor


def read_anchors(path: str | os.PathLike[str] | None = None) -> list[Anchor]:
    target = os.fspath(path or settings.RENZHI_AUDIT_ANCHOR_FILE)
    if not os.path.exists(target):
        return []
    anchors = []
    with open(target, encoding="ascii", errors="replace") as handle:
        for raw in handle:
            parts = raw.split()
            if len(parts) == 4 and parts[0].isdigit():
                anchors.append(Anchor(int(parts[0]), parts[1], parts[2], parts[3]))
            elif parts:
                anchors.append(Anchor(-1, "", "", raw.strip()[:40]))  # an unreadable line
    return anchors


def set_base(seq: int, hash_hex: str) -> None:
    """Start the chain after `seq` (its oldest events were purged); signed with the key."""
    AuditHead.objects.filter(pk=1).update(
        base_seq=seq, base_hash=hash_hex, base_hmac=_mac(audit_key(), "base", seq, hash_hex)
    )


def seal_unsealed() -> int:
    """Give the events written before the HMAC existed their HMAC (once, after upgrading).

    Call it only after `verify_chain` found nothing but unsealed events wrong.
    """
    key = audit_key()
    sealed = 0
    for event_id, hash_hex in AuditEvent.objects.filter(hmac="").values_list("id", "hash"):
        sealed += AuditEvent.objects.filter(id=event_id, hmac="").update(
            hmac=event_hmac(hash_hex, key)
        )
    return sealed


@dataclass(frozen=True)
class BrokenLink:
    event_id: int | None
    seq: int
    reason: str


def verify_chain(
    batch_size: int = 5000, anchor_file: str | os.PathLike[str] | None = None
) -> tuple[int, BrokenLink | None]:
    """Walk the chain in insertion order. Returns (events checked, first broken link or None).

    Every event must follow its predecessor (seq + 1, previous hash), match its own hash and
    carry the keyed HMAC of that hash. Every anchor in the anchor file must be signed with the
    key and name an event that is still there with the same hash.
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
    key = audit_key()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    if head.base_seq:
        if not hmac.compare_digest(
            head.base_hmac, _mac(key, "base", head.base_seq, head.base_hash)
        ):
            return 0, BrokenLink(None, head.base_seq, "the chain's start is not signed by the key")
        expected_prev, expected_seq = head.base_hash, head.base_seq + 1
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
            if not event.hmac:
                return checked, BrokenLink(
                    event.id, event.seq, "the event has no HMAC (run verify_audit --seal once)"
                )
            if not hmac.compare_digest(event.hmac, event_hmac(event.hash, key)):
                return checked, BrokenLink(
                    event.id, event.seq, "the HMAC does not match: rewritten without the audit key"
                )
            if event.seq == head.seq and event.hash != head.hash:
                return checked, BrokenLink(
                    event.id, event.seq, "the chain head hash does not match this event"
                )
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
            last_id = event.id
    if expected_seq - 1 < head.seq:
        return checked, BrokenLink(
            None,
            expected_seq,
            f"events missing at the end: the head records {head.seq}, found {expected_seq - 1}",
        )
    return checked, _check_anchors(key, anchor_file, head.base_seq, expected_seq - 1)


def _check_anchors(
    key: bytes, anchor_file: str | os.PathLike[str] | None, base_seq: int, last_seq: int
) -> BrokenLink | None:
    """Each anchor is signed and its event, unless purged, is still there with the same hash."""
    anchors = read_anchors(anchor_file)
    for number, anchor in enumerate(anchors, start=1):
        signed = anchor.seq >= 0 and hmac.compare_digest(
            anchor.hmac, _mac(key, "anchor", anchor.seq, anchor.hash, anchor.at)
        )
        if not signed:
            return BrokenLink(None, anchor.seq, f"anchor line {number} is not signed by the key")
        if anchor.seq > last_seq:
            return BrokenLink(
                None,
                anchor.seq,
                f"events missing: anchor line {number} records seq {anchor.seq}, "
                f"the chain ends at {last_seq}",
            )
    wanted = {a.seq: a for a in anchors if a.seq > base_seq}
    stored = dict(AuditEvent.objects.filter(seq__in=list(wanted)).values_list("seq", "hash"))
    for seq, anchor in sorted(wanted.items()):
        if stored.get(seq) != anchor.hash:
            event_id = AuditEvent.objects.filter(seq=seq).values_list("id", flat=True).first()
            return BrokenLink(event_id, seq, "the chain was rewritten: an anchor does not match")
    return None


def _mac(key: bytes, purpose: str, *parts: object) -> str:
    message = "|".join([purpose, *(str(p) for p in parts)]).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


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
