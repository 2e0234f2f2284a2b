"""Issue 23 #4 (emergency): incident starts and task deadlines are bounded with a message
naming the field: an incident started at most five years ago, a task due within a year."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.core.errors import ActionError
from renzhi.emergency.actions import incidents, tasks
from renzhi.emergency.models import Incident, PlanVersion, Task
from renzhi.emergency.tests.factories_incidents import add_flood, add_flood_plan

pytestmark = pytest.mark.django_db


def test_it_refuses_an_incident_started_in_year_one(world):
    with pytest.raises(ActionError) as refused:
        incidents.report(
            world.alice,
            title="甲一社区内涝",
            kind="flood",
            place=world.community_a,
            severity=3,
            started_at=dt.datetime(1, 1, 2, tzinfo=dt.UTC),
        )
    assert [e.field for e in refused.value.errors] == ["started_at"]
    assert not Incident.objects.exists()


def test_it_refuses_a_task_due_in_9999(world):
    w = add_flood(world)
    with pytest.raises(ActionError) as refused:
        tasks.create_task(
            w.alice,
            w.incident,
            title="转移群众",
            deadline=dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
            assignee=w.gina,
        )
    assert [e.field for e in refused.value.errors] == ["deadline"]
    assert not Task.objects.exists()
    tasks.create_task(
        w.alice,
        w.incident,
        title="转移群众",
        deadline=timezone.now() + dt.timedelta(hours=4),
        assignee=w.gina,
    )
    assert Task.objects.count() == 1


def test_a_plan_version_in_force_from_9999_is_refused_naming_the_field(world, api_client):
    w = add_flood_plan(world)
    api_client.force_login(w.leo)
    url = f"/api/emergency/plans/{w.plan.pk}/versions"
    levels = api_client.get(f"{url}/1").json()["levels"]
    for moment in ("9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z"):
        body = {"levels": levels, "note": "改", "in_force_from": moment}
        response = api_client.post_json(url, body)
        assert response.status_code == 400, response.content
        assert [d["field"] for d in response.json()["detail"]] == ["in_force_from"]
        assert PlanVersion.objects.filter(plan=w.plan).count() == 1
    soon = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api_client.post_json(url, {"levels": levels, "note": "改", "in_force_from": soon})
    assert response.status_code == 201, response.content
