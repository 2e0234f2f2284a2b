"""The audit chain against someone who can write to the database (issue 14), and retention.

Hashes alone let such a writer rewrite the whole chain consistently. The keyed HMAC per event
(key in the environment) and the anchor file outside the database are what catch it.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from renzhi.core import audit
from renzhi.core.models import AuditEvent, AuditHead, Notification, User


def _chain(count: int = 6) -> None:
    with transaction.atomic():
        for i in range(count):
            audit.record(None, "test.event", object_type="test", object_id=str(i), after={"i": i})
    audit.sync_head()


def _rewrite_from(seq: int, *, key: bytes | None = None) -> None:
    """What an intruder does: change one event, then recompute every later hash and the head.

    Without the key the HMACs stay as they were; with `key` they are recomputed too.
    """
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS_HASH
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.after = {"i": "forged"}
        event.prev_hash = prev
        event.hash = prev = audit.event_hash(event)
        if key is not None:
            event.hmac = audit.event_hmac(event.hash, key)
        AuditEvent.objects.filter(pk=event.pk).update(
            after=event.after, prev_hash=event.prev_hash, hash=event.hash, hmac=event.hmac
        )
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    AuditHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)


def test_every_event_carries_the_keyed_hmac_of_its_hash(db):
    _chain(3)

    for event in AuditEvent.objects.all():
        assert event.hmac == audit.event_hmac(event.hash)
    assert audit.verify_chain() == (3, None)


def test_it_detects_a_whole_chain_rewritten_with_recomputed_hashes(db):
    _chain(6)

    _rewrite_from(2)

    _checked, broken = audit.verify_chain()
    assert broken is not None and broken.seq == 2 and "HMAC" in broken.reason
    with pytest.raises(CommandError, match="HMAC"):
        call_command("verify_audit", stdout=StringIO())


def test_it_detects_a_single_byte_tampered(db):
    _chain(4)
    event = AuditEvent.objects.get(seq=3)
    AuditEvent.objects.filter(pk=event.pk).update(after=json.loads('{"i": 4}'))

    checked, broken = audit.verify_chain()

    assert checked == 2 and broken is not None and broken.event_id == event.id


def test_it_detects_an_hmac_removed_to_pass_as_an_old_event(db):
    _chain(3)
    AuditEvent.objects.filter(seq=2).update(hmac="")

    _checked, broken = audit.verify_chain()

    assert broken is not None and broken.seq == 2 and "no HMAC" in broken.reason


def test_an_anchor_catches_a_rewrite_by_someone_who_holds_the_key(db, tmp_path):
    anchors = tmp_path / "anchors.log"
    _chain(5)
    call_command("verify_audit", "--anchor", "--anchor-file", str(anchors), stdout=StringIO())
    line = anchors.read_text().split()
    assert line[0] == "5" and line[1] == AuditEvent.objects.get(seq=5).hash

    _rewrite_from(3, key=audit.audit_key())

    assert audit.verify_chain(anchor_file=tmp_path / "none.log") == (5, None)  # consistent...
    _checked, broken = audit.verify_chain(anchor_file=anchors)
    assert broken is not None and broken.seq == 5 and "anchor" in broken.reason  # ...not anchors


def test_an_anchor_beyond_the_end_reveals_deleted_events(db, tmp_path):
    anchors = tmp_path / "anchors.log"
    _chain(4)
    audit.write_anchor(anchors)
    AuditEvent.objects.filter(seq=4).delete()
    last = AuditEvent.objects.get(seq=3)
    AuditHead.objects.filter(pk=1).update(seq=3, hash=last.hash)

    _checked, broken = audit.verify_chain(anchor_file=anchors)

    assert broken is not None and "events missing" in broken.reason


def test_a_forged_anchor_line_is_refused(db, tmp_path):
    anchors = tmp_path / "anchors.log"
    _chain(2)
    anchors.write_text(f"2 {AuditEvent.objects.get(seq=2).hash} {'0' * 64} 2026-01-01T00:00:00\n")

    _checked, broken = audit.verify_chain(anchor_file=anchors)

    assert broken is not None and "not signed" in broken.reason


def test_anchors_are_appended_never_rewritten(db, tmp_path):
    anchors = tmp_path / "anchors.log"
    _chain(1)
    audit.write_anchor(anchors)
    _chain(1)
    audit.write_anchor(anchors)

    lines = anchors.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert audit.verify_chain(anchor_file=anchors) == (2, None)


def test_it_refuses_to_run_without_a_key_in_production(settings):
    settings.RENZHI_AUDIT_KEY = ""
    settings.DEBUG = False
    settings.TESTING = False

    with pytest.raises(ImproperlyConfigured, match="RENZHI_AUDIT_KEY"):
        audit.audit_key()


def test_the_configured_key_is_used_and_a_different_key_fails_verification(db, settings):
    settings.RENZHI_AUDIT_KEY = "first-key-from-the-environment"
    _chain(2)
    assert audit.verify_chain() == (2, None)

    settings.RENZHI_AUDIT_KEY = "another-key"

    assert audit.verify_chain()[1] is not None


def test_seal_gives_old_events_their_hmac_once(db):
    _chain(3)
    AuditEvent.objects.update(hmac="")

    call_command("verify_audit", "--seal", stdout=StringIO())

    assert audit.verify_chain() == (3, None)


# --- retention ------------------------------------------------------------------------------


def _age_events(days: int) -> None:
    AuditEvent.objects.update(at=timezone.now() - dt.timedelta(days=days))


def test_purge_refuses_a_date_inside_the_retention_period(db):
    _chain(2)
    recent = (timezone.now() - dt.timedelta(days=30)).date().isoformat()

    with pytest.raises(CommandError, match="--before"):
        call_command("purge_personal_data", "--before", recent, stdout=StringIO())

    assert AuditEvent.objects.count() == 2


def test_purge_refuses_a_malformed_date(db):
    with pytest.raises(CommandError, match="--before"):
        call_command("purge_personal_data", "--before", "last year", stdout=StringIO())


def test_purge_dry_run_counts_and_changes_nothing(db):
    _chain(3)
    _age_events(400)
    before = (timezone.now() - dt.timedelta(days=200)).date().isoformat()
    out = StringIO()

    call_command("purge_personal_data", "--before", before, "--dry-run", stdout=out)

    assert "Would purge 3 audit events" in out.getvalue()
    assert AuditEvent.objects.count() == 3


def test_purge_removes_old_personal_data_and_the_rest_of_the_chain_still_verifies(db):
    user = User.objects.create_user("purged", password="x")
    _chain(3)
    _age_events(400)
    _chain(2)  # recent: kept
    old = Notification.objects.create(user=user, kind="test", title="旧通知")
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400)
    )
    fresh = Notification.objects.create(user=user, kind="test", title="新通知")
    Session.objects.create(
        session_key="expired", session_data="", expire_date=timezone.now() - dt.timedelta(days=1)
    )
    before = (timezone.now() - dt.timedelta(days=200)).date().isoformat()

    call_command("purge_personal_data", "--before", before, stdout=StringIO())

    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == [4, 5, 6]
    assert AuditEvent.objects.get(seq=6).verb == "audit.purge"
    assert list(Notification.objects.all()) == [fresh]
    assert not Session.objects.filter(session_key="expired").exists()
    audit.sync_head()
    assert audit.verify_chain() == (3, None)


def test_a_moved_chain_start_is_detected(db):
    _chain(3)
    _age_events(400)
    _chain(2)
    before = (timezone.now() - dt.timedelta(days=200)).date().isoformat()
    call_command("purge_personal_data", "--before", before, stdout=StringIO())
    audit.sync_head()

    AuditHead.objects.filter(pk=1).update(base_seq=4)  # hide event 4 by moving the start

    assert audit.verify_chain()[1] is not None
