"""The appeals JSON API: intake with idempotency, the filtered list, detail, every transition,
bad input (field-named Chinese messages, never 500, nothing changed) and the inbox.

Named users: charlie and kate are residents of community A, ivy of community B; alice is
community A staff, bob community B staff; dora dispatches for street A; erin handles for unit A,
hank for unit B; frank is the district leader; root the global administrator.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from renzhi.appeals import actions
from renzhi.appeals.models import Appeal, AppealEvent, Attachment, ExtensionRequest, State
from renzhi.core.models import Notification, Unit
from renzhi.core.workdays import LOCAL_TZ

S = State
LIFT = {"description": "3号楼电梯停了两天", "category_code": "0801", "lat": 39.92, "lng": 116.42}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(name: str = "photo.png", size=(800, 600)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 60)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def as_user(api_client, user):
    api_client.logout()
    return api_client.as_user(user)


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["detail"]}


# --- Intake ---------------------------------------------------------------------------------


def test_a_partner_system_with_a_token_files_through_the_api_channel(cases, api_client, token_for):
    response = api_client.post_json("/api/appeals/", LIFT, **token_for(cases.dora))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tracking_no"].startswith("RZ") and body["channel"] == "api"
    assert body["state"] == S.DISPATCHED and body["unit_code"] == "U-WY-A"
    assert body["created"] is True and body["duplicates"] == []
    assert Appeal.objects.get(tracking_no=body["tracking_no"]).created_by == cases.dora


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_appeal(
    cases, api_client, token_for
):
    headers = token_for(cases.dora) | {"HTTP_IDEMPOTENCY_KEY": "partner-42"}
    first = api_client.post_json("/api/appeals/", LIFT, **headers)
    again = api_client.post_json("/api/appeals/", LIFT, **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tracking_no"] == first.json()["tracking_no"]
    assert again.json()["created"] is False
    assert Appeal.objects.count() == 1


def test_the_idempotency_key_may_also_come_in_the_body(cases, api_client):
    as_user(api_client, cases.charlie)
    body = LIFT | {"idempotency_key": "form-7"}
    first = api_client.post_json("/api/appeals/", body)
    again = api_client.post_json("/api/appeals/", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert Appeal.objects.count() == 1


def test_another_account_may_reuse_a_key_without_getting_someone_elses_appeal(cases, api_client):
    as_user(api_client, cases.charlie)
    mine = api_client.post_json("/api/appeals/", LIFT, HTTP_IDEMPOTENCY_KEY="k1").json()
    as_user(api_client, cases.kate if hasattr(cases, "kate") else cases.ivy)
    other = api_client.post_json("/api/appeals/", LIFT | {"lng": 116.43}, HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 201 and other.json()["tracking_no"] != mine["tracking_no"]


def test_a_resident_session_files_through_the_web_channel_and_is_shown_no_duplicates(
    two_appeals, api_client
):
    w = two_appeals
    as_user(api_client, w.kate)
    response = api_client.post_json("/api/appeals/", LIFT | {"lng": 116.4201})
    body = response.json()
    assert response.status_code == 201 and body["channel"] == "web"
    assert Appeal.objects.get(tracking_no=body["tracking_no"]).resident == w.kate
    assert body["duplicates"] == []  # residents are not shown other people's appeals


def test_staff_are_shown_similar_open_appeals_nearby(two_appeals, api_client):
    w = two_appeals
    as_user(api_client, w.alice)
    response = api_client.post_json(
        "/api/appeals/",
        LIFT | {"lng": 116.4201, "channel": "hotline", "contact_phone": "13700000000"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["duplicates"] == [w.appeal_a.tracking_no]


def test_a_resident_may_attach_photos_when_submitting(cases, api_client, media):
    as_user(api_client, cases.charlie)
    response = api_client.post(
        "/api/appeals/with-photos",
        {
            "description": "路灯不亮",
            "lat": "39.92",
            "lng": "116.42",
            "photos": [png(), png("b.png")],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["attachments"]) == 2
    no = body["tracking_no"]
    assert body["attachments"][1]["url"] == f"/api/appeals/{no}/photos/2"  # scoped, not /media/
    assert body["attachments"][0]["thumbnail_url"] == f"/api/appeals/{no}/photos/1?thumbnail=true"
    assert body["timeline"][0]["attachments"]  # on the submit step
    photo = api_client.get(body["attachments"][0]["url"])
    assert (photo.status_code, photo["Content-Type"]) == (200, "image/png")
    thumb = api_client.get(body["attachments"][0]["thumbnail_url"])
    assert (thumb.status_code, thumb["Content-Type"]) == (200, "image/jpeg")
    assert api_client.get(f"/api/appeals/{no}/photos/3").status_code == 404


# --- The list -------------------------------------------------------------------------------


def keys(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [a["tracking_no"] for a in response.json()["items"]]


def test_the_list_filters_by_state_category_place_channel_and_unit(two_appeals, api_client):
    w = two_appeals
    received = w.bring(S.RECEIVED)
    as_user(api_client, w.frank)
    a, b, r = w.appeal_a.tracking_no, w.appeal_b.tracking_no, received.tracking_no
    assert set(keys(api_client.get("/api/appeals/?state=dispatched,received"))) == {a, b, r}
    assert keys(api_client.get("/api/appeals/?state=received")) == [r]
    assert set(keys(api_client.get("/api/appeals/?category=08"))) == {a, b, r}  # first level
    assert keys(api_client.get("/api/appeals/?category=0101")) == []
    assert set(keys(api_client.get("/api/appeals/?place=110105002"))) == {b}
    assert set(keys(api_client.get("/api/appeals/?unit=U-WY-A"))) == {a}
    assert keys(api_client.get("/api/appeals/?channel=hotline")) == []


def test_the_list_filters_by_beijing_dates(cases, api_client):
    w = cases

    def at(local: str) -> str:
        when = dt.datetime.fromisoformat(local).replace(tzinfo=LOCAL_TZ)
        return actions.submit_appeal(
            w.alice,
            channel="hotline",
            description=local,
            place=w.community_a,
            received_at=when,
            auto_route=False,
        ).appeal.tracking_no

    late_evening, early_morning = at("2026-03-01 23:30"), at("2026-03-02 00:10")
    as_user(api_client, w.alice)
    assert keys(api_client.get("/api/appeals/?date_to=2026-03-01")) == [late_evening]
    assert keys(api_client.get("/api/appeals/?date_from=2026-03-02")) == [early_morning]
    assert keys(api_client.get("/api/appeals/?date_from=2026-03-01&date_to=2026-03-01")) == [
        late_evening
    ]


def test_search_looks_in_description_title_address_and_tracking_number(cases, api_client):
    w = cases
    one = actions.submit_appeal(
        w.alice,
        channel="hotline",
        description="楼道灯坏了",
        place=w.community_a,
        address="幸福路8号",
        auto_route=False,
    ).appeal
    two = actions.submit_appeal(
        w.alice,
        channel="hotline",
        description="噪音扰民",
        place=w.community_a,
        title="夜间施工",
        auto_route=False,
    ).appeal
    as_user(api_client, w.alice)
    assert keys(api_client.get("/api/appeals/?q=灯坏")) == [one.tracking_no]
    assert keys(api_client.get("/api/appeals/?q=幸福路")) == [one.tracking_no]
    assert keys(api_client.get("/api/appeals/?q=夜间")) == [two.tracking_no]
    assert keys(api_client.get(f"/api/appeals/?q={two.tracking_no[-6:]}")) == [two.tracking_no]


def test_my_queue_is_the_units_open_cases_or_what_waits_for_dispatch(flow, api_client):
    w = flow
    waiting, dispatched = w.bring(S.RECEIVED), w.bring(S.DISPATCHED)
    w.bring(S.CLOSED)
    as_user(api_client, w.erin)
    assert keys(api_client.get("/api/appeals/?mine=true")) == [dispatched.tracking_no]
    as_user(api_client, w.dora)
    assert keys(api_client.get("/api/appeals/?mine=true")) == [waiting.tracking_no]


def test_overdue_and_supervised_filters(flow, api_client):
    w = flow
    late, watched = w.bring(S.DISPATCHED), w.bring(S.DISPATCHED)
    Appeal.objects.filter(pk=late.pk).update(overdue=True)
    actions.supervise(w.dora, watched, note="三天内办结")
    as_user(api_client, w.dora)
    assert keys(api_client.get("/api/appeals/?overdue=true")) == [late.tracking_no]
    assert keys(api_client.get("/api/appeals/?supervised=true")) == [watched.tracking_no]


def test_the_list_is_paginated_by_fifty(cases, api_client):
    w = cases
    for i in range(51):
        actions.submit_appeal(
            w.alice,
            channel="hotline",
            description=f"问题{i}",
            place=w.community_a,
            auto_route=False,
        )
    as_user(api_client, w.alice)
    first = api_client.get("/api/appeals/").json()
    assert first["count"] == 51 and len(first["items"]) == 50
    assert len(api_client.get("/api/appeals/?page=2").json()["items"]) == 1


def test_the_list_orders_as_asked(cases, api_client):
    w = cases
    made = [
        actions.submit_appeal(
            w.alice,
            channel="hotline",
            description=f"问题{i}",
            place=w.community_a,
            auto_route=False,
        ).appeal.tracking_no
        for i in range(3)
    ]
    as_user(api_client, w.alice)
    assert keys(api_client.get("/api/appeals/?ordering=tracking_no")) == made
    assert keys(api_client.get("/api/appeals/?ordering=-tracking_no")) == made[::-1]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=opened", "state"),
        ("ordering=password", "ordering"),
        ("channel=fax", "channel"),
        ("date_from=2026-03-02&date_to=2026-03-01", "date_to"),
    ],
)
def test_bad_filters_are_refused_by_name(cases, api_client, query, field):
    as_user(api_client, cases.alice)
    response = api_client.get(f"/api/appeals/?{query}")
    assert response.status_code == 400 and field in fields(response)


# --- Detail ---------------------------------------------------------------------------------


def test_detail_shows_timeline_and_what_the_viewer_may_do(flow, api_client):
    w = flow
    appeal = w.bring(S.SIGNED)
    actions.comment(w.dora, appeal, note="业主情绪激动，注意沟通")
    as_user(api_client, w.erin)
    body = api_client.get(f"/api/appeals/{appeal.tracking_no}").json()
    assert [e["verb"] for e in body["timeline"]] == [
        "submit",
        "accept",
        "dispatch",
        "sign",
        "comment",
    ]
    assert body["actions"] == ["progress", "resolve", "return", "request-extension", "comment"]
    as_user(api_client, w.dora)
    body = api_client.get(f"/api/appeals/{appeal.tracking_no}").json()
    assert set(body["actions"]) == {
        "transfer",
        "supervise",
        "suspend",
        "escalate",
        "merge",
        "comment",
    }
    assert body["timeline"][2]["actor"] == "Dora"


def test_a_resident_sees_public_steps_only_and_no_staff_names(flow, api_client):
    w = flow
    appeal = w.bring(S.SIGNED)
    actions.comment(w.dora, appeal, note="业主情绪激动，注意沟通")
    as_user(api_client, w.charlie)
    body = api_client.get(f"/api/appeals/{appeal.tracking_no}").json()
    assert [e["verb"] for e in body["timeline"]] == ["submit", "accept", "dispatch", "sign"]
    assert body["timeline"][3]["actor"] == "甲一物业"  # the unit, not erin
    assert "Dora" not in str(body) and body["extensions"] == []
    assert body["actions"] == ["withdraw"]


def test_the_phone_is_masked_for_roles_that_do_not_need_it(two_appeals, api_client):
    w = two_appeals
    no = w.appeal_a.tracking_no
    for user, phone in [
        (w.alice, "13900000001"),
        (w.charlie, "13900000001"),
        (w.frank, "139****0001"),
        (w.root, "139****0001"),
    ]:
        as_user(api_client, user)
        assert api_client.get(f"/api/appeals/{no}").json()["contact_phone"] == phone, user
        listed = api_client.get("/api/appeals/").json()["items"]
        assert {a["contact_phone"] for a in listed if a["tracking_no"] == no} == {phone}


def test_detail_lists_extension_requests_for_staff(flow, api_client):
    w = flow
    appeal = w.bring(S.SIGNED)
    actions.request_extension(w.erin, appeal, days=2, reason="需要采购配件")
    as_user(api_client, w.dora)
    body = api_client.get(f"/api/appeals/{appeal.tracking_no}").json()
    assert [(x["days"], x["status"]) for x in body["extensions"]] == [(2.0, "pending")]
    assert "decide-extension" in body["actions"]


# --- Transitions ----------------------------------------------------------------------------


def post(api_client, user, path, data=None):
    as_user(api_client, user)
    return api_client.post_json(path, data or {})


def refused(w, api_client, user, appeal, path, data=None):
    """POST as `user` (logged in first: a login is audited) and prove nothing changed."""
    as_user(api_client, user)
    before = w.snapshot(appeal)
    response = api_client.post_json(path, data or {})
    assert w.snapshot(appeal) == before
    return response


def test_the_whole_loop_runs_through_the_api_with_photos(flow, api_client, media):
    w = flow
    no = w.bring(S.RECEIVED).tracking_no
    base = f"/api/appeals/{no}"
    assert (
        post(api_client, w.dora, f"{base}/dispatch", {"unit_code": "U-WY-A"}).json()["state"]
        == S.DISPATCHED
    )
    assert post(api_client, w.erin, f"{base}/sign").json()["state"] == S.SIGNED
    as_user(api_client, w.erin)
    response = api_client.post(
        f"{base}/progress/with-photos", {"note": "维修人员已到场", "photos": [png()]}
    )
    assert response.status_code == 200, response.content
    response = api_client.post(
        f"{base}/resolve/with-photos", {"result": "更换了控制板", "photos": [png("after.png")]}
    )
    assert response.json()["state"] == S.RESOLVED
    body = post(api_client, w.charlie, f"{base}/rate", {"rating": 5, "comment": "很快"}).json()
    assert body["state"] == S.CLOSED and body["satisfaction"] == "satisfied"
    assert [e["verb"] for e in body["timeline"]] == [
        "submit",
        "accept",
        "dispatch",
        "sign",
        "progress",
        "resolve",
        "rate",
    ]
    assert [len(e["attachments"]) for e in body["timeline"]] == [0, 0, 0, 0, 1, 1, 0]
    assert Attachment.objects.filter(appeal__tracking_no=no).count() == 2


def test_an_unsatisfied_rating_reopens_through_the_api(flow, api_client):
    w = flow
    no = w.bring(S.RESOLVED).tracking_no
    body = post(api_client, w.charlie, f"/api/appeals/{no}/rate", {"rating": 1}).json()
    assert body["state"] == S.DISPATCHED and body["reopen_count"] == 1


def test_accept_and_reject(flow, api_client):
    w = flow
    one, two = w.bring(S.RECEIVED), w.bring(S.RECEIVED)
    assert (
        post(api_client, w.dora, f"/api/appeals/{one.tracking_no}/accept").json()["state"]
        == S.ACCEPTED
    )
    body = post(
        api_client, w.dora, f"/api/appeals/{two.tracking_no}/reject", {"reason": "不属于受理范围"}
    ).json()
    assert body["state"] == S.REJECTED


def test_return_then_transfer(flow, api_client):
    w = flow
    appeal = w.bring(S.DISPATCHED)
    base = f"/api/appeals/{appeal.tracking_no}"
    body = post(api_client, w.erin, f"{base}/return", {"reason": "不是本物业管辖"}).json()
    assert body["state"] == S.ACCEPTED and body["unit_code"] is None
    post(api_client, w.dora, f"{base}/dispatch", {"unit_code": "U-WY-A"})
    city = Unit.objects.create(code="U-SZ-A", name="甲街道市政所", kind="urban_management")
    city.places.set([w.street_a])  # unit B of the other street would be refused (issue 23 #5)
    body = post(
        api_client, w.dora, f"{base}/transfer", {"unit_code": "U-SZ-A", "reason": "属市政"}
    ).json()
    assert body["unit_code"] == "U-SZ-A" and body["state"] == S.DISPATCHED


def test_an_extension_is_requested_and_approved(flow, api_client):
    w = flow
    appeal = w.bring(S.SIGNED)
    base = f"/api/appeals/{appeal.tracking_no}"
    before = Appeal.objects.get(pk=appeal.pk).resolve_deadline
    body = post(
        api_client, w.erin, f"{base}/request-extension", {"days": 2, "reason": "需要采购配件"}
    ).json()
    assert "request-extension" not in body["actions"]
    extension = ExtensionRequest.objects.get(appeal=appeal)
    response = post(
        api_client, w.dora, f"{base}/extensions/{extension.pk}/decide", {"approve": True}
    )
    assert response.status_code == 200
    assert Appeal.objects.get(pk=appeal.pk).resolve_deadline > before
    assert response.json()["extensions"][0]["status"] == "approved"


def test_supervise_suspend_resume_and_escalate(flow, api_client):
    w = flow
    appeal = w.bring(S.DISPATCHED)
    base = f"/api/appeals/{appeal.tracking_no}"
    body = post(api_client, w.frank, f"{base}/supervise", {"note": "今天必须答复"}).json()
    assert body["supervised"] is True and body["priority"] == "urgent"
    assert (
        post(api_client, w.dora, f"{base}/suspend", {"reason": "等待业委会决议"}).json()["state"]
        == S.SUSPENDED
    )
    assert post(api_client, w.dora, f"{base}/resume").json()["state"] == S.DISPATCHED
    body = post(api_client, w.alice, f"{base}/escalate", {"reason": "跨社区问题"}).json()
    assert body["state"] == S.ACCEPTED and body["escalation_level"] == "street"


def test_merge_withdraw_close_and_comment(flow, api_client):
    w = flow
    master, duplicate = w.bring(S.DISPATCHED), w.bring(S.DISPATCHED)
    body = post(
        api_client,
        w.dora,
        f"/api/appeals/{duplicate.tracking_no}/merge",
        {"into": master.tracking_no},
    ).json()
    assert body["state"] == S.MERGED and body["merged_into"] == master.tracking_no
    mine = w.bring(S.ACCEPTED)
    assert (
        post(
            api_client,
            w.charlie,
            f"/api/appeals/{mine.tracking_no}/withdraw",
            {"reason": "已自行解决"},
        ).json()["state"]
        == S.WITHDRAWN
    )
    resolved = w.bring(S.RESOLVED)
    assert (
        post(
            api_client,
            w.dora,
            f"/api/appeals/{resolved.tracking_no}/close",
            {"note": "回访无人接听"},
        ).json()["state"]
        == S.CLOSED
    )
    response = post(
        api_client, w.erin, f"/api/appeals/{master.tracking_no}/comment", {"note": "已联系业主"}
    )
    assert response.json()["timeline"][-1]["note"] == "已联系业主"


# --- Bad input: a field-named Chinese message, a 4xx status, nothing changed ----------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"description": "", "lat": 39.92, "lng": 116.42}, "description", "请描述问题。"),
        (LIFT | {"category_code": "9999"}, "category_code", "未知的分类编码“9999”。"),
        (LIFT | {"lat": 31.23, "lng": 121.47}, "location", "该位置不在服务区域内。"),
        ({"description": "x", "lat": 39.92}, "location", "请同时填写纬度和经度。"),
        (LIFT | {"contact_phone": "12ab"}, "contact_phone", "请输入有效的电话号码。"),
        (
            LIFT | {"place_code": None, "lat": None, "lng": None, "channel": "hotline"},
            "location",
            None,
        ),
        (LIFT | {"channel": "import"}, "channel", None),
        (LIFT | {"priority": "vip"}, "priority", None),
    ],
)
def test_bad_intake_is_refused_by_field_and_writes_nothing(cases, api_client, body, field, message):
    as_user(api_client, cases.alice)
    response = api_client.post_json("/api/appeals/", body)
    assert response.status_code == 400, response.content
    assert field in fields(response)
    if message:
        assert fields(response)[field] == message
    assert Appeal.objects.count() == 0 and AppealEvent.objects.count() == 0


def test_rating_twice_is_refused_and_changes_nothing(flow, api_client):
    w = flow
    appeal = w.bring(S.RESOLVED)
    post(api_client, w.charlie, f"/api/appeals/{appeal.tracking_no}/rate", {"rating": 5})
    response = refused(
        w, api_client, w.charlie, appeal, f"/api/appeals/{appeal.tracking_no}/rate", {"rating": 1}
    )
    assert response.status_code == 400 and fields(response) == {"rating": "该诉求已评价过。"}


def test_rating_someone_elses_appeal_is_not_found(flow, api_client):
    w = flow
    appeal = w.bring(S.RESOLVED)
    response = refused(
        w, api_client, w.kate, appeal, f"/api/appeals/{appeal.tracking_no}/rate", {"rating": 1}
    )
    assert response.status_code == 404 and "tracking_no" in fields(response)


def test_an_illegal_transition_is_a_conflict_naming_the_state(flow, api_client):
    w = flow
    appeal = w.bring(S.CLOSED)
    response = refused(w, api_client, w.erin, appeal, f"/api/appeals/{appeal.tracking_no}/sign")
    assert response.status_code == 409
    assert fields(response)["state"] == "状态为“已关闭”的诉求不能“签收”。"


def test_a_role_that_may_see_but_not_act_is_forbidden(flow, api_client):
    w = flow
    appeal = w.bring(S.RECEIVED)
    response = refused(
        w,
        api_client,
        w.frank,
        appeal,
        f"/api/appeals/{appeal.tracking_no}/dispatch",
        {"unit_code": "U-WY-A"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "unit_code"),
        ({"unit_code": "U-NOPE"}, 400, "unit_code"),
    ],
)
def test_dispatch_names_a_missing_or_unknown_unit(flow, api_client, body, status, field):
    w = flow
    appeal = w.bring(S.ACCEPTED)
    response = refused(
        w, api_client, w.dora, appeal, f"/api/appeals/{appeal.tracking_no}/dispatch", body
    )
    assert response.status_code == status and field in fields(response)


def test_a_required_reason_is_named(flow, api_client):
    w = flow
    appeal = w.bring(S.DISPATCHED)
    response = post(api_client, w.erin, f"/api/appeals/{appeal.tracking_no}/return", {})
    assert response.status_code == 400 and "reason" in fields(response)


def test_a_photo_over_10_mb_or_not_an_image_is_refused_and_nothing_changes(flow, api_client, media):
    w = flow
    appeal = w.bring(S.SIGNED)
    as_user(api_client, w.erin)
    before = w.snapshot(appeal)
    big = SimpleUploadedFile(
        "big.jpg", b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 1), content_type="image/jpeg"
    )
    fake = SimpleUploadedFile("virus.jpg", b"MZ this is not an image", content_type="image/jpeg")
    response = api_client.post(
        f"/api/appeals/{appeal.tracking_no}/progress/with-photos",
        {"note": "到场", "photos": [big, fake]},
    )
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["detail"]]
    assert messages == ["“big.jpg”超过 10 MB。", "“virus.jpg”不是图片。"]
    assert w.snapshot(appeal) == before
    assert not any(media.rglob("*.jpg")) if media.exists() else True


def test_a_rating_that_is_not_a_number_is_refused_not_crashed(flow, api_client):
    w = flow
    appeal = w.bring(S.RESOLVED)
    response = post(
        api_client, w.charlie, f"/api/appeals/{appeal.tracking_no}/rate", {"rating": "five"}
    )
    assert response.status_code == 400 and "rating" in fields(response)


def test_merging_into_an_appeal_out_of_sight_is_refused(two_appeals, api_client):
    w = two_appeals
    response = post(
        api_client,
        w.dora,
        f"/api/appeals/{w.appeal_a.tracking_no}/merge",
        {"into": w.appeal_b.tracking_no},
    )
    assert response.status_code == 400 and "into" in fields(response)
    assert Appeal.objects.get(pk=w.appeal_a.pk).state == S.DISPATCHED


def test_an_unknown_extension_is_not_found(flow, api_client):
    w = flow
    appeal = w.bring(S.SIGNED)
    response = post(
        api_client,
        w.dora,
        f"/api/appeals/{appeal.tracking_no}/extensions/999/decide",
        {"approve": True},
    )
    assert response.status_code == 404


# --- Lookups --------------------------------------------------------------------------------


def test_residents_get_the_public_category_tree_and_can_search_it(cases, api_client):
    w = cases
    w.cat_lift.__class__.objects.create(
        code="0802", name="内部分类", parent=w.cat_property, public=False
    )
    as_user(api_client, w.charlie)
    tree = api_client.get("/api/appeals/categories").json()
    assert [(t["code"], [c["code"] for c in t["children"]]) for t in tree] == [
        ("01", ["0101"]),
        ("08", ["0801"]),
    ]
    assert [t["code"] for t in api_client.get("/api/appeals/categories?q=电梯").json()] == ["08"]
    as_user(api_client, w.alice)
    staff = api_client.get("/api/appeals/categories").json()
    assert [c["code"] for c in staff[1]["children"]] == ["0801", "0802"]


def test_duplicates_are_for_staff(two_appeals, api_client):
    w = two_appeals
    near = actions.submit_appeal(
        w.kate,
        channel="web",
        description="电梯又停了",
        category=w.cat_lift,
        lat=39.9201,
        lng=116.4201,
    ).appeal
    as_user(api_client, w.dora)
    found = api_client.get(f"/api/appeals/duplicates?tracking_no={near.tracking_no}").json()
    assert [a["tracking_no"] for a in found] == [w.appeal_a.tracking_no]
    as_user(api_client, w.kate)
    assert (
        api_client.get(f"/api/appeals/duplicates?tracking_no={near.tracking_no}").status_code == 403
    )


# --- Inbox ----------------------------------------------------------------------------------


def test_the_inbox_lists_only_my_messages_and_marks_them_read(two_appeals, api_client):
    w = two_appeals
    as_user(api_client, w.erin)
    inbox = api_client.get("/api/notifications/").json()
    assert inbox["count"] == Notification.objects.filter(user=w.erin).count() >= 1
    first = inbox["items"][0]["id"]
    assert api_client.post_json(f"/api/notifications/{first}/read").json()["read_at"]
    assert api_client.get("/api/notifications/?unread=true").json()["count"] == inbox["count"] - 1
    api_client.post_json("/api/notifications/read-all")
    assert api_client.get("/api/notifications/unread-count").json() == {"unread": 0}


def test_someone_elses_message_is_not_found(two_appeals, api_client):
    w = two_appeals
    theirs = Notification.objects.filter(user=w.erin).first()
    as_user(api_client, w.charlie)
    assert api_client.post_json(f"/api/notifications/{theirs.pk}/read").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_400_megapixel_png_is_a_400_on_photos_not_a_500(cases, api_client, media):
    from renzhi.core.tests.upload_samples import png_bomb

    as_user(api_client, cases.charlie)
    response = api_client.post(
        "/api/appeals/with-photos",
        {"description": "路灯不亮", "lat": "39.92", "lng": "116.42", "photos": [png_bomb()]},
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["detail"]] == ["photos"]


def test_publication_on_open311_is_off_unless_the_resident_consents(cases, api_client):
    as_user(api_client, cases.charlie)
    private = api_client.post_json("/api/appeals/", LIFT | {"idempotency_key": "p-1"})
    public = api_client.post_json(
        "/api/appeals/", LIFT | {"idempotency_key": "p-2", "public": True}
    )
    assert (private.status_code, public.status_code) == (201, 201)
    flags = {a.tracking_no: a.public for a in Appeal.objects.all()}
    assert flags == {private.json()["tracking_no"]: False, public.json()["tracking_no"]: True}
    detail = api_client.get(f"/api/appeals/{public.json()['tracking_no']}").json()
    assert detail["public"] is True
    assert len({a.public_id for a in Appeal.objects.all()}) == 2
