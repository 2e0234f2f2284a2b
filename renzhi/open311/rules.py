"""Who may open the adapter's admin pages (the navigation and the page guards share these)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from renzhi.core import scope
from renzhi.core.models import Role, User
from renzhi.open311.models import PartnerKey


def may_manage_keys(user: User | None) -> bool:
    """Administrators, global or of a street/district, issue and revoke partner keys."""
    return scope.has_role(user, Role.ADMIN)


def may_define_attributes(user: User | None) -> bool:
    """Categories are system-wide, so only a global administrator adds questions to them."""
    return scope.is_global_admin(user)


def keys_for(user: User | None) -> QuerySet[PartnerKey]:
    """A global admin sees every key; a place admin the keys limited to their places."""
    codes = scope.jurisdiction_codes(user, roles_allowed={Role.ADMIN})
    keys = PartnerKey.objects.select_related("place", "created_by")
    if codes is None:
        return keys
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(place__code__startswith=code)
    return keys.filter(condition)
