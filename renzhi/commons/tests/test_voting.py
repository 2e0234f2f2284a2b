"""Fair voting: one verified resident one vote, a secret ballot, a fixed window, proxy votes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from renzhi.commons import ballot_box
from renzhi.commons.actions import votes
from renzhi.commons.models import (
    Ballot,
    Participation,
    Phase,
    QuorumRule,
    SealedBallot,
    Vote,
    VoteMethod,
)
from renzhi.commons.tests.conftest import discussed_proposal, make_elector, soon
from renzhi.core.errors import ActionError, ErrorCode


@pytest.fixture
def open_vote(world, electors):
    people = electors(10)
    vote = votes.open_vote(
        world.alice, discussed_proposal(world), method=VoteMethod.YES_NO, closes_at=soon()
    )
    return vote, people


def close_now(vote: Vote) -> Vote:
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(hours=2),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    vote.refresh_from_db()
    return votes.close_vote(None, vote)


def in_box(vote: Vote) -> list[list[int]]:
    """The choices sealed in the box (opened with the server key, as the count does)."""
    return [
        ballot_box.open_seal(row.sealed).choice for row in SealedBallot.objects.filter(vote=vote)
    ]


def test_the_vote_count_equals_the_ballots_cast(open_vote):
    vote, people = open_vote
    for i, person in enumerate(people):
        votes.cast_vote(person, vote, [0 if i < 7 else 1])
    vote.refresh_from_db()
    assert vote.ballots_cast == 10
    assert ballot_box.pending(vote) == 10  # sealed in the box until the count
    assert Participation.objects.filter(vote=vote).count() == 10
    closed = close_now(vote)
    assert Ballot.objects.filter(vote=vote).count() == 10 and ballot_box.pending(vote) == 0
    assert closed.result["cast"] == 10 and closed.result["counts"] == {"0": 7, "1": 3, "2": 0}
    assert closed.passed and closed.result["turnout_percent"] == 100.0
    assert closed.proposal.phase == Phase.VOTING  # awaits the resolution text


def test_no_column_links_a_ballot_to_its_voter(db):
    """The schema itself: the ballot table has no voter, no participation, no time, no sequence.
    The only column it shares with the participation register is the vote."""
    ballot_fields = {f.column for f in Ballot._meta.concrete_fields}
    assert ballot_fields == {"id", "vote_id", "choice", "weight_area", "receipt_hash"}
    for field in Ballot._meta.concrete_fields:
        if field.is_relation:
            assert field.related_model is Vote, field.name  # no path to a user
        assert not field.get_internal_type().endswith("DateTimeField")
    assert Ballot._meta.pk.get_internal_type() == "UUIDField"  # not a sequence
    participation = {f.column for f in Participation._meta.concrete_fields}
    assert ballot_fields & participation == {"id", "vote_id"}
    # `id` is shared by name only: integers there, random UUIDs here.
    assert Participation._meta.pk.get_internal_type() in {"AutoField", "BigAutoField"}
    with connection.cursor() as cursor:
        described = connection.introspection.get_relations(cursor, Ballot._meta.db_table)
    assert {target for _, target in described.values()} == {Vote._meta.db_table}


def test_ballot_order_does_not_follow_the_order_of_voting(open_vote):
    vote, people = open_vote
    for person in people:
        votes.cast_vote(person, vote, [0])
    close_now(vote)
    by_voting = list(Participation.objects.filter(vote=vote).order_by("id").values_list("id"))
    by_key = list(Ballot.objects.filter(vote=vote).order_by("id").values_list("id", flat=True))
    assert len(by_voting) == len(by_key) == 10
    # UUID4 keys: sorting them is a shuffle, not the casting order (random; 10! orders).
    assert all(b.version == 4 for b in by_key)


def test_it_refuses_a_second_vote_and_changes_nothing(open_vote):
    vote, people = open_vote
    votes.cast_vote(people[0], vote, [0])
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(people[0], vote, [1])
    assert refused.value.errors[0].field == "voter"
    assert refused.value.errors[0].code == ErrorCode.DUPLICATE
    assert in_box(vote) == [[0]]
    vote.refresh_from_db()
    assert vote.ballots_cast == 1


def test_it_refuses_an_unverified_resident(world, open_vote):
    vote, _people = open_vote
    stranger = make_elector(world, "unverified", verified=False)
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(stranger, vote, [0])
    assert refused.value.errors[0].field == "voter"
    assert not Ballot.objects.filter(vote=vote).exists() and ballot_box.pending(vote) == 0
    with pytest.raises(ActionError):
        votes.cast_vote(world.ivy, vote, [0])  # another community
    with pytest.raises(ActionError):
        votes.cast_vote(world.charlie, vote, [0])  # resident without a verified household


def test_it_refuses_voting_after_close(open_vote):
    vote, people = open_vote
    votes.cast_vote(people[0], vote, [0])
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(hours=2),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    vote.refresh_from_db()
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(people[1], vote, [0])
    assert refused.value.errors[0].field == "vote"
    assert refused.value.errors[0].code == ErrorCode.INVALID_STATE
    assert ballot_box.pending(vote) == 1
    assert Participation.objects.filter(vote=vote).count() == 1


def test_nobody_closes_a_vote_before_its_window_ends(world, open_vote):
    vote, _people = open_vote
    with pytest.raises(ActionError) as refused:
        votes.close_vote(world.alice, vote)
    assert refused.value.errors[0].field == "vote"
    vote.refresh_from_db()
    assert vote.status == "open"


def test_a_bad_choice_is_refused_by_field(open_vote):
    vote, people = open_vote
    for bad in ([], [7], [0, 1]):
        with pytest.raises(ActionError) as refused:
            votes.cast_vote(people[0], vote, bad)
        assert refused.value.errors[0].field == "choice"
    assert not Participation.objects.filter(vote=vote).exists()


def test_a_receipt_changes_the_vote_when_changes_are_allowed(world, electors):
    people = electors(3)
    vote = votes.open_vote(
        world.alice,
        discussed_proposal(world),
        method=VoteMethod.YES_NO,
        closes_at=soon(),
        allow_change=True,
    )
    first = votes.cast_vote(people[0], vote, [0])
    assert len(first.receipt) >= 12
    assert SealedBallot.objects.get(vote=vote).receipt_hash != first.receipt  # only its HMAC
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(people[0], vote, [1])
    assert refused.value.errors[0].field == "receipt"
    with pytest.raises(ActionError):
        votes.cast_vote(people[0], vote, [1], receipt="wrong-receipt")
    changed = votes.cast_vote(people[0], vote, [1], receipt=first.receipt)
    assert changed.changed
    assert in_box(vote) == [[1]]
    assert Participation.objects.filter(vote=vote).count() == 1


def test_staff_vote_for_an_elderly_resident_with_their_identity_recorded(world, open_vote):
    vote, people = open_vote
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(world.alice, vote, [0], on_behalf_of=people[0])
    assert refused.value.errors[0].field == "proxy_note"
    votes.cast_vote(
        world.alice, vote, [0], on_behalf_of=people[0], proxy_note="本人口述同意，行动不便"
    )
    row = Participation.objects.get(vote=vote, voter=people[0])
    assert row.proxy == world.alice and "同意" in row.proxy_note
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(world.bob, vote, [0], on_behalf_of=people[1], proxy_note="x")
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN


def test_double_two_thirds_by_area_is_decided_on_stored_weights(world, electors):
    """3 owners of 150 m² and 6 of 50 m²: 9 heads, 750 m². The 3 big and 3 small vote yes
    (6 heads ⅔ ✓, 600 m² = 80 % ✓); the rest stay home → quorum met, yes 6/6 → passes."""
    big = electors(3, prefix="big", area="150")
    small = electors(6, prefix="small", area="50")
    vote = votes.open_vote(
        world.alice,
        discussed_proposal(world),
        method=VoteMethod.YES_NO,
        closes_at=soon(),
        quorum_rule=QuorumRule.DOUBLE_TWO_THIRDS,
        pass_rule="three_quarters",
        by_area=True,
    )
    assert vote.electorate_size == 9 and vote.electorate_area == 750
    for person in [*big, *small[:3]]:
        votes.cast_vote(person, vote, [0])
    closed = close_now(vote)
    assert closed.result["cast_area"] == "600.00"
    assert closed.result["quorum_met"] and closed.passed


def test_a_failed_vote_rejects_the_proposal(open_vote):
    vote, people = open_vote
    for person in people[:6]:
        votes.cast_vote(person, vote, [1])
    closed = close_now(vote)
    assert closed.passed is False
    closed.proposal.refresh_from_db()
    assert closed.proposal.phase == Phase.REJECTED
