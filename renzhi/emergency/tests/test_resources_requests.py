"""Requests from a community to its street, distributions to households, shortage and
coverage figures."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.emergency import reserves
from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.actions.reserves import Line
from renzhi.emergency.models import Distribution, MinimumLevel, RequestStatus, StockMove
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    make_incident,
    on_hand,
    stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


def test_a_request_is_approved_in_part_issued_in_part_and_received(depots):
    w = depots
    water, rice = w.items["water"], w.items["rice"]
    stock(w.depot_street, water, 50, days=30)
    stock(w.depot_street, rice, 4, days=30)
    request = actions.request_supplies(
        w.alice, w.depot_a, w.depot_street, [Line(water, 80), Line(rice, 10)], reason="内涝"
    )
    assert request.status == RequestStatus.REQUESTED

    with pytest.raises(PermissionRefused):
        actions.approve_request(w.alice, request)  # she asked; the street decides
    actions.approve_request(w.leo, request, {water.pk: 60})
    actions.issue_request(w.leo, request)

    lines = {line.item.code: line for line in request.lines.all()}
    assert (lines["water"].approved, lines["water"].issued) == (60, 50)  # only 50 on hand
    assert (lines["rice"].approved, lines["rice"].issued) == (10, 4)
    assert on_hand(w.depot_street, water) == 0 and on_hand(w.depot_a, water) == 0  # in transit

    actions.receive_request(w.alice, request, {water.pk: 48})
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED
    assert on_hand(w.depot_a, water) == 48 and on_hand(w.depot_a, rice) == 4
    assert request.lines.get(item=water).received == 48


def test_a_request_can_only_go_up_its_own_chain(depots):
    w = depots
    with pytest.raises(ActionError) as caught:
        actions.request_supplies(w.alice, w.depot_a, w.depot_b, [Line(w.items["water"], 1)])
    assert caught.value.errors[0].field == "from_depot"
    with pytest.raises(ActionError) as caught:
        actions.request_supplies(w.alice, w.depot_a, w.depot_street, [])
    assert caught.value.errors[0].field == "lines"
    with pytest.raises(ActionError) as caught:
        actions.request_supplies(w.alice, w.depot_a, w.depot_street, [Line(w.items["water"], -2)])
    assert caught.value.errors[0].field == "lines[0].quantity"


def test_a_decided_request_cannot_be_decided_again(depots):
    w = depots
    request = actions.request_supplies(
        w.alice, w.depot_a, w.depot_street, [Line(w.items["water"], 5)]
    )
    actions.reject_request(w.leo, request, "街道库存不足")
    with pytest.raises(ActionError) as caught:
        actions.approve_request(w.leo, request)
    assert caught.value.errors[0].code == ErrorCode.INVALID_STATE


def test_a_one_per_household_item_is_given_once(depots):
    w = depots
    kit = w.items["kit"]
    stock(w.depot_a, kit, 5, days=None)
    home = actions.register_household(w.alice, w.community_a, "3号楼2单元301", head_name="刘")
    incident = make_incident(w.community_a)
    actions.distribute(w.gina, w.depot_a, home, kit, 1, signed_by="刘先生", incident=incident)

    with pytest.raises(ActionError) as caught:
        actions.distribute(w.alice, w.depot_a, home, kit, 1, signed_by="刘太太", incident=incident)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (
        "household",
        ErrorCode.DUPLICATE,
    )
    assert on_hand(w.depot_a, kit) == 4 and Distribution.objects.count() == 1
    # A new incident is a new round.
    other = make_incident(w.community_a, title="第二次")
    actions.distribute(w.alice, w.depot_a, home, kit, 1, signed_by="刘太太", incident=other)
    assert on_hand(w.depot_a, kit) == 3


def test_the_database_refuses_a_second_one_per_household_row(depots):
    w = depots
    home = actions.register_household(w.alice, w.community_a, "1号楼101")
    row = dict(
        household=home,
        item=w.items["kit"],
        depot=w.depot_a,
        quantity=1,
        once_per_household=True,
        round_key="",
        signed_by="甲",
        handed_out_by=w.alice,
        at=timezone.now(),
    )
    Distribution.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Distribution.objects.create(**row)


def test_a_distribution_that_cannot_be_covered_changes_nothing(depots):
    w = depots
    stock(w.depot_a, w.items["water"], 3)
    home = actions.register_household(w.alice, w.community_a, "2号楼101")
    before = (StockMove.objects.count(), Distribution.objects.count())
    with pytest.raises(ActionError) as caught:
        actions.distribute(w.alice, w.depot_a, home, w.items["water"], 4, signed_by="甲")
    assert caught.value.errors[0].field == "quantity"
    with pytest.raises(ActionError) as caught:
        actions.distribute(w.alice, w.depot_a, home, w.items["water"], 1, signed_by=" ")
    assert caught.value.errors[0].field == "signed_by"
    with pytest.raises(PermissionRefused):
        actions.distribute(w.bob, w.depot_a, home, w.items["water"], 1, signed_by="甲")
    assert (StockMove.objects.count(), Distribution.objects.count()) == before


def test_the_shortage_report_compares_plan_norms_and_minimum_levels(depots):
    w = depots
    stock(w.depot_a, w.items["water"], 100)
    MinimumLevel.objects.create(depot=w.depot_a, item=w.items["rice"], minimum=20)

    class Need:
        def __init__(self, code, per_thousand):
            self.item_code, self.per_thousand = code, per_thousand

    class Level:
        class reserves:
            @staticmethod
            def all():
                return [Need("water", 100), Need("sandbag", 50)]

    rows = reserves.shortage_report(Level, w.community_a)  # population 3,000
    by = {(r.source, r.item_code): r for r in rows}
    assert by[("plan", "water")].required == 300 and by[("plan", "water")].shortfall == 200
    assert by[("plan", "sandbag")].shortfall == 150
    assert by[("minimum", "rice")].shortfall == 20 and by[("minimum", "rice")].depot == w.depot_a


def test_coverage_is_days_of_supply_of_the_scarcest_item(depots):
    w = depots
    stock(w.depot_a, w.items["water"], 18000)  # 3,000 people × 2 a day → 3 days
    stock(w.depot_a, w.items["rice"], 600)  # 3,000 × 0.05 → 4 days
    stock(w.depot_street, w.items["water"], 99999)  # the street's, not the community's
    coverage = reserves.coverage_by_community([w.community_a.code, w.community_b.code])
    assert coverage == {w.community_a.code: 3.0, w.community_b.code: 0.0}
