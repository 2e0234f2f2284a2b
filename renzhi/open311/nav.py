"""Menu entries of the open311 app, merged into `renzhi.web.navigation.ENTRIES`.

Same shape as there: (label, url name, rule) where rule is None (any signed-in user), a core
`Perm`, or a predicate `rule(user) -> bool`. The same rule guards the page (`requires(rule)`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from renzhi.open311 import rules

ENTRIES: list[tuple[Any, str, Any]] = [
    (_("Open311 partner keys"), "open311:keys", rules.may_manage_keys),
    (_("Open311 service attributes"), "open311:attributes", rules.may_define_attributes),
]
