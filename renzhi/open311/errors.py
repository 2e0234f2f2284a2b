"""Refusals in the GeoReport v2 error format: HTTP 400/403/404 with a list of {code, description}.

The body's `code` is the HTTP status, except where a more specific number helps a client
(429: over the key's rate limit, still sent with HTTP 400 as the spec asks for "any other error").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse

from renzhi.open311.formats import Doc, respond


@dataclass(frozen=True)
class Problem:
    code: int
    description: str


class Open311Error(Exception):
    """A refused Open311 call; nothing was changed."""

    def __init__(self, status: int, *problems: Problem, headers: dict[str, str] | None = None):
        self.status = status
        self.problems = list(problems)
        self.headers = headers or {}
        super().__init__("; ".join(p.description for p in self.problems))

    @classmethod
    def simple(cls, status: int, description: str) -> Open311Error:
        return cls(status, Problem(status, description))


def error_response(error: Open311Error, fmt: str) -> HttpResponse:
    doc = Doc(
        "errors",
        [{"code": p.code, "description": str(p.description)} for p in error.problems],
        item="error",
    )
    response = respond(doc, fmt, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response
