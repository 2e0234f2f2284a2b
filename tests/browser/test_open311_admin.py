"""The Open311 admin pages in the Chinese UI, desktop (1280×800) and phone (390×844):

- root issues a partner key on /open311/keys/, sees the raw key once, a partner files a request
  with it over plain HTTP (urllib against the live server, as a partner app would), the request
  appears on the key's page; root revokes the key and the next POST is refused with 403 in the
  GeoReport v2 error format;
- root adds a singlevaluelist question to a category on /open311/attributes/ and the service
  definition `services/<code>.json` carries it;
- a street admin (adam) sees and may open only the keys of his street;
- every page fits 390 px without horizontal scrolling.

Screenshots land in tests/browser/screenshots/ (open311-*.png).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from renzhi.appeals.models import Appeal, Category, RoutingRule, SlaRule
from renzhi.open311 import actions
from renzhi.open311.models import PartnerRequest
from tests.browser.conftest import login, overflow_x, shot

pytestmark = pytest.mark.browser

IN_GRID_A1 = {"lat": "39.925", "long": "116.425"}


@pytest.fixture
def partners(world, settings):
    """`world` plus public categories (lift faults routed to 甲一物业 in community A), SLA rules
    and one jurisdiction, so a partner key can file a lift fault in grid A1."""
    settings.RENZHI_OPEN311_JURISDICTIONS = ["renzhi.demo"]
    w = world
    w.cat_property = Category.objects.create(
        code="08", name="物业管理", keywords="物业 小区", open311_public=True
    )
    w.cat_lift = Category.objects.create(
        code="0801",
        name="电梯故障",
        parent=w.cat_property,
        keywords="电梯 困人",
        open311_public=True,
    )
    RoutingRule.objects.create(category=w.cat_property, place=w.community_a, unit=w.unit_a)
    SlaRule.objects.create(category=None, priority="normal", sign_hours=2, resolve_days=3)
    SlaRule.objects.create(category=None, priority="urgent", sign_hours=1, resolve_days=1)
    return w


def call(live_server, path: str, form: dict | None = None, params: dict | None = None):
    """One plain HTTP call to the GeoReport v2 API: (status, parsed JSON body)."""
    url = f"{live_server.url}/open311/v2/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, headers={"Accept-Language": "zh-hans"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8"))


def lift_fault(api_key: str, description: str) -> dict:
    return {"api_key": api_key, "service_code": "0801", "description": description, **IN_GRID_A1}


def test_root_issues_a_key_that_files_then_revokes_it(partners, live_server, page):
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/open311/keys/")
    assert page.locator("h1").inner_text() == "Open311 合作方密钥"
    assert "暂无" in page.locator("table").inner_text()

    page.fill("#id_name", "邻区市民App")
    page.select_option("#id_place", label="甲街道")
    page.fill("#id_rate_limit", "30")
    page.click("form button[type=submit]:has-text('签发密钥')")
    raw_key = page.locator("[data-new-key]").inner_text().strip()
    assert re.fullmatch(r"o311_[\w-]{40,}", raw_key)
    row = page.locator("table tbody tr", has_text="邻区市民App")
    assert row.locator("code").inner_text() == raw_key[:10] + "…"
    assert "甲街道" in row.inner_text() and "有效" in row.inner_text()
    # Open311's own words, not the API-token page's (令牌) that share the English msgid.
    assert "密钥开头" in page.locator("table thead").inner_text()
    shot(page, "open311-keys-desktop")

    page.goto(f"{live_server.url}/open311/keys/")  # shown once: never again
    assert page.locator("[data-new-key]").count() == 0
    assert raw_key not in page.content()

    status, body = call(live_server, "requests.json", lift_fault(raw_key, "3号楼电梯困人"))
    assert status == 200, body
    appeal = Appeal.objects.get(public_id=body[0]["service_request_id"])
    tracking_no = appeal.tracking_no  # the key page shows staff the tracking number
    assert appeal.channel == "open311"
    assert PartnerRequest.objects.get(appeal=appeal).key.name == "邻区市民App"

    page.goto(f"{live_server.url}/open311/keys/")
    row = page.locator("table tbody tr", has_text="邻区市民App")
    assert row.locator("td").nth(3).inner_text() == "1"  # appeals filed
    row.locator("a").click()
    page.wait_for_url(re.compile(r"/open311/keys/\d+/$"))
    filed = page.locator("table tbody tr", has_text=tracking_no)
    assert "电梯故障" in filed.inner_text() and "未结" in filed.inner_text()
    assert "提交时间" in page.locator("table thead").inner_text()
    assert filed.locator("a").inner_text() == tracking_no
    shot(page, "open311-key-detail-desktop")

    page.on("dialog", lambda dialog: dialog.accept())  # the revoke confirmation
    page.click("button:has-text('吊销密钥')")
    page.wait_for_selector("h1 .badge-off")
    assert "已吊销" in page.locator("h1").inner_text()
    assert page.locator("button:has-text('吊销密钥')").count() == 0

    status, body = call(live_server, "requests.json", lift_fault(raw_key, "又困人了"))
    assert status == 403
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"code", "description"} and body[0]["code"] == 403
    assert "api_key" in body[0]["description"]
    assert Appeal.objects.filter(description__contains="又困人了").count() == 0


def test_root_adds_a_choice_question_that_the_service_definition_carries(
    partners, live_server, page, phone_page
):
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/open311/attributes/")
    assert page.locator("h1").inner_text() == "Open311 服务附加项"
    page.click("a:has-text('电梯故障')")
    page.wait_for_url(f"{live_server.url}/open311/attributes/0801/")

    page.fill("#id_description", "是否影响通行")
    page.fill("#id_code", "blocking")
    page.select_option("#id_datatype", "singlevaluelist")
    page.fill("#id_values", "1=是\n0=否")
    page.check("#id_required")
    page.click("main form button[type=submit]:has-text('保存')")
    page.wait_for_selector("table tbody tr:has-text('是否影响通行')")
    row = page.locator("table tbody tr", has_text="是否影响通行")
    assert "是 / 否" in row.inner_text()
    assert "blocking" in row.inner_text()
    shot(page, "open311-category-attributes-desktop")

    status, definition = call(live_server, "services/0801.json")
    assert status == 200
    (question,) = [a for a in definition["attributes"] if a["code"] == "blocking"]
    assert question["datatype"] == "singlevaluelist"
    assert question["required"] is True
    assert question["description"] == "是否影响通行"
    assert question["values"] == [{"key": "1", "name": "是"}, {"key": "0", "name": "否"}]

    login(phone_page, live_server, "root")
    for path, name in (
        ("/open311/attributes/", "open311-attributes-phone"),
        ("/open311/attributes/0801/", "open311-category-attributes-phone"),
    ):
        phone_page.goto(f"{live_server.url}{path}")
        assert overflow_x(phone_page) == 0, path
        shot(phone_page, name)


def test_a_street_admin_sees_only_the_keys_of_his_street(partners, live_server, page):
    w = partners
    mine, _raw = actions.issue_key(w.adam, name="甲街道便民App", place=w.street_a)
    other, _raw = actions.issue_key(w.root, name="乙街道网格通", place=w.street_b)
    everywhere, _raw = actions.issue_key(w.root, name="全区热线平台")

    login(page, live_server, "adam")
    page.goto(f"{live_server.url}/open311/keys/")
    listed = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert listed == ["甲街道便民App"]
    assert page.locator("#id_place option").all_inner_texts() == ["甲街道"]

    for key in (other, everywhere):
        response = page.goto(f"{live_server.url}/open311/keys/{key.pk}/")
        assert response is not None and response.status == 404
    response = page.goto(f"{live_server.url}/open311/attributes/")
    assert response is not None and response.status == 403
    response = page.goto(f"{live_server.url}/open311/keys/{mine.pk}/")
    assert response is not None and response.status == 200


def test_the_key_pages_fit_a_phone(partners, live_server, phone_page):
    w = partners
    key, raw_key = actions.issue_key(w.root, name="邻区市民App（测试环境）", place=w.street_a)
    status, _body = call(live_server, "requests.json", lift_fault(raw_key, "5号楼电梯异响"))
    assert status == 200

    login(phone_page, live_server, "root")
    phone_page.goto(f"{live_server.url}/open311/keys/")
    phone_page.fill("#id_name", "物业服务平台")
    phone_page.click("form button[type=submit]:has-text('签发密钥')")
    assert phone_page.locator("[data-new-key]").inner_text().startswith("o311_")
    assert overflow_x(phone_page) == 0
    shot(phone_page, "open311-keys-phone")

    phone_page.goto(f"{live_server.url}/open311/keys/{key.pk}/")
    assert phone_page.locator("table tbody tr").count() == 1
    assert overflow_x(phone_page) == 0
    shot(phone_page, "open311-key-detail-phone")
