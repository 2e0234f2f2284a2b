"""Request middleware of the core: the audit context (the request's IP and user agent where the
audit chain can read them) and the Permissions-Policy header (browser features we never use are
switched off, so injected markup or a compromised library cannot reach camera or microphone)."""

from django.conf import settings

from renzhi.core.audit import RequestInfo, current_request


def client_ip(request) -> str:
    # Behind a trusted reverse proxy, set REMOTE_ADDR from X-Forwarded-For there (gunicorn
    # --forwarded-allow-ips); we do not trust the header ourselves.
    return request.META.get("REMOTE_ADDR", "") or ""


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(
            RequestInfo(
                ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300]
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class PermissionsPolicyMiddleware:
    """Sets `Permissions-Policy` from settings.RENZHI_PERMISSIONS_POLICY ({feature: [origins]},
    an empty list switching the feature off) on every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy(getattr(settings, "RENZHI_PERMISSIONS_POLICY", {}))

    def __call__(self, request):
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


def permissions_policy(features: dict[str, list[str]]) -> str:
    """`{"camera": [], "geolocation": ["self"]}` → `camera=(), geolocation=(self)`."""
    parts = []
    for feature, origins in sorted(features.items()):
        allow = " ".join(o if o in ("self", "*") else f'"{o}"' for o in origins)
        parts.append(f"{feature}=({allow})")
    return ", ".join(parts)
