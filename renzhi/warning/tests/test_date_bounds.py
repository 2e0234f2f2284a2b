"""Issue 23 #4 (warnings): a warning expiring in 9999 made `/warnings/` answer 500 for everyone
in scope. Onset and expiry are bounded (now ± 5 years; expiry at most a year ahead) with a
message naming the field, in the API, the form and the action; and the pages survive a value
stored out of range before the bound existed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.core.errors import ActionError
from renzhi.warning import actions
from renzhi.warning.actions import WarningInput
from renzhi.warning.models import Warning

from .conftest import draft_input

pytestmark = pytest.mark.django_db

FAR = "9999-12-31T23:59:00+08:00"


def test_it_refuses_an_expiry_in_9999_through_the_api(world, api_client):
    api_client.force_login(world.alice)
    response = api_client.post_json(
        "/api/warnings/",
        {
            "level": 4,
            "headline": "供水异常",
            "area_codes": [world.community_a.code],
            "expires_at": FAR,
        },
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["detail"]] == ["expires_at"]
    assert not Warning.objects.exists()


def test_it_refuses_an_expiry_beyond_a_year_in_the_action(world):
    with pytest.raises(ActionError) as refused:
        actions.create_warning(
            world.alice,
            draft_input(
                4, [world.community_a.code], expires_at=timezone.now() + dt.timedelta(days=400)
            ),
        )
    assert refused.value.errors[0].field == "expires_at"
    draft = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    with pytest.raises(ActionError) as refused:
        actions.edit_warning(
            world.alice,
            draft.pk,
            WarningInput(onset_at=timezone.now() - dt.timedelta(days=6 * 366)),
        )
    assert refused.value.errors[0].field == "onset_at"


def test_the_form_names_the_field(world, client):
    client.force_login(world.alice)
    page = client.post(
        "/warnings/new/",
        {
            "level": "4",
            "headline": "供水异常",
            "cap_category": "Infra",
            "areas": [world.community_a.code],
            "expires_at": "9999-12-31T23:59",
        },
    )
    assert page.status_code == 200
    assert page.context["form"].errors["expires_at"]
    assert not Warning.objects.exists()


def test_pages_survive_a_stored_expiry_in_9999(world, client, api_client, publish_flow):
    warning = publish_flow()
    Warning.objects.filter(pk=warning.pk).update(
        expires_at=dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC),
        onset_at=dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),
    )
    for user in (world.alice, world.leo):
        client.force_login(user)
        assert client.get("/warnings/").status_code == 200
    client.force_login(world.charlie)  # the resident's home page shows the live warning
    assert client.get("/").status_code in (200, 302)
    client.force_login(world.alice)
    assert client.get(f"/warnings/{warning.pk}/").status_code == 200
    api_client.force_login(world.alice)
    assert api_client.get("/api/warnings/").status_code == 200
    assert api_client.get(f"/api/warnings/{warning.pk}").status_code == 200
