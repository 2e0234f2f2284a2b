"""三率 and the other appeal figures, computed in the database, always scoped to the viewer.

Every function takes the viewer and starts from `queries.appeals_for(viewer)`, so a figure can
never include an appeal the viewer could not open. Each grouping is ONE aggregate query with
conditional aggregation (COUNT … FILTER / CASE WHEN); Python only merges and labels the groups.

Definitions (the same everywhere: dashboard, API, exports, tests). A period is a half-open range
of local dates [start, end) in Asia/Shanghai. Two cohorts:

- R, "received in the period": received_at in the period. Only the `received` count uses it.
- D, "dispatched in the period": first_dispatched_at in the period. Every handling figure
  (三率, overdue, handling hours, reopen rate) is about the appeals the period put in the
  units' hands, so all of them use this cohort:
    响应率 response rate      = D ∧ signed_in_time                        / D
    解决率 resolution rate    = D ∧ state ∈ {resolved, closed} ∧ reopen_count = 0
                               / D ∧ (state ∈ {resolved, closed} ∨ resolve_deadline < now)
    满意率 satisfaction rate  = D ∧ rated ∧ satisfaction ∈ {satisfied, basic} / D ∧ rated
    overdue                   = D ∧ state open ∧ overdue
    average handling hours    = avg(handling_hours) over D ∧ state ∈ {resolved, closed}
    reopen rate               = D ∧ state ∈ {resolved, closed} ∧ reopen_count > 0
                               / D ∧ state ∈ {resolved, closed}
A rate whose denominator is zero is None ("no data"), never 0 %.

Called without `now` (the figures as of now), summary / grouped / trend first ask the daily
summary tables (`renzhi.appeals.rollup`, refreshed every few minutes): same definitions, same
scope (translated from `appeals_for`), a few thousand rows instead of millions. When they are
stale or cannot express the viewer's scope or filters, the live query above answers.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, DateField, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals import rollup
from renzhi.appeals.models import OPEN_STATES, Appeal, Category, Satisfaction, State
from renzhi.appeals.queries import appeals_for
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Place, Unit, User

LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
FINISHED_STATES = [State.RESOLVED, State.CLOSED]
GOOD_SATISFACTION = [Satisfaction.SATISFIED, Satisfaction.BASIC]

# Grouping name → the Appeal column it groups by (all denormalised: no joins on big tables).
GROUP_FIELDS = {
    "unit": "unit_id",
    "community": "community_id",
    "street": "street_id",
    "grid": "grid_id",
    "category_top": "category_top_id",
    "category": "category_id",
}
INTERVALS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
RANK_ORDERS = ("resolution", "satisfaction", "response")
PERIOD_DAY_CHOICES = (30, 90, 365)
MAX_PERIOD_DAYS = 3 * 366
MAX_BUCKETS = 800
OVERDUE_LIST_LIMIT = 200

COUNT_FIELDS = (
    "received",
    "dispatched",
    "signed_in_time",
    "due",
    "resolved_ok",
    "rated",
    "satisfied",
    "overdue",
    "finished",
    "reopened",
    "hours_n",
)


# --- public types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local dates [start, end) in Asia/Shanghai."""

    start: dt.date
    end: dt.date

    @classmethod
    def last(cls, days: int, today: dt.date | None = None) -> Period:
        """The `days` local days up to and including today."""
        today = today or timezone.localdate(timezone=LOCAL_TZ)
        end = today + dt.timedelta(days=1)
        return cls(end - dt.timedelta(days=days), end)

    @classmethod
    def parse(
        cls,
        *,
        days: int | str | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        today: dt.date | None = None,
    ) -> Period:
        """From request parameters: either `days` (30/90/365 …) or `start` and `end` dates."""
        if start or end:
            first, stop = _date(start, "start"), _date(end, "end")
            period = cls(first, stop)
        else:
            try:
                n = int(days) if days not in (None, "") else 30  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ActionError(
                    _("The number of days must be a whole number."), field="days"
                ) from None
            if not 1 <= n <= MAX_PERIOD_DAYS:
                raise ActionError(
                    _("The period must be between 1 and %(n)d days.") % {"n": MAX_PERIOD_DAYS},
                    field="days",
                )
            period = cls.last(n, today)
        period.check()
        return period

    def check(self) -> None:
        if self.end <= self.start:
            raise ActionError(_("The end date must be after the start date."), field="end")
        if (self.end - self.start).days > MAX_PERIOD_DAYS:
            raise ActionError(
                _("The period must be between 1 and %(n)d days.") % {"n": MAX_PERIOD_DAYS},
                field="start",
            )

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as aware datetimes (local midnights)."""
        return (
            dt.datetime.combine(self.start, dt.time.min, tzinfo=LOCAL_TZ),
            dt.datetime.combine(self.end, dt.time.min, tzinfo=LOCAL_TZ),
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days}


@dataclass(frozen=True)
class Filters:
    """Optional narrowing on top of the viewer's scope (it can only narrow, never widen)."""

    place: Place | None = None
    category: Category | None = None
    unit: Unit | None = None

    @classmethod
    def parse(
        cls, *, place: str | None = None, category: str | None = None, unit: str | None = None
    ) -> Filters:
        """From codes in request parameters; an unknown code is a field error."""
        found: dict[str, Any] = {}
        for name, model, code in (
            ("place", Place, place),
            ("category", Category, category),
            ("unit", Unit, unit),
        ):
            if not code:
                continue
            obj = model.objects.filter(code=code).first()
            if obj is None:
                raise ActionError(
                    _("Unknown code “%(code)s”.") % {"code": code},
                    field=name,
                    code=ErrorCode.NOT_FOUND,
                )
            found[name] = obj
        return cls(**found)

    def apply(self, qs: QuerySet[Appeal]) -> QuerySet[Appeal]:
        if self.place is not None:
            qs = qs.filter(place_code__startswith=self.place.code)
        if self.category is not None:
            if self.category.parent_id is None:
                qs = qs.filter(category_top_id=self.category.pk)
            else:
                qs = qs.filter(category_id=self.category.pk)
        if self.unit is not None:
            qs = qs.filter(unit_id=self.unit.pk)
        return qs

    def as_dict(self) -> dict:
        return {
            "place": self.place.code if self.place else None,
            "category": self.category.code if self.category else None,
            "unit": self.unit.code if self.unit else None,
        }


