"""The stock ledger: every change is a move, FEFO, expiry, refusals that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import override

from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.models import AuditEvent
from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.models import MoveKind, StockBatch, StockMove
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    move_sum,
    on_hand,
    stock,
    today,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


def snapshot():
    return (
        sorted(StockBatch.objects.values_list("id", "quantity")),
        StockMove.objects.count(),
        AuditEvent.objects.count(),
    )


def test_receiving_writes_one_move_and_the_batch_equals_the_sum(depots):
    w = depots
    move = actions.receive(
        w.alice,
        w.depot_a,
        w.items["water"],
        40,
        batch_no="W1",
        expires_on=today() + dt.timedelta(days=90),
    )
    actions.receive(
        w.alice,
        w.depot_a,
        w.items["water"],
        10,
        batch_no="W1",
        expires_on=today() + dt.timedelta(days=90),
    )
    assert move.kind == MoveKind.RECEIVE and move.quantity == 40 and move.balance_after == 40
    assert on_hand(w.depot_a, w.items["water"]) == 50 == move_sum(w.depot_a, w.items["water"])
    assert StockBatch.objects.get(depot=w.depot_a, batch_no="W1").moves.count() == 2


def test_issue_takes_the_earliest_expiry_first(depots):
    w = depots
    water = w.items["water"]
    stock(w.depot_a, water, 10, days=60, batch="LATE")
    stock(w.depot_a, water, 10, days=5, batch="SOON")
    stock(w.depot_a, water, 10, days=None, batch="NEVER")
    moves = actions.issue(w.alice, w.depot_a, water, 15)
    taken = [(m.batch.batch_no, m.quantity) for m in moves]
    assert taken == [("SOON", -10), ("LATE", -5)]
    assert StockBatch.objects.get(batch_no="NEVER").quantity == 10


def test_it_refuses_to_issue_expired_stock(depots):
    w = depots
    water = w.items["water"]
    stock(w.depot_a, water, 8, days=3, batch="OLD")
    stock(w.depot_a, water, 2, days=30, batch="NEW")
    later = today() + dt.timedelta(days=5)  # OLD expired two days ago
    before = snapshot()
    with pytest.raises(ActionError) as caught, override("en"):
        actions.issue(w.alice, w.depot_a, water, 5, today=later)
    error = caught.value.errors[0]
    assert error.field == "quantity" and "expired" in error.message
    assert snapshot() == before
    moves = actions.issue(w.alice, w.depot_a, water, 2, today=later)
    assert [m.batch.batch_no for m in moves] == ["NEW"]


def test_it_refuses_to_issue_more_than_on_hand_and_changes_nothing(depots):
    w = depots
    stock(w.depot_a, w.items["rice"], 5)
    before = snapshot()
    with pytest.raises(ActionError) as caught:
        actions.issue(w.alice, w.depot_a, w.items["rice"], 6)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (
        "quantity",
        ErrorCode.CONFLICT,
    )
    assert "5" in caught.value.errors[0].message
    assert snapshot() == before


@pytest.mark.parametrize("bad", [0, -3, 2.5, "7", True])
def test_it_refuses_quantities_that_are_not_positive_whole_numbers(depots, bad):
    w = depots
    stock(w.depot_a, w.items["rice"], 5)
    before = snapshot()
    for call in (
        lambda: actions.receive(w.alice, w.depot_a, w.items["rice"], bad),
        lambda: actions.issue(w.alice, w.depot_a, w.items["rice"], bad),
        lambda: actions.transfer(w.alice, w.depot_a, w.depot_a2, w.items["rice"], bad),
    ):
        with pytest.raises(ActionError) as caught:
            call()
        assert caught.value.errors[0].field == "quantity"
    assert snapshot() == before


def test_it_refuses_a_transfer_to_the_same_depot(depots):
    w = depots
    stock(w.depot_a, w.items["rice"], 5)
    before = snapshot()
    with pytest.raises(ActionError) as caught:
        actions.transfer(w.alice, w.depot_a, w.depot_a, w.items["rice"], 1)
    assert caught.value.errors[0].field == "to_depot"
    assert snapshot() == before


def test_a_transfer_moves_each_batch_with_its_expiry_and_keeps_the_total(depots):
    w = depots
    water = w.items["water"]
    stock(w.depot_street, water, 30, days=20, batch="S20")
    stock(w.depot_street, water, 30, days=200, batch="S200")
    moves = actions.transfer(w.leo, w.depot_street, w.depot_a, water, 40)
    assert [m.kind for m in moves] == ["transfer_out", "transfer_in"] * 2
    assert len({m.transfer_ref for m in moves}) == 1
    landed = {b.batch_no: (b.quantity, b.expires_on) for b in w.depot_a.batches.all()}
    assert landed == {
        "S20": (30, today() + dt.timedelta(days=20)),
        "S200": (10, today() + dt.timedelta(days=200)),
    }
    assert on_hand(w.depot_street, water) + on_hand(w.depot_a, water) == 60
    for depot in (w.depot_street, w.depot_a):
        assert on_hand(depot, water) == move_sum(depot, water)


def test_it_refuses_moves_by_staff_of_another_community(depots):
    w = depots
    stock(w.depot_a, w.items["rice"], 5)
    before = snapshot()
    with pytest.raises(PermissionRefused):
        actions.issue(w.bob, w.depot_a, w.items["rice"], 1)
    with pytest.raises(PermissionRefused):
        actions.issue(w.alice, w.depot_street, w.items["rice"], 1)  # the street's, not hers
    with pytest.raises(PermissionRefused):
        actions.receive(w.vera, w.depot_a, w.items["rice"], 1)
    assert snapshot() == before


def test_an_adjustment_needs_a_reason(depots):
    w = depots
    move = stock(w.depot_a, w.items["rice"], 5)
    with pytest.raises(ActionError) as caught:
        actions.adjust(w.alice, move.batch, -2, "  ")
    assert caught.value.errors[0].field == "reason"
    adjusted = actions.adjust(w.alice, move.batch, -2, "盘点少两袋")
    assert adjusted.kind == MoveKind.ADJUST and adjusted.balance_after == 3
    with pytest.raises(ActionError) as caught:
        actions.adjust(w.alice, move.batch, -4, "多减")
    assert caught.value.errors[0].field == "quantity"


def test_disposing_writes_off_only_expired_batches(depots):
    w = depots
    move = stock(w.depot_a, w.items["water"], 6, days=2)
    with pytest.raises(ActionError) as caught:
        actions.dispose_expired(w.alice, move.batch)
    assert caught.value.errors[0].code == ErrorCode.INVALID_STATE
    disposed = actions.dispose_expired(w.alice, move.batch, today=today() + dt.timedelta(days=3))
    assert disposed.kind == MoveKind.DISPOSE and disposed.quantity == -6
    assert on_hand(w.depot_a, w.items["water"]) == 0


def test_the_database_refuses_a_negative_batch(depots):
    w = depots
    move = stock(w.depot_a, w.items["rice"], 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBatch.objects.filter(pk=move.batch_id).update(quantity=F("quantity") - 3)


def test_the_database_refuses_a_move_whose_sign_contradicts_its_kind(depots):
    w = depots
    move = stock(w.depot_a, w.items["rice"], 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(
            batch=move.batch,
            depot=w.depot_a,
            item=w.items["rice"],
            kind=MoveKind.ISSUE,
            quantity=3,
            balance_after=5,
            at=move.at,
        )


def test_it_refuses_to_take_in_goods_already_expired(depots):
    w = depots
    with pytest.raises(ActionError) as caught:
        actions.receive(
            w.alice, w.depot_a, w.items["water"], 5, expires_on=today() - dt.timedelta(days=1)
        )
    assert caught.value.errors[0].field == "expires_on"
    assert StockMove.objects.count() == 0


def test_every_move_is_audited(depots):
    w = depots
    stock(w.depot_a, w.items["rice"], 5)
    actions.issue(w.alice, w.depot_a, w.items["rice"], 2)
    verbs = list(AuditEvent.objects.values_list("verb", flat=True).order_by("seq"))
    assert verbs[-2:] == ["emergency.stock.receive", "emergency.stock.issue"]
