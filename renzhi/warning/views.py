"""Pages of the warning app: warnings and their workflow, signals, series charts, the map, the
resident's phone page, subscriptions, CAP import and webhooks. Views stay thin: forms shape the
input, `actions` decide, errors show next to their field."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renzhi.core.errors import ActionError
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Place
from renzhi.core.redirects import local_next
from renzhi.core.text import posted_text
from renzhi.warning import actions, charts, queries, rules
from renzhi.warning.forms import (
    ImportForm,
    ReasonForm,
    SubscriptionForm,
    WarningForm,
    WebhookForm,
)
from renzhi.warning.models import (
    LIVE_STATUSES,
    Level,
    Signal,
    SignalStatus,
    Status,
    Subscription,
)
from renzhi.web.access import requires

STAFF = rules.is_warning_staff


# --- warnings -------------------------------------------------------------------------------


@requires(STAFF)
def warning_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = queries.visible_warnings(request.user)
    if status in Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.prefetch_related("areas"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "warning/list.html",
        {
            "page": page,
            "status": status,
            "statuses": Status.choices,
            "may_approve": rules.is_leader(request.user),
            "pending": queries.awaiting_approval(request.user).count(),
        },
    )


@requires(STAFF)
def warning_new(request: AuthedRequest) -> HttpResponse:
    """Create by hand; `?hot_issue=<id>` (from triage) is accepted and only pre-fills text."""
    places = queries.places_for(request.user)
    initial = {"level": Level.IV, "cap_category": "Safety"}
    initial.update(queries.hot_issue_initial(request.user, request.GET.get("hot_issue")))
    form = WarningForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            warning = actions.create_warning(request.user, form.to_input())
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("warning:detail", pk=warning.pk)
    return render(request, "warning/form.html", {"form": form, "title": _("New warning")})


@requires(STAFF)
def warning_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    warning = queries.visible_warnings(request.user).filter(pk=pk).first()
    if warning is None:
        raise Http404
    user = request.user
    live = warning.status in LIVE_STATUSES
    return render(
        request,
        "warning/detail.html",
        {
            "warning": warning,
            "areas": list(warning.areas.all()),
            "cap_messages": list(warning.cap_messages.order_by("sent")),
            "signals": list(warning.signals.select_related("series__place", "series__category")),
            "deliveries": queries.deliveries_of(warning)[:20],
            "can_edit": warning.status == Status.DRAFT,
            "can_submit": warning.status == Status.DRAFT,
            "can_approve": warning.status == Status.SUBMITTED
            and warning.created_by_id != user.pk
            and rules.is_leader(user),
            "can_publish": warning.status == Status.APPROVED,
            "can_update": live and rules.is_leader(user),
            "can_cancel": warning.status not in (Status.CANCELLED, Status.EXPIRED)
            and (not live or rules.is_leader(user)),
            "activate_url": f"/emergency/incidents/new/?warning={warning.pk}" if live else "",
            "reason_form": ReasonForm(),
        },
    )


@requires(STAFF)
def warning_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Edit a draft, or (a leader) update a live warning — the latter issues a CAP Update."""
    warning = queries.visible_warnings(request.user).filter(pk=pk).first()
    if warning is None:
        raise Http404
    live = warning.status in LIVE_STATUSES
    places = queries.places_for(request.user)
    initial = {
        "level": warning.level,
        "headline": warning.headline,
        "event": warning.event,
        "cap_category": warning.cap_category,
        "description": warning.description,
        "instructions": warning.instructions,
        "headline_en": warning.headline_en,
        "areas": list(warning.areas.values_list("code", flat=True)),
        "expires_at": timezone.localtime(warning.expires_at) if warning.expires_at else None,
    }
    form = WarningForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if live:
                actions.update(
                    request.user,
                    pk,
                    form.to_input(),
                    note=posted_text(request.POST, "note", max_length=300),
                )
            else:
                actions.edit_warning(request.user, pk, form.to_input())
        except ActionError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("Warning updated.") if live else _("Draft saved."))
            return redirect("warning:detail", pk=pk)
    title = _("Update a published warning") if live else _("Edit draft")
    return render(
        request,
        "warning/form.html",
        {"form": form, "title": title, "live": live, "warning": warning},
    )


@require_POST
@requires(STAFF)
def warning_step(request: AuthedRequest, pk: int, step: str) -> HttpResponse:
    try:
        reason = posted_text(request.POST, "reason", max_length=300)
        if step == "submit":
            actions.submit(request.user, pk)
            messages.success(request, _("Submitted for approval."))
        elif step == "approve":
            actions.approve(request.user, pk)
            messages.success(request, _("Approved."))
        elif step == "reject":
            actions.reject(request.user, pk, reason)
            messages.success(request, _("Sent back to draft."))
        elif step == "publish":
            actions.publish(request.user, pk)
            messages.success(request, _("Published. Residents in the area are told now."))
        elif step == "cancel":
            actions.cancel(request.user, pk, reason)
            messages.success(request, _("Cancelled."))
        else:
            raise Http404
    except ActionError as exc:
        for error in exc.errors:
            messages.error(request, error.message)
    return redirect("warning:detail", pk=pk)


