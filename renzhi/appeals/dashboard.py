"""The leader dashboard (领导驾驶舱): one HTML page, one JSON/Excel data endpoint.

Thin views over `renzhi.appeals.metrics`: the page draws charts from the data endpoint, and
the same endpoint answers `?format=xlsx` with every table as a worksheet (Chinese headers in
the default language). Only leaders, street dispatchers and community staff may open it; what
they see is their own jurisdiction (the metrics are scoped to the viewer).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from renzhi.appeals import metrics, rollup
from renzhi.appeals.metrics import Filters, Period
from renzhi.appeals.models import Category
from renzhi.core import scope, spreadsheets
from renzhi.core.errors import ActionError
from renzhi.core.models import Place, PlaceLevel, Role, User

DASHBOARD_ROLES = (Role.LEADER, Role.DISPATCHER, Role.COMMUNITY_STAFF)
TABLES = ("summary", "trend", "units", "communities", "categories", "grids", "overdue")
RANKING_LIMIT = 30
EXPORT_OVERDUE_LIMIT = 10_000  # the Excel export lists every overdue appeal, up to this many


def may_view_dashboard(user: User | None) -> bool:
    return bool(
        user is not None and user.is_authenticated and scope.has_role(user, *DASHBOARD_ROLES)
    )


# --- views ----------------------------------------------------------------------------------


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may_view_dashboard(request.user):
        raise PermissionDenied(_("Your role does not give access to this page."))
    places = _place_choices(request.user)
    config = {
        "dataUrl": reverse("appeals_dashboard:data"),
        "geojsonUrl": reverse("api:places_geojson"),
        "params": {
            key: request.GET.get(key, "")
            for key in ("days", "place", "category", "interval", "order")
        },
        "text": _texts(),
    }
    return render(
        request,
        "appeals/dashboard.html",
        {
            "day_choices": metrics.PERIOD_DAY_CHOICES,
            "places": places,
            "categories": Category.objects.filter(parent=None, active=True).order_by(
                "sort", "code"
            ),
            "orders": [(key, str(label)) for key, label in ORDER_LABELS.items()],
            "config": config,
        },
    )


@require_GET
def data(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures as JSON, or as an Excel workbook with `?format=xlsx`."""
    if not request.user.is_authenticated:
        return _json_error(_("Please log in first."), status=401)
    if not may_view_dashboard(request.user):
        return _json_error(_("Your role does not give access to this page."), status=403)
    try:
        period = Period.parse(
            days=request.GET.get("days"), start=request.GET.get("start"), end=request.GET.get("end")
        )
        filters = Filters.parse(
            place=request.GET.get("place"),
            category=request.GET.get("category"),
            unit=request.GET.get("unit"),
        )
        interval = _interval(request.GET.get("interval"), period)
        order = request.GET.get("order") or "resolution"
        if order not in metrics.RANK_ORDERS:
            raise ActionError(_("Unknown order “%(order)s”.") % {"order": order}, field="order")
        fmt = request.GET.get("format") or "json"
        if fmt not in ("json", "xlsx"):
            raise ActionError(_("Unknown format “%(format)s”.") % {"format": fmt}, field="format")
        table = request.GET.get("table") or "all"
        if table != "all" and table not in TABLES:
            raise ActionError(_("Unknown table “%(table)s”.") % {"table": table}, field="table")
        payload = dashboard_data(
            request.user,
            period,
            filters,
            interval=interval,
            order=order,
            overdue_limit=EXPORT_OVERDUE_LIMIT if fmt == "xlsx" else metrics.OVERDUE_LIST_LIMIT,
        )
    except ActionError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    if fmt == "xlsx":
        content = workbook(payload, TABLES if table == "all" else (table,))
        name = f"appeals-dashboard-{table}-{period.start}-{period.end}.xlsx"
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


# --- the data ---------------------------------------------------------------------------------


