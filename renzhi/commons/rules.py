"""Who may see and do what in the commons app: small predicates shared by actions, API and pages.

Three circles of people around a community:
- its *residents* — a resident, volunteer or organisation-admin membership there, a home place
  inside it, or a household record: they see its public life (filed organisations, proposals,
  activities, courses, help posts);
- its *electors* — residents with a household record verified by staff: they support
  proposals and vote (one verified resident, one vote);
- *staff* — community staff of the community (or a global administrator) run it: review
  organisations, verify residents, set the agenda, open votes, run courses. Street leaders
  approve (审批) the organisation kinds that need it. Other place-bound roles (grid worker,
  dispatcher, leader, social worker, place-bound admin) read their jurisdiction.
"""

from __future__ import annotations

from renzhi.core import scope
from renzhi.core.models import Place, PlaceLevel, Role, User

RESIDENT_ROLES = frozenset({Role.RESIDENT, Role.VOLUNTEER, Role.ORG_ADMIN})
READER_ROLES = frozenset(
    {
        Role.COMMUNITY_STAFF,
        Role.GRID_WORKER,
        Role.DISPATCHER,
        Role.LEADER,
        Role.SOCIAL_WORKER,
        Role.ADMIN,
    }
)


def home_community_ids(user: User | None) -> set[int]:
    """Communities the user belongs to as a resident (cached on the user for the request)."""
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_commons_homes", None)
    if cached is not None:
        return cached
    from renzhi.commons.models import Residence

    places: list[Place] = [
        m.place for m in scope.memberships(user) if m.role in RESIDENT_ROLES and m.place
    ]
    if user.home_place_id:
        home = Place.objects.filter(pk=user.home_place_id).first()
        if home is not None:
            places.append(home)
    ids = {_community_of(p) for p in places}
    ids |= set(Residence.objects.filter(user=user).values_list("community_id", flat=True))
    ids.discard(None)
    user._commons_homes = ids  # type: ignore[attr-defined]
    return ids  # type: ignore[return-value]


def is_staff_of(user: User | None, community: Place) -> bool:
    """Community staff of this community, or a global administrator."""
    return scope.is_global_admin(user) or scope.covers(user, community, {Role.COMMUNITY_STAFF})


def is_staff_anywhere(user: User | None) -> bool:
    return scope.is_global_admin(user) or scope.has_role(user, Role.COMMUNITY_STAFF)


def approves_for_street(user: User | None, community: Place) -> bool:
    """A leader over the community's street (or above), or a global administrator."""
    if scope.is_global_admin(user):
        return True
    street = community.parent if community.parent_id else community
    return street is not None and scope.covers(user, street, {Role.LEADER})


def reads(user: User | None, community: Place) -> bool:
    """Sees the community's public life: a resident of it, or a reader over it."""
    return community.pk in home_community_ids(user) or scope.covers(user, community, READER_ROLES)


def is_resident_of(user: User | None, community: Place) -> bool:
    return community.pk in home_community_ids(user)


def is_elector(user: User | None, community: Place, building: str = "") -> bool:
    from renzhi.commons.models import Residence

    if user is None or not user.is_authenticated:
        return False
    qs = Residence.objects.filter(user=user, community=community, verified_at__isnull=False)
    if building:
        qs = qs.filter(building=building)
    return qs.exists()


# --- Menu rules ------------------------------------------------------------------------------


def may_take_part(user: User | None) -> bool:
    """Menu: residents and staff who have a community to take part in."""
    return bool(home_community_ids(user)) or may_read_commons(user)


def may_read_commons(user: User | None) -> bool:
    return scope.is_global_admin(user) or scope.has_role(user, *READER_ROLES)


def may_run_commons(user: User | None) -> bool:
    return is_staff_anywhere(user)


def _community_of(place: Place) -> int | None:
    if place.level == PlaceLevel.COMMUNITY:
        return place.pk
    if place.level == "grid":
        return place.parent_id
    return None
