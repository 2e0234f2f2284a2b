"""Excel export of the appeals list: Chinese headers, Beijing times, the list's filters and
scope, phone numbers masked unless the viewer's role needs them, no formula injection."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from renzhi.appeals import actions
from renzhi.appeals.models import Appeal


def export(api_client, user, query: str = "") -> list[dict]:
    api_client.logout()
    api_client.force_login(user)
    response = api_client.get(f"/api/appeals/export.xlsx{query}")
    assert response.status_code == 200, response.content if hasattr(response, "content") else ""
    assert response["Content-Disposition"].startswith('attachment; filename="appeals-')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_export_has_chinese_headers_and_beijing_times(two_appeals, api_client):
    w = two_appeals
    Appeal.objects.filter(pk=w.appeal_a.pk).update(
        received_at=dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    )
    rows = export(api_client, w.alice)
    assert list(rows[0])[:4] == ["工单编号", "状态", "受理渠道", "紧急程度"]
    assert rows[0]["工单编号"] == w.appeal_a.tracking_no
    assert rows[0]["状态"] == "已派单" and rows[0]["承办单位"] == "甲一物业"
    assert rows[0]["登记时间"] == dt.datetime(2026, 3, 2, 9, 30)  # 01:30 UTC = 09:30 Beijing


def test_the_export_keeps_to_the_viewers_jurisdiction_and_the_filters(two_appeals, api_client):
    w = two_appeals
    waiting = w.bring("received")
    assert {r["工单编号"] for r in export(api_client, w.bob)} == {w.appeal_b.tracking_no}
    assert {r["工单编号"] for r in export(api_client, w.frank, "?state=received")} == {
        waiting.tracking_no
    }
    assert {r["工单编号"] for r in export(api_client, w.frank, "?place=110105002")} == {
        w.appeal_b.tracking_no
    }


def test_phones_are_masked_unless_the_role_needs_them(two_appeals, api_client):
    w = two_appeals
    assert export(api_client, w.alice)[0]["联系电话"] == "13900000001"
    assert export(api_client, w.charlie)[0]["联系电话"] == "13900000001"  # her own appeal
    assert {r["联系电话"] for r in export(api_client, w.frank)} == {"139****0001", "139****0002"}
    assert {r["联系电话"] for r in export(api_client, w.root)} == {"139****0001", "139****0002"}


def test_a_residents_text_never_becomes_a_formula(cases, api_client):
    actions.submit_appeal(
        cases.alice,
        channel="hotline",
        description='=HYPERLINK("http://x")',
        place=cases.community_a,
        auto_route=False,
    )
    api_client.force_login(cases.alice)
    response = api_client.get("/api/appeals/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cell = sheet.cell(row=2, column=8)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"


def test_a_bad_filter_is_refused_not_exported(cases, api_client):
    api_client.force_login(cases.alice)
    response = api_client.get("/api/appeals/export.xlsx?state=nonsense")
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "state"


def test_every_formula_start_in_a_residents_text_stays_text(cases, api_client):
    for text in ("+1+cmd|' /C calc'!A0", "-2+3 漏水", "@SUM(1+1)", "\t=1+1"):
        actions.submit_appeal(
            cases.alice,
            channel="hotline",
            description=text,
            place=cases.community_a,
            auto_route=False,
        )
    api_client.force_login(cases.alice)
    response = api_client.get("/api/appeals/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [sheet.cell(row=r, column=8) for r in range(2, sheet.max_row + 1)]
    assert len(cells) == 4
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_the_dashboard_workbook_writes_names_as_text():
    from renzhi.appeals.dashboard import workbook

    payload = {
        "period": {"start": "2026-01-01", "end": "2026-02-01"},
        "generated_at": "2026-02-01 08:00",
        "grids": [{"code": "110105001001001", "label": '=HYPERLINK("http://x","网格")'}],
    }
    sheet = load_workbook(io.BytesIO(workbook(payload, ("grids",)))).active
    cell = sheet.cell(row=3, column=2)
    assert cell.value == '=HYPERLINK("http://x","网格")'
    assert cell.data_type == "s" and cell.quotePrefix
