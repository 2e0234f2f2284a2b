"""Browser journey of the early warning: a signal → staff propose a warning → the street leader
cannot approve level II, the district leader does → published → a resident of that community
sees it on the phone page, a resident elsewhere does not → the CAP feed lists it and its XML
validates → the leader updates it → cancels it. Screenshots at desktop and 390 px."""

from __future__ import annotations

import datetime as dt

import pytest
import xmlschema
from lxml import etree

from renzhi.warning import cap
from renzhi.warning.models import DetectorConfig, Series, Signal, Status, Warning
from tests.browser.conftest import PHONE, _open_page, login, overflow_x, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signal(world):
    from renzhi.appeals.models import Category

    water = Category.objects.create(code="01", name="市政设施")
    sub = Category.objects.create(code="0101", name="供水问题", parent=water)
    DetectorConfig.objects.create(category=sub, method="ears_c2", severity=2)  # severe category
    series = Series.objects.create(place=world.community_a, place_level="community", category=sub)
    return Signal.objects.create(
        series=series,
        day=dt.date.today(),
        method="ears_c2",
        observed=9,
        expected=1.2,
        upperbound=4.1,
        score=6.3,
    )


def _as(browser, live_server, username, options=None):
    from tests.browser.conftest import DESKTOP

    context, page, outside, errors = _open_page(browser, options or DESKTOP)
    login(page, live_server, username)
    return context, page, outside, errors


def _close(context, outside, errors):
    context.close()
    assert not outside, f"requests left the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def test_signal_to_published_warning_to_resident_to_cap_and_back(
    browser, live_server, world, signal
):
    url = live_server.url
    # staff: the signal list, one click to propose
    ctx, page, out, err = _as(browser, live_server, "alice")
    page.goto(f"{url}/warnings/signals/")
    assert page.locator(f"[data-signal='{signal.pk}']").count() == 1
    shot(page, "warning_signals_desktop")
    page.click(f"[data-signal='{signal.pk}'] [data-propose]")
    page.wait_for_selector("[data-warning-detail]")
    warning = Warning.objects.get()
    assert warning.level == 2  # the category is severe: orange
    page.click("[data-step='submit']")
    page.wait_for_selector("[data-warning-detail][data-status='submitted']")
    _close(ctx, out, err)

    # the street leader may not approve level II
    ctx, page, out, err = _as(browser, live_server, "leo")
    page.goto(f"{url}/warnings/{warning.pk}/")
    page.click("[data-step='approve']")
    page.wait_for_selector(".alert-error")
    assert "区" in page.locator(".alert-error").inner_text()
    warning.refresh_from_db()
    assert warning.status == Status.SUBMITTED
    _close(ctx, out, err)

    # the district leader approves; staff publish
    ctx, page, out, err = _as(browser, live_server, "frank")
    page.goto(f"{url}/warnings/{warning.pk}/")
    page.click("[data-step='approve']")
    page.wait_for_selector("[data-warning-detail][data-status='approved']")
    _close(ctx, out, err)
    ctx, page, out, err = _as(browser, live_server, "alice")
    page.goto(f"{url}/warnings/{warning.pk}/")
    page.click("[data-step='publish']")
    page.wait_for_selector("[data-warning-detail][data-status='published']")
    assert page.locator("[data-activate-plan]").get_attribute("href") == (
        f"/emergency/incidents/new/?warning={warning.pk}"
    )
    shot(page, "warning_detail_desktop")
    page.goto(f"{url}/warnings/map/")
    page.wait_for_selector("[data-warning-map] path")
    shot(page, "warning_map_desktop")
    page.goto(f"{url}/warnings/series/{signal.series_id}/")
    page.wait_for_selector("[data-series-chart] canvas")
    shot(page, "warning_series_desktop")
    _close(ctx, out, err)

    # residents on their phones: inside the area sees it, outside does not
    ctx, phone, out, err = _as(browser, live_server, "charlie", PHONE)
    phone.goto(f"{url}/warnings/mine/")
    assert phone.locator(f"[data-warning='{warning.pk}']").count() == 1
    assert overflow_x(phone) <= 0
    shot(phone, "warning_mine_phone")
    _close(ctx, out, err)
    ctx, phone, out, err = _as(browser, live_server, "ivy", PHONE)
    phone.goto(f"{url}/warnings/mine/")
    assert phone.locator("[data-warning]").count() == 0
    assert phone.locator("[data-no-warnings]").count() == 1
    _close(ctx, out, err)

    # the public CAP feed lists it; its XML validates against the OASIS schema
    ctx, page, out, err = _open_page(browser, {"viewport": {"width": 1280, "height": 800}})
    feed = page.request.get(f"{url}/cap/feed.xml")
    assert feed.ok
    root = etree.fromstring(feed.body())
    links = [
        e.get("href") for e in root.iter(f"{{{cap.ATOM_NS}}}link") if e.get("rel") == "alternate"
    ]
    assert len(links) == 1
    xml = page.request.get(links[0]).body().decode()
    xmlschema.XMLSchema(str(cap.SCHEMA_PATH)).validate(xml)
    assert warning.headline in xml
    _close(ctx, out, err)

    # the district leader updates, then cancels
    ctx, page, out, err = _as(browser, live_server, "frank")
    page.goto(f"{url}/warnings/{warning.pk}/edit/")
    page.fill("#id_headline", "甲一社区供水中断，抢修中")
    page.fill("#id_note", "抢修队已到场")
    page.click("[data-warning-form] button[type=submit]")
    page.wait_for_selector("[data-warning-detail][data-status='updated']")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "warning_detail_phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.fill("[data-cancel-reason]", "供水已恢复")
    page.click("[data-step='cancel']")
    page.wait_for_selector("[data-warning-detail][data-status='cancelled']")
    _close(ctx, out, err)
    warning.refresh_from_db()
    assert [m.msg_type for m in warning.cap_messages.order_by("sent", "id")] == [
        "Alert",
        "Update",
        "Cancel",
    ]

    ctx, phone, out, err = _as(browser, live_server, "charlie", PHONE)
    phone.goto(f"{url}/warnings/mine/")
    assert phone.locator("[data-warning]").count() == 0
    _close(ctx, out, err)
