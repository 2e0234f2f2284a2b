"""Shelters: capacity, facilities, check-in/out, never over capacity."""

from __future__ import annotations

import pytest

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.emergency.actions import shelters
from renzhi.emergency.models import Shelter, ShelterStay
from renzhi.emergency.queries_incidents import shelters_for
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood_plan(world):
    return factories.add_flood_plan(world)


@pytest.fixture
def flood(flood_plan):
    return factories.add_flood(flood_plan)


@pytest.fixture
def shelter(world):
    world.shelter = shelters.create_shelter(
        world.alice,
        name="甲一小学体育馆",
        place=world.community_a,
        capacity=10,
        facilities=["beds", "water"],
    )
    return world


def test_staff_open_a_shelter_with_capacity_and_facilities(shelter):
    s = shelter.shelter
    assert s.capacity == 10 and s.occupancy == 0 and s.facilities == ["beds", "water"]
    assert s in shelters_for(shelter.vera)
    assert s not in shelters_for(shelter.bob)
    assert s not in shelters_for(shelter.charlie)


def test_it_refuses_bad_shelter_input_and_creates_nothing(world):
    with pytest.raises(ActionError) as exc:
        shelters.create_shelter(
            world.alice, name="", place=world.grid_a1, capacity="-3", facilities=["spa"]
        )
    assert {e.field for e in exc.value.errors} == {"name", "place", "capacity", "facilities"}
    assert Shelter.objects.count() == 0


def test_check_in_and_out_move_the_occupancy(shelter):
    w = shelter
    stay = shelters.check_in(w.vera, w.shelter, name="王奶奶", people=3, phone="13800000000")
    w.shelter.refresh_from_db()
    assert w.shelter.occupancy == 3
    shelters.check_out(w.vera, stay)
    w.shelter.refresh_from_db()
    assert w.shelter.occupancy == 0
    with pytest.raises(ActionError):
        shelters.check_out(w.vera, stay)


def test_it_refuses_more_people_than_places_left(shelter):
    w = shelter
    shelters.check_in(w.alice, w.shelter, name="甲", people=8)
    with pytest.raises(ActionError) as exc:
        shelters.check_in(w.alice, w.shelter, name="乙", people=3)
    assert exc.value.errors[0].field == "people"
    w.shelter.refresh_from_db()
    assert w.shelter.occupancy == 8 and ShelterStay.objects.count() == 1


def test_bad_check_in_input_is_refused(shelter):
    with pytest.raises(ActionError) as exc:
        shelters.check_in(shelter.alice, shelter.shelter, name="", people=0, phone="abc")
    assert {e.field for e in exc.value.errors} == {"name", "people", "phone"}


def test_a_closed_shelter_takes_nobody_and_outsiders_cannot_check_in(shelter):
    w = shelter
    with pytest.raises(PermissionRefused):
        shelters.check_in(w.bob, w.shelter, name="x")
    with pytest.raises(PermissionRefused):
        shelters.set_open(w.vera, w.shelter, False)
    shelters.set_open(w.alice, w.shelter, False)
    with pytest.raises(ActionError) as exc:
        shelters.check_in(w.alice, w.shelter, name="x")
    assert exc.value.errors[0].field == "shelter"


def test_a_check_in_for_an_incident_is_in_its_log(flood):
    w = flood
    s = shelters.create_shelter(w.alice, name="避难点", place=w.community_a, capacity=5)
    shelters.check_in(w.alice, s, name="李", people=2, incident=w.incident)
    assert w.incident.log.filter(kind="shelter").exists()


def test_the_database_refuses_occupancy_above_capacity(shelter):
    from django.db import IntegrityError, transaction
    from django.db.models import F

    with pytest.raises(IntegrityError), transaction.atomic():
        Shelter.objects.filter(pk=shelter.shelter.pk).update(occupancy=F("capacity") + 1)
