"""Activities: capacity, waiting list with promotion, QR check-in, volunteer hours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from renzhi.commons.actions import activities, timebank
from renzhi.commons.models import Activity, Signup, SignupStatus, TimeAccount
from renzhi.commons.tests.conftest import ended, under_way
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import ServiceHours


def activity(world, capacity=2, waiting_list=True, hours="2"):
    start = timezone.now() + dt.timedelta(days=2)
    return activities.publish_activity(
        world.alice,
        community=world.community_a,
        title="重阳节包饺子",
        kind="cultural",
        location="活动室",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=capacity,
        volunteer_hours=hours,
        waiting_list=waiting_list,
    )


def test_the_waiting_list_moves_up_when_someone_cancels(world, electors):
    a, b, c = electors(3)
    act = activity(world)
    assert activities.sign_up(a, act).status == SignupStatus.CONFIRMED
    assert activities.sign_up(b, act).status == SignupStatus.CONFIRMED
    assert activities.sign_up(c, act).status == SignupStatus.WAITLISTED
    activities.cancel_signup(a, act)
    assert Signup.objects.get(activity=act, user=c).status == SignupStatus.CONFIRMED
    assert Activity.objects.get(pk=act.pk).confirmed_count == 2


def test_it_refuses_over_capacity_without_a_waiting_list(world, electors):
    a, b = electors(2)
    act = activity(world, capacity=1, waiting_list=False)
    activities.sign_up(a, act)
    with pytest.raises(ActionError) as refused:
        activities.sign_up(b, act)
    assert refused.value.errors[0].field == "capacity"
    assert refused.value.errors[0].code == ErrorCode.CONFLICT
    assert not Signup.objects.filter(activity=act, user=b).exists()
    assert Activity.objects.get(pk=act.pk).confirmed_count == 1


def test_checked_in_participants_earn_hours_and_credits(world, electors):
    a, b = electors(2)
    act = activity(world)
    activities.sign_up(a, act)
    activities.sign_up(b, act)
    with pytest.raises(ActionError) as refused:
        activities.check_in(a, act, token="wrong")
    assert refused.value.errors[0].field == "token"
    activities.check_in(a, under_way(act), token=act.checkin_token)
    assert activities.finish_activity(world.alice, ended(act)) == 1
    shift = ServiceHours.objects.get(user=a)
    assert shift.source_type == "commons.activity" and shift.hours == Decimal("2")
    assert not ServiceHours.objects.filter(user=b).exists()
    assert TimeAccount.objects.get(user=a).balance == Decimal("2")
    assert timebank.earn_from_service() == 0  # earned once


def test_only_filed_organisations_publish_activities(world):
    start = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ActionError) as refused:
        activities.publish_activity(
            world.charlie,
            community=world.community_a,
            title="x",
            kind="cultural",
            location="x",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=5,
        )
    assert refused.value.errors[0].field == "organisation"


def test_feedback_comes_from_participants_once(world, electors):
    (a,) = electors(1)
    act = activity(world)
    activities.sign_up(a, act)
    with pytest.raises(ActionError):
        activities.give_feedback(a, act, rating=5)
    activities.check_in(world.alice, under_way(act), person=a)
    activities.give_feedback(a, act, rating=5, comment="很开心")
    with pytest.raises(ActionError) as refused:
        activities.give_feedback(a, act, rating=4)
    assert refused.value.errors[0].field == "rating"
