"""Races on PostgreSQL: 200 voters at once, parallel time-bank transfers, a full activity.

Each thread opens its own connection; a bounded pool of 40 workers keeps us under the server's
max_connections (100) while still queueing many writers on the same row lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections

from renzhi.appeals.tests.test_concurrency import _connect_patiently
from renzhi.commons import ballot_box
from renzhi.commons.actions import activities, timebank, votes
from renzhi.commons.models import (
    Activity,
    Ballot,
    LedgerEntry,
    Participation,
    SealedBallot,
    Signup,
    SignupStatus,
    TimeAccount,
    Vote,
    VoteMethod,
)
from renzhi.commons.tests.conftest import discussed_proposal, soon
from renzhi.core.errors import ActionError

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.xdist_group("db_threads"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite admits one writer at a time (BEGIN IMMEDIATE), so "
        "there is no row-lock race to test; run with DATABASE_URL=postgres://…",
    ),
]

WORKERS = 40


def in_pool(n: int, work: Callable[[int], object]) -> list[tuple[str, object]]:
    """Run work(0…n-1) on a pool of WORKERS threads, each with its own connection."""
    local = threading.local()
    opened = []
    lock = threading.Lock()

    def run(i: int) -> tuple[str, object]:
        if not getattr(local, "ready", False):
            _connect_patiently()
            local.ready = True
            with lock:
                opened.append(connections["default"])
        try:
            return ("ok", work(i))
        except Exception as exc:
            return ("error", exc)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(run, range(n)))
    for wrapper in opened:  # the workers' own connections, closed from here
        wrapper.inc_thread_sharing()
        wrapper.close()
    return results


def test_200_parallel_votes_give_200_ballots_and_exact_totals(world, electors):
    people = electors(200)
    vote = votes.open_vote(
        world.alice, discussed_proposal(world), method=VoteMethod.YES_NO, closes_at=soon()
    )
    # voter i votes yes when i % 5 < 3 → 120 yes, 80 no.
    results = in_pool(200, lambda i: votes.cast_vote(people[i], vote, [0 if i % 5 < 3 else 1]))
    errors = [r for kind, r in results if kind != "ok"]
    assert errors == []
    vote.refresh_from_db()
    assert vote.ballots_cast == 200
    assert ballot_box.pending(vote) == 200
    assert Participation.objects.filter(vote=vote).count() == 200
    choices = [
        ballot_box.open_seal(b.sealed).choice for b in SealedBallot.objects.filter(vote=vote)
    ]
    assert choices.count([0]) == 120 and choices.count([1]) == 80


def test_a_voter_racing_themself_votes_once(world, electors):
    (person,) = electors(1)
    vote = votes.open_vote(
        world.alice, discussed_proposal(world), method=VoteMethod.YES_NO, closes_at=soon()
    )
    results = in_pool(20, lambda i: votes.cast_vote(person, vote, [i % 2]))
    assert sum(1 for kind, _ in results if kind == "ok") == 1
    assert all(isinstance(r, ActionError) for kind, r in results if kind == "error")
    assert ballot_box.pending(vote) == 1 and not Ballot.objects.filter(vote=vote).exists()
    assert Vote.objects.get(pk=vote.pk).ballots_cast == 1


def test_parallel_transfers_never_overdraw(world, electors):
    """One account holds 10 hours; 60 transfers of 1 hour race out of it (and 20 back in)."""
    payer = electors(1, prefix="payer")[0]
    payees = electors(20, prefix="payee")
    account = timebank.account_of(payer)
    TimeAccount.objects.filter(pk=account.pk).update(balance=Decimal("10"))
    LedgerEntry.objects.create(
        account=account,
        kind="earned",
        amount=10,
        balance_after=10,
        source_type="test",
        source_id="1",
    )

    def work(i: int):
        return timebank.transfer(payer, payees[i % 20], Decimal("1"))

    results = in_pool(60, work)
    ok = [r for kind, r in results if kind == "ok"]
    refused = [r for kind, r in results if kind == "error"]
    assert all(isinstance(r, ActionError) for r in refused), refused[:1]
    assert len(ok) == 10 and len(refused) == 50
    account.refresh_from_db()
    assert account.balance == 0
    assert not LedgerEntry.objects.filter(balance_after__lt=0).exists()
    total = sum(TimeAccount.objects.values_list("balance", flat=True))
    assert total == Decimal("10")  # credits moved, none created or lost


def test_opposite_transfers_do_not_deadlock(world, electors):
    a, b = electors(2)
    for person in (a, b):
        acc = timebank.account_of(person)
        TimeAccount.objects.filter(pk=acc.pk).update(balance=Decimal("20"))
    results = in_pool(40, lambda i: timebank.transfer(a if i % 2 else b, b if i % 2 else a, 1))
    assert [r for kind, r in results if kind != "ok"] == []
    assert sum(TimeAccount.objects.values_list("balance", flat=True)) == Decimal("40")


def test_a_full_activity_never_takes_more_than_its_capacity(world, electors):
    import datetime as dt

    from django.utils import timezone

    people = electors(60)
    activity = activities.publish_activity(
        world.alice,
        community=world.community_a,
        title="消防演练",
        kind="drill",
        location="社区广场",
        starts_at=timezone.now() + dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=1, hours=2),
        capacity=25,
        waiting_list=False,
    )
    results = in_pool(60, lambda i: activities.sign_up(people[i], activity))
    assert sum(1 for kind, _ in results if kind == "ok") == 25
    assert Signup.objects.filter(activity=activity, status=SignupStatus.CONFIRMED).count() == 25
    assert Activity.objects.get(pk=activity.pk).confirmed_count == 25
