"""Puts the request's IP and user agent where the audit chain can read them."""

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
