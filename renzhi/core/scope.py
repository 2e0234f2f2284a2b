"""Data scope (数据权限): the one place that narrows a queryset to what an account may see.

Every staff queryset passes through `scope_queryset`. A membership contributes:
- a place-bound role: everything whose place code starts with the membership's place code
  (a grid, a community, a street or a district subtree);
- a unit handler: rows of its own unit (`unit_field`), or, for place lists, the places it covers;
- a resident: only rows they own (`owner_field`);
- a system administrator with no place: everything.
Anything else sees nothing. Rules are additive across a user's memberships.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from renzhi.core.models import Membership, Place, Role, User

M = TypeVar("M", bound=Model)

STAFF_ROLES = frozenset(Role) - {Role.RESIDENT}


def memberships(user: User | None) -> list[Membership]:
    """The user's memberships, cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_renzhi_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user).select_related("place", "unit").order_by("id")
        )
        user._renzhi_memberships = cached  # type: ignore[attr-defined]
    return cached


def roles(user: User | None) -> set[str]:
    return {m.role for m in memberships(user)}


def has_role(user: User | None, *wanted: str) -> bool:
    return bool(roles(user) & set(wanted))


def is_global_admin(user: User | None) -> bool:
    return any(m.role == Role.ADMIN and m.place_id is None for m in memberships(user))


def scope_filter(
    user: User | None,
    *,
    place_field: str | None = "place",
    unit_field: str | None = None,
    owner_field: str | None = None,
    code_field: str | None = None,
    roles_allowed: Iterable[str] | None = None,
) -> Q | None:
    """A Q selecting what `user` may see, or None when it may see everything.

    `place_field` is the path to a Place (use "" when the queryset is of Place itself);
    `code_field` instead names a denormalised place-code column (no join: large tables);
    `roles_allowed` limits which memberships count (e.g. only staff roles for a staff list).
    """
    if code_field is not None:
        place_field = None
    allowed = set(roles_allowed) if roles_allowed is not None else None
    condition = Q(pk__in=[])  # matches nothing
    for m in memberships(user):
        if allowed is not None and m.role not in allowed:
            continue
        if m.role == Role.ADMIN and m.place_id is None:
            return None
        if m.role == Role.RESIDENT:
            if owner_field is not None:
                condition |= Q(**{owner_field: user})
            continue
        if m.role == Role.UNIT_HANDLER:
            if unit_field is not None:
                condition |= Q(**{unit_field: m.unit_id})
            elif m.unit is not None and (place_field is not None or code_field is not None):
                for code in m.unit.places.values_list("code", flat=True):
                    condition |= _prefix(place_field, code, code_field)
            continue
        if m.place is not None and (place_field is not None or code_field is not None):
            condition |= _prefix(place_field, m.place.code, code_field)
    return condition


def scope_queryset(user: User | None, queryset: QuerySet[M], **kwargs) -> QuerySet[M]:
    condition = scope_filter(user, **kwargs)
    if condition is None:
        return queryset
    return (
        queryset.filter(condition).distinct()
        if _may_duplicate(kwargs)
        else queryset.filter(condition)
    )


def jurisdiction_codes(
    user: User | None, roles_allowed: Iterable[str] | None = None
) -> list[str] | None:
    """Code prefixes of the user's jurisdictions; None means unlimited (global admin)."""
    allowed = set(roles_allowed) if roles_allowed is not None else None
    codes: list[str] = []
    for m in memberships(user):
        if allowed is not None and m.role not in allowed:
            continue
        if m.role == Role.ADMIN and m.place_id is None:
            return None
        if m.place is not None and m.role != Role.RESIDENT:
            codes.append(m.place.code)
    return codes


def covers(user: User | None, place: Place, roles_allowed: Iterable[str] | None = None) -> bool:
    """True when `place` lies inside one of the user's jurisdictions."""
    codes = jurisdiction_codes(user, roles_allowed)
    return codes is None or any(place.code.startswith(c) for c in codes)


def _prefix(place_field: str | None, code: str, code_field: str | None = None) -> Q:
    if code_field is not None:
        return Q(**{f"{code_field}__startswith": code})
    key = f"{place_field}__code__startswith" if place_field else "code__startswith"
    return Q(**{key: code})


def _may_duplicate(kwargs: dict) -> bool:
    # Unit coverage is many-to-many; a place covered twice must still be listed once.
    field = kwargs.get("place_field") or ""
    return "__" in field
