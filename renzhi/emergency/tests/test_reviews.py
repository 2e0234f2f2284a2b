"""After-action review: only for a closed incident, figures measured from the record, a
timeline, and plan changes that write a new plan version."""

from __future__ import annotations

from decimal import Decimal

import pytest

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.emergency import reviews
from renzhi.emergency.actions import incidents, plans, tasks
from renzhi.emergency.actions import reviews as review_actions
from renzhi.emergency.actions.reviews import ChangeSpec
from renzhi.emergency.models import Review, Task
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood_plan(world):
    return factories.add_flood_plan(world)


@pytest.fixture
def flood(flood_plan):
    return factories.add_flood(flood_plan)


@pytest.fixture
def closed(flood):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    first = Task.objects.filter(incident=w.incident, role="grid_worker").get()
    tasks.complete(w.gina, first, note="巡查完毕")
    incidents.change_status(w.leo, w.incident, "recovering")
    incidents.change_status(w.leo, w.incident, "closed")
    w.incident.refresh_from_db()
    return w


def test_the_figures_are_measured_from_the_record(closed):
    f = reviews.figures(closed.incident)
    assert f["tasks_total"] == 3 and f["tasks_done"] == 1
    assert f["task_completion"] == pytest.approx(0.333, abs=0.001)
    assert f["minutes_to_activate"] is not None and f["minutes_to_activate"] >= 0
    assert f["highest_level"] == "III"


def test_the_timeline_is_in_order_and_covers_activation_and_tasks(closed):
    moments = reviews.timeline(closed.incident)
    sources = [m.source for m in moments]
    assert {"incident", "activation", "task"} <= set(sources)
    assert [m.at for m in moments] == sorted(m.at for m in moments)


def test_a_review_is_written_only_for_a_closed_incident(flood):
    w = flood
    with pytest.raises(ActionError) as exc:
        review_actions.write_review(w.leo, w.incident, summary="x", lessons="y")
    assert exc.value.errors[0].field == "incident"
    assert not Review.objects.exists()


def test_bad_review_input_names_the_field_and_changes_nothing(closed):
    w = closed
    with pytest.raises(ActionError) as exc:
        review_actions.write_review(
            w.leo,
            w.incident,
            summary="",
            lessons=" ",
            changes=[ChangeSpec(w.plan, 3, "set_reserve", "unicorn", quantity="-1")],
        )
    assert {e.field for e in exc.value.errors} == {"summary", "lessons", "changes.1"}
    assert not Review.objects.exists()


def test_outsiders_may_not_review(closed):
    with pytest.raises(PermissionRefused):
        review_actions.write_review(closed.bob, closed.incident, summary="x", lessons="y")
    with pytest.raises(PermissionRefused):
        review_actions.write_review(closed.vera, closed.incident, summary="x", lessons="y")


def test_the_review_stores_figures_and_its_changes_make_a_new_plan_version(closed):
    w = closed
    review = review_actions.write_review(
        w.leo,
        w.incident,
        summary="内涝持续6小时",
        lessons="沙袋不足，抽排到场慢",
        changes=[
            ChangeSpec(w.plan, 3, "set_reserve", "sandbag", quantity="300"),
            ChangeSpec(w.plan, 3, "add_action", "提前预置抽水泵", role="unit_handler"),
            ChangeSpec(w.plan, 3, "set_people", "rescue", quantity=4),
        ],
    )
    assert review.figures["tasks_done"] == 1
    with pytest.raises(ActionError):
        review_actions.write_review(w.leo, w.incident, summary="x", lessons="y")
    (version,) = review_actions.apply_changes(w.leo, review)
    assert version.number == 2 and version.source_review == review
    level3 = version.levels.get(level=3)
    assert level3.reserves.get(item_code="sandbag").per_thousand == Decimal(300)
    assert level3.actions.filter(title="提前预置抽水泵", role="unit_handler").exists()
    assert level3.people.get(skill_code="rescue").count == 4
    # untouched levels are copied as they were
    assert version.levels.get(level=1).actions.count() == 3
    assert w.plan.version_in_force() == version
    assert not review.actions.filter(applied_version=None).exists()
    with pytest.raises(ActionError):
        review_actions.apply_changes(w.leo, review)


def test_shortage_days_count_the_days_a_supply_request_stood_unmet(closed):
    import datetime as dt

    from renzhi.emergency.actions import reserves as stock
    from renzhi.emergency.models import Item, SupplyRequest, SupplyRequestLine

    w = closed
    street = stock.create_depot(w.leo, code="s", name="街道库", kind="street", place=w.street_a)
    community = stock.create_depot(
        w.alice, code="c", name="社区点", kind="community", place=w.community_a
    )
    start = w.incident.started_at
    w.incident.ended_at = start + dt.timedelta(days=3)
    w.incident.save()
    request = SupplyRequest.objects.create(
        number="R1",
        to_depot=street,
        from_depot=community,
        incident=w.incident,
        status="received",
        requested_by=w.alice,
        requested_at=start,
        received_at=start + dt.timedelta(days=2),
    )
    SupplyRequestLine.objects.create(
        request=request,
        item=Item.objects.get(code="water"),
        requested=10,
        approved=10,
        issued=10,
        received=10,
    )
    # unmet at the end of day 0 and day 1, received on day 2
    assert reviews.shortage_days(w.incident) == 2
