"""Tasks: manual creation, assignment to a person/team/unit, accept, check-in reports with
photo and location, completion, cancellation and escalation when overdue."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import Notification
from renzhi.emergency.actions import plans, tasks
from renzhi.emergency.models import Task, TaskReport
from renzhi.emergency.queries_incidents import tasks_for
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood_plan(world):
    return factories.add_flood_plan(world)


@pytest.fixture
def flood(flood_plan):
    return factories.add_flood(flood_plan)


def png(name="p.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


@pytest.fixture
def task(flood):
    w = flood
    w.task = tasks.create_task(
        w.alice,
        w.incident,
        title="转移3号楼老人",
        deadline=timezone.now() + dt.timedelta(hours=2),
        assignee=w.gina,
    )
    return w


def test_staff_create_a_task_for_a_person_who_is_told(task):
    w = task
    assert w.task.assignee == w.gina and w.task.status == "open"
    assert Notification.objects.filter(user=w.gina, kind="emergency.task").exists()
    assert w.task in tasks_for(w.gina)


def test_it_refuses_bad_task_input_and_creates_nothing(flood):
    w = flood
    with pytest.raises(ActionError) as exc:
        tasks.create_task(
            w.alice,
            w.incident,
            title="",
            deadline=timezone.now() - dt.timedelta(hours=1),
            assignee=w.bob,
        )
    assert {e.field for e in exc.value.errors} == {"title", "deadline", "assignee"}
    with pytest.raises(ActionError) as exc:
        tasks.create_task(
            w.alice, w.incident, title="x", deadline=None, assignee=w.gina, unit=w.unit_a
        )
    assert {e.field for e in exc.value.errors} == {"deadline", "assignee"}
    assert Task.objects.count() == 0


def test_a_task_can_go_to_a_team_whose_members_work_it(flood):
    from renzhi.emergency.models import Team, TeamMember

    w = flood
    team = Team.objects.create(name="抢险队", place=w.community_a)
    TeamMember.objects.create(team=team, user=w.vera)
    t = tasks.create_task(
        w.alice,
        w.incident,
        title="堆沙袋",
        deadline=timezone.now() + dt.timedelta(hours=1),
        team=team,
    )
    assert Notification.objects.filter(user=w.vera, kind="emergency.task").exists()
    tasks.accept(w.vera, t)
    with pytest.raises(PermissionRefused):
        tasks.accept(w.sam, t)


def test_the_assignee_accepts_reports_with_photo_and_location_then_finishes(task):
    w = task
    tasks.accept(w.gina, w.task)
    report = tasks.report(w.gina, w.task, note="已转移2人", lat=39.92, lng=116.42, photo=png())
    assert report.photo.name and report.lat == 39.92
    w.task.refresh_from_db()
    assert w.task.status == "in_progress"
    done = tasks.complete(w.gina, w.task, note="全部转移")
    assert done.status == "done" and done.done_at is not None
    assert w.incident.log.filter(kind="task", text__contains="全部转移").exists()


def test_a_report_with_a_bad_photo_or_coordinates_changes_nothing(task):
    w = task
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    with pytest.raises(ActionError) as exc:
        tasks.report(w.gina, w.task, note="", lat=200, lng=None, photo=fake)
    assert {e.field for e in exc.value.errors} == {"note", "lat", "photo"}
    assert TaskReport.objects.count() == 0
    w.task.refresh_from_db()
    assert w.task.status == "open"


def test_someone_else_may_not_work_the_task(task):
    w = task
    with pytest.raises(PermissionRefused):
        tasks.accept(w.vera, w.task)
    with pytest.raises(PermissionRefused):
        tasks.report(w.bob, w.task, note="x")


def test_a_finished_task_cannot_be_reported_or_cancelled(task):
    w = task
    tasks.complete(w.gina, w.task)
    with pytest.raises(ActionError) as exc:
        tasks.report(w.gina, w.task, note="again")
    assert exc.value.errors[0].field == "status"
    with pytest.raises(ActionError):
        tasks.cancel(w.alice, w.task, reason="x")


def test_cancelling_needs_a_reason_and_the_runner_role(task):
    w = task
    with pytest.raises(ActionError) as exc:
        tasks.cancel(w.alice, w.task, reason=" ")
    assert exc.value.errors[0].field == "reason"
    with pytest.raises(PermissionRefused):
        tasks.cancel(w.gina, w.task, reason="x")
    assert tasks.cancel(w.alice, w.task, reason="重复").status == "cancelled"


def test_reassigning_to_a_unit_notifies_its_handlers(task):
    w = task
    tasks.assign(w.alice, w.task, unit=w.unit_a)
    w.task.refresh_from_db()
    assert w.task.unit == w.unit_a and w.task.assignee is None
    assert w.task in tasks_for(w.erin)
    tasks.accept(w.erin, w.task)


def test_overdue_tasks_escalate_to_staff_then_to_leaders_once_each(task):
    w = task
    now = timezone.now()
    assert tasks.escalate_overdue(now) == {"staff": 0, "leaders": 0}
    later = w.task.deadline + dt.timedelta(minutes=1)
    assert tasks.escalate_overdue(later) == {"staff": 1, "leaders": 0}
    assert tasks.escalate_overdue(later) == {"staff": 0, "leaders": 0}
    assert Notification.objects.filter(user=w.alice, kind="emergency.task.overdue").exists()
    assert not Notification.objects.filter(user=w.leo, kind="emergency.task.overdue").exists()
    much_later = w.task.deadline + tasks.LEADER_DELAY + dt.timedelta(minutes=1)
    assert tasks.escalate_overdue(much_later) == {"staff": 0, "leaders": 1}
    assert Notification.objects.filter(user=w.leo, kind="emergency.task.overdue").exists()
    assert Notification.objects.filter(user=w.frank, kind="emergency.task.overdue").exists()
    w.task.refresh_from_db()
    assert w.task.escalation == 2


def test_done_tasks_never_escalate(task):
    w = task
    tasks.complete(w.gina, w.task)
    assert tasks.escalate_overdue(w.task.deadline + dt.timedelta(days=1)) == {
        "staff": 0,
        "leaders": 0,
    }


def test_the_periodic_job_runs_the_escalation(task):
    from renzhi.emergency import periodic_incidents

    result = periodic_incidents.escalate_tasks.call()
    assert result == {"staff": 0, "leaders": 0}


def test_an_unassigned_plan_task_is_claimed_by_who_accepts_it(flood):
    from renzhi.core.models import Membership

    w = flood
    Membership.objects.filter(user=w.gina).delete()
    plans.activate(w.leo, w.incident, 4)
    orphan = Task.objects.get(incident=w.incident, role="grid_worker")
    assert orphan.assignee is None
    tasks.accept(w.alice, orphan)
    orphan.refresh_from_db()
    assert orphan.assignee == w.alice


def test_the_operator_command_escalates_overdue_tasks(task):
    import io

    from django.core.management import call_command

    Task.objects.filter(pk=task.task.pk).update(deadline=timezone.now() - dt.timedelta(minutes=5))
    out = io.StringIO()
    call_command("emergency_escalate_tasks", stdout=out)
    assert "staff: 1" in out.getvalue()
