"""Who may manage whom (issue 23 #1): an account is managed only by an administrator whose
jurisdiction covers every one of its memberships and its home, or by a global administrator.

The attack: adam administers street A only; frank leads the whole district. Give frank a small
role (or his home) in street A and, before the fix, adam could reset frank's password and
deactivate him.
"""

from __future__ import annotations

import pytest
from django.test import Client

from renzhi.core import actions, queries
from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import ApiToken, Membership, Role, User


@pytest.fixture
def frank_in_street_a(world):
    """The district leader also volunteers in community A (a role inside adam's street)."""
    Membership.objects.create(user=world.frank, role=Role.VOLUNTEER, place=world.community_a)
    return world.frank


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_it_refuses_a_street_admin_resetting_the_password_of_a_district_leader(
    world, frank_in_street_a
):
    with pytest.raises(PermissionRefused):
        actions.set_password(world.adam, frank_in_street_a, "N3wSecret!x")

    frank = User.objects.get(pk=world.frank.pk)
    assert frank.check_password(world.password)


def test_it_refuses_a_street_admin_deactivating_a_district_leader(world, frank_in_street_a):
    with pytest.raises(PermissionRefused):
        actions.set_user_active(world.adam, frank_in_street_a, False)

    assert User.objects.get(pk=world.frank.pk).is_active


def test_a_home_in_the_jurisdiction_does_not_make_an_outside_leader_manageable(world):
    world.frank.home_place = world.community_a
    world.frank.save()

    assert not queries.users_for(world.adam).filter(pk=world.frank.pk).exists()


def test_a_resident_of_the_street_whose_home_lies_outside_is_not_manageable(world):
    world.charlie.home_place = world.community_b
    world.charlie.save()

    assert not queries.users_for(world.adam).filter(pk=world.charlie.pk).exists()


def test_accounts_wholly_inside_the_jurisdiction_stay_manageable(world):
    managed = set(queries.users_for(world.adam).values_list("username", flat=True))

    assert {"alice", "charlie", "dora", "erin", "gina", "leo", "vera", "sam"} <= managed
    assert not managed & {"bob", "ivy", "frank", "root"}


def test_a_global_admin_still_manages_everyone(world, frank_in_street_a):
    actions.set_password(world.root, frank_in_street_a, "N3wSecret!x")

    assert User.objects.get(pk=world.frank.pk).check_password("N3wSecret!x")


def test_the_api_hides_a_partly_outside_account_from_a_street_admin(
    world, frank_in_street_a, api_client
):
    client = api_client.as_user(world.adam)

    assert client.get(f"/api/users/{world.frank.id}").status_code == 404
    response = client.post_json(
        f"/api/users/{world.frank.id}/password", {"password": "N3wSecret!x"}
    )
    assert response.status_code == 404
    response = client.post_json(f"/api/users/{world.frank.id}/active", {"active": False})
    assert response.status_code == 404
    assert User.objects.get(pk=world.frank.pk).is_active


def test_the_user_page_refuses_a_partly_outside_account(world, frank_in_street_a, client):
    client.force_login(world.adam)

    response = client.post(f"/users/{world.frank.id}/password/", {"password": "N3wSecret!x"})

    assert response.status_code == 404
    assert User.objects.get(pk=world.frank.pk).check_password(world.password)


def test_it_refuses_granting_a_role_to_a_partly_outside_account(world, frank_in_street_a):
    with pytest.raises(PermissionRefused):
        actions.grant_role(
            world.adam, world.frank, role=Role.SOCIAL_WORKER, place=world.community_a
        )


def test_it_refuses_revoking_a_role_of_a_partly_outside_account(world, frank_in_street_a):
    membership = Membership.objects.get(user=world.frank, role=Role.VOLUNTEER)

    with pytest.raises(PermissionRefused):
        actions.revoke_role(world.adam, membership)

    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_new_account_still_gets_its_first_role_from_a_street_admin(world):
    user = actions.create_user(
        world.adam,
        username="newbie",
        password="Xin1Mima!x",
        role=Role.VOLUNTEER,
        place=world.community_a,
    )

    assert queries.users_for(world.adam).filter(pk=user.pk).exists()


def test_a_password_reset_revokes_the_accounts_api_tokens(world):
    token, _key = actions.issue_api_token(world.alice, "巡查终端")

    actions.set_password(world.adam, world.alice, "N3wSecret!x")

    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_cannot_issue_another_token(world, api_client):
    _token, key = actions.issue_api_token(world.alice, "自动化")

    response = Client().post(
        "/api/tokens", {"name": "再来一个"}, content_type="application/json", **bearer(key)
    )

    assert response.status_code == 403
    assert response.json()["detail"][0]["code"] == "forbidden"
    assert ApiToken.objects.count() == 1


def test_a_token_cannot_change_its_accounts_password(world):
    _token, key = actions.issue_api_token(world.alice, "自动化")

    response = Client().post(
        f"/api/users/{world.alice.id}/password",
        {"password": "N3wSecret!x"},
        content_type="application/json",
        **bearer(key),
    )

    assert response.status_code == 403
    assert User.objects.get(pk=world.alice.pk).check_password(world.password)


def test_a_session_still_issues_tokens(world, api_client):
    response = api_client.as_user(world.alice).post_json("/api/tokens", {"name": "巡查终端"})

    assert response.status_code == 201


def test_the_refusal_names_no_field_and_changes_nothing(world, frank_in_street_a):
    with pytest.raises(ActionError) as caught:
        actions.set_user_active(world.adam, world.frank, False)

    assert caught.value.status == 403
