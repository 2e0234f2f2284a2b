"""My API tokens page."""

from renzhi.core.models import ApiToken


def test_a_new_token_key_is_shown_once(world, client):
    client.force_login(world.alice)
    response = client.post("/tokens/", {"name": "12345 热线"})
    key = response.context["new_key"]
    assert key.startswith("rz_") and key in response.content.decode()
    token = ApiToken.objects.get(user=world.alice)
    assert token.key_hash != key
    assert key not in client.get("/tokens/").content.decode()
    assert "12345 热线" in client.get("/tokens/").content.decode()


def test_the_issued_key_works_against_the_api(world, client):
    client.force_login(world.alice)
    key = client.post("/tokens/", {"name": "probe"}).context["new_key"]
    client.logout()
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_a_token_needs_a_name(world, client):
    client.force_login(world.alice)
    response = client.post("/tokens/", {"name": "  "})
    assert response.context["form"].errors["name"] == ["请为令牌命名（例如使用它的系统）。"]
    assert not ApiToken.objects.exists()


def test_revoking_my_token(world, client):
    client.force_login(world.alice)
    client.post("/tokens/", {"name": "probe"})
    token = ApiToken.objects.get()
    client.post(f"/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token_here(world, client):
    client.force_login(world.alice)
    client.post("/tokens/", {"name": "probe"})
    token = ApiToken.objects.get()
    client.force_login(world.root)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
