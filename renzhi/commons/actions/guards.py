"""Shared steps of the commons actions: refusals with a named field, row locks, text checks."""

from __future__ import annotations

from typing import NoReturn, TypeVar

from django.db.models import Model
from django.utils.translation import gettext as _

from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused

M = TypeVar("M", bound=Model)


def refuse(message: str, field: str | None = None, code: ErrorCode = ErrorCode.INVALID) -> NoReturn:
    raise ActionError(message, field=field, code=code)


def forbid(message: str, field: str | None = None) -> NoReturn:
    raise PermissionRefused(message, field=field)


def locked(obj: M) -> M:
    """Re-read `obj` under a row lock: the state checked next is the state that is changed."""
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)  # type: ignore[attr-defined]


def text(value: str | None, field: str, *, max_length: int, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        refuse(_("This field is required."), field, ErrorCode.REQUIRED)
    if len(cleaned) > max_length:
        refuse(_("At most %(n)d characters, please.") % {"n": max_length}, field, ErrorCode.INVALID)
    return cleaned


def wrong_state(field: str = "status") -> NoReturn:
    refuse(_("This step is not possible in the current state."), field, ErrorCode.INVALID_STATE)
