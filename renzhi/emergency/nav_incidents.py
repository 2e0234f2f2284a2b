"""Emergency menu entries (incidents), merged by `renzhi.emergency.nav`."""

from __future__ import annotations

from typing import Any

ENTRIES: list[tuple[Any, str, Any]] = []
