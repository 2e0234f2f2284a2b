import pytest

from renzhi.core.models import Unit


def test_lists_give_fifty_a_page_and_honour_a_larger_page_size(world, api_client):
    Unit.objects.bulk_create(
        [Unit(code=f"U-T-{i:03d}", name=f"测试单位{i}", kind="other") for i in range(60)]
    )
    client = api_client.as_user(world.root)

    first = client.get("/api/units").json()
    large = client.get("/api/units?page_size=500").json()

    assert first["count"] == 62 and len(first["items"]) == 50
    assert len(large["items"]) == 62


HUGE = "9223372036854775808"  # 2^63: one more than the largest signed 64-bit integer


def _paginated_list_paths() -> list[str]:
    """Every GET path of the API that takes `page` and no path parameter (from the schema)."""
    from renzhi.api import api

    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        if any(p["name"] == "page" for p in get.get("parameters", [])):
            found.append(path)
    return sorted(found)


def test_every_paginated_list_is_covered_by_the_page_bound():
    assert len(_paginated_list_paths()) >= 25  # the lists found in the schema; not a vacuous loop


@pytest.mark.parametrize("page", [HUGE, "1000001", "-1", "0", "abc", "1e9"])
def test_a_page_number_out_of_range_is_a_400_naming_page_on_every_list(world, api_client, page):
    client = api_client.as_user(world.root)
    for path in _paginated_list_paths():
        response = client.get(f"{path}?page={page}")
        assert response.status_code == 400, (path, response.status_code)
        assert [d["field"] for d in response.json()["detail"]] == ["page"], path


def test_a_huge_page_size_is_capped_not_a_500(world, api_client):
    response = api_client.as_user(world.root).get(f"/api/units?page_size={HUGE}")
    assert response.status_code in (200, 400)


def test_the_last_allowed_page_is_empty_not_an_error(world, api_client):
    body = api_client.as_user(world.root).get("/api/units?page=1000000&page_size=500").json()
    assert body["items"] == [] and body["count"] == 2


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("root", "/appeals/"),
        ("charlie", "/appeals/mine/"),
        ("alice", "/appeals/inbox/"),
        ("dora", "/triage/"),
        ("alice", "/warnings/"),
        ("alice", "/emergency/incidents/"),
        ("alice", "/emergency/reserves/ledger/"),
        ("alice", "/emergency/requests/"),
        ("alice", "/emergency/distributions/"),
        ("alice", "/emergency/people/"),
        ("root", "/users/"),
        ("root", "/units/"),
        ("root", "/audit/"),
    ],
)
def test_a_huge_page_number_on_a_page_shows_the_last_page(world, client, username, url):
    client.force_login(getattr(world, username))
    response = client.get(f"{url}?page={HUGE}", follow=True)
    assert response.status_code == 200, (url, response.status_code)
