"""Who may read and act on which appeals, endpoint by endpoint (the permission matrix).

World: appeal A from charlie in community A, routed to unit A; appeal B from ivy in community
B, routed to unit B. Expectations, written by hand:
  residents see their own; a unit handler (erin) what is dispatched to its unit; community
  staff (alice, bob), the grid worker (gina) and the street dispatcher (dora) their
  jurisdiction; the district leader (frank) and the global administrator (root) both.
  adam administers street A. Decision (documented): an administrator is not a business role,
  but `queries.appeals_for` — the one scope of appeals, shared with the web pages — gives a
  place-bound administrator his place's appeals to read; he can do nothing to them (no
  transition accepts the admin role) and his phone view is masked. If the lead narrows
  `appeals_for` to "a place-bound admin sees none", only ADAM below changes.
Everything outside a viewer's scope answers 404 (not 403), on reads and on every transition.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from renzhi.appeals.actions import imports
from renzhi.appeals.tests.test_import import row, xlsx
from renzhi.core.tests.matrix import (
    DENY,
    USERS,
    DetailEndpoint,
    ListEndpoint,
    check_detail,
    check_list,
)

A, B = "A", "B"
ADAM = {A}
SEEN = {
    "alice": {A},
    "bob": {B},
    "charlie": {A},
    "ivy": {B},
    "dora": {A},
    "erin": {A},
    "gina": {A},
    "frank": {A, B},
    "adam": ADAM,
    "root": {A, B},
}
STAFF_SEEN = SEEN | {"charlie": DENY, "ivy": DENY}  # duplicates: staff only
RULES_SEEN = {name: DENY for name in USERS} | {
    "adam": {"110105001001"},
    "root": {"110105001001", "110105002001"},
}
VERBS = [
    "accept",
    "reject",
    "dispatch",
    "transfer",
    "sign",
    "progress",
    "resolve",
    "rate",
    "return",
    "request-extension",
    "supervise",
    "suspend",
    "resume",
    "escalate",
    "merge",
    "withdraw",
    "close",
    "comment",
]


@pytest.fixture
def matrix(two_appeals):
    """The world with tracking numbers behind the letters A and B."""
    w = two_appeals
    w.numbers = {A: w.appeal_a.tracking_no, B: w.appeal_b.tracking_no}
    w.letters = {no: letter for letter, no in w.numbers.items()}
    return w


def lettered(w, expect: dict) -> dict:
    return {k: v if v == DENY else {w.numbers[x] for x in v} for k, v in expect.items()}


@pytest.mark.parametrize("username", USERS)
def test_the_list_shows_exactly_the_scope(matrix, api_client, username):
    endpoint = ListEndpoint(
        "appeals list",
        "/api/appeals/",
        lambda items: [a["tracking_no"] for a in items],
        lettered(matrix, SEEN),
    )
    check_list(api_client, matrix, endpoint, username)


@pytest.mark.parametrize("username", USERS)
def test_the_detail_outside_the_scope_is_not_found(matrix, api_client, username):
    endpoint = DetailEndpoint(
        "appeal detail",
        "/api/appeals/{key}",
        sorted(matrix.numbers.values()),
        lettered(matrix, SEEN),
    )
    check_detail(api_client, matrix, endpoint, username)


@pytest.mark.parametrize("username", USERS)
def test_duplicates_are_for_staff_within_their_scope(matrix, api_client, username):
    endpoint = DetailEndpoint(
        "duplicates",
        "/api/appeals/duplicates?tracking_no={key}",
        sorted(matrix.numbers.values()),
        lettered(matrix, STAFF_SEEN),
    )
    check_detail(api_client, matrix, endpoint, username)


@pytest.mark.parametrize("username", USERS)
def test_the_export_holds_exactly_the_scope(matrix, api_client, username):
    api_client.logout()
    api_client.force_login(getattr(matrix, username))
    response = api_client.get("/api/appeals/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    exported = {r[0] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert exported == {matrix.numbers[x] for x in SEEN[username]}


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("verb", VERBS)
def test_every_transition_outside_the_scope_is_not_found_and_changes_nothing(
    matrix, api_client, username, verb
):
    w = matrix
    api_client.logout()
    api_client.force_login(getattr(w, username))
    for letter in {A, B} - SEEN[username]:
        appeal = w.appeal_a if letter == A else w.appeal_b
        before = w.snapshot(appeal)
        response = api_client.post_json(
            f"/api/appeals/{appeal.tracking_no}/{verb}",
            {
                "note": "x",
                "reason": "x",
                "result": "x",
                "rating": 1,
                "days": 1,
                "unit_code": "U-WY-A",
                "into": w.numbers[A],
            },
        )
        assert response.status_code == 404, (username, verb, letter, response.content)
        assert w.snapshot(appeal) == before


@pytest.mark.parametrize("username", USERS)
def test_deciding_an_extension_outside_the_scope_is_not_found(matrix, api_client, username):
    from renzhi.appeals import actions

    w = matrix
    actions.sign(w.erin, w.appeal_a)
    extension = actions.request_extension(w.erin, w.appeal_a, days=1, reason="等配件")
    api_client.logout()
    api_client.force_login(getattr(w, username))
    response = api_client.post_json(
        f"/api/appeals/{w.appeal_a.tracking_no}/extensions/{extension.pk}/decide", {"approve": True}
    )
    if A not in SEEN[username]:
        assert response.status_code == 404
    elif username != "dora":
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("username", USERS)
def test_the_routing_table_is_for_administrators_in_their_jurisdiction(
    matrix, api_client, username
):
    endpoint = ListEndpoint(
        "routing rules",
        "/api/appeals/config/routing-rules",
        lambda items: [r["place_code"] for r in items],
        RULES_SEEN,
    )
    check_list(api_client, matrix, endpoint, username)


@pytest.mark.parametrize("username", USERS)
def test_import_jobs_are_seen_by_their_importer_and_the_global_admin(matrix, api_client, username):
    w = matrix
    jobs = {
        name: str(
            imports.start_import(
                getattr(w, name), filename=f"{name}.xlsx", content=xlsx([row()])
            ).pk
        )
        for name in ("alice", "dora")
    }
    expect = {name: set() for name in USERS} | {
        "alice": {jobs["alice"]},
        "dora": {jobs["dora"]},
        "root": set(jobs.values()),
    }
    endpoint = ListEndpoint(
        "import jobs", "/api/appeals/import", lambda items: [str(j["id"]) for j in items], expect
    )
    check_list(api_client, w, endpoint, username)
    detail = DetailEndpoint(
        "import job", "/api/appeals/import/{key}", sorted(jobs.values()), expect
    )
    check_detail(api_client, w, detail, username)


@pytest.mark.parametrize("username", USERS)
def test_the_inbox_is_private(matrix, api_client, username):
    from renzhi.core.models import Notification

    user = getattr(matrix, username)
    mine = {str(i) for i in Notification.objects.filter(user=user).values_list("id", flat=True)}
    endpoint = ListEndpoint(
        "inbox",
        "/api/notifications/",
        lambda items: [str(n["id"]) for n in items],
        {username: mine},
    )
    check_list(api_client, matrix, endpoint, username)


def test_anonymous_reads_and_writes_nothing(matrix, api_client):
    no = matrix.appeal_a.tracking_no
    for url in [
        "/api/appeals/",
        f"/api/appeals/{no}",
        "/api/appeals/categories",
        "/api/appeals/export.xlsx",
        "/api/appeals/import/template",
        "/api/appeals/config/sla-rules",
        "/api/notifications/",
    ]:
        assert api_client.get(url).status_code == 401, url
    for url in ["/api/appeals/", f"/api/appeals/{no}/comment", "/api/appeals/import"]:
        assert api_client.post_json(url, {"note": "x"}).status_code == 401, url


@pytest.fixture
def photos(matrix, settings, tmp_path):
    """One photo on each appeal's submit step, stored as intake stores it."""
    from renzhi.appeals.attachments import store_photos, validate_photos
    from renzhi.core.tests.upload_samples import image

    settings.MEDIA_ROOT = tmp_path
    for appeal in (matrix.appeal_a, matrix.appeal_b):
        event = appeal.events.filter(verb="submit").first()
        store_photos(appeal, event, validate_photos([image()]), appeal.resident)
    return matrix


PHOTO_URLS = [
    "/appeals/{key}/photos/1/",
    "/appeals/{key}/photos/1/thumb/",
    "/api/appeals/{key}/photos/1",
    "/api/appeals/{key}/photos/1?thumbnail=true",
]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("url", PHOTO_URLS)
def test_photos_outside_the_scope_are_not_found(photos, api_client, username, url):
    endpoint = DetailEndpoint("photo", url, sorted(photos.numbers.values()), lettered(photos, SEEN))
    check_detail(api_client, photos, endpoint, username)


def test_anonymous_gets_no_photo(photos, api_client):
    for key in photos.numbers.values():
        for url in PHOTO_URLS:
            status = api_client.get(url.format(key=key)).status_code
            assert status in (302, 401), (url, status)
