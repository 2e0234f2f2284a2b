"""Count series kept up to date from the appeals, incrementally.

Why a watermark and not a hook in intake: appeals must not depend on the warning app, and the
refresh has to survive bulk imports that bypass any hook. So a periodic task counts the appeals
whose primary key is above the last one counted (`Watermark`), grouped in SQL by
(community, street, category, subcategory, local day); the deltas are spread over the series
(community / street / district × all categories / first-level category / chosen second-level
categories) and added to `SeriesCount` and `SeriesWeek` with one upsert each. A chosen
second-level category is one with an active `DetectorConfig`.

Counted is when an appeal was received (Beijing day); later merges or withdrawals do not change
counts until `rebuild()` (`manage.py warning_series --rebuild`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import transaction
from django.db.models import Count, Max
from django.db.models.functions import TruncDate
from django.utils import timezone

from renzhi.core.models import Place, PlaceLevel
from renzhi.warning.models import (
    DetectorConfig,
    Series,
    SeriesCount,
    SeriesWeek,
    Watermark,
)

SOURCE = "appeals"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 2000

Key = tuple[int, int | None]  # (place id, category id or None for all)


@dataclass
class RefreshReport:
    appeals: int = 0
    rows: int = 0
    series: int = 0
    seconds: float = 0.0


def refresh(progress: Callable[[str], None] | None = None) -> RefreshReport:
    """Count appeals received since the watermark into the series (idempotent, serialised)."""
    from renzhi.appeals.models import Appeal

    started = time.perf_counter()
    report = RefreshReport()
    with transaction.atomic():
        Watermark.objects.get_or_create(source=SOURCE)
        mark = Watermark.objects.select_for_update().get(source=SOURCE)
        top = Appeal.objects.aggregate(m=Max("id"))["m"] or 0
        if top <= mark.last_id:
            return report
        rows = (
            Appeal.objects.filter(id__gt=mark.last_id, id__lte=top)
            .annotate(day=TruncDate("received_at", tzinfo=SHANGHAI))
            .values("community_id", "street_id", "category_id", "category_top_id", "day")
            .annotate(n=Count("id"))
            .order_by()
        )
        grouped = list(rows)
        deltas = _spread(grouped)
        report.appeals = sum(r["n"] for r in grouped)
        report.series, report.rows = _add(deltas)
        mark.last_id = top
        mark.refreshed_at = timezone.now()
        mark.save()
    report.seconds = time.perf_counter() - started
    if progress:
        progress(
            f"series: {report.rows} day counts changed in {report.series} series "
            f"({report.seconds:.1f}s)"
        )
    return report


def rebuild(progress: Callable[[str], None] | None = None) -> RefreshReport:
    """Forget the appeal counts and count everything again."""
    with transaction.atomic():
        SeriesCount.objects.filter(series__source=SOURCE).delete()
        SeriesWeek.objects.filter(series__source=SOURCE).delete()
        Watermark.objects.filter(source=SOURCE).update(last_id=0)
    return refresh(progress)


def matrix(series_ids: list[int], first: dt.date, last: dt.date) -> np.ndarray:
    """Daily counts as an (n_series × n_days) int64 array, rows in `series_ids` order."""
    n_days = (last - first).days + 1
    out = np.zeros((len(series_ids), n_days), dtype=np.int64)
    if not series_ids or n_days <= 0:
        return out
    row_of = {sid: i for i, sid in enumerate(series_ids)}
    rows = SeriesCount.objects.filter(day__gte=first, day__lte=last)
    if len(series_ids) < 500:
        rows = rows.filter(series_id__in=series_ids)
    values = [(s, d, c) for s, d, c in rows.values_list("series_id", "day", "count") if s in row_of]
    if values:
        r = np.fromiter((row_of[s] for s, _d, _c in values), dtype=np.int64, count=len(values))
        c = np.fromiter(
            ((d - first).days for _s, d, _c in values), dtype=np.int64, count=len(values)
        )
        out[r, c] = np.fromiter((n for _s, _d, n in values), dtype=np.int64, count=len(values))
    return out


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


# --- helpers --------------------------------------------------------------------------------


def _spread(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[Key, dt.date], int]:
    """Each (community, category, day) group adds to every series it belongs to."""
    street_parent = dict(
        Place.objects.filter(level=PlaceLevel.STREET).values_list("id", "parent_id")
    )
    tracked = set(
        DetectorConfig.objects.filter(active=True, category__parent__isnull=False).values_list(
            "category_id", flat=True
        )
    )
    deltas: dict[tuple[Key, dt.date], int] = defaultdict(int)
    for row in rows:
        day = row["day"]
        street = row["street_id"]
        places = [p for p in (row["community_id"], street, street_parent.get(street)) if p]
        categories: list[int | None] = [None]
        if row["category_top_id"]:
            categories.append(row["category_top_id"])
        if row["category_id"] in tracked and row["category_id"] != row["category_top_id"]:
            categories.append(row["category_id"])
        for place in places:
            for category in categories:
                deltas[((place, category), day)] += row["n"]
    return deltas


def _add(deltas: dict[tuple[Key, dt.date], int]) -> tuple[int, int]:
    if not deltas:
        return 0, 0
    ids = _series_ids({k for k, _d in deltas})
    daily: dict[tuple[int, dt.date], int] = defaultdict(int)
    weekly: dict[tuple[int, dt.date], int] = defaultdict(int)
    for (key, day), n in deltas.items():
        daily[(ids[key], day)] += n
        weekly[(ids[key], week_start(day))] += n
    _upsert(SeriesCount, "day", daily)
    _upsert(SeriesWeek, "week_start", weekly)
    return len(ids), len(daily)


def _series_ids(keys: set[Key]) -> dict[Key, int]:
    level = dict(Place.objects.filter(id__in={p for p, _c in keys}).values_list("id", "level"))

    def existing() -> dict[Key, int]:
        found: dict[Key, int] = {}
        for sid, place, cat in Series.objects.filter(source=SOURCE).values_list(
            "id", "place_id", "category_id"
        ):
            found[(place, cat)] = sid
        return found

    ids = existing()
    missing = [k for k in keys if k not in ids]
    if missing:
        Series.objects.bulk_create(
            [
                Series(source=SOURCE, place_id=p, category_id=c, place_level=level[p])
                for p, c in missing
            ],
            ignore_conflicts=True,
            batch_size=BATCH,
        )
        ids = existing()
    return {k: ids[k] for k in keys}


def _upsert(model, day_field: str, additions: dict[tuple[int, dt.date], int]) -> None:
    """Add to the stored counts: read the current ones, write the sums in one upsert per batch."""
    keys = list(additions)
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        series_ids = {s for s, _d in chunk}
        days = {d for _s, d in chunk}
        current = {
            (s, d): c
            for s, d, c in model.objects.filter(
                series_id__in=series_ids, **{f"{day_field}__in": days}
            ).values_list("series_id", day_field, "count")
        }
        model.objects.bulk_create(
            [
                model(
                    series_id=s, count=current.get((s, d), 0) + additions[(s, d)], **{day_field: d}
                )
                for s, d in chunk
            ],
            update_conflicts=True,
            unique_fields=["series", day_field],
            update_fields=["count"],
        )
