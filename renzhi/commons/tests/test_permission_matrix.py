"""Who may read and act on what, endpoint by endpoint (the commons permission matrix).

World: in community A a filed organisation (charlie's), a draft organisation (charlie's), a
proposal, an activity, a residents' course, a staff-only course, a help post; the same public
objects in community B (ivy's). Expectations written by hand:
  residents (charlie, vera in A; ivy in B) see their community's public life and their own
  drafts; readers over a jurisdiction (alice, bob staff; dora dispatcher, leo leader, adam
  admin of street A; sam social worker A; frank district; root all) see everything in it;
  erin (unit handler) and gina (grid worker of a grid, not the community) see nothing here.
Outside the read scope every endpoint answers 404 and changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.commons.actions import activities, proposals, timebank, training
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import Organisation, Proposal
from renzhi.core.tests.matrix import (
    ALL_USERS,
    DENY,
    DetailEndpoint,
    ListEndpoint,
    check_detail,
    check_list,
)

A, AD, B = "A", "A-draft", "B"
NOBODY: set[str] = set()
READ_A = {"alice", "charlie", "vera", "dora", "leo", "adam", "sam"}
PUBLIC = {u: ({A} if u in READ_A else NOBODY) for u in ALL_USERS} | {
    "bob": {B},
    "ivy": {B},
    "frank": {A, B},
    "root": {A, B},
}
ORGS = {
    u: (v | {AD} if u in READ_A - {"vera"} or u in {"frank", "root"} else v)
    for u, v in PUBLIC.items()
}
STAFF_COURSES = {u: (NOBODY if u in {"charlie", "vera", "ivy"} else v) for u, v in PUBLIC.items()}
HOUSEHOLDS = {u: NOBODY for u in ALL_USERS} | {
    "alice": {A},
    "adam": {A},
    "root": {A, B},
    "bob": {B},
    "charlie": {A},
    "ivy": {B},
}


SOON = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20, hours=1)).isoformat()


@pytest.fixture
def matrix(world):
    from renzhi.commons.actions.residence import register_residence

    w = world
    start = timezone.now() + dt.timedelta(days=3)
    keys: dict[str, dict[str, str]] = {}
    for letter, resident, staff, community in (
        (A, w.charlie, w.alice, w.community_a),
        (B, w.ivy, w.bob, w.community_b),
    ):
        org = orgs.file_organisation(
            resident,
            community=community,
            name=f"{letter} 舞蹈队",
            kind="culture_sports",
            purpose="p",
            activity_area="a",
            submit=True,
        )
        orgs.approve_organisation(staff, org)
        p = proposals.raise_proposal(staff, community=community, title=f"{letter} 议题", body="b")
        act = activities.publish_activity(
            staff,
            community=community,
            title=f"{letter} 活动",
            kind="cultural",
            location="l",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=5,
        )
        course = training.create_course(
            staff, community=community, title=f"{letter} 急救", topic="first_aid"
        )
        staff_course = training.create_course(
            staff,
            community=community,
            title=f"{letter} 网络安全",
            topic="network_safety",
            for_staff=True,
        )
        post = timebank.post_help(
            resident,
            community=community,
            kind="request",
            category="shopping",
            title="买菜",
            hours=1,
        )
        home = register_residence(
            staff,
            community=community,
            building="1",
            room="101",
            area_m2="80",
            user=resident,
            verify=True,
        )
        keys[letter] = {
            "org": str(org.pk),
            "proposal": str(p.pk),
            "activity": str(act.pk),
            "course": str(course.pk),
            "staff_course": str(staff_course.pk),
            "help": str(post.pk),
            "residence": str(home.pk),
        }
    draft = orgs.file_organisation(
        w.charlie,
        community=w.community_a,
        name="草稿组织",
        kind="mutual_aid",
        purpose="p",
        activity_area="a",
    )
    keys[AD] = {"org": str(draft.pk)}
    w.keys = keys
    w.letter = {v: k for k, d in keys.items() for v in [f"{kind}:{pk}" for kind, pk in d.items()]}
    return w


def by_letter(w, kind: str, expect: dict) -> dict:
    return {
        u: v if v == DENY else {w.keys[x][kind] for x in v if kind in w.keys[x]}
        for u, v in expect.items()
    }


LISTS = [
    ("organisations", "/api/commons/organisations", "org", ORGS),
    ("proposals", "/api/commons/proposals", "proposal", PUBLIC),
    ("activities", "/api/commons/activities", "activity", PUBLIC),
    ("help posts", "/api/commons/help", "help", PUBLIC),
    ("household records", "/api/commons/residences", "residence", HOUSEHOLDS),
]


@pytest.mark.parametrize("username", ALL_USERS)
@pytest.mark.parametrize(("name", "url", "kind", "expect"), LISTS)
def test_every_list_shows_exactly_the_scope(matrix, api_client, username, name, url, kind, expect):
    endpoint = ListEndpoint(
        name, url, lambda items: [str(i["id"]) for i in items], by_letter(matrix, kind, expect)
    )
    check_list(api_client, matrix, endpoint, username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_courses_for_staff_are_not_shown_to_residents(matrix, api_client, username):
    w = matrix
    expect = {
        u: {w.keys[x]["course"] for x in v} | {w.keys[x]["staff_course"] for x in STAFF_COURSES[u]}
        for u, v in PUBLIC.items()
    }
    endpoint = ListEndpoint(
        "courses", "/api/commons/courses", lambda items: [str(i["id"]) for i in items], expect
    )
    check_list(api_client, w, endpoint, username)


DETAILS = [
    ("organisation", "/api/commons/organisations/{key}", "org", ORGS),
    ("proposal", "/api/commons/proposals/{key}", "proposal", PUBLIC),
    ("activity", "/api/commons/activities/{key}", "activity", PUBLIC),
    ("course", "/api/commons/courses/{key}", "course", PUBLIC),
    ("help post", "/api/commons/help/{key}", "help", PUBLIC),
    ("help matches", "/api/commons/help/{key}/matches", "help", PUBLIC),
]


@pytest.mark.parametrize("username", ALL_USERS)
@pytest.mark.parametrize(("name", "url", "kind", "expect"), DETAILS)
def test_every_detail_outside_the_scope_is_not_found(
    matrix, api_client, username, name, url, kind, expect
):
    w = matrix
    universe = sorted(d[kind] for d in w.keys.values() if kind in d)
    endpoint = DetailEndpoint(name, url, universe, by_letter(w, kind, expect))
    check_detail(api_client, w, endpoint, username)


# Every POST endpoint with an object in its path: (kind, path after the object, body).
VERBS = [
    ("org", "organisations/{id}/submit", {}),
    ("org", "organisations/{id}/edit", {"purpose": "x"}),
    ("org", "organisations/{id}/review", {}),
    ("org", "organisations/{id}/comment", {"note": "x"}),
    ("org", "organisations/{id}/request-changes", {"reason": "x"}),
    ("org", "organisations/{id}/approve", {"reason": "x"}),
    ("org", "organisations/{id}/decide-approval", {"approve": True}),
    ("org", "organisations/{id}/reject", {"reason": "x"}),
    ("org", "organisations/{id}/suspend", {"reason": "x"}),
    ("org", "organisations/{id}/reinstate", {"reason": "x"}),
    ("org", "organisations/{id}/dissolve", {"reason": "x"}),
    ("org", "organisations/{id}/members", {"name": "x"}),
    ("org", "organisations/{id}/members/1/remove", {}),
    ("org", "organisations/{id}/annual-reports", {"year": 2025, "summary": "x"}),
    ("residence", "residences/{id}/verify", {}),
    ("proposal", "proposals/{id}/support", {}),
    ("proposal", "proposals/{id}/agenda", {}),
    ("proposal", "proposals/{id}/decline", {"reason": "x"}),
    ("proposal", "proposals/{id}/discussion", {}),
    ("proposal", "proposals/{id}/comments", {"body": "x"}),
    ("proposal", "proposals/{id}/comments/1/edit", {"body": "x"}),
    ("proposal", "proposals/{id}/comments/1/hide", {"reason": "x"}),
    ("proposal", "proposals/{id}/options", {"label": "x"}),
    ("proposal", "proposals/{id}/options/1/amend", {"label": "x"}),
    # A closing time within the bounded horizon, so that only the scope can refuse it.
    ("proposal", "proposals/{id}/vote", {"method": "yes_no", "closes_at": SOON}),
    ("proposal", "proposals/{id}/vote/cast", {"choice": [0]}),
    ("proposal", "proposals/{id}/vote/close", {}),
    ("proposal", "proposals/{id}/resolution", {"resolution": "x"}),
    ("proposal", "proposals/{id}/tasks", {"title": "x", "owner_username": "alice"}),
    ("proposal", "proposals/{id}/report", {"report": "x"}),
    ("proposal", "proposals/{id}/evaluations", {"rating": 5}),
    ("proposal", "proposals/{id}/close", {}),
    ("activity", "activities/{id}/signup", {}),
    ("activity", "activities/{id}/cancel-signup", {}),
    ("activity", "activities/{id}/checkin", {"token": "x"}),
    ("activity", "activities/{id}/finish", {}),
    ("activity", "activities/{id}/cancel", {"reason": "x"}),
    ("activity", "activities/{id}/feedback", {"rating": 5}),
    (
        "course",
        "courses/{id}/sessions",
        {"starts_at": SOON, "ends_at": LATER, "location": "x"},
    ),
    ("course", "courses/{id}/enrol", {}),
    ("course", "courses/{id}/attendance", {"session_id": 1, "username": "charlie"}),
    ("course", "courses/{id}/assess", {"username": "charlie", "score": 90}),
    ("help", "help/{id}/respond", {}),
    ("help", "help/{id}/complete", {}),
    ("help", "help/{id}/cancel", {}),
]


def snapshot(w) -> tuple:
    return (
        list(Organisation.objects.order_by("pk").values_list("status", "updated_at")),
        list(Proposal.objects.order_by("pk").values_list("phase", "supports_count")),
    )


@pytest.mark.parametrize("username", ALL_USERS)
def test_every_action_outside_the_scope_is_not_found_and_changes_nothing(
    matrix, api_client, username
):
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    expect = {"org": ORGS, "residence": HOUSEHOLDS}
    for kind, path, body in VERBS:
        seen = expect.get(kind, PUBLIC)[username]
        for letter in {A, B} - set(seen):
            before = snapshot(w)
            url = "/api/commons/" + path.format(id=w.keys[letter][kind])
            response = api_client.post_json(url, body)
            assert response.status_code == 404, (username, url, response.content)
            assert snapshot(w) == before


@pytest.mark.parametrize("username", ALL_USERS)
def test_staff_actions_inside_the_scope_are_forbidden_to_others(matrix, api_client, username):
    """Seen but not theirs to decide: 403 with the field named."""
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    staff_only = [
        ("proposal", "proposals/{id}/agenda", {}),
        ("proposal", "proposals/{id}/decline", {"reason": "x"}),
        ("org", "organisations/{id}/suspend", {"reason": "x"}),
        ("activity", "activities/{id}/finish", {}),
    ]
    allowed = {"alice", "root"}
    for kind, path, body in staff_only:
        if A not in (ORGS if kind == "org" else PUBLIC)[username] or username in allowed:
            continue
        before = snapshot(w)
        response = api_client.post_json("/api/commons/" + path.format(id=w.keys[A][kind]), body)
        assert response.status_code == 403, (username, path, response.content)
        assert response.json()["detail"][0]["field"]
        assert snapshot(w) == before


@pytest.mark.parametrize("username", ALL_USERS)
def test_metrics_are_for_readers_of_their_jurisdiction(matrix, api_client, username):
    api_client.logout()
    api_client.force_login(getattr(matrix, username))
    response = api_client.get("/api/commons/metrics")
    readers = {
        "alice": {"110105001001"},
        "bob": {"110105002001"},
        "dora": {"110105001001"},
        "leo": {"110105001001"},
        "adam": {"110105001001"},
        "sam": {"110105001001"},
        "frank": {"110105001001", "110105002001"},
        "root": {"110105001001", "110105002001"},
        "gina": set(),
    }
    if username not in readers:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert {m["community_code"] for m in response.json()} == readers[username]


@pytest.mark.parametrize("username", ALL_USERS)
def test_the_statement_is_ones_own(matrix, api_client, username):
    api_client.logout()
    api_client.force_login(getattr(matrix, username))
    response = api_client.get("/api/commons/timebank/statement")
    assert response.status_code == 200 and response.json()["balance"] in ("0", "0.00", 0)


def test_anonymous_is_refused_everywhere(matrix, api_client):
    for url in [
        "/api/commons/organisations",
        "/api/commons/proposals",
        "/api/commons/timebank/statement",
    ]:
        assert api_client.get(url).status_code == 401


@pytest.fixture
def files(matrix, settings, tmp_path):
    """A charter on every organisation, a photo on every activity and a progress photo on every
    proposal, stored the way the actions store them."""
    from renzhi.commons.models import (
        Activity,
        ActivityPhoto,
        ImplementationTask,
        ImplementationUpdate,
    )
    from renzhi.core import uploads
    from renzhi.core.tests import upload_samples as samples

    w = matrix
    settings.MEDIA_ROOT = tmp_path
    photo = uploads.image(samples.image(), "photo")
    pdf = uploads.document(samples.named("c.pdf", samples.PDF), "charter")
    w.file_keys = {"charter": {}, "activity photo": {}, "progress photo": {}}
    for letter, keys in w.keys.items():
        org = Organisation.objects.get(pk=keys["org"])
        uploads.store(org.charter, pdf)
        org.save(update_fields=["charter"])
        w.file_keys["charter"][f"{org.pk}/charter/"] = letter
        if "activity" not in keys:
            continue
        row = ActivityPhoto(activity=Activity.objects.get(pk=keys["activity"]), uploaded_by=w.root)
        uploads.store(row.image, photo)
        row.save()
        w.file_keys["activity photo"][f"{row.activity_id}/photos/{row.pk}/"] = letter
        task = ImplementationTask.objects.create(
            proposal=Proposal.objects.get(pk=keys["proposal"]), title="t", owner=w.root
        )
        update = ImplementationUpdate(task=task, actor=w.root, progress=10)
        uploads.store(update.photo, photo)
        update.save()
        w.file_keys["progress photo"][f"{task.proposal_id}/progress/{update.pk}/photo/"] = letter
    return w


FILES = [
    ("charter", "/commons/organisations/{key}", ORGS),
    ("activity photo", "/commons/activities/{key}", PUBLIC),
    ("progress photo", "/commons/proposals/{key}", PUBLIC),
]


@pytest.mark.parametrize("username", ALL_USERS)
@pytest.mark.parametrize(("name", "url", "expect"), FILES)
def test_every_stored_file_outside_the_scope_is_not_found(
    files, client, username, name, url, expect
):
    """Every file-serving path of the commons: read exactly by who sees the object's page."""
    w = files
    keys = w.file_keys[name]
    endpoint = DetailEndpoint(
        name,
        url,
        list(keys),
        {u: {k for k, x in keys.items() if x in seen} for u, seen in expect.items()},
    )
    check_detail(client, w, endpoint, username)


def test_anonymous_gets_no_stored_file(files, client):
    for name, url, _expect in FILES:
        for key in files.file_keys[name]:
            response = client.get(url.format(key=key))
            assert response.status_code == 302 and "/login" in response["Location"], (name, key)
