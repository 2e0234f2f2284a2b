"""Expiry warnings (临期预警): tell a depot's keepers when a batch with stock comes within 30
days of its expiry date, again within 7 days, and once more when it has expired (it can no
longer be issued and should be disposed of). Each batch × threshold is told once: the
notification itself is the record (its object id names batch and threshold).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import notify
from renzhi.core.models import Membership, Notification
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.models import Depot, StockBatch

__all__ = ["THRESHOLDS", "warn_expiring"]

THRESHOLDS = (30, 7, 0)
KIND = "emergency.expiry"


def warn_expiring(today: dt.date | None = None) -> int:
    """Send the warnings due today; returns how many batches were warned about."""
    today = today or timezone.localdate()
    batches = StockBatch.objects.filter(
        quantity__gt=0,
        expires_on__isnull=False,
        expires_on__lte=today + dt.timedelta(days=THRESHOLDS[0]),
    ).select_related("depot__place", "item")
    keepers: dict[int, list] = {}
    sent = 0
    for batch in batches:
        assert batch.expires_on is not None
        left = (batch.expires_on - today).days
        threshold = next(t for t in reversed(THRESHOLDS) if left <= t) if left >= 0 else -1
        key = f"{batch.pk}:{threshold}"
        if Notification.objects.filter(kind=KIND, object_id=key).exists():
            continue
        users = keepers.setdefault(batch.depot_id, _keepers(batch.depot))
        if threshold < 0:
            title = _("Expired: %(item)s, batch %(batch)s at %(depot)s (%(n)s %(unit)s)")
        else:
            title = _(
                "Expires in %(days)s days: %(item)s, batch %(batch)s at %(depot)s (%(n)s %(unit)s)"
            )
        message = notify.Message(
            kind=KIND,
            title=title
            % {
                "days": left,
                "item": batch.item.name,
                "batch": batch.batch_no or "—",
                "depot": batch.depot.name,
                "n": batch.quantity,
                "unit": batch.item.unit,
            },
            link=f"/emergency/depots/{batch.depot.code}/",
            object_type="emergency.stockbatch",
            object_id=key,
        )
        with transaction.atomic():
            notify.notify(users, message)
        sent += 1
    return sent


def _keepers(depot: Depot) -> list:
    codes = [depot.place.code[:n] for n in (6, 9, 12) if len(depot.place.code) >= n]
    members = Membership.objects.filter(
        role__in=rules.STOCK_KEEPERS - {"admin"}, place__code__in=codes
    ).select_related("user")
    return list({m.user.pk: m.user for m in members}.values())
