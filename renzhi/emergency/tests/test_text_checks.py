"""Emergency text checks (issue 23 #9): a batch number in a stock count is bounded by its
column like one typed into the API, and a household address too."""

from __future__ import annotations

import pytest

from renzhi.emergency.tests.factories_resources import add_depots
from renzhi.emergency.tests.test_resources_api import API, _upload, _workbook, state


@pytest.fixture
def depots(world):
    return add_depots(world)


def test_a_stock_count_refuses_an_overlong_batch_number_on_its_row(depots, api_client):
    client = api_client.as_user(depots.alice)
    before = state()

    response = _upload(client, _workbook([["dep-a", "water", "B" * 5000, None, 8, ""]]))

    assert response.status_code == 400
    assert {d["field"] for d in response.json()["detail"]} == {"row 2: batch_no"}
    assert state() == before


def test_a_household_address_of_five_thousand_characters_is_refused_naming_the_field(
    depots, api_client
):
    client = api_client.as_user(depots.alice)

    response = client.post_json(
        API + "/households",
        {"place_code": depots.community_a.code, "address": "长" * 5000, "head_name": "张三"},
    )

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["detail"]] == ["address"]
