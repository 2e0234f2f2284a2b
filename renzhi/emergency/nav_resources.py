"""Emergency menu entries (resources), merged by `renzhi.emergency.nav`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from renzhi.emergency import rules_resources as rules

ENTRIES: list[tuple[Any, str, Any]] = [
    (_("Reserves"), "emergency:stock", rules.may_view_reserves),
    (_("Supply requests"), "emergency:requests", rules.may_view_reserves),
    (_("Distributions"), "emergency:distributions", rules.may_view_reserves),
    (_("People"), "emergency:people", rules.may_view_people),
    (_("My call-ups"), "emergency:callups", rules.may_view_my_callups),
    (_("Vulnerable residents"), "emergency:vulnerable", rules.may_view_register),
]
