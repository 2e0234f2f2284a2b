"""Participation metrics, hand-computed on community A (population 3000)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from renzhi.commons import metrics
from renzhi.commons.actions import activities, proposals, training, votes
from renzhi.commons.models import Vote
from renzhi.commons.tests.conftest import discussed_proposal, ended, soon, under_way


def test_metrics_count_participation_per_1000_residents(world, electors):
    people = electors(6)
    start = timezone.now() + dt.timedelta(days=1)
    act = activities.publish_activity(
        world.alice,
        community=world.community_a,
        title="义诊",
        kind="mutual_aid",
        location="广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=10,
        volunteer_hours="1",
    )
    for person in people[:3]:
        activities.sign_up(person, act)
    under_way(act)
    for person in people[:3]:
        activities.check_in(world.alice, act, person=person)
    activities.finish_activity(world.alice, ended(act))
    vote = votes.open_vote(
        world.alice, discussed_proposal(world), method="yes_no", closes_at=soon()
    )
    for person in people[:3]:
        votes.cast_vote(person, vote, [0])
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(hours=2), closes_at=timezone.now()
    )
    votes.close_due_votes()
    proposals.raise_proposal(people[0], community=world.community_a, title="t", body="b")
    course = training.create_course(
        world.alice, community=world.community_a, title="c", topic="fire_safety"
    )
    training.enrol(people[0], course)
    training.assess(world.alice, course, people[0], score=90)

    m = metrics.participation(world.community_a)
    assert m.residents == 3000 and m.residents_source == "population"
    assert m.activity_participants == 3 and m.activity_share == 0.001
    assert m.votes_closed == 1 and m.vote_turnout == 0.5  # 3 of 6 electors
    assert m.proposals_by_origin == {"staff": 1, "resident": 1}
    assert m.volunteers == 4  # vera (membership) + 3 with hours
    assert m.volunteers_per_1000 == round(4000 / 3000, 2)
    assert m.trained == 1 and m.trained_per_1000 == 0.33
    assert m.organisations == 0 and m.organisations_per_1000 == 0.0
