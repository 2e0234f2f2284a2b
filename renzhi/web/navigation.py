"""The navigation shell: each role sees only the entries it may use.

`ENTRIES` is also the page access table: views guard themselves with `requires(rule)`
(renzhi.web.access) using the same rule, so a menu entry and its page never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from renzhi.appeals import context as appeal_pages
from renzhi.commons import nav as commons_nav
from renzhi.core import scope
from renzhi.core.permissions import Perm, has_perm
from renzhi.emergency import nav as emergency_nav
from renzhi.open311 import nav as open311_nav
from renzhi.triage import nav as triage_nav
from renzhi.warning import nav as warning_nav

# None: any signed-in user; a Perm: a role granting it; a callable: a custom rule.
Rule = Perm | Callable[..., bool] | None


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def may_read_audit(user) -> bool:
    """The audit chain spans every jurisdiction, so only a global administrator reads it."""
    return has_perm(user, Perm.VIEW_AUDIT) and scope.is_global_admin(user)


Entry = tuple[str | Promise, str, Rule]  # (label, url name, rule)

# The menu in sections; a section with one visible entry shows as a plain link, a section with
# several as a drop-down (on the phone: a fold-out list). Sections without a label are links.
SECTIONS: list[tuple[str | Promise | None, list[Entry]]] = [
    (None, [(_("Home"), "web:home", None)]),
    (
        _("Appeal handling"),
        [
            (_("Report a problem"), "appeals:new", appeal_pages.may_report),
            (_("My appeals"), "appeals:mine", appeal_pages.may_report),
            (_("Appeals"), "appeals:list", appeal_pages.may_work_appeals),
            (_("Hotline entry"), "appeals:hotline", appeal_pages.may_take_calls),
            (_("Patrol report"), "appeals:patrol", appeal_pages.may_patrol),
            *triage_nav.ENTRIES,
        ],
    ),
    (_("Early warning"), warning_nav.ENTRIES),
    (_("Emergency response"), emergency_nav.ENTRIES),
    (_("Self-governance"), commons_nav.ENTRIES),
    (None, [(_("Messages"), "appeals:inbox", None)]),
    (
        _("Administration"),
        [
            (_("Places"), "web:places", Perm.VIEW_PLACES),
            (_("Units"), "web:units", Perm.VIEW_UNITS),
            (_("Users"), "web:users", Perm.MANAGE_USERS),
            (_("Calendar"), "web:calendar", Perm.MANAGE_CALENDAR),
            (_("Audit"), "web:audit", may_read_audit),
            (_("API tokens"), "web:tokens", Perm.USE_API_TOKENS),
            *open311_nav.ENTRIES,
        ],
    ),
]

ENTRIES: list[Entry] = [entry for _section, entries in SECTIONS for entry in entries]


def allowed(user, rule: Rule) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if rule is None:
        return True
    if isinstance(rule, Perm):
        return has_perm(user, rule)
    return bool(rule(user))


@dataclass(frozen=True)
class NavGroup:
    """A menu section as the user sees it: `label` None or a single item means plain links."""

    label: str | None
    items: list[NavItem]

    @property
    def active(self) -> bool:
        return any(item.active for item in self.items)

    @property
    def folds(self) -> bool:
        return self.label is not None and len(self.items) > 1


def menu_for(user, path: str) -> list[NavGroup]:
    if user is None or not user.is_authenticated:
        return []
    sections = [
        (
            str(label) if label is not None else None,
            [(str(text), reverse(name)) for text, name, rule in entries if allowed(user, rule)],
        )
        for label, entries in SECTIONS
    ]
    urls = [url for _label, visible in sections for _text, url in visible]
    # Only the longest match is current: /appeals/hotline/ is "hotline", not also "appeals".
    matches = [url for url in urls if (path == url if url == "/" else path.startswith(url))]
    current = max(matches, key=len, default=None)
    return [
        NavGroup(label, [NavItem(text, url, url == current) for text, url in visible])
        for label, visible in sections
        if visible
    ]
