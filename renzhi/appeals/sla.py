"""Service levels on working time: when an appeal must be signed for and resolved.

Deadlines count working hours on the holiday/调休 calendar (`renzhi.core.workdays`). Time spent
suspended does not count (deadlines move by the working hours the suspension covered), and an
approved extension adds working days to the resolve deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from renzhi.appeals.models import Appeal, Category, Priority, SlaRule
from renzhi.core.workdays import WorkCalendar

# Used when no rule matches: sign within 2 working hours, resolve within 5 working days;
# urgent: sign within 1 hour, resolve within 1 day.
FALLBACK = {Priority.NORMAL: (2.0, 5.0, 0.8), Priority.URGENT: (1.0, 1.0, 0.8)}


@dataclass(frozen=True)
class Sla:
    sign_hours: float
    resolve_days: float
    warn_ratio: float


def sla_for(category: Category | None, priority: str) -> Sla:
    candidates = [category.pk, category.parent_id] if category is not None else []
    rules = {r.category_id: r for r in SlaRule.objects.filter(priority=priority)}
    for key in [*candidates, None]:
        if key in rules:
            r = rules[key]
            return Sla(r.sign_hours, r.resolve_days, r.warn_ratio)
    sign, resolve, warn = FALLBACK.get(Priority(priority), FALLBACK[Priority.NORMAL])
    return Sla(sign, resolve, warn)


def deadlines(
    start: dt.datetime, sla: Sla, calendar: WorkCalendar | None = None
) -> tuple[dt.datetime, dt.datetime]:
    cal = calendar or WorkCalendar()
    sign = cal.add_working_hours(start, sla.sign_hours)
    resolve = cal.add_working_hours(start, sla.resolve_days * cal.hours_per_day)
    return sign, resolve


def extend(deadline: dt.datetime, days: float, calendar: WorkCalendar | None = None) -> dt.datetime:
    cal = calendar or WorkCalendar()
    return cal.add_working_hours(deadline, days * cal.hours_per_day)


def shift_for_suspension(
    appeal: Appeal,
    suspended_from: dt.datetime,
    resumed_at: dt.datetime,
    calendar: WorkCalendar | None = None,
) -> None:
    """Move open deadlines later by the working hours the suspension lasted."""
    cal = calendar or WorkCalendar()
    hours = cal.working_hours_between(suspended_from, resumed_at)
    if hours <= 0:
        return
    if appeal.sign_deadline and appeal.signed_at is None:
        appeal.sign_deadline = cal.add_working_hours(appeal.sign_deadline, hours)
    if appeal.resolve_deadline and appeal.resolved_at is None:
        appeal.resolve_deadline = cal.add_working_hours(appeal.resolve_deadline, hours)
