"""Sign-in throttling and lockout, on django-axes (database handler: counters live in the DB,
so any number of stateless app servers share them).

Axes watches the login form and `/django-admin/` through its authentication backend. The API
token header and registration codes are not Django logins, so they report their failures here;
those count against the client's address only (a token or a code names no account), while a
failed password counts against both the username and the address. Either reaching
`AXES_FAILURE_LIMIT` within `AXES_COOLOFF_TIME` locks it until the cool-off ends or an
administrator unlocks it (`renzhi.core.actions.unlock_sign_in`, audited).
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

# Failures that name no account: counted per client address only.
ADDRESS_ONLY_CHANNELS = frozenset({"api_token", "registration"})


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list:
    """AXES_LOCKOUT_PARAMETERS: a password failure locks the username AND the address
    (separately); a token or code failure locks the address."""
    if credentials and credentials.get("channel") in ADDRESS_ONLY_CHANNELS:
        return ["ip_address"]
    return ["username", "ip_address"]


def channel_credentials(channel: str) -> dict:
    """Credentials for a failure that is not a password login (the API token, a phone code)."""
    return {"username": "", "channel": channel}


def is_allowed(request, credentials: dict) -> bool:
    """False when the request's address (or the credentials' username) is locked out."""
    if not settings.AXES_ENABLED:
        return True
    return AxesProxyHandler.is_allowed(request, credentials)


def record_failure(request, credentials: dict) -> None:
    """Count one failure for the request's address (and username, for a password)."""
    if settings.AXES_ENABLED:
        AxesProxyHandler.user_login_failed(__name__, credentials, request)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed attempts: sign-in is locked for %(minutes)d minutes. "
        "Try again later, or ask an administrator to unlock your account."
    ) % {"minutes": minutes}


def failures_for(username: str) -> int:
    """Failed password attempts against `username` within the cool-off window."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


def is_username_locked(username: str) -> bool:
    return failures_for(username) >= settings.AXES_FAILURE_LIMIT


def unlock(*, username: str | None = None, ip: str | None = None) -> int:
    """Forget the failures of a username and/or an address; returns how many records went.

    Call through `actions.unlock_sign_in`, which checks rights and audits.
    """
    cleared = 0
    if username:
        cleared += AxesProxyHandler.reset_attempts(username=username)
    if ip:
        cleared += AxesProxyHandler.reset_attempts(ip_address=ip)
    return cleared
