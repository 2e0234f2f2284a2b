"""Working days and working hours on the Chinese calendar, for SLA deadlines.

Holidays and 调休 make-up working days come from the `chinesecalendar` package; an admin's
`CalendarOverride` wins over it, and covers years the package does not know yet (for those,
Monday–Friday is assumed). Working hours per day are `settings.RENZHI_WORKING_PERIODS` in
Asia/Shanghai local time. Every function accepts aware datetimes in any zone.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from functools import cached_property

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from renzhi.core.errors import ActionError

LOCAL_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MAX_DAYS = 3660  # a deadline more than ten years away is a bug, not a plan


class CalendarInputError(ActionError, ValueError):
    """Bad input to a calendar computation.

    A ValueError to Python callers; an ActionError so the API answers 400 naming the field
    instead of failing with 500.
    """


def is_working_day(day: dt.date, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or WorkCalendar()).is_working_day(day)


def add_working_hours(
    start: dt.datetime, hours: float, calendar: WorkCalendar | None = None
) -> dt.datetime:
    """The moment when `hours` working hours have passed after `start` (local time, aware)."""
    return (calendar or WorkCalendar()).add_working_hours(start, hours)


def add_working_days(
    start: dt.datetime, days: int, calendar: WorkCalendar | None = None
) -> dt.datetime:
    cal = calendar or WorkCalendar()
    return cal.add_working_hours(start, days * cal.hours_per_day)


def working_hours_between(
    a: dt.datetime, b: dt.datetime, calendar: WorkCalendar | None = None
) -> float:
    """Working hours from a to b; negative when b is before a."""
    return (calendar or WorkCalendar()).working_hours_between(a, b)


def day_info(day: dt.date, calendar: WorkCalendar | None = None) -> dict:
    cal = calendar or WorkCalendar()
    name = None
    try:
        is_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        if holiday:
            enum = chinese_calendar.Holiday(holiday)
            chinese = (get_language() or "zh").startswith("zh")
            name = enum.chinese if chinese else enum.value
            if not is_holiday:  # a 调休 Saturday or Sunday worked in exchange for the holiday
                name = f"{name}调休" if chinese else f"{name} (make-up working day)"
    except NotImplementedError:
        pass
    override = cal.overrides.get(day)
    if override is not None and override[1]:
        name = override[1]
    return {
        "date": day,
        "is_working_day": cal.is_working_day(day),
        "holiday_name": name,
        "overridden": override is not None,
    }


@dataclass
class WorkCalendar:
    """One read of the override table, reused for a whole computation."""

    periods: list[tuple[dt.time, dt.time]] | None = None
    # Answers per day for this computation: deadlines walk the same days many times.
    _days: dict[dt.date, bool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.periods is None:
            self.periods = [
                (dt.time.fromisoformat(a), dt.time.fromisoformat(b))
                for a, b in settings.RENZHI_WORKING_PERIODS
            ]
        # A period ending before it starts would make every deadline loop for ten years.
        previous_end = dt.time.min
        for begin, end in self.periods:
            if not previous_end <= begin < end:
                raise ImproperlyConfigured(
                    "RENZHI_WORKING_PERIODS must be ordered, non-overlapping (start, end) pairs"
                )
            previous_end = end

    @cached_property
    def overrides(self) -> dict[dt.date, tuple[bool, str]]:
        from renzhi.core.models import CalendarOverride

        return {o.date: (o.is_working_day, o.note) for o in CalendarOverride.objects.all()}

    @cached_property
    def hours_per_day(self) -> float:
        return sum((_seconds(a, b) for a, b in self.periods or []), 0.0) / 3600

    def is_working_day(self, day: dt.date) -> bool:
        cached = self._days.get(day)
        if cached is None:
            cached = self._days[day] = self._is_working_day(day)
        return cached

    def _is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day][0]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        if not math.isfinite(hours) or hours < 0:
            raise CalendarInputError(_("Hours must be zero or more."), field="hours")
        local = _local(start, "start")
        remaining = round(hours * 3600, 6)
        if remaining == 0:
            return local
        day = local.date()
        for _day_number in range(MAX_DAYS):
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
        raise CalendarInputError(
            _("The deadline would be more than ten years away."), field="hours"
        )

    def working_hours_between(self, a: dt.datetime, b: dt.datetime) -> float:
        # Convert first: comparing a naive with an aware datetime would raise TypeError.
        a, b = _local(a, "start"), _local(b, "end")
        if b < a:
            return -self.working_hours_between(b, a)
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
        return [
            (dt.datetime.combine(day, a, LOCAL_TZ), dt.datetime.combine(day, b, LOCAL_TZ))
            for a, b in self.periods or []
        ]


def _local(moment: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise CalendarInputError(_("Please give a date and time."), field=field)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarInputError(
            _("Please give the time with its time zone (e.g. +08:00)."), field=field
        )
    return moment.astimezone(LOCAL_TZ)


def _seconds(a: dt.time, b: dt.time) -> float:
    return (
        dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)
    ).total_seconds()
