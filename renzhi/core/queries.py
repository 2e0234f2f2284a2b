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
    """Accounts an administrator may manage: those lying WHOLLY inside their jurisdiction.

    Every membership (place-bound role, or unit whose places are all covered) and the home place
    must fall inside one of the administrator's places. One role or a home inside is not enough:
    otherwise a street administrator could take over a district leader who merely volunteers in
    their street (issue 23 #1). A global administrator manages everyone.
    """
    if not has_perm(user, Perm.MANAGE_USERS):
        return User.objects.none()
    codes = scope.jurisdiction_codes(user, roles_allowed=["admin"])
    if codes is None:
        return User.objects.all()
    covered_place = Q(pk__in=[])
    touches = Q(pk__in=[])
    for code in codes:
        covered_place |= Q(code__startswith=code)
        touches |= Q(home_place__code__startswith=code)
        touches |= Q(
            pk__in=Membership.objects.filter(place__code__startswith=code).values("user_id")
        )
        touches |= Q(
            pk__in=Membership.objects.filter(unit__places__code__startswith=code).values("user_id")
        )
    covered_places = Place.objects.filter(covered_place)
    # A unit is covered when it serves at least one place and all its places are covered.
    uncovered_units = Unit.objects.exclude(
        pk__in=Unit.objects.filter(places__isnull=False)
        .exclude(places__in=Place.objects.exclude(covered_place))
        .values("pk")
    )
    outside = Membership.objects.filter(
        Q(unit__isnull=True) & ~Q(place__in=covered_places)
        | Q(place__isnull=True, unit__isnull=True)
    ) | Membership.objects.filter(unit__in=uncovered_units)
    return (
        User.objects.filter(touches)
        .exclude(pk__in=outside.values("user_id"))
        .exclude(Q(home_place__isnull=False) & ~Q(home_place__in=covered_places))
    )
