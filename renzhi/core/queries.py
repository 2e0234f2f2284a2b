"""Read side of core: scoped querysets for places, units and accounts."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from renzhi.core import scope
from renzhi.core.models import Membership, Place, Unit, User
from renzhi.core.permissions import Perm, has_perm


def places_for(user: User | None) -> QuerySet[Place]:
    if not has_perm(user, Perm.VIEW_PLACES):
        return Place.objects.none()
    return scope.scope_queryset(user, Place.objects.all(), place_field="")


def units_for(user: User | None) -> QuerySet[Unit]:
    """Units working in the user's jurisdiction; a unit handler sees its own unit."""
    if not has_perm(user, Perm.VIEW_UNITS):
        return Unit.objects.none()
    condition = scope.scope_filter(user, place_field="places", unit_field="pk")
    if condition is None:
        return Unit.objects.all()
    # A community's staff also sees units covering the street or district above it.
    codes = scope.jurisdiction_codes(user) or []
    for code in codes:
        ancestors = [code[:n] for n in (6, 9, 12) if n < len(code)]
        if ancestors:
            condition |= Q(places__code__in=ancestors)
    return Unit.objects.filter(condition).distinct()


def users_for(user: User | None) -> QuerySet[User]:
    """Accounts an administrator may manage: those with a role or home inside their jurisdiction."""
    if not has_perm(user, Perm.MANAGE_USERS):
        return User.objects.none()
    codes = scope.jurisdiction_codes(user, roles_allowed=["admin"])
    if codes is None:
        return User.objects.all()
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(home_place__code__startswith=code)
        condition |= Q(
            pk__in=Membership.objects.filter(place__code__startswith=code).values("user_id")
        )
        condition |= Q(
            pk__in=Membership.objects.filter(unit__places__code__startswith=code).values("user_id")
        )
    return User.objects.filter(condition)
