"""Menu entries of the commons app, merged into `renzhi.web.navigation.ENTRIES`.

Same shape as there: (label, url name, rule) where rule is None (any signed-in user), a core
`Perm`, or a predicate `rule(user) -> bool`. The same rule guards the page (`requires(rule)`).
Organisations, training and household records are reached from the hub page.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renzhi.commons import rules

ENTRIES: list[tuple[Any, str, Any]] = [
    (pgettext_lazy("commons menu", "Overview"), "commons:hub", rules.may_take_part),
    (_("Deliberation"), "commons:proposals", rules.may_take_part),
    (_("Activities"), "commons:activities", rules.may_take_part),
    (_("Time bank"), "commons:timebank", rules.may_take_part),
]
