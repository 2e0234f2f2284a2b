"""Shared steps of the commons actions: refusals with a named field, row locks, text checks."""

from __future__ import annotations

from typing import NoReturn, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model
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


def wrong_state(field: str = "status") -> NoReturn:
    refuse(_("This step is not possible in the current state."), field, ErrorCode.INVALID_STATE)
