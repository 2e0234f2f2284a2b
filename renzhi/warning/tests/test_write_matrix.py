"""The write half of the permission matrix for warnings (issue 23 acceptance).

Every named user tries every state-changing warning endpoint on a warning of community A
(drafted by alice) and one of community B (drafted by bob), each try in a rolled-back
savepoint. Expectations are written by hand from the rules: staff of a covering place draft,
edit, submit and publish; a leader covering the area approves, rejects, updates and cancels a
live warning; nobody approves what they drafted, edited or submitted.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from renzhi.warning import actions

from .conftest import draft_input

pytestmark = pytest.mark.django_db

USERS = [
    "alice",
    "bob",
    "charlie",
    "ivy",
    "dora",
    "erin",
    "gina",
    "frank",
    "adam",
    "root",
    "leo",
    "vera",
    "sam",
]
STAFF_A = {"alice", "dora", "leo", "frank", "adam", "root"}
STAFF_B = {"bob", "frank", "root"}

# verb: (method, stage the warning is at, body, allowed in A, allowed in B)
TABLE = {
    "create": ("post", None, None, STAFF_A, STAFF_B),
    "edit": ("patch", "draft", {"headline": "改后的标题"}, STAFF_A, STAFF_B),
    "submit": ("post", "draft", {}, STAFF_A, STAFF_B),
    "approve": ("post", "submitted", {}, {"leo", "frank"}, {"frank"}),
    "reject": ("post", "submitted", {"reason": "请补充范围"}, {"leo", "frank"}, {"frank"}),
    "publish": ("post", "approved", {}, STAFF_A, STAFF_B),
    "update": (
        "post",
        "published",
        {"headline": "更新", "note": "范围不变"},
        {"leo", "frank"},
        {"frank"},
    ),
    "cancel": ("post", "published", {"reason": "已解除"}, {"leo", "frank"}, {"frank"}),
}


def _at(world, stage: str, side: str):
    staff, leader, place = (
        (world.alice, world.leo, world.community_a)
        if side == "A"
        else (world.bob, world.frank, world.community_b)
    )
    warning = actions.create_warning(staff, draft_input(4, [place.code]))
    if stage == "draft":
        return warning
    actions.submit(staff, warning.pk)
    if stage == "submitted":
        return warning
    actions.approve(leader, warning.pk)
    if stage == "approved":
        return warning
    return actions.publish(staff, warning.pk)


def test_no_user_may_change_a_warning_the_table_does_not_allow(world, api_client):
    unexpected_allows, unexpected_refusals = [], []
    for verb, (method, stage, body, allowed_a, allowed_b) in TABLE.items():
        for side, allowed in (("A", allowed_a), ("B", allowed_b)):
            place = world.community_a if side == "A" else world.community_b
            if stage is None:
                url, payload = (
                    "/api/warnings/",
                    {
                        "level": 4,
                        "headline": "供水异常",
                        "area_codes": [place.code],
                    },
                )
            else:
                warning = _at(world, stage, side)
                url = f"/api/warnings/{warning.pk}" + ("" if verb == "edit" else f"/{verb}")
                payload = body
            for username in USERS:
                with transaction.atomic():
                    api_client.force_login(getattr(world, username))
                    send = api_client.patch_json if method == "patch" else api_client.post_json
                    response = send(url, payload)
                    transaction.set_rollback(True)
                done = response.status_code in (200, 201)
                if done and username not in allowed:
                    unexpected_allows.append((verb, side, username))
                if not done and username in allowed:
                    unexpected_refusals.append((verb, side, username, response.status_code))
    assert unexpected_allows == []
    assert unexpected_refusals == []


def test_the_drafter_editor_and_submitter_are_refused_approval_in_the_api(world, api_client):
    warning = _at(world, "draft", "A")
    api_client.force_login(world.leo)
    assert api_client.patch_json(f"/api/warnings/{warning.pk}", {"level": 3}).status_code == 200
    api_client.force_login(world.dora)
    assert api_client.post_json(f"/api/warnings/{warning.pk}/submit").status_code == 200
    for user in (world.alice, world.leo, world.dora):
        api_client.force_login(user)
        assert api_client.post_json(f"/api/warnings/{warning.pk}/approve").status_code == 403
    api_client.force_login(world.frank)
    assert api_client.post_json(f"/api/warnings/{warning.pk}/approve").status_code == 200
