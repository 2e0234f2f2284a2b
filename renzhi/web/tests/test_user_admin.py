"""Account administration pages: create, grant and revoke roles, activate, set password."""

from renzhi.core.models import Membership, User


def new_user(client, **data):
    payload = {
        "username": "hank",
        "display_name": "韩",
        "phone": "",
        "password": "Gr1dW0rker!",
        "role": "",
        "place": "",
        "unit": "",
    }
    payload.update(data)
    return client.post("/users/new/", payload)


def test_global_admin_creates_an_account_without_a_role(world, client):
    client.force_login(world.root)
    response = new_user(client)
    hank = User.objects.get(username="hank")
    assert response.status_code == 302
    assert response["Location"] == f"/users/{hank.pk}/"
    assert hank.check_password("Gr1dW0rker!")


def test_it_shows_weak_password_errors_next_to_the_field_and_creates_nothing(world, client):
    client.force_login(world.root)
    response = new_user(client, password="12345678")
    assert response.status_code == 200
    errors = response.context["form"].errors["password"]
    assert "密码必须同时包含字母和数字。" in errors
    assert not User.objects.filter(username="hank").exists()


def test_it_rejects_a_taken_username_in_chinese(world, client):
    client.force_login(world.root)
    response = new_user(client, username="alice")
    assert response.context["form"].errors["username"] == ["该用户名已被使用。"]


def test_jurisdiction_admin_must_give_a_first_role(world, client):
    client.force_login(world.adam)
    response = new_user(client)
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="hank").exists()


def test_jurisdiction_admin_creates_an_account_with_a_role_in_one_step(world, client):
    client.force_login(world.adam)
    response = new_user(client, role="grid_worker", place=world.grid_a1.code)
    hank = User.objects.get(username="hank")
    assert response["Location"] == f"/users/{hank.pk}/"
    assert Membership.objects.filter(user=hank, role="grid_worker", place=world.grid_a1).exists()


def test_a_refused_first_role_rolls_back_the_new_account(world, client):
    client.force_login(world.adam)
    response = new_user(client, role="grid_worker", place=world.community_a.code)
    assert "网格" in response.context["form"].errors["place"][0]
    assert not User.objects.filter(username="hank").exists()


def test_places_outside_the_jurisdiction_are_not_offered(world, client):
    client.force_login(world.adam)
    response = client.post(
        f"/users/{world.alice.pk}/roles/",
        {"role": "community_staff", "place": world.community_b.code},
    )
    assert "place" in response.context["role_form"].errors
    assert not Membership.objects.filter(user=world.alice, place=world.community_b).exists()


def test_admin_grants_a_role(world, client):
    client.force_login(world.root)
    response = client.post(
        f"/users/{world.charlie.pk}/roles/", {"role": "volunteer", "place": world.community_a.code}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=world.charlie, role="volunteer").exists()


def test_grant_errors_land_on_the_named_field(world, client):
    client.force_login(world.root)
    response = client.post(f"/users/{world.alice.pk}/roles/", {"role": "unit_handler"})
    assert response.context["role_form"].errors["unit"] == ["承办单位人员必须隶属于某个承办单位。"]
    response = client.post(
        f"/users/{world.alice.pk}/roles/",
        {"role": "community_staff", "place": world.community_a.code},
    )
    assert response.context["role_form"].errors["role"] == ["该用户在此已拥有该角色。"]


def test_admin_revokes_a_role(world, client):
    client.force_login(world.root)
    membership = world.alice.memberships.get()
    response = client.post(f"/users/{world.alice.pk}/roles/{membership.pk}/revoke/")
    assert response.status_code == 302
    assert not world.alice.memberships.exists()


def test_revoking_the_last_role_in_a_jurisdiction_returns_to_the_list(world, client):
    client.force_login(world.adam)
    membership = world.gina.memberships.get()
    response = client.post(f"/users/{world.gina.pk}/roles/{membership.pk}/revoke/")
    assert response["Location"] == "/users/"


def test_an_admin_cannot_revoke_their_own_admin_role(world, client):
    client.force_login(world.root)
    membership = world.root.memberships.get()
    response = client.post(f"/users/{world.root.pk}/roles/{membership.pk}/revoke/", follow=True)
    assert "不能撤销您自己的管理员角色。" in response.content.decode()
    assert world.root.memberships.exists()


def test_admin_deactivates_and_activates_an_account(world, client):
    client.force_login(world.root)
    client.post(f"/users/{world.alice.pk}/active/", {"active": "0"})
    world.alice.refresh_from_db()
    assert not world.alice.is_active
    client.post(f"/users/{world.alice.pk}/active/", {"active": "1"})
    world.alice.refresh_from_db()
    assert world.alice.is_active


def test_an_admin_cannot_deactivate_themselves(world, client):
    client.force_login(world.root)
    response = client.post(f"/users/{world.root.pk}/active/", {"active": "0"}, follow=True)
    assert "不能停用您自己的账号。" in response.content.decode()
    world.root.refresh_from_db()
    assert world.root.is_active


def test_admin_sets_a_password(world, client):
    client.force_login(world.root)
    response = client.post(f"/users/{world.alice.pk}/password/", {"password": "N3wPassw0rd!"})
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.check_password("N3wPassw0rd!")


def test_a_weak_new_password_is_refused_next_to_the_field(world, client):
    client.force_login(world.root)
    response = client.post(f"/users/{world.alice.pk}/password/", {"password": "abc"})
    assert response.context["password_form"].errors["password"]
    world.alice.refresh_from_db()
    assert world.alice.check_password(world.password)


def test_changes_to_accounts_outside_the_jurisdiction_are_404(world, client):
    client.force_login(world.adam)
    assert client.post(f"/users/{world.bob.pk}/active/", {"active": "0"}).status_code == 404
    assert (
        client.post(f"/users/{world.bob.pk}/password/", {"password": "N3wPassw0rd!"}).status_code
        == 404
    )
    world.bob.refresh_from_db()
    assert world.bob.is_active


def test_account_changes_need_post(world, client):
    client.force_login(world.root)
    assert client.get(f"/users/{world.alice.pk}/active/").status_code == 405
