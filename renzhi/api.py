"""The JSON API at /api/ (OpenAPI docs at /api/docs). Each app mounts its router here."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from renzhi.core.apiauth import api_auth
from renzhi.core.errors import ActionError

api = NinjaAPI(
    title="Renzhi 韧治 API",
    version="1",
    description="Community resilience governance. Token auth: `Authorization: Bearer rz_…`.",
    auth=api_auth,
    urls_namespace="api",
)


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError):
    detail = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "form", "payload")]
        detail.append({"field": ".".join(loc) or None, "code": "invalid",
                       "message": _("Invalid value: %(error)s") % {"error": err.get("msg", "")}})
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"detail": [{"field": None, "code": "unauthenticated", "message": _("Please log in or present a valid API token.")}]},
        status=401,
    )


from renzhi.core.api import router as core_router  # noqa: E402

api.add_router("/", core_router)

from renzhi.appeals.metrics_api import router as appeals_metrics_router  # noqa: E402

api.add_router("/appeals/metrics", appeals_metrics_router)

from renzhi.appeals.api import router as appeals_router  # noqa: E402
from renzhi.core.notifications_api import router as notifications_router  # noqa: E402

api.add_router("/appeals", appeals_router)
api.add_router("/notifications", notifications_router)
