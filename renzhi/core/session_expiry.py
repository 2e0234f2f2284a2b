"""Staff sessions end after idle time and after an absolute maximum; residents' do not.

A staff account reaches many people's data, so a browser left open in a street office must not
stay signed in: after `RENZHI_STAFF_IDLE_MINUTES` without a request, or
`RENZHI_SESSION_MAX_HOURS` after sign-in whatever the activity, the session is ended and the
next page asks for the password again (the API answers 401). A resident's session lasts
`SESSION_COOKIE_AGE` (two weeks by default): they reach only their own data and sign in from
their own phone.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

from renzhi.core import scope

STARTED = "renzhi_session_started"
SEEN = "renzhi_session_seen"
# Write the last-seen time at most this often, not on every request.
SEEN_RESOLUTION_SECONDS = 60


class SessionExpiryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if session is not None and user is not None and user.is_authenticated and is_staff(user):
            _check_staff_session(request)
        return self.get_response(request)


def is_staff(user) -> bool:
    """Any role besides resident makes a staff session."""
    return scope.has_role(user, *scope.STAFF_ROLES)


def _now() -> float:
    # The wall clock, not timezone.now(): tests that move Django's clock days ahead (SLA
    # deadlines) must not find their staff signed out; the expiry tests move this one.
    return time.time()


def _check_staff_session(request) -> None:
    session = request.session
    now = _now()
    started = session.get(STARTED)
    seen = session.get(SEEN)
    if started is None or seen is None:
        session[STARTED] = session[SEEN] = now
        return
    idle_limit = settings.RENZHI_STAFF_IDLE_MINUTES * 60
    absolute_limit = settings.RENZHI_SESSION_MAX_HOURS * 3600
    if now - seen > idle_limit or now - started > absolute_limit:
        logout(request)
        messages.info(request, _("Your session has expired; please sign in again."))
        return
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now
