"""Working days and working hours on the Chinese calendar, for SLA deadlines.

Holidays and 调休 make-up working days come from the `chinesecalendar` package; an admin's
`CalendarOverride` wins over it, and covers years the package does not know yet (for those,
Monday–Friday is assumed). Working hours per day are `settings.RENZHI_WORKING_PERIODS` in
Asia/Shanghai local time. Every function accepts aware datetimes in any zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cached_property

import chinese_calendar
from django.conf import settings
from django.utils.translation import get_language

LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MAX_DAYS = 3660  # a deadline more than ten years away is a bug, not a plan


def is_working_day(day: dt.date, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or WorkCalendar()).is_working_day(day)


def add_working_hours(start: dt.datetime, hours: float, calendar: WorkCalendar | None = None) -> dt.datetime:
    """The moment when `hours` working hours have passed after `start` (local time, aware)."""
    return (calendar or WorkCalendar()).add_working_hours(start, hours)


def add_working_days(start: dt.datetime, days: int, calendar: WorkCalendar | None = None) -> dt.datetime:
    cal = calendar or WorkCalendar()
    return cal.add_working_hours(start, days * cal.hours_per_day)


def working_hours_between(a: dt.datetime, b: dt.datetime, calendar: WorkCalendar | None = None) -> float:
    """Working hours from a to b; negative when b is before a."""
    return (calendar or WorkCalendar()).working_hours_between(a, b)


def day_info(day: dt.date, calendar: WorkCalendar | None = None) -> dict:
    cal = calendar or WorkCalendar()
    name = None
    try:
        is_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        if holiday:
            enum = chinese_calendar.Holiday(holiday)
            name = enum.chinese if (get_language() or "zh").startswith("zh") else enum.value
    except NotImplementedError:
        pass
    override = cal.overrides.get(day)
    if override is not None and override[1]:
        name = override[1]
    return {"date": day, "is_working_day": cal.is_working_day(day), "holiday_name": name,
            "overridden": override is not None}


@dataclass
class WorkCalendar:
    """One read of the override table, reused for a whole computation."""

    periods: list[tuple[dt.time, dt.time]] | None = None

    def __post_init__(self) -> None:
        if self.periods is None:
            self.periods = [(dt.time.fromisoformat(a), dt.time.fromisoformat(b))
                            for a, b in settings.RENZHI_WORKING_PERIODS]

    @cached_property
    def overrides(self) -> dict[dt.date, tuple[bool, str]]:
        from renzhi.core.models import CalendarOverride

        return {o.date: (o.is_working_day, o.note) for o in CalendarOverride.objects.all()}

    @cached_property
    def hours_per_day(self) -> float:
        return sum(_seconds(a, b) for a, b in self.periods) / 3600

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day][0]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        if hours < 0:
            raise ValueError("hours must not be negative")
        local = _local(start)
        remaining = round(hours * 3600, 6)
        if remaining == 0:
            return local
        day = local.date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                for begin, end in self._day_periods(day):
                    if end <= local:
                        continue
                    begin = max(begin, local)
                    available = (end - begin).total_seconds()
                    if remaining <= available:
                        return begin + dt.timedelta(seconds=remaining)
                    remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("deadline more than ten years away")

    def working_hours_between(self, a: dt.datetime, b: dt.datetime) -> float:
        if b < a:
            return -self.working_hours_between(b, a)
        a, b = _local(a), _local(b)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for begin, end in self._day_periods(day):
                    overlap = (min(end, b) - max(begin, a)).total_seconds()
                    if overlap > 0:
                        total += overlap
            day += dt.timedelta(days=1)
        return total / 3600

    def _day_periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        return [(dt.datetime.combine(day, a, LOCAL_TZ), dt.datetime.combine(day, b, LOCAL_TZ))
                for a, b in self.periods or []]


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(LOCAL_TZ)


def _seconds(a: dt.time, b: dt.time) -> float:
    return (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)).total_seconds()
