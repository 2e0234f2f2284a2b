"""Appeal journeys in the Chinese UI, desktop (1280×800) and phone (390×844):

- the closed loop: a resident reports on the phone with a photo and a map point → routed to the
  property company at once → the dispatcher sees it → the unit signs, reports progress, resolves
  with a photo → the resident is not satisfied → reopened → resolved again → satisfied → closed,
  every step on the timeline;
- return → re-dispatch → transfer; an extension requested and approved; supervision (督办) with
  the unit's inbox; a hotline call merged into the duplicate it reports.

Screenshots of every page at both widths land in tests/browser/screenshots/ (appeal-*.png).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from PIL import Image

from renzhi.appeals import actions
from renzhi.appeals.models import Appeal, Category, RoutingRule, SlaRule, State
from renzhi.core.models import Membership, Role, Unit, User
from tests.browser.conftest import DESKTOP, PHONE, _open_page, login, overflow_x, shot

pytestmark = pytest.mark.browser

LIFT_POINT = (39.925, 116.425)  # the centre of grid A1


@pytest.fixture
def town(world, settings, tmp_path):
    """`world` plus categories, the routing table (lift faults in community A → 甲一物业), SLA
    rules, two street units with handlers (mia: 甲街道市政所, nick: 甲街道供水所) and a second
    resident of community A (kate). Photos go to a temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    w = world
    w.cat_property = Category.objects.create(
        code="08", name="物业管理", sort=2, keywords="物业 小区"
    )
    w.cat_lift = Category.objects.create(
        code="0801", name="电梯故障", parent=w.cat_property, keywords="电梯 困人 停运"
    )
    w.cat_greening = Category.objects.create(
        code="0802", name="绿化养护", parent=w.cat_property, keywords="树木 草坪"
    )
    w.cat_city = Category.objects.create(code="01", name="城乡建设", sort=1)
    w.cat_water = Category.objects.create(
        code="0101", name="停水", parent=w.cat_city, keywords="自来水 水压 供水"
    )
    w.cat_road = Category.objects.create(
        code="0102", name="道路破损", parent=w.cat_city, keywords="坑 井盖"
    )
    RoutingRule.objects.create(category=w.cat_property, place=w.community_a, unit=w.unit_a)
    SlaRule.objects.create(category=None, priority="normal", sign_hours=2, resolve_days=3)
    SlaRule.objects.create(category=None, priority="urgent", sign_hours=1, resolve_days=1)
    w.unit_city = Unit.objects.create(code="U-SZ-A", name="甲街道市政所", kind="urban_management")
    w.unit_city.places.set([w.street_a])
    w.unit_water = Unit.objects.create(code="U-GS-A", name="甲街道供水所", kind="water")
    w.unit_water.places.set([w.street_a])

    def user(username, role, *, unit=None, place=None, phone=None, home=None):
        u = User.objects.create_user(
            username=username,
            password=w.password,
            display_name=username.title(),
            phone=phone,
            home_place=home,
        )
        Membership.objects.create(user=u, role=role, unit=unit, place=place)
        return u

    w.mia = user("mia", Role.UNIT_HANDLER, unit=w.unit_city)
    w.nick = user("nick", Role.UNIT_HANDLER, unit=w.unit_water)
    w.kate = user(
        "kate", Role.RESIDENT, place=w.community_a, phone="13800000011", home=w.community_a
    )
    w.photo = tmp_path / "photo.png"
    Image.new("RGB", (640, 480), (190, 60, 40)).save(w.photo)
    w.after = tmp_path / "after.png"
    Image.new("RGB", (640, 480), (40, 150, 80)).save(w.after)
    return w


@pytest.fixture
def open_as(browser, live_server):
    """`open_as(username, phone=False)`: a fresh browser context signed in as that user. Each
    context refuses requests leaving the server and fails the test on a JavaScript error."""
    opened = []

    def open_(username: str, phone: bool = False):
        context, page, outside, errors = _open_page(browser, PHONE if phone else DESKTOP)
        page.on("dialog", lambda dialog: dialog.accept())  # the merge confirmation
        opened.append((context, outside, errors))
        login(page, live_server, username)
        return page

    yield open_
    for context, outside, errors in opened:
        context.close()
        assert not outside, f"requests left the server: {outside}"
        assert not errors, f"JavaScript errors: {errors}"


