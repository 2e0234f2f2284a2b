"""What each role may do (功能权限). Where it may do it is `renzhi.core.scope`.

`require(actor, perm, place)` is the check every action makes before changing anything.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _

from renzhi.core import scope
from renzhi.core.errors import ErrorCode, PermissionRefused
from renzhi.core.models import Place, Role, User


class Perm(StrEnum):
    VIEW_PLACES = "view_places"
    MANAGE_PLACES = "manage_places"
    VIEW_UNITS = "view_units"
    MANAGE_UNITS = "manage_units"
    MANAGE_USERS = "manage_users"
    MANAGE_CALENDAR = "manage_calendar"
    VIEW_AUDIT = "view_audit"
    USE_API_TOKENS = "use_api_tokens"


_STAFF_VIEW = {Perm.VIEW_PLACES, Perm.VIEW_UNITS, Perm.USE_API_TOKENS}

ROLE_PERMS: dict[str, set[Perm]] = {
    Role.RESIDENT: set(),
    Role.GRID_WORKER: _STAFF_VIEW,
    Role.COMMUNITY_STAFF: _STAFF_VIEW,
    Role.DISPATCHER: _STAFF_VIEW,
    Role.UNIT_HANDLER: _STAFF_VIEW,
    Role.LEADER: _STAFF_VIEW,
    Role.ORG_ADMIN: set(),
    Role.VOLUNTEER: set(),
    Role.SOCIAL_WORKER: {Perm.VIEW_PLACES},
    Role.ADMIN: set(Perm),
}


def has_perm(user: User | None, perm: Perm, place: Place | None = None) -> bool:
    """True when one of the user's memberships grants `perm` (over `place`, when given)."""
    for m in scope.memberships(user):
        if perm not in ROLE_PERMS.get(m.role, set()):
            continue
        if place is None:
            return True
        if m.role == Role.ADMIN and m.place_id is None:
            return True
        if m.place is not None and place.code.startswith(m.place.code):
            return True
        if m.unit is not None and m.unit.places.filter(code__in=_prefixes(place.code)).exists():
            return True
    return False


def require(user: User | None, perm: Perm, place: Place | None = None) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionRefused(_("Please log in first."))
    if not has_perm(user, perm, place):
        if place is not None and has_perm(user, perm):
            raise PermissionRefused(
                _("“%(place)s” is outside your jurisdiction.") % {"place": place.name}
            )
        raise PermissionRefused(_("Your role does not allow this action."))


def _prefixes(code: str) -> list[str]:
    return [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]


__all__ = ["ErrorCode", "Perm", "has_perm", "require"]
