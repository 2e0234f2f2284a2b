"""The resources JSON API: bad input answers with the field named and changes nothing;
stock-count imports are all or nothing; every ledger exports."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from renzhi.core.models import AuditEvent
from renzhi.emergency.models import Distribution, StockBatch, StockMove
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    on_hand,
    stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


API = "/api/emergency"


def state():
    return (
        sorted(StockBatch.objects.values_list("id", "quantity")),
        StockMove.objects.count(),
        Distribution.objects.count(),
        AuditEvent.objects.count(),
    )


def fields(response) -> set[str]:
    return {d["field"] for d in response.json()["detail"]}


@pytest.mark.parametrize(
    ("path", "body", "field", "status"),
    [
        ("/stock/issue", {"depot": "dep-a", "item": "unobtainium", "quantity": 1}, "item", 404),
        ("/stock/issue", {"depot": "dep-a", "item": "water", "quantity": -5}, "quantity", 400),
        ("/stock/issue", {"depot": "dep-a", "item": "water", "quantity": 0}, "quantity", 400),
        ("/stock/issue", {"depot": "dep-a", "item": "water", "quantity": 11}, "quantity", 409),
        ("/stock/receive", {"depot": "dep-a", "item": "water", "quantity": -1}, "quantity", 400),
        ("/stock/receive", {"depot": "dep-zz", "item": "water", "quantity": 1}, "depot", 404),
        ("/stock/receive", {"depot": "dep-b", "item": "water", "quantity": 1}, "depot", 404),
        (
            "/stock/transfer",
            {"from_depot": "dep-a", "to_depot": "dep-a", "item": "water", "quantity": 1},
            "to_depot",
            400,
        ),
        ("/stock/adjust", {"batch_id": 999999, "quantity": 1, "reason": "x"}, "batch_id", 404),
    ],
)
def test_bad_stock_input_names_the_field_and_changes_nothing(
    depots, api_client, path, body, field, status
):
    w = depots
    stock(w.depot_a, w.items["water"], 10)
    client = api_client.as_user(w.alice)
    before = state()
    response = client.post_json(API + path, body)
    assert response.status_code == status, response.content
    assert field in fields(response)
    assert state() == before


def test_issue_and_ledger_through_the_api(depots, api_client):
    w = depots
    stock(w.depot_a, w.items["water"], 10, days=30)
    client = api_client.as_user(w.alice)
    response = client.post_json(
        API + "/stock/issue", {"depot": "dep-a", "item": "water", "quantity": 4}
    )
    assert response.status_code == 201 and response.json()[0]["quantity"] == -4
    ledger = client.get(API + "/moves?depot=dep-a").json()
    assert [m["kind"] for m in ledger["items"]] == ["issue", "receive"]
    rows = client.get(API + "/stock?depot=dep-a").json()
    assert rows[0]["usable"] == 6 and rows[0]["expiring_30"] == 6


def test_a_second_household_kit_is_refused_by_the_api(depots, api_client):
    w = depots
    stock(w.depot_a, w.items["kit"], 3, days=None)
    client = api_client.as_user(w.alice)
    home = client.post_json(
        API + "/households", {"place_code": w.community_a.code, "address": "7号楼101"}
    ).json()
    body = {"depot": "dep-a", "household_id": home["id"], "item": "kit", "signed_by": "赵"}
    assert client.post_json(API + "/distributions", body).status_code == 201
    before = state()
    again = client.post_json(API + "/distributions", body)
    assert again.status_code == 400 and fields(again) == {"household"}
    assert state() == before


def test_the_register_api_masks_lists_and_hides_details_from_outsiders(world, api_client):
    client = api_client.as_user(world.alice)
    made = client.post_json(
        API + "/vulnerable",
        {
            "place_code": world.community_a.code,
            "name": "王奶奶",
            "address": "3号楼101",
            "categories": ["elderly_alone"],
            "consent_method": "本人签字",
            "phone": "13911112222",
        },
    )
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    listed = client.get(API + "/vulnerable").json()["items"]
    assert listed[0]["phone"] == "139****2222"
    assert client.get(f"{API}/vulnerable/{rid}").json()["phone"] == "13911112222"
    for outsider in (world.bob, world.vera, world.leo, world.root):
        api_client.logout()
        assert api_client.as_user(outsider).get(f"{API}/vulnerable/{rid}").status_code in (403, 404)


def _workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["储备点编码", "物资编码", "批次号", "有效期至", "盘点数量", "备注"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        API + "/stock/import",
        {"file": SimpleUploadedFile("count.xlsx", content)},
    )


def test_a_stock_count_with_bad_rows_is_refused_whole_with_row_and_column(depots, api_client):
    w = depots
    stock(w.depot_a, w.items["water"], 10, batch="W1")
    client = api_client.as_user(w.alice)
    before = state()
    content = _workbook(
        [
            ["dep-a", "water", "W1", None, 8, "少两瓶"],  # fine on its own
            ["dep-a", "unobtainium", "", None, 3, ""],
            ["dep-a", "rice", "", "2027-13-45", -2, ""],
            ["dep-b", "water", "", None, 1, ""],  # bob's depot, not alice's
        ]
    )
    response = _upload(client, content)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert {d["field"] for d in detail} == {
        "row 3: item",
        "row 4: expires_on",
        "row 4: quantity",
        "row 5: depot",
    }
    assert any("B（物资编码）" in d["message"] and "3" in d["message"] for d in detail)
    assert state() == before


def test_a_clean_stock_count_books_the_differences(depots, api_client):
    w = depots
    stock(w.depot_a, w.items["water"], 10, batch="W1")
    content = _workbook(
        [
            ["dep-a", "water", "W1", None, 8, "破损"],
            ["dep-a", "rice", "R9", "2030-01-01", 5, ""],
        ]
    )
    response = _upload(api_client.as_user(w.alice), content)
    assert response.status_code == 201, response.content
    assert response.json() == {"rows": 2, "moves": 2}
    assert on_hand(w.depot_a, w.items["water"]) == 8 and on_hand(w.depot_a, w.items["rice"]) == 5
    booked = StockMove.objects.order_by("id").values_list("batch__batch_no", "kind", "quantity")
    assert list(booked)[1:] == [("W1", "adjust", -2), ("R9", "receive", 5)]


@pytest.mark.parametrize("ledger", ["moves", "stock", "requests", "distributions", "callups"])
def test_every_ledger_exports_to_excel(depots, api_client, ledger):
    w = depots
    stock(w.depot_a, w.items["water"], 10)
    stock(w.depot_b, w.items["water"], 99)
    response = api_client.as_user(w.alice).get(f"{API}/stock/export.xlsx?ledger={ledger}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0]  # headers
    if ledger in ("moves", "stock"):
        assert len(rows) == 2  # only her depot's water, not community B's


def test_the_stock_export_never_turns_a_name_or_batch_into_a_formula(depots, api_client):
    w = depots
    w.depot_a.name = "@SUM(1+1)"
    w.depot_a.save(update_fields=["name"])
    stock(w.depot_a, w.items["water"], 10, batch='=HYPERLINK("http://evil.example","x")')
    response = api_client.as_user(w.alice).get(f"{API}/stock/export.xlsx?ledger=moves")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    depot, batch = sheet.cell(row=2, column=2), sheet.cell(row=2, column=4)
    assert batch.value == '=HYPERLINK("http://evil.example","x")' and depot.value == "@SUM(1+1)"
    assert batch.data_type == "s" and batch.quotePrefix and depot.quotePrefix
