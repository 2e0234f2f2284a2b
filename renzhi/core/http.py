"""Request types for views and API handlers that only run for a signed-in account."""

from __future__ import annotations

from django.http import HttpRequest

from renzhi.core.models import User


class AuthedRequest(HttpRequest):
    """A request behind login (pages) or API auth: `user` and `auth` are a real account."""

    user: User  # type: ignore[assignment]
    auth: User
