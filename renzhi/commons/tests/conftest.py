"""Commons fixtures on top of the shared `world`: verified residents and a proposal in discussion.

`electors(n)` creates n residents of community A with verified household records (building 1,
100 m² each unless told). `discussed(world)` returns a staff proposal of community A already in
discussion, ready for `actions.votes.open_vote`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from renzhi.commons.actions import proposals
from renzhi.commons.models import Residence
from renzhi.core.models import Membership, Role, User


def make_elector(world, name: str, *, area="100", building="1", community=None, verified=True):
    community = community or world.community_a
    user = User.objects.create_user(
        username=name, password=world.password, display_name=name, home_place=community
    )
    Membership.objects.create(user=user, role=Role.RESIDENT, place=community)
    Residence.objects.create(
        user=user,
        community=community,
        building=building,
        room=f"{name[-3:]}",
        area_m2=Decimal(area),
        verified_by=world.alice if verified else None,
        verified_at=timezone.now() if verified else None,
    )
    return user


@pytest.fixture
def electors(world):
    def create(n: int, prefix: str = "voter", **kwargs) -> list[User]:
        return [make_elector(world, f"{prefix}{i:03d}", **kwargs) for i in range(n)]

    return create


def discussed_proposal(world, title="加装电梯"):
    p = proposals.raise_proposal(
        world.alice, community=world.community_a, title=title, body="三号楼加装电梯，请大家议一议。"
    )
    proposals.set_agenda(world.alice, p)
    proposals.open_discussion(world.alice, p)
    p.refresh_from_db()
    return p


def soon(minutes: int = 60) -> dt.datetime:
    return timezone.now() + dt.timedelta(minutes=minutes)


def under_way(activity):
    """Move an activity so that it is happening now (check-in open): tests cannot wait for it."""
    from renzhi.commons.models import Activity

    length = activity.ends_at - activity.starts_at
    start = timezone.now() - dt.timedelta(minutes=5)
    Activity.objects.filter(pk=activity.pk).update(starts_at=start, ends_at=start + length)
    activity.refresh_from_db()
    return activity


def ended(activity):
    """Move an activity so that it ended a minute ago (it may be finished)."""
    from renzhi.commons.models import Activity

    length = activity.ends_at - activity.starts_at
    end = timezone.now() - dt.timedelta(minutes=1)
    Activity.objects.filter(pk=activity.pk).update(starts_at=end - length, ends_at=end)
    activity.refresh_from_db()
    return activity
