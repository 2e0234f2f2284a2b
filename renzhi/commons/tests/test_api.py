"""The JSON API end to end: every capability reachable, refusals as {field, code, message}."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from renzhi.commons.models import (
    Ballot,
    Organisation,
    OrgStatus,
    Participation,
    Phase,
    Proposal,
    Vote,
)
from renzhi.core.models import PersonSkill, Skill


def detail(response) -> dict:
    return response.json()["detail"][0]


def test_the_six_steps_through_the_api(world, api_client, electors):
    people = electors(10)
    api = api_client.as_user(world.charlie)
    r = api.post_json(
        "/api/commons/organisations",
        {
            "community_code": world.community_a.code,
            "name": "扶手小组",
            "kind": "mutual_aid",
            "purpose": "p",
            "activity_area": "a",
            "submit": True,
            "members": [{"name": "王阿姨"}, {"username": "vera"}],
        },
    )
    assert r.status_code == 201, r.content
    org_id = r.json()["id"]
    assert r.json()["status"] == "submitted" and len(r.json()["members"]) == 3
    r = api.post_json(f"/api/commons/organisations/{org_id}/approve", {"reason": "自己批"})
    assert r.status_code == 403 and detail(r)["field"] == "organisation"
    api_client.as_user(world.alice)
    assert (
        api_client.post_json(f"/api/commons/organisations/{org_id}/approve", {}).json()["status"]
        == "filed"
    )
    api_client.as_user(world.charlie)
    r = api_client.post_json(
        "/api/commons/proposals",
        {
            "community_code": world.community_a.code,
            "title": "加装扶手",
            "body": "b",
            "organisation_id": org_id,
        },
    )
    assert r.status_code == 201 and r.json()["origin"] == "organisation"
    pid = r.json()["id"]
    for person in people[:3]:
        api_client.as_user(person)
        assert api_client.post_json(f"/api/commons/proposals/{pid}/support").status_code == 200
    r = api_client.post_json(f"/api/commons/proposals/{pid}/support")
    assert r.status_code == 409 or r.status_code == 400
    assert detail(r)["field"] == "proposal"
    api_client.as_user(world.alice)
    assert (
        api_client.post_json(f"/api/commons/proposals/{pid}/discussion").json()["phase"]
        == "discussion"
    )
    closes = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    r = api_client.post_json(
        f"/api/commons/proposals/{pid}/vote",
        {"method": "yes_no", "closes_at": closes, "allow_change": True},
    )
    assert r.json()["vote"]["electorate_size"] == 10
    receipts = []
    for person in people:
        api_client.as_user(person)
        r = api_client.post_json(f"/api/commons/proposals/{pid}/vote/cast", {"choice": [0]})
        assert r.status_code == 200
        receipts.append(r.json()["receipt"])
    r = api_client.post_json(
        f"/api/commons/proposals/{pid}/vote/cast", {"choice": [1], "receipt": receipts[-1]}
    )
    assert r.json() == {"receipt": receipts[-1], "changed": True}
    assert (
        api_client.get(f"/api/commons/proposals/{pid}").json()["vote"]["result"] is None
    )  # no running tally
    Vote.objects.filter(proposal_id=pid).update(
        opens_at=timezone.now() - dt.timedelta(hours=2),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    r = api_client.post_json(f"/api/commons/proposals/{pid}/vote/cast", {"choice": [0]})
    assert r.status_code == 409 and detail(r)["field"] == "vote"
    api_client.as_user(world.alice)
    r = api_client.post_json(f"/api/commons/proposals/{pid}/vote/close")
    assert r.json()["vote"]["result"]["counts"] == {"0": 9, "1": 1, "2": 0}
    api_client.post_json(f"/api/commons/proposals/{pid}/resolution", {"resolution": "同意"})
    r = api_client.post_json(
        f"/api/commons/proposals/{pid}/tasks", {"title": "安装", "owner_username": "sam"}
    )
    task_id = r.json()["tasks"][0]["id"]
    api_client.as_user(world.sam)
    r = api_client.post(
        f"/api/commons/proposals/{pid}/tasks/{task_id}/progress", {"progress": 100, "note": "完成"}
    )
    assert r.status_code == 200 and r.json()["tasks"][0]["done"]
    api_client.as_user(world.alice)
    assert (
        api_client.post_json(f"/api/commons/proposals/{pid}/report", {"report": "已完成"}).json()[
            "phase"
        ]
        == "evaluating"
    )
    api_client.as_user(people[0])
    r = api_client.post_json(f"/api/commons/proposals/{pid}/evaluations", {"rating": 5})
    assert r.json()["evaluations"] == {"count": 1, "mean": 5.0}
    assert Proposal.objects.get(pk=pid).phase == Phase.EVALUATING
    assert Ballot.objects.count() == Participation.objects.count() == 10
    assert Organisation.objects.get(pk=org_id).status == OrgStatus.FILED


def test_bad_input_names_the_field_and_changes_nothing(world, api_client, electors):
    (person,) = electors(1)
    api_client.as_user(world.alice)
    start = timezone.now() + dt.timedelta(days=1)
    r = api_client.post_json(
        "/api/commons/activities",
        {
            "community_code": world.community_a.code,
            "title": "演练",
            "kind": "drill",
            "location": "广场",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "capacity": 1,
            "waiting_list": False,
        },
    )
    aid = r.json()["id"]
    api_client.as_user(person)
    assert (
        api_client.post_json(f"/api/commons/activities/{aid}/signup").json()["my_status"]
        == "confirmed"
    )
    api_client.as_user(world.charlie)
    r = api_client.post_json(f"/api/commons/activities/{aid}/signup")
    assert r.status_code == 409 and detail(r)["field"] == "capacity"
    assert api_client.get(f"/api/commons/activities/{aid}").json()["confirmed_count"] == 1

    Skill.objects.create(code="first_aid", name="急救", valid_months=24)
    api_client.as_user(world.alice)
    course = api_client.post_json(
        "/api/commons/courses",
        {
            "community_code": world.community_a.code,
            "title": "急救",
            "topic": "first_aid",
            "skill_code": "first_aid",
        },
    ).json()
    api_client.post_json(f"/api/commons/courses/{course['id']}/enrol", {"username": "vera"})
    # A course grants its skill only with a session the person attended.
    session = api_client.post_json(
        f"/api/commons/courses/{course['id']}/sessions",
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "location": "卫生站",
        },
    ).json()["sessions"][0]
    api_client.post_json(
        f"/api/commons/courses/{course['id']}/attendance",
        {"session_id": session["id"], "username": "vera"},
    )
    r = api_client.post_json(
        f"/api/commons/courses/{course['id']}/assess",
        {"username": "vera", "score": 90, "valid_from": "2026-05-01", "valid_until": "2026-04-01"},
    )
    assert r.status_code == 400 and detail(r)["field"] == "valid_until"
    assert not PersonSkill.objects.exists()
    r = api_client.post_json(
        f"/api/commons/courses/{course['id']}/assess", {"username": "vera", "score": 90}
    )
    assert (
        r.status_code == 200
        and PersonSkill.objects.filter(user=world.vera, skill__code="first_aid").exists()
    )

    r = api_client.post_json(
        "/api/commons/organisations",
        {
            "community_code": world.community_b.code,
            "name": "x",
            "kind": "mutual_aid",
            "purpose": "p",
            "activity_area": "a",
        },
    )
    assert r.status_code == 403 and detail(r)["field"] == "community"
    api_client.as_user(world.charlie)
    r = api_client.post_json("/api/commons/timebank/transfer", {"to_username": "vera", "hours": 5})
    assert r.status_code in (400, 409) and detail(r)["field"] == "hours"
    assert api_client.get("/api/commons/timebank/statement").json()["balance"] in ("0", "0.00", 0)


def test_only_the_organiser_reads_the_checkin_qr(world, api_client):
    api_client.as_user(world.alice)
    start = timezone.now() + dt.timedelta(days=1)
    aid = api_client.post_json(
        "/api/commons/activities",
        {
            "community_code": world.community_a.code,
            "title": "t",
            "kind": "cultural",
            "location": "l",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
            "capacity": 5,
        },
    ).json()["id"]
    r = api_client.get(f"/api/commons/activities/{aid}/qr.svg")
    assert r.status_code == 200 and r["Content-Type"] == "image/svg+xml" and b"<svg" in r.content
    api_client.as_user(world.charlie)
    assert api_client.get(f"/api/commons/activities/{aid}/qr.svg").status_code == 403
    api_client.as_user(world.ivy)
    assert api_client.get(f"/api/commons/activities/{aid}/qr.svg").status_code == 404
