"""The secret ballot against someone who reads the database (issue 14 #10), and the electorate
frozen when a vote opens (issue 23 #3).

An attacker with the tables tries to pair each ballot with a participation by anything physical:
the key, the insertion order (SQLite rowid, PostgreSQL ctid), the writing transaction (xmin), a
timestamp, or an unusual floor area. Eight voters each choose a different option, so recovering
the pairing would recover every vote; a random shuffle matches it by chance once in 8! = 40,320.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from renzhi.commons import ballot_box
from renzhi.commons.actions import residence as residence_actions
from renzhi.commons.actions import votes
from renzhi.commons.models import (
    Ballot,
    Elector,
    Participation,
    Residence,
    SealedBallot,
    Vote,
    VoteMethod,
)
from renzhi.commons.tests.conftest import discussed_proposal, make_elector, soon
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Membership, Role, User

N = 8


def eight_votes(world, electors, **kwargs) -> tuple[Vote, list[User]]:
    """Eight voters with distinct areas, each choosing their own option; then the count."""
    people = [
        make_elector(world, f"secret{i}", area=str(Decimal("60.25") + 17 * i)) for i in range(N)
    ]
    vote = votes.open_vote(
        world.alice,
        discussed_proposal(world),
        method=VoteMethod.SINGLE,
        options=[f"方案{i}" for i in range(N)],
        closes_at=soon(),
        by_area=True,
        **kwargs,
    )
    for i, person in enumerate(people):
        votes.cast_vote(person, vote, [i])
    return vote, people


def close_now(vote: Vote) -> Vote:
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(hours=2),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    vote.refresh_from_db()
    return votes.close_vote(None, vote)


def voters_in_order(vote: Vote, order_by: str) -> list[int]:
    return list(
        Participation.objects.filter(vote=vote).order_by(order_by).values_list("voter", flat=True)
    )


def choices_in(sql_order: str, vote: Vote) -> list[int]:
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT choice FROM {table} WHERE vote_id = %s ORDER BY {sql_order}", [vote.pk]
        )
        rows = [r[0] for r in cursor.fetchall()]
    return [int(str(c).strip("[]")) for c in rows]


def test_while_the_vote_is_open_the_box_holds_only_sealed_ballots(world, electors):
    vote, _people = eight_votes(world, electors)
    assert not Ballot.objects.filter(vote=vote).exists()
    sealed = list(SealedBallot.objects.filter(vote=vote).values_list("sealed", flat=True))
    assert len(sealed) == N and len({len(s) for s in sealed}) == 1  # same size whatever chosen
    assert all('"c"' not in s and "60.25" not in s for s in sealed)
    assert sorted(ballot_box.open_seal(s).choice[0] for s in sealed) == list(range(N))


def test_a_tampered_seal_does_not_open(world, electors):
    vote, _people = eight_votes(world, electors)
    token = SealedBallot.objects.filter(vote=vote).first().sealed
    flipped = token[:30] + ("A" if token[30] != "A" else "B") + token[31:]
    with pytest.raises(ballot_box.BrokenSeal):
        ballot_box.open_seal(flipped)


def test_the_count_writes_ballots_without_order_or_area_that_point_to_a_voter(world, electors):
    vote, _people = eight_votes(world, electors)
    closed = close_now(vote)
    assert SealedBallot.objects.filter(vote=vote).count() == 0
    rows = list(Ballot.objects.filter(vote=vote))
    assert len(rows) == N and all(r.id.version == 4 for r in rows)
    # Public weights are bucketed to 10 m²: no ballot carries a voter's exact area.
    exact = {e.area_m2 for e in Elector.objects.filter(vote=vote)}
    assert all(r.weight_area % 10 == 0 and r.weight_area not in exact for r in rows)
    # …while the count used the exact confirmed areas.
    areas = {int(k): Decimal(v) for k, v in closed.result["areas"].items()}
    assert areas == {i: Decimal("60.25") + 17 * i for i in range(N)}
    assert Decimal(closed.result["cast_area"]) == sum(areas.values())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's rowid")
def test_sqlite_rowid_does_not_pair_ballots_with_voters(world, electors):
    """Each voter i chose option i; rowid order of the ballots must not give back 0, 1, … 7."""
    vote, people = eight_votes(world, electors)
    close_now(vote)
    by_rowid = choices_in("rowid", vote)
    assert sorted(by_rowid) == list(range(N))
    casting = [people.index(User.objects.get(pk=pk)) for pk in voters_in_order(vote, "id")]
    assert by_rowid != casting


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's ctid and xmin")
@pytest.mark.django_db(transaction=True)
def test_postgres_id_ctid_xmin_and_time_do_not_pair_ballots_with_voters(world, electors):
    vote, people = eight_votes(world, electors)
    close_now(vote)
    casting = [people.index(User.objects.get(pk=pk)) for pk in voters_in_order(vote, "id")]
    assert casting == list(range(N))
    # By physical position and by key: neither gives the casting order back.
    assert choices_in("ctid", vote) != casting
    assert choices_in("id", vote) != casting
    # By writing transaction: every ballot was written by the count, no voter's transaction.
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT xmin::text FROM {table} WHERE vote_id = %s", [vote.pk])
        ballot_xmins = {r[0] for r in cursor.fetchall()}
        cursor.execute(
            f"SELECT xmin::text FROM {Participation._meta.db_table} WHERE vote_id = %s", [vote.pk]
        )
        participation_xmins = {r[0] for r in cursor.fetchall()}
    assert len(ballot_xmins) == 1 and len(participation_xmins) == N
    assert not ballot_xmins & participation_xmins
    # By time: the ballot has no time column at all.
    assert not [f for f in Ballot._meta.concrete_fields if f.get_internal_type() == "DateTimeField"]


def test_the_electorate_is_frozen_when_the_vote_opens(world, electors):
    """Verified, re-weighed or registered after opening: no vote, no changed weight."""
    people = electors(3)
    latecomer = make_elector(world, "latecomer", verified=False, area="80")
    vote = votes.open_vote(
        world.alice,
        discussed_proposal(world),
        method=VoteMethod.YES_NO,
        closes_at=soon(),
        by_area=True,
    )
    assert Elector.objects.filter(vote=vote).count() == 3
    residence_actions.verify_residence(world.alice, Residence.objects.get(user=latecomer))
    Residence.objects.filter(user=people[0]).update(area_m2=Decimal("999"))
    with pytest.raises(ActionError) as refused:
        votes.cast_vote(
            world.alice, vote, [0], on_behalf_of=latecomer, proxy_note="本人电话同意，腿脚不便"
        )
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN
    for person in people:
        votes.cast_vote(person, vote, [0])
    closed = close_now(vote)
    assert closed.result["cast"] == 3 and closed.result["cast_area"] == "300.00"
    assert closed.result["electorate"] == 3 and closed.result["electorate_area"] == "300.00"


def test_staff_cannot_verify_their_own_household_and_vote(world, electors, api_client):
    electors(2)
    mine = residence_actions.register_residence(
        world.alice, community=world.community_a, building="1", room="101", area_m2="90"
    )
    with pytest.raises(ActionError) as refused:
        residence_actions.verify_residence(world.alice, mine)
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN
    with pytest.raises(ActionError):
        residence_actions.register_residence(
            world.alice, community=world.community_b, building="1", room="1", verify=True
        )
    # Through the API too (the page only hides the button).
    other_staff = User.objects.create_user(username="alice2", password=world.password)
    Membership.objects.create(user=other_staff, role=Role.COMMUNITY_STAFF, place=world.community_a)
    own = residence_actions.register_residence(
        other_staff, community=world.community_a, building="2", room="202", area_m2="80"
    )
    response = api_client.as_user(other_staff).post(f"/api/commons/residences/{own.pk}/verify")
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.verified_at is None


def test_staff_cannot_register_a_resident_of_another_street_with_a_huge_area(world):
    with pytest.raises(ActionError) as refused:
        residence_actions.register_residence(
            world.alice,
            community=world.community_a,
            building="9",
            room="999",
            area_m2="99999",
            user=world.ivy,  # lives in community B
            verify=True,
        )
    assert refused.value.errors[0].field == "user"
    assert not Residence.objects.filter(user=world.ivy).exists()


def test_verification_confirms_the_floor_area_within_bounds(world):
    home = residence_actions.register_residence(
        world.charlie, community=world.community_a, building="3", room="301"
    )
    for bad in ("0", "99999", "abc", "NaN"):
        with pytest.raises(ActionError) as refused:
            residence_actions.verify_residence(world.alice, home, area_m2=bad)
        assert refused.value.errors[0].field == "area_m2"
    home.refresh_from_db()
    assert home.verified_at is None
    residence_actions.verify_residence(world.alice, home, area_m2="88.5")
    home.refresh_from_db()
    assert home.verified_at is not None and home.area_m2 == Decimal("88.50")
