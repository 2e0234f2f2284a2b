"""Errors that actions raise for the user's mistakes.

Views show them next to the named field; the API returns them as
`{"detail": [{"field": …, "code": …, "message": …}]}` with HTTP 400 (403 / 404 / 409 by code).
Messages are translated at raise time, in the requester's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    OUT_OF_SCOPE = "out_of_scope"
    OUT_OF_AREA = "out_of_area"
    INVALID_STATE = "invalid_state"
    WEAK_PASSWORD = "weak_password"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"


HTTP_STATUS = {
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.OUT_OF_SCOPE: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.INVALID_STATE: 409,
    ErrorCode.RATE_LIMITED: 429,
}


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: ErrorCode
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": str(self.code), "message": str(self.message)}


class ActionError(Exception):
    """A refused action. Carries one or more field errors; nothing was changed."""

    def __init__(
        self,
        message: str = "",
        *,
        field: str | None = None,
        code: ErrorCode = ErrorCode.INVALID,
        errors: list[FieldError] | None = None,
    ):
        self.errors = errors or [FieldError(field, code, str(message))]
        super().__init__(
            "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in self.errors)
        )

    @property
    def status(self) -> int:
        return max(HTTP_STATUS.get(e.code, 400) for e in self.errors)

    def as_dict(self) -> dict:
        return {"detail": [e.as_dict() for e in self.errors]}


class Throttled(ActionError):
    """Too many requests of one kind in a window; `retry_after` seconds until one is allowed.

    The API answers 429 with a `Retry-After` header; pages show the message on the form."""

    def __init__(self, message: str, *, retry_after: int, field: str | None = None):
        super().__init__(message, field=field, code=ErrorCode.RATE_LIMITED)
        self.retry_after = max(1, int(retry_after))


class PermissionRefused(ActionError):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, field=field, code=ErrorCode.FORBIDDEN)


@contextmanager
def fields_renamed(mapping: dict[str, str]) -> Iterator[None]:
    """Report an action's field names as the API's input names (e.g. parent → parent_code)."""
    try:
        yield
    except ActionError as exc:
        exc.errors = [
            FieldError(mapping.get(e.field or "", e.field), e.code, e.message) for e in exc.errors
        ]
        raise
