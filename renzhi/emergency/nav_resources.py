"""Emergency menu entries (resources), merged by `renzhi.emergency.nav`."""

from __future__ import annotations

from typing import Any

ENTRIES: list[tuple[Any, str, Any]] = []