def dashboard_data(
    viewer: User,
    period: Period,
    filters: Filters,
    *,
    interval: str = "month",
    order: str = "resolution",
    now: dt.datetime | None = None,
    overdue_limit: int = metrics.OVERDUE_LIST_LIMIT,
) -> dict[str, Any]:
    """Every panel of the dashboard: five aggregates (from the daily summary tables when they
    can answer, see renzhi.appeals.rollup) plus the overdue list, which is always live (the
    longest overdue first, up to `overdue_limit` rows).

    The summary is the sum of the trend buckets (the same cohort, so the same numbers). Pass
    `now` to compute everything live as of that moment.
    """
    trend = metrics.trend(viewer, period, interval, filters, now=now)
    units = metrics.ranking(viewer, period, "unit", order, filters, now=now)
    communities = metrics.ranking(viewer, period, "community", order, filters, now=now)
    mix = metrics.category_mix(viewer, period, filters, now=now)
    grids = metrics.grid_counts(viewer, period, filters, now=now)
    overdue = list(metrics.overdue_list(viewer, period, filters, limit=overdue_limit))
    summary = metrics.totals(trend)
    # A complete list counts itself (live); a cut one is counted with the other figures.
    overdue_count = (
        len(overdue) if len(overdue) < overdue_limit else max(summary.overdue, len(overdue))
    )
    current = timezone.now()
    as_of = now or rollup.answered_as_of(viewer, filters) or current
    return {
        "period": period.as_dict(),
        "filters": filters.as_dict(),
        "interval": interval,
        "order": order,
        "generated_at": timezone.localtime(as_of, metrics.LOCAL_TZ).isoformat(timespec="seconds"),
        "summary": summary.as_dict(),
        "trend": [f.as_dict() for f in trend],
        "units": [f.as_dict() for f in units[:RANKING_LIMIT]],
        "communities": [f.as_dict() for f in communities[:RANKING_LIMIT]],
        "categories": {
            "top": [f.as_dict() for f in mix["top"]],
            "sub": [f.as_dict() for f in mix["sub"]],
        },
        "grids": [f.as_dict() for f in grids if f.key is not None],
        "ungridded": sum(f.received for f in grids if f.key is None),
        "overdue": {
            "count": overdue_count,
            "shown": len(overdue),
            "rows": [metrics.describe_overdue(a, current) for a in overdue],
        },
    }


# --- Excel ----------------------------------------------------------------------------------

RATE = "rate"
HOURS = "hours"
# Column: (header, key in the row dict, kind)
FIGURE_COLUMNS = [
    (gettext_lazy("Received"), "received", None),
    (gettext_lazy("Dispatched"), "dispatched", None),
    (gettext_lazy("Signed in time"), "signed_in_time", None),
    (gettext_lazy("Response rate"), "response_rate", RATE),
    (gettext_lazy("Due"), "due", None),
    (gettext_lazy("Resolved first time"), "resolved_ok", None),
    (gettext_lazy("Resolution rate"), "resolution_rate", RATE),
    (gettext_lazy("Rated"), "rated", None),
    (gettext_lazy("Satisfied or basically satisfied"), "satisfied", None),
    (gettext_lazy("Satisfaction rate"), "satisfaction_rate", RATE),
    (gettext_lazy("Overdue"), "overdue", None),
    (gettext_lazy("Average handling hours"), "avg_handling_hours", HOURS),
    (gettext_lazy("Reopen rate"), "reopen_rate", RATE),
]
TABLE_TITLES = {
    "summary": gettext_lazy("Summary"),
    "trend": gettext_lazy("Trend"),
    "units": gettext_lazy("Units"),
    "communities": gettext_lazy("Communities"),
    "categories": gettext_lazy("Categories"),
    "grids": gettext_lazy("Grids"),
    "overdue": gettext_lazy("Overdue appeals"),
}
ORDER_LABELS = {
    "resolution": gettext_lazy("Resolution rate"),
    "satisfaction": gettext_lazy("Satisfaction rate"),
    "response": gettext_lazy("Response rate"),
}
OVERDUE_COLUMNS = [
    (gettext_lazy("Tracking number"), "tracking_no", None),
    (gettext_lazy("Title"), "title", None),
    (gettext_lazy("Category"), "category", None),
    (gettext_lazy("Community"), "community", None),
    (gettext_lazy("Grid"), "grid", None),
    (gettext_lazy("Handling unit"), "unit", None),
    (gettext_lazy("State"), "state", None),
    (gettext_lazy("Dispatched at"), "dispatched_at", None),
    (gettext_lazy("Resolve deadline"), "resolve_deadline", None),
    (gettext_lazy("Days overdue"), "days_overdue", None),
]


def _table_spec(payload: dict, table: str) -> tuple[list, list[dict]]:
    """Columns and rows of one table of the payload."""
    if table == "summary":
        return FIGURE_COLUMNS, [payload["summary"]]
    if table == "trend":
        return [(gettext_lazy("Period"), "label", None), *FIGURE_COLUMNS], payload["trend"]
    if table in ("units", "communities"):
        name = gettext_lazy("Handling unit") if table == "units" else gettext_lazy("Community")
        return (
            [
                (gettext_lazy("Rank"), "rank", None),
                (name, "label", None),
                (gettext_lazy("Code"), "code", None),
                *FIGURE_COLUMNS,
            ],
            payload[table],
        )
    if table == "categories":
        rows = [{**r, "level": _("First level")} for r in payload["categories"]["top"]] + [
            {**r, "level": _("Second level")} for r in payload["categories"]["sub"]
        ]
        return (
            [
                (gettext_lazy("Level"), "level", None),
                (gettext_lazy("Code"), "code", None),
                (gettext_lazy("Category"), "label", None),
                *FIGURE_COLUMNS,
            ],
            rows,
        )
    if table == "grids":
        return (
            [
                (gettext_lazy("Grid code"), "code", None),
                (gettext_lazy("Grid"), "label", None),
                *FIGURE_COLUMNS,
            ],
            payload["grids"],
        )
    return OVERDUE_COLUMNS, payload["overdue"]["rows"]


