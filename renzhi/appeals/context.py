"""Who may open which appeals page, and the inbox count for the page header.

The rules are shared by the navigation entries (`renzhi.web.navigation.ENTRIES`) and the page
guards of `renzhi.appeals.views` (`requires(rule)`), so a menu entry and its page never
disagree. This module imports nothing from `renzhi.web`, so the navigation may import it.
"""

from __future__ import annotations

from renzhi.appeals import queries
from renzhi.core import scope
from renzhi.core.models import Notification, Role


def may_report(user) -> bool:
    """Residents raise appeals on the web form and follow their own."""
    return scope.has_role(user, Role.RESIDENT)


def may_work_appeals(user) -> bool:
    """Staff and units: the lists of appeals in their scope."""
    return queries.is_staff_viewer(user)


def may_take_calls(user) -> bool:
    """Hotline entry (接线录入): community staff and street dispatchers."""
    return scope.has_role(user, Role.COMMUNITY_STAFF, Role.DISPATCHER)


def may_patrol(user) -> bool:
    """Patrol report (巡查上报): grid workers."""
    return scope.has_role(user, Role.GRID_WORKER)


def inbox(request) -> dict:
    """Context processor (`renzhi.appeals.context.inbox`): `inbox_unread`, counted only when a
    template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:
        return Notification.objects.filter(user=user, read_at=None).count()

    return {"inbox_unread": unread}
