"""Partner api_keys: how a raw key is made and hashed, found, and held to its rate limit.

A raw key is shown once when issued; only its SHA-256 is stored, so a leaked database does not
leak working keys. The rate limit counts requests per key per clock minute in `RateWindow`
rows (one UPDATE … SET count = count + 1 under the row lock), so it holds across processes on
SQLite and PostgreSQL alike, without a shared cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from renzhi.open311.models import PartnerKey, RateWindow

KEY_PREFIX = "o311_"
KEEP_WINDOWS = dt.timedelta(hours=1)


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def find(raw: str) -> PartnerKey | None:
    """The key (revoked or not) whose hash matches, or None."""
    if not raw or len(raw) > 200:
        return None
    return PartnerKey.objects.select_related("user", "place").filter(key_hash=hash_key(raw)).first()


def take(key: PartnerKey, now: dt.datetime | None = None) -> tuple[bool, int]:
    """Count one request against the key's limit: (allowed, seconds until the window ends)."""
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    with transaction.atomic():
        updated = RateWindow.objects.filter(key=key, window=window).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateWindow.objects.create(key=key, window=window, count=1)
            except IntegrityError:  # another request created this minute's row first
                RateWindow.objects.filter(key=key, window=window).update(count=F("count") + 1)
            RateWindow.objects.filter(key=key, window__lt=window - KEEP_WINDOWS).delete()
        count = RateWindow.objects.filter(key=key, window=window).values_list("count", flat=True)[0]
    retry_after = 60 - now.second
    return count <= key.rate_limit, retry_after


def mark_used(key: PartnerKey, now: dt.datetime | None = None) -> None:
    PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now or timezone.now())
