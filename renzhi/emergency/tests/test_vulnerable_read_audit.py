"""Every read of a vulnerable resident's record is audited (issue 23 #6): the API list (the page
served), the API detail with the unmasked phone, check-ins, the checklist, the pages; who, which
record, and the optional `?reason=`."""

from __future__ import annotations

import pytest

from renzhi.core.models import AuditEvent
from renzhi.emergency.tests.test_resources_vulnerable import register

pytestmark = pytest.mark.django_db
API = "/api/emergency"


def reads(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb="read.vulnerable", actor=user).order_by("seq"))


def test_the_api_detail_with_the_unmasked_phone_is_audited_with_the_reason(world, api_client):
    resident = register(world)
    client = api_client.as_user(world.alice)
    body = client.get(f"{API}/vulnerable/{resident.pk}?reason=暴雨前回访").json()
    assert body["phone"] == "13911112222"
    [event] = reads(world.alice)
    assert event.object_type == "emergency.vulnerableresident"
    assert event.object_id == str(resident.pk)
    assert event.after["reason"] == "暴雨前回访"


def test_the_api_list_audits_the_records_on_the_page(world, api_client):
    first, second = register(world), register(world, name="李爷爷")
    client = api_client.as_user(world.alice)
    assert len(client.get(f"{API}/vulnerable").json()["items"]) == 2
    [event] = reads(world.alice)
    assert sorted(event.after["ids"]) == sorted([first.pk, second.pk])
    assert event.after["count"] == 2 and event.after["reason"] == ""
    page = client.get(f"{API}/vulnerable?page=2&page_size=1").json()["items"]
    assert reads(world.alice)[-1].after["ids"] == [page[0]["id"]]


def test_check_ins_of_a_resident_are_an_audited_read(world, api_client):
    resident = register(world)
    api_client.as_user(world.alice).get(f"{API}/vulnerable/{resident.pk}/checkins")
    assert [e.object_id for e in reads(world.alice)] == [str(resident.pk)]


def test_the_register_pages_are_audited(world, client):
    resident = register(world)
    client.force_login(world.alice)
    assert client.get("/emergency/vulnerable/").status_code == 200
    assert client.get(f"/emergency/vulnerable/{resident.pk}/?reason=上门").status_code == 200
    listed, detail = reads(world.alice)
    assert listed.after["ids"] == [resident.pk]
    assert detail.object_id == str(resident.pk) and detail.after["reason"] == "上门"


def test_a_refused_read_writes_no_read_event(world, api_client):
    resident = register(world)
    response = api_client.as_user(world.bob).get(f"{API}/vulnerable/{resident.pk}")
    assert response.status_code in (403, 404)
    assert reads(world.bob) == []


def test_the_audit_chain_still_verifies_after_reads(world, api_client):
    from renzhi.core import audit

    resident = register(world)
    api_client.as_user(world.alice).get(f"{API}/vulnerable/{resident.pk}")
    checked, broken = audit.verify_chain()
    assert broken is None and checked >= 2
