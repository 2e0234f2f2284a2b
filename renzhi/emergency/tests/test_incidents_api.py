"""The JSON API of plans, tasks, shelters and reviews: same actions, same field-named errors."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from renzhi.emergency.actions import incidents, plans
from renzhi.emergency.models import Plan, Task
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


def levels_json(item="water"):
    return [
        {
            "level": lv,
            "actions": [{"title": f"行动{lv}", "role": "community_staff", "due_hours": 2}],
            "reserves": [{"item_code": item, "per_thousand": "10"}],
            "people": [],
        }
        for lv in (4, 3, 2, 1)
    ]


def test_a_plan_is_written_and_versioned_through_the_api(world, api_client):
    factories.make_items()
    api_client.as_user(world.leo)
    bad = api_client.post_json(
        "/api/emergency/plans",
        {
            "place_code": world.street_a.code,
            "kind": "fire",
            "title": "火",
            "levels": levels_json("x"),
        },
    )
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["detail"]} == {
        "level_IV_reserves",
        "level_III_reserves",
        "level_II_reserves",
        "level_I_reserves",
    }
    assert not Plan.objects.exists()
    made = api_client.post_json(
        "/api/emergency/plans",
        {"place_code": world.street_a.code, "kind": "fire", "title": "火", "levels": levels_json()},
    )
    assert made.status_code == 201 and made.json()["version_in_force"] == 1
    pk = made.json()["id"]
    version = api_client.post_json(
        f"/api/emergency/plans/{pk}/versions", {"levels": levels_json(), "note": "调整"}
    )
    assert version.status_code == 201 and version.json()["number"] == 2
    shown = api_client.get(f"/api/emergency/plans/{pk}/versions/1").json()
    assert shown["levels"][0]["actions"][0]["role"] == "community_staff"
    api_client.as_user(world.bob)
    assert api_client.get(f"/api/emergency/plans/{pk}").status_code == 404


def test_tasks_are_worked_through_the_api_with_a_photo(world, api_client):
    w = factories.add_flood(factories.add_flood_plan(world))
    plans.activate(w.leo, w.incident, 3)
    task = Task.objects.get(role="grid_worker")
    api_client.as_user(w.gina)
    mine = api_client.get("/api/emergency/tasks?mine=true").json()["items"]
    assert [t["id"] for t in mine] == [task.pk]
    assert api_client.post_json(f"/api/emergency/tasks/{task.pk}/accept").status_code == 200
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    response = api_client.post(
        f"/api/emergency/tasks/{task.pk}/report",
        {
            "note": "完成",
            "lat": "39.9",
            "lng": "116.4",
            "done": "true",
            "photo": SimpleUploadedFile("a.png", buf.getvalue(), content_type="image/png"),
        },
    )
    assert response.status_code == 200 and response.json()["status"] == "done"
    again = api_client.post_json(f"/api/emergency/tasks/{task.pk}/complete", {"note": "x"})
    assert again.status_code == 409


def test_shelter_check_in_over_capacity_is_refused_by_the_api(world, api_client):
    api_client.as_user(world.alice)
    made = api_client.post_json(
        "/api/emergency/shelters",
        {"name": "体育馆", "place_code": world.community_a.code, "capacity": 2},
    )
    pk = made.json()["id"]
    ok = api_client.post_json(f"/api/emergency/shelters/{pk}/check-in", {"name": "王", "people": 2})
    assert ok.status_code == 201
    full = api_client.post_json(f"/api/emergency/shelters/{pk}/check-in", {"name": "李"})
    assert full.status_code == 409 and full.json()["detail"][0]["field"] == "people"
    out = api_client.post_json(f"/api/emergency/stays/{ok.json()['id']}/check-out")
    assert out.status_code == 200
    api_client.as_user(world.bob)
    assert (
        api_client.post_json(f"/api/emergency/stays/{ok.json()['id']}/check-out").status_code == 404
    )


def test_a_review_is_written_and_applied_through_the_api(world, api_client):
    w = factories.add_flood(factories.add_flood_plan(world))
    plans.activate(w.leo, w.incident, 4)
    incidents.change_status(w.leo, w.incident, "recovering")
    incidents.change_status(w.leo, w.incident, "closed")
    api_client.as_user(w.leo)
    body = {
        "summary": "s",
        "lessons": "l",
        "changes": [
            {
                "plan_id": w.plan.pk,
                "level": 4,
                "change": "set_people",
                "target": "rescue",
                "quantity": "3",
            }
        ],
    }
    review = api_client.post_json(f"/api/emergency/incidents/{w.incident.pk}/review", body)
    assert review.status_code == 201
    applied = api_client.post_json(f"/api/emergency/reviews/{review.json()['id']}/apply")
    assert applied.status_code == 200 and applied.json()[0]["number"] == 2
    timeline = api_client.get(f"/api/emergency/incidents/{w.incident.pk}/timeline").json()
    assert {m["source"] for m in timeline} >= {"incident", "activation", "task"}


def test_the_dashboard_api_is_for_leaders(world, api_client):
    api_client.as_user(world.alice)
    assert api_client.get("/api/emergency/dashboard").status_code == 403
    api_client.as_user(world.frank)
    assert api_client.get("/api/emergency/dashboard").json()["tasks_overdue"] == 0


def test_the_api_lists_stays_with_masked_phones_and_closes_a_shelter(world, api_client):
    api_client.as_user(world.alice)
    pk = api_client.post_json(
        "/api/emergency/shelters",
        {"name": "体育馆", "place_code": world.community_a.code, "capacity": 5},
    ).json()["id"]
    api_client.post_json(
        f"/api/emergency/shelters/{pk}/check-in", {"name": "王", "phone": "13812345678"}
    )
    stays = api_client.get(f"/api/emergency/shelters/{pk}/stays").json()["items"]
    assert len(stays) == 1 and stays[0]["phone"] != "13812345678"
    closed = api_client.post_json(f"/api/emergency/shelters/{pk}/open", {"is_open": False})
    assert closed.json()["is_open"] is False
    refused = api_client.post_json(f"/api/emergency/shelters/{pk}/check-in", {"name": "李"})
    assert refused.status_code == 409
    api_client.as_user(world.vera)
    assert (
        api_client.post_json(f"/api/emergency/shelters/{pk}/open", {"is_open": True}).status_code
        == 403
    )
