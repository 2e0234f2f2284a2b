"""Tracking numbers: RZ<local date>-<6-digit sequence of that day>, e.g. RZ20261125-000123.

The day's counter row is incremented with an UPDATE … SET last = last + n, which locks the row
until the surrounding transaction commits, so parallel intakes get distinct, gap-free numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import transaction
from django.db.models import F

from renzhi.appeals.models import TrackingCounter
from renzhi.core.workdays import LOCAL_TZ


def next_tracking_no(at: dt.datetime) -> str:
    return reserve([at])[0]


def reserve(times: list[dt.datetime]) -> list[str]:
    """Tracking numbers for appeals received at `times`, in that order: one block per local day
    (UPDATE … SET last = last + n under the row lock, then last-n+1 … last). Days are locked in
    date order, so two batches never deadlock."""
    days = [t.astimezone(LOCAL_TZ).date() for t in times]
    following: dict[dt.date, int] = {}
    with transaction.atomic():
        for day, n in sorted(Counter(days).items()):
            TrackingCounter.objects.get_or_create(day=day)
            TrackingCounter.objects.filter(day=day).update(last=F("last") + n)
            last = TrackingCounter.objects.values_list("last", flat=True).get(day=day)
            following[day] = last - n + 1
    numbers = []
    for day in days:
        numbers.append(f"RZ{day:%Y%m%d}-{following[day]:06d}")
        following[day] += 1
    return numbers
