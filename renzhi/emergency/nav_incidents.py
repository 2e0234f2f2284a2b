"""Emergency menu entries (incidents), merged by `renzhi.emergency.nav`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from renzhi.emergency import rules

ENTRIES: list[tuple[Any, str, Any]] = [
    (_("Emergency dashboard"), "emergency:dashboard", rules.may_view_dashboard),
    (_("Incidents"), "emergency:incidents", rules.may_view_incidents),
    (_("My tasks"), "emergency:tasks", rules.may_view_my_tasks),
    (_("Plans"), "emergency:plans", rules.may_view_plans),
    (_("Shelters"), "emergency:shelters", rules.may_view_shelters),
]
