"""How domain objects read on screen: role and jurisdiction labels, audit verbs, place options.

Templates get names and codes from here, never raw database ids.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from renzhi.core import scope
from renzhi.core.models import Membership, Place, PlaceLevel, Role

# Audit verbs written by renzhi.core; later apps add theirs here. Unknown verbs show as written.
VERB_LABELS = {
    "auth.login": _("Signed in"),
    "auth.logout": _("Signed out"),
    "auth.login_failed": _("Failed sign-in"),
    "place.create": _("Created place"),
    "place.update": _("Changed place"),
    "unit.create": _("Created unit"),
    "user.register": _("Resident registered"),
    "user.create": _("Created account"),
    "user.set_password": _("Set password"),
    "user.activate": _("Activated account"),
    "user.deactivate": _("Deactivated account"),
    "membership.grant": _("Granted role"),
    "membership.revoke": _("Revoked role"),
    "token.issue": _("Issued API token"),
    "token.revoke": _("Revoked API token"),
    "calendar.override": _("Set calendar day"),
    "calendar.remove_override": _("Removed calendar day"),
}


def role_summary(user) -> list[str]:
    """The distinct role names a user holds, in the order of the Role enum."""
    held = scope.roles(user)
    return [str(label) for value, label in Role.choices if value in held]


def jurisdiction_label(m: Membership) -> str:
    if m.unit is not None:
        return m.unit.name
    if m.place is not None:
        return f"{m.place.get_level_display()} · {m.place.name}"
    if m.role == Role.ADMIN:
        return str(_("All places"))
    return str(_("No place"))


def membership_label(m: Membership) -> str:
    """Short form for lists: role and the name of its place or unit."""
    where = m.unit.name if m.unit else (m.place.name if m.place else jurisdiction_label(m))
    return f"{m.get_role_display()} · {where}"


def verb_label(verb: str) -> str:
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


def object_type_label(object_type: str) -> str:
    if not object_type:
        return ""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)


def place_choices(places, levels: set[str] | None = None) -> list:
    """Grouped <select> choices (one optgroup per level) of place codes, labelled name + code."""
    groups: dict[str, list[tuple[str, str]]] = {value: [] for value in PlaceLevel.values}
    for p in places:
        if levels is None or p.level in levels:
            groups[p.level].append((p.code, f"{p.name} ({p.code})"))
    return [(PlaceLevel(level).label, options) for level, options in groups.items() if options]


def place_tree(places: list[Place]) -> list[dict]:
    """Nest places in scope under their parents; places whose parent is out of scope are roots.

    Roots and the levels above community start unfolded; a community's grids start folded.
    """
    nodes: dict[int, dict] = {
        p.pk: {"place": p, "children": [], "open": p.level != PlaceLevel.COMMUNITY} for p in places
    }
    roots: list[dict] = []
    for p in places:
        parent = nodes.get(p.parent_id) if p.parent_id is not None else None
        (parent["children"] if parent else roots).append(nodes[p.pk])
    for root in roots:
        root["open"] = True
    return roots
