"""API tokens: issued once, stored only as a SHA-256, accepted as Bearer or X-API-Key, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from renzhi.core import actions
from renzhi.core.models import ApiToken, AuditEvent, User


def issue(api_client, user, name="12345 热线对接") -> dict:
    response = api_client.as_user(user).post_json("/api/tokens", {"name": name})
    assert response.status_code == 201, response.content
    return response.json()


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_token_key_is_shown_once_and_only_its_sha256_is_stored(world, api_client):
    body = issue(api_client, world.alice)

    key = body["key"]
    assert key.startswith("rz_") and len(key) > 40
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:10] == body["prefix"]
    stored = [str(v) for v in ApiToken.objects.values().get(pk=token.pk).values()]
    assert not any(key in value for value in stored)
    listed = api_client.get("/api/tokens").json()
    assert [t["id"] for t in listed] == [token.pk]
    assert "key" not in listed[0]
    event = AuditEvent.objects.get(verb="token.issue")
    assert key not in str(event.after) and key not in event.object_label


def test_two_tokens_have_different_keys(world, api_client):
    first = issue(api_client, world.alice, "a")["key"]
    second = issue(api_client, world.alice, "b")["key"]
    assert first != second


def test_a_token_works_as_a_bearer_header(world, api_client):
    key = issue(api_client, world.alice)["key"]

    response = Client().get("/api/me", **bearer(key))

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_token_works_as_an_x_api_key_header(world, api_client):
    key = issue(api_client, world.alice)["key"]

    response = Client().get("/api/me", HTTP_X_API_KEY=key)

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_a_token_can_post_without_a_csrf_token(world, api_client):
    key = issue(api_client, world.root)["key"]
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/calendar/overrides",
        {"date": "2027-02-06", "is_working_day": True},
        content_type="application/json",
        **bearer(key),
    )

    assert response.status_code == 201


def test_a_token_sees_only_its_owners_jurisdiction(world, api_client):
    key = issue(api_client, world.alice)["key"]

    codes = {p["code"] for p in Client().get("/api/places", **bearer(key)).json()["items"]}

    assert "110105001001" in codes
    assert "110105002001" not in codes


def test_last_used_at_is_set_when_the_token_is_used(world, api_client):
    body = issue(api_client, world.alice)
    assert body["last_used_at"] is None
    before = timezone.now()

    Client().get("/api/me", **bearer(body["key"]))

    used = ApiToken.objects.get(pk=body["id"]).last_used_at
    assert used is not None and before <= used <= timezone.now()


def test_last_used_at_moves_on_after_a_minute(world, api_client):
    body = issue(api_client, world.alice)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    ApiToken.objects.filter(pk=body["id"]).update(last_used_at=long_ago)

    Client().get("/api/me", **bearer(body["key"]))

    assert ApiToken.objects.get(pk=body["id"]).last_used_at > long_ago


def test_a_revoked_token_is_refused_with_401(world, api_client):
    body = issue(api_client, world.alice)

    response = api_client.delete(f"/api/tokens/{body['id']}")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None

    assert Client().get("/api/me", **bearer(body["key"])).status_code == 401
    assert Client().get("/api/me", HTTP_X_API_KEY=body["key"]).status_code == 401
    assert AuditEvent.objects.filter(verb="token.revoke").count() == 1


def test_revoking_twice_is_refused(world, api_client):
    body = issue(api_client, world.alice)
    api_client.delete(f"/api/tokens/{body['id']}")

    response = api_client.delete(f"/api/tokens/{body['id']}")

    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "token"


def test_someone_elses_token_cannot_be_revoked_through_the_api(world, api_client):
    body = issue(api_client, world.alice)

    response = api_client.as_user(world.bob).delete(f"/api/tokens/{body['id']}")

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is None


def test_a_deactivated_users_token_is_refused_with_401(world, api_client):
    key = issue(api_client, world.alice)["key"]
    User.objects.filter(pk=world.alice.pk).update(is_active=False)  # even without revoking

    assert Client().get("/api/me", **bearer(key)).status_code == 401


def test_deactivating_a_user_through_the_api_revokes_their_tokens(world, api_client):
    body = issue(api_client, world.alice)

    response = api_client.as_user(world.root).post_json(
        f"/api/users/{world.alice.id}/active", {"active": False}
    )

    assert response.status_code == 200
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None
    world.alice.is_active = True
    world.alice.save()
    assert Client().get("/api/me", **bearer(body["key"])).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer rz_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Token rz_not-a-real-token"},
        {"HTTP_X_API_KEY": "rz_not-a-real-token"},
        {"HTTP_X_API_KEY": ""},
    ],
    ids=["unknown", "empty", "wrong-scheme", "unknown-x-api-key", "empty-x-api-key"],
)
def test_a_wrong_token_is_refused_with_401(world, api_client, headers):
    issue(api_client, world.alice)

    response = Client().get("/api/me", **headers)

    assert response.status_code == 401
    assert response.json()["detail"][0]["code"] == "unauthenticated"


def test_a_token_with_one_character_changed_is_refused(world, api_client):
    key = issue(api_client, world.alice)["key"]
    changed = key[:-1] + ("A" if key[-1] != "A" else "B")

    assert Client().get("/api/me", **bearer(changed)).status_code == 401


def test_a_bad_token_on_a_post_is_a_401_not_a_csrf_failure(world):
    """A system without a session must hear "unauthenticated", not "CSRF failed"."""
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/tokens", {"name": "x"}, content_type="application/json", **bearer("rz_wrong")
    )

    assert response.status_code == 401


def test_a_resident_cannot_issue_a_token(world, api_client):
    response = api_client.as_user(world.charlie).post_json("/api/tokens", {"name": "我的脚本"})

    assert response.status_code == 403
    assert response.json()["detail"][0]["code"] == "forbidden"
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(world, api_client):
    response = api_client.as_user(world.alice).post_json("/api/tokens", {"name": "  "})

    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "name"
    assert not ApiToken.objects.exists()


def test_a_token_cannot_be_used_to_issue_itself_a_sibling_after_revocation(world, api_client):
    token, key = actions.issue_api_token(world.alice, "自动化")
    actions.revoke_api_token(world.alice, token)

    response = Client().post(
        "/api/tokens", {"name": "再来一个"}, content_type="application/json", **bearer(key)
    )

    assert response.status_code == 401
    assert ApiToken.objects.count() == 1
