"""Sign-in lockout (issue 14 #5): before, 20 wrong passwords and then the right one signed in.

Five failures (AXES_FAILURE_LIMIT) lock the username and the address for 15 minutes
(AXES_COOLOFF_TIME); the right password is then refused with a localised message; an
administrator's unlock is audited and lets the user in again.
"""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from renzhi.core import actions
from renzhi.core.errors import PermissionRefused
from renzhi.core.models import AuditEvent, Membership, Role

LOCKED_TEXT = "登录已锁定"
OTHER_IP = "10.9.8.7"


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def fail_until_locked(client: Client, username: str = "alice", **extra) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, username, "wrong-Passw0rd", **extra)


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_twenty_wrong_passwords_then_the_right_one_is_refused(world, client):
    for _ in range(20):
        sign_in(client, "alice", "wrong-Passw0rd")

    response = sign_in(client, "alice", world.password)

    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()
    assert not signed_in(client)


def test_the_lockout_starts_at_the_configured_limit(world, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "wrong-Passw0rd")
    assert sign_in(client, "alice", world.password).status_code == 302

    client.post("/logout/")
    sign_in(client, "alice", "wrong-Passw0rd")
    assert sign_in(client, "alice", world.password).status_code == 429


def test_the_locked_username_is_refused_from_another_address(world, client):
    fail_until_locked(client)

    response = sign_in(Client(), "alice", world.password, REMOTE_ADDR=OTHER_IP)

    assert response.status_code == 429


def test_the_locked_address_refuses_another_account(world, client):
    fail_until_locked(client)

    assert sign_in(Client(), "bob", world.password).status_code == 429
    assert sign_in(Client(), "bob", world.password, REMOTE_ADDR=OTHER_IP).status_code == 302


def test_the_lock_ends_after_the_cool_off(world, client):
    fail_until_locked(client)
    # Time travel: the failures happened a cool-off and a minute ago.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time
        - settings.AXES_COOLOFF_TIME
        - dt.timedelta(minutes=1)
    )

    assert sign_in(client, "alice", world.password).status_code == 302


def test_failed_sign_ins_are_still_audited(world, client):
    fail_until_locked(client)

    failed = AuditEvent.objects.filter(verb="auth.login_failed")
    assert failed.count() == settings.AXES_FAILURE_LIMIT


def test_an_admin_unlock_is_audited_and_the_user_signs_in_again(world, client):
    fail_until_locked(client)
    admin = Client(REMOTE_ADDR=OTHER_IP)
    admin.force_login(world.adam)

    page = admin.get(f"/users/{world.alice.id}/").content.decode()
    assert "解除登录锁定" in page
    response = admin.post(f"/users/{world.alice.id}/unlock/")

    assert response.status_code == 302
    event = AuditEvent.objects.get(verb="auth.unlock")
    assert event.actor_id == world.adam.id and event.object_id == str(world.alice.id)
    assert sign_in(client, "alice", world.password).status_code == 302


def test_the_api_unlocks_an_account(world, client, api_client):
    fail_until_locked(client)

    response = api_client.as_user(world.root).post_json(f"/api/users/{world.alice.id}/unlock")

    assert response.status_code == 200
    assert response.json()["cleared"] >= 1
    assert AuditEvent.objects.filter(verb="auth.unlock").count() == 1
    assert sign_in(client, "alice", world.password).status_code == 302


def test_a_street_admin_cannot_unlock_an_account_outside_it(world):
    Membership.objects.create(user=world.frank, role=Role.VOLUNTEER, place=world.community_a)

    with pytest.raises(PermissionRefused):
        actions.unlock_sign_in(world.adam, user=world.frank)

    assert not AuditEvent.objects.filter(verb="auth.unlock").exists()


def test_only_a_global_admin_unlocks_an_address(world, client, api_client):
    fail_until_locked(client, username="nobody")

    refused = api_client.as_user(world.adam).post_json(
        "/api/auth/unlock-address", {"ip": "127.0.0.1"}
    )
    assert refused.status_code == 403
    assert sign_in(Client(), "bob", world.password).status_code == 429

    response = Client()
    response.force_login(world.root)
    answer = response.post(
        "/api/auth/unlock-address", {"ip": "127.0.0.1"}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert sign_in(Client(), "bob", world.password).status_code == 302


def test_a_malformed_address_is_refused_with_the_field_named(world, api_client):
    response = api_client.as_user(world.root).post_json(
        "/api/auth/unlock-address", {"ip": "not-an-ip"}
    )

    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "ip"


def test_wrong_api_tokens_lock_the_address(world):
    _token, key = actions.issue_api_token(world.alice, "巡查终端")
    guesser = Client()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = guesser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer rz_guess{n}")
        assert response.status_code == 401
    last_guess = guesser.get("/api/me", HTTP_AUTHORIZATION="Bearer rz_guess-last")
    assert last_guess.status_code == 429

    response = guesser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 429
    assert response.json()["detail"][0]["code"] == "rate_limited"
    elsewhere = Client(REMOTE_ADDR=OTHER_IP).get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert elsewhere.status_code == 200


def test_the_django_admin_login_is_locked_too(world):
    admin = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin.post("/django-admin/login/", {"username": "root", "password": "wrong-Passw0rd"})

    response = admin.post("/django-admin/login/", {"username": "root", "password": world.password})

    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()