# Latin words that may appear in the Chinese UI: names from the fixtures, file types, Open311.
ALLOWED_WORDS = {
    "Alice",
    "Charlie",
    "Dora",
    "Erin",
    "Gina",
    "Kate",
    "Mia",
    "Nick",
    "Excel",
    "JPEG",
    "PNG",
    "WebP",
    "GIF",
    "Open",
}


def snap(page, name: str) -> None:
    """Nothing wider than the screen, no English leaking through, then a screenshot."""
    assert overflow_x(page) == 0, f"{name}: the page is wider than the screen"
    text = page.locator("main").inner_text()
    leaks = set(re.findall(r"[A-Za-z]{3,}", text)) - ALLOWED_WORDS
    assert not leaks, f"{name}: English in the Chinese UI: {sorted(leaks)}"
    shot(page, name)


def go(page, live_server, path: str) -> None:
    page.goto(f"{live_server.url}{path}")


def timeline(page) -> list[str]:
    entries = page.locator("[data-timeline] .timeline > li")
    return entries.evaluate_all("els => els.map(e => e.dataset.verb)")


def state_of(page) -> str:
    return page.locator("[data-state]").get_attribute("data-state")


def take_step(page, verb: str, fields: dict | None = None, files: dict | None = None) -> None:
    """Fill and submit a step form on the case page, then wait for the flash message."""
    step = page.locator(f"#step-{verb}")
    if step.evaluate("el => el.tagName") == "DETAILS" and not step.get_attribute("open"):
        step.locator("summary").click()
    form = step.locator("form")
    for name, value in (fields or {}).items():
        target = form.locator(f"[name={name}]")
        if target.evaluate("el => el.tagName") == "SELECT":
            target.select_option(label=value)
        else:
            target.fill(value)
    for name, path in (files or {}).items():
        form.locator(f"[name={name}]").set_input_files(str(path))
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".alert-success")


def mark_map(page) -> None:
    """Tap the middle of the first grid drawn (grid A1)."""
    page.wait_for_selector("[data-intake-map][data-grids]")
    page.locator("[data-intake-map] path.rz-grid").first.click()
    page.wait_for_selector("[data-map-point].is-set")


# --- The closed loop ------------------------------------------------------------------------


