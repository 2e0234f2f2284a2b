"""Races on PostgreSQL: many threads, each with its own connection, move the same stock.

The batch row locks (taken in one fixed order) and the check after the lock must leave the
ledger consistent: the last 20 units go to exactly 20 of 50 takers, transfers in both
directions at once neither deadlock nor lose a unit.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection

from renzhi.core.audit import verify_chain
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import User
from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.models import Depot, Item, StockBatch, StockMove
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    move_sum,
    on_hand,
    stock,
)

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.xdist_group("db_threads"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite lets one writer in at a time (BEGIN IMMEDIATE), so "
        "there is no row-lock race to test; run with DATABASE_URL=postgres://…",
    ),
]


@pytest.fixture
def depots(world):
    return add_depots(world)


def race(n: int, work: Callable[[int], object]) -> list[tuple[str, object]]:
    barrier = threading.Barrier(n)
    results: list[tuple[str, object]] = [("missing", None)] * n

    def run(i: int) -> None:
        try:
            _connect_patiently()
            barrier.wait(timeout=60)
            results[i] = ("ok", work(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def _connect_patiently(attempts: int = 40) -> None:
    """Open this thread's connection, waiting while the server is full (see the appeals
    concurrency tests: a slot shortage is the machine's, not the code's)."""
    for attempt in range(attempts):
        try:
            connection.ensure_connection()
            return
        except OperationalError as exc:
            if "too many clients" not in str(exc) or attempt == attempts - 1:
                raise
            connection.close()
            time.sleep(0.1 + 0.05 * attempt)


def outcomes(results) -> tuple[list, list[ActionError]]:
    unexpected = [
        r
        for kind, r in results
        if kind not in ("ok", "error") or (kind == "error" and not isinstance(r, ActionError))
    ]
    assert unexpected == [], unexpected  # only refusals, never a database error or deadlock
    return (
        [r for kind, r in results if kind == "ok"],
        [r for kind, r in results if kind == "error"],
    )


def test_fifty_issues_of_the_last_twenty_units_leave_exactly_zero(depots):
    w = depots
    water = w.items["water"]
    stock(w.depot_a, water, 12, days=10, batch="A")
    stock(w.depot_a, water, 8, days=40, batch="B")

    def take_one(_i):
        return actions.issue(
            User.objects.get(pk=w.alice.pk),
            Depot.objects.get(pk=w.depot_a.pk),
            Item.objects.get(pk=water.pk),
            1,
        )

    issued, refused = outcomes(race(50, take_one))

    assert len(issued) == 20 and len(refused) == 30
    assert {(e.errors[0].field, e.errors[0].code) for e in refused} == {
        ("quantity", ErrorCode.CONFLICT)
    }
    assert on_hand(w.depot_a, water) == 0 == move_sum(w.depot_a, water)
    assert not StockBatch.objects.filter(quantity__lt=0).exists()
    assert not StockMove.objects.filter(balance_after__lt=0).exists()
    # FEFO held under contention too: batch A emptied before anything came out of B.
    order = list(
        StockMove.objects.filter(kind="issue")
        .order_by("id")
        .values_list("batch__batch_no", flat=True)
    )
    assert order == ["A"] * 12 + ["B"] * 8
    assert verify_chain()[1] is None


def test_parallel_transfers_in_all_directions_keep_the_sum_constant(depots):
    w = depots
    water = w.items["water"]
    places = [w.depot_a, w.depot_a2, w.depot_street]
    for i, depot in enumerate(places):
        stock(depot, water, 30, days=30 + i, batch=f"S{i}")
        stock(depot, water, 20, days=90 + i, batch=f"L{i}")
    total = sum(on_hand(d, water) for d in places)
    rng = random.Random(8)
    plan = []
    for _ in range(40):
        src, dst = rng.sample(places, 2)
        plan.append((src.pk, dst.pk, rng.randint(1, 25)))

    def move(i):
        src, dst, qty = plan[i]
        return actions.transfer(
            User.objects.get(pk=w.leo.pk),
            Depot.objects.get(pk=src),
            Depot.objects.get(pk=dst),
            Item.objects.get(pk=water.pk),
            qty,
        )

    done, refused = outcomes(race(len(plan), move))

    assert len(done) + len(refused) == len(plan) and done
    assert {e.errors[0].field for e in refused} <= {"quantity"}
    assert sum(on_hand(d, water) for d in places) == total
    for depot in places:
        assert on_hand(depot, water) == move_sum(depot, water)
    for batch in StockBatch.objects.all():
        assert batch.quantity == sum(batch.moves.values_list("quantity", flat=True)) >= 0
    # Every transfer has its two halves.
    for ref in StockMove.objects.values_list("transfer_ref", flat=True).distinct():
        if ref:
            assert (
                sum(StockMove.objects.filter(transfer_ref=ref).values_list("quantity", flat=True))
                == 0
            )
