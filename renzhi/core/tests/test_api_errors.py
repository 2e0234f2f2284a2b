"""Schema errors answer like action errors: 400, the field named, in the user's language."""


def test_a_malformed_query_value_gets_a_field_named_400_in_chinese(world, api_client):
    client = api_client.as_user(world.root)

    response = client.get("/api/calendar?start=2026-13-01&end=2026-12-31")

    assert response.status_code == 400
    (error,) = response.json()["detail"]
    assert error["field"] == "start" and "日期" in error["message"]


def test_a_malformed_query_value_is_reported_in_english_when_asked(world, api_client):
    client = api_client.as_user(world.root)

    response = client.get(
        "/api/calendar?start=2026-13-01&end=2026-12-31", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["detail"][0]["message"] == "Please enter a valid date (YYYY-MM-DD)."


def test_a_missing_body_field_is_required(world, api_client):
    client = api_client.as_user(world.root)

    response = client.post_json("/api/tokens", {})

    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "name"
    assert response.json()["detail"][0]["code"] == "required"
