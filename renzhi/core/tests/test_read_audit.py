"""core.read_audit: who read whose personal data, which records, why (issue 23 #6)."""

from __future__ import annotations

from renzhi.core import read_audit
from renzhi.core.models import AuditEvent, User


class FakeRequest:
    method = "GET"

    def __init__(self, **get):
        self.GET, self.POST = get, {}


def test_a_read_names_the_actor_the_record_and_the_reason(world):
    event = read_audit.record_read(world.root, world.charlie, "user_phone", "核实身份")
    assert (event.verb, event.actor, event.object_id) == (
        "read.user_phone",
        world.root,
        str(world.charlie.pk),
    )
    assert event.after == {"reason": "核实身份"}


def test_reading_ones_own_record_or_reading_anonymously_writes_nothing(world):
    assert read_audit.record_read(world.charlie, world.charlie, "user_phone") is None
    assert read_audit.record_read(None, world.charlie, "user_phone") is None
    assert read_audit.record_list_read(world.root, User, [], "user_phone") is None
    assert not AuditEvent.objects.filter(verb__startswith="read.").exists()


def test_a_list_read_names_at_most_max_ids_and_counts_all(world):
    event = read_audit.record_list_read(world.root, User, list(range(1, 602)), "user_phone")
    assert len(event.after["ids"]) == read_audit.MAX_IDS and event.after["count"] == 601


def test_the_reason_is_trimmed_and_single_spaced():
    assert read_audit.reason_of(FakeRequest(reason="  回访 \n 核实  " + "x" * 500)).startswith(
        "回访 核实 x"
    )
    assert len(read_audit.reason_of(FakeRequest(reason="x" * 500))) == read_audit.REASON_CHARS
    assert read_audit.reason_of(FakeRequest()) == "" and read_audit.reason_of(None) == ""


def test_the_reason_loses_control_and_invisible_characters():
    assert read_audit.reason_of(FakeRequest(reason="回访\x00核实\u200b\x07")) == "回访核实"


def test_the_user_admin_page_showing_a_phone_is_an_audited_read(world, client):
    client.force_login(world.root)
    assert client.get(f"/users/{world.charlie.pk}/?reason=重置密码").status_code == 200
    event = AuditEvent.objects.get(verb="read.user_phone")
    assert event.object_id == str(world.charlie.pk) and event.after["reason"] == "重置密码"
