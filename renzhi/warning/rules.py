"""Who may do what with warnings and signals: small predicates shared by actions, pages and API.

Staff who watch signals and draft warnings: community staff, dispatchers, leaders and
administrators of a place. Approving is the leader's: a street leader approves levels IV and III,
levels II and I need a leader of the district. Nobody approves a warning they drafted.
"""

from __future__ import annotations

from renzhi.core import scope
from renzhi.core.models import Place, PlaceLevel, Role, User

WARNING_STAFF = frozenset({Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.LEADER, Role.ADMIN})
HIGH_LEVELS = (1, 2)  # Level I and II need a district leader


def is_warning_staff(user: User | None) -> bool:
    return scope.is_global_admin(user) or scope.has_role(user, *WARNING_STAFF)


def is_leader(user: User | None) -> bool:
    return scope.has_role(user, Role.LEADER)


def may_manage_webhooks(user: User | None) -> bool:
    return scope.has_role(user, Role.ADMIN, Role.LEADER)


def staff_covers(user: User | None, place: Place) -> bool:
    return scope.covers(user, place, WARNING_STAFF)


def leader_covers(user: User | None, place: Place, level: int) -> bool:
    """A leader whose jurisdiction contains `place`; district-level for levels II and I."""
    for m in scope.memberships(user):
        if m.role != Role.LEADER or m.place is None:
            continue
        if level in HIGH_LEVELS and m.place.level != PlaceLevel.DISTRICT:
            continue
        if place.code.startswith(m.place.code):
            return True
    return False


def home_code(user: User | None) -> str | None:
    """The code of the community (or grid) a resident lives in."""
    if user is None or not user.is_authenticated:
        return None
    place = getattr(user, "home_place", None)
    if place is not None:
        return place.code
    for m in scope.memberships(user):
        if m.role == Role.RESIDENT and m.place is not None:
            return m.place.code
    return None
