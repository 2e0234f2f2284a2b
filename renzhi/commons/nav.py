"""Menu entries of the commons app, merged into `renzhi.web.navigation.ENTRIES`.

Same shape as there: (label, url name, rule) where rule is None (any signed-in user), a core
`Perm`, or a predicate `rule(user) -> bool`. The same rule guards the page (`requires(rule)`).
"""

from __future__ import annotations

from typing import Any

ENTRIES: list[tuple[Any, str, Any]] = []
