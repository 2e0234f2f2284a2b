"""A busy or unreachable database gives a fast, clear 503, not a 500 after a long wait.

Why: on SQLite one writer holds the lock at a time; a web request that cannot get it within
`RENZHI_DB_BUSY_TIMEOUT` (5 s by default) fails with "database is locked". On PostgreSQL the same
happens with `lock_timeout` (set for every PostgreSQL connection in settings), and a restarting
server gives connection errors. On SQLite the short wait is set on connections opened while
serving a web request (`_limit_lock_waits`); workers, commands and threads keep the settings'
longer busy timeout, so that they queue behind each other rather than fail. None of these
is a bug in the request: the user should try again in a moment, and a client (or a load
balancer) should be told so with `503 Service Unavailable` and `Retry-After`.

`BusyDatabaseMiddleware` (first in MIDDLEWARE) turns such errors raised by a view into that 503
(JSON under /api/, a short page elsewhere); `server_error` (the project's handler500) does the
same for errors raised elsewhere in the request (a middleware saving the session), and renders
the ordinary 500 page otherwise. Nothing was changed by the failed request: its transaction was
rolled back.
"""

from __future__ import annotations

import contextvars
import logging
import sys

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

log = logging.getLogger("renzhi.overload")

RETRY_AFTER_SECONDS = 5
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_serving_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "renzhi_serving_request", default=False
)


def is_busy(exc: BaseException) -> bool:
    """True for "try again later" database errors: a lock wait that ran out, a lost or refused
    connection. False for anything that is a bug (bad SQL, an integrity error…)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc).lower()
    if any(marker in text for marker in _SQLITE_BUSY):
        return True
    cause = exc.__cause__
    if cause is None or not type(cause).__module__.startswith("psycopg"):
        return False
    # PostgreSQL: SQLSTATE 08 (connection), 53 (insufficient resources), 55P03 (lock_timeout),
    # 57 (query cancelled, server shutting down), 58 (system); none = the client could not
    # connect at all.
    state = getattr(cause, "sqlstate", None) or ""
    return not state or state[:2] in ("08", "53", "57", "58") or state == "55P03"


def busy_response(request: HttpRequest) -> HttpResponse:
    message = _("The service is busy. Nothing was saved; please try again in a few seconds.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": [{"field": None, "code": "busy", "message": message}]}, status=503
        )
    else:
        # No request context: the context processors would query the busy database again.
        body = loader.render_to_string("503.html", {"message": message})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class BusyDatabaseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _serving_request.set(True)
        try:
            return self.get_response(request)
        finally:
            _serving_request.reset(token)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DatabaseError) and is_busy(exc):
            log.warning("database busy on %s %s: %s", request.method, request.path, exc)
            return busy_response(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a busy database raised outside a view still gives the 503."""
    exc = sys.exc_info()[1]
    if isinstance(exc, DatabaseError) and is_busy(exc):
        log.warning("database busy on %s %s: %s", request.method, request.path, exc)
        return busy_response(request)
    return HttpResponseServerError(loader.render_to_string("500.html"))


@receiver(connection_created)
def _limit_lock_waits(sender, connection, **kwargs) -> None:
    """A connection opened for a web request waits at most RENZHI_DB_BUSY_TIMEOUT for a lock."""
    if _serving_request.get():
        _apply_lock_wait(connection)


def _apply_lock_wait(connection) -> None:
    ms = int(float(getattr(settings, "RENZHI_DB_BUSY_TIMEOUT", 5)) * 1000)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {ms}")
