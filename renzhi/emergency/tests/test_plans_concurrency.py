"""Races on PostgreSQL: two leaders press "activate" at once — one response level, one set of
tasks; the other gets a clear refusal."""

from __future__ import annotations

import pytest
from django.db import connection

from renzhi.appeals.tests.test_concurrency import outcomes, race
from renzhi.emergency.actions import incidents, plans
from renzhi.emergency.models import Activation, Task
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.xdist_group("db_threads"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def test_parallel_activations_start_one_level_and_one_set_of_tasks(world):
    w = factories.add_flood_plan(world)
    incident = incidents.report(
        w.alice, title="内涝", kind="flood", place=w.community_a, severity=3
    )
    leaders = [w.leo, w.frank] * 5
    ok, refused = outcomes(race(10, lambda i: plans.activate(leaders[i], incident, 3)))
    assert len(ok) == 1 and len(refused) == 9
    assert all(e.errors[0].field == "level" for e in refused)
    assert Activation.objects.filter(incident=incident).count() == 1
    assert Task.objects.filter(incident=incident).count() == 3