# --- signals and series ---------------------------------------------------------------------


@requires(STAFF)
def signal_list(request: AuthedRequest) -> HttpResponse:
    day = _day(request.GET.get("day")) or queries.latest_signal_day(request.user)
    status = request.GET.get("status", SignalStatus.NEW)
    qs = queries.visible_signals(request.user).filter(day=day) if day else Signal.objects.none()
    if status in SignalStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "warning/signals.html",
        {
            "day": day,
            "status": status,
            "statuses": SignalStatus.choices,
            "signals": list(qs.select_related("series__place", "series__category", "warning")),
            "days": queries.signal_days(request.user)[:14],
        },
    )


@require_POST
@requires(STAFF)
def signal_step(request: AuthedRequest, pk: int, step: str) -> HttpResponse:
    try:
        if step == "propose":
            warning = actions.propose_from_signal(request.user, pk)
            messages.success(request, _("Draft warning proposed. Check it and submit."))
            return redirect("warning:detail", pk=warning.pk)
        if step == "dismiss":
            actions.dismiss_signal(
                request.user, pk, posted_text(request.POST, "reason", max_length=300)
            )
            messages.success(request, _("Signal dismissed."))
        else:
            raise Http404
    except ActionError as exc:
        for error in exc.errors:
            messages.error(request, error.message)
    return redirect(local_next(request, reverse("warning:signals")))


@requires(STAFF)
def series_chart(request: AuthedRequest, pk: int) -> HttpResponse:
    series = queries.visible_series(request.user).filter(pk=pk).first()
    if series is None:
        raise Http404
    end = _day(request.GET.get("day")) or timezone.localdate()
    return render(
        request,
        "warning/series.html",
        {"series": series, "chart": charts.series_chart(series, end), "end": end},
    )


# --- map, resident page, subscriptions ------------------------------------------------------


@requires(STAFF)
def warning_map(request: AuthedRequest) -> HttpResponse:
    return render(request, "warning/map.html", {"map_data": queries.map_data(request.user)})


@login_required
def my_warnings(request: AuthedRequest) -> HttpResponse:
    """The resident's phone page: live warnings for their community (and their subscriptions)."""
    return render(
        request,
        "warning/mine.html",
        {
            "warnings": queries.warnings_for_resident(request.user),
            "home": getattr(request.user, "home_place", None),
        },
    )


@login_required
def subscriptions(request: AuthedRequest) -> HttpResponse:
    places = list(Place.objects.filter(level__in=["district", "street", "community"]))
    form = SubscriptionForm(request.POST or None, places=places)
    if request.method == "POST":
        if "delete" in request.POST:
            try:
                actions.unsubscribe(request.user, int(request.POST["delete"]))
                messages.success(request, _("Subscription removed."))
            except (ActionError, ValueError):
                messages.error(request, _("No such subscription."))
            return redirect("warning:subscriptions")
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.subscribe(
                    request.user, d["place"], d["cap_category"], d["min_level"], d["sms"]
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Subscribed."))
                return redirect("warning:subscriptions")
    subs = Subscription.objects.filter(user=request.user).select_related("place")
    return render(request, "warning/subscriptions.html", {"form": form, "subscriptions": subs})


# --- CAP import, webhooks -------------------------------------------------------------------


@requires(STAFF)
def cap_import(request: AuthedRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("document")
        data = upload.read() if upload else form.cleaned_data.get("text", "").encode()
        try:
            created = actions.import_cap(request.user, data)
        except ActionError as exc:
            error = " ".join(e.message for e in exc.errors)
        else:
            messages.success(request, _("%(n)s warning drafts imported.") % {"n": len(created)})
            return redirect("warning:list")
    return render(request, "warning/import.html", {"form": form, "error": error})


@requires(rules.may_manage_webhooks)
def webhooks(request: AuthedRequest) -> HttpResponse:
    places = queries.places_for(request.user, levels=("district", "street", "community"))
    form = WebhookForm(request.POST or None, places=places)
    if request.method == "POST":
        if "disable" in request.POST:
            try:
                actions.delete_webhook(request.user, int(request.POST["disable"]))
            except (ActionError, ValueError):
                messages.error(request, _("No such webhook."))
            return redirect("warning:webhooks")
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.create_webhook(
                    request.user, name=d["name"], url=d["url"], place_code=d["place"]
                )
            except ActionError as exc:
                _attach(form, exc)
            else:
                messages.success(request, _("Webhook added."))
                return redirect("warning:webhooks")
    hooks = actions.webhooks_visible(request.user).select_related("place")
    return render(
        request,
        "warning/webhooks.html",
        {"form": form, "hooks": hooks, "deliveries": queries.recent_deliveries(request.user)},
    )


@requires(STAFF)
def map_json(request: AuthedRequest) -> JsonResponse:
    return JsonResponse(queries.map_data(request.user))


# --- helpers --------------------------------------------------------------------------------


def _attach(form, exc: ActionError) -> None:
    for error in exc.errors:
        field = error.field if error.field in form.fields else None
        if error.field == "area_codes":
            field = "areas"
        form.add_error(field, error.message)


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
