"""POST requests.{fmt}: a partner files an appeal through the same intake as every channel."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from renzhi.appeals.models import Appeal, AppealEvent, Channel, State
from renzhi.core.models import AuditEvent
from renzhi.open311.models import PartnerRequest
from renzhi.open311.tests.conftest import IN_A1, IN_B1, OUTSIDE, lift_request

STRICT = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)


def errors_of(response) -> list[dict]:
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)
    root = etree.fromstring(response.content, STRICT)
    assert root.tag == "errors"
    return [
        {"code": int(e.findtext("code")), "description": e.findtext("description")}
        for e in root.findall("error")
    ]


def counts():
    return (
        Appeal.objects.count(),
        AppealEvent.objects.count(),
        PartnerRequest.objects.count(),
    )


@pytest.fixture
def unchanged(o311):
    """Asserts on exit that no appeal, timeline step or link was written."""
    before = counts()
    yield
    assert counts() == before


def test_it_files_an_appeal_through_the_appeals_intake(o311, o311_client):
    response = o311_client.post("json", lift_request(o311))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [entry] = json.loads(response.content)
    assert set(entry) == {"service_request_id", "service_notice", "account_id"}
    appeal = Appeal.objects.get(public_id=entry["service_request_id"])
    assert entry["account_id"] == "acc-9"
    assert appeal.channel == Channel.OPEN311
    assert appeal.category == o311.cat_lift
    assert appeal.grid == o311.grid_a1
    # Same routing and SLA as every channel: dispatched to unit A with a deadline.
    assert appeal.state == State.DISPATCHED
    assert appeal.unit == o311.unit_a
    assert appeal.resolve_deadline is not None
    assert "甲一物业" in entry["service_notice"]
    assert appeal.created_by == o311.key.user
    assert appeal.contact_name == "晓明 王"
    assert appeal.contact_phone == "13800007777"
    assert appeal.extra["open311"]["email"] == "wang@example.cn"
    assert appeal.extra["open311"]["device_id"] == "dev-42"
    assert "楼栋号：3号楼" in appeal.description
    link = appeal.open311
    assert link.key == o311.key and link.attributes == {"building": "3号楼"}
    verbs = list(AuditEvent.objects.filter(object_id=str(appeal.pk)).values_list("verb", flat=True))
    assert "appeal.submit" in verbs and "open311.request" in verbs
    request_audit = AuditEvent.objects.get(verb="open311.request")
    assert request_audit.actor == o311.key.user
    assert request_audit.after["key_prefix"] == o311.key.prefix
    o311.key.refresh_from_db()
    assert o311.key.last_used_at is not None


def test_it_answers_in_xml_with_the_spec_elements(o311, o311_client):
    response = o311_client.post("xml", lift_request(o311))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = etree.fromstring(response.content, STRICT)
    assert root.tag == "service_requests"
    [request] = root
    assert request.tag == "request"
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    assert Appeal.objects.filter(public_id=request.findtext("service_request_id")).exists()
    assert "appeal" in request.findtext("service_notice")


def test_it_stores_every_datatype_and_repeated_multivalue_keys(o311, o311_client):
    data = lift_request(
        o311,
        **{
            "attribute[blocking]": "1",
            "attribute[people]": "2",
            "attribute[since]": "2026-03-02T08:30:00+08:00",
            "attribute[details]": "第一行\n第二行",
        },
    )
    from urllib.parse import urlencode

    encoded = urlencode(
        [*data.items(), ("attribute[floors][]", "B1"), ("attribute[floors][]", "1F")]
    )
    response = o311_client.raw.post(
        "/open311/v2/requests.json", encoded, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content
    link = PartnerRequest.objects.get()
    assert link.attributes == {
        "building": "3号楼",
        "blocking": "1",
        "floors": ["B1", "1F"],
        "people": 2,
        "since": "2026-03-02T08:30:00+08:00",
        "details": "第一行\n第二行",
    }
    assert "是否影响通行：是" in link.appeal.description
    assert "受影响楼层：地下一层、一层" in link.appeal.description


def test_it_accepts_multivalue_as_repeated_plain_keys(o311, o311_client):
    from urllib.parse import urlencode

    encoded = urlencode(
        [*lift_request(o311).items(), ("attribute[floors]", "B1"), ("attribute[floors]", "1F")]
    )
    response = o311_client.raw.post(
        "/open311/v2/requests.xml", encoded, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert PartnerRequest.objects.get().attributes["floors"] == ["B1", "1F"]


def test_it_files_by_address_id_and_by_address_string(o311, o311_client):
    by_id = o311_client.post(
        "json", lift_request(o311, lat=None, long=None, address_id=o311.grid_a2.code)
    )
    assert by_id.status_code == 200, by_id.content
    appeal = Appeal.objects.get(public_id=json.loads(by_id.content)[0]["service_request_id"])
    assert appeal.grid == o311.grid_a2
    by_text = o311_client.post(
        "json",
        lift_request(o311, lat=None, long=None, address_string="朝阳演示区甲一社区第2网格3号楼"),
    )
    assert by_text.status_code == 200, by_text.content
    appeal = Appeal.objects.get(public_id=json.loads(by_text.content)[0]["service_request_id"])
    assert appeal.grid == o311.grid_a2
    assert appeal.address == "朝阳演示区甲一社区第2网格3号楼"


def test_a_category_without_routing_waits_for_a_dispatcher(o311, o311_client):
    response = o311_client.post(
        "json", {"api_key": o311.raw_key, "service_code": "0501", **IN_B1, "description": "灯坏"}
    )
    assert response.status_code == 200
    appeal = Appeal.objects.get(public_id=json.loads(response.content)[0]["service_request_id"])
    assert appeal.state == State.RECEIVED and appeal.unit is None


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_refuses_a_missing_api_key_with_403(o311, o311_client, unchanged, fmt):
    response = o311_client.post(fmt, lift_request(o311, api_key=None))
    assert response.status_code == 403
    [error] = errors_of(response)
    assert error["code"] == 403 and "api_key" in error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_refuses_an_unknown_api_key_and_audits_it(o311, o311_client, unchanged, fmt):
    response = o311_client.post(fmt, lift_request(o311, api_key="o311_not-a-real-key"))
    assert response.status_code == 403
    assert errors_of(response)[0]["code"] == 403
    audit = AuditEvent.objects.get(verb="open311.refused")
    assert audit.actor is None
    assert audit.after["key_prefix"] == "o311_not-a"
    assert audit.after["known_key"] is False


def test_it_refuses_a_revoked_key(o311, o311_client, unchanged):
    from renzhi.open311.actions import revoke_key

    revoke_key(o311.root, o311.key)
    response = o311_client.post("json", lift_request(o311))
    assert response.status_code == 403
    audit = AuditEvent.objects.get(verb="open311.refused")
    assert audit.actor == o311.key.user


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_answers_404_for_an_unknown_service_code(o311, o311_client, unchanged, fmt):
    response = o311_client.post(fmt, lift_request(o311, service_code="9999"))
    assert response.status_code == 404
    [error] = errors_of(response)
    assert error["code"] == 404 and "9999" in error["description"]
    assert AuditEvent.objects.filter(verb="open311.refused").count() == 1


def test_it_refuses_a_category_closed_to_the_public(o311, o311_client, unchanged):
    response = o311_client.post("json", lift_request(o311, service_code="0599"))
    assert response.status_code == 404


def test_it_refuses_a_missing_service_code(o311, o311_client, unchanged):
    response = o311_client.post("json", lift_request(o311, service_code=None))
    assert response.status_code == 400
    assert "service_code" in errors_of(response)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_refuses_a_missing_required_attribute(o311, o311_client, unchanged, fmt):
    response = o311_client.post(fmt, lift_request(o311, **{"attribute[building]": None}))
    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["code"] == 400
    assert "attribute[building]" in error["description"] and "楼栋号" in error["description"]
    audit = AuditEvent.objects.get(verb="open311.refused")
    assert audit.actor == o311.key.user
    assert "attribute[building]" in audit.after["problems"][0]


@pytest.mark.parametrize(
    ("code", "value", "words"),
    [
        ("building", "3号楼\n4号楼", "one line"),
        ("blocking", "2", "not one of"),
        ("floors", "B9", "not one of"),
        ("people", "两个", "number"),
        ("people", "nan", "number"),
        ("since", "yesterday", "W3C"),
        ("details", "x" * 4001, "longer than"),
        ("unknown", "1", "not an attribute"),
    ],
)
def test_it_refuses_an_attribute_of_the_wrong_datatype(
    o311, o311_client, unchanged, code, value, words
):
    response = o311_client.post("json", lift_request(o311, **{f"attribute[{code}]": value}))
    assert response.status_code == 400, response.content
    descriptions = " ".join(e["description"] for e in errors_of(response))
    assert f"attribute[{code}]" in descriptions and words in descriptions


def test_it_refuses_two_values_for_a_single_value_list(o311, o311_client, unchanged):
    from urllib.parse import urlencode

    encoded = urlencode(
        [*lift_request(o311).items(), ("attribute[blocking]", "1"), ("attribute[blocking]", "0")]
    )
    response = o311_client.raw.post(
        "/open311/v2/requests.json", encoded, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_it_refuses_a_location_outside_the_service_area(o311, o311_client, unchanged, fmt):
    response = o311_client.post(fmt, lift_request(o311, **OUTSIDE))
    assert response.status_code == 400
    [error] = errors_of(response)
    assert error["code"] == 400 and error["description"].startswith("lat/long")


@pytest.mark.parametrize(
    "location",
    [
        {"lat": None, "long": None},
        {"lat": "39.92", "long": None},
        {"lat": "北纬", "long": "116.42"},
        {"lat": None, "long": None, "address_id": "110105"},
        {"lat": None, "long": None, "address_string": "不存在的地方"},
    ],
)
def test_it_refuses_a_missing_or_malformed_location(o311, o311_client, unchanged, location):
    response = o311_client.post("json", lift_request(o311, **location))
    assert response.status_code == 400
    assert errors_of(response)


def test_it_lists_every_problem_at_once(o311, o311_client, unchanged):
    response = o311_client.post(
        "json",
        lift_request(
            o311, lat=None, long=None, **{"attribute[building]": None, "attribute[people]": "x"}
        ),
    )
    assert response.status_code == 400
    assert len(errors_of(response)) == 3


def test_a_key_limited_to_street_a_cannot_file_in_street_b(o311, o311_client, unchanged):
    from renzhi.open311.actions import issue_key

    _key, raw = issue_key(o311.adam, name="甲街道小程序", place=o311.street_a)
    response = o311_client.post("json", lift_request(o311, api_key=raw, **IN_B1))
    assert response.status_code == 400
    assert "outside the service area of this api_key" in errors_of(response)[0]["description"]


def test_a_key_limited_to_street_a_files_in_street_a(o311, o311_client):
    from renzhi.open311.actions import issue_key

    _key, raw = issue_key(o311.adam, name="甲街道小程序", place=o311.street_a)
    assert o311_client.post("json", lift_request(o311, api_key=raw, **IN_A1)).status_code == 200


def test_it_refuses_a_bad_phone_number_from_the_appeal_rules(o311, o311_client, unchanged):
    response = o311_client.post("json", lift_request(o311, phone="12"))
    assert response.status_code == 400
    assert errors_of(response)[0]["description"].startswith("phone")


def test_an_empty_description_falls_back_to_the_service_name(o311, o311_client):
    response = o311_client.post("json", lift_request(o311, description=None))
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    assert appeal.description.startswith("电梯故障")
