"""Issue 23 #9: the emergency pages read reasons, notes and usernames from the POST through the
text checks — a NUL byte or 5,000 characters is a message on the page, never a 500, and nothing
changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from renzhi.emergency.actions import people
from renzhi.emergency.actions import reserves as stock_actions
from renzhi.emergency.actions import tasks as task_actions
from renzhi.emergency.actions.reserves import Line
from renzhi.emergency.models import CallUp, SupplyRequest, Task, Team
from renzhi.emergency.tests.factories_incidents import add_flood, add_flood_plan
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    make_helper,
    make_incident,
    stock,
)

pytestmark = pytest.mark.django_db

BAD = [("\x00", "U+0000"), ("长" * 5000, "5000")]


def _row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def _shown(response, text):
    assert response.status_code in (200, 400)
    assert text in response.content.decode()


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_cancelling_a_task_refuses_a_bad_reason_with_a_message(world, client, value, shown):
    w = add_flood(add_flood_plan(world))
    task = task_actions.create_task(
        w.alice, w.incident, title="清理积水", deadline=timezone.now() + dt.timedelta(hours=4)
    )
    before = _row(Task, task.pk)
    client.force_login(w.alice)
    response = client.post(
        reverse("emergency:task", args=[task.pk]), {"step": "cancel", "reason": value}, follow=True
    )
    _shown(response, shown)
    assert _row(Task, task.pk) == before


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_rejecting_a_supply_request_refuses_a_bad_note_with_a_message(world, client, value, shown):
    w = add_depots(world)
    stock(w.depot_street, w.items["water"], 50, days=30)
    request = stock_actions.request_supplies(
        w.alice, w.depot_a, w.depot_street, [Line(w.items["water"], 10)], reason="内涝"
    )
    before = _row(SupplyRequest, request.pk)
    client.force_login(w.leo)
    response = client.post(
        reverse("emergency:request", args=[request.pk]),
        {"step": "reject", "note": value},
        follow=True,
    )
    _shown(response, shown)
    assert _row(SupplyRequest, request.pk) == before


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_sending_call_ups_refuses_a_bad_note_with_a_message(world, client, value, shown):
    make_helper(world.vera, world.community_a, skills=["first_aid"])
    incident = make_incident(world.community_a)
    client.force_login(world.alice)
    response = client.post(
        reverse("emergency:callup_send"),
        {"incident": incident.pk, "users": ["vera"], "note": value},
        follow=True,
    )
    _shown(response, shown)
    assert not CallUp.objects.exists()


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_declining_a_call_up_refuses_a_bad_reason_with_a_message(world, client, value, shown):
    make_helper(world.vera, world.community_a, skills=["first_aid"])
    [callup] = people.send_callups(world.alice, make_incident(world.community_a), [world.vera])
    before = _row(CallUp, callup.pk)
    client.force_login(world.vera)
    response = client.post(
        reverse("emergency:callup_step", args=[callup.pk, "decline"]),
        {"reason": value},
        follow=True,
    )
    _shown(response, shown)
    assert _row(CallUp, callup.pk) == before


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_adding_a_team_member_refuses_a_bad_username_with_a_message(world, client, value, shown):
    team = people.create_team(world.alice, world.community_a, "甲一社区抢险队")
    members = list(team.members.all())
    client.force_login(world.alice)
    response = client.post(
        reverse("emergency:teams"),
        {"step": "member", "team": team.pk, "username": value},
        follow=True,
    )
    _shown(response, shown)
    assert list(Team.objects.get(pk=team.pk).members.all()) == members


def test_checking_out_of_a_shelter_with_a_stay_that_is_not_a_number_is_not_found(world, client):
    from renzhi.emergency.actions import shelters

    shelter = shelters.create_shelter(
        world.alice, name="甲一小学体育馆", place=world.community_a, capacity=10
    )
    client.force_login(world.alice)
    response = client.post(
        reverse("emergency:shelter", args=[shelter.pk]), {"step": "check_out", "stay": "长\x00"}
    )
    assert response.status_code == 404


def test_sending_call_ups_to_a_username_with_a_nul_byte_reaches_nobody(world, client):
    incident = make_incident(world.community_a)
    client.force_login(world.alice)
    response = client.post(
        reverse("emergency:callup_send"),
        {"incident": incident.pk, "users": ["vera\x00"], "note": "集合"},
        follow=True,
    )
    assert response.status_code == 200
    assert not CallUp.objects.exists()
