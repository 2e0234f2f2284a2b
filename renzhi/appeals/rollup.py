"""Appeal figures per day and per month, precomputed (汇总表): the dashboard on millions of rows.

Three summary tables (created by migration 0003 in plain SQL; no model, nothing else touches
them). Each row holds the counts of `metrics.Figures` for one day (grain "d") or one month
(grain "m", `day` = its first day) and one key:

  appeals_metric_place     place_code (the appeal's grid or community), grid, community, street
                           → summary, trend, community, street, grid
  appeals_metric_unit      community code, community, street, unit      → unit
  appeals_metric_category  community code, community, street, category  → categories

An appeal adds its `received` to the row of the local day it was received, and every handling
count (三率, overdue, hours…) to the row of the local day it was first dispatched — exactly the
R and D cohorts of `renzhi.appeals.metrics`, with the same definitions (`metrics.measures`);
`due` is as of the refresh. A period reads the month rows of the months it covers whole and
the day rows of the days at its ends.

`refresh()` (`manage.py refresh_appeal_metrics`, e.g. every five minutes) recomputes the days
whose appeals changed since the last refresh and the days whose deadlines passed since, then
their months; `refresh(full=True)` rebuilds everything. The metrics read these tables only when
asked for the figures "now", when the tables are fresh (`MAX_AGE`), and when the viewer's scope
and the filters can be said in the table's columns. The scope is taken from
`queries.appeals_for(viewer)` itself and translated node by node; anything that does not
translate (a resident's own appeals, a grid worker's grid on a community-level table, a
category filter on the unit table…) sends the metrics back to the live query. Tests hold both
paths to the same numbers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, FloatField, IntegerField, Q, QuerySet, Value
from django.db.models.expressions import Col
from django.db.models.functions import Substr, TruncDate
from django.db.models.lookups import Exact, In, StartsWith
from django.db.models.sql.where import WhereNode
from django.utils import timezone

from renzhi.appeals import metrics
from renzhi.appeals.models import Appeal
from renzhi.appeals.queries import appeals_for
from renzhi.core.models import User

MAX_AGE = dt.timedelta(minutes=30)  # older tables are not used; the live query answers instead
ENABLED = True  # tests switch the tables off to compare
# A transaction may commit this long after it stamped `updated_at`; look back that far.
COMMIT_SLACK = dt.timedelta(minutes=10)
D_MEASURES = (
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
    "hours_sum",
)
MEASURES = ("received", *D_MEASURES)
STATE_TABLE = "appeals_metric_refresh"
DAY, MONTH = "d", "m"


@dataclass(frozen=True)
class Table:
    name: str
    dims: dict  # column → expression over Appeal
    groupings: frozenset  # metrics groupings it answers (None: summary and trend)
    code_length: int  # its place_code: the appeal's own (up to 15) or its community's (12)

    @property
    def columns(self) -> set[str]:
        return set(self.dims)


COMMUNITY_CODE = Substr("place_code", 1, 12)
TABLES = [
    Table(
        "appeals_metric_place",
        {
            "place_code": F("place_code"),
            "grid_id": F("grid_id"),
            "community_id": F("community_id"),
            "street_id": F("street_id"),
        },
        frozenset({None, "community", "street", "grid"}),
        15,
    ),
    Table(
        "appeals_metric_unit",
        {
            "place_code": COMMUNITY_CODE,
            "community_id": F("community_id"),
            "street_id": F("street_id"),
            "unit_id": F("unit_id"),
        },
        frozenset({"unit"}),
        12,
    ),
    Table(
        "appeals_metric_category",
        {
            "place_code": COMMUNITY_CODE,
            "community_id": F("community_id"),
            "street_id": F("street_id"),
            "category_id": F("category_id"),
            "category_top_id": F("category_top_id"),
        },
        frozenset({"category", "category_top"}),
        12,
    ),
]


@dataclass(frozen=True)
class RefreshReport:
    full: bool
    days: int  # days recomputed (-1: all)
    rows: int
    seconds: float
    refreshed_at: dt.datetime


# --- reading ----------------------------------------------------------------------------------


def grouped(
    viewer: User | None, period: metrics.Period, by: str | None, filters: metrics.Filters | None
) -> list[metrics.Figures] | None:
    """Figures per group (`by` as in metrics.GROUP_FIELDS; None: one total), or None when the
    summary tables cannot answer for this viewer and these filters."""
    plan = _plan(viewer, filters, by)
    if plan is None:
        return None
    table, where, params = plan
    span, span_params = _span_sql(period, months=True)
    if by is None:
        select, group_by = "NULL", ""
    else:
        select = metrics.GROUP_FIELDS[by]
        group_by = f" GROUP BY {select}"
    sql = f"SELECT {select}, {_SUMS} FROM {table.name} WHERE {span} AND {where}{group_by}"
    rows = _fetch(sql, [*span_params, *params])
    return [_figures(row[1:], key=row[0]) for row in rows]


def daily(
    viewer: User | None,
    period: metrics.Period,
    filters: metrics.Filters | None,
    *,
    months: bool = False,
) -> list[tuple[dt.date, metrics.Figures]] | None:
    """(day, figures) for the trend, or None. With `months`, whole months come as one row dated
    their first day (enough for a monthly trend, and far fewer rows)."""
    plan = _plan(viewer, filters, None)
    if plan is None:
        return None
    table, where, params = plan
    span, span_params = _span_sql(period, months=months)
    sql = f"SELECT day, {_SUMS} FROM {table.name} WHERE {span} AND {where} GROUP BY grain, day"
    rows = _fetch(sql, [*span_params, *params])
    return [(_to_date(row[0]), _figures(row[1:], key=None)) for row in rows]


def as_of() -> dt.datetime | None:
    """When the tables were last refreshed, if that is recent enough for them to be used."""
    refreshed = _refreshed_at()
    if refreshed is None or timezone.now() - refreshed > MAX_AGE:
        return None
    return refreshed


def answered_as_of(
    viewer: User | None, filters: metrics.Filters | None, by: str | None = None
) -> dt.datetime | None:
    """The refresh time when the summary tables answer this question; None when it is live."""
    return as_of() if _plan(viewer, filters, by) is not None else None


# --- refreshing -------------------------------------------------------------------------------


def refresh(*, full: bool = False, now: dt.datetime | None = None) -> RefreshReport:
    """Bring the summary tables up to date: incremental unless `full` or never built."""
    started = time.perf_counter()
    now = now or timezone.now()
    with transaction.atomic():
        state = _lock_state()
        full = full or state is None
        days = None if full or state is None else _touched_days(state, now)
        rows = 0
        if days is None:
            for table in TABLES:
                _execute(f"DELETE FROM {table.name}")
                rows += _insert_days(table, None, now)
            months = _months_with_rows()
        elif days:
            where, params = _day_ranges_sql(days)
            for table in TABLES:
                _execute(f"DELETE FROM {table.name} WHERE grain = '{DAY}' AND {where}", params)
                rows += _insert_days(table, days, now)
            months = sorted({d.replace(day=1) for d in days})
        else:
            months = []
        for table in TABLES:
            rows += _rebuild_months(table, months)
        _save_state(now, full=full, days=len(days or []), seconds=time.perf_counter() - started)
    return RefreshReport(
        full=full,
        days=-1 if days is None else len(days),
        rows=rows,
        seconds=time.perf_counter() - started,
        refreshed_at=now,
    )


def _insert_days(table: Table, days: list[dt.date] | None, now: dt.datetime) -> int:
    """Day rows for `days` (None: all) in ONE statement: INSERT … SELECT the ORM's two
    aggregates (received by receipt day, handling by dispatch day) added up per day and key."""
    received = Appeal.objects.all()
    handled = Appeal.objects.filter(first_dispatched_at__isnull=False)
    if days is not None:
        received = received.filter(_ranges_q("received_at", days))
        handled = handled.filter(_ranges_q("first_dispatched_at", days))
    zero = {name: Value(0, output_field=IntegerField()) for name in D_MEASURES}
    zero["hours_sum"] = Value(None, output_field=FloatField())
    parts = [
        _per_day(received, "received_at", table, {"received": Count("pk"), **zero}),
        _per_day(
            handled,
            "first_dispatched_at",
            table,
            {
                "received": Value(0, output_field=IntegerField()),
                **{
                    name: aggregate
                    for name, aggregate in metrics.measures(
                        Q(pk__isnull=False), Q(pk__isnull=False), now
                    ).items()
                    if name != "received"
                },
            },
        ),
    ]
    compiled = [_compile(qs) for qs in parts]
    (sql_r, params_r, columns), (sql_d, params_d, columns_d) = compiled
    assert columns == columns_d, (columns, columns_d)
    keys = ["day", *table.dims]
    aliases = ", ".join(f"k_{k}" for k in keys)  # the ORM's column aliases in the parts
    sums = ", ".join(f"SUM(m_{m})" for m in MEASURES)
    sql = (
        f"INSERT INTO {table.name} (grain, {', '.join(keys)}, {', '.join(MEASURES)}) "
        f"SELECT '{DAY}', {aliases}, {sums} "
        f"FROM ({sql_r} UNION ALL {sql_d}) parts GROUP BY {aliases}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params_r, *params_d])
        return max(cursor.rowcount, 0)


def _per_day(qs: QuerySet, stamp: str, table: Table, aggregates: dict) -> QuerySet:
    keys = {"day": TruncDate(stamp, tzinfo=metrics.LOCAL_TZ), **table.dims}
    aliased = {f"k_{name}": expression for name, expression in keys.items()}
    return (
        qs.annotate(**aliased)
        .values(*aliased)
        .annotate(**{f"m_{name}": aggregates[name] for name in MEASURES})
        .order_by()
    )


def _compile(qs: QuerySet) -> tuple[str, list, list[str]]:
    """The SQL of a part and its output column aliases (k_… keys, m_… measures), in order."""
    compiler = qs.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    columns = [alias for _expression, _sql, alias in compiler.select]
    return sql, list(params), columns


def _rebuild_months(table: Table, months: list[dt.date]) -> int:
    """Month rows summed from the day rows, one statement per month."""
    rows = 0
    keys = ", ".join(table.dims)
    sums = ", ".join(f"SUM({m})" for m in MEASURES)
    for month in months:
        first, stop = _db_date(month), _db_date(_next_month(month))
        _execute(f"DELETE FROM {table.name} WHERE grain = '{MONTH}' AND day = %s", [first])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table.name} (grain, day, {keys}, {', '.join(MEASURES)}) "
                f"SELECT '{MONTH}', %s, {keys}, {sums} FROM {table.name} "
                f"WHERE grain = '{DAY}' AND day >= %s AND day < %s GROUP BY {keys}",
                [first, first, stop],
            )
            rows += max(cursor.rowcount, 0)
    return rows


def _months_with_rows() -> list[dt.date]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(day), MAX(day) FROM {TABLES[0].name} WHERE grain = '{DAY}'")
        low, high = cursor.fetchone()
    if low is None:
        return []
    month, last = _to_date(low).replace(day=1), _to_date(high).replace(day=1)
    months = []
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _touched_days(state: dict, now: dt.datetime) -> list[dt.date]:
    """Local days (received or dispatched) of appeals changed since the last refresh, and the
    dispatch days of appeals whose resolve deadline passed since (their `due` changed)."""
    since = state["refreshed_at"] - COMMIT_SLACK
    days: set[dt.date] = set()
    changed = Appeal.objects.filter(updated_at__gte=since)
    crossed = Appeal.objects.filter(resolve_deadline__gte=since, resolve_deadline__lt=now)
    for qs in (changed, crossed):
        pairs = (
            qs.annotate(
                r=TruncDate("received_at", tzinfo=metrics.LOCAL_TZ),
                d=TruncDate("first_dispatched_at", tzinfo=metrics.LOCAL_TZ),
            )
            .values_list("r", "d")
            .distinct()
            .order_by()
        )
        for r, d in pairs:
            days.add(_to_date(r))
            if d is not None:
                days.add(_to_date(d))
    return sorted(days)


# --- the scope, translated ------------------------------------------------------------------


def _plan(viewer: User | None, filters: metrics.Filters | None, by: str | None):
    """(table, WHERE sql, params) answering `by` for this viewer and filters, or None."""
    if not ENABLED or as_of() is None:
        return None
    table = next((t for t in TABLES if by in t.groupings), None)
    if table is None:
        return None
    qs = appeals_for(viewer)
    if filters is not None:
        qs = filters.apply(qs)
    translated = _node_sql(qs.query.where, table)
    if translated is None:
        return None
    return table, translated[0], translated[1]


def _node_sql(node, table: Table) -> tuple[str, list] | None:
    """SQL over the summary table equivalent to one node of the appeals' WHERE clause."""
    if isinstance(node, WhereNode):
        parts, params = [], []
        for child in node.children:
            part = _node_sql(child, table)
            if part is None:
                return None
            parts.append(part[0])
            params += part[1]
        sql = f" {node.connector} ".join(f"({p})" for p in parts) if parts else "1 = 1"
        return (f"NOT ({sql})" if node.negated else sql), params
    if isinstance(node, In) and not list(node.rhs):
        return "1 = 0", []  # "matches nothing" (a viewer without any scope)
    lhs = getattr(node, "lhs", None)
    if not isinstance(lhs, Col):
        return None
    column = lhs.target.column
    if column not in table.columns:
        return None
    if isinstance(node, StartsWith) and column == "place_code":
        prefix = str(node.rhs)
        if not prefix.isdigit() or len(prefix) > table.code_length:
            return None
        return "place_code LIKE %s", [prefix + "%"]
    if isinstance(node, Exact):
        return f"{column} = %s", [getattr(node.rhs, "pk", node.rhs)]
    if isinstance(node, In):
        values = [getattr(v, "pk", v) for v in node.rhs]
        return f"{column} IN ({', '.join(['%s'] * len(values))})", values
    return None