def test_resident_report_is_handled_reopened_and_closed(town, live_server, open_as):
    w = town
    resident = open_as("charlie", phone=True)
    go(resident, live_server, "/appeals/new/")
    resident.wait_for_selector("[data-intake-map][data-grids]")
    snap(resident, "appeal-new-phone")
    resident.fill("[data-cat-search]", "电梯")
    assert resident.locator(".cat-option:visible").all_inner_texts() == ["电梯故障"]
    resident.click(".cat-option:has-text('电梯故障')")
    assert "物业管理 / 电梯故障" in resident.locator("[data-cat-chosen]").inner_text()
    resident.fill("#id_description", "3号楼1单元电梯停在6楼不动，老人下不了楼")
    resident.set_input_files("#id_photos", str(w.photo))
    resident.wait_for_selector("[data-photo-preview] img")
    mark_map(resident)
    assert "甲一社区第1网格" in resident.locator("[data-map-point]").inner_text()
    resident.fill("#id_address", "3号楼1单元")
    snap(resident, "appeal-new-filled-phone")
    resident.click("button[type=submit]:has-text('提交')")
    resident.wait_for_selector("[data-ticket]")
    number = resident.locator("[data-ticket] [data-tracking-no]").inner_text()
    assert re.fullmatch(r"RZ\d{8}-\d{6}", number)
    snap(resident, "appeal-submitted-phone")
    appeal = Appeal.objects.get(tracking_no=number)
    assert appeal.grid == w.grid_a1 and appeal.attachments.count() == 1
    assert appeal.state == State.DISPATCHED and appeal.unit == w.unit_a

    # The dispatcher sees it, routed by the table.
    dispatcher = open_as("dora")
    go(dispatcher, live_server, "/appeals/?mine=0")
    row = dispatcher.locator(f"tr[data-tracking-no='{number}']")
    assert "已派单" in row.inner_text() and "甲一物业" in row.inner_text()
    snap(dispatcher, "appeal-list-desktop")
    row.locator("a").first.click()
    dispatcher.wait_for_selector("[data-timeline]")
    assert timeline(dispatcher) == ["submit", "accept", "dispatch"]
    assert "派单规则" in dispatcher.locator("[data-timeline]").inner_text()

    # The unit signs, reports progress, resolves with a photo.
    unit = open_as("erin")
    go(unit, live_server, f"/appeals/{number}/")
    assert "签收期限" in unit.locator("[data-clock]").inner_text()
    snap(unit, "appeal-detail-unit-desktop")
    take_step(unit, "sign")
    take_step(unit, "progress", {"note": "维修人员已到场，正在排查控制柜"})
    take_step(unit, "resolve", {"result": "更换了电梯控制板，已恢复运行"}, {"photos": w.after})
    assert state_of(unit) == State.RESOLVED
    assert unit.locator("[data-verb=resolve] .photos img").count() == 1

    # The resident is not satisfied: the case goes back to the unit.
    go(resident, live_server, f"/appeals/{number}/")
    resident.wait_for_selector("#step-rate")
    snap(resident, "appeal-rate-phone")
    resident.check("#step-rate input[name=rating][value='1']")
    resident.fill("#step-rate textarea[name=comment]", "第二天又坏了")
    resident.click("#step-rate button[type=submit]")
    resident.wait_for_selector(".alert-success")
    assert state_of(resident) == State.DISPATCHED
    assert (
        "重办" in resident.locator("[data-timeline]").inner_text()
        or "退回" in resident.locator("[data-timeline]").inner_text()
    )

    go(unit, live_server, f"/appeals/{number}/")
    take_step(unit, "sign")
    take_step(unit, "resolve", {"result": "更换了曳引机编码器，连续观察两天正常"})

    go(resident, live_server, f"/appeals/{number}/")
    resident.check("#step-rate input[name=rating][value='5']")
    resident.click("#step-rate button[type=submit]")
    resident.wait_for_selector(".alert-success")
    assert state_of(resident) == State.CLOSED
    expected = [
        "submit",
        "accept",
        "dispatch",
        "sign",
        "progress",
        "resolve",
        "rate",
        "reopen",
        "sign",
        "resolve",
        "rate",
    ]
    assert timeline(resident) == expected
    snap(resident, "appeal-closed-phone")

    go(dispatcher, live_server, f"/appeals/{number}/")
    assert timeline(dispatcher) == expected
    snap(dispatcher, "appeal-detail-staff-desktop")
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED and appeal.reopen_count == 1
    assert appeal.satisfaction == "satisfied"

    go(resident, live_server, "/appeals/mine/")
    assert "已关闭" in resident.locator(f"[data-tracking-no='{number}']").inner_text()
    snap(resident, "appeal-mine-phone")


def test_resident_form_on_desktop_and_its_field_errors(town, live_server, open_as):
    page = open_as("charlie")
    go(page, live_server, "/appeals/new/")
    page.wait_for_selector("[data-intake-map][data-grids]")
    snap(page, "appeal-new-desktop")
    page.click("button[type=submit]:has-text('提交')")
    page.wait_for_selector(".field-error")
    assert "请选择分类。" in page.locator(".has-error:has(#id_category)").inner_text()
    assert "请描述问题。" in page.locator(".has-error:has(#id_description)").inner_text()
    assert Appeal.objects.count() == 0
    snap(page, "appeal-new-errors-desktop")


# --- Side transitions -----------------------------------------------------------------------


