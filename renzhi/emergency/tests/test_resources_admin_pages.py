"""Web pages for depots, items and minimum levels, and the depot map on the reserves overview.

Each refusal is checked twice: the page says what is wrong next to the named field (in
Chinese), and the database holds exactly what it held before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from renzhi.core.models import AuditEvent
from renzhi.emergency.models import Depot, Item, MinimumLevel
from renzhi.emergency.tests.factories_resources import add_depots, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


def _depot_post(place, **extra):
    data = {
        "code": "jia-new",
        "name": "甲一社区新储备点",
        "kind": "community",
        "place": place.code,
        "address": "甲一社区3号楼地下室",
        "lat": "39.92",
        "lng": "116.45",
    }
    data.update(extra)
    return data


def _item_post(**extra):
    data = {
        "code": "blanket",
        "name": "棉被",
        "unit": "床",
        "category": "shelter",
        "shelf_life_days": "1800",
        "daily_per_person": "",
    }
    data.update(extra)
    return data


def _snapshot():
    return (
        sorted(Depot.objects.values_list("code", "name", "place_id", "lat", "lng")),
        sorted(Item.objects.values_list("code", "name", "unit", "shelf_life_days")),
        sorted(MinimumLevel.objects.values_list("depot_id", "item_id", "minimum")),
        AuditEvent.objects.count(),
    )


# --- Depots ------------------------------------------------------------------------------------


def test_staff_add_a_depot_of_their_community_through_the_page(depots, client):
    w = depots
    client.force_login(w.alice)
    assert client.get("/emergency/reserves/depots/new/").status_code == 200
    response = client.post("/emergency/reserves/depots/new/", _depot_post(w.community_a))
    depot = Depot.objects.get(code="jia-new")
    assert response.status_code == 302
    assert response["Location"] == "/emergency/depots/jia-new/"
    assert (depot.name, depot.place, depot.lat, depot.lng) == (
        "甲一社区新储备点",
        w.community_a,
        39.92,
        116.45,
    )
    assert AuditEvent.objects.filter(verb="emergency.depot.create").count() == 1


def test_it_refuses_a_depot_outside_the_users_jurisdiction_and_names_the_place(depots, client):
    w = depots
    client.force_login(w.alice)
    before = _snapshot()
    response = client.post("/emergency/reserves/depots/new/", _depot_post(w.community_b))
    assert response.status_code == 200
    assert response.context["form"].errors["place"] == ["您无权在此添加储备点。"]
    assert _snapshot() == before


def test_it_refuses_a_depot_without_a_name_and_changes_nothing(depots, client):
    w = depots
    client.force_login(w.alice)
    before = _snapshot()
    response = client.post(
        "/emergency/reserves/depots/new/", _depot_post(w.community_a, name="", lat="95")
    )
    errors = response.context["form"].errors
    assert errors["name"] == ["此项为必填项。"]
    assert "lat" in errors
    assert _snapshot() == before


def test_it_refuses_a_duplicate_depot_code(depots, client):
    w = depots
    client.force_login(w.alice)
    before = _snapshot()
    response = client.post(
        "/emergency/reserves/depots/new/", _depot_post(w.community_a, code="dep-a")
    )
    assert response.context["form"].errors["code"] == ["此编码已被使用。"]
    assert _snapshot() == before


def test_it_refuses_half_a_location(depots, client):
    w = depots
    client.force_login(w.alice)
    before = _snapshot()
    response = client.post("/emergency/reserves/depots/new/", _depot_post(w.community_a, lng=""))
    assert response.context["form"].errors["lng"] == ["请同时填写纬度和经度，或都不填。"]
    assert _snapshot() == before


def test_staff_edit_their_depot_and_the_code_stays(depots, client):
    w = depots
    client.force_login(w.alice)
    page = client.get("/emergency/depots/dep-a/edit/")
    assert page.status_code == 200
    assert "code" not in page.context["form"].fields
    response = client.post(
        "/emergency/depots/dep-a/edit/",
        {
            "code": "hijack",
            "name": "甲一社区中心储备点",
            "kind": "community",
            "place": w.community_a.code,
            "address": "居委会一楼",
            "lat": "",
            "lng": "",
        },
    )
    assert response.status_code == 302
    w.depot_a.refresh_from_db()
    assert (w.depot_a.code, w.depot_a.name, w.depot_a.address) == (
        "dep-a",
        "甲一社区中心储备点",
        "居委会一楼",
    )
    event = AuditEvent.objects.get(verb="emergency.depot.update")
    assert event.before == {"name": "甲一社区储备点", "address": ""}


def test_staff_cannot_move_their_depot_into_another_community(depots, client):
    w = depots
    client.force_login(w.alice)
    before = _snapshot()
    response = client.post(
        "/emergency/depots/dep-a/edit/",
        {"name": "x", "kind": "community", "place": w.community_b.code},
    )
    assert response.context["form"].errors["place"] == ["您无权在此添加储备点。"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("gina", "/emergency/reserves/depots/new/", 403),  # grid worker reads, does not keep
        ("sam", "/emergency/reserves/depots/new/", 403),  # social worker
        ("charlie", "/emergency/reserves/depots/new/", 403),  # resident
        ("gina", "/emergency/depots/dep-a/edit/", 403),
        ("bob", "/emergency/depots/dep-a/edit/", 404),  # another community's depot
        ("alice", "/emergency/depots/dep-sa/edit/", 403),  # sees the street depot, not keeps it
        ("alice", "/emergency/depots/dep-sa/minimums/", 403),
        ("gina", "/emergency/reserves/items/new/", 403),
        ("vera", "/emergency/reserves/items/", 403),
        ("charlie", "/emergency/reserves/items/blanket/edit/", 403),
    ],
)
def test_it_refuses_roles_that_may_not_and_changes_nothing(depots, client, who, url, status):
    w = depots
    client.force_login(getattr(w, who))
    before = _snapshot()
    assert client.get(url).status_code == status
    post = {**_depot_post(w.community_a), **_item_post(), "name": "改名"}
    assert client.post(url, post).status_code == status
    assert _snapshot() == before


def test_the_street_dispatcher_adds_a_depot_in_any_community_of_the_street(depots, client):
    w = depots
    client.force_login(w.dora)
    response = client.post(
        "/emergency/reserves/depots/new/",
        _depot_post(w.community_a, code="jia-2", kind="partner", name="甲街道合作超市"),
    )
    assert response.status_code == 302
    assert Depot.objects.get(code="jia-2").kind == "partner"


# --- Items -------------------------------------------------------------------------------------


def test_staff_add_an_item_through_the_page(depots, client):
    client.force_login(depots.alice)
    response = client.post("/emergency/reserves/items/new/", _item_post(one_per_household="on"))
    assert response.status_code == 302
    item = Item.objects.get(code="blanket")
    assert (item.name, item.unit, item.category, item.shelf_life_days) == (
        "棉被",
        "床",
        "shelter",
        1800,
    )
    assert item.one_per_household is True
    assert "棉被" in client.get("/emergency/reserves/items/").content.decode()


def test_it_refuses_a_duplicate_item_code_and_a_negative_shelf_life_together(depots, client):
    client.force_login(depots.alice)
    before = _snapshot()
    response = client.post(
        "/emergency/reserves/items/new/", _item_post(code="water", shelf_life_days="-5")
    )
    errors = response.context["form"].errors
    assert errors["code"] == ["此编码已被使用。"]
    assert errors["shelf_life_days"] == ["保质期必须为正数。"]
    assert _snapshot() == before


def test_it_refuses_an_item_without_a_name(depots, client):
    client.force_login(depots.alice)
    before = _snapshot()
    response = client.post("/emergency/reserves/items/new/", _item_post(name="  "))
    assert response.context["form"].errors["name"] == ["此项为必填项。"]
    assert _snapshot() == before


def test_staff_edit_an_item_and_the_change_is_audited(depots, client):
    w = depots
    client.force_login(w.alice)
    response = client.post(
        "/emergency/reserves/items/rice/edit/",
        {
            "name": "大米（5公斤）",
            "unit": "袋",
            "category": "food",
            "shelf_life_days": "365",
            "daily_per_person": "0.05",
        },
    )
    assert response.status_code == 302
    rice = Item.objects.get(code="rice")
    assert (rice.name, rice.shelf_life_days, rice.daily_per_person) == (
        "大米（5公斤）",
        365,
        Decimal("0.050"),
    )
    event = AuditEvent.objects.get(verb="emergency.item.update")
    assert set(event.after) == {"name", "shelf_life_days"}


def test_editing_an_item_with_a_negative_shelf_life_changes_nothing(depots, client):
    client.force_login(depots.alice)
    before = _snapshot()
    response = client.post(
        "/emergency/reserves/items/rice/edit/",
        {"name": "大米", "unit": "袋", "category": "food", "shelf_life_days": "-1"},
    )
    assert response.context["form"].errors["shelf_life_days"] == ["保质期必须为正数。"]
    assert _snapshot() == before


# --- Minimum levels ----------------------------------------------------------------------------


def test_staff_set_minimum_levels_for_a_depot_in_one_form(depots, client):
    w = depots
    MinimumLevel.objects.create(depot=w.depot_a, item=w.items["mask"], minimum=50)
    client.force_login(w.alice)
    page = client.get("/emergency/depots/dep-a/minimums/")
    assert page.context["form"]["minimum_mask"].value() == 50
    response = client.post(
        "/emergency/depots/dep-a/minimums/",
        {"minimum_water": "200", "minimum_rice": "30", "minimum_mask": "0"},
    )
    assert response.status_code == 302
    levels = dict(MinimumLevel.objects.filter(depot=w.depot_a).values_list("item__code", "minimum"))
    assert levels == {"water": 200, "rice": 30}
    event = AuditEvent.objects.get(verb="emergency.stock.minimums")
    assert event.after == {"minimums": {"water": 200, "rice": 30, "mask": 0}}


def test_a_negative_minimum_is_named_and_no_level_is_saved(depots, client):
    w = depots
    client.force_login(w.alice)
    before = _snapshot()
    response = client.post(
        "/emergency/depots/dep-a/minimums/", {"minimum_water": "200", "minimum_rice": "-3"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["minimum_rice"] == ["请填写正数。"]
    assert _snapshot() == before


# --- The overview map --------------------------------------------------------------------------


def _map(client):
    data = client.get("/emergency/reserves/").context["map_data"]
    return {f["properties"]["code"]: f for f in data["depots"]["features"]}


def test_the_map_lists_only_depots_in_scope_with_their_status(depots, client):
    w = depots
    Depot.objects.filter(code="dep-a").update(lat=39.93, lng=116.44)
    stock(w.depot_a, w.items["water"], 10, days=5)  # expiring within 7 days
    stock(w.depot_a2, w.items["water"], 5, days=200)
    MinimumLevel.objects.create(depot=w.depot_a2, item=w.items["water"], minimum=50)
    stock(w.depot_street, w.items["rice"], 100, days=200)
    client.force_login(w.alice)
    shown = _map(client)
    # Community A's depots and its street's depot, never community B's.
    assert set(shown) == {"dep-a", "dep-a2", "dep-sa"}
    assert shown["dep-a"]["properties"]["status"] == "expiring"
    assert shown["dep-a2"]["properties"]["status"] == "low"
    assert shown["dep-sa"]["properties"]["status"] == "ok"
    assert shown["dep-a"]["geometry"]["coordinates"] == [116.44, 39.93]
    assert shown["dep-a"]["properties"]["approximate"] is False
    # Without coordinates a depot stands at its place's centre.
    assert shown["dep-a2"]["properties"]["approximate"] is True
    assert shown["dep-a2"]["properties"]["url"] == "/emergency/depots/dep-a2/"
    client.force_login(w.bob)
    assert set(_map(client)) == {"dep-b"}


def test_the_overview_offers_the_new_pages_only_to_keepers(depots, client):
    client.force_login(depots.alice)
    page = client.get("/emergency/reserves/").content.decode()
    assert "/emergency/reserves/depots/new/" in page
    assert "/emergency/depots/dep-a/edit/" in page
    assert "/emergency/depots/dep-sa/edit/" not in page
    client.force_login(depots.gina)
    page = client.get("/emergency/reserves/").content.decode()
    assert "/emergency/reserves/depots/new/" not in page
    assert "/emergency/depots/dep-a/edit/" not in page
    assert 'id="depot-map"' in page


def test_the_action_refuses_coordinates_out_of_range_by_field(depots):
    from renzhi.core.errors import ActionError
    from renzhi.emergency.actions import reserves as actions

    w = depots
    with pytest.raises(ActionError) as refused:
        actions.update_depot(
            w.alice, w.depot_a, name="甲", kind="community", place=w.community_a, lat=95, lng=200
        )
    assert {e.field for e in refused.value.errors} == {"lat", "lng"}
    w.depot_a.refresh_from_db()
    assert (w.depot_a.name, w.depot_a.lat) == ("甲一社区储备点", None)


def test_the_depot_page_links_its_keeper_to_edit_and_minimums_only(depots, client):
    edit, minimums = "/emergency/depots/dep-a/edit/", "/emergency/depots/dep-a/minimums/"
    client.force_login(depots.alice)
    body = client.get("/emergency/depots/dep-a/").content.decode()
    assert edit in body and minimums in body
    client.force_login(depots.gina)
    response = client.get("/emergency/depots/dep-a/")
    body = response.content.decode() if response.status_code == 200 else ""
    assert edit not in body and minimums not in body
