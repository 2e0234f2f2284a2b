"""Who reads and acts on which incident, plan, task and shelter (the permission matrix).

World: incident A in community A (under street A's flood plan, level III active), incident B
in community B (street B's plan, level IV active); shelter A and B in the two communities.
Expectations, written by hand:
  incidents — staff, grid worker, unit handler, volunteer and social worker see their
  jurisdiction's incidents (a community sees its street's); residents see none; the district
  leader (frank) and the global administrator (root) see both; adam (admin of street A) A.
  plans — leaders, community staff, dispatchers and administrators of the place or below.
  tasks — the incidents' tasks one sees, plus one's own assignments.
  shelters — the desk roles (staff, dispatcher, leader, grid worker, volunteer, social
  worker) of the place; the global administrator; nobody else.
Everything outside a viewer's scope answers 404, and an action on it changes nothing.
"""

from __future__ import annotations

import pytest

from renzhi.core.tests.matrix import (
    ALL_USERS,
    DetailEndpoint,
    ListEndpoint,
    PageEndpoint,
    check_detail,
    check_list,
    check_page,
)
from renzhi.emergency.actions import incidents, plans, shelters
from renzhi.emergency.models import Activation, Incident, Task
from renzhi.emergency.tests.factories_incidents import level_specs, make_items

pytestmark = pytest.mark.django_db

A, B = "A", "B"
NONE: set[str] = set()
INCIDENTS = {
    "alice": {A},
    "bob": {B},
    "charlie": NONE,
    "ivy": NONE,
    "dora": {A},
    "erin": {A},
    "gina": {A},
    "frank": {A, B},
    "adam": {A},
    "root": {A, B},
    "leo": {A},
    "vera": {A},
    "sam": {A},
}
PLANS = INCIDENTS | {"gina": NONE, "erin": NONE, "vera": NONE, "sam": NONE}
SHELTERS = INCIDENTS | {"erin": NONE, "adam": NONE}
PAGES = {
    "incidents": {u for u, seen in INCIDENTS.items() if seen} - {"root"} | {"root"},
    "plans": {"alice", "bob", "dora", "frank", "adam", "root", "leo"},
    "shelters": {"alice", "bob", "dora", "gina", "frank", "root", "leo", "vera", "sam"},
    "dashboard": {"frank", "leo", "root"},
}


@pytest.fixture
def matrix(world):
    make_items()
    w = world
    plan_a = plans.create_plan(
        w.leo, place=w.street_a, kind="flood", title="甲预案", levels=level_specs()
    )
    plans.create_plan(w.frank, place=w.street_b, kind="flood", title="乙预案", levels=level_specs())
    a = incidents.report(w.alice, title="甲内涝", kind="flood", place=w.community_a, severity=3)
    b = incidents.report(w.bob, title="乙内涝", kind="flood", place=w.community_b, severity=4)
    plans.activate(w.leo, a, 3)
    plans.activate(w.frank, b, 4)
    sa = shelters.create_shelter(w.alice, name="甲避难点", place=w.community_a, capacity=50)
    sb = shelters.create_shelter(w.bob, name="乙避难点", place=w.community_b, capacity=50)
    w.ids = {A: a.pk, B: b.pk}
    w.plans = {A: plan_a.pk, B: plan_a.pk + 1}
    w.shelters = {A: sa.pk, B: sb.pk}
    w.letter = {v: k for k, v in w.ids.items()}
    w.task_letter = {t.pk: w.letter[t.incident_id] for t in Task.objects.all()}
    return w


def _tasks_seen(w, username):
    seen = INCIDENTS[username]
    return {pk for pk, letter in w.task_letter.items() if letter in seen}


