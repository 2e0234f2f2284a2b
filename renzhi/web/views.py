"""Server-rendered pages. Thin: read through queries and scope, change through actions.

Every POST that calls an action catches `ActionError` and shows its messages next to the fields
they name; nothing is changed in that case (actions are atomic).
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from renzhi.core import actions, phone_codes, queries, read_audit, scope, signin_throttle, workdays
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.http import AuthedRequest
from renzhi.core.middleware import client_ip
from renzhi.core.models import (
    ApiToken,
    AuditEvent,
    CalendarOverride,
    Membership,
    Place,
    PlaceLevel,
    UnitKind,
    User,
)
from renzhi.core.permissions import Perm, has_perm
from renzhi.core.privacy import mask_phone
from renzhi.web import forms, presenters
from renzhi.web.access import requires
from renzhi.web.navigation import may_read_audit

USERS_PER_PAGE = 25
LEVEL_PLURALS = {
    PlaceLevel.DISTRICT: gettext_lazy("Districts"),
    PlaceLevel.STREET: gettext_lazy("Streets"),
    PlaceLevel.COMMUNITY: gettext_lazy("Communities"),
    PlaceLevel.GRID: gettext_lazy("Grids"),
}
UNITS_PER_PAGE = 50
AUDIT_PER_PAGE = 50


# --- Sign in, sign out, register ------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view()


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again, with a localised lockout message (429).

    Serves the login form and `/django-admin/` alike, so a locked account reads the same
    message wherever it tried; the password, right or wrong, was not checked. The API (a token
    guessed once too often) gets its usual error shape.
    """
    message = signin_throttle.lockout_message()
    if request.path.startswith("/api/"):
        error = ActionError(message, code=ErrorCode.RATE_LIMITED)
        return JsonResponse(error.as_dict(), status=error.status)
    form = forms.LoginForm(request, data=None)
    if credentials and credentials.get("username"):
        form.initial["username"] = credentials["username"]
    return render(
        request,
        "web/login.html",
        {"form": form, "locked_out": message},
        status=429,
    )


REGISTER_PHONE = "renzhi_register_phone"
REGISTRATION = signin_throttle.channel_credentials("registration")


def register(request: HttpRequest) -> HttpResponse:
    """Resident self-registration, step 1: text a one-time code to the phone number.

    The same answer whether or not the number is registered (issue 14 #6); the text tells its
    owner which.
    """
    if request.user.is_authenticated:
        return redirect("web:home")
    form = forms.RegisterPhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not signin_throttle.is_allowed(request, REGISTRATION):
            form.add_error(None, signin_throttle.lockout_message())
            return render(request, "web/register.html", {"form": form}, status=429)
        phone = form.cleaned_data["phone"].strip()
        try:
            actions.request_registration_code(phone=phone, ip=client_ip(request))
        except ActionError as error:
            forms.show_errors(form, error)
        else:
            request.session[REGISTER_PHONE] = phone
            messages.info(request, phone_codes.code_sent_message())
            return redirect("web:register_confirm")
    return render(request, "web/register.html", {"form": form})


