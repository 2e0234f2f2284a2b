"""三率 dashboard over 1M and 5M generated appeals on PostgreSQL vs the raw SQL GROUP BY.

    .venv/bin/python bench/metrics.py                      # 1M and 5M rows
    .venv/bin/python bench/metrics.py --rows 200000        # a quick run
    .venv/bin/python bench/metrics.py --rows 1000000 --keep  # leave the database for a look

What it does, on its own database `helper_bench` (created and dropped here):
1. migrate, load the demo city (places, units; no residents) and the demo categories, and one
   district leader;
2. generate N appeals with ONE `INSERT … SELECT generate_series` (no ORM): every state, a
   realistic share of dispatched / signed in time / rated / reopened / overdue, spread over
   `--span-days` (default 365: every row falls inside the dashboard's 365-day window, the
   worst case), then VACUUM ANALYZE;
3. times the dashboard's metric functions (renzhi.appeals.metrics, scoped to the leader, whole
   district, last 365 days) grouped by unit / community / category / month against the same
   figures from hand-written SQL (checking both give the same numbers), median of --repeat;
4. times GET /appeals/dashboard/data/?days=365 (Django test client, the whole view) --requests
   times and reports p50 / p95.
Prints a table and writes bench/results/metrics.json. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "helper_bench"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
RESULT = ROOT / "bench" / "results" / "metrics.json"
GOAL_RATIO, GOAL_P95_MS = 2.0, 300.0

os.environ["DATABASE_URL"] = DB_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renzhi.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
os.environ["DEBUG"] = "0"  # no query log in memory
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RENZHI_FAST_HASHER", "1")
os.environ.setdefault("RENZHI_BENCHMARK", "1")  # a throwaway database: fast hasher allowed


def create_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def setup_world():
    """Schema, the demo city's places and units, the categories, and a district leader."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from renzhi.appeals.actions.config import load_categories
    from renzhi.core.models import Membership, Place, Role, User
    from renzhi.demo.build import build_city
    from renzhi.demo.categories import CATEGORIES

    build_city(residents=False)
    load_categories(None, CATEGORIES)
    district = Place.objects.get(level="district")
    leader = User.objects.create_user("bench_leader", password="Bench-pass-2026!")
    Membership.objects.create(user=leader, role=Role.LEADER, place=district)
    return leader


# --- data generation ------------------------------------------------------------------------

TEXTS = [
    "小区三号楼电梯经常停运，老人上下楼非常不便，希望物业尽快维修并说明原因。",
    "今天早上起小区停水，没有任何通知，家里有老人孩子，请尽快恢复供水。",
    "楼下餐馆油烟直排，晚上噪音很大，影响居民休息，请相关部门处理。",
    "路口井盖缺失，夜间没有照明，行人很容易掉进去，请尽快补上井盖。",
    "暖气不热，室温只有十四度，已经给供暖公司打过电话但没人来处理。",
    "垃圾桶已经满了两天没有清运，气味很大，夏天还有很多蚊蝇。",
    "小区门口违规停车严重，消防通道被堵，希望城管加强管理。",
    "公司拖欠工资三个月，多次讨要没有结果，请劳动监察部门帮助。",
]

