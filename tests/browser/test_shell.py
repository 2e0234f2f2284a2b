"""Journeys through the shell: menus per role, the place map, point lookup, account admin,
field errors in Chinese, the language switch. Screenshots land in tests/browser/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, overflow_x, shot

pytestmark = pytest.mark.browser

# The menu by role: (section, entries); a section of None is a plain link.
HOME, MESSAGES = (None, ["首页"]), (None, ["消息"])
COMMONS = ("居民自治", ["概览", "议事协商", "社区活动", "时间银行"])
WARNINGS = ("监测预警", ["预警", "信号", "预警地图"])
RESIDENT_MENU = [
    HOME,
    ("接诉即办", ["反映问题", "我的诉求"]),
    (None, ["身边预警"]),
    COMMONS,
    MESSAGES,
]
STAFF_EMERGENCY = [
    "事件",
    "我的任务",
    "预案",
    "避难场所",
    "物资储备",
    "物资申请",
    "物资发放",
    "人员",
]
COMMUNITY_STAFF_MENU = [
    HOME,
    ("接诉即办", ["诉求", "热线登记", "分拨队列", "热点问题"]),
    WARNINGS,
    ("应急处置", [*STAFF_EMERGENCY, "我的召集", "重点人群"]),
    COMMONS,
    MESSAGES,
    ("系统管理", ["地点", "承办单位", "API 令牌"]),
]
LEADER_EMERGENCY = ("应急处置", ["应急看板", *STAFF_EMERGENCY, "我的召集"])
MENUS = {
    "alice": COMMUNITY_STAFF_MENU,
    "bob": COMMUNITY_STAFF_MENU,
    "charlie": RESIDENT_MENU,
    "ivy": RESIDENT_MENU,
    "dora": [
        HOME,
        ("接诉即办", ["诉求", "热线登记", "分拨队列", "热点问题"]),
        WARNINGS,
        ("应急处置", [*STAFF_EMERGENCY, "我的召集"]),
        COMMONS,
        MESSAGES,
        ("系统管理", ["地点", "承办单位", "API 令牌"]),
    ],
    "erin": [
        HOME,
        (None, ["诉求"]),
        ("应急处置", ["事件", "我的任务"]),
        MESSAGES,
        ("系统管理", ["地点", "承办单位", "API 令牌"]),
    ],
    "gina": [
        HOME,
        ("接诉即办", ["诉求", "巡查上报"]),
        (
            "应急处置",
            [
                "事件",
                "我的任务",
                "避难场所",
                "物资储备",
                "物资申请",
                "物资发放",
                "我的召集",
                "重点人群",
            ],
        ),
        COMMONS,
        MESSAGES,
        ("系统管理", ["地点", "承办单位", "API 令牌"]),
    ],
    "frank": [
        HOME,
        ("接诉即办", ["诉求", "热点问题"]),
        WARNINGS,
        LEADER_EMERGENCY,
        COMMONS,
        MESSAGES,
        ("系统管理", ["地点", "承办单位", "API 令牌"]),
    ],
    "adam": [
        HOME,
        (None, ["诉求"]),
        WARNINGS,
        (
            "应急处置",
            ["事件", "我的任务", "预案", "物资储备", "物资申请", "物资发放", "人员", "我的召集"],
        ),
        COMMONS,
        MESSAGES,
        ("系统管理", ["地点", "承办单位", "用户", "工作日历", "API 令牌", "Open311 合作方密钥"]),
    ],
    "root": [
        HOME,
        ("接诉即办", ["诉求", "热点问题", "分拨模型"]),
        WARNINGS,
        LEADER_EMERGENCY,
        COMMONS,
        MESSAGES,
        (
            "系统管理",
            [
                "地点",
                "承办单位",
                "用户",
                "工作日历",
                "审计",
                "API 令牌",
                "Open311 合作方密钥",
                "Open311 服务附加项",
            ],
        ),
    ],
}


def nav_sections(page) -> list[tuple[str | None, list[str]]]:
    """The menu as drawn: each top-level entry, a drop-down with its label and links."""
    sections = []
    for item in page.locator("ul.nav > li").all():
        links = [t.strip() for t in item.locator("a").all_text_contents()]
        if item.locator("summary").count():
            sections.append((item.locator("summary").text_content().strip(), links))
        else:
            sections.append((None, links))
    return sections


@pytest.mark.parametrize("username", sorted(MENUS))
def test_each_role_sees_exactly_its_menu(world, live_server, page, username):
    login(page, live_server, username)
    assert nav_sections(page) == MENUS[username]
    assert page.locator(".account-name").inner_text() == username.title()


def test_login_page_renders_on_desktop_and_phone(db, live_server, page, phone_page):
    for current, size in ((page, "desktop"), (phone_page, "phone")):
        current.goto(f"{live_server.url}/login/")
        assert current.locator("h1").inner_text() == "登录"
        assert overflow_x(current) == 0
        shot(current, f"login-{size}")


def test_home_shell_states_who_and_what_is_in_scope(world, live_server, page, phone_page):
    login(page, live_server, "adam")
    assert "甲街道" in page.locator("main").inner_text()
    assert page.locator(".stat").count() >= 4
    page.wait_for_selector("#scope-chart svg")
    shot(page, "home-desktop")

    login(phone_page, live_server, "adam")
    assert not phone_page.locator("ul.nav").is_visible()
    phone_page.click("[data-menu-toggle]")
    assert phone_page.locator("ul.nav").is_visible()
    assert nav_sections(phone_page)[-1][1][-1] == "Open311 合作方密钥"
    assert overflow_x(phone_page) == 0
    shot(phone_page, "home-phone")


@pytest.mark.parametrize("username, grids", [("root", 3), ("alice", 2), ("gina", 1)])
def test_place_map_draws_the_grids_in_scope(world, live_server, page, username, grids):
    login(page, live_server, username)
    page.goto(f"{live_server.url}/places/")
    page.wait_for_selector("[data-map][data-grids]")
    assert page.locator(".leaflet-overlay-pane path.rz-grid").count() == grids
    assert page.locator(".leaflet-tile-pane img").count() == 0  # no tiles, nothing from outside
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
    if username == "root":
        assert page.locator(".leaflet-overlay-pane path.rz-community").count() == 2
        assert page.locator(".place-label").all_inner_texts() == ["甲一社区", "乙一社区"]
        shot(page, "places-desktop")


def test_place_map_on_a_phone(world, live_server, phone_page):
    login(phone_page, live_server, "root")
    phone_page.goto(f"{live_server.url}/places/")
    phone_page.wait_for_selector("[data-map][data-grids]")
    assert phone_page.locator(".leaflet-overlay-pane path.rz-grid").count() == 3
    assert overflow_x(phone_page) == 0
    shot(phone_page, "places-phone")


def test_locating_a_point_shows_its_grid_or_outside(world, live_server, page):
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/places/")
    page.wait_for_selector("[data-map][data-grids]")
    page.fill("#locate-lat", "39.925")
    page.fill("#locate-lng", "116.425")
    page.click("[data-locate-form] button")
    path = page.locator("[data-path]")
    path.wait_for()
    assert "甲一社区第1网格" in path.inner_text()
    assert "110105001001001" in path.inner_text()
    assert page.locator("[data-place-name]").inner_text() == "甲一社区第1网格"
    shot(page, "places-located-desktop")

    page.fill("#locate-lat", "31.2")
    page.fill("#locate-lng", "121.4")
    page.click("[data-locate-form] button")
    page.locator("[data-outside]").wait_for()
    assert page.locator("[data-outside]").inner_text() == "该位置不在服务区域内。"


def test_clicking_the_map_locates_the_point(world, live_server, page):
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/places/")
    page.wait_for_selector("[data-map][data-grids]")
    # Click the middle of the grid polygon B1.
    box = page.locator(".leaflet-overlay-pane path.rz-grid").nth(2).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("[data-path]").wait_for()
    assert "乙一社区第1网格" in page.locator("[data-path]").inner_text()
    assert page.input_value("#locate-lat").startswith("39.9")


def test_admin_creates_a_user_and_grants_a_role(world, live_server, page, phone_page):
    from renzhi.core.models import Membership, User

    login(page, live_server, "root")
    page.goto(f"{live_server.url}/users/")
    assert "138****0001" in page.locator("#user-results").inner_text()
    shot(page, "users-desktop")

    page.fill("#id_q", "ali")  # live search (htmx) narrows the list without a page load
    # A locator, not wait_for_function: the CSP forbids the eval a string predicate needs.
    expect(page.locator("#user-results tbody tr")).to_have_count(1)
    assert "alice" in page.locator("#user-results").inner_text()
    assert page.url.endswith("/users/?q=ali&role=")

    page.click("text=新建账号")
    page.fill("#id_username", "hank")
    page.fill("#id_display_name", "韩网格")
    page.fill("#id_phone", "13900000077")
    page.fill("#id_password", "Gr1dW0rker!")
    page.click("button:has-text('创建账号')")
    page.wait_for_selector("text=账号 hank 已创建。")

    page.select_option("#id_role", "grid_worker")
    page.select_option("#id_place", "110105001001002")
    page.click("button:has-text('授予角色')")
    page.wait_for_selector("text=角色已授予。")
    assert "网格员" in page.locator("table").first.inner_text()
    assert "甲一社区第2网格" in page.locator("table").first.inner_text()
    hank = User.objects.get(username="hank")
    assert Membership.objects.filter(user=hank, role="grid_worker", place=world.grid_a2).exists()
    shot(page, "user-detail-desktop")

    login(phone_page, live_server, "root")
    phone_page.goto(f"{live_server.url}/users/")
    assert overflow_x(phone_page) == 0
    shot(phone_page, "users-phone")
    phone_page.goto(f"{live_server.url}/users/{hank.pk}/")
    assert overflow_x(phone_page) == 0
    shot(phone_page, "user-detail-phone")


def test_a_too_weak_password_shows_a_chinese_field_error(world, live_server, page):
    from renzhi.core.models import User

    login(page, live_server, "root")
    page.goto(f"{live_server.url}/users/new/")
    page.fill("#id_username", "weakling")
    page.fill("#id_password", "12345678")
    page.click("button:has-text('创建账号')")
    error = page.locator(".field.has-error:has(#id_password) .field-error")
    error.first.wait_for()
    messages = " ".join(error.all_inner_texts())
    assert "密码必须同时包含字母和数字。" in messages
    assert page.get_attribute("#id_password", "aria-invalid") == "true"
    assert not User.objects.filter(username="weakling").exists()


def test_a_grant_outside_the_jurisdiction_is_refused_next_to_the_field(world, live_server, page):
    login(page, live_server, "adam")
    page.goto(f"{live_server.url}/users/{world.alice.pk}/")
    page.select_option("#id_role", "unit_handler")
    page.click("button:has-text('授予角色')")
    assert (
        "承办单位人员必须隶属于某个承办单位。"
        in page.locator(".field:has(#id_unit) .field-error").inner_text()
    )


def test_calendar_shows_spring_festival_and_make_up_days(world, live_server, page, phone_page):
    login(page, live_server, "root")
    page.goto(f"{live_server.url}/calendar/?month=2026-02")
    holidays = page.locator("td.day-holiday:not(.day-outside) .day-number").all_inner_texts()
    assert holidays == [str(d) for d in range(15, 24)]
    makeup = page.locator("td.day-makeup:not(.day-outside) .day-number").all_inner_texts()
    assert makeup == ["14", "28"]
    assert "春节" in page.locator("td.day-holiday").first.inner_text()
    shot(page, "calendar-desktop")

    login(phone_page, live_server, "root")
    phone_page.goto(f"{live_server.url}/calendar/?month=2026-02")
    assert overflow_x(phone_page) == 0
    shot(phone_page, "calendar-phone")


def test_language_switch_to_english_and_back(world, live_server, page):
    login(page, live_server, "root")
    page.click(".lang-switch button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert [label for label, _links in nav_sections(page)] == [
        None,
        "Appeal handling",
        "Early warning",
        "Emergency response",
        "Self-governance",
        None,
        "Administration",
    ]
    assert nav_sections(page)[-1][1][:3] == ["Places", "Units", "Users"]
    assert page.locator("h1").inner_text() == "Hello, Root"
    page.goto(f"{live_server.url}/users/new/")
    page.fill("#id_username", "weakling")
    page.fill("#id_password", "abcdefgh")
    page.click("button[type=submit]:has-text('Create account')")
    assert (
        "The password must contain both letters and digits."
        in page.locator(".field:has(#id_password)").inner_text()
    )
    shot(page, "user-create-english")

    page.click(".lang-switch button[value=zh-hans]")
    page.wait_for_selector("html[lang=zh-Hans]")
    assert nav_sections(page)[0] == (None, ["首页"])


@pytest.mark.parametrize(
    "name, url",
    [
        ("units", "/units/"),
        ("audit", "/audit/"),
        ("tokens", "/tokens/"),
        ("user-create", "/users/new/"),
    ],
)
def test_other_pages_fit_a_phone(world, live_server, phone_page, name, url):
    login(phone_page, live_server, "root")
    phone_page.goto(f"{live_server.url}{url}")
    assert overflow_x(phone_page) == 0
    shot(phone_page, f"{name}-phone")


def test_register_and_forbidden_pages_fit_a_phone(world, live_server, phone_page):
    phone_page.goto(f"{live_server.url}/register/")
    phone_page.fill("#id_phone", "123")
    phone_page.click("button[type=submit]:has-text('发送验证码')")
    assert (
        "请输入 11 位中国大陆手机号码。" in phone_page.locator(".field:has(#id_phone)").inner_text()
    )
    assert overflow_x(phone_page) == 0
    shot(phone_page, "register-phone")

    login(phone_page, live_server, "charlie")
    phone_page.goto(f"{live_server.url}/places/")
    assert "无权访问" in phone_page.locator("h1").inner_text()
    assert overflow_x(phone_page) == 0
    shot(phone_page, "forbidden-phone")
