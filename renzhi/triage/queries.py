"""Read side of triage: the scoped triage queue and hot issues."""

from __future__ import annotations

from django.db.models import QuerySet

from renzhi.appeals.models import Appeal, State
from renzhi.core import scope
from renzhi.core.models import User
from renzhi.triage.models import HotIssue
from renzhi.triage.rules import HOT_ROLES, TRIAGE_ROLES, may_see_hot

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


def hot_issue_for(user: User | None, value: object) -> HotIssue | None:
    """One hot issue by id for a pre-filled form (`?hot_issue=<id>` on the incident, warning and
    proposal forms), or None when the id is malformed, unknown or outside what the user may see.

    The same people and places as the hot-issues page (HOT_ROLES within their jurisdiction, the
    global administrator everywhere): a hot issue's title and figures come from residents'
    appeals, so a form must not show one the user could not open on that page. Past refreshes
    count too (a link may outlive the next refresh), unlike `hot_issues_for`. Apps below triage
    reach this through the RENZHI_HOT_ISSUE_LOOKUP setting, without importing triage."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 18 or not may_see_hot(user):
        return None
    qs = HotIssue.objects.select_related("community", "street")
    if not scope.is_global_admin(user):
        qs = scope.scope_queryset(user, qs, code_field="place_code", roles_allowed=HOT_ROLES)
    return qs.filter(pk=int(text)).first()
