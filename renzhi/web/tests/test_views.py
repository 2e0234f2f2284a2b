"""Every page: who may open it (the HTML permission matrix), and what it shows."""

import pytest

from renzhi.core.models import AuditEvent
from renzhi.core.tests.matrix import USERS, PageEndpoint, check_page

ALL = frozenset(USERS)
STAFF = ALL - {"charlie", "ivy"}
ADMINS = frozenset({"adam", "root"})

PAGES = [
    PageEndpoint("home", "/", ALL),
    PageEndpoint("places", "/places/", STAFF),
    PageEndpoint("units", "/units/", STAFF),
    PageEndpoint("users", "/users/", ADMINS),
    PageEndpoint("new user", "/users/new/", ADMINS),
    PageEndpoint("calendar", "/calendar/", ADMINS),
    PageEndpoint("audit", "/audit/", frozenset({"root"})),
    PageEndpoint("tokens", "/tokens/", STAFF),
]


@pytest.mark.parametrize("endpoint", PAGES, ids=lambda e: e.name)
@pytest.mark.parametrize("username", USERS)
def test_page_permission_matrix(world, client, endpoint, username):
    check_page(client, world, endpoint, username)


@pytest.mark.parametrize("endpoint", PAGES, ids=lambda e: e.name)
def test_anonymous_visitors_are_sent_to_login(db, client, endpoint):
    response = client.get(endpoint.url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={endpoint.url}")


def test_user_detail_is_readable_only_inside_the_admins_jurisdiction(world, client):
    client.force_login(world.adam)
    assert client.get(f"/users/{world.alice.pk}/").status_code == 200
    assert client.get(f"/users/{world.bob.pk}/").status_code == 404
    client.force_login(world.alice)
    assert client.get(f"/users/{world.alice.pk}/").status_code == 403


def test_forbidden_page_explains_in_chinese(world, client):
    client.force_login(world.charlie)
    response = client.get("/places/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()
    assert "您的角色无权访问此页面。" in response.content.decode()


def test_missing_page_is_a_chinese_404(world, client):
    client.force_login(world.alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_home_counts_what_lies_in_scope(world, client):
    client.force_login(world.adam)
    response = client.get("/")
    stats = {s["label"]: s["value"] for s in response.context["counts"]}
    assert stats == {"区": 0, "街道": 1, "社区": 1, "网格": 2, "承办单位": 1, "账号": 9}
    assert "甲街道" in response.content.decode()


def test_home_of_a_resident_shows_their_community_and_no_counts(world, client):
    client.force_login(world.charlie)
    response = client.get("/")
    assert response.context["counts"] == []
    assert "朝阳演示区 / 甲街道 / 甲一社区" in response.content.decode()


def test_places_page_lists_only_places_in_scope(world, client):
    client.force_login(world.alice)
    body = client.get("/places/").content.decode()
    assert "甲一社区第1网格" in body and "甲一社区第2网格" in body
    assert "乙一社区" not in body
    assert "/api/places/geojson" in body  # the map's data source


def test_units_page_lists_units_in_scope_with_kind_and_places(world, client):
    client.force_login(world.bob)
    body = client.get("/units/").content.decode()
    assert "乙一物业" in body and "物业" in body and "乙一社区" in body
    assert "甲一物业" not in body


def test_users_list_masks_phone_numbers(world, client):
    client.force_login(world.root)
    body = client.get("/users/").content.decode()
    assert "138****0001" in body
    assert "13800000001" not in body


def test_users_list_filters_by_text_and_role(world, client):
    client.force_login(world.root)
    response = client.get("/users/", {"q": "ali"})
    assert [r["username"] for r in response.context["rows"]] == ["alice"]
    response = client.get("/users/", {"role": "resident"})
    assert [r["username"] for r in response.context["rows"]] == ["charlie", "ivy"]


def test_users_search_answers_htmx_with_the_results_fragment(world, client):
    client.force_login(world.root)
    response = client.get(
        "/users/", {"q": "bob"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="user-results"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="user-results">')
    assert "<html" not in body
    assert "HX-Target" in response["Vary"]


def test_a_history_restore_by_htmx_gets_the_whole_page(world, client):
    client.force_login(world.root)
    response = client.get(
        "/users/", {"q": "bob"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_audit_page_shows_latest_events_in_shanghai_time(world, client):
    client.force_login(world.root)
    client.get("/")  # force_login does not audit; make one event through a real action
    from renzhi.core import actions

    actions.issue_api_token(world.root, "probe")
    event = AuditEvent.objects.order_by("-seq").first()
    body = client.get("/audit/").content.decode()
    assert "签发 API 令牌" in body
    from django.utils import timezone

    assert timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S") in body


def test_pages_never_show_raw_database_ids_as_text(world, client):
    client.force_login(world.root)
    body = client.get("/users/").content.decode()
    # Ids appear only inside links (/users/<id>/), never as a table cell.
    assert f">{world.alice.pk}<" not in body


def test_server_error_page_is_chinese_and_standalone(db, rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "服务器错误" in response.content.decode()
