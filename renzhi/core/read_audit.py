"""Audited reads of personal data (issue 23 #6; docs/security.md, "Reading personal data").

Some reads are as sensitive as changes: a vulnerable resident's record (who lives alone, who
uses a wheelchair, where), and any phone or ID number shown unmasked (appeal details for staff
whose role needs the phone, exports with the phone column, the user admin). Each such read
appends one event to the same hash-linked audit chain as the state changes, so "who looked at
this person, when, and why" has an answer:

    verb    "read.<what>"           e.g. read.vulnerable, read.appeal_phone, read.export
    object  the record read         (one event per record for a detail view)
    after   {"reason": ..., "ids": [...], "count": n}   ids for a list or export

`reason` comes from an optional `?reason=` on the request (a case number, "回访"), so a
system or a careful worker can say why; it is trimmed to REASON_CHARS.

Reading one's own data is not audited (a resident opening their own appeal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from renzhi.core import audit
from renzhi.core.models import AuditEvent, User
from renzhi.core.text import normalise

REASON_CHARS = 200
MAX_IDS = 500  # a list read names at most this many records (the count says how many in all)


def reason_of(request: Any) -> str:
    """The optional `?reason=` of a request (GET or POST), trimmed; "" when absent."""
    if request is None:
        return ""
    value = request.GET.get("reason") or ""
    if not value and getattr(request, "method", "") == "POST":
        value = request.POST.get("reason") or ""
    # Cleaned like every text (NFC, no invisible characters); control characters are dropped
    # rather than refused, since the reason is optional and must not block the read (a NUL
    # would make PostgreSQL refuse the audit row).
    text = normalise(str(value))
    text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:REASON_CHARS]


def record_read(
    actor: User | None, obj: models.Model, what: str, reason: str = ""
) -> AuditEvent | None:
    """One audited read of `obj`'s personal data; None when there is nobody to attribute it to
    or the actor reads their own record (`obj` is the actor)."""
    if actor is None or not actor.pk or _is_self(actor, obj):
        return None
    return audit.record(actor, f"read.{what}", obj, after=_details(reason))


def record_list_read(
    actor: User | None,
    model: type[models.Model],
    objects: Iterable[models.Model | int],
    what: str,
    reason: str = "",
) -> AuditEvent | None:
    """One audited read of a list or export: which records (ids, the first MAX_IDS) and how
    many. Nothing is written for an empty list or an anonymous actor."""
    if actor is None or not actor.pk:
        return None
    ids = [o if isinstance(o, int) else o.pk for o in objects]
    if not ids:
        return None
    return audit.record(
        actor,
        f"read.{what}",
        None,
        object_type=model._meta.label_lower,
        label=str(model._meta.verbose_name_plural),
        after=_details(reason) | {"ids": ids[:MAX_IDS], "count": len(ids)},
    )


def _details(reason: str) -> dict:
    return {"reason": (reason or "")[:REASON_CHARS]}


def _is_self(actor: User, obj: models.Model) -> bool:
    return isinstance(obj, User) and obj.pk == actor.pk


class AuditedRows:
    """Rows for ninja's `@paginate` that audit the page they hand out (not the whole list):
    `record_list_read` with the ids of the rows on the page, when the page is sliced."""

    def __init__(
        self,
        rows: list,
        *,
        actor: User | None,
        model: type[models.Model],
        what: str,
        reason: str = "",
        key=lambda row: row.id,
    ):
        self.rows, self.actor, self.model = rows, actor, model
        self.what, self.reason, self.key = what, reason, key

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        page = self.rows[index]
        if isinstance(index, slice):
            ids = [self.key(row) for row in page]
            record_list_read(self.actor, self.model, ids, self.what, self.reason)
        return page