GENERATE_SQL = """
WITH base AS (
  SELECT i,
    %(t0)s::timestamptz + ((i - 0.5 + (random() - 0.5) * 0.8) / %(total)s * %(span)s)
      * interval '1 second' AS received_at,
    floor(random() * %(ng)s)::int AS g,
    floor(random() * %(nc)s)::int AS c,
    random() AS rs, random() AS rd, random() AS rsign, random() AS rrate, random() AS rreopen,
    random() AS rh, random() AS ro
  FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
), st AS (
  -- Older appeals are nearly all finished; the open ones are recent (as in a live system).
  SELECT base.*,
    CASE WHEN received_at < %(now)s::timestamptz - interval '20 days' THEN
      CASE WHEN rs < 0.860 THEN 'closed' WHEN rs < 0.880 THEN 'resolved'
           WHEN rs < 0.920 THEN 'rejected' WHEN rs < 0.950 THEN 'withdrawn'
           WHEN rs < 0.980 THEN 'merged' WHEN rs < 0.983 THEN 'handling'
           WHEN rs < 0.984 THEN 'suspended' ELSE 'closed' END
    ELSE
      CASE WHEN rs < 0.40 THEN 'closed' WHEN rs < 0.55 THEN 'resolved'
           WHEN rs < 0.70 THEN 'handling' WHEN rs < 0.78 THEN 'signed'
           WHEN rs < 0.85 THEN 'dispatched' WHEN rs < 0.87 THEN 'suspended'
           WHEN rs < 0.90 THEN 'received' WHEN rs < 0.92 THEN 'accepted'
           WHEN rs < 0.96 THEN 'rejected' WHEN rs < 0.99 THEN 'withdrawn' ELSE 'merged' END
    END AS state
  FROM base
), d AS (
  SELECT st.*,
    (state IN ('closed', 'resolved', 'handling', 'signed', 'dispatched', 'suspended')
     OR (state IN ('withdrawn', 'merged') AND rd < 0.5)) AS was_dispatched,
    state IN ('closed', 'resolved') AS finished,
    (rreopen < 0.06) AS reopened
  FROM st
), t AS (
  SELECT d.*,
    CASE WHEN was_dispatched THEN received_at + (5 + rd * 600) * interval '1 minute' END
      AS dispatched_at
  FROM d
)
INSERT INTO appeals_appeal (
  tracking_no, channel, state, priority, category_id, category_top_id, title, description,
  lat, lng, address, grid_id, community_id, street_id, place_code, contact_name, contact_phone,
  anonymous, external_ref, extra, unit_id, escalation_level, supervised, supervise_count,
  reopen_count, return_count, transfer_count, state_before_suspend, result, received_at,
  accepted_at, dispatched_at, first_dispatched_at, sign_deadline, signed_at, signed_in_time,
  resolve_deadline, resolved_at, resolved_in_time, closed_at, overdue, handling_hours, rating,
  satisfaction, feedback, rated_at, version, updated_at)
SELECT
  'RZB' || lpad(i::text, 12, '0'), 'api', state, 'normal',
  (%(cat_ids)s::bigint[])[c + 1], (%(cat_tops)s::bigint[])[c + 1],
  left((%(texts)s::text[])[1 + (i %% 8)::int], 20), (%(texts)s::text[])[1 + (i %% 8)::int],
  NULL, NULL, '', (%(grid_ids)s::bigint[])[g + 1], (%(comm_ids)s::bigint[])[g + 1],
  (%(street_ids)s::bigint[])[g + 1], (%(grid_codes)s::text[])[g + 1], '', '', false, '',
  '{}'::jsonb,
  CASE WHEN was_dispatched THEN (%(units)s::bigint[])[g * %(nc)s + c + 1] END,
  '', false, 0,
  CASE WHEN was_dispatched AND reopened THEN 1 ELSE 0 END, 0, 0, '',
  CASE WHEN finished THEN '已处理' ELSE '' END,
  received_at,
  CASE WHEN state <> 'received' THEN received_at + interval '3 minutes' END,
  dispatched_at, dispatched_at,
  dispatched_at + interval '2 hours',
  CASE WHEN was_dispatched AND state <> 'dispatched' THEN dispatched_at + interval '1 hour' END,
  CASE WHEN was_dispatched AND state <> 'dispatched' THEN rsign < 0.92 END,
  dispatched_at + interval '5 days',
  CASE WHEN finished THEN dispatched_at + (rh * 8) * interval '1 day' END,
  CASE WHEN finished THEN rh < 0.62 END,
  CASE WHEN state IN ('closed', 'rejected', 'withdrawn') THEN received_at + interval '9 days' END,
  (was_dispatched AND state IN ('dispatched', 'signed', 'handling')
     AND dispatched_at + interval '5 days' < %(now)s::timestamptz AND ro < 0.8),
  CASE WHEN finished THEN round((1 + rh * 60)::numeric, 3)::float END,
  CASE WHEN finished AND rrate < 0.7 THEN 1 + floor(rrate / 0.7 * 5)::int END,
  CASE WHEN finished AND rrate < 0.7 THEN
    CASE WHEN 1 + floor(rrate / 0.7 * 5)::int >= 4 THEN 'satisfied'
         WHEN 1 + floor(rrate / 0.7 * 5)::int = 3 THEN 'basic' ELSE 'unsatisfied' END
    ELSE '' END,
  '',
  CASE WHEN finished AND rrate < 0.7 THEN dispatched_at + interval '9 days' END,
  1, %(now)s::timestamptz - interval '1 day'
FROM t
"""


