"""Races on PostgreSQL: 30 desks check one person each into a shelter with 20 places."""

from __future__ import annotations

import pytest
from django.db import connection

from renzhi.appeals.tests.test_concurrency import outcomes, race
from renzhi.core.errors import ActionError
from renzhi.emergency.actions import shelters
from renzhi.emergency.models import ShelterStay

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.xdist_group("db_threads"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_parallel_check_ins_never_overfill_the_shelter(world):
    shelter = shelters.create_shelter(
        world.alice, name="体育馆", place=world.community_a, capacity=20
    )
    results = race(30, lambda i: shelters.check_in(world.alice, shelter, name=f"居民{i}"))
    ok, refused = outcomes(results)
    shelter.refresh_from_db()
    assert len(ok) == 20 and len(refused) == 10
    assert all(isinstance(e, ActionError) and e.errors[0].field == "people" for e in refused)
    assert shelter.occupancy == 20
    assert ShelterStay.objects.filter(shelter=shelter).count() == 20
