"""Browser journey of the emergency app (the acceptance floor of issue 8):

staff report a waterlogging incident → the street leader activates level III → tasks are
created and assigned, the grid worker accepts and reports his → the volunteer accepts her
call-up and checks in → the leader transfers stock from the street depot to the community and
staff hand it to a household → staff check the vulnerable resident → the incident is closed →
the leader writes the review whose change becomes version 2 of the plan.

Every step goes through the pages (no action called behind the browser's back); screenshots at
desktop and 390 px for the docs.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.conftest import PHONE, _open_page, login, overflow_x, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready(world):
    """Street A's flood plan, a stocked street depot, an empty community depot, a volunteer
    with the rescue skill available all week, and one vulnerable resident in community A."""
    from renzhi.core.models import PersonSkill, Skill
    from renzhi.emergency.actions import reserves as stock
    from renzhi.emergency.actions import vulnerable
    from renzhi.emergency.models import Availability, Item, PersonProfile
    from renzhi.emergency.tests.factories_incidents import add_flood_plan

    w = add_flood_plan(world)
    w.street_depot = stock.create_depot(
        w.leo, code="street-a", name="甲街道储备库", kind="street", place=w.street_a
    )
    w.community_depot = stock.create_depot(
        w.alice, code="community-a", name="甲一社区储备点", kind="community", place=w.community_a
    )
    water = Item.objects.get(code="water")
    stock.receive(
        w.leo,
        w.street_depot,
        water,
        500,
        batch_no="W1",
        expires_on=dt.date.today() + dt.timedelta(days=200),
    )
    profile = PersonProfile.objects.create(
        user=w.vera, kind="volunteer", place=w.community_a, lat=39.92, lng=116.42
    )
    for day in range(7):
        Availability.objects.create(
            profile=profile, weekday=day, starts=dt.time(0, 0), ends=dt.time(23, 59)
        )
    PersonSkill.objects.create(
        user=w.vera, skill=Skill.objects.get(code="rescue"), source="declared"
    )
    w.resident = vulnerable.register_resident(
        w.alice,
        w.community_a,
        name="张奶奶",
        address="3-2-301",
        categories=["elderly_alone"],
        consent_method="书面同意",
    )
    return w


def _as(browser, live_server, username, options=None):
    from tests.browser.conftest import DESKTOP

    context, page, outside, errors = _open_page(browser, options or DESKTOP)
    login(page, live_server, username)
    return context, page, outside, errors


def _close(context, outside, errors):
    context.close()
    assert not outside, f"requests left the server: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def test_waterlogging_from_level_iii_to_a_new_plan_version(browser, live_server, ready):
    from renzhi.emergency.models import (
        CallUp,
        CheckIn,
        Distribution,
        Incident,
        StockMove,
        Task,
    )

    w = ready
    url = live_server.url

    # 1. community staff report the waterlogging
    ctx, page, out, err = _as(browser, live_server, "alice")
    page.goto(f"{url}/emergency/incidents/new/")
    page.fill("#id_title", "甲一社区暴雨内涝")
    page.select_option("#id_kind", "flood")
    page.select_option("#id_severity", "3")
    page.select_option("#id_place", w.community_a.code)
    page.fill("#id_description", "3号楼前积水40厘米，地下车库进水。")
    shot(page, "emergency_incident_new")
    page.click("#main form button[type=submit]")
    page.wait_for_selector("[data-status=reported]")
    incident = Incident.objects.get()
    _close(ctx, out, err)

    # 2. the street leader activates level III: tasks created and assigned, call-up sent
    ctx, page, out, err = _as(browser, live_server, "leo")
    page.goto(f"{url}/emergency/incidents/{incident.pk}/")
    page.select_option("#id_level", "3")
    page.click("[data-activate]")
    page.wait_for_selector("[data-level='3']")
    tasks = {t.role: t for t in Task.objects.filter(incident=incident)}
    assert set(tasks) == {"grid_worker", "community_staff", "unit_handler"}
    assert tasks["grid_worker"].assignee == w.gina and tasks["unit_handler"].unit == w.unit_a
    assert CallUp.objects.filter(incident=incident, user=w.vera, status="sent").exists()
    shot(page, "emergency_incident_detail")
    page.click("[data-board]")
    page.wait_for_selector("[data-column=open] [data-task]")
    shot(page, "emergency_task_board")
    _close(ctx, out, err)

    # 3. the grid worker accepts his task and reports it done
    ctx, page, out, err = _as(browser, live_server, "gina")
    page.goto(f"{url}/emergency/tasks/")
    page.click(f"[data-task='{tasks['grid_worker'].pk}'] a")
    page.click("[data-accept]")
    page.wait_for_selector("[data-task-status=accepted]")
    page.fill("#id_note", "低洼点位已巡查，设置警示带")
    page.check("#id_done")
    shot(page, "emergency_task_report")
    page.click("[data-report-form] button[type=submit]")
    page.wait_for_selector("[data-task-status=done]")
    _close(ctx, out, err)

    # 4. the volunteer accepts the call-up and checks in (on the phone)
    ctx, page, out, err = _as(browser, live_server, "vera", PHONE)
    page.goto(f"{url}/emergency/callups/")
    page.click("[data-callup] form[action$='/accept/'] button")
    page.wait_for_selector("[data-callup] [data-status=accepted]")
    page.click("[data-callup] form[action$='/check-in/'] button")
    page.wait_for_selector("[data-callup] [data-status=checked_in]")
    assert overflow_x(page) == 0
    _close(ctx, out, err)
    assert CallUp.objects.get(incident=incident, user=w.vera).checked_in_at is not None

    # 5. the leader moves 100 bottles of water from the street depot to the community
    ctx, page, out, err = _as(browser, live_server, "leo")
    page.goto(f"{url}/emergency/reserves/")
    form = page.locator("form[action$='/reserves/move/']")
    form.locator("#id_mv-depot").select_option("street-a")
    form.locator("#id_mv-item").select_option("water")
    form.locator("#id_mv-quantity").fill("100")
    form.locator("details summary").first.click()
    form.locator("#id_mv-to_depot").select_option("community-a")
    form.locator("#id_mv-incident").select_option(str(incident.pk))
    form.locator("button[value=transfer]").click()
    page.wait_for_selector(".alert-success")
    _close(ctx, out, err)
    assert StockMove.objects.filter(incident=incident, kind="transfer_in", quantity=100).exists()

    # 6. community staff hand water to a household
    ctx, page, out, err = _as(browser, live_server, "alice")
    page.goto(f"{url}/emergency/distributions/")
    page.select_option("#id_depot", "community-a")
    page.fill("#id_address", "3-2-301")
    page.fill("#id_head_name", "张")
    page.select_option("#id_item", "water")
    page.fill("#id_quantity", "6")
    page.fill("#id_signed_by", "张")
    page.select_option("#id_incident", str(incident.pk))
    page.click("#main form[method=post] button[type=submit]")
    page.wait_for_selector(".alert-success")
    assert Distribution.objects.filter(incident=incident, quantity=6).exists()

    # 7. ... and check on the vulnerable resident
    page.goto(f"{url}/emergency/vulnerable/{w.resident.pk}/")
    page.check("input[name='c-outcome'][value=safe]")
    page.click("form:has(input[value=checkin]) button[type=submit]")
    page.wait_for_selector(".alert-success")
    assert CheckIn.objects.filter(incident=incident, resident=w.resident).exists()
    _close(ctx, out, err)

    # 8. the leader closes the incident and writes the review with a plan change
    ctx, page, out, err = _as(browser, live_server, "leo")
    page.goto(f"{url}/emergency/incidents/{incident.pk}/")
    page.select_option("#id_status", "recovering")
    page.click("[data-change-status]")
    page.wait_for_selector("[data-status=recovering]")
    page.select_option("#id_status", "closed")
    page.click("[data-change-status]")
    page.wait_for_selector("[data-status=closed]")
    page.click("[data-review]")
    page.fill("#id_summary", "内涝持续6小时，三级响应，无人员伤亡。")
    page.fill("#id_lessons", "饮用水储备偏少，独居老人联系靠人工电话。")
    page.select_option("#id_c0-plan", str(w.plan.pk))
    page.select_option("#id_c0-level", "3")
    page.select_option("#id_c0-change", "set_reserve")
    page.fill("#id_c0-target", "water")
    page.fill("#id_c0-quantity", "300")
    page.click("#main form button[type=submit]")
    page.wait_for_selector("[data-apply]")
    page.click("[data-apply]")
    page.wait_for_selector("[data-changes] a")
    shot(page, "emergency_review")
    _close(ctx, out, err)

    version = w.plan.version_in_force()
    assert version.number == 2
    assert version.levels.get(level=3).reserves.get(item_code="water").per_thousand == 300
    incident.refresh_from_db()
    assert incident.status == "closed"
    figures = incident.review.figures
    assert figures["tasks_done"] == 1 and figures["vulnerable_reached"] == 1
    assert figures["people_on_duty"] == 1


def test_the_pages_fit_a_phone_and_the_dashboard_shows_the_incident(browser, live_server, ready):
    from renzhi.emergency.actions import incidents, plans

    w = ready
    incident = incidents.report(
        w.alice, title="甲一社区内涝", kind="flood", place=w.community_a, severity=3
    )
    plans.activate(w.leo, incident, 3)
    url = live_server.url
    ctx, page, out, err = _as(browser, live_server, "leo")
    page.goto(f"{url}/emergency/")
    page.wait_for_selector("[data-active]")
    assert page.inner_text("[data-active]").strip() == "1"
    shot(page, "emergency_dashboard")
    page.goto(f"{url}/emergency/plans/{w.plan.pk}/")
    shot(page, "emergency_plan")
    page.goto(f"{url}/emergency/incidents/")
    page.wait_for_selector("#incidents-map .leaflet-interactive")
    shot(page, "emergency_incidents")
    _close(ctx, out, err)
    ctx, page, out, err = _as(browser, live_server, "leo", PHONE)
    for path, name in (
        ("/emergency/", "emergency_dashboard_phone"),
        ("/emergency/incidents/", "emergency_incidents_phone"),
        (f"/emergency/incidents/{incident.pk}/", "emergency_incident_phone"),
        (f"/emergency/incidents/{incident.pk}/board/", "emergency_board_phone"),
        (f"/emergency/plans/{w.plan.pk}/", "emergency_plan_phone"),
        ("/emergency/shelters/", "emergency_shelters_phone"),
    ):
        page.goto(f"{url}{path}")
        shot(page, name)
        assert overflow_x(page) == 0, path
    _close(ctx, out, err)
