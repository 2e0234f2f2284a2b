"""GET endpoints: discovery, services, service definitions, requests, tokens, GeoJSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, Channel
from renzhi.open311.models import PartnerRequest
from renzhi.open311.tests.conftest import IN_A1, IN_B1, lift_request
from renzhi.open311.tests.test_post_requests import STRICT, errors_of


def file(o311, o311_client, **overrides) -> Appeal:
    response = o311_client.post("json", lift_request(o311, **overrides))
    assert response.status_code == 200, response.content
    return Appeal.objects.get(public_id=json.loads(response.content)[0]["service_request_id"])


def one(o311_client, appeal, fmt="json") -> dict:
    response = o311_client.get(f"requests/{appeal.public_id}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        [entry] = json.loads(response.content)
        return entry
    [request] = etree.fromstring(response.content, STRICT)
    return {child.tag: child.text for child in request}


# --- Discovery and services -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_v2_endpoint_and_both_formats(o311, o311_client, fmt):
    response = o311_client.get(f"discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        doc = json.loads(response.content)
        [endpoint] = doc["endpoints"]
        assert endpoint["url"] == "http://testserver/open311/v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    else:
        root = etree.fromstring(response.content, STRICT)
        assert root.tag == "discovery"
        assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
            "text/xml",
            "application/json",
        ]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_lists_public_leaf_categories_with_their_group(o311, o311_client, fmt):
    response = o311_client.get(f"services.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        services = {s["service_code"]: s for s in json.loads(response.content)}
    else:
        root = etree.fromstring(response.content, STRICT)
        services = {
            s.findtext("service_code"): {c.tag: c.text for c in s} for s in root.iter("service")
        }
    assert set(services) == {"0801", "0501"}  # not the groups, not the internal category
    lift, lamp = services["0801"], services["0501"]
    assert lift["group"] == "物业管理" and lift["service_name"] == "电梯故障"
    assert lift["keywords"] == "电梯, 困人"
    assert lift["type"] == "realtime"
    assert lift["metadata"] in (True, "true") and lamp["metadata"] in (False, "false")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_lists_the_attributes_in_order(o311, o311_client, fmt):
    response = o311_client.get(f"services/0801.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        doc = json.loads(response.content)
        codes = [a["code"] for a in doc["attributes"]]
        blocking = doc["attributes"][1]
        assert blocking["values"] == [{"key": "1", "name": "是"}, {"key": "0", "name": "否"}]
        assert blocking["datatype"] == "singlevaluelist" and blocking["required"] is False
        assert doc["attributes"][0]["required"] is True
    else:
        root = etree.fromstring(response.content, STRICT)
        assert root.tag == "service_definition" and root.findtext("service_code") == "0801"
        codes = [a.findtext("code") for a in root.iterfind("attributes/attribute")]
        names = [v.findtext("name") for v in root.iterfind("attributes/attribute/values/value")]
        assert names == ["是", "否", "地下一层", "一层"]
    assert codes == ["building", "blocking", "floors", "people", "since", "details"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_definition_is_404(o311, o311_client, fmt):
    response = o311_client.get(f"services/0599.{fmt}")
    assert response.status_code == 404
    assert errors_of(response)[0]["code"] == 404


# --- Requests ---------------------------------------------------------------------------------


def test_a_posted_request_follows_the_case_through_dispatch_resolve_and_close(o311, o311_client):
    appeal = file(o311, o311_client)
    entry = one(o311_client, appeal)
    assert entry["status"] == "open"
    assert entry["agency_responsible"] == "甲一物业"
    assert entry["service_code"] == "0801" and entry["service_name"] == "电梯故障"
    assert entry["expected_datetime"].endswith("+08:00")
    assert entry["requested_datetime"].endswith("+08:00")
    assert entry["address_id"] == o311.grid_a1.code
    assert entry["lat"] == 39.92 and entry["long"] == 116.42

    appeal_actions.sign(o311.erin, appeal)
    appeal_actions.progress(o311.erin, appeal, note="维修人员已到场")
    entry = one(o311_client, appeal, "xml")
    assert entry["status"] == "open" and entry["status_notes"] == "维修人员已到场"

    appeal_actions.resolve(o311.erin, appeal, result="更换了控制板，电梯恢复运行")
    entry = one(o311_client, appeal)
    assert entry["status"] == "closed"
    assert entry["status_notes"] == "更换了控制板，电梯恢复运行"

    appeal_actions.close(o311.dora, appeal, note="回访确认")
    appeal.refresh_from_db()
    entry = one(o311_client, appeal, "xml")
    assert entry["status"] == "closed"
    assert entry["updated_datetime"] == appeal.closed_at.astimezone(
        dt.timezone(dt.timedelta(hours=8))
    ).isoformat(timespec="seconds")


def test_a_rejected_appeal_is_closed_and_a_waiting_one_open(o311, o311_client):
    waiting = file(o311, o311_client, service_code="0501", **{"attribute[building]": None})
    assert one(o311_client, waiting)["status"] == "open"
    appeal_actions.reject(o311.dora, waiting, reason="不属于受理范围")
    entry = one(o311_client, waiting)
    assert entry["status"] == "closed" and entry["status_notes"] == "不属于受理范围"
    assert entry["agency_responsible"] is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_never_shows_names_phone_email_or_account(o311, o311_client, fmt):
    appeal = file(o311, o311_client)
    for path in (f"requests.{fmt}", f"requests/{appeal.public_id}.{fmt}"):
        body = o311_client.get(path).content.decode("utf-8")
        for private in ("晓明", "13800007777", "7777", "wang@example.cn", "dev-42", "acc-9"):
            assert private not in body


def test_requests_are_filtered_by_id_code_status_and_dates(o311, o311_client):
    lift = file(o311, o311_client)
    lamp = file(o311, o311_client, service_code="0501", **{"attribute[building]": None}, **IN_B1)

    def ids(**p):
        return [
            e["service_request_id"]
            for e in json.loads(o311_client.get("requests.json", **p).content)
        ]

    assert set(ids()) == {lift.public_id, lamp.public_id}
    assert ids(service_code="0501") == [lamp.public_id]
    assert ids(status="closed") == []
    assert set(ids(status="open,closed")) == {lift.public_id, lamp.public_id}
    assert ids(service_request_id=f"{lift.public_id},NOPE") == [lift.public_id]
    assert ids(start_date="2001-01-01T00:00:00Z", end_date="2001-02-01T00:00:00+08:00") == []
    today = dt.date.today().isoformat()
    assert set(ids(start_date=today)) == {lift.public_id, lamp.public_id}
    assert ids(page_size="1") == [lamp.public_id]
    assert ids(page_size="1", page="2") == [lift.public_id]


def test_requests_default_to_the_last_90_days(o311, o311_client):
    old = file(o311, o311_client)
    Appeal.objects.filter(pk=old.pk).update(received_at=old.received_at - dt.timedelta(days=91))
    recent = file(o311, o311_client)
    listed = [e["service_request_id"] for e in json.loads(o311_client.get("requests.json").content)]
    assert listed == [recent.public_id]
    # service_request_id overrides every other argument, the date window too.
    by_id = json.loads(o311_client.get("requests.json", service_request_id=old.public_id).content)
    assert [e["service_request_id"] for e in by_id] == [old.public_id]


def test_requests_of_categories_closed_to_the_public_are_not_published(o311, o311_client):
    hidden = appeal_actions.submit_appeal(
        o311.gina,
        channel=Channel.PATROL,
        description="内部巡查记录",
        category=o311.cat_hidden,
        lat=39.92,
        lng=116.42,
    ).appeal
    assert o311_client.get(f"requests/{hidden.public_id}.json").status_code == 404
    assert json.loads(o311_client.get("requests.json").content) == []


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2024-13-01T00:00:00Z"},
        {"start_date": "2024-05-01T00:00:00"},  # no time zone
        {"end_date": "yesterday"},
        {"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-04-01T00:00:00Z"},
        {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-06-01T00:00:00Z"},
        {"status": "pending"},
        {"service_code": "9999"},
        {"page_size": "5000"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_malformed_request_queries_are_400(o311, o311_client, params, fmt):
    response = o311_client.get(f"requests.{fmt}", **params)
    assert response.status_code == 400, response.content
    assert errors_of(response)[0]["code"] == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_request_id_is_404(o311, o311_client, fmt):
    response = o311_client.get(f"requests/NOPE-1.{fmt}")
    assert response.status_code == 404
    assert "NOPE-1" in errors_of(response)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_gives_the_service_request_id(o311, o311_client, fmt):
    appeal = file(o311, o311_client)
    token = str(PartnerRequest.objects.get(appeal=appeal).token)
    response = o311_client.get(f"tokens/{token}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert json.loads(response.content) == [
            {"service_request_id": appeal.public_id, "token": token}
        ]
    else:
        [request] = etree.fromstring(response.content, STRICT)
        assert [c.tag for c in request] == ["service_request_id", "token"]
    assert o311_client.get(f"tokens/not-a-token.{fmt}").status_code == 404


def test_geojson_is_a_feature_collection_of_the_same_requests(o311, o311_client):
    appeal = file(o311, o311_client)
    waiting = file(o311, o311_client, lat=None, long=None, address_id=o311.community_a.code)
    response = o311_client.get("requests.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json; charset=utf-8"
    doc = json.loads(response.content)
    assert doc["type"] == "FeatureCollection"
    features = {f["id"]: f for f in doc["features"]}
    assert features[appeal.public_id]["geometry"] == {
        "type": "Point",
        "coordinates": [116.42, 39.92],
    }
    assert features[appeal.public_id]["properties"]["status"] == "open"
    assert features[waiting.public_id]["geometry"] is None
    assert o311_client.get("requests.geojson", status="nope").status_code == 400


def test_chinese_is_the_default_language_of_descriptions(o311):
    from django.test import Client

    response = Client().get("/open311/v2/requests/NOPE.json")
    assert response.status_code == 404
    description = json.loads(response.content)[0]["description"]
    assert "NOPE" in description and "未找到" in description


# --- Jurisdictions ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["services.json", "services/0801.xml", "requests.json"])
def test_jurisdiction_id_is_optional_with_one_and_checked_when_given(o311, o311_client, path):
    assert o311_client.get(path).status_code == 200
    assert o311_client.get(path, jurisdiction_id="renzhi.demo").status_code == 200
    assert o311_client.get(path, jurisdiction_id="").status_code == 200  # empty = not given
    response = o311_client.get(path, jurisdiction_id="sfgov.org")
    assert response.status_code == 404
    assert "sfgov.org" in errors_of(response)[0]["description"]


def test_jurisdiction_id_is_required_when_several_are_served(o311, o311_client, settings):
    settings.RENZHI_OPEN311_JURISDICTIONS = {
        "a.renzhi": o311.street_a.code,
        "b.renzhi": o311.street_b.code,
    }
    in_a = file(o311, o311_client, jurisdiction_id="a.renzhi")
    response = o311_client.get("requests.json")
    assert response.status_code == 400
    assert "jurisdiction_id" in errors_of(response)[0]["description"]
    assert o311_client.post("json", lift_request(o311)).status_code == 400
    listed = lambda j: [  # noqa: E731
        e["service_request_id"]
        for e in json.loads(o311_client.get("requests.json", jurisdiction_id=j).content)
    ]
    assert listed("a.renzhi") == [in_a.public_id]
    assert listed("b.renzhi") == []
    assert (
        o311_client.get(f"requests/{in_a.public_id}.json", jurisdiction_id="b.renzhi").status_code
        == 404
    )
    # Filing into b's jurisdiction from a point in street A is outside its area.
    refused = o311_client.post("json", lift_request(o311, jurisdiction_id="b.renzhi", **IN_A1))
    assert refused.status_code == 400


# --- Never HTML, never 500 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("get", "/open311/v2/nothing.json", "application/json; charset=utf-8"),
        ("get", "/open311/v2/services.csv", "text/xml; charset=utf-8"),
        ("get", "/open311/v2/", "text/xml; charset=utf-8"),
        ("get", "/open311/v2", "text/xml; charset=utf-8"),
        ("post", "/open311/v2/requests/1/2/3.xml", "text/xml; charset=utf-8"),
        ("delete", "/open311/v2/services.json", "application/json; charset=utf-8"),
    ],
)
def test_unknown_paths_and_methods_answer_in_the_spec_format(
    o311, o311_client, method, path, content_type
):
    response = getattr(o311_client.raw, method)(path)
    assert response.status_code in (404, 405)
    assert response["Content-Type"] == content_type
    assert errors_of(response)[0]["code"] in (404, 405)


def test_an_unexpected_failure_is_a_spec_error_not_a_500(o311, o311_client, monkeypatch):
    from renzhi.open311 import publish

    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(publish, "services", broken)
    response = o311_client.get("services.xml")
    assert response.status_code == 400
    assert "General service error" in errors_of(response)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_phone_and_id_numbers_written_into_the_text_are_masked(o311, o311_client, fmt):
    appeal = file(
        o311,
        o311_client,
        description="电梯坏了，请联系13912345678，身份证11010519800101123X，3号楼",
    )
    body = o311_client.get(f"requests/{appeal.public_id}.{fmt}").content.decode("utf-8")
    assert "13912345678" not in body and "139****5678" in body
    assert "11010519800101123X" not in body and "1101**********123X" in body
    assert "3号楼" in body