@dataclass
class Figures:
    """The counts behind every metric for one group. Counts add up; rates are derived."""

    key: Any = None
    label: str = ""
    code: str = ""
    received: int = 0
    dispatched: int = 0
    signed_in_time: int = 0
    due: int = 0
    resolved_ok: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue: int = 0
    finished: int = 0
    reopened: int = 0
    hours_sum: float = 0.0
    hours_n: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.signed_in_time, self.dispatched)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved_ok, self.due)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def reopen_rate(self) -> float | None:
        return _ratio(self.reopened, self.finished)

    @property
    def avg_handling_hours(self) -> float | None:
        return self.hours_sum / self.hours_n if self.hours_n else None

    def add(self, other: Figures) -> None:
        for name in (*COUNT_FIELDS, "hours_sum"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        data = {"key": _jsonable(self.key), "label": self.label, "code": self.code}
        data.update({name: getattr(self, name) for name in COUNT_FIELDS})
        data["hours_sum"] = round(self.hours_sum, 3)
        for name in ("response_rate", "resolution_rate", "satisfaction_rate", "reopen_rate"):
            value = getattr(self, name)
            data[name] = None if value is None else round(value, 4)
        avg = self.avg_handling_hours
        data["avg_handling_hours"] = None if avg is None else round(avg, 2)
        data.update(self.extra)
        return data


# --- public functions -----------------------------------------------------------------------


def summary(
    viewer: User | None,
    period: Period,
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
) -> Figures:
    """All figures for the viewer's whole scope in the period: one query, no grouping."""
    if now is None:
        stored = rollup.grouped(viewer, period, None, filters)
        if stored is not None:
            return totals(stored)
    row = _cohort(viewer, period, filters).aggregate(**_aggregates(period, now))
    return figures_from_row(row, key=None)


def grouped(
    viewer: User | None,
    period: Period,
    by: str,
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[Figures]:
    """Figures per unit / community / street / grid / category_top / category (one query).

    Groups are labelled with the name and code of what they stand for; appeals without one
    (no unit yet, no grid) form the group with key None.
    """
    if by not in GROUP_FIELDS:
        raise ActionError(_("Unknown grouping “%(by)s”.") % {"by": by}, field="by")
    result = rollup.grouped(viewer, period, by, filters) if now is None else None
    if result is None:
        column = GROUP_FIELDS[by]
        rows = (
            _cohort(viewer, period, filters)
            .values(column)
            .annotate(**_aggregates(period, now))
            .order_by()
        )
        result = [figures_from_row(row, key=row[column]) for row in rows]
    result = [f for f in result if _any(f)]
    _label(result, by)
    return result


def trend(
    viewer: User | None,
    period: Period,
    interval: str = "month",
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[Figures]:
    """One Figures per day / week / month of the period, zero-filled, in order (one query).

    The query groups by the pair (bucket of received_at, bucket of first_dispatched_at): the
    received count goes to the first, the handling figures to the second. Python then folds
    the pairs — their number is about the number of buckets, not of appeals.
    """
    if interval not in INTERVALS:
        raise ActionError(
            _("Unknown interval “%(interval)s”.") % {"interval": interval}, field="interval"
        )
    buckets = _buckets(period, interval)
    series = {b: Figures(key=b, label=_bucket_label(b, interval)) for b in buckets}
    stored = None
    if now is None:
        stored = rollup.daily(viewer, period, filters, months=interval == "month")
    if stored is not None:  # per day (or whole month): received and handling on the same row
        for day, figures in stored:
            series[_bucket_of(day, interval)].add(figures)
        return [series[b] for b in buckets]
    trunc = INTERVALS[interval]
    rows = (
        _cohort(viewer, period, filters)
        .values(
            rb=trunc("received_at", tzinfo=LOCAL_TZ, output_field=DateField()),
            db=trunc("first_dispatched_at", tzinfo=LOCAL_TZ, output_field=DateField()),
        )
        .annotate(**_aggregates(period, now))
        .order_by()
    )
    pairs = [(row["rb"], row["db"], figures_from_row(row, key=None)) for row in rows]
    for rb, db, figures in pairs:
        if figures.received and rb in series:
            series[rb].received += figures.received
        figures.received = 0
        if _any(figures) and db in series:
            series[db].add(figures)
    return [series[b] for b in buckets]


def ranking(
    viewer: User | None,
    period: Period,
    by: str = "unit",
    order: str = "resolution",
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
    limit: int | None = None,
) -> list[Figures]:
    """Units or communities (or streets) best first by a rate; no data sorts last.

    Ties break on the larger number of dispatched appeals, then the name. Groups without a
    unit / place are left out: they are not someone to rank.
    """
    if by not in ("unit", "community", "street", "grid"):
        raise ActionError(_("Unknown grouping “%(by)s”.") % {"by": by}, field="by")
    if order not in RANK_ORDERS:
        raise ActionError(_("Unknown order “%(order)s”.") % {"order": order}, field="order")
    rows = [f for f in grouped(viewer, period, by, filters, now=now) if f.key is not None]
    rate = {
        "resolution": "resolution_rate",
        "satisfaction": "satisfaction_rate",
        "response": "response_rate",
    }[order]

    def sort_key(f: Figures):
        value = getattr(f, rate)
        return (value is None, -(value or 0.0), -f.dispatched, f.label)

    rows.sort(key=sort_key)
    for i, f in enumerate(rows, 1):
        f.extra["rank"] = i
    return rows[:limit] if limit else rows


def category_mix(
    viewer: User | None,
    period: Period,
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
) -> dict[str, list[Figures]]:
    """Appeals by first-level and by second-level category, largest first (one query).

    The second-level groups are summed into their first-level parents in Python.
    """
    subs = grouped(viewer, period, "category", filters, now=now)
    parents = dict(
        Category.objects.filter(pk__in=[f.key for f in subs if f.key]).values_list(
            "pk", "parent_id"
        )
    )
    tops: dict[Any, Figures] = {}
    for f in subs:
        top_id = parents.get(f.key) or f.key  # a first-level category chosen directly
        tops.setdefault(top_id, Figures(key=top_id)).add(f)
    top_list = [f for f in tops.values() if _any(f)]
    _label(top_list, "category_top")
    for items in (subs, top_list):
        items.sort(key=lambda f: (-f.received, -f.dispatched, f.code))
    return {"top": top_list, "sub": subs}


def grid_counts(
    viewer: User | None,
    period: Period,
    filters: Filters | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[Figures]:
    """Appeals per grid for the map, keyed by grid code (the map joins them to the GeoJSON).

    Appeals located only to a community (no grid) have key None and are not drawn.
    """
    rows = grouped(viewer, period, "grid", filters, now=now)
    rows.sort(key=lambda f: (f.key is None, -f.received, f.code))
    return rows


def overdue_list(
    viewer: User | None,
    period: Period,
    filters: Filters | None = None,
    limit: int | None = OVERDUE_LIST_LIMIT,
) -> QuerySet[Appeal]:
    """Open overdue appeals of the D cohort, longest past their deadline first.

    The same rows the `overdue` count counts (without `limit`).
    """
    start, end = period.bounds()
    qs = (
        _scoped(viewer, filters)
        .filter(
            state__in=OPEN_STATES,
            overdue=True,
            first_dispatched_at__gte=start,
            first_dispatched_at__lt=end,
        )
        .select_related("unit", "category__parent", "community", "grid")
        .order_by("resolve_deadline", "pk")
    )
    return qs[:limit] if limit else qs


def describe_overdue(appeal: Appeal, now: dt.datetime | None = None) -> dict[str, Any]:
    """One row of the overdue list, times in local time (for JSON and Excel)."""
    now = now or timezone.now()
    deadline = appeal.resolve_deadline
    return {
        "tracking_no": appeal.tracking_no,
        "title": appeal.title,
        "category": str(appeal.category) if appeal.category else "",
        "community": appeal.community.name if appeal.community else "",
        "grid": appeal.grid.name if appeal.grid else "",
        "unit": appeal.unit.name if appeal.unit else "",
        "state": str(State(appeal.state).label),
        "supervised": appeal.supervised,
        "dispatched_at": _local(appeal.first_dispatched_at),
        "resolve_deadline": _local(deadline),
        "days_overdue": round((now - deadline).total_seconds() / 86400, 1) if deadline else None,
    }


def totals(items: Iterable[Figures]) -> Figures:
    """The sum of groups, e.g. the whole period from its trend buckets."""
    total = Figures()
    for f in items:
        total.add(f)
    return total


# --- internals ------------------------------------------------------------------------------


def _scoped(viewer: User | None, filters: Filters | None) -> QuerySet[Appeal]:
    qs = appeals_for(viewer)
    return filters.apply(qs) if filters is not None else qs


def _cohort(viewer: User | None, period: Period, filters: Filters | None) -> QuerySet[Appeal]:
    """Appeals in R ∪ D: the only rows any figure of the period can count."""
    start, end = period.bounds()
    return _scoped(viewer, filters).filter(
        Q(received_at__gte=start, received_at__lt=end)
        | Q(first_dispatched_at__gte=start, first_dispatched_at__lt=end)
    )


def _aggregates(period: Period, now: dt.datetime | None) -> dict:
    start, end = period.bounds()
    return measures(
        Q(received_at__gte=start, received_at__lt=end),
        Q(first_dispatched_at__gte=start, first_dispatched_at__lt=end),
        now or timezone.now(),
    )


def measures(r: Q, d: Q, now: dt.datetime) -> dict:
    """The aggregates behind every figure, given the R and D cohort conditions.

    The one place the definitions live: the live queries pass the period's conditions, the
    daily summary tables (`renzhi.appeals.rollup`) pass "received" / "dispatched at all".
    """
    finished = d & Q(state__in=FINISHED_STATES)
    return {
        "received": Count("pk", filter=r),
        "dispatched": Count("pk", filter=d),
        "signed_in_time": Count("pk", filter=d & Q(signed_in_time=True)),
        "due": Count("pk", filter=d & (Q(state__in=FINISHED_STATES) | Q(resolve_deadline__lt=now))),
        "resolved_ok": Count("pk", filter=finished & Q(reopen_count=0)),
        "rated": Count("pk", filter=d & Q(rating__isnull=False)),
        "satisfied": Count(
            "pk", filter=d & Q(rating__isnull=False, satisfaction__in=GOOD_SATISFACTION)
        ),
        "overdue": Count("pk", filter=d & Q(state__in=OPEN_STATES, overdue=True)),
        "finished": Count("pk", filter=finished),
        "reopened": Count("pk", filter=finished & Q(reopen_count__gt=0)),
        "hours_sum": Sum("handling_hours", filter=finished),
        "hours_n": Count("handling_hours", filter=finished),
    }


def figures_from_row(row: Mapping[str, Any], key: Any) -> Figures:
    """Figures from one aggregate row (None counts, as SUM gives over no rows, are 0)."""
    figures = Figures(key=key, hours_sum=float(row.get("hours_sum") or 0.0))
    for name in COUNT_FIELDS:
        setattr(figures, name, int(row.get(name) or 0))
    return figures


def _any(f: Figures) -> bool:
    return any(getattr(f, name) for name in COUNT_FIELDS)


def _label(items: list[Figures], by: str) -> None:
    """Name and code for each group's key, in one small query."""
    keys = [f.key for f in items if f.key is not None]
    if by == "unit":
        names = {
            pk: (name, code)
            for pk, name, code in Unit.objects.filter(pk__in=keys).values_list("pk", "name", "code")
        }
    elif by in ("community", "street", "grid"):
        names = {
            pk: (name, code)
            for pk, name, code in Place.objects.filter(pk__in=keys).values_list(
                "pk", "name", "code"
            )
        }
    else:
        names = {
            pk: (name, code)
            for pk, name, code in Category.objects.filter(pk__in=keys).values_list(
                "pk", "name", "code"
            )
        }
    none_label = {
        "unit": _("Not yet dispatched"),
        "grid": _("No grid"),
        "category": _("Uncategorised"),
        "category_top": _("Uncategorised"),
    }
    for f in items:
        if f.key is None:
            f.label, f.code = str(none_label.get(by, _("Unknown"))), ""
        else:
            f.label, f.code = names.get(f.key, (str(f.key), ""))


def _buckets(period: Period, interval: str) -> list[dt.date]:
    if interval == "day":
        first = period.start
    elif interval == "week":
        first = period.start - dt.timedelta(days=period.start.weekday())
    else:
        first = period.start.replace(day=1)
    buckets = []
    current = first
    while current < period.end:
        buckets.append(current)
        if len(buckets) > MAX_BUCKETS:
            raise ActionError(
                _("Too many points for this period; choose a longer interval."), field="interval"
            )
        if interval == "day":
            current += dt.timedelta(days=1)
        elif interval == "week":
            current += dt.timedelta(days=7)
        else:
            current = (current.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return buckets


def _bucket_of(day: dt.date, interval: str) -> dt.date:
    """The first day of the day / week (Monday) / month containing `day`."""
    if interval == "day":
        return day
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _bucket_label(day: dt.date, interval: str) -> str:
    if interval == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _local(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value, LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _date(value: str | dt.date | None, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        raise ActionError(_("Please give a date as YYYY-MM-DD."), field=name) from None


__all__ = [
    "GROUP_FIELDS",
    "INTERVALS",
    "Figures",
    "Filters",
    "Period",
    "category_mix",
    "describe_overdue",
    "figures_from_row",
    "grid_counts",
    "grouped",
    "measures",
    "overdue_list",
    "ranking",
    "summary",
    "totals",
    "trend",
]
