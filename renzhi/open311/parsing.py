"""Reading what a GeoReport v2 client sends: W3C datetimes, numbers, and `attribute[code]`
answers checked against the service definition, datatype by datatype.

Every check returns or raises `Problem`s naming the parameter, so one response can list all
mistakes of a request at once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

from django.http import QueryDict
from django.utils.translation import gettext as _

from renzhi.core.workdays import LOCAL_TZ
from renzhi.open311.errors import Problem
from renzhi.open311.models import Datatype, ServiceAttribute

ATTRIBUTE_PARAM = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
W3C_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
MAX_STRING = 500
MAX_TEXT = 4000


def parse_datetime(value: str, param: str, *, end_of_day: bool = False) -> dt.datetime:
    """A W3C datetime with its offset (Z or ±HH:MM); a bare date is a Beijing calendar day.

    A datetime without an offset is refused: the spec says timezone information must be given.
    """
    value = (value or "").strip()
    if DATE_ONLY.match(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise _bad_datetime(param, value) from None
        start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
        return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end_of_day else start
    if not W3C_DATETIME.match(value):
        raise _bad_datetime(param, value)
    try:
        parsed = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise _bad_datetime(param, value) from None
    return parsed


class BadValue(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.description)


def _bad_datetime(param: str, value: str) -> BadValue:
    return BadValue(
        Problem(
            400,
            _(
                "%(param)s “%(value)s” is not a W3C datetime with a time zone, "
                "e.g. 2024-05-01T08:00:00+08:00."
            )
            % {"param": param, "value": value[:40]},
        )
    )


def parse_float(value: str, param: str) -> float:
    try:
        number = float((value or "").strip())
    except ValueError:
        raise BadValue(Problem(400, _("%(param)s must be a number.") % {"param": param})) from None
    if not math.isfinite(number):
        raise BadValue(Problem(400, _("%(param)s must be a number.") % {"param": param}))
    return number


def attribute_answers(data: QueryDict) -> dict[str, list[str]]:
    """`attribute[code]=v` and `attribute[code][]=v` pairs as code → values (repeats kept)."""
    answers: dict[str, list[str]] = {}
    for name in data:
        match = ATTRIBUTE_PARAM.match(name)
        if match:
            values = [v.strip() for v in data.getlist(name)]
            answers.setdefault(match.group(1).strip(), []).extend(v for v in values if v)
    return answers


def check_attributes(
    definition: Iterable[ServiceAttribute], answers: dict[str, list[str]]
) -> tuple[dict[str, object], list[Problem]]:
    """The answers cleaned per datatype, and every problem (missing, unknown, malformed)."""
    attributes = [a for a in definition if a.variable]
    known = {a.code for a in attributes}
    problems: list[Problem] = [
        Problem(400, _("attribute[%(code)s] is not an attribute of this service.") % {"code": c})
        for c in answers
        if c not in known
    ]
    cleaned: dict[str, object] = {}
    for attribute in attributes:
        values = answers.get(attribute.code, [])
        if not values:
            if attribute.required:
                problems.append(
                    Problem(
                        400,
                        _("attribute[%(code)s] is required: %(question)s")
                        % {"code": attribute.code, "question": attribute.description},
                    )
                )
            continue
        try:
            cleaned[attribute.code] = _clean(attribute, values)
        except BadValue as exc:
            problems.append(exc.problem)
    return cleaned, problems


def _clean(attribute: ServiceAttribute, values: list[str]) -> object:
    param = f"attribute[{attribute.code}]"
    kind = attribute.datatype
    if kind != Datatype.MULTI and len(values) > 1:
        raise BadValue(Problem(400, _("%(param)s takes one value.") % {"param": param}))
    value = values[0]
    if kind == Datatype.STRING:
        if "\n" in value or "\r" in value:
            raise BadValue(
                Problem(400, _("%(param)s must be one line of text.") % {"param": param})
            )
        return _limited(value, MAX_STRING, param)
    if kind == Datatype.TEXT:
        return _limited(value, MAX_TEXT, param)
    if kind == Datatype.NUMBER:
        number = parse_float(value, param)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == Datatype.DATETIME:
        if DATE_ONLY.match(value):
            return parse_datetime(value, param).date().isoformat()
        try:
            parsed = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            raise _bad_datetime(param, value) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=LOCAL_TZ)
        return parsed.astimezone(LOCAL_TZ).isoformat(timespec="seconds")
    keys = attribute.value_names()
    unknown = [v for v in values if v not in keys]
    if unknown:
        raise BadValue(
            Problem(
                400,
                _("%(param)s: “%(value)s” is not one of the listed values (%(keys)s).")
                % {"param": param, "value": unknown[0][:40], "keys": ", ".join(keys)},
            )
        )
    if kind == Datatype.SINGLE:
        return value
    return list(dict.fromkeys(values))


def _limited(value: str, limit: int, param: str) -> str:
    if len(value) > limit:
        raise BadValue(
            Problem(
                400,
                _("%(param)s is longer than %(n)d characters.") % {"param": param, "n": limit},
            )
        )
    return value
