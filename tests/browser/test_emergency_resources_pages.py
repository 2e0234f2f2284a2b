"""Reserves, people and the vulnerable register in the browser, at desktop width and at 390 px.

Alice (community A staff) sees her depots with near-expiry and below-minimum flags, hands a
one-per-household kit to a household and is refused the second time, asks the street for water;
Leo (street A leader) approves and sends it; Alice finds a volunteer and calls her up; Vera
accepts and checks in; Alice records a check-in on a vulnerable resident. Every page must fit
390 px without sideways scrolling. Screenshots go to tests/browser/screenshots/ (the docs copy
some of them to docs/img/).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renzhi.emergency.actions import vulnerable
from renzhi.emergency.models import CallUp, Distribution, MinimumLevel, SupplyRequest
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    make_helper,
    make_incident,
    stock,
)
from tests.browser.conftest import login, overflow_x
from tests.browser.conftest import shot as take_shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def depots(world):
    return add_depots(world)


@pytest.fixture
def stocked(depots):
    w = depots
    i = w.items
    stock(w.depot_street, i["water"], 5000, days=200, batch="W-ST")
    stock(w.depot_a, i["water"], 600, days=5, batch="W-OLD")
    stock(w.depot_a, i["water"], 1200, days=300, batch="W-NEW")
    stock(w.depot_a, i["rice"], 40, days=20, batch="R-1")
    stock(w.depot_a, i["mask"], 2000, days=500, batch="M-1")
    stock(w.depot_a, i["kit"], 30, days=None)
    MinimumLevel.objects.create(depot=w.depot_a, item=i["rice"], minimum=150)
    MinimumLevel.objects.create(depot=w.depot_a, item=i["water"], minimum=1000)
    make_helper(w.vera, w.community_a, lat=39.92, lng=116.44, skills=["first_aid"])
    w.incident = make_incident(w.community_a, title="甲一社区暴雨内涝")
    w.resident = vulnerable.register_resident(
        w.alice,
        w.community_a,
        name="王秀英",
        address="3号楼2单元101",
        categories=["elderly_alone", "chronically_ill"],
        needs=["oxygen", "mobility"],
        consent_method="本人签字",
        phone="13911112222",
        birth_year=1941,
        emergency_contact_name="王建国",
        emergency_contact_phone="13933334444",
    )
    vulnerable.pair(w.alice, w.resident, w.vera)
    return w


DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
# Screenshots the guides (docs/emergency-reserves.md, docs/emergency-people.md) show: each run
# refreshes them, so they follow the pages (and their translation).
FOR_DOCS = {
    "emergency-reserves-overview",
    "emergency-reserves-phone",
    "emergency-depot",
    "emergency-ledger",
    "emergency-distribution-refused",
    "emergency-request-phone",
    "emergency-people",
    "emergency-callup-phone",
    "emergency-vulnerable-list",
    "emergency-vulnerable-phone",
}


def shot(page, name: str) -> Path:
    path = take_shot(page, name)
    if name in FOR_DOCS:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / path.name)
    return path


def _as(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    login(page, live_server, username)


def _fits(page) -> None:
    assert overflow_x(page) <= 0, f"{page.url} overflows 390 px by {overflow_x(page)} px"


def test_reserves_pages_work_for_staff_at_desktop_and_phone_width(
    stocked, page, phone_page, live_server
):
    w = stocked
    _as(page, live_server, "alice")
    page.goto(f"{live_server.url}/emergency/reserves/")
    assert page.locator("[data-depot='dep-a'] .rs-d7").count() >= 1  # water expiring in 5 days
    assert page.locator("[data-depot='dep-a'] .rs-low").count() >= 1  # rice below minimum
    shot(page, "emergency-reserves-overview")

    page.goto(f"{live_server.url}/emergency/distributions/")
    page.select_option("#id_depot", "dep-a")
    page.fill("#id_address", "5号楼1单元302")
    page.fill("#id_head_name", "刘建华")
    page.select_option("#id_item", "kit")
    page.fill("#id_signed_by", "刘建华")
    page.select_option("#id_incident", str(w.incident.pk))
    page.click("form button[type=submit].button-primary")
    page.wait_for_load_state()
    assert Distribution.objects.count() == 1
    page.select_option("#id_depot", "dep-a")
    page.fill("#id_address", "5号楼1单元302")
    page.select_option("#id_item", "kit")
    page.fill("#id_signed_by", "刘太太")
    page.select_option("#id_incident", str(w.incident.pk))
    page.click("form button[type=submit].button-primary")
    page.wait_for_load_state()
    assert page.locator(".field-error").count() == 1 and Distribution.objects.count() == 1
    shot(page, "emergency-distribution-refused")

    page.goto(f"{live_server.url}/emergency/requests/")
    page.select_option("#id_item_0", "water")
    page.fill("#id_quantity_0", "800")
    page.fill("#id_reason", "内涝转移安置点用水")
    page.click("form button[type=submit].button-primary")
    page.wait_for_url("**/emergency/requests/*/")
    request = SupplyRequest.objects.get()

    _as(phone_page, live_server, "leo")
    phone_page.goto(f"{live_server.url}/emergency/requests/{request.pk}/")
    phone_page.fill(f"input[name=q_{w.items['water'].pk}]", "600")
    phone_page.click("button[value=approve]")
    phone_page.wait_for_load_state()
    phone_page.click("button[value=issue]")
    phone_page.wait_for_load_state()
    assert phone_page.locator("[data-status='issued']").count() == 1
    _fits(phone_page)
    shot(phone_page, "emergency-request-phone")

    page.goto(f"{live_server.url}/emergency/requests/{request.pk}/")
    page.click("button[value=receive]")
    page.wait_for_load_state()
    assert page.locator("[data-status='received']").count() == 1
    shot(page, "emergency-request-received")

    page.goto(f"{live_server.url}/emergency/depots/dep-a/")
    shot(page, "emergency-depot")
    page.goto(f"{live_server.url}/emergency/reserves/ledger/")
    shot(page, "emergency-ledger")

    _as(phone_page, live_server, "alice")
    for path in (
        "reserves/",
        "depots/dep-a/",
        "reserves/ledger/",
        "distributions/",
        "requests/",
        "reserves/import/",
    ):
        phone_page.goto(f"{live_server.url}/emergency/{path}")
        _fits(phone_page)
    phone_page.goto(f"{live_server.url}/emergency/reserves/")
    shot(phone_page, "emergency-reserves-phone")


def test_people_call_ups_and_the_register_at_desktop_and_phone_width(
    stocked, page, phone_page, live_server
):
    w = stocked
    _as(page, live_server, "alice")
    page.goto(
        f"{live_server.url}/emergency/people/?incident={w.incident.pk}&skill=first_aid&limit=10"
    )
    assert page.locator("input[name=users][value=vera]").count() == 1
    shot(page, "emergency-people")
    page.fill("#callup-note", "请到3号楼门口集合，带手电")
    page.click("form[action$='/callups/send/'] button[type=submit]")
    page.wait_for_url("**/emergency/callups/")
    callup = CallUp.objects.get(user=w.vera)

    _as(phone_page, live_server, "vera")
    phone_page.goto(f"{live_server.url}/emergency/callups/")
    phone_page.click(f"[data-callup='{callup.pk}'] button.button-primary")  # accept
    phone_page.wait_for_load_state()
    phone_page.click(f"[data-callup='{callup.pk}'] button.button-primary")  # check in
    phone_page.wait_for_load_state()
    callup.refresh_from_db()
    assert callup.status == "checked_in" and callup.insured
    _fits(phone_page)
    shot(phone_page, "emergency-callup-phone")
    phone_page.goto(f"{live_server.url}/emergency/vulnerable/{w.resident.pk}/")
    phone_page.check("input[name=c-outcome][value=safe]")
    phone_page.fill("#id_c-note", "电话联系，家中安全，氧气充足")
    phone_page.click("form button.button-primary")
    phone_page.wait_for_load_state()
    assert w.resident.checkins.count() == 1
    _fits(phone_page)
    shot(phone_page, "emergency-vulnerable-phone")

    page.goto(f"{live_server.url}/emergency/vulnerable/?incident={w.incident.pk}")
    assert page.locator("[data-reached='1']").count() == 1
    assert "139****2222" in page.content()
    shot(page, "emergency-vulnerable-list")
    page.goto(f"{live_server.url}/emergency/vulnerable/new/")
    shot(page, "emergency-vulnerable-new")

    _as(phone_page, live_server, "alice")
    for path in (
        "people/",
        "teams/",
        "callups/",
        "vulnerable/",
        "vulnerable/new/",
        f"vulnerable/{w.resident.pk}/",
    ):
        phone_page.goto(f"{live_server.url}/emergency/{path}")
        _fits(phone_page)

    # Bob, staff of the other community, cannot open the resident at all.
    _as(page, live_server, "bob")
    response = page.goto(f"{live_server.url}/emergency/vulnerable/{w.resident.pk}/")
    assert response is not None and response.status == 404
