"""Depot, item and minimum-level pages, and the depot map of the reserves overview, in the
browser at desktop width and at 390 px.

Alice (community A staff) adds a depot by clicking its location on the map, sets its minimum
levels, adds an item and is told in Chinese, next to the field, that a code is taken. The
overview map shows her depots coloured by stock status, never community B's. Every page must
fit 390 px without sideways scrolling. Screenshots go to tests/browser/screenshots/.
"""

from __future__ import annotations

import pytest

from renzhi.emergency.models import Depot, Item, MinimumLevel
from renzhi.emergency.tests.factories_resources import add_depots, stock
from tests.browser.conftest import login, overflow_x, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stocked(world):
    w = add_depots(world)
    i = w.items
    Depot.objects.filter(code="dep-a").update(lat=39.935, lng=116.43)
    Depot.objects.filter(code="dep-a2").update(lat=39.915, lng=116.47)
    Depot.objects.filter(code="dep-sa").update(lat=39.97, lng=116.45)
    Depot.objects.filter(code="dep-b").update(lat=39.92, lng=116.55)
    stock(w.depot_a, i["water"], 300, days=5)  # expires within 7 days
    stock(w.depot_a2, i["rice"], 10, days=200)
    MinimumLevel.objects.create(depot=w.depot_a2, item=i["rice"], minimum=100)  # below minimum
    stock(w.depot_street, i["water"], 5000, days=200)  # fine
    return w


def test_alice_adds_a_depot_sets_minimums_and_adds_an_item(stocked, page, live_server):
    base = live_server.url
    login(page, live_server, "alice")

    page.goto(f"{base}/emergency/reserves/")
    page.wait_for_selector("#depot-map .leaflet-interactive")
    markers = page.locator("#depot-map path.leaflet-interactive")
    # dep-a, dep-a2, dep-sa and the outlines are drawn; dep-b (community B) is not a marker.
    page.locator("#depot-map path.leaflet-interactive").first.wait_for()
    assert markers.count() >= 3
    assert "乙一社区储备点" not in page.locator("#depot-map-data").inner_text()
    shot(page, "emergency-depot-map")

    page.click("text=新增储备点")
    page.fill("#id_code", "jia-3")
    page.fill("#id_name", "甲一社区北门储备点")
    page.select_option("#id_place", "110105001001")
    page.fill("#id_address", "北门岗亭旁")
    box = page.locator("#depot-picker").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    assert page.input_value("#id_lat") != ""
    shot(page, "emergency-depot-new")
    page.click("button:has-text('添加储备点')")
    page.wait_for_url(f"{base}/emergency/depots/jia-3/")
    depot = Depot.objects.get(code="jia-3")
    assert depot.lat is not None and 39.90 < depot.lat < 39.95

    page.goto(f"{base}/emergency/depots/jia-3/minimums/")
    page.fill("#id_minimum_water", "500")
    page.fill("#id_minimum_rice", "-2")
    page.click("button:has-text('保存最低库存')")
    assert page.locator("tr[data-item=rice] .field-error").inner_text() == "请填写正数。"
    assert not MinimumLevel.objects.filter(depot=depot).exists()
    shot(page, "emergency-depot-minimums-error")
    page.fill("#id_minimum_rice", "40")
    page.click("button:has-text('保存最低库存')")
    page.wait_for_url(f"{base}/emergency/depots/jia-3/")
    assert MinimumLevel.objects.filter(depot=depot).count() == 2

    page.goto(f"{base}/emergency/reserves/items/new/")
    page.fill("#id_code", "water")
    page.fill("#id_name", "矿泉水")
    page.fill("#id_unit", "瓶")
    page.fill("#id_shelf_life_days", "-3")
    page.click("button:has-text('添加物资')")
    assert page.locator(".has-error .field-error").all_inner_texts() == [
        "此编码已被使用。",
        "保质期必须为正数。",
    ]
    shot(page, "emergency-item-new-error")
    assert Item.objects.filter(name="矿泉水").count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/emergency/reserves/",
        "/emergency/reserves/depots/new/",
        "/emergency/depots/dep-a/edit/",
        "/emergency/depots/dep-a/minimums/",
        "/emergency/reserves/items/",
        "/emergency/reserves/items/new/",
    ],
)
def test_the_pages_fit_a_phone(stocked, phone_page, live_server, path):
    login(phone_page, live_server, "alice")
    phone_page.goto(f"{live_server.url}{path}")
    assert overflow_x(phone_page) <= 0
    name = path.strip("/").replace("/", "-").replace("emergency-", "")
    shot(phone_page, f"emergency-phone-{name}")
