"""Where a page may send the browser back to: pages of this site only (no open redirect)."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def local_next(request: HttpRequest, default: str) -> str:
    """The posted `next` when it points into this site, else `default` (a URL or a route name).

    A crafted form could otherwise carry `next=https://evil.example/` and turn a trusted page of
    ours into a springboard for phishing."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)
