"""Resident self-registration and sign-in pages."""

from renzhi.core.models import Membership, User


def register(client, **data):
    payload = {
        "phone": "13912345678",
        "display_name": "张三",
        "home_place": "110105001001",
        "password": "Zhang3Mima!",
        "password_again": "Zhang3Mima!",
    }
    payload.update(data)
    return client.post("/register/", payload)


def test_a_resident_registers_and_is_signed_in(world, client):
    response = register(client)
    assert response["Location"] == "/"
    user = User.objects.get(username="13912345678")
    assert user.home_place == world.community_a
    assert Membership.objects.filter(user=user, role="resident").exists()
    assert client.get("/").context["user"] == user


def test_registration_lists_communities_with_their_street(world, client):
    body = client.get("/register/").content.decode()
    assert "甲街道 · 甲一社区" in body and "乙街道 · 乙一社区" in body
    assert "甲一社区第1网格" not in body


def test_registration_errors_are_per_field_and_change_nothing(world, client):
    response = register(client, phone="12345", password="12345678", password_again="12345678")
    errors = response.context["form"].errors
    assert errors["phone"] == ["请输入 11 位中国大陆手机号码。"]
    assert "密码必须同时包含字母和数字。" in errors["password"]
    assert not User.objects.filter(display_name="张三").exists()


def test_a_registered_phone_cannot_register_again(world, client):
    response = register(client, phone="13800000001")
    assert response.context["form"].errors["phone"] == ["该手机号码已注册。"]


def test_passwords_must_match(world, client):
    response = register(client, password_again="Other1Mima!")
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
