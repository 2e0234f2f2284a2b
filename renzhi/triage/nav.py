"""Menu entries of the triage app, merged into `renzhi.web.navigation.ENTRIES`.

Same shape as there: (label, url name, rule) where rule is None (any signed-in user), a core
`Perm`, or a predicate `rule(user) -> bool`. The same rule guards the page (`requires(rule)`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from renzhi.triage import rules

ENTRIES: list[tuple[Any, str, Any]] = [
    (_("Triage queue"), "triage:queue", rules.may_triage),
    (_("Hot issues"), "triage:hot", rules.may_see_hot),
    (_("Triage models"), "triage:models", rules.may_manage_models),
]
