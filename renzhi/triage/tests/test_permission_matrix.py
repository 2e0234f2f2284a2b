"""Who may read and act on triage, page by page and endpoint by endpoint (the matrix).

World: one appeal waiting in each community (A: charlie, B: ivy), one hot issue in each
community, one model version. Expectations, written by hand:
  the triage queue belongs to community staff (alice A, bob B) and the street dispatcher
  (dora, street A); hot issues also to leaders (frank: district, leo: street A) and the global
  administrator (root); model versions to root only. adam (administrator of street A) is not a
  business role: no queue, no hot issues, no models.
"""

import datetime as dt

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.core.tests.matrix import (
    ALL_USERS,
    DENY,
    ListEndpoint,
    PageEndpoint,
    check_list,
    check_page,
)
from renzhi.triage.models import HotIssue, ModelVersion

A, B = "A", "B"
QUEUE = {name: DENY for name in ALL_USERS} | {"alice": {A}, "bob": {B}, "dora": {A}}
HOT = {name: DENY for name in ALL_USERS} | {
    "alice": {A},
    "bob": {B},
    "dora": {A},
    "frank": {A, B},
    "leo": {A},
    "root": {A, B},
}
MODELS = {name: DENY for name in ALL_USERS} | {"root": {"category"}}


@pytest.fixture
def matrix(cases):
    w = cases
    a = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="楼下有人乱停车", lat=39.92, lng=116.42
    ).appeal
    b = appeal_actions.submit_appeal(
        w.ivy, channel="web", description="楼下有人乱停车", lat=39.92, lng=116.55
    ).appeal
    w.letters = {a.tracking_no: A, b.tracking_no: B}
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for rank, (letter, community) in enumerate(((A, w.community_a), (B, w.community_b)), 1):
        HotIssue.objects.create(
            computed_at=now,
            window_start=now,
            window_end=now,
            rank=rank,
            heat=1,
            count=3,
            residents=3,
            concentration=1,
            title=letter,
            community=community,
            street=community.parent,
            place_code=community.code,
        )
    ModelVersion.objects.create(head="category", file="x.rzm")
    return w


@pytest.mark.django_db
@pytest.mark.parametrize("username", ALL_USERS)
def test_triage_api_matrix(client, matrix, username):
    w = matrix
    endpoints = [
        ListEndpoint(
            "queue",
            "/api/triage/queue",
            lambda items: [w.letters[i["tracking_no"]] for i in items],
            QUEUE,
        ),
        ListEndpoint("hot", "/api/triage/hot", lambda items: [i["title"] for i in items], HOT),
        ListEndpoint(
            "models", "/api/triage/models", lambda items: [i["head"] for i in items], MODELS
        ),
    ]
    for endpoint in endpoints:
        check_list(client, w, endpoint, username)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ALL_USERS)
def test_triage_page_matrix(client, matrix, username):
    pages = [
        PageEndpoint("queue", "/triage/", frozenset({"alice", "bob", "dora"})),
        PageEndpoint("hot", "/triage/hot/", frozenset(n for n, e in HOT.items() if e != DENY)),
        PageEndpoint("models", "/triage/models/", frozenset({"root"})),
    ]
    for page in pages:
        check_page(client, matrix, page, username)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ALL_USERS)
def test_only_the_queue_owner_may_decide(api_client, matrix, username):
    w = matrix
    a_no = next(no for no, letter in w.letters.items() if letter == A)
    api_client.force_login(getattr(w, username))
    response = api_client.post_json(
        f"/api/triage/queue/{a_no}/correct", {"category": "0801", "unit": "U-WY-A"}
    )
    if username in ("alice", "dora"):
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "corrected"
    else:
        assert response.status_code in (403, 404), (username, response.status_code)
