def test_me_returns_the_logged_in_users_roles(world, api_client):
    response = api_client.as_user(world.alice).get("/api/me")
    assert response.status_code == 200
    assert response.json()["roles"] == ["community_staff"]


def test_anonymous_me_is_refused_with_401(db, api_client):
    response = api_client.get("/api/me")
    assert response.status_code == 401
