def test_me_returns_the_logged_in_users_roles(world, api_client):
    response = api_client.as_user(world.alice).get("/api/me")
    assert response.status_code == 200
    assert response.json()["roles"] == ["community_staff"]


def test_anonymous_me_is_refused_with_401(db, api_client):
    response = api_client.get("/api/me")
    assert response.status_code == 401


def test_every_api_route_has_its_own_name():
    """Two apps may both have an `export` view; `reverse("api:…")` must still find the right one."""
    from collections import Counter

    from renzhi.api import api

    names = Counter(p.name for p in api.urls[0] if getattr(p, "name", None))
    assert not [name for name, n in names.items() if n > 1]
    assert {"appeals_export", "emergency_export", "places_geojson"} <= set(names)
