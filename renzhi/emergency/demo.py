"""Demo data of the emergency app, loaded by `manage.py demo_city` after the appeals:
depots, stock, people and the vulnerable register first, then plans, shelters and one past
incident with its review (which uses the stock and people). Idempotent."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from renzhi.emergency import demo_incidents, demo_resources

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    demo_resources.load(city, report, say)
    demo_incidents.load(city, report, say)
