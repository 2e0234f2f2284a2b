"""Browser sessions against the API (CSRF, deactivation) and the privacy of phone numbers."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client

from renzhi.core.models import CalendarOverride, User
from renzhi.core.privacy import mask_id_number, mask_phone
from renzhi.core.tests.codes import live_code

CSRF_SECRET = "Rz" * 16  # 32 characters from the alphabet Django's CSRF tokens use


def _override_payload() -> dict:
    return {"date": "2027-02-06", "is_working_day": True, "note": "调休"}


# --- session auth and CSRF ------------------------------------------------------------------


def test_a_session_post_without_a_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.root)

    response = client.post(
        "/api/calendar/overrides", _override_payload(), content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["detail"][0]["code"] == "forbidden"
    assert not CalendarOverride.objects.exists()


def test_a_session_post_with_a_wrong_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.root)
    client.cookies["csrftoken"] = CSRF_SECRET

    response = client.post(
        "/api/calendar/overrides",
        _override_payload(),
        content_type="application/json",
        HTTP_X_CSRFTOKEN="Xy" * 16,
    )

    assert response.status_code == 403
    assert not CalendarOverride.objects.exists()


def test_a_session_post_with_the_csrf_token_is_accepted(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.root)
    client.cookies["csrftoken"] = CSRF_SECRET

    response = client.post(
        "/api/calendar/overrides",
        _override_payload(),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=CSRF_SECRET,
    )

    assert response.status_code == 201
    assert CalendarOverride.objects.count() == 1


def test_a_session_get_needs_no_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)

    assert client.get("/api/me").status_code == 200


def test_an_anonymous_post_is_a_401_not_a_csrf_failure(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/tokens", {"name": "x"}, content_type="application/json")

    assert response.status_code == 401


def test_a_web_login_without_a_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/login/", {"username": "alice", "password": world.password})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_deactivated_users_session_stops_working(world):
    client = Client()
    client.force_login(world.alice)
    assert client.get("/api/me").status_code == 200

    User.objects.filter(pk=world.alice.pk).update(is_active=False)

    assert client.get("/api/me").status_code == 401


def test_a_logged_out_session_stops_working(world):
    client = Client()
    client.post("/login/", {"username": "alice", "password": world.password})
    assert client.get("/api/me").status_code == 200

    client.post("/logout/")

    assert client.get("/api/me").status_code == 401


def test_a_resident_logs_in_with_the_phone_number_as_username(world, api_client):
    api_client.post_json(
        "/api/auth/register",
        {
            "phone": "13900000021",
            "code": live_code("13900000021"),
            "password": "Home2026safe",
            "community_code": "110105001001",
        },
    )
    client = Client()

    assert client.login(request=HttpRequest(), username="13900000021", password="Home2026safe")
    assert client.get("/api/me").json()["roles"] == ["resident"]


# --- privacy: phone numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        (" 13812341234 ", "138****1234"),
        ("13900000011", "139****0011"),
        ("1234567", "123****4567"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone_keeps_the_first_three_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


def test_mask_phone_never_shows_the_middle_digits():
    assert "5678" not in mask_phone("13856781234")


def test_mask_id_number_keeps_only_both_ends():
    assert mask_id_number("110105199001011234") == "1101**********1234"
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number(None) == ""


def test_the_root_admin_lists_every_user_with_full_phone_numbers(world, api_client):
    response = api_client.as_user(world.root).get("/api/users", {"page_size": 100})

    assert response.status_code == 200
    users = {u["username"]: u for u in response.json()["items"]}
    assert set(users) == set(User.objects.values_list("username", flat=True))
    assert users["alice"]["phone"] == "13800000001"


def test_a_street_admin_lists_only_the_users_of_their_street(world, api_client):
    response = api_client.as_user(world.adam).get("/api/users", {"page_size": 100})

    assert response.status_code == 200
    names = {u["username"] for u in response.json()["items"]}
    assert {"alice", "charlie", "dora", "erin", "gina", "adam"} <= names
    assert not names & {"bob", "ivy"}


@pytest.mark.parametrize("who", ["charlie", "alice", "dora"])
def test_residents_and_staff_without_user_rights_cannot_list_users(world, api_client, who):
    response = api_client.as_user(getattr(world, who)).get("/api/users")

    assert response.status_code == 403
    assert "13800000001" not in response.content.decode()


def test_a_resident_cannot_read_another_users_record(world, api_client):
    response = api_client.as_user(world.charlie).get(f"/api/users/{world.alice.id}")

    assert response.status_code in (403, 404)
    assert "13800000001" not in response.content.decode()


def test_a_resident_sees_their_own_phone_number(world, api_client):
    response = api_client.as_user(world.charlie).get("/api/me")

    assert response.json()["phone"] == "13800000003"
