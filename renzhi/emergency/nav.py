"""Menu entries of the emergency app, merged into `renzhi.web.navigation.ENTRIES`."""

from __future__ import annotations

from typing import Any

from renzhi.emergency import nav_incidents, nav_resources

ENTRIES: list[tuple[Any, str, Any]] = [*nav_incidents.ENTRIES, *nav_resources.ENTRIES]