def register_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the text and the account details; signs the resident in."""
    if request.user.is_authenticated:
        return redirect("web:home")
    phone = request.session.get(REGISTER_PHONE)
    if not phone:
        return redirect("web:register")
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not signin_throttle.is_allowed(request, REGISTRATION):
            form.add_error(None, signin_throttle.lockout_message())
            return render(
                request, "web/register_confirm.html", {"form": form, "phone": phone}, status=429
            )
        data = form.cleaned_data
        try:
            user = actions.register_resident(
                phone=phone,
                code=data["code"],
                password=data["password"],
                display_name=data["display_name"],
                home_place=data["home_place"],
            )
        except ActionError as error:
            if any(e.field == "code" for e in error.errors):
                signin_throttle.record_failure(request, REGISTRATION)
            forms.show_errors(form, error)
        else:
            request.session.pop(REGISTER_PHONE, None)
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your resident account is ready."))
            return redirect("web:home")
    return render(request, "web/register_confirm.html", {"form": form, "phone": phone})


# --- Home -----------------------------------------------------------------------------------


@requires(None)
def home(request: AuthedRequest) -> HttpResponse:
    """Who you are, where you work, and how much lies in your scope (real counts)."""
    user = request.user
    memberships = [
        {
            "role": m.get_role_display(),
            "where": presenters.jurisdiction_label(m),
            "path": m.place.full_name if m.place else (m.unit.name if m.unit else ""),
        }
        for m in scope.memberships(user)
    ]
    counts = []
    chart = None
    if has_perm(user, Perm.VIEW_PLACES):
        by_level: dict[str, int] = dict(
            queries.places_for(user).order_by().values_list("level").annotate(n=Count("id"))
        )
        level_counts = [
            (str(label), by_level.get(level, 0)) for level, label in LEVEL_PLURALS.items()
        ]
        counts += [
            {"label": label, "value": n, "url": reverse("web:places")} for label, n in level_counts
        ]
        chart = {
            "title": _("Places in your scope"),
            "labels": [c[0] for c in level_counts],
            "values": [c[1] for c in level_counts],
        }
    if has_perm(user, Perm.VIEW_UNITS):
        counts.append(
            {
                "label": _("Units"),
                "value": queries.units_for(user).count(),
                "url": reverse("web:units"),
            }
        )
    if has_perm(user, Perm.MANAGE_USERS):
        counts.append(
            {
                "label": _("Accounts"),
                "value": queries.users_for(user).count(),
                "url": reverse("web:users"),
            }
        )
    return render(
        request,
        "web/home.html",
        {
            "memberships": memberships,
            "home_place": user.home_place.full_name if user.home_place else "",
            "counts": counts,
            "chart": chart,
            "is_global_admin": scope.is_global_admin(user),
        },
    )


# --- Places and units -----------------------------------------------------------------------


@requires(Perm.VIEW_PLACES)
def places(request: AuthedRequest) -> HttpResponse:
    """The map of boundaries (drawn in the browser from the GeoJSON API) and the place tree."""
    in_scope = list(queries.places_for(request.user).select_related("parent").order_by("code"))
    grids = [p for p in in_scope if p.level == PlaceLevel.GRID]
    map_config = {
        "geojsonUrl": reverse("api:places_geojson"),
        "locateUrl": reverse("api:locate"),
        # Representative points (always inside the polygon) to pin community labels on.
        "labelPoints": {
            p.code: [p.centre_lat, p.centre_lng]
            for p in in_scope
            if p.level == PlaceLevel.COMMUNITY and p.centre_lat is not None
        },
        "text": {
            "code": _("Code"),
            "level": _("Level"),
            "population": _("Population"),
            "community": _("Community"),
            "loading": _("Loading boundaries…"),
            "loadFailed": _("The boundaries could not be loaded. Please reload the page."),
            "noGrids": _("No grid boundaries in your scope."),
            "locating": _("Looking up…"),
            "locateFailed": _("The lookup failed. Please try again."),
            "badLat": _("Latitude must be a number between -90 and 90."),
            "badLng": _("Longitude must be a number between -180 and 180."),
            "inside": _("This point lies in:"),
            "zoomIn": _("Zoom in"),
            "zoomOut": _("Zoom out"),
            "levels": {value: str(label) for value, label in PlaceLevel.choices},
        },
    }
    return render(
        request,
        "web/places.html",
        {
            "tree": presenters.place_tree(in_scope),
            "place_count": len(in_scope),
            "grid_count": len(grids),
            "example_point": _example_point(grids),
            "map_config": map_config,
        },
    )


def _example_point(grids: list[Place]) -> tuple[float, float]:
    """A point inside the first grid in scope, as a hint in the locate form."""
    for grid in grids:
        if grid.centre_lat is not None and grid.centre_lng is not None:
            return round(grid.centre_lat, 4), round(grid.centre_lng, 4)
    return 39.915, 116.42


@requires(Perm.VIEW_UNITS)
def units(request: AuthedRequest) -> HttpResponse:
    qs = (
        queries.units_for(request.user)
        .prefetch_related(Prefetch("places", queryset=Place.objects.order_by("code")))
        .order_by("code")
    )
    q = (request.GET.get("q") or "").strip()
    kind = request.GET.get("kind") or ""
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    page = Paginator(qs, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/units.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "kinds": UnitKind.choices,
            "query": _query_without_page(request),
        },
    )


# --- Accounts and roles ---------------------------------------------------------------------


@requires(Perm.MANAGE_USERS)
def users(request: AuthedRequest) -> HttpResponse:
    """Accounts in the administrator's jurisdiction; phone numbers masked in the list."""
    search = forms.UserSearchForm(request.GET or None)
    qs = queries.users_for(request.user).prefetch_related(_memberships()).order_by("username")
    if search.is_valid():
        q, role = search.cleaned_data["q"].strip(), search.cleaned_data["role"]
        if q:
            qs = qs.filter(
                Q(username__icontains=q) | Q(display_name__icontains=q) | Q(phone__contains=q)
            )
        if role:
            qs = qs.filter(memberships__role=role).distinct()
    page = Paginator(qs, USERS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [_user_row(u) for u in page.object_list]
    # The live search (htmx) swaps only the results; everything else gets the whole page.
    partial = request.headers.get("HX-Target") == "user-results"
    response = render(
        request,
        "web/_user_results.html" if partial else "web/users.html",
        {"search": search, "page": page, "rows": rows, "query": _query_without_page(request)},
    )
    patch_vary_headers(response, ["HX-Target"])
    return response


@requires(Perm.MANAGE_USERS)
def user_create(request: AuthedRequest) -> HttpResponse:
    """A new account with, optionally, its first role (required for jurisdiction admins)."""
    actor = request.user
    form = forms.CreateUserForm(
        request.POST or None, role_required=not scope.is_global_admin(actor), **_role_options(actor)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = actions.create_user(
                actor,
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                phone=data["phone"] or None,
                role=data["role"] or None,
                place=data["place"],
                unit=data["unit"],
            )
        except ActionError as error:
            forms.show_errors(form, error)
        else:
            messages.success(
                request, _("Account %(username)s created.") % {"username": account.username}
            )
            return redirect("web:user", user_id=account.pk)
    return render(request, "web/user_create.html", {"form": form})


@requires(Perm.MANAGE_USERS)
def user_detail(request: AuthedRequest, user_id: int) -> HttpResponse:
    account = _managed_user(request, user_id)
    if account.phone:  # shown in full on this page: an audited read
        read_audit.record_read(request.user, account, "user_phone", read_audit.reason_of(request))
    return _user_page(request, account)


@require_POST
@requires(Perm.MANAGE_USERS)
def user_grant_role(request: AuthedRequest, user_id: int) -> HttpResponse:
    account = _managed_user(request, user_id)
    form = forms.GrantRoleForm(request.POST, **_role_options(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.grant_role(
                request.user, account, role=data["role"], place=data["place"], unit=data["unit"]
            )
        except ActionError as error:
            forms.show_errors(form, error)
        else:
            messages.success(request, _("Role granted."))
            return redirect("web:user", user_id=account.pk)
    return _user_page(request, account, role_form=form)


@require_POST
@requires(Perm.MANAGE_USERS)
def user_revoke_role(request: AuthedRequest, user_id: int, membership_id: int) -> HttpResponse:
    account = _managed_user(request, user_id)
    membership = get_object_or_404(Membership, pk=membership_id, user=account)
    try:
        actions.revoke_role(request.user, membership)
    except ActionError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Role revoked."))
    return _back_to_user(request, account)


@require_POST
@requires(Perm.MANAGE_USERS)
def user_set_active(request: AuthedRequest, user_id: int) -> HttpResponse:
    account = _managed_user(request, user_id)
    active = request.POST.get("active") == "1"
    try:
        actions.set_user_active(request.user, account, active)
    except ActionError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Account activated.") if active else _("Account deactivated."))
    return _back_to_user(request, account)


@require_POST
@requires(Perm.MANAGE_USERS)
def user_set_password(request: AuthedRequest, user_id: int) -> HttpResponse:
    account = _managed_user(request, user_id)
    form = forms.PasswordForm(request.POST)
    if form.is_valid():
        try:
            actions.set_password(request.user, account, form.cleaned_data["password"])
        except ActionError as error:
            forms.show_errors(form, error)
        else:
            messages.success(request, _("Password changed."))
            return redirect("web:user", user_id=account.pk)
    return _user_page(request, account, password_form=form)


@require_POST
@requires(Perm.MANAGE_USERS)
def user_unlock(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Lift the account's sign-in lockout now (audited), instead of waiting for the cool-off."""
    account = _managed_user(request, user_id)
    try:
        actions.unlock_sign_in(request.user, user=account)
    except ActionError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Sign-in unlocked."))
    return _back_to_user(request, account)


def _user_page(request: AuthedRequest, account: User, *, role_form=None, password_form=None):
    memberships = [
        {
            "pk": m.pk,
            "role": m.get_role_display(),
            "where": presenters.jurisdiction_label(m),
            "path": m.place.full_name if m.place else "",
        }
        for m in account.memberships.all()
    ]
    return render(
        request,
        "web/user_detail.html",
        {
            "account": account,
            "memberships": memberships,
            "home_place": account.home_place.full_name if account.home_place else "",
            "role_form": role_form or forms.GrantRoleForm(**_role_options(request.user)),
            "password_form": password_form or forms.PasswordForm(),
            "is_self": account.pk == request.user.pk,
            "sign_in_failures": signin_throttle.failures_for(account.username),
            "sign_in_locked": signin_throttle.is_username_locked(account.username),
        },
    )


def _managed_user(request: AuthedRequest, user_id: int) -> User:
    qs = (
        queries.users_for(request.user)
        .select_related("home_place")
        .prefetch_related(_memberships())
    )
    return get_object_or_404(qs, pk=user_id)


def _back_to_user(request: AuthedRequest, account: User) -> HttpResponse:
    # After a revoke the account may have left the administrator's jurisdiction.
    if queries.users_for(request.user).filter(pk=account.pk).exists():
        return redirect("web:user", user_id=account.pk)
    return redirect("web:users")


def _role_options(actor: User) -> dict:
    return {
        "places": queries.places_for(actor).order_by("code"),
        "units": queries.units_for(actor).order_by("code"),
    }


def _user_row(u: User) -> dict:
    return {
        "pk": u.pk,
        "username": u.username,
        "display_name": u.display_name,
        "phone": mask_phone(u.phone),
        "active": u.is_active,
        "memberships": [presenters.membership_label(m) for m in u.memberships.all()],
    }


def _memberships() -> Prefetch:
    return Prefetch(
        "memberships", queryset=Membership.objects.select_related("place", "unit").order_by("role")
    )


# --- Working-day calendar -------------------------------------------------------------------


@requires(Perm.MANAGE_CALENDAR)
def calendar(request: AuthedRequest) -> HttpResponse:
    month = _month(request.GET.get("month"))
    form = forms.CalendarOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.set_calendar_override(
                request.user,
                date=data["date"],
                is_working_day=data["is_working_day"],
                note=data["note"],
            )
        except ActionError as error:
            forms.show_errors(form, error)
        else:
            messages.success(request, _("The calendar day is saved."))
            return redirect(f"{reverse('web:calendar')}?month={data['date']:%Y-%m}")
    return render(
        request,
        "web/calendar.html",
        {
            **_month_view(month),
            "form": form,
            "overrides": CalendarOverride.objects.order_by("date"),
        },
    )


@require_POST
@requires(Perm.MANAGE_CALENDAR)
def calendar_remove_override(request: AuthedRequest, date: str) -> HttpResponse:
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise Http404 from exc
    override = get_object_or_404(CalendarOverride, date=day)
    try:
        actions.remove_calendar_override(request.user, override)
    except ActionError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("The calendar day is back to the official calendar."))
    return redirect(f"{reverse('web:calendar')}?month={day:%Y-%m}")


def _month(value: str | None) -> dt.date:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


def _month_view(month: dt.date) -> dict:
    cal = workdays.WorkCalendar()
    today = timezone.localdate()
    weeks = []
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        days = []
        for day in week:
            info = workdays.day_info(day, cal)
            weekend = day.weekday() >= 5
            if info["is_working_day"]:
                kind = "makeup" if weekend else "work"
            else:
                kind = "holiday" if info["holiday_name"] else "rest"
            days.append(
                {**info, "kind": kind, "in_month": day.month == month.month, "today": day == today}
            )
        weeks.append(days)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return {
        "month": month,
        "weeks": weeks,
        "previous": f"{previous:%Y-%m}",
        "following": f"{following:%Y-%m}",
        "this_month": f"{today:%Y-%m}",
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
    }


# --- Audit ----------------------------------------------------------------------------------


@requires(may_read_audit)
def audit(request: AuthedRequest) -> HttpResponse:
    """The latest audit events first. Reading does not verify the chain (verify_audit does)."""
    qs = AuditEvent.objects.order_by("-seq")
    verb = request.GET.get("verb") or ""
    q = (request.GET.get("q") or "").strip()
    if verb:
        qs = qs.filter(verb=verb)
    if q:
        qs = qs.filter(Q(actor_label__icontains=q) | Q(object_label__icontains=q))
    page = Paginator(qs, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor_label,
            "verb": presenters.verb_label(e.verb),
            "verb_code": e.verb,
            "object_type": presenters.object_type_label(e.object_type),
            "object": e.object_label,
            "ip": e.ip,
        }
        for e in page.object_list
    ]
    verbs = [(code, str(label)) for code, label in presenters.VERB_LABELS.items()]
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "rows": rows,
            "verb": verb,
            "q": q,
            "verbs": verbs,
            "query": _query_without_page(request),
        },
    )


# --- API tokens -----------------------------------------------------------------------------


@requires(Perm.USE_API_TOKENS)
def tokens(request: AuthedRequest) -> HttpResponse:
    """My API tokens. A new key is shown in this one response and never again."""
    form = forms.TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = actions.issue_api_token(request.user, form.cleaned_data["name"])
        except ActionError as error:
            forms.show_errors(form, error)
        else:
            form = forms.TokenForm()
    mine = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "web/tokens.html", {"form": form, "tokens": mine, "new_key": new_key})


@require_POST
@requires(Perm.USE_API_TOKENS)
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    try:
        actions.revoke_api_token(request.user, token)
    except ActionError as error:
        _flash_errors(request, error)
    else:
        messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("web:tokens")


# --- helpers --------------------------------------------------------------------------------


def _flash_errors(request: HttpRequest, error: ActionError) -> None:
    for e in error.errors:
        messages.error(request, e.message)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
