"""Who may see and change reserves, people and the vulnerable register.

Depots and people are read "up and down the chain": an account sees what lies inside its
jurisdiction and the depots of the places it lies in (a community's staff sees its street's
depot to ask it for supplies; a grid worker sees its community's depot). Changing stock needs a
stock role whose jurisdiction contains the depot. The vulnerable register is stricter: only
community staff whose jurisdiction contains the resident, and the resident's paired helper.
Page rules take a user; object rules take a user and the object. Actions and pages call the
same predicates, so a button and its action never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q

from renzhi.core import scope
from renzhi.core.models import Place, Role

if TYPE_CHECKING:
    from renzhi.emergency.models import Depot, PersonProfile, VulnerableResident

# Roles that move stock (receive, issue, transfer, adjust, approve requests).
STOCK_KEEPERS = frozenset({Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.LEADER, Role.ADMIN})
# Roles that read depots and stock; grid workers and social workers also hand out supplies.
STOCK_READERS = STOCK_KEEPERS | {Role.GRID_WORKER, Role.SOCIAL_WORKER}
DISTRIBUTORS = STOCK_KEEPERS | {Role.GRID_WORKER, Role.SOCIAL_WORKER}
# Roles that manage people and send call-ups.
PEOPLE_MANAGERS = frozenset({Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.LEADER, Role.ADMIN})
PEOPLE_READERS = PEOPLE_MANAGERS | {Role.SOCIAL_WORKER}
# Roles that keep the vulnerable register of their community.
REGISTER_KEEPERS = frozenset({Role.COMMUNITY_STAFF})
# Roles a paired helper may have.
HELPER_ROLES = frozenset({Role.VOLUNTEER, Role.GRID_WORKER, Role.SOCIAL_WORKER})


# --- Page rules (user only) --------------------------------------------------------------------


def may_view_reserves(user) -> bool:
    return scope.has_role(user, *STOCK_READERS)


def may_keep_stock(user) -> bool:
    return scope.has_role(user, *STOCK_KEEPERS)


def may_view_people(user) -> bool:
    return scope.has_role(user, *PEOPLE_READERS)


def may_view_my_callups(user) -> bool:
    """Helpers and staff; a resident only once registered as a helper (a profile)."""
    if user is None or not user.is_authenticated:
        return False
    if scope.has_role(user, *HELPER_ROLES, *PEOPLE_MANAGERS):
        return True
    from renzhi.emergency.models import PersonProfile

    return PersonProfile.objects.filter(user=user).exists()


def may_view_register(user) -> bool:
    return scope.has_role(user, *REGISTER_KEEPERS, *HELPER_ROLES)


# --- Object rules ------------------------------------------------------------------------------


def may_see_depot(user, depot: Depot) -> bool:
    return _on_chain(user, depot.place, STOCK_READERS)


def may_keep_depot(user, depot: Depot) -> bool:
    return scope.covers(user, depot.place, STOCK_KEEPERS)


def may_distribute_from(user, depot: Depot) -> bool:
    return _on_chain(user, depot.place, DISTRIBUTORS) and _reaches_down(
        user, depot.place, DISTRIBUTORS
    )


def may_manage_person(user, profile: PersonProfile) -> bool:
    return scope.covers(user, profile.place, PEOPLE_MANAGERS)


def may_manage_place_people(user, place: Place) -> bool:
    return scope.covers(user, place, PEOPLE_MANAGERS)


def may_keep_register(user, place: Place) -> bool:
    return scope.covers(user, place, REGISTER_KEEPERS)


def may_see_resident(user, resident: VulnerableResident) -> bool:
    return resident.helper_id == getattr(user, "pk", None) or scope.covers(
        user, resident.place, REGISTER_KEEPERS
    )


# --- Querysets ---------------------------------------------------------------------------------


def depot_filter(user, place_field: str = "place") -> Q | None:
    """Q over depots (or rows with a depot place) visible to `user`; None means all."""
    if scope.is_global_admin(user):
        return None
    condition = Q(pk__in=[])
    for code in _codes(user, STOCK_READERS):
        condition |= Q(**{f"{place_field}__code__startswith": code})
        for length in (6, 9, 12):
            if len(code) > length:
                condition |= Q(**{f"{place_field}__code": code[:length]})
    return condition


def resident_filter(user) -> Q | None:
    """Q over vulnerable residents whose details `user` may see (never None: even the global
    administrator sees only what a community role gives it)."""
    condition = Q(helper=user) if user is not None and user.is_authenticated else Q(pk__in=[])
    for code in _codes(user, REGISTER_KEEPERS):
        condition |= Q(place_code__startswith=code)
    return condition


def people_filter(user, place_field: str = "place") -> Q | None:
    if scope.is_global_admin(user):
        return None
    condition = Q(pk__in=[])
    for code in _codes(user, PEOPLE_READERS):
        condition |= Q(**{f"{place_field}__code__startswith": code})
    return condition


def _codes(user, roles: Iterable[str]) -> list[str]:
    return [
        m.place.code
        for m in scope.memberships(user)
        if m.role in roles and m.place is not None and m.role != Role.RESIDENT
    ]


def _on_chain(user, place: Place, roles: Iterable[str]) -> bool:
    if scope.is_global_admin(user):
        return True
    return any(place.code.startswith(c) or c.startswith(place.code) for c in _codes(user, roles))


def _reaches_down(user, place: Place, roles: Iterable[str]) -> bool:
    """A community depot is used by its own community's people (staff and grid workers); a
    street depot hands out only through the street's keepers."""
    if scope.is_global_admin(user):
        return True
    return any(
        place.code.startswith(c) or (len(place.code) >= 12 and c.startswith(place.code))
        for c in _codes(user, roles)
    )


def may_manage_items(user) -> bool:
    """The item catalogue is shared by every depot; any stock keeper may add to it and correct
    it (a keeper meets a new kind of goods first). Changes are audited."""
    return may_keep_stock(user)
