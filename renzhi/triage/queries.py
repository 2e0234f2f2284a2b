"""Read side of triage: the scoped triage queue and hot issues."""

from __future__ import annotations

from django.db.models import QuerySet

from renzhi.appeals.models import Appeal, State
from renzhi.core import scope
from renzhi.core.models import User
from renzhi.triage.models import HotIssue
from renzhi.triage.rules import HOT_ROLES, TRIAGE_ROLES

WAITING = [State.RECEIVED, State.ACCEPTED]


def queue_for(user: User | None) -> QuerySet[Appeal]:
    """Appeals waiting for a unit in the user's jurisdiction: urgent first, then oldest."""
    qs = Appeal.objects.filter(state__in=WAITING, unit__isnull=True)
    qs = scope.scope_queryset(user, qs, code_field="place_code", roles_allowed=TRIAGE_ROLES)
    if not scope.has_role(user, *TRIAGE_ROLES):
        return qs.none()
    return qs.select_related("category", "community", "street").order_by(
        "-priority", "received_at", "pk"
    )


def hot_issues_for(user: User | None) -> QuerySet[HotIssue]:
    qs = HotIssue.objects.filter(current=True)
    if scope.is_global_admin(user):
        return qs.select_related("category", "community", "street").order_by("rank")
    qs = scope.scope_queryset(user, qs, code_field="place_code", roles_allowed=HOT_ROLES)
    return qs.select_related("category", "community", "street").order_by("rank")
