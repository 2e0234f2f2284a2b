"""Participation metrics per community, read by the resilience assessment and the staff page.

Denominator ("residents"): the community's `Place.population` when it is recorded (the census
figure the street keeps); otherwise the number of people with a resident membership in the
community or its grids. Per-1,000 figures and shares use the same denominator; a community with
neither gives None rather than a division by zero.

- activity_share: distinct people checked in at any activity of the community in the window,
  over residents;
- vote_turnout: ballots cast over electors, summed over the votes closed in the window;
- proposals_by_origin: proposals raised in the window, by origin (resident, organisation, staff,
  hot issue, appeal);
- organisations_per_1000: filed or approved organisations now;
- volunteers_per_1000: distinct people with a volunteer membership in the community or with
  service hours recorded there in the window;
- trained_per_1000: distinct people holding a certificate of the community's courses issued in
  the window (expired or not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone

from renzhi.commons.models import (
    Certificate,
    Organisation,
    OrgStatus,
    Proposal,
    Signup,
    Vote,
    VoteStatus,
)
from renzhi.core.models import Membership, Place, Role, ServiceHours

WINDOW_DAYS = 365


@dataclass(frozen=True)
class Participation:
    community_code: str
    community_name: str
    residents: int
    residents_source: str  # "population" or "memberships"
    activity_participants: int
    activity_share: float | None
    votes_closed: int
    vote_turnout: float | None
    proposals_by_origin: dict[str, int]
    organisations: int
    organisations_per_1000: float | None
    volunteers: int
    volunteers_per_1000: float | None
    trained: int
    trained_per_1000: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def participation(community: Place, *, now: dt.datetime | None = None) -> Participation:
    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    residents, source = _residents(community)
    participants = (
        Signup.objects.filter(
            activity__community=community,
            checked_in_at__isnull=False,
            activity__starts_at__gte=since,
        )
        .values("user")
        .distinct()
        .count()
    )
    closed = Vote.objects.filter(
        proposal__community=community, status=VoteStatus.CLOSED, closes_at__gte=since
    ).aggregate(n=Count("id"), cast=Sum("ballots_cast"), electors=Sum("electorate_size"))
    origins = dict(
        Proposal.objects.filter(community=community, created_at__gte=since)
        .values_list("origin")
        .annotate(n=Count("id"))
    )
    organisations = Organisation.objects.filter(
        community=community, status__in=[OrgStatus.FILED, OrgStatus.APPROVED]
    ).count()
    volunteer_ids = set(
        Membership.objects.filter(
            role=Role.VOLUNTEER, place__code__startswith=community.code
        ).values_list("user_id", flat=True)
    )
    volunteer_ids |= set(
        ServiceHours.objects.filter(
            place__code__startswith=community.code, served_on__gte=since.date()
        ).values_list("user_id", flat=True)
    )
    trained = (
        Certificate.objects.filter(course__community=community, issued_at__gte=since)
        .values("user")
        .distinct()
        .count()
    )
    return Participation(
        community_code=community.code,
        community_name=community.name,
        residents=residents,
        residents_source=source,
        activity_participants=participants,
        activity_share=_share(participants, residents),
        votes_closed=closed["n"] or 0,
        vote_turnout=_share(closed["cast"] or 0, closed["electors"] or 0),
        proposals_by_origin={str(k): v for k, v in origins.items()},
        organisations=organisations,
        organisations_per_1000=_per_1000(organisations, residents),
        volunteers=len(volunteer_ids),
        volunteers_per_1000=_per_1000(len(volunteer_ids), residents),
        trained=trained,
        trained_per_1000=_per_1000(trained, residents),
    )


def _residents(community: Place) -> tuple[int, str]:
    if community.population:
        return community.population, "population"
    count = (
        Membership.objects.filter(
            Q(place=community) | Q(place__parent=community), role=Role.RESIDENT
        )
        .values("user")
        .distinct()
        .count()
    )
    return count, "memberships"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _per_1000(part: int, whole: int) -> float | None:
    return round(1000 * part / whole, 2) if whole else None