@pytest.mark.parametrize("username", ALL_USERS)
def test_the_incident_list_shows_exactly_the_scope(matrix, api_client, username):
    w = matrix
    endpoint = ListEndpoint(
        "incidents",
        "/api/emergency/incidents",
        lambda items: [w.letter[i["id"]] for i in items],
        INCIDENTS,
    )
    check_list(api_client, w, endpoint, username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_an_incident_outside_the_scope_is_not_found(matrix, api_client, username):
    w = matrix
    for suffix in ("", "/log", "/tasks", "/timeline"):
        endpoint = DetailEndpoint(
            f"incident{suffix}",
            "/api/emergency/incidents/{key}" + suffix,
            [str(w.ids[A]), str(w.ids[B])],
            {u: {str(w.ids[x]) for x in seen} for u, seen in INCIDENTS.items()},
        )
        check_detail(api_client, w, endpoint, username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_the_plan_list_shows_exactly_the_scope(matrix, api_client, username):
    w = matrix
    by_pk = {pk: letter for letter, pk in w.plans.items()}
    endpoint = ListEndpoint(
        "plans", "/api/emergency/plans", lambda items: [by_pk[p["id"]] for p in items], PLANS
    )
    check_list(api_client, w, endpoint, username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_the_task_list_shows_exactly_the_scope(matrix, api_client, username):
    w = matrix
    endpoint = ListEndpoint(
        "tasks",
        "/api/emergency/tasks",
        lambda items: [str(t["id"]) for t in items],
        {u: {str(pk) for pk in _tasks_seen(w, u)} for u in ALL_USERS},
    )
    check_list(api_client, w, endpoint, username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_the_shelter_list_shows_exactly_the_scope(matrix, api_client, username):
    w = matrix
    by_pk = {pk: letter for letter, pk in w.shelters.items()}
    endpoint = ListEndpoint(
        "shelters",
        "/api/emergency/shelters",
        lambda items: [by_pk[s["id"]] for s in items],
        SHELTERS,
    )
    check_list(api_client, w, endpoint, username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_every_incident_action_outside_the_scope_is_not_found_and_changes_nothing(
    matrix, api_client, username
):
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    body = {
        "status": "verified",
        "text": "x",
        "level": 2,
        "note": "x",
        "title": "x",
        "summary": "x",
        "lessons": "x",
    }
    for letter in {A, B} - INCIDENTS[username]:
        pk = w.ids[letter]
        before = (
            Incident.objects.get(pk=pk).status,
            Activation.objects.filter(incident_id=pk).count(),
            Task.objects.filter(incident_id=pk).count(),
        )
        for verb in ("status", "log", "activate", "level", "deactivate", "tasks", "review", "link"):
            response = api_client.post_json(f"/api/emergency/incidents/{pk}/{verb}", body)
            assert response.status_code == 404, (username, verb, letter)
        after = (
            Incident.objects.get(pk=pk).status,
            Activation.objects.filter(incident_id=pk).count(),
            Task.objects.filter(incident_id=pk).count(),
        )
        assert after == before


@pytest.mark.parametrize("username", ALL_USERS)
def test_only_the_leader_of_the_place_changes_the_level(matrix, api_client, username):
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    response = api_client.post_json(f"/api/emergency/incidents/{w.ids[A]}/level", {"level": 2})
    if username in ("leo", "frank"):
        assert response.status_code == 200
    elif A in INCIDENTS[username]:
        assert response.status_code == 403
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("username", ALL_USERS)
def test_a_task_outside_the_scope_is_not_found(matrix, api_client, username):
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    seen = _tasks_seen(w, username)
    for pk in w.task_letter:
        status = api_client.post_json(
            f"/api/emergency/tasks/{pk}/cancel", {"reason": "x"}
        ).status_code
        if pk not in seen:
            assert status == 404
    assert Task.objects.filter(status="cancelled").count() <= len(seen)


@pytest.mark.parametrize("username", ALL_USERS)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_pages_open_for_exactly_their_roles(matrix, client, username, page):
    url = {
        "incidents": "/emergency/incidents/",
        "plans": "/emergency/plans/",
        "shelters": "/emergency/shelters/",
        "dashboard": "/emergency/",
    }[page]
    check_page(client, matrix, PageEndpoint(page, url, frozenset(PAGES[page])), username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_the_incident_pages_outside_the_scope_are_not_found(matrix, client, username):
    w = matrix
    client.logout()
    client.force_login(getattr(w, username))
    for letter, pk in w.ids.items():
        for suffix in ("", "board/", "review/"):
            status = client.get(f"/emergency/incidents/{pk}/{suffix}").status_code
            if letter in INCIDENTS[username]:
                assert status == 200, (username, letter, suffix)
            else:
                assert status in (403, 404), (username, letter, suffix)


@pytest.mark.parametrize("username", ALL_USERS)
def test_plan_shelter_and_task_details_outside_the_scope_are_not_found(
    matrix, api_client, username
):
    w = matrix
    plan_ids = {str(pk): letter for letter, pk in w.plans.items()}
    check_detail(
        api_client,
        w,
        DetailEndpoint(
            "plan",
            "/api/emergency/plans/{key}",
            list(plan_ids),
            {u: {k for k, x in plan_ids.items() if x in seen} for u, seen in PLANS.items()},
        ),
        username,
    )
    check_detail(
        api_client,
        w,
        DetailEndpoint(
            "plan version",
            "/api/emergency/plans/{key}/versions/1",
            list(plan_ids),
            {u: {k for k, x in plan_ids.items() if x in seen} for u, seen in PLANS.items()},
        ),
        username,
    )
    shelter_ids = {str(pk): letter for letter, pk in w.shelters.items()}
    check_detail(
        api_client,
        w,
        DetailEndpoint(
            "shelter",
            "/api/emergency/shelters/{key}",
            list(shelter_ids),
            {u: {k for k, x in shelter_ids.items() if x in seen} for u, seen in SHELTERS.items()},
        ),
        username,
    )
    check_detail(
        api_client,
        w,
        DetailEndpoint(
            "task",
            "/api/emergency/tasks/{key}",
            [str(pk) for pk in w.task_letter],
            {u: {str(pk) for pk in _tasks_seen(w, u)} for u in ALL_USERS},
        ),
        username,
    )


@pytest.mark.parametrize("username", ALL_USERS)
def test_checking_in_at_a_shelter_outside_the_scope_is_not_found(matrix, api_client, username):
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    for letter, pk in w.shelters.items():
        response = api_client.post_json(f"/api/emergency/shelters/{pk}/check-in", {"name": "x"})
        if letter not in SHELTERS[username]:
            assert response.status_code == 404, (username, letter)
        else:
            assert response.status_code in (201, 403), (username, letter)


@pytest.mark.parametrize("username", ALL_USERS)
def test_report_photos_outside_the_scope_are_not_found(
    matrix, client, settings, tmp_path, username
):
    """Every file-serving path of the app: a report photo is read exactly by who sees its task."""
    from django.utils import timezone

    from renzhi.core import uploads
    from renzhi.core.tests.upload_samples import image
    from renzhi.emergency.models import TaskReport

    w = matrix
    settings.MEDIA_ROOT = tmp_path
    keys = {}
    for letter in (A, B):
        task = Task.objects.filter(incident_id=w.ids[letter]).order_by("pk").first()
        report = TaskReport(task=task, author=w.alice, at=timezone.now(), note="到场")
        uploads.store(report.photo, uploads.image(image(), "photo"))
        report.save()
        keys[f"{task.pk}/reports/{report.pk}/photo/"] = letter
    endpoint = DetailEndpoint(
        "report photo",
        "/emergency/tasks/{key}",
        list(keys),
        {u: {k for k, x in keys.items() if x in seen} for u, seen in INCIDENTS.items()},
    )
    check_detail(client, w, endpoint, username)
    client.logout()
    for key in keys:
        assert client.get(f"/emergency/tasks/{key}").status_code == 302  # to the login page
