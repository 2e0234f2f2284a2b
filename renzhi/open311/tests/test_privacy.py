"""What Open311 publishes (issue 14 #11): only appeals filed through Open311 or marked public
by the resident at intake, of services an administrator published; under a random public id;
location snapped to a 0.001° grid; names, phones and street addresses taken out."""

from __future__ import annotations

import json

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, Category, Channel
from renzhi.core.models import AuditEvent
from renzhi.open311.tests.conftest import lift_request


def listed(o311_client) -> list[str]:
    return [e["service_request_id"] for e in json.loads(o311_client.get("requests.json").content)]


def entry_of(o311_client, appeal: Appeal) -> dict:
    response = o311_client.get(f"requests/{appeal.public_id}.json")
    assert response.status_code == 200, response.content
    return json.loads(response.content)[0]


@pytest.mark.parametrize(
    ("username", "channel"),
    [("charlie", Channel.WEB), ("alice", Channel.HOTLINE), ("gina", Channel.PATROL)],
)
def test_an_appeal_from_another_channel_is_not_published_without_consent(
    o311, o311_client, username, channel
):
    appeal = appeal_actions.submit_appeal(
        getattr(o311, username),
        channel=channel,
        description="3号楼电梯坏了",
        category=o311.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal
    assert appeal.public is False
    assert listed(o311_client) == []
    for ref in (appeal.public_id, appeal.tracking_no):
        assert o311_client.get(f"requests/{ref}.json").status_code == 404
    by_id = o311_client.get("requests.json", service_request_id=appeal.public_id)
    assert json.loads(by_id.content) == []


def test_an_appeal_the_resident_marked_public_is_published(o311, o311_client):
    appeal = appeal_actions.submit_appeal(
        o311.charlie,
        channel=Channel.WEB,
        description="路灯不亮",
        category=o311.cat_lamp,
        lat=39.92,
        lng=116.42,
        public=True,
    ).appeal
    assert listed(o311_client) == [appeal.public_id]


def test_the_public_id_is_random_and_the_tracking_number_finds_nothing(o311, o311_client):
    first = o311_client.post("json", lift_request(o311))
    second = o311_client.post("json", lift_request(o311))
    ids = [json.loads(r.content)[0]["service_request_id"] for r in (first, second)]
    appeals = [Appeal.objects.get(public_id=i) for i in ids]
    assert all(len(i) >= 22 and i != a.tracking_no for i, a in zip(ids, appeals, strict=True))
    assert ids[0][:6] != ids[1][:6]  # nothing sequential to count from
    # An unmodified client: POST, then GET /requests/{id}.json with the id it was given.
    assert entry_of(o311_client, appeals[0])["service_request_id"] == ids[0]
    assert o311_client.get(f"requests/{appeals[0].tracking_no}.json").status_code == 404


def test_the_location_is_snapped_to_the_grid_and_the_address_is_only_place_names(o311, o311_client):
    response = o311_client.post(
        "json",
        lift_request(
            o311,
            lat="39.923456",
            long="116.421789",
            address_string="幸福里小区3号楼2单元501室",
            description="幸福里小区3号楼2单元501室门口电梯坏了，王晓明，13812345678",
            first_name="晓明",
            last_name="王",
        ),
    )
    appeal = Appeal.objects.get(public_id=json.loads(response.content)[0]["service_request_id"])
    appeal.contact_name = "王晓明"
    appeal.save(update_fields=["contact_name"])
    entry = entry_of(o311_client, appeal)
    assert (entry["lat"], entry["long"]) == (39.923, 116.422)
    assert entry["address"] == "甲一社区第1网格, 甲一社区, 甲街道"
    body = o311_client.get(f"requests/{appeal.public_id}.json").content.decode("utf-8")
    geo = o311_client.get("requests.geojson").content.decode("utf-8")
    for private in ("39.923456", "116.421789", "501室", "王晓明", "13812345678"):
        assert private not in body and private not in geo


def test_a_service_is_not_public_until_an_administrator_publishes_it(o311, o311_client, api_client):
    def codes():
        return [s["service_code"] for s in json.loads(o311_client.get("services.json").content)]

    Category.objects.filter(code="0501").update(open311_public=False)
    assert "0501" not in codes()
    refused = o311_client.post("json", lift_request(o311, service_code="0501"))
    assert refused.status_code == 404

    api_client.as_user(o311.root)
    response = api_client.patch_json(
        "/api/appeals/config/categories/0501", {"open311_public": True}
    )
    assert response.status_code == 200 and response.json()["open311_public"] is True
    assert "0501" in codes()
    event = AuditEvent.objects.filter(verb="appeal_category.update").latest("id")
    assert event.after["open311_public"] is True and event.before["open311_public"] is False


def test_a_new_category_is_not_published_on_open311(o311):
    assert (
        Category.objects.create(code="0502", name="井盖缺失", parent=o311.cat_town).open311_public
        is False
    )


def test_appeals_of_an_unpublished_service_are_not_published(o311, o311_client):
    appeal = appeal_actions.submit_appeal(
        o311.charlie,
        channel=Channel.WEB,
        description="路灯不亮",
        category=o311.cat_lamp,
        lat=39.92,
        lng=116.42,
        public=True,
    ).appeal
    Category.objects.filter(code="0501").update(open311_public=False)
    assert listed(o311_client) == []
    assert o311_client.get(f"requests/{appeal.public_id}.json").status_code == 404
