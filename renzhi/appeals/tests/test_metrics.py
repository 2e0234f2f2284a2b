"""三率 and the other appeal figures: hand-computed values, an independent raw SQL, and scope.

The hand-built fixture (`march`) writes Appeal rows directly with chosen states and clock
fields — time travel to March 2026 that the actions (which stamp `timezone.now()`) cannot do.
One test drives a real case through the actions to show the fields they set are what the
metrics count. Period: March 2026 local time, [2026-03-01, 2026-04-01); `now` = 2026-04-10.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renzhi.appeals import actions, metrics, rollup
from renzhi.appeals.metrics import Filters, Period
from renzhi.appeals.models import Appeal
from renzhi.core.errors import ActionError

TZ = metrics.LOCAL_TZ
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 1))
NOW = dt.datetime(2026, 4, 10, 12, 0, tzinfo=TZ)
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def make(
    w,
    name: str,
    *,
    community: str = "a",
    state: str,
    received: dt.datetime,
    dispatched: dt.datetime | None = None,
    unit: str | None = None,
    category=None,
    signed_in_time: bool | None = None,
    deadline: dt.datetime | None = None,
    reopen_count: int = 0,
    rating: int | None = None,
    hours: float | None = None,
    overdue: bool = False,
) -> Appeal:
    """One Appeal row with its clock fields set by hand (no actions: we travel in time)."""
    grid = w.grid_a1 if community == "a" else w.grid_b1
    category = category or w.cat_lift
    satisfaction = "" if rating is None else actions.satisfaction_of(rating)
    return Appeal.objects.create(
        tracking_no=f"RZ20260301-{next(_numbers):06d}",
        channel="web",
        state=state,
        category=category,
        category_top=category.top,
        description=name,
        title=name,
        grid=grid,
        community=grid.parent,
        street=grid.parent.parent,
        place_code=grid.code,
        unit={"a": w.unit_a, "b": w.unit_b, None: None}[unit],
        received_at=received,
        first_dispatched_at=dispatched,
        dispatched_at=dispatched,
        signed_in_time=signed_in_time,
        resolve_deadline=deadline,
        reopen_count=reopen_count,
        rating=rating,
        satisfaction=satisfaction,
        handling_hours=hours,
        overdue=overdue,
    )


@pytest.fixture
def march(cases):
    """14 appeals. R = received in March, D = first dispatched in March (local time).

    name comm unit state      received      dispatched    signed deadline reopen rating  hours
    a1   A    A    closed     03-02         03-02         True   -        0      5 sat   10
    a2   A    A    closed     03-03         03-03         True   -        1      3 basic 20
    a3   A    A    resolved   03-05         03-05         False  -        0      -       30
    a4   A    A    handling   03-10 water   03-10         True   03-20 ✗  1      1 unsat -  ov
    a5   A    A    dispatched 03-12 water   03-12         None   04-20    0      -       -
    a6   A    A    signed     03-15         03-15         True   03-25 ✗  0      -       -  ov
    a7   A    -    received   03-20         -
    a8   A    -    rejected   03-21         -
    a9   B    B    closed     03-04         03-04         True   -        0      4 sat   7
    a10  B    B    suspended  03-08         03-08         False  03-18 ✗  0      -       -
    a11  B    B    resolved   02-27 (not R) 03-01 00:30   True   -        0      -       14
    a12  A    A    dispatched 03-31 23:30   04-01 00:10 (not D)
    a13  A    A    closed     02-28 23:59   02-28 (neither R nor D)     5 sat   9
    a14  A    A    withdrawn  03-25         03-25         None   03-30 ✗  0      -       -
    ✗ = deadline before NOW; ov = overdue flag set. Water = 停水, all others = 电梯故障.
    a11 and a12 sit on local midnight: in UTC they would fall into the other month.
    """
    w = cases
    done = {"deadline": at(3, 31)}
    w.a = {
        "a1": make(
            w,
            "a1",
            state="closed",
            received=at(3, 2),
            dispatched=at(3, 2, 10, 5),
            unit="a",
            signed_in_time=True,
            rating=5,
            hours=10,
            **done,
        ),
        "a2": make(
            w,
            "a2",
            state="closed",
            received=at(3, 3),
            dispatched=at(3, 3, 11),
            unit="a",
            signed_in_time=True,
            reopen_count=1,
            rating=3,
            hours=20,
            **done,
        ),
        "a3": make(
            w,
            "a3",
            state="resolved",
            received=at(3, 5),
            dispatched=at(3, 5, 11),
            unit="a",
            signed_in_time=False,
            hours=30,
            **done,
        ),
        "a4": make(
            w,
            "a4",
            state="handling",
            received=at(3, 10),
            dispatched=at(3, 10, 11),
            unit="a",
            category=w.cat_outage,
            signed_in_time=True,
            deadline=at(3, 20),
            reopen_count=1,
            rating=1,
            overdue=True,
        ),
        "a5": make(
            w,
            "a5",
            state="dispatched",
            received=at(3, 12),
            dispatched=at(3, 12, 11),
            unit="a",
            category=w.cat_outage,
            deadline=at(4, 20),
        ),
        "a6": make(
            w,
            "a6",
            state="signed",
            received=at(3, 15),
            dispatched=at(3, 15, 11),
            unit="a",
            signed_in_time=True,
            deadline=at(3, 25),
            overdue=True,
        ),
        "a7": make(w, "a7", state="received", received=at(3, 20)),
        "a8": make(w, "a8", state="rejected", received=at(3, 21)),
        "a9": make(
            w,
            "a9",
            community="b",
            state="closed",
            received=at(3, 4),
            dispatched=at(3, 4, 11),
            unit="b",
            signed_in_time=True,
            rating=4,
            hours=7,
            **done,
        ),
        "a10": make(
            w,
            "a10",
            community="b",
            state="suspended",
            received=at(3, 8),
            dispatched=at(3, 8, 11),
            unit="b",
            signed_in_time=False,
            deadline=at(3, 18),
        ),
        "a11": make(
            w,
            "a11",
            community="b",
            state="resolved",
            received=at(2, 27),
            dispatched=at(3, 1, 0, 30),
            unit="b",
            signed_in_time=True,
            hours=14,
            **done,
        ),
        "a12": make(
            w,
            "a12",
            state="dispatched",
            received=at(3, 31, 23, 30),
            dispatched=at(4, 1, 0, 10),
            unit="a",
            deadline=at(4, 20),
        ),
        "a13": make(
            w,
            "a13",
            state="closed",
            received=at(2, 28, 23, 59),
            dispatched=at(2, 28, 23, 59),
            unit="a",
            signed_in_time=True,
            rating=5,
            hours=9,
            deadline=at(3, 5),
        ),
        "a14": make(
            w,
            "a14",
            state="withdrawn",
            received=at(3, 25),
            dispatched=at(3, 25, 11),
            unit="a",
            deadline=at(3, 30),
        ),
    }
    return w


def approx(value):
    return pytest.approx(value, abs=1e-9)


# --- (a) hand-computed values ---------------------------------------------------------------


def test_the_district_summary_equals_the_hand_computed_figures(march):
    f = metrics.summary(march.frank, MARCH, now=NOW)
    # R: a1–a10, a12, a14 (a11 came in February, a13 too) = 12
    assert f.received == 12
    # D: a1–a6, a9, a10, a11, a14 = 10; signed in time: a1 a2 a4 a6 a9 a11 → response 6/10
    assert (f.dispatched, f.signed_in_time) == (10, 6)
    assert f.response_rate == approx(6 / 10)
    # due: finished a1 a2 a3 a9 a11 + past deadline a4 a6 a10 a14 (a5's deadline is 04-20) = 9;
    # resolved and never reopened: a1 a3 a9 a11 → resolution 4/9
    assert (f.due, f.resolved_ok) == (9, 4)
    assert f.resolution_rate == approx(4 / 9)
    # rated: a1 (5) a2 (3) a4 (1) a9 (4); satisfied or basic: a1 a2 a9 → satisfaction 3/4
    assert (f.rated, f.satisfied) == (4, 3)
    assert f.satisfaction_rate == approx(3 / 4)
    # open and overdue: a4, a6 (a10 is suspended without the flag) = 2
    assert f.overdue == 2
    # finished: a1 a2 a3 a9 a11; reopened among them: a2 → 1/5; hours (10+20+30+7+14)/5
    assert (f.finished, f.reopened) == (5, 1)
    assert f.reopen_rate == approx(1 / 5)
    assert f.avg_handling_hours == approx(81 / 5)


def test_figures_per_community_equal_the_hand_computed_figures(march):
    w = march
    rows = {f.key: f for f in metrics.grouped(w.frank, MARCH, "community", now=NOW)}
    assert set(rows) == {w.community_a.pk, w.community_b.pk}
    a, b = rows[w.community_a.pk], rows[w.community_b.pk]
    assert a.label == "甲一社区" and a.code == "110105001001"
    # A: R a1–a8 a12 a14 = 10; D a1–a6 a14 = 7; signed a1 a2 a4 a6 → 4/7
    assert (a.received, a.dispatched, a.signed_in_time) == (10, 7, 4)
    # A: due a1 a2 a3 + a4 a6 a14 = 6, resolved_ok a1 a3 → 2/6; rated a1 a2 a4, good a1 a2 → 2/3
    assert (a.due, a.resolved_ok, a.rated, a.satisfied) == (6, 2, 3, 2)
    # A: overdue a4 a6; finished a1 a2 a3, reopened a2 → 1/3; hours (10+20+30)/3 = 20
    assert (a.overdue, a.finished, a.reopened) == (2, 3, 1)
    assert a.avg_handling_hours == approx(20.0)
    # B: R a9 a10 = 2; D a9 a10 a11 = 3; signed a9 a11 → 2/3; due a9 a11 a10 = 3, ok a9 a11 → 2/3
    assert (b.received, b.dispatched, b.signed_in_time, b.due, b.resolved_ok) == (2, 3, 2, 3, 2)
    # B: rated a9 → 1/1; no overdue; finished a9 a11, none reopened → 0/2; hours (7+14)/2
    assert (b.rated, b.satisfied, b.overdue, b.finished, b.reopened) == (1, 1, 0, 2, 0)
    assert b.reopen_rate == approx(0.0) and b.avg_handling_hours == approx(10.5)


def test_figures_per_unit_put_undispatched_appeals_in_a_group_of_their_own(march):
    w = march
    rows = {f.key: f for f in metrics.grouped(w.frank, MARCH, "unit", now=NOW)}
    # unit A: R a1–a6 a12 a14 = 8, D a1–a6 a14 = 7; unit B: R 2, D 3; no unit: a7 a8, never D
    assert (rows[w.unit_a.pk].received, rows[w.unit_a.pk].dispatched) == (8, 7)
    assert (rows[w.unit_b.pk].received, rows[w.unit_b.pk].dispatched) == (2, 3)
    assert (rows[None].received, rows[None].dispatched) == (2, 0)
    assert rows[None].response_rate is None  # no denominator: "no data", not 0 %
    assert rows[w.unit_a.pk].label == "甲一物业"


def test_a_withdrawn_appeal_past_its_deadline_counts_as_due_by_the_definition(march):
    w = march
    # a14 (withdrawn, deadline 03-30) is the only difference between these two moments for A
    before = metrics.summary(w.frank, MARCH, Filters(place=w.community_a), now=at(3, 29))
    after = metrics.summary(w.frank, MARCH, Filters(place=w.community_a), now=NOW)
    # 03-29: a4 (03-20) and a6 (03-25) are past; a14 not yet → due a1 a2 a3 a4 a6 = 5
    assert (before.due, after.due) == (5, 6)


def test_the_month_trend_folds_received_and_dispatched_into_their_own_local_months(march):
    w = march
    period = Period(dt.date(2026, 2, 1), dt.date(2026, 5, 1))
    feb, mar, apr = metrics.trend(w.frank, period, "month", now=NOW)
    assert [feb.label, mar.label, apr.label] == ["2026-02", "2026-03", "2026-04"]
    # February: received a11 (02-27) and a13 (02-28 23:59 local); dispatched a13 only
    assert (feb.received, feb.dispatched) == (2, 1)
    # March: the summary above; a11 dispatched 03-01 00:30 local counts here, a12 (04-01) not
    assert (mar.received, mar.dispatched, mar.signed_in_time) == (12, 10, 6)
    # April: nothing received; a12 dispatched 04-01 00:10 local
    assert (apr.received, apr.dispatched) == (0, 1)


def test_the_day_trend_is_zero_filled_and_its_sum_is_the_summary(march):
    w = march
    days = metrics.trend(w.frank, MARCH, "day", now=NOW)
    assert len(days) == 31 and days[0].key == dt.date(2026, 3, 1)
    assert days[0].dispatched == 1  # a11 at 00:30 local on 1 March (still 28 Feb in UTC)
    assert days[30].received == 1 and days[30].dispatched == 0  # a12: received 03-31 23:30
    assert days[6].received == 0 and days[6].dispatched == 0  # 7 March: nothing happened
    total = metrics.totals(days)
    summary = metrics.summary(w.frank, MARCH, now=NOW)
    for name in metrics.COUNT_FIELDS:
        assert getattr(total, name) == getattr(summary, name), name


def test_the_week_trend_starts_on_the_monday_before_the_period(march):
    weeks = metrics.trend(march.frank, MARCH, "week", now=NOW)
    assert weeks[0].key == dt.date(2026, 2, 23)  # 1 March 2026 is a Sunday
    assert weeks[0].dispatched == 1  # a11
    assert sum(f.received for f in weeks) == 12


def test_units_are_ranked_by_resolution_rate_then_satisfaction(march):
    w = march
    by_resolution = metrics.ranking(w.frank, MARCH, "unit", "resolution", now=NOW)
    # unit B 2/3 before unit A 2/6; the group without a unit is not ranked
    assert [f.key for f in by_resolution] == [w.unit_b.pk, w.unit_a.pk]
    assert [f.extra["rank"] for f in by_resolution] == [1, 2]
    by_satisfaction = metrics.ranking(w.frank, MARCH, "community", "satisfaction", now=NOW)
    # community B 1/1 before A 2/3
    assert [f.key for f in by_satisfaction] == [w.community_b.pk, w.community_a.pk]


def test_the_category_mix_sums_subcategories_into_their_parents(march):
    w = march
    mix = metrics.category_mix(w.frank, MARCH, now=NOW)
    subs = {f.code: f.received for f in mix["sub"]}
    # water outage: a4 a5; lift: the 10 other appeals received in March
    assert subs == {"0801": 10, "0101": 2}
    tops = {f.code: (f.received, f.dispatched) for f in mix["top"]}
    # 物业管理 (08): lift; 城乡建设 (01): outage (D a4 a5)
    assert tops == {"08": (10, 8), "01": (2, 2)}
    assert [f.code for f in mix["top"]] == ["08", "01"]  # largest first


def test_grid_counts_key_the_map_by_grid_code(march):
    w = march
    grids = {f.code: f.received for f in metrics.grid_counts(w.frank, MARCH, now=NOW)}
    assert grids == {w.grid_a1.code: 10, w.grid_b1.code: 2}


def test_the_overdue_list_holds_exactly_the_overdue_count(march):
    w = march
    rows = list(metrics.overdue_list(w.frank, MARCH))
    assert [a.title for a in rows] == ["a4", "a6"]  # earliest deadline first
    assert metrics.summary(w.frank, MARCH, now=NOW).overdue == len(rows)


def test_filters_narrow_by_category_and_unit(march):
    w = march
    water = metrics.summary(w.frank, MARCH, Filters(category=w.cat_water), now=NOW)
    assert (water.received, water.dispatched, water.overdue) == (2, 2, 1)  # a4 a5; a4 overdue
    lift = metrics.summary(w.frank, MARCH, Filters(category=w.cat_lift), now=NOW)
    assert lift.received == 10
    unit_b = metrics.summary(w.frank, MARCH, Filters(unit=w.unit_b), now=NOW)
    assert (unit_b.received, unit_b.dispatched) == (2, 3)


def test_a_case_driven_through_the_actions_is_counted_as_defined(cases):
    w = cases
    appeal = actions.submit_appeal(
        w.charlie, channel="web", description="电梯坏了", category=w.cat_lift, lat=39.92, lng=116.42
    ).appeal
    actions.sign(w.erin, appeal)  # within the 2-hour sign deadline
    actions.resolve(w.erin, appeal, result="已修复")
    actions.rate(w.charlie, appeal, rating=1)  # not satisfied → reopened to unit A
    actions.sign(w.erin, appeal)
    actions.resolve(w.erin, appeal, result="更换部件")
    actions.rate(w.charlie, appeal, rating=4)  # satisfied → closed
    f = metrics.summary(w.frank, Period.last(1))
    assert (f.received, f.dispatched, f.signed_in_time) == (1, 1, 1)
    # closed but reopened once: due, not a first-time resolution; counts for the reopen rate
    assert (f.due, f.resolved_ok, f.finished, f.reopened) == (1, 0, 1, 1)
    assert (f.rated, f.satisfied) == (1, 1)  # the latest rating is the one that counts


# --- (b) the same figures from an independent raw SQL query ----------------------------------

RAW_SQL = """
SELECT {key} AS k,
  SUM(CASE WHEN received_at >= %s AND received_at < %s THEN 1 ELSE 0 END) AS received,
  SUM(d) AS dispatched,
  1.0 * SUM(CASE WHEN d = 1 AND signed_in_time = %s THEN 1 ELSE 0 END)
      / NULLIF(SUM(d), 0) AS response_rate,
  1.0 * SUM(CASE WHEN d = 1 AND fin = 1 AND reopen_count = 0 THEN 1 ELSE 0 END)
      / NULLIF(SUM(CASE WHEN d = 1 AND (fin = 1 OR resolve_deadline < %s) THEN 1 ELSE 0 END), 0)
      AS resolution_rate,
  1.0 * SUM(CASE WHEN d = 1 AND rating IS NOT NULL AND satisfaction IN ('satisfied', 'basic')
                 THEN 1 ELSE 0 END)
      / NULLIF(SUM(CASE WHEN d = 1 AND rating IS NOT NULL THEN 1 ELSE 0 END), 0)
      AS satisfaction_rate,
  SUM(CASE WHEN d = 1 AND overdue = %s AND state IN
        ('received', 'accepted', 'dispatched', 'signed', 'handling', 'suspended')
      THEN 1 ELSE 0 END) AS overdue,
  AVG(CASE WHEN d = 1 AND fin = 1 THEN handling_hours END) AS avg_handling_hours,
  1.0 * SUM(CASE WHEN d = 1 AND fin = 1 AND reopen_count > 0 THEN 1 ELSE 0 END)
      / NULLIF(SUM(CASE WHEN d = 1 AND fin = 1 THEN 1 ELSE 0 END), 0) AS reopen_rate
