"""Read side of appeals: scoped querysets and the timeline each viewer may see."""

from __future__ import annotations

from django.db.models import QuerySet

from renzhi.appeals.models import Appeal, AppealEvent, Category
from renzhi.core import scope
from renzhi.core.models import Role, User

# Roles that see appeals: residents their own, units their own cases, staff their jurisdiction.
APPEAL_ROLES = {Role.RESIDENT, Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.DISPATCHER,
                Role.LEADER, Role.UNIT_HANDLER, Role.ADMIN}
# Roles allowed to see contact phone numbers unmasked.
PHONE_ROLES = {Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.UNIT_HANDLER, Role.GRID_WORKER}


def appeals_for(user: User | None) -> QuerySet[Appeal]:
    return scope.scope_queryset(
        user, Appeal.objects.all(), code_field="place_code", unit_field="unit",
        owner_field="resident", roles_allowed=APPEAL_ROLES,
    )


def is_staff_viewer(user: User | None) -> bool:
    return bool(scope.roles(user) & (APPEAL_ROLES - {Role.RESIDENT}))


def may_see_phone(user: User | None, appeal: Appeal) -> bool:
    if appeal.resident_id is not None and user is not None and appeal.resident_id == user.pk:
        return True
    return bool(scope.roles(user) & PHONE_ROLES)


def timeline_for(user: User | None, appeal: Appeal) -> QuerySet[AppealEvent]:
    """Staff and units see every step; the resident sees the public steps only."""
    events = appeal.events.select_related("actor", "unit").prefetch_related("attachments")
    if is_staff_viewer(user):
        return events.order_by("at", "id")
    return events.filter(public=True).order_by("at", "id")


def public_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True, public=True).select_related("parent")
