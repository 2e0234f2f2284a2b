"""Who reads which warnings, signals and pages (the permission matrix), for ALL_USERS.

World: warning A drafted by alice for community A (owner community A), warning B drafted by bob
for community B; one signal in each community. Staff (community staff, dispatcher, leaders,
place admins) see their jurisdiction; the district leader and root see both; residents, unit
handlers, grid workers, volunteers and social workers see no staff lists (403).
"""

from __future__ import annotations

import datetime as dt

import pytest

from renzhi.core.tests.matrix import (
    ALL_USERS,
    DENY,
    DetailEndpoint,
    ListEndpoint,
    PageEndpoint,
    check_detail,
    check_list,
    check_page,
)
from renzhi.warning import actions
from renzhi.warning.models import Series, Signal
from renzhi.warning.tests.conftest import draft_input

A, B = "A", "B"
SEEN = {
    "alice": {A},
    "bob": {B},
    "charlie": DENY,
    "ivy": DENY,
    "dora": {A},
    "erin": DENY,
    "gina": DENY,
    "frank": {A, B},
    "adam": {A},
    "root": {A, B},
    "leo": {A},
    "vera": DENY,
    "sam": DENY,
}
STAFF = frozenset(n for n, v in SEEN.items() if v != DENY)


@pytest.fixture
def two(world):
    wa = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    wb = actions.create_warning(world.bob, draft_input(4, [world.community_b.code]))
    day = dt.date(2026, 3, 2)
    ids = {}
    for key, place in ((A, world.community_a), (B, world.community_b)):
        s = Series.objects.create(place=place, place_level="community")
        ids[key] = Signal.objects.create(
            series=s, day=day, method="ears_c1", observed=9, expected=1, upperbound=4, score=5
        ).pk
    return {"warnings": {A: wa.pk, B: wb.pk}, "signals": ids}


@pytest.mark.parametrize("username", ALL_USERS)
def test_warning_list_and_detail(client, world, two, username):
    by_id = {str(v): k for k, v in two["warnings"].items()}
    check_list(
        client,
        world,
        ListEndpoint(
            "warnings", "/api/warnings/", lambda items: {by_id[str(i["id"])] for i in items}, SEEN
        ),
        username,
    )
    ids = {k: str(v) for k, v in two["warnings"].items()}
    expect = {n: DENY if v == DENY else {ids[x] for x in v} for n, v in SEEN.items()}
    check_detail(
        client,
        world,
        DetailEndpoint("warning", "/api/warnings/{key}", ids.values(), expect),
        username,
    )
    check_detail(
        client,
        world,
        DetailEndpoint("warning page", "/warnings/{key}/", ids.values(), expect),
        username,
    )


@pytest.mark.parametrize("username", ALL_USERS)
def test_signal_list(client, world, two, username):
    by_id = {v: k for k, v in two["signals"].items()}
    check_list(
        client,
        world,
        ListEndpoint(
            "signals", "/api/warnings/signals", lambda items: {by_id[i["id"]] for i in items}, SEEN
        ),
        username,
    )


@pytest.mark.parametrize("username", ALL_USERS)
def test_staff_pages(client, world, two, username):
    for name, url in (
        ("list", "/warnings/"),
        ("signals", "/warnings/signals/"),
        ("map", "/warnings/map/"),
        ("new", "/warnings/new/?hot_issue=999999"),
        ("import", "/warnings/import/"),
    ):
        check_page(client, world, PageEndpoint(name, url, STAFF), username)


@pytest.mark.parametrize("username", ALL_USERS)
def test_every_signed_in_user_has_a_warnings_page_and_subscriptions(client, world, two, username):
    everyone = frozenset(ALL_USERS)
    check_page(client, world, PageEndpoint("mine", "/warnings/mine/", everyone), username)
    check_page(client, world, PageEndpoint("subs", "/warnings/subscriptions/", everyone), username)


def test_steps_on_invisible_warnings_answer_404(api_client, world, two):
    api_client.as_user(world.bob)
    wa = two["warnings"][A]
    for step in ("submit", "approve", "publish"):
        assert api_client.post_json(f"/api/warnings/{wa}/{step}").status_code == 404
    signal = two["signals"][A]
    assert api_client.post_json(f"/api/warnings/signals/{signal}/propose").status_code == 404


def test_the_api_runs_the_whole_workflow(api_client, world, two):
    wa = two["warnings"][A]
    assert (
        api_client.as_user(world.alice).post_json(f"/api/warnings/{wa}/submit").status_code == 200
    )
    refused = api_client.post_json(f"/api/warnings/{wa}/approve")
    assert refused.status_code == 403
    assert refused.json()["detail"][0]["code"] == "forbidden"
    assert api_client.as_user(world.leo).post_json(f"/api/warnings/{wa}/approve").status_code == 200
    done = api_client.as_user(world.alice).post_json(f"/api/warnings/{wa}/publish")
    assert done.status_code == 200 and done.json()["status"] == "published"
    assert len(done.json()["cap_identifiers"]) == 1
    live = api_client.as_user(world.charlie).get("/api/warnings/live").json()
    assert [w["id"] for w in live] == [wa]
    assert api_client.as_user(world.ivy).get("/api/warnings/live").json() == []
    cancelled = api_client.as_user(world.leo).post_json(
        f"/api/warnings/{wa}/cancel", {"reason": "解除"}
    )
    assert cancelled.json()["status"] == "cancelled"


def test_publishing_without_area_through_the_api_names_the_field(api_client, world):
    api_client.as_user(world.alice)
    created = api_client.post_json(
        "/api/warnings/", {"level": 4, "headline": "无区域", "instructions": "注意"}
    )
    assert created.status_code == 201
    wid = created.json()["id"]
    api_client.post_json(f"/api/warnings/{wid}/submit")
    api_client.as_user(world.leo).post_json(f"/api/warnings/{wid}/approve")
    refused = api_client.as_user(world.alice).post_json(f"/api/warnings/{wid}/publish")
    assert refused.status_code == 400
    assert "areas" in {d["field"] for d in refused.json()["detail"]}


def test_propose_and_dismiss_through_the_api(api_client, world, two):
    api_client.as_user(world.alice)
    proposed = api_client.post_json(f"/api/warnings/signals/{two['signals'][A]}/propose")
    assert proposed.status_code == 201
    assert proposed.json()["area_codes"] == [world.community_a.code]
    api_client.as_user(world.bob)
    empty = api_client.post_json(f"/api/warnings/signals/{two['signals'][B]}/dismiss", {})
    assert empty.status_code == 400 and empty.json()["detail"][0]["field"] == "reason"
    ok = api_client.post_json(
        f"/api/warnings/signals/{two['signals'][B]}/dismiss", {"reason": "节假日正常波动"}
    )
    assert ok.json()["status"] == "dismissed"


def test_invalid_cap_import_through_the_api_is_a_400(api_client, world):
    response = api_client.as_user(world.alice).post_json("/api/warnings/import", {"xml": "<x/>"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "cap"
