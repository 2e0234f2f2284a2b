"""The JSON API at /api/ (OpenAPI docs at /api/docs). Each app mounts its router here."""

from django.db import DataError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from renzhi.core.apiauth import api_auth
from renzhi.core.errors import ActionError
from renzhi.core.text import TEXT_ERROR

api = NinjaAPI(
    title="Renzhi 韧治 API",
    version="1",
    description="Community resilience governance. Token auth: `Authorization: Bearer rz_…`.",
    auth=api_auth,
    urls_namespace="api",
)


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError):
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def _number_out_of_range(request: HttpRequest, exc: Exception):
    """An id or number past what the database stores (e.g. `incident_id=10**25`) is bad input.

    SQLite refuses such a parameter with OverflowError, PostgreSQL with "out of range"; any other
    DataError is a fault of ours and stays a 500."""
    if isinstance(exc, DataError) and "out of range" not in str(exc):
        raise exc
    message = _("A number in the request is out of range.")
    return api.create_response(
        request, {"detail": [{"field": None, "code": "invalid", "message": message}]}, status=400
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError):
    """Schema errors in the same shape and language as action errors (400, field named)."""
    detail = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])]
        while loc and loc[0] in _LOCATION_ROOTS:  # leading roots only: a field may be "body"
            loc = loc[1:]
        code = "required" if err.get("type") == "missing" else "invalid"
        detail.append(
            {"field": ".".join(loc) or None, "code": code, "message": _schema_message(err)}
        )
    return api.create_response(request, {"detail": detail}, status=400)


_LOCATION_ROOTS = ("body", "query", "path", "form", "payload", "file", "files")


def _schema_message(err: dict) -> str:
    kind = str(err.get("type", ""))
    if kind == TEXT_ERROR:  # already translated by renzhi.core.text
        return str(err.get("msg", ""))
    if kind == "missing":
        return _("This field is required.")
    if kind == "value_error" and isinstance(err.get("ctx", {}).get("error"), ValueError):
        return str(err["ctx"]["error"])  # a schema validator's own (localised) message
    if kind.startswith("int_"):
        return _("Please enter a whole number.")
    limits = err.get("ctx") or {}
    if kind in ("less_than_equal", "less_than"):  # e.g. a page number past core.pagination's bound
        bound = limits.get("le", limits.get("lt"))
        return _("Please enter a value of at most %(limit)s.") % {"limit": bound}
    if kind in ("greater_than_equal", "greater_than"):
        bound = limits.get("ge", limits.get("gt"))
        return _("Please enter a value of at least %(limit)s.") % {"limit": bound}
    if kind.startswith("float_") or kind.startswith("decimal_"):
        return _("Please enter a number.")
    if kind.startswith("bool_"):
        return _("Please enter true or false.")
    if kind.startswith("date_"):
        return _("Please enter a valid date (YYYY-MM-DD).")
    if kind.startswith("datetime_") or kind.startswith("time_"):
        return _("Please enter a valid date and time (ISO 8601).")
    if kind.startswith("string_") or kind.startswith("str_"):
        return _("Please enter text.")
    if kind.startswith("json_") or kind == "model_attributes_type":
        return _("The request body is not valid JSON.")
    if kind.startswith("list_") or kind.startswith("dict_"):
        return _("This value has the wrong shape.")
    return _("Invalid value.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request,
        {
            "detail": [
                {
                    "field": None,
                    "code": "unauthenticated",
                    "message": _("Please log in or present a valid API token."),
                }
            ]
        },
        status=401,
    )


# Each app's routes are named `<app>_<function>` (core keeps bare names), so two apps may both
# have, say, an `export` view and `reverse("api:appeals_export")` still finds the right one.
from renzhi.core.api import router as core_router  # noqa: E402

api.add_router("/", core_router)

from renzhi.appeals.metrics_api import router as appeals_metrics_router  # noqa: E402

api.add_router("/appeals/metrics", appeals_metrics_router, url_name_prefix="appeals_metrics")

from renzhi.appeals.api import router as appeals_router  # noqa: E402
from renzhi.core.notifications_api import router as notifications_router  # noqa: E402

api.add_router("/appeals", appeals_router, url_name_prefix="appeals")
api.add_router("/notifications", notifications_router, url_name_prefix="notifications")

from renzhi.commons.api import router as commons_router  # noqa: E402
from renzhi.emergency.api import router as emergency_router  # noqa: E402
from renzhi.triage.api import router as triage_router  # noqa: E402
from renzhi.warning.api import router as warning_router  # noqa: E402

api.add_router("/triage", triage_router, url_name_prefix="triage")
api.add_router("/warnings", warning_router, url_name_prefix="warnings")
api.add_router("/emergency", emergency_router, url_name_prefix="emergency")
api.add_router("/commons", commons_router, url_name_prefix="commons")
