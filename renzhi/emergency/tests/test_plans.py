"""Plans: writing versions, activating a level (tasks, assignment, clock), changing and lifting
it, and activation using the version in force."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import AuditEvent, Notification
from renzhi.emergency.actions import incidents, plans
from renzhi.emergency.actions.plans import LevelSpec
from renzhi.emergency.models import Activation, Plan, PlanVersion, Task
from renzhi.emergency.tests import factories_incidents as factories
from renzhi.emergency.tests.factories_incidents import level_specs, make_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood_plan(world):
    return factories.add_flood_plan(world)


@pytest.fixture
def flood(flood_plan):
    return factories.add_flood(flood_plan)


def test_a_plan_has_four_levels_and_a_first_version_in_force(flood_plan):
    plan = flood_plan.plan
    version = plan.version_in_force()
    assert version.number == 1
    assert sorted(version.levels.values_list("level", flat=True)) == [1, 2, 3, 4]
    level3 = version.levels.get(level=3)
    assert level3.actions.count() == 3
    assert level3.reserves.get().per_thousand == Decimal(100)
    assert level3.people.get().skill_code == "rescue"


def test_it_refuses_a_plan_missing_a_level_or_with_unknown_codes(world):
    make_items()
    specs = level_specs()[:3]
    specs[0].reserves = [("unicorn", Decimal(1))]
    specs[1].people = [("flying", 1)]
    with pytest.raises(ActionError) as exc:
        plans.create_plan(world.leo, place=world.street_a, kind="flood", title="x", levels=specs)
    fields = {e.field for e in exc.value.errors}
    assert {"levels", "level_IV_reserves", "level_III_people"} <= fields
    assert Plan.objects.count() == 0


def test_it_refuses_a_second_plan_for_the_same_place_and_type(flood_plan):
    w = flood_plan
    with pytest.raises(ActionError) as exc:
        plans.create_plan(w.leo, place=w.street_a, kind="flood", title="x", levels=level_specs())
    assert exc.value.errors[0].field == "kind"


def test_a_volunteer_or_another_street_may_not_write_the_plan(flood_plan):
    w = flood_plan
    with pytest.raises(PermissionRefused):
        plans.save_version(w.vera, w.plan, level_specs(), note="x")
    with pytest.raises(PermissionRefused):
        plans.save_version(w.bob, w.plan, level_specs(), note="x")
    assert w.plan.versions.count() == 1


def test_plan_lines_are_parsed_with_field_named_errors():
    acts = plans.parse_actions("巡查 | grid_worker | 3\n通知居民 | 社区工作者", "level_III_actions")
    assert [(a.title, a.role, a.due_hours) for a in acts] == [
        ("巡查", "grid_worker", 3),
        ("通知居民", "community_staff", 2),
    ]
    with pytest.raises(ActionError) as exc:
        plans.parse_actions("巡查 | wizard", "level_III_actions")
    assert exc.value.errors[0].field == "level_III_actions"
    with pytest.raises(ActionError):  # residents are not given plan actions
        plans.parse_actions("巡查 | resident", "level_III_actions")
    with pytest.raises(ActionError):
        plans.parse_reserves("sandbag | -5", "level_III_reserves")
    assert plans.parse_people("rescue | 4", "f") == [("rescue", 4)]


def test_the_leader_activates_level_iii_tasks_are_created_assigned_and_the_clock_starts(flood):
    w = flood
    before = timezone.now()
    activation = plans.activate(w.leo, w.incident, 3)
    w.incident.refresh_from_db()
    assert w.incident.status == "responding"
    assert activation.started_at >= before and activation.version.number == 1
    tasks = {t.role: t for t in Task.objects.filter(incident=w.incident)}
    assert set(tasks) == {"grid_worker", "community_staff", "unit_handler"}
    assert tasks["grid_worker"].assignee == w.gina
    assert tasks["community_staff"].assignee == w.alice
    assert tasks["unit_handler"].unit == w.unit_a
    assert tasks["community_staff"].deadline == activation.started_at + dt.timedelta(hours=1)
    assert Notification.objects.filter(user=w.gina, kind="emergency.task").exists()
    assert Notification.objects.filter(user=w.erin, kind="emergency.task").exists()
    assert AuditEvent.objects.filter(verb="emergency.level.activate").count() == 1


def test_only_a_leader_covering_the_place_activates(flood):
    w = flood
    for user in (w.alice, w.dora, w.vera, w.root):
        with pytest.raises(PermissionRefused):
            plans.activate(user, w.incident, 3)
    assert not Activation.objects.exists() and not Task.objects.exists()
    plans.activate(w.frank, w.incident, 4)  # the district leader covers street A too


def test_it_refuses_a_second_activation_and_a_missing_plan(flood):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    with pytest.raises(ActionError) as exc:
        plans.activate(w.leo, w.incident, 2)
    assert exc.value.errors[0].field == "level"
    fire = incidents.report(w.alice, title="火", kind="fire", place=w.community_a, severity=2)
    with pytest.raises(ActionError) as exc:
        plans.activate(w.leo, fire, 2)
    assert exc.value.errors[0].field == "level"
    assert not fire.activations.exists()


def test_raising_the_level_ends_the_current_one_and_adds_only_new_tasks(flood):
    w = flood
    first = plans.activate(w.leo, w.incident, 3)
    n = Task.objects.count()
    second = plans.change_level(w.leo, w.incident, 2)
    first.refresh_from_db()
    assert first.ended_at == second.started_at
    assert second.level == 2
    # level II's three actions have different titles (L2 …) so all three are new
    assert Task.objects.count() == n + 3
    lowered = plans.change_level(w.leo, w.incident, 3)
    assert lowered.level == 3
    # level III's actions are still open: nothing new
    assert Task.objects.count() == n + 3


def test_deactivation_moves_the_incident_to_recovering(flood):
    w = flood
    plans.activate(w.leo, w.incident, 4)
    activation = plans.deactivate(w.leo, w.incident, note="雨停")
    w.incident.refresh_from_db()
    assert activation.ended_at is not None
    assert w.incident.status == "recovering"
    with pytest.raises(ActionError):
        plans.deactivate(w.leo, w.incident)


def test_activation_uses_the_version_in_force_and_a_running_one_keeps_its_version(flood):
    w = flood
    running = plans.activate(w.leo, w.incident, 4)
    future = plans.save_version(
        w.leo,
        w.plan,
        level_specs("加派人手"),
        note="future",
        in_force_from=timezone.now() + dt.timedelta(days=1),
    )
    assert w.plan.version_in_force().number == 1
    plans.save_version(w.leo, w.plan, level_specs("立即转移"), note="now")
    # the newest version whose start has come is in force: v3 (now), not v2 (tomorrow)
    assert future.number == 2
    assert w.plan.version_in_force().number == 3
    running.refresh_from_db()
    assert running.version.number == 1
    raised = plans.change_level(w.leo, w.incident, 3)
    assert raised.version.number == 3
    assert Task.objects.filter(incident=w.incident, title="立即转移").exists()


def test_closing_the_incident_ends_the_active_level(flood):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    incidents.change_status(w.alice, w.incident, "recovering")
    incidents.change_status(w.alice, w.incident, "closed")
    assert not Activation.objects.filter(incident=w.incident, ended_at=None).exists()


def test_activation_calls_up_people_through_the_people_side(flood):
    """With a rescuer available, level III sends the call-up (when the people side is ready)."""
    pytest.importorskip("renzhi.emergency.actions.people")
    from renzhi.core.models import PersonSkill, Skill
    from renzhi.emergency.models import Availability, CallUp, PersonProfile

    w = flood
    profile = PersonProfile.objects.create(
        user=w.vera, kind="volunteer", place=w.community_a, lat=39.92, lng=116.42
    )
    for day in range(7):
        Availability.objects.create(
            profile=profile, weekday=day, starts=dt.time(0, 0), ends=dt.time(23, 59)
        )
    PersonSkill.objects.create(
        user=w.vera, skill=Skill.objects.get(code="rescue"), source="declared"
    )
    plans.activate(w.leo, w.incident, 3)
    assert CallUp.objects.filter(incident=w.incident, user=w.vera).exists()
    # raising the level does not call the same person twice
    plans.change_level(w.leo, w.incident, 2)
    assert CallUp.objects.filter(incident=w.incident).count() == 1


def test_one_click_from_a_red_warning_opens_the_incident_and_activates_level_i(flood_plan):
    from renzhi.warning.models import Warning

    w = flood_plan
    warning = Warning.objects.create(
        level=1,
        status="published",
        headline="暴雨红色预警",
        event="暴雨内涝",
        owner_place=w.street_a,
        published_at=timezone.now(),
    )
    warning.areas.set([w.community_a])
    activation = plans.activate_from_warning(w.leo, warning)
    incident = activation.incident
    assert incident.kind == "flood" and incident.severity == 1 and incident.place == w.street_a
    assert list(incident.warnings.all()) == [warning]
    assert activation.level == 1


def test_a_yellow_warning_is_not_one_click(flood_plan):
    from renzhi.warning.models import Warning

    w = flood_plan
    warning = Warning.objects.create(level=3, headline="暴雨黄色预警", owner_place=w.street_a)
    with pytest.raises(ActionError) as exc:
        plans.activate_from_warning(w.leo, warning)
    assert exc.value.errors[0].field == "warning"
    assert not PlanVersion.objects.filter(activations__isnull=False).exists()


def test_level_specs_round_trip(flood_plan):
    specs = plans.level_specs_of(flood_plan.plan.version_in_force())
    assert [s.level for s in specs] == [4, 3, 2, 1]
    assert isinstance(specs[0], LevelSpec)
