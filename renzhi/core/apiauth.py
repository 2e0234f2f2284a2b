"""API authentication: bearer tokens for systems, the Django session (with CSRF) for the browser."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from renzhi.core import signin_throttle
from renzhi.core.actions import TOKEN_PREFIX, hash_token
from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer rz_…`. Revoked tokens and inactive accounts are refused.

    Every wrong key counts as a failed sign-in of the client address (django-axes); a locked
    address is refused with 429 before any key is looked up.
    """

    def authenticate(self, request, token: str):
        if not token:
            return None
        credentials = signin_throttle.channel_credentials("api_token")
        if not signin_throttle.is_allowed(request, credentials):
            raise ActionError(signin_throttle.lockout_message(), code=ErrorCode.RATE_LIMITED)
        api_token = None
        if token.startswith(TOKEN_PREFIX):
            api_token = (
                ApiToken.objects.select_related("user")
                .filter(key_hash=hash_token(token), revoked_at=None)
                .first()
            )
        if api_token is None or not api_token.user.is_active:
            # Guessing keys counts against the address like guessing passwords.
            signin_throttle.record_failure(request, credentials)
            return None
        # Touch at most once a minute so a busy integration does not write on every call.
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        request.api_token = api_token  # actions refuse some verbs to a token (see credential_of)
        return api_token.user


class TokenHeaderAuth(APIKeyHeader):
    """The same token in `X-API-Key`, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return TokenAuth().authenticate(request, key or "")


class SessionUserAuth(SessionAuth):
    """Browser session; CSRF is checked for unsafe methods.

    CSRF guards a logged-in browser session, so it is checked only when there is one. Without
    this, a system presenting a bad token (no session at all) would be told "CSRF failed" (403)
    instead of "unauthenticated" (401). A failed check answers in the API's error shape.
    """

    def _get_key(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise PermissionRefused(
                _("The form has expired or did not come from this site; reload and try again.")
            ) from exc

    def authenticate(self, request, key):
        if key is None:
            return None
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


def credential_of(request) -> ApiToken | None:
    """The API token a request authenticated with, or None for a browser session."""
    return getattr(request, "api_token", None)


api_auth = [TokenAuth(), TokenHeaderAuth(), SessionUserAuth()]
