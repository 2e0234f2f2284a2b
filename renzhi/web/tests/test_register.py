"""Resident self-registration (two steps: a texted code proves the phone) and sign-in pages.

Issue 14 #6: registration needed no proof of the number, had no rate limit, and answered
"该手机号码已注册" to anyone asking about a number.
"""

from __future__ import annotations

import logging
import re

import pytest

from renzhi.core import phone_codes
from renzhi.core.models import AuditEvent, Membership, PhoneCode, User
from renzhi.core.notify import Sender

PHONE = "13912345678"
SENT = "如果该号码可以注册"


class Outbox(Sender):
    """Records the texts instead of logging them."""

    texts: list[tuple[str, str]] = []

    def send(self, user, message) -> None:
        Outbox.texts.append((user.phone, message.title))


@pytest.fixture
def texts(settings):
    settings.RENZHI_SMS_SENDER = "renzhi.web.tests.test_register.Outbox"
    Outbox.texts = []
    return Outbox.texts


def ask_code(client, django_capture_on_commit_callbacks, phone=PHONE, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/register/", {"phone": phone}, **extra)


def code_in(texts, phone=PHONE) -> str:
    found = re.search(r"\d{6}", [t for p, t in texts if p == phone][-1])
    assert found is not None, texts
    return found.group()


def confirm(client, extra=None, **data):
    payload = {
        "display_name": "张三",
        "home_place": "110105001001",
        "password": "Zhang3Mima!",
        "password_again": "Zhang3Mima!",
    }
    payload.update(data)
    return client.post("/register/confirm/", payload, **(extra or {}))


def test_a_resident_registers_with_the_texted_code_and_is_signed_in(
    world, client, texts, django_capture_on_commit_callbacks
):
    response = ask_code(client, django_capture_on_commit_callbacks)
    assert response["Location"] == "/register/confirm/"

    response = confirm(client, code=code_in(texts))

    assert response["Location"] == "/"
    user = User.objects.get(username=PHONE)
    assert user.home_place == world.community_a
    assert Membership.objects.filter(user=user, role="resident").exists()
    assert client.get("/").context["user"] == user


def test_only_a_keyed_hash_of_the_code_is_stored(
    world, client, texts, django_capture_on_commit_callbacks
):
    ask_code(client, django_capture_on_commit_callbacks)
    code = code_in(texts)

    row = PhoneCode.objects.get(phone=PHONE)
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert (row.expires_at - row.created_at).total_seconds() == 600


def test_the_logging_sender_shows_the_code_in_development(
    world, client, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO, logger="renzhi.notify"):
        ask_code(client, django_capture_on_commit_callbacks)

    assert re.search(r"SMS stub to 139\*\*\*\*5678: .*\d{6}", caplog.text)


def test_registration_without_the_code_creates_nothing(world, client, texts):
    client.post("/register/", {"phone": PHONE})

    response = confirm(client, code="000000")

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not User.objects.filter(username=PHONE).exists()


def test_step_two_without_step_one_goes_back_to_step_one(world, client):
    response = confirm(client, code="123456")

    assert response["Location"] == "/register/"
    assert not User.objects.filter(username=PHONE).exists()


def test_five_wrong_codes_use_the_code_up(world, client, texts, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks)
    right = code_in(texts)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        confirm(client, code=wrong)

    response = confirm(client, {"REMOTE_ADDR": "10.0.0.9"}, code=right)

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not User.objects.filter(username=PHONE).exists()


def test_wrong_codes_lock_the_address_like_wrong_passwords(
    world, client, texts, django_capture_on_commit_callbacks
):
    ask_code(client, django_capture_on_commit_callbacks)
    for _ in range(5):
        confirm(client, code="000000")

    response = client.post("/register/", {"phone": "13912345600"})

    assert response.status_code == 429
    assert "登录已锁定" in response.content.decode()
    assert PhoneCode.objects.count() == 1


def test_an_expired_code_is_refused(world, client, texts, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks)
    row = PhoneCode.objects.get(phone=PHONE)
    PhoneCode.objects.filter(pk=row.pk).update(expires_at=row.created_at)  # ten minutes on

    response = confirm(client, code=code_in(texts))

    assert response.context["form"].errors["code"]
    assert not User.objects.filter(username=PHONE).exists()


def test_a_code_works_once(world, client, texts, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks)
    code = code_in(texts)

    assert phone_codes.redeem(PHONE, code)
    assert not phone_codes.redeem(PHONE, code)


def test_a_registered_number_gets_the_same_answer_and_a_notice_instead_of_a_code(
    world, client, texts, django_capture_on_commit_callbacks
):
    fresh = ask_code(client, django_capture_on_commit_callbacks, phone=PHONE)
    taken = ask_code(client, django_capture_on_commit_callbacks, phone="13800000001")

    assert fresh.status_code == taken.status_code == 302
    assert fresh["Location"] == taken["Location"]
    shown = client.get("/register/confirm/").content.decode()
    assert "已注册" not in shown
    notice = [t for p, t in texts if p == "13800000001"][-1]
    assert "已注册" in notice and not re.search(r"\d{6}", notice)


def test_a_registered_number_cannot_be_registered_again(world, client, texts):
    client.post("/register/", {"phone": "13800000001"})

    response = confirm(client, code="123456")

    assert "该手机号码已注册" not in response.content.decode()
    assert User.objects.get(phone="13800000001") == world.alice
    assert User.objects.filter(phone="13800000001").count() == 1


def test_codes_are_rate_limited_per_number(world, client, texts, settings):
    settings.RENZHI_PHONE_CODE_INTERVAL_SECONDS = 0
    for n in range(settings.RENZHI_PHONE_CODES_PER_NUMBER):
        assert (
            client.post("/register/", {"phone": PHONE}, REMOTE_ADDR=f"10.0.0.{n}").status_code
            == 302
        )

    response = client.post("/register/", {"phone": PHONE}, REMOTE_ADDR="10.0.1.1")

    assert response.status_code == 200
    assert "请求验证码过于频繁" in response.context["form"].errors["phone"][0]
    assert PhoneCode.objects.count() == settings.RENZHI_PHONE_CODES_PER_NUMBER


def test_a_second_code_within_a_minute_is_refused(world, client, texts):
    client.post("/register/", {"phone": PHONE})

    response = client.post("/register/", {"phone": PHONE})

    assert response.context["form"].errors["phone"]
    assert PhoneCode.objects.count() == 1


def test_codes_are_rate_limited_per_address(world, client, texts, settings):
    settings.RENZHI_PHONE_CODES_PER_IP = 3
    for n in range(3):
        client.post("/register/", {"phone": f"1391234560{n}"})

    response = client.post("/register/", {"phone": "13912345609"})

    assert response.context["form"].errors["phone"]
    assert PhoneCode.objects.count() == 3


def test_the_limits_count_registered_numbers_alike(world, client, texts, settings):
    settings.RENZHI_PHONE_CODES_PER_IP = 2
    client.post("/register/", {"phone": "13800000001"})  # alice's
    client.post("/register/", {"phone": PHONE})

    response = client.post("/register/", {"phone": "13912345600"})

    assert response.context["form"].errors["phone"]


def test_code_requests_are_audited_with_the_number_masked(world, client, texts):
    client.post("/register/", {"phone": PHONE})

    event = AuditEvent.objects.get(verb="user.registration_code")
    assert event.object_label == "139****5678"
    assert PHONE not in str(event.after)


def test_registration_lists_communities_with_their_street(world, client):
    client.post("/register/", {"phone": PHONE})
    body = client.get("/register/confirm/").content.decode()
    assert "甲街道 · 甲一社区" in body and "乙街道 · 乙一社区" in body
    assert "甲一社区第1网格" not in body


def test_a_malformed_number_is_refused_at_step_one(world, client):
    response = client.post("/register/", {"phone": "12345"})

    assert response.context["form"].errors["phone"] == ["请输入 11 位中国大陆手机号码。"]
    assert not PhoneCode.objects.exists()


def test_registration_errors_are_per_field_and_spend_no_code_attempt(
    world, client, texts, django_capture_on_commit_callbacks
):
    ask_code(client, django_capture_on_commit_callbacks)

    response = confirm(client, code=code_in(texts), password="12345678", password_again="12345678")

    assert "密码必须同时包含字母和数字。" in response.context["form"].errors["password"]
    assert not User.objects.filter(display_name="张三").exists()
    assert PhoneCode.objects.get(phone=PHONE).attempts == 0


def test_passwords_must_match(world, client):
    client.post("/register/", {"phone": PHONE})

    response = confirm(client, code="123456", password_again="Other1Mima!")

    assert response.context["form"].errors["password_again"] == ["两次输入的密码不一致。"]


def test_login_page_signs_in_and_out(world, client):
    response = client.post("/login/", {"username": "alice", "password": world.password})
    assert response["Location"] == "/"
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_shows_a_chinese_message(world, client):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert "请输入一个正确的" in response.content.decode()


def test_the_api_registers_in_two_steps(
    world, api_client, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = api_client.post_json("/api/auth/register/code", {"phone": PHONE})
        taken = api_client.post_json("/api/auth/register/code", {"phone": "13800000002"})
    assert sent.status_code == taken.status_code == 202
    assert sent.json() == taken.json()

    wrong = api_client.post_json(
        "/api/auth/register", {"phone": PHONE, "code": "abcdef", "password": "Zhang3Mima!"}
    )
    assert wrong.status_code == 400 and wrong.json()["detail"][0]["field"] == "code"

    response = api_client.post_json(
        "/api/auth/register",
        {"phone": PHONE, "code": code_in(texts), "password": "Zhang3Mima!"},
    )
    assert response.status_code == 201
    assert response.json()["username"] == PHONE


def test_the_api_refuses_registration_without_a_code(world, api_client):
    response = api_client.post_json(
        "/api/auth/register", {"phone": PHONE, "password": "Zhang3Mima!"}
    )

    assert response.status_code in (400, 422)
    assert not User.objects.filter(username=PHONE).exists()
