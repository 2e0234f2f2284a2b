"""Shared steps of the commons actions: refusals with a named field, row locks, text and
date checks."""

from __future__ import annotations

import datetime as dt
from typing import NoReturn, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.text import check_text

M = TypeVar("M", bound=Model)


def refuse(message: str, field: str | None = None, code: ErrorCode = ErrorCode.INVALID) -> NoReturn:
    raise ActionError(message, field=field, code=code)


def forbid(message: str, field: str | None = None) -> NoReturn:
    raise PermissionRefused(message, field=field)


def locked(obj: M) -> M:
    """Re-read `obj` under a row lock: the state checked next is the state that is changed."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)  # type: ignore[attr-defined]


def text(
    value: str | None,
    field: str,
    *,
    max_length: int,
    required: bool = True,
    multiline: bool | None = None,
) -> str:
    """The text cleaned by `renzhi.core.text` (NFKC, no invisible or control characters).

    Every commons action takes its text through here, so the pages and the API get the same
    checks, and a duplicate-name check compares normalised names. Fields longer than 200
    characters are taken as multi-line unless `multiline` says otherwise.
    """
    try:
        return check_text(
            value or "",
            max_length=max_length,
            multiline=max_length > 200 if multiline is None else multiline,
            required=required,
        )
    except ValidationError as exc:
        code = ErrorCode.REQUIRED if exc.code == "required" else ErrorCode.INVALID
        refuse(" ".join(exc.messages), field, code)


# Dates in the commons are about community life: nothing is planned or recorded further than
# this from today (an activity in 9999 once broke the activity list for everyone).
HORIZON = dt.timedelta(days=5 * 365)


def moment(
    value: dt.datetime | None,
    field: str,
    *,
    past: dt.timedelta = HORIZON,
    future: dt.timedelta = HORIZON,
) -> dt.datetime:
    """`value` (made aware in the current time zone) if it lies within now − past … now + future."""
    if not isinstance(value, dt.datetime):
        refuse(_("Please enter a valid date and time."), field, ErrorCode.REQUIRED)
    if timezone.is_naive(value):
        try:
            value = timezone.make_aware(value)
        except (ValueError, OverflowError):
            refuse(_("Please enter a valid date and time."), field)
    now = timezone.now()
    earliest, latest = now - past, now + future
    try:
        within = earliest <= value <= latest
    except OverflowError:  # 0001-01-01 in a zone east of UTC
        within = False
    if not within:
        refuse(
            _("Enter a date and time between %(start)s and %(end)s.")
            % {
                "start": formats.date_format(timezone.localtime(earliest), "SHORT_DATETIME_FORMAT"),
                "end": formats.date_format(timezone.localtime(latest), "SHORT_DATETIME_FORMAT"),
            },
            field,
        )
    return value


def day(
    value: dt.date | None,
    field: str,
    *,
    past: dt.timedelta = HORIZON,
    future: dt.timedelta = HORIZON,
) -> dt.date:
    """`value` if the date lies within today − past … today + future."""
    if not isinstance(value, dt.date):
        refuse(_("Please enter a valid date (YYYY-MM-DD)."), field, ErrorCode.REQUIRED)
    today = timezone.localdate()
    earliest, latest = today - past, today + future
    if not earliest <= value <= latest:
        refuse(
            _("Enter a date between %(start)s and %(end)s.")
            % {
                "start": formats.date_format(earliest, "SHORT_DATE_FORMAT"),
                "end": formats.date_format(latest, "SHORT_DATE_FORMAT"),
            },
            field,
        )
    return value


def wrong_state(field: str = "status") -> NoReturn:
    refuse(_("This step is not possible in the current state."), field, ErrorCode.INVALID_STATE)
