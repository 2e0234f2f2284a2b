"""Property: whatever sequence of moves is tried, stock on hand equals the sum of the moves,
never goes negative, and an action is refused exactly when a simple model says it must be."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renzhi.core.errors import ActionError
from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.models import StockBatch, StockMove
from renzhi.emergency.tests.factories_resources import add_depots, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def depots(world):
    return add_depots(world)


DEPOTS = ("depot_a", "depot_a2", "depot_street")

operation = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(DEPOTS), st.integers(1, 30), st.integers(1, 12)),
    st.tuples(st.just("issue"), st.sampled_from(DEPOTS), st.integers(1, 40), st.integers(0, 14)),
    st.tuples(
        st.just("transfer"),
        st.sampled_from(DEPOTS),
        st.sampled_from(DEPOTS),
        st.integers(1, 40),
        st.integers(0, 14),
    ),
    st.tuples(st.just("adjust"), st.sampled_from(DEPOTS), st.integers(-20, 20)),
    st.tuples(st.just("dispose"), st.sampled_from(DEPOTS), st.integers(0, 14)),
)


class Model:
    """Batches as {(depot, expiry offset): quantity}: what the ledger must agree with."""

    def __init__(self):
        self.batches: dict[tuple[str, int], int] = {}

    def usable(self, depot: str, day: int) -> int:
        return sum(q for (d, exp), q in self.batches.items() if d == depot and exp >= day)

    def take(self, depot: str, quantity: int, day: int) -> list[tuple[int, int]]:
        taken = []
        for key in sorted(k for k in self.batches if k[0] == depot and k[1] >= day):
            if quantity == 0:
                break
            n = min(quantity, self.batches[key])
            if n:
                self.batches[key] -= n
                taken.append((key[1], n))
                quantity -= n
        return taken


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_stock_on_hand_always_equals_the_sum_of_its_moves(depots, ops):
    w = depots
    water = w.items["water"]
    base = today()
    with transaction.atomic():
        model = Model()
        for op in ops:
            kind = op[0]
            try:
                if kind == "receive":
                    _, depot, qty, exp = op
                    actions.receive(
                        None,
                        getattr(w, depot),
                        water,
                        qty,
                        expires_on=base + dt.timedelta(days=exp),
                    )
                    model.batches[(depot, exp)] = model.batches.get((depot, exp), 0) + qty
                elif kind == "issue":
                    _, depot, qty, day = op
                    expected_ok = model.usable(depot, day) >= qty
                    refused = _refused(
                        actions.issue,
                        None,
                        getattr(w, depot),
                        water,
                        qty,
                        today=base + dt.timedelta(days=day),
                    )
                    assert refused != expected_ok, op
                    if expected_ok:
                        model.take(depot, qty, day)
                elif kind == "transfer":
                    _, src, dst, qty, day = op
                    expected_ok = src != dst and model.usable(src, day) >= qty
                    refused = _refused(
                        actions.transfer,
                        None,
                        getattr(w, src),
                        getattr(w, dst),
                        water,
                        qty,
                        today=base + dt.timedelta(days=day),
                    )
                    assert refused != expected_ok, op
                    if expected_ok:
                        for exp, n in model.take(src, qty, day):
                            model.batches[(dst, exp)] = model.batches.get((dst, exp), 0) + n
                elif kind == "adjust":
                    _, depot, delta = op
                    batch = (
                        StockBatch.objects.filter(depot=getattr(w, depot)).order_by("id").first()
                    )
                    if batch is None or delta == 0:
                        continue
                    exp = (batch.expires_on - base).days
                    expected_ok = model.batches[(depot, exp)] + delta >= 0
                    refused = _refused(actions.adjust, w.root, batch, delta, "count")
                    assert refused != expected_ok, op
                    if expected_ok:
                        model.batches[(depot, exp)] += delta
                elif kind == "dispose":
                    _, depot, day = op
                    for batch in StockBatch.objects.filter(depot=getattr(w, depot), quantity__gt=0):
                        exp = (batch.expires_on - base).days
                        if exp < day:
                            actions.dispose_expired(
                                None, batch, today=base + dt.timedelta(days=day)
                            )
                            model.batches[(depot, exp)] = 0
            finally:
                _check_ledger(model, w)
        transaction.set_rollback(True)


def _refused(action, *args, **kwargs) -> bool:
    try:
        action(*args, **kwargs)
    except ActionError:
        return True
    return False


def _check_ledger(model: Model, w) -> None:
    for batch in StockBatch.objects.all():
        moved = sum(batch.moves.values_list("quantity", flat=True))
        assert batch.quantity == moved >= 0
        last = batch.moves.order_by("-id").first()
        assert last is None or last.balance_after == batch.quantity
    for depot in DEPOTS:
        d = getattr(w, depot)
        ledger = sum(StockMove.objects.filter(depot=d).values_list("quantity", flat=True))
        shelf = sum(StockBatch.objects.filter(depot=d).values_list("quantity", flat=True))
        expected = sum(q for (name, _exp), q in model.batches.items() if name == depot)
        assert ledger == shelf == expected
