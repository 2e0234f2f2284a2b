"""The incident-side pages: they render, act through the actions and show field errors."""

from __future__ import annotations

import pytest
from django.utils import timezone

from renzhi.emergency.actions import incidents, plans, shelters
from renzhi.emergency.models import Incident, Plan, Review, Task
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood_plan(world):
    return factories.add_flood_plan(world)


@pytest.fixture
def flood(flood_plan):
    return factories.add_flood(flood_plan)


def test_staff_report_an_incident_through_the_form(flood_plan, client):
    w = flood_plan
    client.force_login(w.alice)
    page = client.get("/emergency/incidents/new/")
    assert page.status_code == 200
    response = client.post(
        "/emergency/incidents/new/",
        {"title": "地下车库进水", "kind": "flood", "severity": 3, "place": w.community_a.code},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{incident.pk}/")


def test_the_form_shows_field_errors_and_creates_nothing(flood_plan, client):
    w = flood_plan
    client.force_login(w.alice)
    response = client.post(
        "/emergency/incidents/new/",
        {
            "title": "x",
            "kind": "flood",
            "severity": 3,
            "place": w.community_a.code,
            "started_at": "2999-01-01T10:00",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["started_at"]
    assert not Incident.objects.exists()


def test_new_incident_prefills_from_a_warning_and_offers_one_click(flood_plan, client):
    from renzhi.warning.models import Warning

    w = flood_plan
    warning = Warning.objects.create(
        level=2,
        status="published",
        headline="暴雨橙色预警",
        event="暴雨",
        owner_place=w.street_a,
        published_at=timezone.now(),
    )
    warning.areas.set([w.community_a])
    client.force_login(w.leo)
    page = client.get(f"/emergency/incidents/new/?warning={warning.pk}")
    assert page.status_code == 200
    assert page.context["form"].initial["kind"] == "flood"
    assert page.context["one_click"]["level"] == "II"
    response = client.post(f"/emergency/warnings/{warning.pk}/activate/")
    incident = Incident.objects.get()
    assert response["Location"].endswith(f"/incidents/{incident.pk}/")
    assert incident.current_activation().level == 2


def test_an_unknown_hot_issue_or_warning_is_ignored(flood_plan, client):
    client.force_login(flood_plan.alice)
    page = client.get("/emergency/incidents/new/?hot_issue=999999&warning=424242")
    assert page.status_code == 200
    assert page.context["warning"] is None


def test_the_leader_activates_from_the_detail_page_and_the_board_shows_the_tasks(flood, client):
    w = flood
    client.force_login(w.leo)
    page = client.get(f"/emergency/incidents/{w.incident.pk}/")
    assert page.status_code == 200 and page.context["can_activate"]
    client.post(f"/emergency/incidents/{w.incident.pk}/activate/", {"level": 3})
    assert Task.objects.filter(incident=w.incident).count() == 3
    board = client.get(f"/emergency/incidents/{w.incident.pk}/board/")
    assert board.status_code == 200
    assert sum(len(c["cards"]) for c in board.context["columns"]) == 3


def test_staff_do_not_see_activation_controls_and_a_posted_activation_is_refused(flood, client):
    w = flood
    client.force_login(w.alice)
    page = client.get(f"/emergency/incidents/{w.incident.pk}/")
    assert not page.context["can_activate"]
    client.post(f"/emergency/incidents/{w.incident.pk}/activate/", {"level": 3})
    assert not Task.objects.exists()


def test_the_assignee_accepts_and_reports_on_the_task_page(flood, client):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    task = Task.objects.get(incident=w.incident, assignee=w.gina)
    client.force_login(w.gina)
    assert client.get("/emergency/tasks/").context["rows"][0]["task"] == task
    client.post(f"/emergency/tasks/{task.pk}/", {"step": "accept"})
    client.post(f"/emergency/tasks/{task.pk}/", {"step": "report", "note": "已巡查", "done": "on"})
    task.refresh_from_db()
    assert task.status == "done"


def test_a_plan_is_written_and_versioned_through_the_form(world, client):
    from renzhi.emergency.tests.factories_incidents import make_items

    make_items()
    client.force_login(world.leo)
    data = {"title": "甲街道火灾预案", "kind": "fire", "place": world.street_a.code}
    for roman in ("IV", "III", "II", "I"):
        data[f"level_{roman}_actions"] = "疏散群众 | 社区工作者 | 1\n报告街道 | leader"
        data[f"level_{roman}_reserves"] = "water | 20"
        data[f"level_{roman}_people"] = ""
    response = client.post("/emergency/plans/new/", data)
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert plan.version_in_force().levels.get(level=3).actions.count() == 2
    edit = client.get(f"/emergency/plans/{plan.pk}/edit/")
    assert "疏散群众 | community_staff | 1" in edit.context["form"].initial["level_III_actions"]
    bad = dict(data, note="加一条", level_II_actions="没有角色")
    response = client.post(f"/emergency/plans/{plan.pk}/edit/", bad)
    assert response.status_code == 200 and response.context["form"].errors["level_II_actions"]
    response = client.post(f"/emergency/plans/{plan.pk}/edit/", dict(data, note="加一条"))
    assert plan.versions.count() == 2
    assert client.get(f"/emergency/plans/{plan.pk}/?v=1").context["shown"].number == 1


def test_shelter_pages_check_people_in_and_out(world, client):
    client.force_login(world.alice)
    client.post(
        "/emergency/shelters/",
        {
            "name": "甲一小学",
            "place": world.community_a.code,
            "capacity": 5,
            "facilities": ["beds"],
        },
    )
    shelter = shelters.Shelter.objects.get()
    client.post(
        f"/emergency/shelters/{shelter.pk}/", {"step": "check_in", "name": "王", "people": 2}
    )
    shelter.refresh_from_db()
    assert shelter.occupancy == 2
    full = client.post(
        f"/emergency/shelters/{shelter.pk}/", {"step": "check_in", "name": "李", "people": 9}
    )
    assert full.context["form"].errors["people"]
    stay = shelter.stays.get()
    client.post(f"/emergency/shelters/{shelter.pk}/", {"step": "check_out", "stay": stay.pk})
    shelter.refresh_from_db()
    assert shelter.occupancy == 0


def test_the_review_page_writes_the_review_and_applies_it(flood, client):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    incidents.change_status(w.leo, w.incident, "recovering")
    incidents.change_status(w.leo, w.incident, "closed")
    client.force_login(w.leo)
    page = client.get(f"/emergency/incidents/{w.incident.pk}/review/")
    assert page.status_code == 200 and page.context["form"] is not None
    client.post(
        f"/emergency/incidents/{w.incident.pk}/review/",
        {
            "step": "write",
            "summary": "积水6小时",
            "lessons": "抽水慢",
            "c0-plan": str(w.plan.pk),
            "c0-level": "3",
            "c0-change": "add_action",
            "c0-target": "预置抽水泵",
            "c0-role": "unit_handler",
        },
    )
    review = Review.objects.get()
    assert review.actions.count() == 1
    client.post(f"/emergency/incidents/{w.incident.pk}/review/", {"step": "apply"})
    assert w.plan.versions.count() == 2


def test_the_dashboard_is_for_leaders(flood, client):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    client.force_login(w.leo)
    page = client.get("/emergency/")
    assert page.status_code == 200
    assert len(page.context["figures"].incidents) == 1
    client.force_login(w.alice)
    assert client.get("/emergency/").status_code == 403


def test_the_api_reports_and_lists_incidents(flood_plan, api_client):
    w = flood_plan
    api_client.as_user(w.alice)
    response = api_client.post_json(
        "/api/emergency/incidents",
        {"title": "积水", "kind": "flood", "place_code": w.community_a.code, "severity": 9},
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "severity"
    response = api_client.post_json(
        "/api/emergency/incidents",
        {"title": "积水", "kind": "flood", "place_code": w.community_a.code, "severity": 3},
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    api_client.as_user(w.leo)
    activated = api_client.post_json(f"/api/emergency/incidents/{pk}/activate", {"level": 3})
    assert activated.status_code == 200 and activated.json()["tasks"] == 3
    board = api_client.get(f"/api/emergency/incidents/{pk}/tasks").json()
    assert len(board) == 3
    assert api_client.get("/api/emergency/dashboard").status_code == 200


def test_staff_link_an_appeal_and_a_warning_on_the_incident_page(flood, client):
    from renzhi.appeals import actions as appeal_actions
    from renzhi.warning.models import Warning

    w = flood
    appeal = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="楼下积水", place=w.community_a
    ).appeal
    warning = Warning.objects.create(level=3, headline="暴雨黄色预警", owner_place=w.street_a)
    warning.areas.set([w.community_a])
    client.force_login(w.alice)
    page = client.get(f"/emergency/incidents/{w.incident.pk}/")
    assert warning in page.context["linkable_warnings"]
    client.post(
        f"/emergency/incidents/{w.incident.pk}/link-appeal/", {"tracking_no": appeal.tracking_no}
    )
    client.post(f"/emergency/incidents/{w.incident.pk}/link-warning/", {"warning": warning.pk})
    assert list(w.incident.appeals.all()) == [appeal]
    assert list(w.incident.warnings.all()) == [warning]
    client.post(f"/emergency/incidents/{w.incident.pk}/link-appeal/", {"tracking_no": "RZ-nope"})
    assert w.incident.appeals.count() == 1


def test_a_manager_reassigns_a_task_on_its_page(flood, client):
    w = flood
    plans.activate(w.leo, w.incident, 3)
    task = Task.objects.get(incident=w.incident, role="grid_worker")
    client.force_login(w.alice)
    page = client.get(f"/emergency/tasks/{task.pk}/")
    assert (f"u:{w.vera.pk}", "Vera") in page.context["assign_choices"]
    client.post(f"/emergency/tasks/{task.pk}/", {"step": "assign", "who": f"u:{w.vera.pk}"})
    task.refresh_from_db()
    assert task.assignee == w.vera
    client.force_login(w.gina)
    assert client.get(f"/emergency/tasks/{task.pk}/").context["assign_choices"] == []


def test_the_api_links_an_appeal_and_refuses_an_unknown_one(flood, api_client):
    from renzhi.appeals import actions as appeal_actions

    w = flood
    appeal = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="楼下积水", place=w.community_a
    ).appeal
    api_client.as_user(w.alice)
    url = f"/api/emergency/incidents/{w.incident.pk}/link"
    bad = api_client.post_json(url, {"tracking_no": "nope"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["field"] == "appeal_numbers"
    ok = api_client.post_json(url, {"tracking_no": appeal.tracking_no})
    assert ok.json()["appeal_numbers"] == [appeal.tracking_no]


def test_the_list_maps_the_incidents_not_closed(flood, client):
    client.force_login(flood.alice)
    page = client.get("/emergency/incidents/?status=active")
    assert [p["title"] for p in page.context["points"]] == ["甲一社区内涝"]
    assert page.context["rows"][0]["incident"] == flood.incident


def test_an_incident_from_a_hot_issue_is_prefilled_and_links_its_appeals(flood_plan, client):
    from renzhi.appeals import actions as appeal_actions
    from renzhi.triage.models import HotIssue

    w = flood_plan
    appeal = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="小区门口积水", place=w.community_a
    ).appeal
    now = timezone.now()
    issue = HotIssue.objects.create(
        computed_at=now,
        window_start=now,
        window_end=now,
        rank=1,
        heat=9.0,
        count=12,
        residents=10,
        concentration=0.8,
        title="小区积水",
        community=w.community_a,
        place_code=w.community_a.code,
        lat=39.92,
        lng=116.42,
    )
    issue.appeals.set([appeal])
    client.force_login(w.alice)
    page = client.get(f"/emergency/incidents/new/?hot_issue={issue.pk}")
    initial = page.context["form"].initial
    assert initial["title"] == "小区积水" and "12" in initial["description"]
    assert initial["place"] == w.community_a.code
    client.post(
        f"/emergency/incidents/new/?hot_issue={issue.pk}",
        {
            "title": "小区积水",
            "kind": "flood",
            "severity": 4,
            "place": w.community_a.code,
            "hot_issue": str(issue.pk),
        },
    )
    incident = Incident.objects.get()
    assert list(incident.appeals.all()) == [appeal]
    assert incident.hot_issue_ref == str(issue.pk) and incident.lat == 39.92


def test_the_incident_page_sums_up_call_ups_reach_and_stock(flood, client):
    from renzhi.emergency.actions import people
    from renzhi.emergency.models import PersonProfile

    w = flood
    PersonProfile.objects.create(user=w.vera, kind="volunteer", place=w.community_a)
    people.send_callups(w.alice, w.incident, [w.vera], "集合")
    client.force_login(w.alice)
    resources = client.get(f"/emergency/incidents/{w.incident.pk}/").context["resources"]
    assert resources["called"] == 1 and resources["accepted"] == 0
    assert resources["people_url"].endswith(f"?incident={w.incident.pk}")
    client.force_login(w.vera)
    resources = client.get(f"/emergency/incidents/{w.incident.pk}/").context["resources"]
    assert resources["stock_url"] == ""


def test_the_live_log_fragment_is_scoped(flood, client):
    w = flood
    incidents.add_log(w.alice, w.incident, "水位下降")
    client.force_login(w.vera)
    fragment = client.get(f"/emergency/incidents/{w.incident.pk}/live-log/")
    assert fragment.status_code == 200 and "水位下降" in fragment.content.decode()
    client.force_login(w.bob)
    assert client.get(f"/emergency/incidents/{w.incident.pk}/live-log/").status_code == 404
