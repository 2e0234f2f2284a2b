"""Duplicate detection on intake: open appeals of the same category within 200 m and 7 days.

Distances: one degree of latitude is 111 195 m on the 6 371 km sphere the code uses, so
0.0017° north is 189 m and 0.0019° is 211 m; at latitude 39.92° a degree of longitude is
85 270 m, so 0.0023° east is 196 m and 0.0025° is 213 m.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.appeals import actions
from renzhi.appeals.models import State

S = State
LAT, LNG = 39.92, 116.42


@pytest.fixture
def submit(flow):
    def submit(*, dlat=0.0, dlng=0.0, category=None, days_ago=0.0, resident=None, located=True):
        where = {"lat": LAT + dlat, "lng": LNG + dlng} if located else {"place": flow.grid_a1}
        return actions.submit_appeal(
            resident or flow.kate,
            channel="web",
            description="电梯又停了",
            category=category or flow.cat_lift,
            auto_route=False,
            received_at=timezone.now() - dt.timedelta(days=days_ago),
            **where,
        )

    return submit


def test_an_open_appeal_of_the_same_category_nearby_is_a_duplicate(flow, submit):
    earlier = submit(dlat=0.001).appeal  # 111 m north
    result = submit()
    assert result.duplicates == [earlier]
    assert actions.find_duplicates(result.appeal) == [earlier]


def test_a_new_appeal_is_not_its_own_duplicate(flow, submit):
    assert submit().duplicates == []


def test_another_category_at_the_same_spot_is_not_a_duplicate(flow, submit):
    submit(category=flow.cat_outage)
    assert submit().duplicates == []


@pytest.mark.parametrize(
    ("dlat", "dlng", "found"),
    [
        (0.0017, 0, True),  # 189 m north
        (0.0019, 0, False),  # 211 m north
        (0, 0.0023, True),  # 196 m east
        (0, 0.0025, False),  # 213 m east
        (-0.0012, -0.0016, True),  # 133 m south, 136 m west: 191 m
        (-0.0013, -0.0017, False),  # 145 m south, 145 m west: 205 m (inside the search box)
    ],
)
def test_only_appeals_within_200_metres_are_duplicates(flow, submit, dlat, dlng, found):
    other = submit(dlat=dlat, dlng=dlng).appeal
    assert (submit().duplicates == [other]) is found


def test_the_distance_is_configurable(flow, submit):
    farther = submit(dlat=0.0019).appeal
    appeal = submit().appeal
    assert actions.find_duplicates(appeal) == []
    assert actions.find_duplicates(appeal, radius_m=300) == [farther]


@pytest.mark.parametrize(("days_ago", "found"), [(6.9, True), (7.1, False), (30, False)])
def test_only_appeals_of_the_last_7_days_are_duplicates(flow, submit, days_ago, found):
    older = submit(days_ago=days_ago).appeal
    assert (submit().duplicates == [older]) is found


def test_the_time_window_is_configurable(flow, submit):
    older = submit(days_ago=10).appeal
    assert actions.find_duplicates(submit().appeal, days=14) == [older]


@pytest.mark.parametrize("state", [S.CLOSED, S.RESOLVED, S.WITHDRAWN, S.REJECTED, S.MERGED])
def test_a_finished_appeal_is_not_a_duplicate(flow, submit, state):
    finished = flow.bring(state, resident=flow.kate, lat=LAT + 0.0005, lng=LNG)  # 56 m north
    assert finished not in submit(resident=flow.charlie).duplicates


@pytest.mark.parametrize("state", [S.RECEIVED, S.ACCEPTED, S.DISPATCHED, S.SIGNED, S.HANDLING])
def test_an_appeal_in_any_active_state_is_a_duplicate(flow, submit, state):
    other = flow.bring(state, resident=flow.kate, lat=LAT + 0.0005, lng=LNG)
    assert submit(resident=flow.charlie).duplicates == [other]


def test_duplicates_are_listed_oldest_first(flow, submit):
    first = submit(dlat=0.0005, days_ago=3).appeal
    second = submit(dlng=0.0005, days_ago=1).appeal
    assert submit().duplicates == [first, second]


def test_without_coordinates_appeals_of_the_same_grid_are_duplicates(flow, submit):
    same_grid = submit(located=False).appeal
    result = submit(located=False)
    assert result.duplicates == [same_grid]


def test_an_appeal_without_category_has_no_duplicates(flow):
    actions.submit_appeal(
        flow.kate, channel="web", description="有问题", lat=LAT, lng=LNG, auto_route=False
    )
    result = actions.submit_appeal(
        flow.charlie, channel="web", description="有问题", lat=LAT, lng=LNG, auto_route=False
    )
    assert result.duplicates == []