FROM (
  SELECT a.*,
    CASE WHEN first_dispatched_at >= %s AND first_dispatched_at < %s THEN 1 ELSE 0 END AS d,
    CASE WHEN state IN ('resolved', 'closed') THEN 1 ELSE 0 END AS fin
  FROM appeals_appeal a
  WHERE place_code LIKE %s
) t
WHERE (received_at >= %s AND received_at < %s) OR d = 1
GROUP BY {key}
"""
RAW_COLUMNS = [
    "received",
    "dispatched",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "overdue",
    "avg_handling_hours",
    "reopen_rate",
]


def raw_figures(key: str, period: Period, now: dt.datetime, place_prefix: str) -> dict:
    """Figures per `key` column straight from SQL, with no ORM and no metrics code."""
    start, end = (connection.ops.adapt_datetimefield_value(v) for v in period.bounds())
    params = [
        start,
        end,
        True,
        connection.ops.adapt_datetimefield_value(now),
        True,
        start,
        end,
        place_prefix + "%",
        start,
        end,
    ]
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL.format(key=key), params)
        return {row[0]: dict(zip(RAW_COLUMNS, row[1:], strict=True)) for row in cursor.fetchall()}


def assert_equal_to_raw(viewer, period: Period, now: dt.datetime, place_prefix: str) -> int:
    compared = 0
    for by, column in metrics.GROUP_FIELDS.items():
        orm = {f.key: f for f in metrics.grouped(viewer, period, by, now=now)}
        raw = raw_figures(column, period, now, place_prefix)
        assert set(orm) == set(raw), by
        for key, expected in raw.items():
            got = orm[key]
            for name in RAW_COLUMNS:
                want, have = expected[name], getattr(got, name)
                if want is None:
                    assert have is None, (by, key, name)
                else:
                    assert have == pytest.approx(float(want), rel=1e-9, abs=1e-9), (by, key, name)
                compared += 1
    return compared


def test_every_group_and_metric_equals_the_raw_sql_on_the_hand_built_fixture(march):
    assert assert_equal_to_raw(march.frank, MARCH, NOW, "110105") > 0
    assert assert_equal_to_raw(march.bob, MARCH, NOW, "110105002001") > 0


def random_appeals(w, n: int, seed: int) -> None:
    """`n` appeals in every state over five months, with consistent random clock fields."""
    rng = random.Random(seed)
    grids = [w.grid_a1, w.grid_a2, w.grid_b1]
    cats = [w.cat_lift, w.cat_outage, w.cat_property, None]
    base = dt.datetime(2026, 1, 1, tzinfo=TZ)
    rows = []
    for i in range(n):
        received = base + dt.timedelta(minutes=rng.randrange(0, 150 * 24 * 60))
        state = rng.choice(
            [
                "received",
                "accepted",
                "rejected",
                "dispatched",
                "signed",
                "handling",
                "resolved",
                "closed",
                "suspended",
                "withdrawn",
                "merged",
            ]
        )
        dispatched_states = {"dispatched", "signed", "handling", "resolved", "closed", "suspended"}
        was_dispatched = state in dispatched_states or (
            state in {"withdrawn", "merged"} and rng.random() < 0.5
        )
        dispatched = (
            received + dt.timedelta(hours=rng.choice([0.1, 3, 30])) if was_dispatched else None
        )
        finished = state in {"resolved", "closed"}
        rating = rng.choice([None, 1, 2, 3, 4, 5]) if finished or state == "merged" else None
        grid = rng.choice(grids)
        cat = rng.choice(cats)
        rows.append(
            Appeal(
                tracking_no=f"RZ20260101-{i:06d}",
                channel="api",
                state=state,
                category=cat,
                category_top=cat.top if cat else None,
                description="x",
                grid=grid,
                community=grid.parent,
                street=grid.parent.parent,
                place_code=grid.code,
                unit=rng.choice([w.unit_a, w.unit_b]) if dispatched else None,
                received_at=received,
                first_dispatched_at=dispatched,
                dispatched_at=dispatched,
                signed_in_time=rng.choice([True, False, None]) if dispatched else None,
                resolve_deadline=dispatched + dt.timedelta(days=rng.choice([1, 5, 60]))
                if dispatched
                else None,
                reopen_count=rng.choice([0, 0, 0, 1, 2]) if dispatched else 0,
                rating=rating,
                satisfaction=actions.satisfaction_of(rating) if rating else "",
                handling_hours=round(rng.uniform(0.5, 80), 3) if finished else None,
                overdue=bool(dispatched)
                and state not in {"resolved", "closed"}
                and rng.random() < 0.4,
            )
        )
    Appeal.objects.bulk_create(rows)


@pytest.mark.parametrize("seed", [1, 2])
def test_every_group_and_metric_equals_the_raw_sql_on_random_data(cases, seed):
    random_appeals(cases, 400, seed)
    now = dt.datetime(2026, 4, 15, 9, 0, tzinfo=TZ)
    for period in (
        Period(dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
        Period(dt.date(2026, 1, 1), dt.date(2026, 6, 1)),
    ):
        assert assert_equal_to_raw(cases.frank, period, now, "110105") > 50
        assert assert_equal_to_raw(cases.dora, period, now, "110105001") > 20
        assert assert_equal_to_raw(cases.bob, period, now, "110105002001") > 20


# --- (c) scope ------------------------------------------------------------------------------


def test_bobs_figures_never_include_community_a(march):
    w = march
    f = metrics.summary(w.bob, MARCH, now=NOW)
    # community B only: the hand-computed B row above
    assert (f.received, f.dispatched, f.signed_in_time, f.due, f.resolved_ok) == (2, 3, 2, 3, 2)
    assert (f.rated, f.satisfied, f.overdue, f.finished) == (1, 1, 0, 2)
    for by in metrics.GROUP_FIELDS:
        keys = {g.key for g in metrics.grouped(w.bob, MARCH, by, now=NOW)}
        assert w.community_a.pk not in keys or by != "community"
        assert w.unit_a.pk not in keys or by != "unit"
        assert w.grid_a1.pk not in keys or by != "grid"
    assert [g.code for g in metrics.grid_counts(w.bob, MARCH, now=NOW)] == [w.grid_b1.code]
    assert list(metrics.overdue_list(w.bob, MARCH)) == []  # a4 and a6 are community A's
    assert sum(t.received for t in metrics.trend(w.bob, MARCH, "week", now=NOW)) == 2


def test_a_place_filter_cannot_widen_the_scope(march):
    w = march
    f = metrics.summary(w.bob, MARCH, Filters(place=w.community_a), now=NOW)
    assert (f.received, f.dispatched) == (0, 0)
    district = metrics.summary(w.bob, MARCH, Filters(place=w.district), now=NOW)
    assert district.received == 2


def test_a_resident_counts_only_their_own_appeals(march):
    w = march
    Appeal.objects.filter(pk=w.a["a1"].pk).update(resident=w.charlie)
    assert metrics.summary(w.charlie, MARCH, now=NOW).received == 1
    assert metrics.summary(w.ivy, MARCH, now=NOW).received == 0


def test_a_unit_handler_sees_only_its_units_figures(march):
    w = march
    f = metrics.summary(w.erin, MARCH, now=NOW)
    assert (f.received, f.dispatched) == (8, 7)  # unit A's row above


# --- input ----------------------------------------------------------------------------------


def test_bad_period_and_filter_input_name_the_field(db):
    cases_ = [
        (lambda: Period.parse(days="abc"), "days"),
        (lambda: Period.parse(days=0), "days"),
        (lambda: Period.parse(days=5000), "days"),
        (lambda: Period.parse(start="2026-03-10", end="2026-03-01"), "end"),
        (lambda: Period.parse(start="2026-13-01", end="2026-03-01"), "start"),
        (lambda: Filters.parse(place="999"), "place"),
        (lambda: Filters.parse(category="zz"), "category"),
        (lambda: Filters.parse(unit="nope"), "unit"),
    ]
    for call, field_name in cases_:
        with pytest.raises(ActionError) as err:
            call()
        assert err.value.errors[0].field == field_name


def test_unknown_groupings_and_intervals_are_refused(march):
    with pytest.raises(ActionError):
        metrics.grouped(march.frank, MARCH, "resident")
    with pytest.raises(ActionError):
        metrics.trend(march.frank, MARCH, "hour")
    with pytest.raises(ActionError):
        metrics.ranking(march.frank, MARCH, "unit", "speed")


def test_the_last_n_days_end_with_today():
    period = Period.last(30, today=dt.date(2026, 3, 31))
    assert (period.start, period.end, period.days) == (dt.date(2026, 3, 2), dt.date(2026, 4, 1), 30)


# --- the dashboard page and its data endpoint -----------------------------------------------

DASHBOARD = "/appeals/dashboard/"
DATA = "/appeals/dashboard/data/"


@pytest.mark.parametrize("name", ["frank", "dora", "alice", "bob"])
def test_leaders_dispatchers_and_community_staff_open_the_dashboard(cases, client, name):
    client.force_login(getattr(cases, name))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and "appeals/dashboard.js" in html
    assert "https://" not in html.split("<body", 1)[1]  # no CDN, no tiles from the internet


@pytest.mark.parametrize("name", ["charlie", "erin", "gina", "adam", "root"])
def test_other_roles_are_refused_the_dashboard_and_its_data(cases, client, name):
    client.force_login(getattr(cases, name))
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(DATA).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(cases, client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(DATA).status_code == 401


def test_the_place_filter_offers_only_the_viewers_jurisdiction(cases, client):
    client.force_login(cases.bob)
    html = client.get(DASHBOARD).content.decode()
    assert 'value="110105002001"' in html and 'value="110105001001"' not in html


def test_the_data_endpoint_returns_every_panel_scoped_to_the_viewer(march, client):
    w = march
    client.force_login(w.bob)
    body = client.get(DATA, {"start": "2026-03-01", "end": "2026-04-01"}).json()
    assert body["interval"] == "day" and len(body["trend"]) == 31
    s = body["summary"]
    # community B only (hand-computed above); `now` is the real clock, long after every deadline
    assert (s["received"], s["dispatched"], s["signed_in_time"], s["rated"]) == (2, 3, 2, 1)
    assert s["response_rate"] == round(2 / 3, 4)
    assert [u["label"] for u in body["units"]] == ["乙一物业"]
    assert [c["label"] for c in body["communities"]] == ["乙一社区"]
    assert [g["code"] for g in body["grids"]] == [w.grid_b1.code]
    assert body["overdue"] == {"count": 0, "shown": 0, "rows": []}


def test_the_dashboard_summary_is_the_metrics_summary(march, client):
    w = march
    client.force_login(w.frank)
    body = client.get(DATA, {"start": "2026-03-01", "end": "2026-04-01", "interval": "week"}).json()
    expected = metrics.summary(w.frank, MARCH).as_dict()
    for key in ("received", "dispatched", "due", "resolved_ok", "rated", "satisfied", "overdue"):
        assert body["summary"][key] == expected[key], key
    assert body["overdue"]["count"] == 2
    assert [r["tracking_no"] for r in body["overdue"]["rows"]] == [
        w.a["a4"].tracking_no,
        w.a["a6"].tracking_no,
    ]
    assert body["overdue"]["rows"][0]["resolve_deadline"] == "2026-03-20 10:00"  # local time


def test_bad_dashboard_parameters_get_a_field_named_message(cases, client):
    client.force_login(cases.frank)
    for params, field_name in [
        ({"days": "x"}, "days"),
        ({"place": "nope"}, "place"),
        ({"interval": "hour"}, "interval"),
        ({"order": "speed"}, "order"),
        ({"format": "pdf"}, "format"),
        ({"table": "x"}, "table"),
        ({"start": "2026-03-05", "end": "2026-03-01"}, "end"),
    ]:
        response = client.get(DATA, params)
        assert response.status_code in (400, 404), params  # an unknown code is "not found"
        assert response.json()["detail"][0]["field"] == field_name


def test_every_table_exports_to_excel_with_chinese_headers(march, client):
    from openpyxl import load_workbook

    client.force_login(march.frank)
    response = client.get(
        DATA,
        {"start": "2026-03-01", "end": "2026-04-01", "format": "xlsx"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 7
    trend = book.worksheets[1]
    header = [c.value for c in trend[2]]
    assert "响应率" in header and "解决率" in header and "满意率" in header
    overdue = book.worksheets[6]
    assert overdue.cell(row=3, column=1).value == march.a["a4"].tracking_no
    one = client.get(
        DATA, {"start": "2026-03-01", "end": "2026-04-01", "format": "xlsx", "table": "units"}
    )
    units = load_workbook(io.BytesIO(one.content))
    assert len(units.sheetnames) == 1
    rows = list(units.worksheets[0].iter_rows(min_row=3, values_only=True))
    assert [r[1] for r in rows] == ["乙一物业", "甲一物业"]  # ranked by resolution rate


def test_the_page_lists_the_longest_overdue_and_the_export_lists_them_all(
    march, client, monkeypatch
):
    from openpyxl import load_workbook

    monkeypatch.setattr(metrics, "OVERDUE_LIST_LIMIT", 1)
    client.force_login(march.frank)
    period = {"start": "2026-03-01", "end": "2026-04-01"}
    body = client.get(DATA, period).json()
    assert (body["overdue"]["count"], body["overdue"]["shown"]) == (2, 1)
    assert body["overdue"]["rows"][0]["tracking_no"] == march.a["a4"].tracking_no
    export = client.get(DATA, {**period, "format": "xlsx", "table": "overdue"})
    rows = list(
        load_workbook(io.BytesIO(export.content))
        .worksheets[0]
        .iter_rows(min_row=3, values_only=True)
    )
    assert [r[0] for r in rows] == [march.a["a4"].tracking_no, march.a["a6"].tracking_no]


# --- the JSON API ---------------------------------------------------------------------------


def test_the_api_gives_the_same_summary_as_the_metrics(march, api_client):
    api_client.as_user(march.frank)
    response = api_client.get("/api/appeals/metrics/summary?start=2026-03-01&end=2026-04-01")
    assert response.status_code == 200
    figures = response.json()["figures"]
    assert (figures["received"], figures["dispatched"], figures["signed_in_time"]) == (12, 10, 6)
    assert figures["response_rate"] == 0.6


def test_every_api_metric_endpoint_answers_and_stays_in_scope(march, api_client):
    api_client.as_user(march.bob)
    q = "start=2026-03-01&end=2026-04-01"
    for path in (
        "summary",
        "trend?interval=week",
        "groups?by=community",
        "ranking?by=unit",
        "categories",
        "grids",
        "overdue",
    ):
        sep = "&" if "?" in path else "?"
        response = api_client.get(f"/api/appeals/metrics/{path}{sep}{q}")
        assert response.status_code == 200, path
        text = response.content.decode()
        assert "甲一" not in text, path  # nothing of community A or unit A
    grids = api_client.get(f"/api/appeals/metrics/grids?{q}").json()["items"]
    assert [g["code"] for g in grids] == [march.grid_b1.code]


def test_residents_get_no_statistics_from_the_api(march, api_client):
    api_client.as_user(march.charlie)
    assert api_client.get("/api/appeals/metrics/summary").status_code == 403


def test_bad_api_metric_parameters_name_the_field(march, api_client):
    api_client.as_user(march.frank)
    response = api_client.get("/api/appeals/metrics/groups?by=resident")
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "by"
    response = api_client.get("/api/appeals/metrics/summary?place=000")
    assert response.status_code == 404 and response.json()["detail"][0]["field"] == "place"
    response = api_client.get("/api/appeals/metrics/summary?days=abc")
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "days"


# --- the daily summary tables answer like the live queries -----------------------------------


def metric_table_queries(queries) -> int:
    """Queries that read a summary table (not its refresh stamp)."""
    tables = [t.name for t in rollup.TABLES]
    return sum(any(f"FROM {t} " in q["sql"] for t in tables) for q in queries)


def live_and_stored(viewer, call):
    """(live result, summary-table result, how many queries read the summary tables)."""
    rollup.ENABLED = False
    try:
        live = call(viewer)
    finally:
        rollup.ENABLED = True
    with CaptureQueriesContext(connection) as ctx:
        stored = call(viewer)
    return live, stored, metric_table_queries(ctx.captured_queries)


def comparable(items) -> list:
    return sorted((str(f.key), f.as_dict()) for f in items)


@pytest.fixture
def stored(cases):
    random_appeals(cases, 400, seed=3)
    Appeal.objects.update(updated_at=at(1, 1))  # last touched long ago
    rollup.refresh(full=True)
    return cases


PERIODS = [
    Period(dt.date(2026, 1, 1), dt.date(2026, 6, 1)),
    Period(dt.date(2026, 2, 4), dt.date(2026, 3, 18)),
]  # starts on a Wednesday


@pytest.mark.parametrize("name", ["frank", "dora", "bob"])
def test_the_summary_tables_give_the_live_figures_for_every_grouping(stored, name):
    viewer = getattr(stored, name)
    for period in PERIODS:
        for by in metrics.GROUP_FIELDS:
            live, kept, used = live_and_stored(
                viewer, lambda v, b=by, p=period: metrics.grouped(v, p, b)
            )
            assert used == 1, by  # answered from a summary table
            assert comparable(kept) == comparable(live), (name, by)
        live, kept, used = live_and_stored(viewer, lambda v, p=period: metrics.summary(v, p))
        assert used == 1 and kept.as_dict() == live.as_dict()
        for interval in ("day", "week", "month"):
            live, kept, used = live_and_stored(
                viewer, lambda v, i=interval, p=period: metrics.trend(v, p, i)
            )
            assert used == 1
            assert [f.as_dict() for f in kept] == [f.as_dict() for f in live], interval


def test_the_summary_tables_respect_filters_they_can_express(stored):
    w = stored
    period = PERIODS[0]
    for filters, by in [
        (Filters(place=w.street_b), "community"),
        (Filters(place=w.grid_a2), None),
        (Filters(category=w.cat_lift), "category"),
        (Filters(unit=w.unit_b), "unit"),
    ]:
        call = (
            (lambda v, f=filters: metrics.summary(v, period, f))
            if by is None
            else (lambda v, f=filters, b=by: metrics.grouped(v, period, b, f))
        )
        live, kept, used = live_and_stored(w.frank, call)
        assert used == 1, filters
        if by is None:
            assert kept.as_dict() == live.as_dict()
        else:
            assert comparable(kept) == comparable(live)


def test_what_the_summary_tables_cannot_express_is_computed_live(stored):
    w = stored
    period = PERIODS[0]
    cases_ = [
        (w.frank, lambda v: metrics.summary(v, period, Filters(category=w.cat_lift))),
        (w.frank, lambda v: metrics.grouped(v, period, "unit", Filters(place=w.grid_a1))),
        (w.erin, lambda v: metrics.summary(v, period)),  # a unit's own cases: no unit column
        (w.gina, lambda v: metrics.grouped(v, period, "category")),  # a grid, community table
        (w.charlie, lambda v: metrics.summary(v, period)),  # a resident's own appeals
    ]
    for viewer, call in cases_:
        live, kept, used = live_and_stored(viewer, call)
        assert used == 0
        assert comparable(kept if isinstance(kept, list) else [kept]) == comparable(
            live if isinstance(live, list) else [live]
        )
    # but a unit handler's per-unit figures do come from the unit table
    live, kept, used = live_and_stored(w.erin, lambda v: metrics.grouped(v, period, "unit"))
    assert used == 1 and comparable(kept) == comparable(live)


def test_the_summary_tables_are_not_used_once_stale_or_for_another_moment(stored, monkeypatch):
    w = stored
    with CaptureQueriesContext(connection) as ctx:
        metrics.summary(w.frank, PERIODS[0], now=NOW)  # an explicit moment: live
    assert metric_table_queries(ctx.captured_queries) == 0
    later = timezone.now() + rollup.MAX_AGE + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert rollup.as_of() is None
    with CaptureQueriesContext(connection) as ctx:
        metrics.summary(w.frank, PERIODS[0])
    assert metric_table_queries(ctx.captured_queries) == 0


def test_an_incremental_refresh_catches_up_with_changed_appeals(stored):
    w = stored
    period = PERIODS[0]
    appeal = Appeal.objects.filter(state="handling", place_code__startswith="110105001").first()
    fresh = actions.submit_appeal(
        w.charlie, channel="web", description="新的诉求", category=w.cat_lift, lat=39.92, lng=116.42
    ).appeal
    Appeal.objects.filter(pk=fresh.pk).update(  # time travel into the period
        received_at=at(3, 3), first_dispatched_at=at(3, 3, 11), dispatched_at=at(3, 3, 11)
    )
    appeal.state, appeal.resolve_deadline = "resolved", at(5, 1)
    appeal.save()  # stamps updated_at like every action does
    report = rollup.refresh()
    assert not report.full and 0 < report.days < 10
    for by in ("community", "unit", "category"):
        live, kept, used = live_and_stored(w.dora, lambda v, b=by: metrics.grouped(v, period, b))
        assert used == 1 and comparable(kept) == comparable(live), by
    rollup.refresh()  # again: the same days are recomputed to the same figures
    live, kept, used = live_and_stored(w.frank, lambda v: metrics.grouped(v, period, "grid"))
    assert used == 1 and comparable(kept) == comparable(live)


def test_the_dashboard_says_when_its_figures_were_computed(stored, client):
    client.force_login(stored.frank)
    body = client.get(DATA, {"start": "2026-01-01", "end": "2026-06-01"}).json()
    assert body["generated_at"] == timezone.localtime(rollup.as_of(), metrics.LOCAL_TZ).isoformat(
        timespec="seconds"
    )
    rollup.ENABLED = False
    try:
        live = client.get(DATA, {"start": "2026-01-01", "end": "2026-06-01"}).json()
    finally:
        rollup.ENABLED = True
    for key in ("summary", "trend", "units", "communities", "categories", "grids"):
        assert body[key] == live[key], key


def test_the_periodic_refresh_task_builds_the_summary_tables(cases):
    from renzhi.appeals import rollup, tasks

    assert rollup.as_of() is None
    result = tasks.refresh_metrics.enqueue()

    assert result.return_value["days"] == -1  # first run: a full build
    assert rollup.as_of() is not None