def generation_params(span_days: int) -> dict:
    """Arrays the INSERT picks from: grids with their community/street, categories, units."""
    import datetime as dt

    from django.utils import timezone

    from renzhi.appeals.models import Category
    from renzhi.core.models import Place, Unit

    grids = list(Place.objects.filter(level="grid").select_related("parent").order_by("code"))
    cats = list(Category.objects.exclude(parent=None).order_by("code"))
    units = list(Unit.objects.prefetch_related("places").order_by("code"))
    by_kind: dict[str, list] = {}
    for u in units:
        by_kind.setdefault(u.kind, []).append(u)
    matrix = []
    for g in grids:
        chain = {g.code[:n] for n in (6, 9, 12, 15)}
        for c in cats:
            kind = c.default_unit_kind or (c.parent.default_unit_kind if c.parent else "")
            candidates = by_kind.get(kind) or units
            covering = [u for u in candidates if any(p.code in chain for p in u.places.all())]
            matrix.append((covering or candidates)[0].pk)
    now = timezone.now()
    return {
        "t0": now - dt.timedelta(days=span_days),
        "span": span_days * 86400 - 3600,
        "now": now,
        "ng": len(grids),
        "nc": len(cats),
        "grid_ids": [g.pk for g in grids],
        "grid_codes": [g.code for g in grids],
        "comm_ids": [g.parent_id for g in grids],
        "street_ids": [g.parent.parent_id for g in grids],
        "cat_ids": [c.pk for c in cats],
        "cat_tops": [c.parent_id for c in cats],
        "units": matrix,
        "texts": TEXTS,
    }


