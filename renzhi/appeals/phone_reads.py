"""Audited reads of residents' phone numbers on appeals (docs/security.md, "Reading personal
data"): whenever an appeal's contact phone is shown unmasked to someone other than the resident
who filed it (detail page, API detail and list, Excel export), one `read.appeal_phone` event
says who saw which appeals' numbers, and why when `?reason=` was given."""

from __future__ import annotations

from collections.abc import Iterable

from renzhi.appeals import queries
from renzhi.appeals.models import Appeal
from renzhi.core import read_audit
from renzhi.core.models import User

WHAT = "appeal_phone"


def shows_phone(user: User | None, appeal: Appeal) -> bool:
    """True when `user` is shown this appeal's phone in full and it is not their own."""
    if user is None or not appeal.contact_phone:
        return False
    if appeal.resident_id is not None and appeal.resident_id == user.pk:
        return False
    return queries.may_see_phone(user, appeal)


def record(user: User | None, appeal: Appeal, reason: str = "") -> None:
    """One detail view of `appeal`: audited when its phone is shown unmasked."""
    if shows_phone(user, appeal):
        read_audit.record_read(user, appeal, WHAT, reason)


def record_many(user: User | None, appeals: Iterable[Appeal | int], reason: str = "") -> None:
    """A list or export: one event naming the appeals whose phones were shown unmasked (the
    caller passes ids it already knows are unmasked, or appeals to check)."""
    ids = [
        a if isinstance(a, int) else a.pk
        for a in appeals
        if isinstance(a, int) or shows_phone(user, a)
    ]
    read_audit.record_list_read(user, Appeal, ids, WHAT, reason)
