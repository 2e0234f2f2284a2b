"""Bounds on dates and times people type, and a guard for values stored before the bounds.

A warning expiring in 9999 made every page that showed it answer 500 (issue 23 #4): shown in
Beijing time, 9999-12-31 23:59 UTC is past the last date Python can hold. Every date or time
input is therefore checked against `now ± 5 years` (or a tighter window the domain gives) at
the schema/form and the action layer, with a message naming the field. `displayable` keeps a
value stored out of range (before these checks, or by hand in the database) from breaking a
page: it is shown at the edge of the window the model allows instead.
"""

from __future__ import annotations

import datetime as dt

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from renzhi.core.errors import ErrorCode, FieldError

YEAR = dt.timedelta(days=365)
DEFAULT_SPAN = 5 * YEAR

# Beyond these, converting to any local time zone can overflow Python's datetime.
SAFE_MIN = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
SAFE_MAX = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def check_moment(
    field: str,
    value: dt.datetime | dt.date | None,
    *,
    past: dt.timedelta = DEFAULT_SPAN,
    future: dt.timedelta = DEFAULT_SPAN,
    now: dt.datetime | None = None,
) -> FieldError | None:
    """A field error if `value` lies outside `[now - past, now + future]`, else None.

    A date (not a datetime) is compared by its day in local time.
    """
    if value is None:
        return None
    now = now or timezone.now()
    earliest, latest = now - past, now + future
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        inside = earliest <= value <= latest
    else:
        inside = timezone.localdate(earliest) <= value <= timezone.localdate(latest)
    if inside:
        return None
    return FieldError(
        field,
        ErrorCode.INVALID,
        _("Choose a time between %(start)s and %(end)s.")
        % {
            "start": formats.date_format(timezone.localdate(earliest), "Y-m-d"),
            "end": formats.date_format(timezone.localdate(latest), "Y-m-d"),
        },
    )


def moment_errors(
    checks: list[tuple[str, dt.datetime | dt.date | None, dt.timedelta, dt.timedelta]],
) -> list[FieldError]:
    """`check_moment` over (field, value, past, future) rows; the errors found."""
    found = [
        check_moment(name, value, past=past, future=future) for name, value, past, future in checks
    ]
    return [e for e in found if e is not None]


def displayable(value: dt.datetime | None) -> dt.datetime | None:
    """`value` clamped into the range every time zone can show (None stays None)."""
    if value is None:
        return None
    if timezone.is_naive(value):
        return value
    return min(max(value, SAFE_MIN), SAFE_MAX)
