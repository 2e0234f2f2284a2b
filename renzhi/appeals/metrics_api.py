"""三率 metrics in the JSON API, mounted at /api/appeals/metrics.

Same figures as the leader dashboard (`renzhi.appeals.metrics`), scoped to the caller. Every
endpoint takes the period (`days`, or `start` and `end` as local dates, end excluded) and the
optional filters `place`, `category` and `unit` (codes).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from renzhi.appeals import metrics
from renzhi.appeals.metrics import Filters, Period
from renzhi.core import scope
from renzhi.core.errors import PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Role
from renzhi.core.text import QueryText, Text

router = Router(tags=["appeals metrics"])

# Everyone who works on appeals; residents see their own cases, not statistics.
METRIC_ROLES = (
    Role.LEADER,
    Role.DISPATCHER,
    Role.COMMUNITY_STAFF,
    Role.GRID_WORKER,
    Role.UNIT_HANDLER,
    Role.ADMIN,
)


class MetricsQuery(Schema):
    days: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    place: Annotated[str, Text(15)] | None = None
    category: Annotated[str, Text(16)] | None = None
    unit: Annotated[str, Text(32)] | None = None


class FiguresOut(Schema):
    key: int | str | None
    label: str
    code: str
    received: int
    dispatched: int
    signed_in_time: int
    due: int
    resolved_ok: int
    rated: int
    satisfied: int
    overdue: int
    finished: int
    reopened: int
    hours_n: int
    hours_sum: float
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    reopen_rate: float | None
    avg_handling_hours: float | None
    rank: int | None = None


class PeriodOut(Schema):
    start: dt.date
    end: dt.date
    days: int


class SummaryOut(Schema):
    period: PeriodOut
    figures: FiguresOut


class SeriesOut(Schema):
    period: PeriodOut
    interval: str
    items: list[FiguresOut]


class GroupsOut(Schema):
    period: PeriodOut
    by: str
    items: list[FiguresOut]


class CategoriesOut(Schema):
    period: PeriodOut
    top: list[FiguresOut]
    sub: list[FiguresOut]


class OverdueRowOut(Schema):
    tracking_no: str
    title: str
    category: str
    community: str
    grid: str
    unit: str
    state: str
    supervised: bool
    dispatched_at: str
    resolve_deadline: str
    days_overdue: float | None


class OverdueOut(Schema):
    period: PeriodOut
    count: int
    items: list[OverdueRowOut]


@router.get("/summary", response=SummaryOut, summary="三率 and counts for my whole scope")
def summary(request: AuthedRequest, q: Query[MetricsQuery]):
    period, filters = _parse(request, q)
    return {
        "period": period.as_dict(),
        "figures": metrics.summary(request.auth, period, filters).as_dict(),
    }


@router.get("/trend", response=SeriesOut, summary="Counts and rates per day, week or month")
def trend(request: AuthedRequest, q: Query[MetricsQuery], interval: QueryText = "month"):
    period, filters = _parse(request, q)
    items = metrics.trend(request.auth, period, interval, filters)
    return {"period": period.as_dict(), "interval": interval, "items": [f.as_dict() for f in items]}


@router.get(
    "/groups", response=GroupsOut, summary="Figures per unit, community, street, grid or category"
)
def groups(request: AuthedRequest, q: Query[MetricsQuery], by: QueryText = "unit"):
    period, filters = _parse(request, q)
    items = metrics.grouped(request.auth, period, by, filters)
    items.sort(key=lambda f: (-f.received, -f.dispatched, f.code))
    return {"period": period.as_dict(), "by": by, "items": [f.as_dict() for f in items]}


@router.get("/ranking", response=GroupsOut, summary="Units or communities ranked by a rate")
def ranking(
    request: AuthedRequest,
    q: Query[MetricsQuery],
    by: QueryText = "unit",
    order: QueryText = "resolution",
    limit: int = 50,
):
    period, filters = _parse(request, q)
    items = metrics.ranking(request.auth, period, by, order, filters, limit=max(1, min(limit, 500)))
    return {"period": period.as_dict(), "by": by, "items": [f.as_dict() for f in items]}


@router.get("/categories", response=CategoriesOut, summary="Appeals by category (both levels)")
def categories(request: AuthedRequest, q: Query[MetricsQuery]):
    period, filters = _parse(request, q)
    mix = metrics.category_mix(request.auth, period, filters)
    return {
        "period": period.as_dict(),
        "top": [f.as_dict() for f in mix["top"]],
        "sub": [f.as_dict() for f in mix["sub"]],
    }


@router.get("/grids", response=GroupsOut, summary="Appeals per grid (for a map), keyed by code")
def grids(request: AuthedRequest, q: Query[MetricsQuery]):
    period, filters = _parse(request, q)
    items = metrics.grid_counts(request.auth, period, filters)
    return {"period": period.as_dict(), "by": "grid", "items": [f.as_dict() for f in items]}


@router.get("/overdue", response=OverdueOut, summary="Open overdue appeals, longest overdue first")
def overdue(request: AuthedRequest, q: Query[MetricsQuery], limit: int = 200):
    period, filters = _parse(request, q)
    rows = metrics.overdue_list(request.auth, period, filters, limit=None)
    now = timezone.now()
    return {
        "period": period.as_dict(),
        "count": rows.count(),
        "items": [metrics.describe_overdue(a, now) for a in rows[: max(1, min(limit, 1000))]],
    }


def _parse(request: AuthedRequest, q: MetricsQuery) -> tuple[Period, Filters]:
    if not scope.has_role(request.auth, *METRIC_ROLES):
        raise PermissionRefused(_("Your role does not allow this action."))
    period = Period.parse(days=q.days, start=q.start, end=q.end)
    filters = Filters.parse(place=q.place, category=q.category, unit=q.unit)
    return period, filters