# --- internals ------------------------------------------------------------------------------

_SUMS = ", ".join(f"SUM({m})" for m in MEASURES)


def _span_sql(period: metrics.Period, *, months: bool) -> tuple[str, list]:
    """Rows covering [start, end): month rows for whole months (if `months`), day rows else."""
    start, end = period.start, period.end
    first_full = start if start.day == 1 else _next_month(start.replace(day=1))
    stop_full = end.replace(day=1)
    if not months or first_full >= stop_full:
        return f"grain = '{DAY}' AND day >= %s AND day < %s", [_db_date(start), _db_date(end)]
    sql = (
        f"((grain = '{MONTH}' AND day >= %s AND day < %s) OR (grain = '{DAY}' AND "
        "((day >= %s AND day < %s) OR (day >= %s AND day < %s))))"
    )
    return sql, [_db_date(d) for d in (first_full, stop_full, start, first_full, stop_full, end)]


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as [first, after-last) ranges."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + dt.timedelta(days=1))
        else:
            runs.append((day, day + dt.timedelta(days=1)))
    return runs


def _day_ranges_sql(days: list[dt.date]) -> tuple[str, list]:
    parts, params = [], []
    for first, stop in _runs(days):
        parts.append("(day >= %s AND day < %s)")
        params += [_db_date(first), _db_date(stop)]
    return "(" + " OR ".join(parts) + ")", params


