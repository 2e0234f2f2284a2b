"""Menu entries of the warning app, merged into `renzhi.web.navigation.ENTRIES`.

Same shape as there: (label, url name, rule) where rule is None (any signed-in user), a core
`Perm`, or a predicate `rule(user) -> bool`. The same rule guards the page (`requires(rule)`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from renzhi.warning import rules


def _resident(user) -> bool:
    return rules.home_code(user) is not None


ENTRIES: list[tuple[Any, str, Any]] = [
    (_("Warnings near me"), "warning:mine", _resident),
    (_("Warnings"), "warning:list", rules.is_warning_staff),
    (_("Signals"), "warning:signals", rules.is_warning_staff),
    (_("Warning map"), "warning:map", rules.is_warning_staff),
]
