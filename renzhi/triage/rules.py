"""Who may open which triage page (shared by the menu entries and the page guards)."""

from __future__ import annotations

from renzhi.core import scope
from renzhi.core.models import Role

TRIAGE_ROLES = (Role.DISPATCHER, Role.COMMUNITY_STAFF)
HOT_ROLES = (Role.DISPATCHER, Role.COMMUNITY_STAFF, Role.LEADER)


def may_triage(user) -> bool:
    """Street dispatchers and community staff work the triage queue of their jurisdiction."""
    return scope.has_role(user, *TRIAGE_ROLES)


def may_see_hot(user) -> bool:
    """Hot issues: those who can act on them (dispatchers, community staff, leaders)."""
    return scope.has_role(user, *HOT_ROLES) or scope.is_global_admin(user)


def may_manage_models(user) -> bool:
    """Model versions span every jurisdiction: the global system administrator only."""
    return scope.is_global_admin(user)
