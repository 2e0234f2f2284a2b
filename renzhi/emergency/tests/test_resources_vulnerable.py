"""The vulnerable register: consent, strict visibility, pairing, check-ins and escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import Notification
from renzhi.emergency import vulnerable
from renzhi.emergency.actions import vulnerable as actions
from renzhi.emergency.models import CheckIn, VulnerableResident
from renzhi.emergency.tests.factories_resources import make_incident

pytestmark = pytest.mark.django_db


def register(world, **kw):
    fields = {
        "name": "王奶奶",
        "address": "3号楼2单元101",
        "categories": ["elderly_alone", "chronically_ill"],
        "needs": ["oxygen"],
        "consent_method": "本人签字",
        "phone": "13911112222",
        "emergency_contact_name": "王小明",
        "emergency_contact_phone": "13933334444",
    } | kw
    return actions.register_resident(world.alice, world.community_a, **fields)


def test_registration_records_consent_or_is_refused(world):
    with pytest.raises(ActionError) as caught:
        register(world, consent_method="")
    assert caught.value.errors[0].field == "consent_method"
    assert not VulnerableResident.objects.exists()
    resident = register(world)
    assert resident.consent_given and resident.consent_recorded_by == world.alice
    assert resident.next_check_due is not None


def test_bad_fields_are_named_and_nothing_is_stored(world):
    with pytest.raises(ActionError) as caught:
        register(world, name=" ", categories=["astronaut"], needs=["jetpack"], birth_year=1800)
    assert {e.field for e in caught.value.errors} == {"name", "categories", "needs", "birth_year"}
    assert not VulnerableResident.objects.exists()


def test_the_register_is_invisible_outside_its_community_and_to_unpaired_helpers(world):
    resident = register(world)
    for outsider in (
        world.bob,
        world.ivy,
        world.charlie,
        world.vera,
        world.gina,
        world.sam,
        world.leo,
        world.frank,
        world.dora,
        world.adam,
        world.root,
        world.erin,
    ):
        assert not vulnerable.visible_residents(outsider).exists(), outsider.username
    assert list(vulnerable.visible_residents(world.alice)) == [resident]

    actions.pair(world.alice, resident, world.vera)

    assert list(vulnerable.visible_residents(world.vera)) == [resident]
    assert not vulnerable.visible_residents(world.gina).exists()
    assert Notification.objects.filter(user=world.vera, kind="emergency.pairing").exists()


def test_staff_of_another_community_cannot_register_or_pair(world):
    resident = register(world)
    with pytest.raises(PermissionRefused):
        actions.register_resident(
            world.bob,
            world.community_a,
            name="x",
            address="y",
            categories=["disabled"],
            consent_method="口头",
        )
    with pytest.raises(PermissionRefused):
        actions.pair(world.bob, resident, world.vera)


def test_pairing_is_only_with_a_helper_of_the_same_community(world):
    from renzhi.core.models import Membership, Role, User

    outsider = User.objects.create_user(username="volb", password=world.password)
    Membership.objects.create(user=outsider, role=Role.VOLUNTEER, place=world.community_b)
    resident = register(world)
    for wrong in (outsider, world.charlie, world.bob):
        with pytest.raises(ActionError) as caught:
            actions.pair(world.alice, resident, wrong)
        assert caught.value.errors[0].field == "helper"
    actions.pair(world.alice, resident, world.gina)  # grid worker of grid A1
    resident.refresh_from_db()
    assert resident.helper == world.gina


def test_an_unpaired_volunteer_cannot_check_in_on_a_resident(world):
    resident = register(world)
    with pytest.raises(PermissionRefused):
        actions.record_checkin(world.vera, resident, "safe")
    assert not CheckIn.objects.exists()


def test_no_answer_escalates_to_the_staff_and_counts_misses(world):
    resident = register(world)
    actions.pair(world.alice, resident, world.vera)
    actions.record_checkin(world.vera, resident, "no_answer", note="敲门无人应")
    actions.record_checkin(world.vera, resident, "no_answer")
    resident.refresh_from_db()
    assert resident.missed_checks == 2 and resident.last_reached_at is None
    alerts = Notification.objects.filter(user=world.alice, kind="emergency.vulnerable")
    assert alerts.count() == 2 and "2" in alerts.order_by("-id").first().title
    actions.record_checkin(world.vera, resident, "safe")
    resident.refresh_from_db()
    assert resident.missed_checks == 0 and resident.last_reached_at is not None


def test_check_ins_fall_due_daily_in_an_incident_and_weekly_otherwise(world):
    resident = register(world)
    actions.record_checkin(world.alice, resident, "safe")
    resident.refresh_from_db()
    weekly = resident.next_check_due - resident.last_reached_at
    make_incident(world.community_a)
    checkin = actions.record_checkin(world.alice, resident, "safe")
    resident.refresh_from_db()
    daily = resident.next_check_due - resident.last_reached_at
    assert weekly == dt.timedelta(days=7) and daily == dt.timedelta(days=1)
    assert checkin.incident is not None  # counted on the incident's checklist


def test_reach_summary_counts_the_latest_check_in_of_the_incident(world):
    first = register(world)
    second = register(world, name="李爷爷", address="5号楼101")
    register(world, name="张阿姨", address="6号楼101")
    incident = make_incident(world.community_a)
    assert vulnerable.reach_summary(incident) == (0, 3)
    actions.record_checkin(world.alice, first, "safe", incident=incident)
    actions.record_checkin(world.alice, second, "no_answer", incident=incident)
    assert vulnerable.reach_summary(incident) == (1, 3)
    rows = vulnerable.checklist(world.alice, incident)
    assert [r.reached for r in rows] == [False, False, True]
    assert vulnerable.checklist(world.bob, incident) == []


def test_overdue_check_ins_are_escalated_once_per_due_time(world):
    resident = register(world)
    actions.pair(world.alice, resident, world.vera)
    later = timezone.now() + dt.timedelta(days=8)
    assert actions.escalate_overdue(later) == 1
    assert actions.escalate_overdue(later) == 0
    notified = set(
        Notification.objects.filter(kind="emergency.vulnerable.overdue").values_list(
            "user__username", flat=True
        )
    )
    assert notified == {"alice", "vera"}