def test_return_then_dispatch_then_transfer(town, live_server, open_as):
    w = town
    appeal = actions.submit_appeal(
        w.kate,
        channel="web",
        description="小区自来水已经停了一天",
        category=w.cat_water,
        lat=39.93,
        lng=116.44,
    ).appeal
    assert appeal.state == State.RECEIVED  # no routing rule for water: waits for dispatch
    number = appeal.tracking_no

    dispatcher = open_as("dora")
    go(dispatcher, live_server, "/appeals/")  # the dispatcher's own queue
    assert dispatcher.locator(f"tr[data-tracking-no='{number}']").count() == 1
    dispatcher.click(f"tr[data-tracking-no='{number}'] a")
    take_step(dispatcher, "dispatch", {"unit": "甲一物业", "note": "请核实小区二次供水"})

    unit = open_as("erin")
    go(unit, live_server, f"/appeals/{number}/")
    take_step(unit, "return", {"reason": "市政管网停水，不属于物业"})
    assert unit.url.endswith("/appeals/")  # no longer the unit's case: back to its list
    assert unit.locator(f"tr[data-tracking-no='{number}']").count() == 0

    go(dispatcher, live_server, f"/appeals/{number}/")
    assert state_of(dispatcher) == State.ACCEPTED
    take_step(dispatcher, "dispatch", {"unit": "甲街道市政所"})
    take_step(dispatcher, "transfer", {"unit": "甲街道供水所", "reason": "经核实为供水管网故障"})
    assert timeline(dispatcher) == [
        "submit",
        "accept",
        "dispatch",
        "return",
        "dispatch",
        "transfer",
    ]
    transfer = dispatcher.locator("[data-timeline] li[data-verb=transfer]")
    assert "甲街道供水所" in transfer.inner_text()
    snap(dispatcher, "appeal-transfer-desktop")
    appeal.refresh_from_db()
    assert appeal.unit == w.unit_water and appeal.return_count == 1

    # The resident sees the friendly timeline: no internal return note.
    resident = open_as("kate", phone=True)
    go(resident, live_server, f"/appeals/{number}/")
    assert "不属于物业" not in resident.locator("main").inner_text()
    snap(resident, "appeal-detail-resident-phone")


def test_extension_requested_and_approved(town, live_server, open_as):
    w = town
    appeal = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="电梯按钮失灵",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal
    number = appeal.tracking_no
    unit = open_as("erin")
    go(unit, live_server, f"/appeals/{number}/")
    take_step(unit, "sign")
    take_step(unit, "request-extension", {"days": "2", "reason": "需要厂家寄送配件"})
    deadline = Appeal.objects.get(pk=appeal.pk).resolve_deadline

    dispatcher = open_as("dora")
    go(dispatcher, live_server, "/appeals/")  # pending extensions are in the dispatcher's queue
    row = dispatcher.locator(f"tr[data-tracking-no='{number}']")
    assert "申请延期" in row.inner_text() or "延期" in row.inner_text()
    row.locator("a").first.click()
    assert "需要厂家寄送配件" in dispatcher.locator("[data-steps]").inner_text()
    snap(dispatcher, "appeal-extension-desktop")
    take_step(dispatcher, "decide-extension")
    assert timeline(dispatcher)[-2:] == ["request_extension", "approve_extension"]
    assert Appeal.objects.get(pk=appeal.pk).resolve_deadline > deadline


def test_supervision_reaches_the_unit_inbox(town, live_server, open_as):
    w = town
    appeal = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="电梯反复困人",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal
    number = appeal.tracking_no
    dispatcher = open_as("dora")
    go(dispatcher, live_server, f"/appeals/{number}/")
    take_step(dispatcher, "supervise", {"note": "一周内第三次反映，请今日内处置"})
    assert dispatcher.locator(".flag-supervised").count() >= 1

    unit = open_as("erin", phone=True)
    go(unit, live_server, "/appeals/inbox/")
    item = unit.locator(".inbox-list li.unread", has_text=number).filter(has_text="督办")
    assert item.count() == 1
    snap(unit, "appeal-inbox-phone")
    item.locator("a").click()
    unit.wait_for_selector("[data-timeline]")
    assert number in unit.url
    assert "一周内第三次反映" in unit.locator("[data-timeline]").inner_text()
    snap(unit, "appeal-detail-unit-phone")
    go(unit, live_server, "/appeals/?supervised=on&mine=0")
    assert unit.locator(f"tr[data-tracking-no='{number}']").count() == 1
    snap(unit, "appeal-list-phone")


