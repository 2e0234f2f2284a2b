"""Read side of incidents, plans, tasks and shelters: the scoped querysets every page and API
endpoint goes through, so a list and its detail never disagree about who sees what.

An incident is visible to a reader when one of its affected places lies in the reader's
jurisdiction, or when it is run from a place that contains the reader's jurisdiction (a street
incident is seen by the staff of its communities).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from renzhi.core import scope
from renzhi.core.models import Role, User
from renzhi.emergency import rules
from renzhi.emergency.models import Incident, Plan, Shelter, Task


def incidents_for(user: User | None) -> QuerySet[Incident]:
    qs = Incident.objects.select_related("place")
    if not rules.may_view_incidents(user):
        return qs.none()
    if scope.is_global_admin(user):
        return qs
    codes = _codes(user, rules.INCIDENT_READERS)
    if not codes:
        return qs.none()
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(places__code__startswith=code) | Q(place__code__startswith=code)
        condition |= Q(place__code__in=_ancestors(code))
    return qs.filter(pk__in=Incident.objects.filter(condition).values("pk"))


def plans_for(user: User | None) -> QuerySet[Plan]:
    """Plans of the reader's jurisdiction and of the places above it (a community follows its
    street's plan too)."""
    qs = Plan.objects.select_related("place")
    if not rules.may_view_plans(user):
        return qs.none()
    if scope.is_global_admin(user):
        return qs
    codes = _codes(user, rules.PLAN_READERS)
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(place__code__startswith=code) | Q(place__code__in=_ancestors(code))
    return qs.filter(condition)


def tasks_for(user: User | None) -> QuerySet[Task]:
    """Tasks of the incidents the user sees, plus tasks assigned to the user or their unit."""
    if user is None or not user.is_authenticated:
        return Task.objects.none()
    units = [m.unit_id for m in scope.memberships(user) if m.role == Role.UNIT_HANDLER]
    mine = Q(assignee=user) | Q(unit_id__in=units)
    return Task.objects.filter(Q(incident__in=incidents_for(user)) | mine).select_related(
        "incident", "assignee", "unit", "place"
    )


def shelters_for(user: User | None) -> QuerySet[Shelter]:
    qs = Shelter.objects.select_related("place")
    if not rules.may_view_shelters(user):
        return qs.none()
    if scope.is_global_admin(user):
        return qs
    condition = Q(pk__in=[])
    for code in _codes(user, rules.SHELTER_DESK):
        condition |= Q(place__code__startswith=code) | Q(place__code__in=_ancestors(code))
    return qs.filter(condition)


def _codes(user, roles) -> list[str]:
    codes = scope.jurisdiction_codes(user, roles_allowed=roles) or []
    for m in scope.memberships(user):
        if m.role == Role.UNIT_HANDLER and m.role in roles and m.unit is not None:
            codes.extend(m.unit.places.values_list("code", flat=True))
    return codes


def _ancestors(code: str) -> list[str]:
    """Codes of the places containing `code` (6/9/12/15-digit levels)."""
    return [code[:n] for n in (6, 9, 12) if n < len(code)]
