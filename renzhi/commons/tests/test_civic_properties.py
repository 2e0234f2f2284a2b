"""Property-based (Hypothesis): no sequence of allowed actions mints volunteer hours or changes a
frozen electorate (issue 23, acceptance).

Each example runs a random sequence of actions by random people — allowed ones succeed, the
rest are refused — inside a transaction rolled back at its end, and checks the invariants after
every step:
- hours: every credited shift is at most its activity's duration, was credited only after the
  activity ended, and never by the person credited; the time bank holds exactly what was earned
  (transfers move hours, they do not make them).
- votes: the electorate of an open vote is the one frozen at opening (same people, same areas),
  only its members took part, and the count adds up to the frozen areas of those who did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renzhi.commons.actions import activities, timebank, votes
from renzhi.commons.actions import residence as residence_actions
from renzhi.commons.models import (
    Activity,
    Elector,
    LedgerEntry,
    LedgerKind,
    Participation,
    Residence,
    TimeAccount,
    Vote,
    VoteMethod,
)
from renzhi.commons.tests.conftest import discussed_proposal, make_elector, soon
from renzhi.core.errors import ActionError
from renzhi.core.models import AuditEvent, ServiceHours, User

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def rolled_back(run) -> None:
    """Run one example and undo it, so examples do not see each other's rows."""
    with transaction.atomic():
        run()
        transaction.set_rollback(True)


# --- The time bank ---------------------------------------------------------------------------

people = st.integers(min_value=0, max_value=3)  # 0 = staff alice, 1..3 residents
hour_steps = st.one_of(
    st.tuples(
        st.just("publish"),
        people,
        st.integers(min_value=1, max_value=600),  # minutes long
        st.decimals(min_value=0, max_value=24, places=1),  # hours claimed
    ),
    st.tuples(st.just("sign_up"), people, st.integers(0, 5)),
    st.tuples(st.just("check_in"), people, people, st.integers(0, 5)),
    st.tuples(st.just("finish"), people, st.integers(0, 5)),
    st.tuples(st.just("confirm"), people, people, st.integers(0, 5)),
    st.tuples(
        st.just("transfer"), people, people, st.decimals(min_value=0, max_value=30, places=1)
    ),
    st.tuples(st.just("clock"), st.integers(min_value=-700, max_value=2000)),  # minutes pass
)


@pytest.mark.django_db
@SETTINGS
@given(steps=st.lists(hour_steps, min_size=1, max_size=25))
def test_no_sequence_of_actions_mints_hours(world, electors, steps):
    def run() -> None:
        crowd = [world.alice, *electors(3, prefix="hb")]
        acts: list[Activity] = []
        for step in steps:
            # A refused step must change nothing, which the invariants check.
            with contextlib.suppress(ActionError):
                _hour_step(world, crowd, acts, step)
            _check_hours()

    rolled_back(run)


def _hour_step(world, crowd, acts, step) -> None:
    kind = step[0]
    if kind == "publish":
        _, who, minutes, hours = step
        start = timezone.now() + dt.timedelta(hours=1)
        acts.append(
            activities.publish_activity(
                crowd[who],
                community=world.community_a,
                title="互助",
                kind="volunteering",
                location="广场",
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=minutes),
                capacity=5,
                volunteer_hours=hours,
            )
        )
        return
    if kind == "clock":
        # Time passes for every activity: moving them all earlier is the same as waiting.
        Activity.objects.update(
            starts_at=_shift("starts_at", step[1]), ends_at=_shift("ends_at", step[1])
        )
        return
    if not acts:
        return
    if kind == "sign_up":
        activities.sign_up(crowd[step[1]], _pick(acts, step[2]))
    elif kind == "check_in":
        act = _pick(acts, step[3])
        activities.check_in(crowd[step[1]], act, person=crowd[step[2]])
    elif kind == "finish":
        act = _pick(acts, step[2])
        ended_before = act.ends_at <= timezone.now()
        activities.finish_activity(crowd[step[1]], act)
        assert ended_before, "finished before its end"
    elif kind == "confirm":
        activities.confirm_hours(crowd[step[1]], _pick(acts, step[3]), crowd[step[2]])
    elif kind == "transfer" and step[1] != step[2]:
        timebank.transfer(crowd[step[1]], crowd[step[2]], step[3] or Decimal("0.1"), "谢谢")


def _pick(acts: list[Activity], i: int) -> Activity:
    return Activity.objects.get(pk=acts[i % len(acts)].pk)


def _shift(field: str, minutes: int):
    from django.db.models import F

    return F(field) - dt.timedelta(minutes=minutes)