def generate(total: int, span_days: int, chunk: int = 1_000_000) -> float:
    """Fill appeals_appeal with `total` rows (replacing what was there). Returns seconds.

    A bulk load as a DBA would do it: secondary indexes dropped and rebuilt afterwards, foreign
    key triggers off during the load (the generated ids come from the tables they point to).
    """
    from django.db import connection

    params = {**generation_params(span_days), "total": total}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE appeals_appeal CASCADE")
        cursor.execute("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = 'appeals_appeal' AND NOT EXISTS (
              SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""")
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for first in range(1, total + 1, chunk):
            last = min(total, first + chunk - 1)
            cursor.execute(GENERATE_SQL, {**params, "first": first, "last": last})
            print(f"  generated {last:,} / {total:,} rows", flush=True)
        cursor.execute("SET session_replication_role = DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
    connection.connection.autocommit = True  # VACUUM cannot run in a transaction
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE appeals_appeal")
    return time.perf_counter() - started


# --- the raw SQL the metrics must match -----------------------------------------------------

RAW_AGGREGATES = """
  COUNT(*) FILTER (WHERE r) AS received,
  COUNT(*) FILTER (WHERE d) AS dispatched,
  COUNT(*) FILTER (WHERE d AND signed_in_time) AS signed_in_time,
  COUNT(*) FILTER (WHERE d AND (state IN ('resolved', 'closed') OR resolve_deadline < %(now)s))
    AS due,
  COUNT(*) FILTER (WHERE d AND state IN ('resolved', 'closed') AND reopen_count = 0)
    AS resolved_ok,
  COUNT(*) FILTER (WHERE d AND rating IS NOT NULL) AS rated,
  COUNT(*) FILTER (WHERE d AND rating IS NOT NULL AND satisfaction IN ('satisfied', 'basic'))
    AS satisfied,
  COUNT(*) FILTER (WHERE d AND overdue AND state IN
    ('received', 'accepted', 'dispatched', 'signed', 'handling', 'suspended')) AS overdue,
  COUNT(*) FILTER (WHERE d AND state IN ('resolved', 'closed')) AS finished,
  COUNT(*) FILTER (WHERE d AND state IN ('resolved', 'closed') AND reopen_count > 0) AS reopened,
  AVG(handling_hours) FILTER (WHERE d AND state IN ('resolved', 'closed')) AS avg_hours
"""
RAW_GROUPED = """
SELECT {key} AS k, {aggregates}
FROM (
  SELECT *, (received_at >= %(start)s AND received_at < %(end)s) AS r,
            (first_dispatched_at >= %(start)s AND first_dispatched_at < %(end)s) IS TRUE AS d
  FROM appeals_appeal
  WHERE (received_at >= %(start)s AND received_at < %(end)s)
     OR (first_dispatched_at >= %(start)s AND first_dispatched_at < %(end)s)
) a
GROUP BY {key}
"""
# Per month: received counted by the month it came in, the rest by the month of first dispatch.
RAW_MONTHLY = """
SELECT k, SUM(received) AS received, SUM(dispatched) AS dispatched,
  SUM(signed_in_time) AS signed_in_time, SUM(due) AS due, SUM(resolved_ok) AS resolved_ok,
  SUM(rated) AS rated, SUM(satisfied) AS satisfied, SUM(overdue) AS overdue,
  SUM(finished) AS finished, SUM(reopened) AS reopened,
  SUM(hours_sum) / NULLIF(SUM(hours_n), 0) AS avg_hours
FROM (
  SELECT date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai') AS k, COUNT(*) AS received,
    0 AS dispatched, 0 AS signed_in_time, 0 AS due, 0 AS resolved_ok, 0 AS rated, 0 AS satisfied,
    0 AS overdue, 0 AS finished, 0 AS reopened, 0 AS hours_sum, 0 AS hours_n
  FROM appeals_appeal WHERE received_at >= %(start)s AND received_at < %(end)s GROUP BY 1
  UNION ALL
  SELECT date_trunc('month', first_dispatched_at AT TIME ZONE 'Asia/Shanghai'), 0, COUNT(*),
    COUNT(*) FILTER (WHERE signed_in_time),
    COUNT(*) FILTER (WHERE state IN ('resolved', 'closed') OR resolve_deadline < %(now)s),
    COUNT(*) FILTER (WHERE state IN ('resolved', 'closed') AND reopen_count = 0),
    COUNT(*) FILTER (WHERE rating IS NOT NULL),
    COUNT(*) FILTER (WHERE rating IS NOT NULL AND satisfaction IN ('satisfied', 'basic')),
    COUNT(*) FILTER (WHERE overdue AND state IN
      ('received', 'accepted', 'dispatched', 'signed', 'handling', 'suspended')),
    COUNT(*) FILTER (WHERE state IN ('resolved', 'closed')),
    COUNT(*) FILTER (WHERE state IN ('resolved', 'closed') AND reopen_count > 0),
    SUM(handling_hours) FILTER (WHERE state IN ('resolved', 'closed')),
    COUNT(handling_hours) FILTER (WHERE state IN ('resolved', 'closed'))
  FROM appeals_appeal
  WHERE first_dispatched_at >= %(start)s AND first_dispatched_at < %(end)s GROUP BY 1
) parts
GROUP BY k
"""
RAW_COLUMNS = [
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
    "avg_hours",
]


def raw_query(grouping: str, period, now) -> list[tuple]:
    from django.db import connection

    start, end = period.bounds()
    params = {"start": start, "end": end, "now": now}
    if grouping == "month":
        sql = RAW_MONTHLY
    else:
        key = {"unit": "unit_id", "community": "community_id", "category": "category_id"}[grouping]
        sql = RAW_GROUPED.format(key=key, aggregates=RAW_AGGREGATES)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def metrics_query(grouping: str, leader, period, now) -> list:
    """The dashboard's figures; with `now` given they are computed live, else the summary
    tables answer when they are fresh."""
    from renzhi.appeals import metrics

    if grouping == "month":
        return metrics.trend(leader, period, "month", now=now)
    return metrics.grouped(leader, period, grouping, now=now)


def same_numbers(raw_rows: list[tuple], figures: list, grouping: str) -> bool:
    """The raw SQL and the metrics agree on every count (and the average) of every group."""

    def key_of(k):
        return k.date().replace(day=1) if grouping == "month" and k is not None else k

    raw = {key_of(row[0]): dict(zip(RAW_COLUMNS, row[1:], strict=True)) for row in raw_rows}
    mine = {f.key: f for f in figures if any(getattr(f, c) for c in RAW_COLUMNS[:-1])}
    if set(raw) != set(mine):
        return False
    for key, want in raw.items():
        got = mine[key]
        for column in RAW_COLUMNS[:-1]:
            if int(want[column] or 0) != getattr(got, column):
                return False
        avg = got.avg_handling_hours
        if (want["avg_hours"] is None) != (avg is None):
            return False
        if avg is not None and abs(float(want["avg_hours"]) - avg) > 1e-6:
            return False
    return True


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(median ms, min ms, last result) over `repeat` runs after one warm-up run."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def page_times(leader, requests: int) -> list[float]:
    from django.test import Client

    client = Client()
    client.force_login(leader)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/appeals/dashboard/data/", {"days": 365})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return times


def indexes_used() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'appeals_appeal'"
            " ORDER BY indexname"
        )
        return [f"{name}: {definition}" for name, definition in cursor.fetchall()]


def explain(grouping: str, leader, period, now) -> str:
    """The plan PostgreSQL picks for the metrics query (first lines)."""
    from renzhi.appeals import metrics

    qs = (
        metrics._cohort(leader, period, None)
        .values(metrics.GROUP_FIELDS[grouping])
        .annotate(**metrics._aggregates(period, now))
        .order_by()
    )
    plan = qs.explain()
    return "\n".join(plan.splitlines()[:12])


def run_size(rows: int, leader, args) -> dict:
    from django.db import connection
    from django.utils import timezone

    from renzhi.appeals import rollup
    from renzhi.appeals.metrics import Period
    from renzhi.appeals.models import Appeal

    print(f"\n== {rows:,} appeals ==", flush=True)
    seconds = generate(rows, args.span_days)
    print(f"  generated, indexed and analysed in {seconds:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size('appeals_appeal'), pg_relation_size('appeals_appeal')"
        )
        total_bytes, heap_bytes = cursor.fetchone()
    period = Period.last(365)
    start, end = period.bounds()
    in_window = Appeal.objects.filter(received_at__gte=start, received_at__lt=end).count()
    overdue_open = Appeal.objects.filter(overdue=True).count()
    result = {
        "rows": rows,
        "rows_in_window": in_window,
        "overdue_flagged": overdue_open,
        "generate_s": round(seconds, 1),
        "table_mb": round(heap_bytes / 2**20),
        "table_with_indexes_mb": round(total_bytes / 2**20),
        "queries": {},
    }

    # 1. the metrics computed live (ORM, scoped) against hand-written SQL: same work, same numbers
    now = timezone.now()
    for grouping in () if args.no_live else ("unit", "community", "category", "month"):
        m_med, m_min, figures = timed(
            lambda g=grouping: metrics_query(g, leader, period, now), args.repeat
        )
        r_med, r_min, raw_rows = timed(lambda g=grouping: raw_query(g, period, now), args.repeat)
        ok = same_numbers(raw_rows, figures, grouping)
        result["queries"][grouping] = {
            "metrics_ms": round(m_med, 1),
            "metrics_min_ms": round(m_min, 1),
            "raw_sql_ms": round(r_med, 1),
            "raw_sql_min_ms": round(r_min, 1),
            "ratio": round(m_med / r_med, 2),
            "groups": len(raw_rows),
            "same_numbers": ok,
        }
        print(
            f"  live {grouping:<10} metrics {m_med:8.1f} ms  raw SQL {r_med:8.1f} ms  "
            f"ratio {m_med / r_med:5.2f}  groups {len(raw_rows):4d}  same numbers: {ok}",
            flush=True,
        )

    # 2. the daily summary tables: build, answer, catch up after changes
    started = time.perf_counter()
    report = rollup.refresh(full=True)
    full_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        sizes = {}
        for table in rollup.TABLES:
            cursor.execute(f"SELECT count(*) FROM {table.name}")
            sizes[table.name] = cursor.fetchone()[0]
    recent = list(
        Appeal.objects.filter(state="handling")
        .order_by("-received_at")
        .values_list("pk", flat=True)[:2000]
    )
    Appeal.objects.filter(pk__in=recent).update(state="resolved", updated_at=timezone.now())
    started = time.perf_counter()
    incremental = rollup.refresh()
    incremental_s = time.perf_counter() - started
    result["summary_tables"] = {
        "full_refresh_s": round(full_s, 1),
        "rows": sizes,
        "incremental_refresh_s": round(incremental_s, 2),
        "incremental_changed_appeals": len(recent),
        "incremental_days": incremental.days,
    }
    print(
        f"  summary tables: full refresh {full_s:.1f} s ({report.rows:,} rows: {sizes}); "
        f"incremental after {len(recent)} changes: {incremental_s:.2f} s "
        f"({incremental.days} days)",
        flush=True,
    )
    for grouping in ("unit", "community", "category", "month"):
        s_med, _s_min, stored = timed(
            lambda g=grouping: metrics_query(g, leader, period, None), args.repeat
        )
        live = metrics_query(grouping, leader, period, incremental.refreshed_at)
        same = sorted(repr(f.as_dict()) for f in stored) == sorted(repr(f.as_dict()) for f in live)
        q = result["queries"].setdefault(grouping, {})
        q.update({"summary_tables_ms": round(s_med, 1), "summary_tables_same_numbers": same})
        print(
            f"  summary tables {grouping:<10} {s_med:8.1f} ms  same numbers as live: {same}",
            flush=True,
        )

    # 3. the dashboard data page (the whole view, 5 panels + overdue list)
    times = page_times(leader, args.requests)
    result["page"] = {
        "requests": len(times),
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "source": "summary tables",
    }
    rollup.ENABLED = False
    try:
        live_times = page_times(leader, 0 if args.no_live else args.live_requests) or [0.0]
    finally:
        rollup.ENABLED = True
    result["page_live"] = {
        "requests": len(live_times),
        "p50_ms": round(percentile(live_times, 0.5), 1),
        "max_ms": round(max(live_times), 1),
        "source": "live queries",
    }
    print(
        f"  dashboard data page: p50 {result['page']['p50_ms']} ms, "
        f"p95 {result['page']['p95_ms']} ms over {len(times)} requests; live (no summary "
        f"tables) p50 {result['page_live']['p50_ms']} ms over {len(live_times)}",
        flush=True,
    )
    if not args.no_live:
        result["plan_unit_live"] = explain("unit", leader, period, now)
    return result


def print_table(results: list[dict]) -> None:
    print("\n三率 dashboard vs raw SQL on PostgreSQL (leader, whole district, last 365 days; ms)")
    header = (
        f"{'rows':>10} {'grouping':<10} {'live ORM':>9} {'raw SQL':>9} {'ratio':>6} "
        f"{'same':>5} {'summary tbl':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        for grouping, q in r["queries"].items():
            nan = float("nan")
            same = {True: "yes", False: "NO", None: "-"}[q.get("same_numbers")]
            print(
                f"{r['rows']:>10,} {grouping:<10} {q.get('metrics_ms', nan):>9.1f}"
                f" {q.get('raw_sql_ms', nan):>9.1f} {q.get('ratio', nan):>6.2f} {same:>5}"
                f" {q.get('summary_tables_ms', nan):>12.1f}"
            )
        p, live, st = r["page"], r["page_live"], r["summary_tables"]
        print(
            f"{r['rows']:>10,} {'page':<10} p50 {p['p50_ms']:.1f} ms, p95 {p['p95_ms']:.1f} ms "
            f"with summary tables (goal < {GOAL_P95_MS:.0f} ms); live p50 {live['p50_ms']:.0f} ms"
        )
        print(
            f"{r['rows']:>10,} {'refresh':<10} full {st['full_refresh_s']} s, incremental "
            f"{st['incremental_refresh_s']} s after {st['incremental_changed_appeals']} changes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows",
        default="1000000,5000000",
        help="comma-separated table sizes (default 1000000,5000000)",
    )
    parser.add_argument(
        "--span-days",
        type=int,
        default=365,
        help="appeals are spread over this many days before now (default 365)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query (median)")
    parser.add_argument("--requests", type=int, default=20, help="dashboard data requests")
    parser.add_argument(
        "--live-requests",
        type=int,
        default=3,
        help="dashboard data requests without the summary tables",
    )
    parser.add_argument("--keep", action="store_true", help="keep the helper_bench database")
    parser.add_argument(
        "--no-live",
        action="store_true",
        help="skip the live (no summary table) timings: a quick look",
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.rows.split(",") if s.strip()]
    if any(not 1 <= n <= 20_000_000 for n in sizes):
        parser.error("--rows: each size must be between 1 and 20,000,000")

    started = time.perf_counter()
    create_database()
    try:
        leader = setup_world()
        results = [run_size(n, leader, args) for n in sizes]
        from django.db import connection

        indexes = indexes_used()
        server = connection.cursor().connection.info.server_version
    finally:
        if not args.keep:
            drop_database()
    print_table(results)
    payload = {
        "benchmark": "metrics",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "postgresql": server,
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        },
        "settings": {"span_days": args.span_days, "repeat": args.repeat, "requests": args.requests},
        "goals": {"dashboard_vs_raw_ratio": GOAL_RATIO, "page_p95_ms": GOAL_P95_MS},
        "indexes": indexes,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwritten {RESULT.relative_to(ROOT)} ({payload['seconds']} s)")


if __name__ == "__main__":
    main()
