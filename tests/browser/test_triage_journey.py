"""Triage journeys in the Chinese UI, desktop (1280×800) and phone (390×844):
- the dispatcher (dora) opens the triage queue: the urgent appeal is first, each card shows
  the top suggestions with probabilities; she accepts one suggestion with one click and corrects
  another (category and unit), and both leave the queue dispatched;
- the hot-issue page lists the clusters with heat and representative messages and draws them on
  the map (our own boundaries, no tiles), with links to open an incident or propose a warning;
- the administrator's model versions page with metrics.
Screenshots land in tests/browser/screenshots/ (triage-*.png).
"""

from __future__ import annotations

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, Category, State
from renzhi.appeals.tests.conftest import cases  # noqa: F401
from renzhi.triage import hot
from renzhi.triage.tests.conftest import corpus, model_dir, set_thresholds, trained  # noqa: F401
from tests.browser.conftest import DESKTOP, PHONE, _open_page, login, overflow_x, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(trained):  # noqa: F811
    w = trained
    set_thresholds(w.category_version, None)
    set_thresholds(w.unit_version, None)
    w.cat_gas = Category.objects.create(code="0102", name="燃气安全", parent=w.cat_water)

    def submit(text, lat=39.92, lng=116.42):
        return appeal_actions.submit_appeal(
            w.charlie, channel="web", description=text, lat=lat, lng=lng
        ).appeal

    w.lift = submit("6号楼电梯坏了，停在5楼不动，老人下不了楼")
    w.water = submit("11号楼停水了，水龙头一点水都没有")
    w.gas = submit("2号楼楼道里煤气味很重，怀疑燃气泄漏")
    for i in range(3):
        submit(f"小区东门化粪池返味，臭气熏天，{i + 2}号楼受影响", lat=39.921, lng=116.421)
    hot.refresh()
    return w


def test_dispatcher_accepts_and_corrects_in_the_triage_queue(desk, live_server, page):
    w = desk
    login(page, live_server, "dora")
    page.goto(f"{live_server.url}/triage/")
    cards = page.locator("[data-triage]")
    assert cards.first.get_attribute("data-triage") == w.gas.tracking_no  # urgent first
    assert cards.first.locator("[data-urgent]").is_visible()
    lift = page.locator(f"[data-triage='{w.lift.tracking_no}']")
    assert "电梯故障" in lift.locator("[data-category]").first.inner_text()
    shot(page, "triage-queue-desktop")

    lift.locator("[data-accept]").click()
    page.wait_for_url(f"{live_server.url}/triage/")
    assert page.locator(f"[data-triage='{w.lift.tracking_no}']").count() == 0
    assert "甲一物业" in page.locator(".alert-success").inner_text()

    gas = page.locator(f"[data-triage='{w.gas.tracking_no}']")
    gas.locator("summary").click()
    gas.locator("select[name=category]").select_option("0102")
    gas.locator("select[name=unit]").select_option("U-WY-A")
    shot(page, "triage-correct-desktop")
    gas.locator("[data-correct] button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/triage/")
    assert page.locator(f"[data-triage='{w.gas.tracking_no}']").count() == 0
    assert page.locator(f"[data-triage='{w.water.tracking_no}']").count() == 1

    lift_row = Appeal.objects.get(pk=w.lift.pk)
    gas_row = Appeal.objects.get(pk=w.gas.pk)
    assert lift_row.state == State.DISPATCHED and lift_row.category == w.cat_lift
    assert lift_row.triage.status == "accepted"
    assert gas_row.state == State.DISPATCHED and gas_row.category == w.cat_gas
    assert gas_row.triage.status == "corrected" and gas_row.priority == "urgent"


def test_hot_issues_page_with_map(desk, live_server, page):
    login(page, live_server, "dora")
    page.goto(f"{live_server.url}/triage/hot/")
    item = page.locator("[data-hot-issue='1']")
    assert "化粪池" in item.inner_text()
    assert (
        item.locator("[data-open-incident]")
        .get_attribute("href")
        .startswith("/emergency/incidents/new/?hot_issue=")
    )
    page.wait_for_selector(".leaflet-interactive")
    assert page.locator(".hot-label").count() >= 1
    shot(page, "triage-hot-desktop")


def test_model_versions_page(desk, live_server, page):
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/triage/models/")
    assert page.locator("[data-active]").count() == 2
    shot(page, "triage-models-desktop")


def test_triage_pages_fit_a_phone(desk, live_server, browser):
    context, page, outside, errors = _open_page(browser, PHONE)
    try:
        login(page, live_server, "dora")
        for path, name in (
            ("/triage/", "triage-queue-phone"),
            ("/triage/hot/", "triage-hot-phone"),
        ):
            page.goto(f"{live_server.url}{path}")
            if "hot" in path:
                page.wait_for_selector(".leaflet-interactive")
            assert overflow_x(page) <= 0, (path, overflow_x(page))
            shot(page, name)
    finally:
        context.close()
    assert not outside and not errors, (outside, errors)
    assert DESKTOP
