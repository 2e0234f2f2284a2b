"""An appeal's phone shown unmasked to someone other than its resident is an audited read
(issue 23 #6): the detail page, the API detail and list, the Excel export; with `?reason=`."""

from __future__ import annotations

from renzhi.core.models import AuditEvent


def reads(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb="read.appeal_phone", actor=user).order_by("seq"))


def test_the_api_detail_with_the_phone_is_audited_with_the_reason(two_appeals, api_client):
    w = two_appeals
    api_client.force_login(w.alice)
    body = api_client.get(f"/api/appeals/{w.appeal_a.tracking_no}?reason=回访").json()
    assert body["contact_phone"] == "13900000001"
    [event] = reads(w.alice)
    assert event.object_id == str(w.appeal_a.pk) and event.after["reason"] == "回访"


def test_the_detail_page_with_the_phone_is_audited(two_appeals, client):
    w = two_appeals
    client.force_login(w.alice)
    assert client.get(f"/appeals/{w.appeal_a.tracking_no}/").status_code == 200
    assert [e.object_id for e in reads(w.alice)] == [str(w.appeal_a.pk)]


def test_the_api_list_and_the_export_name_the_appeals_whose_phones_were_shown(
    two_appeals, api_client
):
    w = two_appeals
    api_client.force_login(w.alice)
    api_client.get("/api/appeals/")
    b"".join(api_client.get("/api/appeals/export.xlsx?reason=月报").streaming_content)
    listed, exported = reads(w.alice)
    assert listed.after["ids"] == [w.appeal_a.pk]
    assert exported.after["ids"] == [w.appeal_a.pk] and exported.after["reason"] == "月报"


def test_masked_phones_and_ones_own_appeal_are_not_audited(two_appeals, api_client):
    w = two_appeals
    api_client.force_login(w.frank)  # the leader sees masked phones
    api_client.get(f"/api/appeals/{w.appeal_b.tracking_no}")
    api_client.get("/api/appeals/")
    api_client.logout()
    api_client.force_login(w.charlie)  # her own appeal
    api_client.get(f"/api/appeals/{w.appeal_a.tracking_no}")
    assert reads(w.frank) == [] and reads(w.charlie) == []