def test_hotline_call_is_merged_into_the_duplicate(town, live_server, open_as):
    w = town
    first = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="3号楼电梯停运",
        category=w.cat_lift,
        lat=LIFT_POINT[0],
        lng=LIFT_POINT[1],
    ).appeal
    staff = open_as("alice")
    go(staff, live_server, "/appeals/hotline/")
    staff.wait_for_selector("[data-intake-map][data-grids]")
    snap(staff, "appeal-hotline-desktop")
    staff.fill("#id_contact_phone", "13912345678")
    staff.fill("#id_contact_name", "王阿姨")
    staff.fill("#id_description", "来电：3号楼电梯又停了，家里有老人")
    staff.select_option("#id_category", label="电梯故障")
    mark_map(staff)
    staff.click("button[type=submit]:has-text('登记')")
    staff.wait_for_selector("[data-ticket]")
    number = staff.locator("[data-ticket] [data-tracking-no]").inner_text()
    duplicate = staff.locator(f"[data-duplicate='{first.tracking_no}']")
    assert duplicate.count() == 1
    snap(staff, "appeal-duplicates-desktop")
    duplicate.locator("button[type=submit]").click()
    staff.wait_for_selector(".alert-success")
    assert state_of(staff) == State.MERGED
    assert first.tracking_no in staff.locator("[data-timeline] li[data-verb=merge]").inner_text()
    merged = Appeal.objects.get(tracking_no=number)
    assert merged.channel == "hotline" and merged.merged_into == first

    go(staff, live_server, f"/appeals/{first.tracking_no}/")
    assert number in staff.locator("main").inner_text()  # listed under duplicates merged here


def test_leader_finds_overdue_cases_and_supervises(town, live_server, open_as):
    w = town
    late = actions.submit_appeal(
        w.ivy,
        channel="web",
        description="乙一社区5号楼电梯困人",
        category=w.cat_lift,
        lat=39.92,
        lng=116.55,
    ).appeal
    actions.accept(w.bob, late)
    actions.dispatch(w.bob, late, unit=w.unit_b)
    actions.submit_appeal(  # on time: must not be listed
        w.charlie,
        channel="web",
        description="3号楼电梯异响",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    )
    past = timezone.now() - dt.timedelta(days=6)  # dispatched a week ago, never signed for
    Appeal.objects.filter(pk=late.pk).update(
        received_at=past,
        dispatched_at=past,
        first_dispatched_at=past,
        sign_deadline=past + dt.timedelta(hours=2),
        resolve_deadline=past + dt.timedelta(days=3),
    )
    actions.mark_overdue()

    leader = open_as("frank")
    go(leader, live_server, "/appeals/")
    leader.click(".presets a:has-text('超期')")
    leader.wait_for_selector(f"tr[data-tracking-no='{late.tracking_no}']")
    assert leader.locator("tbody tr").count() == 1
    assert leader.locator(".flag-overdue").count() == 1
    snap(leader, "appeal-leader-overdue-desktop")
    leader.click(f"tr[data-tracking-no='{late.tracking_no}'] a")
    assert "已超期" in leader.locator("[data-clock]").inner_text()
    take_step(leader, "supervise", {"note": "已超期，请乙一物业今日办结并回复"})
    assert leader.locator(".flag-supervised").count() == 1
    assert timeline(leader)[-1] == "supervise"

    phone = open_as("frank", phone=True)
    go(phone, live_server, "/appeals/?mine=1")  # a leader's queue: open supervised cases
    assert phone.locator(f"tr[data-tracking-no='{late.tracking_no}']").count() == 1
    snap(phone, "appeal-leader-queue-phone")


# --- Every page on the phone ----------------------------------------------------------------


def test_staff_pages_fit_a_phone(town, live_server, open_as):
    w = town
    appeal = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="楼道灯不亮，晚上看不见",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal
    actions.sign(w.erin, appeal)
    dispatcher = open_as("dora", phone=True)
    go(dispatcher, live_server, "/appeals/?mine=0")
    snap(dispatcher, "appeal-list-dispatcher-phone")
    go(dispatcher, live_server, f"/appeals/{appeal.tracking_no}/")
    snap(dispatcher, "appeal-detail-staff-phone")
    go(dispatcher, live_server, "/appeals/hotline/")
    dispatcher.wait_for_selector("[data-intake-map][data-grids]")
    snap(dispatcher, "appeal-hotline-phone")
    worker = open_as("gina", phone=True)
    go(worker, live_server, "/appeals/patrol/")
    worker.wait_for_selector("[data-intake-map][data-grids]")
    assert worker.locator("#id_place").input_value() == w.grid_a1.code
    snap(worker, "appeal-patrol-phone")
    go(worker, live_server, "/appeals/inbox/")
    snap(worker, "appeal-inbox-empty-phone")
    desk = open_as("erin")
    go(desk, live_server, "/appeals/inbox/")
    snap(desk, "appeal-inbox-desktop")
