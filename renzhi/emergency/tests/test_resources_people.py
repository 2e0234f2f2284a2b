"""People and mobilisation: profiles, finding candidates, the call-up life cycle, hours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.models import Notification, PersonSkill, ServiceHours, Skill, User
from renzhi.core.skills import total_hours
from renzhi.emergency import mobilisation
from renzhi.emergency.actions import people
from renzhi.emergency.models import Availability, CallUpStatus, PersonProfile
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    make_helper,
    make_incident,
    today,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


def volunteer(name, world, **kw):
    user = User.objects.create_user(username=name, password=world.password, display_name=name)
    return make_helper(user, world.community_a, **kw)


def test_a_social_worker_needs_a_certificate_and_a_level(world):
    with pytest.raises(ActionError) as caught:
        people.save_profile(world.alice, world.sam, kind="social_worker", place=world.community_a)
    assert {e.field for e in caught.value.errors} == {"certificate_no", "qualification_level"}
    assert not PersonProfile.objects.exists()
    profile = people.save_profile(
        world.alice,
        world.sam,
        kind="social_worker",
        place=world.community_a,
        certificate_no="2019-SW-0031",
        qualification_level="social_worker",
    )
    assert profile.certificate_no == "2019-SW-0031"


def test_staff_of_another_community_cannot_register_people_here(world):
    with pytest.raises(PermissionRefused):
        people.save_profile(world.bob, world.vera, kind="volunteer", place=world.community_a)


def test_candidates_hold_a_valid_skill_are_free_then_and_nearest_first(world):
    near = volunteer("near", world, lat=39.925, lng=116.45, skills=["first_aid"])
    far = volunteer("far", world, lat=39.99, lng=116.41, skills=["first_aid"])
    volunteer("unskilled", world, lat=39.925, lng=116.45, skills=["driving"])
    expired = volunteer("expired", world, lat=39.925, lng=116.45, skills=["first_aid"])
    PersonSkill.objects.filter(user=expired.user).update(valid_until=today() - dt.timedelta(1))
    asleep = volunteer("asleep", world, lat=39.925, lng=116.45, skills=["first_aid"], always=False)
    at = timezone.make_aware(dt.datetime.combine(today(), dt.time(10, 0)))
    Availability.objects.create(
        profile=asleep, weekday=(at.weekday() + 1) % 7, starts=dt.time(2), ends=dt.time(3)
    )
    busy = volunteer("busy", world, lat=39.925, lng=116.45, skills=["first_aid"])
    other = make_incident(world.community_a, title="另一事件")
    people.send_callups(world.alice, other, [busy.user])
    people.respond_callup(busy.user, busy.user.emergency_callups.get(), accept=True)

    found = mobilisation.find_candidates("first_aid", world.community_a, at, limit=10)

    assert [c.user.username for c in found] == ["near", "far"]
    assert found[0].distance_km < found[1].distance_km
    assert found[0].insured and found[0].skills == ("first_aid",)
    assert [
        c.user for c in mobilisation.find_candidates("first_aid", world.community_a, at, 1)
    ] == [near.user]
    assert far.user in [c.user for c in mobilisation.find_candidates("", world.community_a, at)]


def test_a_call_up_runs_from_notice_to_hours_served(world):
    make_helper(world.vera, world.community_a, skills=["first_aid"])
    incident = make_incident(world.community_a)

    [callup] = people.send_callups(world.alice, incident, [world.vera], note="到3号楼集合")
    assert Notification.objects.filter(user=world.vera, kind="emergency.callup").exists()
    assert people.send_callups(world.alice, incident, [world.vera]) == []  # once per incident

    people.respond_callup(world.vera, callup, accept=True)
    on_duty = people.check_in(world.vera, callup, lat=39.92, lng=116.44)
    assert on_duty.status == CallUpStatus.CHECKED_IN and on_duty.insured
    done = people.check_out(world.vera, callup, hours=Decimal("3.5"))

    assert done.status == CallUpStatus.CHECKED_OUT and done.hours == Decimal("3.5")
    shift = ServiceHours.objects.get(user=world.vera)
    assert (shift.source_type, shift.source_id) == ("emergency.callup", str(callup.pk))
    assert total_hours(world.vera) == Decimal("3.5")
    with pytest.raises(ActionError) as caught:
        people.check_out(world.vera, callup)
    assert caught.value.errors[0].code == ErrorCode.INVALID_STATE
    assert ServiceHours.objects.count() == 1


def test_an_uninsured_volunteer_is_flagged_on_duty(world):
    make_helper(world.vera, world.community_a, insured=False)
    [callup] = people.send_callups(world.alice, make_incident(world.community_a), [world.vera])
    people.respond_callup(world.vera, callup, accept=True)
    assert people.check_in(world.vera, callup).insured is False


def test_only_the_person_called_up_answers(world):
    make_helper(world.vera, world.community_a)
    [callup] = people.send_callups(world.alice, make_incident(world.community_a), [world.vera])
    with pytest.raises(PermissionRefused):
        people.respond_callup(world.sam, callup, accept=True)
    declined = people.respond_callup(world.vera, callup, accept=False, reason="在外地")
    assert declined.status == CallUpStatus.DECLINED and declined.decline_reason == "在外地"
    with pytest.raises(ActionError):
        people.check_in(world.vera, callup)


def test_staff_of_another_community_cannot_call_people_up(world):
    make_helper(world.vera, world.community_a)
    incident = make_incident(world.community_a)
    with pytest.raises(PermissionRefused):
        people.send_callups(world.bob, incident, [world.vera])
    with pytest.raises(PermissionRefused):
        people.send_callups(world.vera, incident, [world.vera])


def test_it_refuses_to_call_up_someone_not_registered(world):
    incident = make_incident(world.community_a)
    with pytest.raises(ActionError) as caught:
        people.send_callups(world.alice, incident, [world.charlie])
    assert caught.value.errors[0].field == "users"


def test_availability_windows_must_end_after_they_start(world):
    profile = make_helper(world.vera, world.community_a, always=False)
    with pytest.raises(ActionError) as caught:
        people.set_availability(world.vera, profile, [people.Window(2, dt.time(18), dt.time(9))])
    assert caught.value.errors[0].field == "windows[0].ends"
    people.set_availability(world.vera, profile, [people.Window(5, dt.time(9), dt.time(18))])
    assert profile.availability.count() == 1


def test_teams_are_formed_by_staff_of_the_place(world):
    team = people.create_team(world.alice, world.community_a, "抢险突击队", leader=world.sam)
    people.add_team_member(world.alice, team, world.vera)
    assert set(team.members.all()) == {world.sam, world.vera}
    with pytest.raises(ActionError) as caught:
        people.create_team(world.alice, world.community_a, "抢险突击队")
    assert caught.value.errors[0].code == ErrorCode.DUPLICATE
    with pytest.raises(PermissionRefused):
        people.add_team_member(world.bob, team, world.ivy)


def test_a_certificate_skill_is_granted_through_core(world):
    profile = make_helper(world.vera, world.community_a)
    skill = Skill.objects.create(code="first_aid", name="急救")
    people.grant_person_skill(
        world.alice,
        profile,
        skill,
        certificate_no="RC-1",
        valid_until=today() + dt.timedelta(days=700),
    )
    assert PersonSkill.objects.get(user=world.vera).certificate_no == "RC-1"
    with pytest.raises(ActionError) as caught:
        people.grant_person_skill(
            world.alice, profile, skill, valid_until=today() - dt.timedelta(days=1)
        )
    assert caught.value.errors[0].field == "valid_until"
