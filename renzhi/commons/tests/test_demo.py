"""The commons demo: every state shown, built through the actions, idempotent and quick."""

from __future__ import annotations

import time
from collections import Counter

from renzhi.commons import demo
from renzhi.commons.models import (
    Ballot,
    Certificate,
    LedgerEntry,
    Organisation,
    Participation,
    Phase,
    Proposal,
    SealedBallot,
    Signup,
)
from renzhi.core.audit import verify_chain
from renzhi.demo.build import BuildReport, build_city


def test_the_demo_shows_every_state_and_loads_once(db):
    city, _ = build_city(scale=0.1)
    report = BuildReport(seed=city.seed, scale=0.1)
    started = time.perf_counter()
    demo.load(city, report, lambda message: None)
    seconds = time.perf_counter() - started
    assert report.created["commons"] > 0
    assert seconds < 60, seconds
    statuses = set(Organisation.objects.values_list("status", flat=True))
    assert {
        "filed",
        "approved",
        "submitted",
        "under_review",
        "draft",
        "suspended",
        "rejected",
    } <= statuses
    phases = Counter(Proposal.objects.values_list("phase", flat=True))
    for phase in (
        Phase.COLLECTING,
        Phase.AGENDA,
        Phase.DISCUSSION,
        Phase.VOTING,
        Phase.IMPLEMENTING,
        Phase.EVALUATING,
        Phase.REJECTED,
        Phase.DECLINED,
    ):
        assert phases[phase] >= 1, phase
    in_box = SealedBallot.objects.count()  # votes still open keep their ballots sealed
    assert Ballot.objects.count() + in_box == Participation.objects.count() > 0
    assert Signup.objects.filter(status="waitlisted").exists()
    assert Certificate.objects.exists() and LedgerEntry.objects.filter(kind="help_given").exists()
    assert verify_chain()[1] is None

    before = (Organisation.objects.count(), Proposal.objects.count(), Ballot.objects.count())
    again = BuildReport(seed=city.seed, scale=0.1)
    demo.load(city, again, lambda message: None)
    assert again.created["commons"] == 0
    assert (
        Organisation.objects.count(),
        Proposal.objects.count(),
        Ballot.objects.count(),
    ) == before