def _ranges_q(field: str, days: list[dt.date]) -> Q:
    condition = Q(pk__in=[])
    for first, stop in _runs(days):
        start = dt.datetime.combine(first, dt.time.min, tzinfo=metrics.LOCAL_TZ)
        end = dt.datetime.combine(stop, dt.time.min, tzinfo=metrics.LOCAL_TZ)
        condition |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return condition


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _figures(values, key) -> metrics.Figures:
    """Figures from the SUM columns of a summary-table query, in MEASURES order."""
    return metrics.figures_from_row(dict(zip(MEASURES, values, strict=True)), key)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _db_date(day: dt.date):
    return connection.ops.adapt_datefield_value(day)


def _to_date(value) -> dt.date:
    """A date from the database (SQLite gives text)."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _refreshed_at() -> dt.datetime | None:
    rows = _fetch(f"SELECT refreshed_at FROM {STATE_TABLE} WHERE id = 1", [])
    return dt.datetime.fromisoformat(rows[0][0]) if rows else None


def _lock_state() -> dict | None:
    suffix = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = _fetch(f"SELECT refreshed_at, full_at FROM {STATE_TABLE} WHERE id = 1{suffix}", [])
    if not rows:
        return None
    return {
        "refreshed_at": dt.datetime.fromisoformat(rows[0][0]),
        "full_at": dt.datetime.fromisoformat(rows[0][1]),
    }


def _save_state(now: dt.datetime, *, full: bool, days: int, seconds: float) -> None:
    stamp = now.astimezone(dt.UTC).isoformat()
    rows = _fetch(f"SELECT full_at FROM {STATE_TABLE} WHERE id = 1", [])
    full_at = stamp if full or not rows else rows[0][0]
    _execute(f"DELETE FROM {STATE_TABLE} WHERE id = 1")
    _execute(
        f"INSERT INTO {STATE_TABLE} (id, refreshed_at, full_at, seconds, days) "
        "VALUES (1, %s, %s, %s, %s)",
        [stamp, full_at, seconds, days],
    )
