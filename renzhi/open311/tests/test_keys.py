"""Partner keys: hashed storage, per-key rate limit, revocation, and the admin pages."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client

from renzhi.appeals.models import Appeal
from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import AuditEvent
from renzhi.open311 import actions, keys
from renzhi.open311.models import PartnerKey, RateWindow, ServiceAttribute
from renzhi.open311.tests.conftest import lift_request
from renzhi.open311.tests.test_post_requests import errors_of


def test_only_the_hash_of_a_key_is_stored(o311):
    assert o311.raw_key not in json.dumps(list(PartnerKey.objects.values()), default=str)
    assert o311.key.key_hash == hashlib.sha256(o311.raw_key.encode()).hexdigest()
    assert not o311.key.user.is_active and not o311.key.user.has_usable_password()
    assert not o311.key.user.memberships.exists()
    audit = AuditEvent.objects.get(verb="open311.key_issue")
    assert o311.raw_key not in json.dumps(audit.after)


def test_the_rate_limit_refuses_the_request_over_the_limit(o311, o311_client):
    key, raw = actions.issue_key(o311.root, name="慢速伙伴", rate_limit=2)
    assert o311_client.post("json", lift_request(o311, api_key=raw)).status_code == 200
    assert o311_client.post("json", lift_request(o311, api_key=raw)).status_code == 200
    before = Appeal.objects.count()
    response = o311_client.post("xml", lift_request(o311, api_key=raw))
    assert response.status_code == 400
    assert int(response["Retry-After"]) in range(1, 61)
    [error] = errors_of(response)
    assert error["code"] == 429 and "2 per minute" in error["description"]
    assert Appeal.objects.count() == before
    assert AuditEvent.objects.filter(verb="open311.refused", actor=key.user).count() == 1
    # Other keys have their own budget.
    assert o311_client.post("json", lift_request(o311)).status_code == 200


def test_the_rate_window_resets_each_minute(o311):
    import datetime as dt

    key, _raw = actions.issue_key(o311.root, name="p", rate_limit=1)
    t0 = dt.datetime(2026, 3, 2, 2, 0, 10, tzinfo=dt.UTC)
    assert keys.take(key, t0)[0] is True
    assert keys.take(key, t0 + dt.timedelta(seconds=30))[0] is False
    assert keys.take(key, t0 + dt.timedelta(seconds=55))[0] is True
    assert RateWindow.objects.filter(key=key).count() == 2


def test_a_revoked_key_is_refused_from_then_on(o311, o311_client):
    assert o311_client.post("json", lift_request(o311)).status_code == 200
    actions.revoke_key(o311.root, o311.key)
    assert o311_client.post("json", lift_request(o311)).status_code == 403
    with pytest.raises(ActionError):
        actions.revoke_key(o311.root, o311.key)


def test_a_street_admin_issues_keys_only_inside_the_street(o311):
    key, _raw = actions.issue_key(o311.adam, name="甲街道App", place=o311.street_a)
    assert key.place == o311.street_a
    with pytest.raises(ActionError) as refused:
        actions.issue_key(o311.adam, name="乙", place=o311.street_b)
    assert refused.value.errors[0].field == "place"
    with pytest.raises(ActionError) as refused:
        actions.issue_key(o311.adam, name="全区")
    assert refused.value.errors[0].field == "place"
    with pytest.raises(PermissionRefused):
        actions.issue_key(o311.dora, name="x", place=o311.street_a)
    global_key, _raw = actions.issue_key(o311.root, name="bob's key", place=o311.street_b)
    with pytest.raises(PermissionRefused):
        actions.revoke_key(o311.adam, global_key)


def test_bad_key_input_names_the_field_and_creates_nothing(o311):
    before = PartnerKey.objects.count()
    with pytest.raises(ActionError) as refused:
        actions.issue_key(o311.root, name=" ", rate_limit=0)
    assert {e.field for e in refused.value.errors} == {"name", "rate_limit"}
    assert PartnerKey.objects.count() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"code": "a b"}, "code"),
        ({"code": "building"}, "code"),
        ({"description": ""}, "description"),
        ({"datatype": "blob"}, "datatype"),
        ({"order": 1}, "order"),
        ({"datatype": "singlevaluelist", "values": []}, "values"),
        ({"datatype": "singlevaluelist", "values": [{"key": "1", "name": ""}]}, "values"),
        (
            {"datatype": "multivaluelist", "values": [{"key": "1", "name": "a"}] * 2},
            "values",
        ),
    ],
)
def test_bad_attribute_definitions_are_refused(o311, fields, field):
    defaults = {"code": "new", "description": "新问题", "datatype": "string"}
    before = ServiceAttribute.objects.count()
    with pytest.raises(ActionError) as refused:
        actions.save_attribute(
            o311.root, o311.cat_lift, actions.AttributeFields(**{**defaults, **fields})
        )
    assert field in {e.field for e in refused.value.errors}
    assert ServiceAttribute.objects.count() == before


def test_only_a_global_admin_defines_attributes(o311):
    with pytest.raises(PermissionRefused):
        actions.save_attribute(
            o311.adam,
            o311.cat_lift,
            actions.AttributeFields(code="x", description="x", datatype="string"),
        )


# --- Admin pages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "keys_page", "attributes_page"),
    [
        ("root", 200, 200),
        ("adam", 200, 403),
        ("dora", 403, 403),
        ("alice", 403, 403),
        ("charlie", 403, 403),
        ("erin", 403, 403),
    ],
)
def test_who_may_open_the_admin_pages(o311, username, keys_page, attributes_page):
    client = Client()
    client.force_login(getattr(o311, username))
    assert client.get("/open311/keys/").status_code == keys_page
    # The global key is outside a street admin's keys: 404, not a hint that it exists.
    detail = client.get(f"/open311/keys/{o311.key.pk}/").status_code
    assert detail == (200 if username == "root" else 404 if keys_page == 200 else 403)
    assert client.get("/open311/attributes/").status_code == attributes_page
    assert client.get("/open311/attributes/0801/").status_code == attributes_page


def test_anonymous_visitors_are_sent_to_log_in(o311):
    response = Client().get("/open311/keys/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_admin_issues_a_key_on_the_page_and_sees_it_once(o311):
    client = Client()
    client.force_login(o311.adam)
    response = client.post(
        "/open311/keys/",
        {"name": "甲街道便民App", "place": o311.street_a.pk, "rate_limit": 30},
        follow=True,
    )
    # Post/redirect/get: reloading the page shows the list, it cannot issue a second key.
    assert response.redirect_chain == [("/open311/keys/", 302)]
    raw = response.context["new_key"]
    assert raw.startswith("o311_") and raw in response.content.decode()
    key = PartnerKey.objects.get(name="甲街道便民App")
    assert key.place == o311.street_a and key.rate_limit == 30
    again = client.get("/open311/keys/")
    assert PartnerKey.objects.filter(name="甲街道便民App").count() == 1
    assert raw not in again.content.decode()
    assert "甲街道便民App" in again.content.decode()
    # The street admin does not see the global key.
    assert f"/open311/keys/{o311.key.pk}/" not in again.content.decode()


def test_the_key_page_lists_the_requests_it_filed_and_revokes(o311, o311_client):
    response = o311_client.post("json", lift_request(o311))
    public_id = json.loads(response.content)[0]["service_request_id"]
    tracking_no = Appeal.objects.get(public_id=public_id).tracking_no
    client = Client()
    client.force_login(o311.root)
    page = client.get(f"/open311/keys/{o311.key.pk}/").content.decode()
    assert tracking_no in page
    response = client.post(f"/open311/keys/{o311.key.pk}/revoke/")
    assert response.status_code == 302
    o311.key.refresh_from_db()
    assert o311.key.revoked_at is not None


def test_an_admin_adds_edits_and_deletes_a_question_on_the_page(o311):
    client = Client()
    client.force_login(o311.root)
    response = client.post(
        "/open311/attributes/0501/",
        {"code": "pole", "description": "灯杆编号", "datatype": "string", "variable": "on"},
    )
    assert response.status_code == 302
    attribute = ServiceAttribute.objects.get(category=o311.cat_lamp, code="pole")
    assert attribute.order == 1 and attribute.variable
    response = client.post(
        f"/open311/attributes/0501/{attribute.pk}/",
        {
            "code": "pole",
            "description": "灯杆是否倒伏",
            "datatype": "singlevaluelist",
            "values": "1=是\n0=否",
            "required": "on",
            "variable": "on",
        },
    )
    assert response.status_code == 302
    attribute.refresh_from_db()
    assert attribute.values == [{"key": "1", "name": "是"}, {"key": "0", "name": "否"}]
    assert attribute.required
    bad = client.post(
        "/open311/attributes/0501/",
        {"code": "pole", "description": "重复", "datatype": "string"},
    )
    assert bad.status_code == 200 and bad.context["form"].errors["code"]
    client.post(f"/open311/attributes/0501/{attribute.pk}/delete/")
    assert not ServiceAttribute.objects.filter(pk=attribute.pk).exists()
    assert AuditEvent.objects.filter(verb="open311.attribute_delete").count() == 1