def workbook(payload: dict, tables: tuple[str, ...] | list[str]) -> bytes:
    """The tables as one .xlsx, one worksheet each, with a header line naming the period."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    period = payload["period"]
    caption = _("Period %(start)s to %(end)s (end excluded), generated %(at)s") % {
        "start": period["start"],
        "end": period["end"],
        "at": payload["generated_at"],
    }
    for table in tables:
        columns, rows = _table_spec(payload, table)
        sheet = book.create_sheet(title=str(TABLE_TITLES[table])[:31])
        sheet.append([caption])
        header = []
        for title, _key, _kind in columns:
            cell = WriteOnlyCell(sheet, value=str(title))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append(
                [_cell(sheet, WriteOnlyCell, row.get(key), kind) for _title, key, kind in columns]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(sheet, cell_class: Callable, value: Any, kind: str | None):
    if spreadsheets.is_formula_like(value):  # place and unit names are typed by people
        return spreadsheets.xlsx_value(sheet, value)
    cell = cell_class(sheet, value=value)
    if kind == RATE and value is not None:
        cell.number_format = "0.0%"
    elif kind == HOURS and value is not None:
        cell.number_format = "0.0"
    return cell


# --- internals ------------------------------------------------------------------------------


def _interval(value: str | None, period: Period) -> str:
    if value and value != "auto":
        if value not in metrics.INTERVALS:
            raise ActionError(
                _("Unknown interval “%(interval)s”.") % {"interval": value}, field="interval"
            )
        return value
    if period.days <= 31:
        return "day"
    if period.days <= 120:
        return "week"
    return "month"


def _place_choices(user: User) -> list[tuple[str, str]]:
    """Streets and communities the viewer may filter by (their jurisdiction and below)."""
    codes = scope.jurisdiction_codes(user, roles_allowed=DASHBOARD_ROLES)
    qs = Place.objects.filter(
        level__in=[PlaceLevel.DISTRICT, PlaceLevel.STREET, PlaceLevel.COMMUNITY]
    )
    if codes is not None:
        condition = Q(pk__in=[])
        for code in codes:
            condition |= Q(code__startswith=code)
        qs = qs.filter(condition)
    indent: dict[str, str] = {
        PlaceLevel.DISTRICT: "",
        PlaceLevel.STREET: "　",
        PlaceLevel.COMMUNITY: "　　",
    }
    return [
        (p.code, f"{indent.get(p.level, '')}{p.name}")
        for p in qs.order_by("code").only("code", "name", "level")
    ]


def _json_error(message: str, *, status: int) -> JsonResponse:
    code = "unauthenticated" if status == 401 else "forbidden"
    return JsonResponse(
        {"detail": [{"field": None, "code": code, "message": message}]}, status=status
    )


def _texts() -> dict[str, str]:
    """UI strings the script needs, translated here (the script has no gettext)."""
    labels = {key: str(title) for key, title in TABLE_TITLES.items()}
    labels.update({key: str(title) for title, key, _kind in FIGURE_COLUMNS})
    labels.update({key: str(label) for label, key, _kind in OVERDUE_COLUMNS})
    labels.update(
        {
            "loading": _("Loading…"),
            "failed": _("The figures could not be loaded."),
            "noData": _("No data"),
            "count": _("Appeals"),
            "rate": _("Rate"),
            "rank": _("Rank"),
            "name": _("Name"),
            "unitName": _("Handling unit"),
            "communityName": _("Community"),
            "firstLevel": _("First level"),
            "secondLevel": _("Second level"),
            "mapLegend": _("Appeals received per grid"),
            "mapEmpty": _("No grid boundaries in your scope."),
            "ungridded": _("Appeals without a grid (not on the map): %(n)s"),
            "overdueShown": _(
                "%(shown)s of %(count)s overdue appeals shown, longest overdue first."
            ),
            "noOverdue": _("No overdue appeals. Well done."),
            "generatedAt": _("Figures as of %(at)s"),
            "periodLabel": _("%(start)s to %(end)s"),
            "period": _("Period"),
            "code": _("Code"),
        }
    )
    return labels
