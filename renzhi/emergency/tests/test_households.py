"""Issue 23 #7: a one-per-household kit was handed out four times to one flat written four
ways. Households are unique by a normalised address key; possible duplicates are shown to
staff; and no sequence of allowed actions hands a one-per-household item to a flat twice."""

from __future__ import annotations

import contextlib

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renzhi.core.errors import ActionError
from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.household_key import address_key
from renzhi.emergency.models import Distribution, Household
from renzhi.emergency.tests.factories_resources import add_depots, stock

pytestmark = pytest.mark.django_db

FOUR_WAYS = ["5栋1单元101", "5栋1单元101室", "5栋 1单元 101", "５栋１单元１０１"]


@pytest.fixture
def depots(world):
    return add_depots(world)


@pytest.mark.parametrize(
    "written", [*FOUR_WAYS, "5号楼1单元101室", "5幢1单元0101号", "5-1-101", " 5 栋 1 单元 101 室 "]
)
def test_one_flat_written_any_common_way_has_one_key(written):
    assert address_key(written) == "5-1-101"


def test_different_flats_keep_different_keys():
    assert len({address_key(a) for a in ["5-1-101", "5-1-102", "5-2-101", "15-1-101"]}) == 4


def test_it_refuses_the_same_kit_to_one_flat_written_four_ways(depots):
    w = depots
    kit = w.items["kit"]
    stock(w.depot_a, kit, 10)
    homes = [actions.register_household(w.alice, w.community_a, a) for a in FOUR_WAYS]
    assert len({h.pk for h in homes}) == 1
    actions.distribute(w.alice, w.depot_a, homes[0], kit, 1, signed_by="王")
    for home in homes[1:]:
        with pytest.raises(ActionError):
            actions.distribute(w.alice, w.depot_a, home, kit, 1, signed_by="王")
    assert Distribution.objects.count() == 1


def test_rows_flagged_as_duplicates_count_as_one_household(depots):
    """Rows sharing a key before the key existed: the migration keeps both and flags the later
    one; a kit handed to either is handed to the flat."""
    w = depots
    kit = w.items["kit"]
    stock(w.depot_a, kit, 10)
    first = actions.register_household(w.alice, w.community_a, "7栋2单元301")
    later = Household.objects.create(
        place=w.community_a, address="7栋2单元301室", address_key="7-2-301#x", duplicate_of=first
    )
    actions.distribute(w.alice, w.depot_a, later, kit, 1, signed_by="李")
    with pytest.raises(ActionError):
        actions.distribute(w.alice, w.depot_a, first, kit, 1, signed_by="李")
    assert actions.near_duplicates(first) == [later]


def test_possible_duplicates_are_shown_to_staff_in_the_api(depots, api_client):
    w = depots
    one = actions.register_household(w.alice, w.community_a, "甲区3-2-301")
    other = actions.register_household(w.alice, w.community_a, "3号楼2单元301")
    assert one.pk != other.pk  # not merged silently…
    api_client.force_login(w.alice)
    rows = api_client.get("/api/emergency/households").json()["items"]
    flagged = {r["id"]: r["possible_duplicates"] for r in rows}
    assert flagged[one.pk] == [other.pk] and flagged[other.pk] == [one.pk]  # …but flagged


WAYS = st.sampled_from(
    [
        "{b}栋{u}单元{r}",
        "{b}栋{u}单元{r}室",
        "{b}栋 {u}单元 {r}",
        "{b}号楼{u}单元{r}室",
        "{b}-{u}-{r}",
    ]
)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
step = st.tuples(
    st.sampled_from([(1, 1, 101), (1, 1, 102), (2, 1, 101)]),  # three flats
    WAYS,
    st.booleans(),  # full-width digits
    st.sampled_from(["kit", "water"]),
    st.sampled_from(["depot_a", "depot_a2"]),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_no_sequence_of_allowed_actions_hands_a_kit_to_one_flat_twice(depots, steps):
    w = depots
    with transaction.atomic():
        for name in ("depot_a", "depot_a2"):
            stock(getattr(w, name), w.items["kit"], 50)
            stock(getattr(w, name), w.items["water"], 50)
        for flat, way, wide, item, depot in steps:
            b, u, r = flat
            address = way.format(b=b, u=u, r=r)
            if wide:
                address = address.translate(FULL_WIDTH)
            home = actions.register_household(w.alice, w.community_a, address)
            with contextlib.suppress(ActionError):  # refusals are allowed outcomes
                actions.distribute(
                    w.alice, getattr(w, depot), home, w.items[item], 1, signed_by="户主"
                )
        kits = Distribution.objects.filter(item=w.items["kit"]).values_list(
            "household__address_key", flat=True
        )
        assert len(kits) == len(set(kits))
        assert Household.objects.count() == len({s[0] for s in steps})
        transaction.set_rollback(True)
