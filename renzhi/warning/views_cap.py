"""Public CAP pages: the Atom feed of current alerts, each alert's XML, a public warning page."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from renzhi.warning import cap
from renzhi.warning.models import LIVE_STATUSES, CapMessage, Status, Warning

RECENT_CANCELLATIONS = dt.timedelta(days=1)


def current_messages() -> list[CapMessage]:
    """The latest message of each live warning, and cancellations of the last day."""
    now = timezone.now()
    warnings = Warning.objects.filter(
        Q(status__in=LIVE_STATUSES, expires_at__gt=now)
        | Q(status=Status.CANCELLED, cancelled_at__gte=now - RECENT_CANCELLATIONS)
    ).values_list("pk", flat=True)
    latest: dict[int, CapMessage] = {}
    for m in (
        CapMessage.objects.filter(warning_id__in=list(warnings))
        .select_related("warning")
        .order_by("warning_id", "sent", "id")
    ):
        latest[m.warning_id] = m
    return sorted(latest.values(), key=lambda m: m.sent, reverse=True)


def feed(request: HttpRequest) -> HttpResponse:
    messages = current_messages()
    body = cap.feed(
        messages,
        request.build_absolute_uri(reverse("cap:feed")),
        lambda m: request.build_absolute_uri(reverse("cap:alert", args=[m.identifier])),
    )
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


def alert(request: HttpRequest, identifier: str) -> HttpResponse:
    message = CapMessage.objects.filter(identifier=identifier).first()
    if message is None:
        raise Http404
    return HttpResponse(message.xml, content_type="application/cap+xml; charset=utf-8")


def warning_page(request: HttpRequest, pk: int) -> HttpResponse:
    warning = get_object_or_404(
        Warning.objects.exclude(published_at__isnull=True).prefetch_related("areas"), pk=pk
    )
    messages = list(warning.cap_messages.order_by("sent"))
    return render(request, "warning/public.html", {"warning": warning, "cap_messages": messages})
