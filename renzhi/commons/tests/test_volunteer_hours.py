"""Volunteer hours are earned by time really spent, never minted (issue 23 #2).

The attack: an organisation's leader publishes a 1-minute activity worth 24 hours, checks
themself in, finishes it before it starts — three times — and holds 72 transferable hours.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from renzhi.commons.actions import activities
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import Activity, Organisation, OrgStatus, TimeAccount
from renzhi.commons.tests.conftest import ended, under_way
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import ServiceHours


def publish(world, who=None, *, minutes=120, hours="2", org=None, start=None):
    start = start or timezone.now() + dt.timedelta(days=1)
    return activities.publish_activity(
        who or world.alice,
        community=world.community_a,
        title="楼道清扫",
        kind="volunteering",
        location="3号楼",
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        capacity=10,
        volunteer_hours=hours,
        organisation=org,
    )


def filed_org(world, leader) -> Organisation:
    org = orgs.file_organisation(
        leader,
        community=world.community_a,
        name="清洁志愿队",
        kind="mutual_aid",
        purpose="每周清扫楼道",
        activity_area="3号楼",
    )
    Organisation.objects.filter(pk=org.pk).update(status=OrgStatus.FILED)
    org.refresh_from_db()
    return org


def test_hours_cannot_exceed_the_activity_duration(world):
    with pytest.raises(ActionError) as refused:
        publish(world, minutes=1, hours="24")
    assert refused.value.errors[0].field == "volunteer_hours"
    assert not Activity.objects.exists()
    assert publish(world, minutes=90, hours="1.5").volunteer_hours == Decimal("1.5")


def test_check_in_is_open_only_during_the_event(world, electors):
    (person,) = electors(1)
    act = publish(world)
    activities.sign_up(person, act)
    with pytest.raises(ActionError) as refused:
        activities.check_in(world.alice, act, person=person)  # tomorrow's event
    assert refused.value.errors[0].code == ErrorCode.INVALID_STATE
    ended(act)
    with pytest.raises(ActionError):
        activities.check_in(world.alice, act, person=person)  # already over
    assert act.signups.get(user=person).checked_in_at is None
    activities.check_in(world.alice, under_way(act), person=person)
    assert act.signups.get(user=person).checked_in_at is not None


def test_an_activity_is_finished_only_after_its_end(world, electors):
    (person,) = electors(1)
    act = publish(world)
    activities.sign_up(person, act)
    activities.check_in(world.alice, under_way(act), person=person)
    with pytest.raises(ActionError) as refused:
        activities.finish_activity(world.alice, act)
    assert refused.value.errors[0].code == ErrorCode.INVALID_STATE
    assert not ServiceHours.objects.exists()
    assert activities.finish_activity(world.alice, ended(act)) == 1


def test_the_leader_cannot_mint_hours_for_themself(world, electors):
    """The whole attack, three times: no hours at all for the leader."""
    (leader,) = electors(1, prefix="leader")
    org = filed_org(world, leader)
    for _ in range(3):
        with pytest.raises(ActionError):
            publish(world, leader, minutes=1, hours="24", org=org)
        act = publish(world, leader, minutes=60, hours="1", org=org)
        activities.sign_up(leader, act)
        with pytest.raises(ActionError):
            activities.finish_activity(leader, act)  # before it starts
        activities.check_in(leader, under_way(act), token=act.checkin_token)
        assert activities.finish_activity(leader, ended(act)) == 0  # not their own hours
    assert not ServiceHours.objects.filter(user=leader).exists()
    assert not TimeAccount.objects.filter(user=leader, balance__gt=0).exists()
    with pytest.raises(ActionError) as refused:
        activities.confirm_hours(leader, act, leader)
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN


def test_staff_confirm_the_organisers_own_hours_once(world, electors):
    (leader,) = electors(1, prefix="leader")
    org = filed_org(world, leader)
    act = publish(world, leader, minutes=60, hours="1", org=org)
    activities.sign_up(leader, act)
    activities.check_in(leader, under_way(act), token=act.checkin_token)
    activities.finish_activity(leader, ended(act))
    activities.confirm_hours(world.alice, act, leader)
    assert TimeAccount.objects.get(user=leader).balance == Decimal("1")
    with pytest.raises(ActionError) as refused:
        activities.confirm_hours(world.alice, act, leader)
    assert refused.value.errors[0].code == ErrorCode.DUPLICATE
    with pytest.raises(ActionError):
        activities.confirm_hours(world.bob, act, leader)  # staff of another community
    assert TimeAccount.objects.get(user=leader).balance == Decimal("1")


def test_dates_far_away_are_refused_with_a_field_message(world, api_client):
    """An activity in 9999 once broke /commons/activities/ and /commons/ for everyone."""
    with pytest.raises(ActionError) as refused:
        publish(world, start=dt.datetime(9999, 1, 1, tzinfo=dt.UTC))
    assert refused.value.errors[0].field == "starts_at"
    response = api_client.as_user(world.alice).post_json(
        "/api/commons/activities",
        {
            "community_code": world.community_a.code,
            "title": "千年之约",
            "kind": "cultural",
            "location": "广场",
            "starts_at": "9999-12-31T08:00:00+08:00",
            "ends_at": "9999-12-31T10:00:00+08:00",
            "capacity": 5,
        },
    )
    assert response.status_code in (400, 422)
    assert "starts_at" in response.content.decode()
    assert not Activity.objects.exists()
    for path in ("/commons/activities/", "/commons/"):
        api_client.force_login(world.charlie)
        assert api_client.get(path).status_code == 200


def test_staff_confirm_the_organisers_hours_through_the_api(world, electors, api_client):
    (leader,) = electors(1, prefix="leader")
    org = filed_org(world, leader)
    act = publish(world, leader, minutes=60, hours="1", org=org)
    activities.sign_up(leader, act)
    activities.check_in(leader, under_way(act), token=act.checkin_token)
    activities.finish_activity(leader, ended(act))
    path = f"/api/commons/activities/{act.pk}/confirm-hours"
    mine = api_client.as_user(leader).post_json(path, {"username": leader.username})
    assert mine.status_code == 403
    confirmed = api_client.as_user(world.alice).post_json(path, {"username": leader.username})
    assert confirmed.status_code == 200
    assert TimeAccount.objects.get(user=leader).balance == Decimal("1")
