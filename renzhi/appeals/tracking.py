"""Tracking numbers: RZ<local date>-<6-digit sequence of that day>, e.g. RZ20261125-000123.

The day's counter row is incremented with an UPDATE … SET last = last + 1, which locks the row
until the surrounding transaction commits, so parallel intakes get distinct, gap-free numbers.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F

from renzhi.appeals.models import TrackingCounter
from renzhi.core.workdays import LOCAL_TZ


def next_tracking_no(at: dt.datetime) -> str:
    day = at.astimezone(LOCAL_TZ).date()
    with transaction.atomic():
        TrackingCounter.objects.get_or_create(day=day)
        TrackingCounter.objects.filter(day=day).update(last=F("last") + 1)
        last = TrackingCounter.objects.values_list("last", flat=True).get(day=day)
    return f"RZ{day:%Y%m%d}-{last:06d}"