def _check_hours() -> None:
    for shift in ServiceHours.objects.filter(source_type=activities.SOURCE_TYPE):
        act = Activity.objects.get(pk=int(shift.source_id))
        duration_hours = Decimal((act.ends_at - act.starts_at).total_seconds()) / 3600
        assert shift.hours <= duration_hours, "more hours than the activity lasted"
        credited_by = set(
            AuditEvent.objects.filter(
                verb__in=["commons.activity.finish", "commons.activity.confirm_hours"],
                object_id=str(act.pk),
            ).values_list("actor_id", flat=True)
        )
        finisher_is_self = credited_by == {shift.user_id}
        assert not finisher_is_self, "someone credited themself"
    earned = LedgerEntry.objects.filter(kind=LedgerKind.EARNED).aggregate(s=Sum("amount"))["s"]
    shifts = ServiceHours.objects.filter(source_type=activities.SOURCE_TYPE).aggregate(
        s=Sum("hours")
    )["s"]
    balances = TimeAccount.objects.aggregate(s=Sum("balance"))["s"]
    assert (earned or 0) == (shifts or 0), "credit without a shift"
    assert (balances or 0) == (earned or 0), "hours appeared or vanished in transfers"


# --- The frozen electorate ---------------------------------------------------------------------

vote_steps = st.one_of(
    st.tuples(st.just("register"), st.integers(0, 6), st.integers(1, 1000)),
    st.tuples(st.just("verify"), st.sampled_from(["alice", "bob", "root"]), st.integers(0, 6)),
    st.tuples(st.just("verify_area"), st.integers(0, 5), st.integers(0, 2000)),
    st.tuples(st.just("cast"), st.integers(0, 6), st.integers(0, 1)),
    st.tuples(st.just("proxy"), st.sampled_from(["alice", "bob"]), st.integers(0, 6)),
)


@pytest.mark.django_db
@SETTINGS
@given(steps=st.lists(vote_steps, min_size=1, max_size=20))
def test_no_sequence_of_actions_changes_a_frozen_electorate(world, steps):
    def run() -> None:
        voters = [make_elector(world, f"ev{i}", area=str(50 + 10 * i)) for i in range(3)]
        newcomers = [make_elector(world, f"nv{i}", verified=False) for i in range(3)]
        # ivy lives in community B: staff of A must not bring her in either.
        everyone = [*voters, *newcomers, world.ivy]
        vote = votes.open_vote(
            world.alice,
            discussed_proposal(world),
            method=VoteMethod.YES_NO,
            closes_at=soon(),
            by_area=True,
        )
        frozen = set(Elector.objects.filter(vote=vote).values_list("user_id", "area_m2"))
        for step in steps:
            with contextlib.suppress(ActionError):
                _vote_step(world, vote, everyone, step)
            assert set(Elector.objects.filter(vote=vote).values_list("user_id", "area_m2")) == (
                frozen
            )
            frozen_users = {u for u, _a in frozen}
            assert (
                set(Participation.objects.filter(vote=vote).values_list("voter", flat=True))
                <= frozen_users
            )
        Vote.objects.filter(pk=vote.pk).update(
            opens_at=timezone.now() - dt.timedelta(hours=2),
            closes_at=timezone.now() - dt.timedelta(seconds=1),
        )
        vote.refresh_from_db()
        result = votes.close_vote(None, vote).result or {}
        voted = set(Participation.objects.filter(vote=vote).values_list("voter", flat=True))
        assert Decimal(result["cast_area"]) == sum(
            (a for u, a in frozen if u in voted), Decimal("0")
        )
        assert result["electorate"] == len(frozen)

    rolled_back(run)


def _vote_step(world, vote, everyone, step) -> None:
    kind = step[0]
    if kind == "register":
        person = User.objects.get(pk=everyone[step[1]].pk)
        residence_actions.register_residence(
            world.alice,
            community=world.community_a,
            building="1",
            room="1",
            area_m2=step[2],
            user=person,
            verify=True,
        )
    elif kind in ("verify", "verify_area"):
        staff = getattr(world, step[1]) if kind == "verify" else world.alice
        home = Residence.objects.filter(user=everyone[step[2 if kind == "verify" else 1]]).first()
        if home is not None:
            area = step[2] if kind == "verify_area" else None
            residence_actions.verify_residence(staff, home, area_m2=area)
    elif kind == "cast":
        votes.cast_vote(User.objects.get(pk=everyone[step[1]].pk), vote, [step[2]])
    elif kind == "proxy":
        votes.cast_vote(
            getattr(world, step[1]),
            vote,
            [0],
            on_behalf_of=User.objects.get(pk=everyone[step[2]].pk),
            proxy_note="本人电话同意",
        )
