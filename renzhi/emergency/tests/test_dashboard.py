"""The leader dashboard: active incidents, overdue tasks, reserve coverage, people available
and vulnerable residents not yet reached — each one from the record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.emergency import dashboard
from renzhi.emergency.actions import incidents, plans
from renzhi.emergency.models import Task
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(world):
    w = factories.add_flood(factories.add_flood_plan(world))
    plans.activate(w.leo, w.incident, 3)
    return w


def test_it_counts_active_incidents_and_overdue_tasks_in_the_leaders_scope(live):
    w = live
    Task.objects.filter(role="grid_worker").update(deadline=timezone.now() - dt.timedelta(hours=1))
    figures = dashboard.figures_for(w.leo)
    assert [r.incident for r in figures.incidents] == [w.incident]
    assert figures.incidents[0].level == 3
    assert figures.incidents[0].overdue_tasks == 1
    assert figures.overdue_count == 1
    other = incidents.report(w.bob, title="乙", kind="fire", place=w.community_b, severity=2)
    assert other not in [r.incident for r in dashboard.figures_for(w.leo).incidents]
    assert other in [r.incident for r in dashboard.figures_for(w.frank).incidents]


def test_closed_incidents_leave_the_dashboard(live):
    w = live
    incidents.change_status(w.leo, w.incident, "recovering")
    incidents.change_status(w.leo, w.incident, "closed")
    assert dashboard.figures_for(w.leo).incidents == []


def test_reserve_coverage_people_and_unreached_residents_come_from_the_resources_side(live):
    from renzhi.emergency.actions import reserves as stock
    from renzhi.emergency.actions import vulnerable
    from renzhi.emergency.models import Availability, Item, PersonProfile

    w = live
    depot = stock.create_depot(
        w.alice, code="a1", name="甲一储备点", kind="community", place=w.community_a
    )
    stock.receive(w.alice, depot, Item.objects.get(code="water"), 18000)  # 3000 people × 2/day
    profile = PersonProfile.objects.create(user=w.vera, kind="volunteer", place=w.community_a)
    for day in range(7):
        Availability.objects.create(
            profile=profile, weekday=day, starts=dt.time(0, 0), ends=dt.time(23, 59)
        )
    vulnerable.register_resident(
        w.alice,
        w.community_a,
        name="李爷爷",
        address="1-1-101",
        categories=["elderly_alone"],
        consent_method="口头",
    )
    figures = dashboard.figures_for(w.leo)
    coverage = {c.place.code: c.days for c in figures.coverage}
    assert coverage[w.community_a.code] == pytest.approx(3.0)
    assert w.community_b.code not in coverage
    assert figures.people_available == 1
    assert figures.not_reached == 1
    assert dashboard.figures_for(w.leo).as_json()["vulnerable_not_reached"] == 1


def test_the_global_administrator_sees_every_community(live):
    codes = {c.place.code for c in dashboard.figures_for(live.root).coverage}
    assert {live.community_a.code, live.community_b.code} <= codes
    assert {c.place.code for c in dashboard.figures_for(live.leo).coverage} == {
        live.community_a.code
    }
