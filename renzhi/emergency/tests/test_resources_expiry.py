"""Expiry warnings at 30 and 7 days and on expiry, each told once to the depot's keepers."""

from __future__ import annotations

import datetime as dt

import pytest

from renzhi.core.models import Notification
from renzhi.emergency import expiry
from renzhi.emergency.periodic_resources import remind
from renzhi.emergency.tests.factories_resources import add_depots, stock, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


def warned(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user, kind=expiry.KIND)
        .order_by("id")
        .values_list("object_id", flat=True)
    )


def test_a_batch_is_warned_at_30_then_7_days_then_on_expiry_once_each(depots):
    w = depots
    move = stock(w.depot_a, w.items["water"], 10, days=40)
    stock(w.depot_a, w.items["rice"], 10, days=300)
    b = move.batch_id
    assert expiry.warn_expiring(today()) == 0
    assert expiry.warn_expiring(today() + dt.timedelta(days=15)) == 1
    assert expiry.warn_expiring(today() + dt.timedelta(days=16)) == 0
    assert expiry.warn_expiring(today() + dt.timedelta(days=35)) == 1
    assert expiry.warn_expiring(today() + dt.timedelta(days=41)) == 1
    assert warned(w.alice) == [f"{b}:30", f"{b}:7", f"{b}:-1"]
    assert warned(w.leo) == warned(w.alice)  # street leader keeps community depots too
    assert warned(w.bob) == []


def test_the_periodic_task_runs_both_reminders(depots):
    stock(depots.depot_a, depots.items["water"], 10, days=3)
    result = remind.call()
    assert result == {"expiry_warnings": 1, "overdue_checkins": 0}
