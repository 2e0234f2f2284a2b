"""The navigation shell: each role sees only the entries it may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from renzhi.core.permissions import Perm, has_perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


# (label, url name, permission needed or None for any signed-in user)
ENTRIES = [
    (_("Home"), "web:home", None),
    (_("Places"), "web:places", Perm.VIEW_PLACES),
    (_("Units"), "web:units", Perm.VIEW_UNITS),
    (_("Users"), "web:users", Perm.MANAGE_USERS),
    (_("Calendar"), "web:calendar", Perm.MANAGE_CALENDAR),
    (_("Audit"), "web:audit", Perm.VIEW_AUDIT),
    (_("API tokens"), "web:tokens", Perm.USE_API_TOKENS),
]


def menu_for(user, path: str) -> list[NavItem]:
    if user is None or not user.is_authenticated:
        return []
    items = []
    for label, name, perm in ENTRIES:
        if perm is not None and not has_perm(user, perm):
            continue
        url = reverse(name)
        active = path == url if url == "/" else path.startswith(url)
        items.append(NavItem(str(label), url, active))
    return items
