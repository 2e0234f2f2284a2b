"""Emergency demo data (resources), called by `renzhi.emergency.demo.load`. Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    """Nothing yet."""
