"""The appeals pages: who may open which page, what each role sees of one appeal, intake forms,
the steps on the case page, the lists and the inbox. Bad input shows a message next to the field
and changes nothing."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from renzhi.appeals import actions
from renzhi.appeals.context import inbox as inbox_context
from renzhi.appeals.models import Appeal, Attachment, Channel, ExtensionRequest, State
from renzhi.core.models import Notification
from renzhi.core.tests.matrix import USERS, DetailEndpoint, PageEndpoint, check_detail, check_page

ALL = frozenset(USERS)
RESIDENTS = frozenset({"charlie", "ivy"})
STAFF = ALL - RESIDENTS

PAGES = [
    PageEndpoint("list", "/appeals/", STAFF),
    PageEndpoint("new", "/appeals/new/", RESIDENTS),
    PageEndpoint("mine", "/appeals/mine/", RESIDENTS),
    PageEndpoint("hotline", "/appeals/hotline/", frozenset({"alice", "bob", "dora"})),
    PageEndpoint("patrol", "/appeals/patrol/", frozenset({"gina"})),
    PageEndpoint("inbox", "/appeals/inbox/", ALL),
    PageEndpoint("boundaries", "/appeals/boundaries.geojson", ALL),
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(name="photo.png", colour=(200, 30, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def unchanged(flow, appeal, before) -> bool:
    """Nothing about the appeal changed (sign-ins are audited too, so only appeal.* events
    count)."""
    return snapshot(flow, appeal) == before


def snapshot(flow, appeal) -> dict:
    from renzhi.core.models import AuditEvent

    return flow.snapshot(appeal) | {
        "audit": AuditEvent.objects.filter(verb__startswith="appeal.").count()
    }


def page_text(response) -> str:
    return response.content.decode()


def field_errors(response, field: str) -> list[str]:
    form = response.context["form"]
    return list(form.errors.get(field, []))


def step_errors(response, verb: str, field: str) -> list[str]:
    for step in response.context["steps"] + response.context["side_steps"]:
        if step["verb"] == verb:
            return list(step["form"].errors.get(field, []))
    raise AssertionError(f"no {verb} form on the page")


def resident_post(w, **overrides) -> dict:
    data = {
        "category": w.cat_lift.code,
        "description": "3号楼电梯停了，老人下不了楼",
        "lat": "39.92",
        "lng": "116.42",
        "address": "3号楼",
        "place": w.community_a.code,
        "contact_phone": "13800000003",
        "idempotency_key": "k-1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Who may open which page ----------------------------------------------------------------


@pytest.mark.parametrize("endpoint", PAGES, ids=lambda e: e.name)
@pytest.mark.parametrize("username", USERS)
def test_page_permission_matrix(world, client, endpoint, username):
    check_page(client, world, endpoint, username)


@pytest.mark.parametrize("endpoint", PAGES, ids=lambda e: e.name)
def test_anonymous_visitors_are_sent_to_login(db, client, endpoint):
    response = client.get(endpoint.url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={endpoint.url}")


def test_each_role_reads_only_the_appeals_in_its_scope(two_appeals, client):
    w = two_appeals
    a, b = w.appeal_a.tracking_no, w.appeal_b.tracking_no
    sees_a = {"alice", "charlie", "dora", "erin", "gina", "frank", "adam", "root"}
    sees_b = {"bob", "ivy", "frank", "root"}
    expect = {u: [no for no, who in ((a, sees_a), (b, sees_b)) if u in who] for u in USERS}
    for url in ("/appeals/{key}/", "/appeals/{key}/submitted/"):
        endpoint = DetailEndpoint("detail", url, [a, b], expect)
        for username in USERS:
            check_detail(client, w, endpoint, username)


def test_an_unknown_tracking_number_is_a_404(two_appeals, client):
    client.force_login(two_appeals.root)
    assert client.get("/appeals/RZ20990101-000001/").status_code == 404


def test_lists_show_only_what_lies_in_scope(two_appeals, client):
    w = two_appeals
    client.force_login(w.bob)
    text = page_text(client.get("/appeals/?mine=0"))
    assert w.appeal_b.tracking_no in text
    assert w.appeal_a.tracking_no not in text
    client.force_login(w.erin)
    text = page_text(client.get("/appeals/?mine=0"))
    assert w.appeal_a.tracking_no in text
    assert w.appeal_b.tracking_no not in text
    client.force_login(w.ivy)
    text = page_text(client.get("/appeals/mine/"))
    assert w.appeal_b.tracking_no in text
    assert w.appeal_a.tracking_no not in text


# --- Resident intake ------------------------------------------------------------------------


def test_resident_form_offers_public_categories_and_defaults_to_home(cases, client):
    client.force_login(cases.charlie)
    response = client.get("/appeals/new/")
    form = response.context["form"]
    assert form["place"].value() == cases.community_a.code
    assert form["contact_phone"].value() == "13800000003"
    assert form["idempotency_key"].value()
    picker = response.context["picker"]
    assert [top["name"] for top in picker] == ["城乡建设", "物业管理"]
    assert "电梯故障" in page_text(response)
    assert 'id="category-tree"' in page_text(response)


def test_resident_submits_with_photo_and_map_point_and_sees_the_tracking_number(
    cases, client, media
):
    w = cases
    client.force_login(w.charlie)
    response = client.post("/appeals/new/", resident_post(w, photos=[png(), png("b.png")]))
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appeals/{appeal.tracking_no}/submitted/"
    assert appeal.channel == Channel.WEB and appeal.resident == w.charlie
    assert appeal.grid == w.grid_a1 and appeal.lat == 39.92
    assert Attachment.objects.filter(appeal=appeal).count() == 2
    # Routed by the table: accepted and dispatched to unit A at once.
    assert appeal.state == State.DISPATCHED and appeal.unit == w.unit_a
    page = client.get(response["Location"])
    assert appeal.tracking_no in page_text(page)
    assert "我们已收到您的诉求" in page_text(page)


def test_resident_without_a_map_point_reports_for_the_chosen_community(cases, client, media):
    client.force_login(cases.charlie)
    client.post("/appeals/new/", resident_post(cases, lat="", lng="", place=cases.community_a.code))
    appeal = Appeal.objects.get()
    assert appeal.community == cases.community_a and appeal.grid is None and appeal.lat is None


def test_a_repeated_submit_of_the_same_form_creates_one_appeal(cases, client, media):
    client.force_login(cases.charlie)
    first = client.post("/appeals/new/", resident_post(cases))
    second = client.post("/appeals/new/", resident_post(cases))
    assert Appeal.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"description": "  "}, "description", "请描述问题。"),
        ({"category": ""}, "category", "请选择分类。"),
        ({"category": "9999"}, "category", "请从列表中选择分类。"),
        ({"lat": "10", "lng": "10"}, "location", "该位置不在服务区域内。"),
        ({"lat": "39.92", "lng": ""}, "location", "请同时填写纬度和经度。"),
        ({"lat": "abc"}, "lat", None),
        ({"contact_phone": "12ab"}, "contact_phone", "请输入有效的电话号码。"),
    ],
)
def test_bad_resident_input_is_shown_at_its_field_and_creates_nothing(
    cases, client, media, overrides, field, message
):
    client.force_login(cases.charlie)
    response = client.post("/appeals/new/", resident_post(cases, **overrides))
    assert response.status_code == 200
    errors = field_errors(response, field)
    assert errors, response.context["form"].errors
    if message:
        assert message in errors
    assert Appeal.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(cases, client, media):
    client.force_login(cases.charlie)
    fake = SimpleUploadedFile("virus.png", b"not an image at all", content_type="image/png")
    response = client.post("/appeals/new/", resident_post(cases, photos=[fake]))
    assert "“virus.png”不是图片。" in field_errors(response, "photos")
    assert Appeal.objects.count() == 0 and Attachment.objects.count() == 0


def test_staff_cannot_use_the_resident_form(cases, client):
    client.force_login(cases.alice)
    assert client.post("/appeals/new/", resident_post(cases)).status_code == 403
    assert Appeal.objects.count() == 0


# --- Staff intake ---------------------------------------------------------------------------


def test_hotline_entry_offers_only_places_in_the_jurisdiction(cases, client):
    client.force_login(cases.alice)
    response = client.get("/appeals/hotline/")
    codes = [code for code, _label in response.context["form"].fields["place"].choices if code]
    assert codes == [cases.community_a.code, cases.grid_a1.code, cases.grid_a2.code]
    assert response.context["form"]["place"].value() == cases.community_a.code


def test_hotline_entry_shows_duplicates_and_merges_one(two_appeals, client):
    w = two_appeals
    client.force_login(w.alice)
    response = client.post(
        "/appeals/hotline/",
        {
            "contact_phone": "13912345678",
            "contact_name": "王阿姨",
            "description": "来电反映3号楼电梯又坏了",
            "category": w.cat_lift.code,
            "place": w.grid_a1.code,
            "lat": "39.9201",
            "lng": "116.4201",
            "priority": "normal",
            "idempotency_key": "call-1",
        },
    )
    new = Appeal.objects.get(channel=Channel.HOTLINE)
    assert new.created_by == w.alice and new.resident is None
    assert new.contact_phone == "13912345678"
    page = client.get(response["Location"])
    duplicates = [d["tracking_no"] for d in page.context["duplicates"]]
    assert duplicates == [w.appeal_a.tracking_no]
    assert page.context["may_merge"]
    merged = client.post(f"/appeals/{new.tracking_no}/act/merge/", {"into": w.appeal_a.tracking_no})
    assert merged.status_code == 302
    new.refresh_from_db()
    assert new.state == State.MERGED and new.merged_into == w.appeal_a


def test_hotline_entry_outside_the_jurisdiction_is_refused_at_the_place(cases, client):
    client.force_login(cases.alice)
    response = client.post(
        "/appeals/hotline/",
        {
            "description": "乙一社区有人反映",
            "category": cases.cat_lift.code,
            "lat": "39.92",
            "lng": "116.55",
            "priority": "normal",
        },
    )
    assert response.status_code == 200
    assert "“乙一社区第1网格”不在您的辖区内。" in field_errors(response, "place")
    assert Appeal.objects.count() == 0
    response = client.post(
        "/appeals/hotline/",
        {
            "description": "x",
            "category": cases.cat_lift.code,
            "place": cases.community_b.code,
            "priority": "normal",
        },
    )
    assert field_errors(response, "place")
    assert Appeal.objects.count() == 0


def test_grid_worker_reports_on_patrol_in_their_grid_with_a_photo(cases, client, media):
    client.force_login(cases.gina)
    form = client.get("/appeals/patrol/").context["form"]
    assert form["place"].value() == cases.grid_a1.code
    response = client.post(
        "/appeals/patrol/",
        {
            "description": "2号楼前井盖缺失",
            "category": cases.cat_outage.code,
            "place": cases.grid_a1.code,
            "priority": "urgent",
            "photos": [png()],
        },
    )
    appeal = Appeal.objects.get()
    assert response.status_code == 302
    assert appeal.channel == Channel.PATROL and appeal.grid == cases.grid_a1
    assert appeal.priority == "urgent" and appeal.attachments.count() == 1


# --- The case page --------------------------------------------------------------------------


def test_dispatcher_gets_the_routing_suggestion_first(flow, client):
    appeal = flow.bring(State.ACCEPTED)
    client.force_login(flow.dora)
    response = client.get(f"/appeals/{appeal.tracking_no}/")
    verbs = [s["verb"] for s in response.context["steps"] + response.context["side_steps"]]
    assert "dispatch" in verbs and "reject" in verbs and "sign" not in verbs
    dispatch = next(s for s in response.context["steps"] if s["verb"] == "dispatch")
    choices = dispatch["form"].fields["unit"].choices
    assert choices[1][0] == "派单规则推荐"
    assert choices[1][1][0] == (flow.unit_a.code, flow.unit_a.name)
    assert dispatch["form"]["unit"].value() == flow.unit_a.code


def test_unit_signs_from_the_case_page(flow, client):
    appeal = flow.bring(State.DISPATCHED)
    client.force_login(flow.erin)
    response = client.post(f"/appeals/{appeal.tracking_no}/act/sign/", {"note": ""})
    assert response.status_code == 302
    assert response["Location"] == f"/appeals/{appeal.tracking_no}/"
    appeal.refresh_from_db()
    assert appeal.state == State.SIGNED
    follow = client.get(response["Location"])
    assert "已签收" in page_text(follow)


def test_resolve_without_a_result_shows_the_message_and_changes_nothing(flow, client, media):
    appeal = flow.bring(State.HANDLING)
    before = snapshot(flow, appeal)
    client.force_login(flow.erin)
    response = client.post(f"/appeals/{appeal.tracking_no}/act/resolve/", {"result": " "})
    assert response.status_code == 200
    assert step_errors(response, "resolve", "result") == ["请描述办理结果。"]
    assert unchanged(flow, appeal, before)


def test_resolve_with_a_photo_that_is_not_an_image_changes_nothing(flow, client, media):
    appeal = flow.bring(State.HANDLING)
    before = snapshot(flow, appeal)
    client.force_login(flow.erin)
    fake = SimpleUploadedFile("x.jpg", b"nope", content_type="image/jpeg")
    response = client.post(
        f"/appeals/{appeal.tracking_no}/act/resolve/", {"result": "修好了", "photos": [fake]}
    )
    assert step_errors(response, "resolve", "photos") == ["“x.jpg”不是图片。"]
    assert unchanged(flow, appeal, before)


def test_a_step_the_role_may_not_take_is_refused_and_changes_nothing(flow, client):
    appeal = flow.bring(State.RECEIVED)
    before = snapshot(flow, appeal)
    client.force_login(flow.erin)  # a unit handler cannot see an appeal not yet dispatched
    assert client.post(f"/appeals/{appeal.tracking_no}/act/accept/").status_code == 404
    client.force_login(flow.gina)  # sees it (her grid) but may not accept
    response = client.post(f"/appeals/{appeal.tracking_no}/act/accept/", {"note": ""})
    assert response.status_code == 403
    assert response.context["page_errors"] == ["您的角色无权进行此操作。"]
    client.force_login(flow.bob)  # another community: not even visible
    assert client.post(f"/appeals/{appeal.tracking_no}/act/accept/").status_code == 404
    assert unchanged(flow, appeal, before)


def test_an_illegal_transition_is_explained(flow, client):
    appeal = flow.bring(State.CLOSED)
    before = snapshot(flow, appeal)
    client.force_login(flow.dora)
    response = client.post(f"/appeals/{appeal.tracking_no}/act/accept/", {"note": ""})
    assert response.context["page_errors"] == ["状态为“已关闭”的诉求不能“受理”。"]
    assert unchanged(flow, appeal, before)


def test_unknown_steps_and_get_requests_are_refused(flow, client):
    appeal = flow.bring(State.RECEIVED)
    client.force_login(flow.dora)
    assert client.post(f"/appeals/{appeal.tracking_no}/act/delete/").status_code == 404
    assert client.get(f"/appeals/{appeal.tracking_no}/act/accept/").status_code == 405


def test_dispatch_needs_a_unit(flow, client):
    appeal = flow.bring(State.ACCEPTED)
    before = snapshot(flow, appeal)
    client.force_login(flow.dora)
    response = client.post(f"/appeals/{appeal.tracking_no}/act/dispatch/", {"unit": ""})
    assert step_errors(response, "dispatch", "unit") == ["请选择承办单位。"]
    assert unchanged(flow, appeal, before)


def test_merge_into_an_appeal_outside_the_scope_is_refused(two_appeals, client):
    w = two_appeals
    client.force_login(w.dora)
    before = snapshot(w, w.appeal_a)
    response = client.post(
        f"/appeals/{w.appeal_a.tracking_no}/act/merge/", {"into": w.appeal_b.tracking_no}
    )
    assert "没有该诉求，或它不在您的辖区内。" in step_errors(response, "merge", "into")
    assert unchanged(w, w.appeal_a, before)


def test_resident_sees_the_friendly_timeline_without_internal_notes(flow, client):
    appeal = flow.bring(State.HANDLING)
    actions.comment(flow.dora, appeal, note="此户多次反映，注意态度")
    actions.request_extension(flow.erin, appeal, days=2, reason="等配件")
    client.force_login(flow.charlie)
    resident_view = client.get(f"/appeals/{appeal.tracking_no}/")
    verbs = [e["verb"] for e in resident_view.context["timeline"]]
    assert verbs == ["submit", "accept", "dispatch", "sign", "progress"]
    assert "此户多次反映" not in page_text(resident_view)
    assert "甲一物业" in page_text(resident_view)  # the unit, not the person
    assert "Erin" not in page_text(resident_view)
    client.force_login(flow.dora)
    staff_view = client.get(f"/appeals/{appeal.tracking_no}/")
    verbs = [e["verb"] for e in staff_view.context["timeline"]]
    assert verbs[-2:] == ["comment", "request_extension"]
    assert "此户多次反映" in page_text(staff_view)
    assert "Erin" in page_text(staff_view)
    assert staff_view.context["pending_extension"]["days"] == "2"


def test_times_are_shown_in_beijing_time(flow, client, clock):
    clock.at("2026-03-02 09:05")
    appeal = flow.bring(State.RECEIVED)
    client.force_login(flow.dora)
    assert "2026-03-02 09:05" in page_text(client.get(f"/appeals/{appeal.tracking_no}/"))


def test_deadlines_show_the_working_time_left_and_overdue(flow, client, clock):
    clock.at("2026-03-02 10:00")
    appeal = flow.bring(State.DISPATCHED)  # sign within 2 h, resolve within 3 days
    client.force_login(flow.erin)
    response = client.get(f"/appeals/{appeal.tracking_no}/")
    texts = [c["text"] for c in response.context["clock"]]
    assert texts == ["剩余 2 个工作小时", "剩余 3 个工作日"]
    clock.at("2026-03-02 14:30")  # 12:00 + lunch: 2 h sign-for time used up at 13:30 + 30 min
    texts = [c["text"] for c in client.get(f"/appeals/{appeal.tracking_no}/").context["clock"]]
    assert texts[0] == "已超期 1 个工作小时"


def test_extension_requested_by_the_unit_and_approved_by_the_dispatcher(flow, client):
    appeal = flow.bring(State.SIGNED)
    deadline = appeal.resolve_deadline
    client.force_login(flow.erin)
    bad = client.post(
        f"/appeals/{appeal.tracking_no}/act/request-extension/", {"days": "45", "reason": "等配件"}
    )
    assert step_errors(bad, "request-extension", "days")
    assert not ExtensionRequest.objects.exists()
    client.post(
        f"/appeals/{appeal.tracking_no}/act/request-extension/", {"days": "2", "reason": "等配件"}
    )
    client.force_login(flow.dora)
    response = client.post(
        f"/appeals/{appeal.tracking_no}/act/decide-extension/", {"decision": "approve", "note": ""}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.resolve_deadline > deadline
    assert ExtensionRequest.objects.get().status == ExtensionRequest.Status.APPROVED


def test_refusing_an_extension_needs_a_reason(flow, client):
    appeal = flow.bring(State.SIGNED)
    actions.request_extension(flow.erin, appeal, days=2, reason="等配件")
    before = snapshot(flow, appeal)
    client.force_login(flow.dora)
    response = client.post(
        f"/appeals/{appeal.tracking_no}/act/decide-extension/", {"decision": "reject", "note": ""}
    )
    assert step_errors(response, "decide-extension", "note") == ["请填写不同意的理由。"]
    assert unchanged(flow, appeal, before)


def test_resident_rates_not_satisfied_and_the_case_is_reopened(flow, client):
    appeal = flow.bring(State.RESOLVED)
    client.force_login(flow.charlie)
    page = client.get(f"/appeals/{appeal.tracking_no}/")
    assert [s["verb"] for s in page.context["steps"]] == ["rate"]
    missing = client.post(f"/appeals/{appeal.tracking_no}/act/rate/", {"comment": "没修好"})
    assert step_errors(missing, "rate", "rating") == ["请选择 1 到 5 星。"]
    client.post(f"/appeals/{appeal.tracking_no}/act/rate/", {"rating": "1", "comment": "没修好"})
    appeal.refresh_from_db()
    assert appeal.state == State.DISPATCHED and appeal.reopen_count == 1


def test_someone_else_cannot_rate_or_withdraw(flow, client):
    appeal = flow.bring(State.RESOLVED)
    before = snapshot(flow, appeal)
    client.force_login(flow.kate)  # a resident of the same community
    assert (
        client.post(f"/appeals/{appeal.tracking_no}/act/rate/", {"rating": "5"}).status_code == 404
    )
    client.force_login(flow.dora)  # staff may rate only for callers without an account
    response = client.post(f"/appeals/{appeal.tracking_no}/act/rate/", {"rating": "5"})
    assert response.status_code == 403
    assert unchanged(flow, appeal, before)


def test_resident_withdraws_before_handling(flow, client):
    appeal = flow.bring(State.ACCEPTED)
    client.force_login(flow.charlie)
    page = client.get(f"/appeals/{appeal.tracking_no}/")
    assert [s["verb"] for s in page.context["side_steps"]] == ["withdraw"]
    client.post(f"/appeals/{appeal.tracking_no}/act/withdraw/", {"reason": "已自行解决"})
    appeal.refresh_from_db()
    assert appeal.state == State.WITHDRAWN


def test_photos_are_served_only_to_those_who_see_the_appeal(cases, client, media):
    w = cases
    client.force_login(w.charlie)
    client.post("/appeals/new/", resident_post(w, photos=[png()]))
    appeal = Appeal.objects.get()
    page = client.get(f"/appeals/{appeal.tracking_no}/")
    assert page.context["photos"][0]["thumb"] == f"/appeals/{appeal.tracking_no}/photos/1/thumb/"
    full = client.get(f"/appeals/{appeal.tracking_no}/photos/1/")
    assert full.status_code == 200 and full["Content-Type"] == "image/png"
    assert (
        client.get(f"/appeals/{appeal.tracking_no}/photos/1/thumb/")["Content-Type"] == "image/jpeg"
    )
    assert client.get(f"/appeals/{appeal.tracking_no}/photos/2/").status_code == 404
    client.force_login(w.ivy)
    assert client.get(f"/appeals/{appeal.tracking_no}/photos/1/").status_code == 404


def test_pages_show_tracking_numbers_not_database_ids(flow, client):
    appeal = flow.bring(State.HANDLING)
    client.force_login(flow.dora)
    text = page_text(client.get(f"/appeals/{appeal.tracking_no}/"))
    assert appeal.tracking_no in text
    assert not re.search(rf"/appeals/{appeal.pk}/", text)
    assert f'value="{flow.unit_b.pk}"' not in text


# --- Lists ----------------------------------------------------------------------------------


def test_dispatcher_queue_opens_on_what_waits_for_dispatch(flow, client):
    waiting = flow.bring(State.RECEIVED)
    with_unit = flow.bring(State.SIGNED)
    client.force_login(flow.dora)
    response = client.get("/appeals/")
    shown = [r["tracking_no"] for r in response.context["rows"]]
    assert shown == [waiting.tracking_no]
    assert response.context["presets"][0]["active"]
    everything = client.get("/appeals/?mine=0")
    assert {r["tracking_no"] for r in everything.context["rows"]} == {
        waiting.tracking_no,
        with_unit.tracking_no,
    }


def test_unit_queue_holds_its_open_cases(flow, client):
    signed = flow.bring(State.SIGNED)
    flow.bring(State.RECEIVED)
    client.force_login(flow.erin)
    shown = [r["tracking_no"] for r in client.get("/appeals/").context["rows"]]
    assert shown == [signed.tracking_no]


def test_list_filters_and_export_link_use_the_api_names(flow, client):
    a = flow.bring(State.SIGNED)
    b = flow.bring(State.RECEIVED)
    actions.supervise(flow.dora, a, note="尽快")
    client.force_login(flow.dora)
    response = client.get("/appeals/?mine=0&state=signed&supervised=on&q=电梯&date_from=2020-01-01")
    assert [r["tracking_no"] for r in response.context["rows"]] == [a.tracking_no]
    assert response.context["export_url"] == (
        "/api/appeals/export.xlsx?state=signed&q=%E7%94%B5%E6%A2%AF&supervised=true"
        "&date_from=2020-01-01"
    )
    by_number = client.get(f"/appeals/?mine=0&q={b.tracking_no}")
    assert [r["tracking_no"] for r in by_number.context["rows"]] == [b.tracking_no]
    export = client.get(response.context["export_url"])
    assert export.status_code == 200


def test_a_reversed_date_range_is_a_field_error(flow, client):
    flow.bring(State.RECEIVED)
    client.force_login(flow.dora)
    response = client.get("/appeals/?mine=0&date_from=2026-03-05&date_to=2026-03-01")
    assert field_errors(response, "date_to") == ["结束日期早于开始日期。"]
    assert response.context["rows"] == [] and not response.context["export_url"]
    assert field_errors(client.get("/appeals/?date_from=yesterday"), "date_from")


def test_the_list_is_paginated(flow, client):
    for _ in range(27):
        flow.bring(State.RECEIVED)
    client.force_login(flow.dora)
    first = client.get("/appeals/")
    assert len(first.context["rows"]) == 25
    second = client.get("/appeals/?mine=1&page=2")
    assert len(second.context["rows"]) == 2


def test_my_appeals_lists_the_residents_own_with_states(two_appeals, client):
    w = two_appeals
    client.force_login(w.charlie)
    response = client.get("/appeals/mine/")
    rows = response.context["rows"]
    assert [r["tracking_no"] for r in rows] == [w.appeal_a.tracking_no]
    assert rows[0]["state_label"] == "已派单"


# --- Boundaries, inbox ----------------------------------------------------------------------


def test_boundaries_give_names_codes_and_geometry_only(world, client):
    client.force_login(world.charlie)
    body = client.get("/appeals/boundaries.geojson").json()
    grids = [f for f in body["features"] if f["properties"]["level"] == "grid"]
    assert {f["properties"]["code"] for f in grids} == {
        world.grid_a1.code,
        world.grid_a2.code,
        world.grid_b1.code,
    }
    assert set(grids[0]["properties"]) == {"code", "name", "level", "parent_code", "parent_name"}
    assert grids[0]["geometry"]["type"] == "Polygon"


def test_inbox_lists_my_messages_and_opening_one_marks_it_read(two_appeals, client):
    w = two_appeals
    client.force_login(w.charlie)
    response = client.get("/appeals/inbox/")
    rows = response.context["rows"]
    assert rows and all(r["unread"] for r in rows)
    assert inbox_context(response.wsgi_request)["inbox_unread"]() == len(rows)
    mine = Notification.objects.filter(user=w.charlie).order_by("-created_at", "-id").first()
    opened = client.get(rows[0]["url"])
    assert opened.status_code == 302
    assert opened["Location"] == f"/appeals/{w.appeal_a.tracking_no}/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    client.post("/appeals/inbox/read-all/")
    assert not Notification.objects.filter(user=w.charlie, read_at=None).exists()


def test_nobody_opens_someone_elses_message(two_appeals, client):
    w = two_appeals
    theirs = Notification.objects.filter(user=w.charlie).first()
    client.force_login(w.ivy)
    assert client.get(f"/appeals/inbox/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "state, user, verb, data, after",
    [
        (State.RECEIVED, "dora", "reject", {"reason": "不属于受理范围"}, State.REJECTED),
        (State.SIGNED, "dora", "suspend", {"reason": "等待业委会决议"}, State.SUSPENDED),
        (State.SUSPENDED, "dora", "resume", {"note": ""}, State.DISPATCHED),
        (State.SIGNED, "alice", "escalate", {"reason": "需要街道协调"}, State.ACCEPTED),
        (State.HANDLING, "frank", "supervise", {"note": "今日办结"}, State.HANDLING),
        (State.HANDLING, "gina", "comment", {"note": "已电话联系居民"}, State.HANDLING),
        (State.RESOLVED, "dora", "close", {"note": "回访无人接听"}, State.CLOSED),
    ],
)
def test_each_side_step_works_from_the_case_page(flow, client, state, user, verb, data, after):
    appeal = flow.bring(state)
    client.force_login(getattr(flow, user))
    page = client.get(f"/appeals/{appeal.tracking_no}/")
    assert verb in [s["verb"] for s in page.context["steps"] + page.context["side_steps"]]
    response = client.post(f"/appeals/{appeal.tracking_no}/act/{verb}/", data)
    assert response.status_code == 302, response.context and response.context["page_errors"]
    appeal.refresh_from_db()
    assert appeal.state == after
    assert appeal.events.order_by("-at", "-id").first().verb == verb


def test_staff_record_the_rating_of_a_hotline_caller(cases, client):
    w = cases
    appeal = actions.submit_appeal(
        w.alice,
        channel="hotline",
        description="来电反映电梯故障",
        category=w.cat_lift,
        place=w.grid_a1,
        contact_phone="13912345678",
    ).appeal
    actions.sign(w.erin, appeal)
    actions.resolve(w.erin, appeal, result="已修复")
    client.force_login(w.alice)
    page = client.get(f"/appeals/{appeal.tracking_no}/")
    assert "rate" in [s["verb"] for s in page.context["steps"]]
    client.post(f"/appeals/{appeal.tracking_no}/act/rate/", {"rating": "4"})
    appeal.refresh_from_db()
    assert appeal.state == State.CLOSED and appeal.satisfaction == "satisfied"


def test_transfer_offers_only_units_of_the_jurisdiction(flow, client):
    from renzhi.core.models import Unit

    city = Unit.objects.create(code="U-SZ-A", name="甲街道市政所", kind="urban_management")
    city.places.set([flow.street_a])
    appeal = flow.bring(State.SIGNED)
    client.force_login(flow.dora)
    page = client.get(f"/appeals/{appeal.tracking_no}/")
    transfer = next(s for s in page.context["side_steps"] if s["verb"] == "transfer")
    offered = {
        code for _g, units in transfer["form"].fields["unit"].choices[1:] for code, _n in units
    }
    assert offered == {"U-SZ-A"}  # not its own unit A, not unit B of the other street
    before = snapshot(flow, appeal)
    refused = client.post(
        f"/appeals/{appeal.tracking_no}/act/transfer/", {"unit": "U-WY-B", "reason": "转派"}
    )
    assert step_errors(refused, "transfer", "unit")
    assert unchanged(flow, appeal, before)
    client.post(
        f"/appeals/{appeal.tracking_no}/act/transfer/", {"unit": "U-SZ-A", "reason": "市政"}
    )
    appeal.refresh_from_db()
    assert appeal.unit == city and appeal.state == State.DISPATCHED and appeal.transfer_count == 1


def test_the_resident_form_asks_for_consent_to_publish_and_defaults_to_no(cases, client):
    client.force_login(cases.charlie)
    form = client.get("/appeals/new/").context["form"]
    assert "public" in form.fields and not form["public"].value()
    client.post("/appeals/new/", resident_post(cases))
    client.post("/appeals/new/", resident_post(cases, idempotency_key="k-2", public="on"))
    assert sorted(Appeal.objects.values_list("public", flat=True)) == [False, True]
