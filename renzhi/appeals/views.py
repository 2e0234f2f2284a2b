"""Appeals pages (接诉即办): intake for residents and staff, the queues, one appeal with its
timeline and the steps the viewer may take, the inbox.

Thin: reading goes through `renzhi.appeals.queries` (the data scope — an appeal outside it is a
404, so its existence does not leak), every change through `renzhi.appeals.actions`. An
`ActionError` is shown next to the field it names and nothing changed; success redirects with a
flash message. The list filters are those of the API (`renzhi.appeals.api`) so the Excel export
link returns exactly the rows on screen. Pages show tracking numbers, names and codes, never
database ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from renzhi.appeals import actions, forms, phone_reads, queries, routing, states
from renzhi.appeals.attachments import MAX_PHOTOS
from renzhi.appeals.context import (
    may_patrol,
    may_report,
    may_take_calls,
    may_work_appeals,
)
from renzhi.appeals.models import (
    Appeal,
    AppealEvent,
    Attachment,
    Category,
    Channel,
    ExtensionRequest,
    Priority,
    Satisfaction,
    State,
)
from renzhi.core import queries as core_queries
from renzhi.core import read_audit, scope, uploads
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Notification, Place, PlaceLevel, Role, Unit, User
from renzhi.core.privacy import mask_phone
from renzhi.core.workdays import WorkCalendar
from renzhi.web.access import requires
from renzhi.web.forms import show_errors

LIST_PER_PAGE = 25
MINE_PER_PAGE = 20
INBOX_PER_PAGE = 30
# Roles whose list opens on their own queue rather than on everything in scope.
QUEUE_ROLES = {Role.DISPATCHER, Role.COMMUNITY_STAFF, Role.UNIT_HANDLER}
# A place filter lists grids too when there are not more than this many in scope.
MAX_GRID_OPTIONS = 300


class AuthedRequest(HttpRequest):
    """A request that passed `requires`: its user is a signed-in account."""

    user: User  # type: ignore[assignment]


# --- Resident: report, my appeals -----------------------------------------------------------


@requires(may_report)
def new(request: AuthedRequest) -> HttpResponse:
    """The phone-first form: category picker, description, photos, a map point or community."""
    user = request.user
    categories = list(queries.public_categories().order_by("sort", "code"))
    communities = (
        Place.objects.filter(level=PlaceLevel.COMMUNITY).select_related("parent").order_by("code")
    )
    home = user.home_place
    home_community = home.parent if home and home.level == PlaceLevel.GRID else home
    form = forms.ResidentAppealForm(
        request.POST or None,
        request.FILES or None,
        categories=categories,
        communities=communities,
        initial={
            "place": home_community.code if home_community else "",
            "contact_phone": user.phone or "",
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            result = actions.submit_appeal(
                user,
                channel=Channel.WEB,
                description=d["description"],
                category=d["category"],
                lat=d["lat"],
                lng=d["lng"],
                address=d["address"],
                place=d["place"] if d["lat"] is None else None,
                anonymous=d["anonymous"],
                public=d["public"],
                contact_phone=d["contact_phone"],
                photos=d["photos"],
                idempotency_key=d["idempotency_key"] or None,
            )
        except ActionError as error:
            show_errors(form, error)
        else:
            return redirect("appeals:submitted", tracking_no=result.appeal.tracking_no)
    return render(
        request,
        "appeals/new.html",
        {
            "form": form,
            "picker": forms.category_tree(categories),
            "map_config": _map_config(home_community.code if home_community else ""),
        },
    )


@requires(may_report)
def mine(request: AuthedRequest) -> HttpResponse:
    qs = (
        Appeal.objects.filter(resident=request.user)
        .select_related("category", "community", "grid")
        .order_by("-received_at", "-id")
    )
    page = Paginator(qs, MINE_PER_PAGE).get_page(request.GET.get("page"))
    rows = [_row(a) for a in page.object_list]
    return render(request, "appeals/mine.html", {"page": page, "rows": rows, "query": ""})


@requires(None)
def submitted(request: AuthedRequest, tracking_no: str) -> HttpResponse:
    """The tracking number, large, right after intake; staff also see similar open appeals."""
    appeal = _get_visible(request, tracking_no)
    staff = queries.is_staff_viewer(request.user)
    verbs = queries.allowed_actions(request.user, appeal) if staff else []
    return render(
        request,
        "appeals/submitted.html",
        {
            "appeal": appeal,
            "row": _row(appeal),
            "staff": staff,
            "duplicates": _duplicates(request.user, appeal) if staff else [],
            "may_merge": "merge" in verbs,
            "again_url": reverse(AGAIN_URLS.get(appeal.channel, "appeals:new")),
        },
    )


# --- Staff intake: hotline entry, patrol report ---------------------------------------------

# Where "file another" leads after a staff intake; residents go back to the public form.
AGAIN_URLS: dict[str, str] = {
    Channel.HOTLINE: "appeals:hotline",
    Channel.PATROL: "appeals:patrol",
}


@requires(may_take_calls)
def hotline(request: AuthedRequest) -> HttpResponse:
    return _staff_intake(request, Channel.HOTLINE)


@requires(may_patrol)
def patrol(request: AuthedRequest) -> HttpResponse:
    return _staff_intake(request, Channel.PATROL)


INTAKE_ROLES: dict[str, tuple[str, ...]] = {
    Channel.HOTLINE: (Role.COMMUNITY_STAFF, Role.DISPATCHER),
    Channel.PATROL: (Role.GRID_WORKER,),
}


def _staff_intake(request: AuthedRequest, channel: str) -> HttpResponse:
    user = request.user
    patrol_report = channel == Channel.PATROL
    places = _intake_places(user, INTAKE_ROLES[channel])
    categories = list(
        Category.objects.filter(active=True).select_related("parent").order_by("sort", "code")
    )
    default_place = (
        next((p for p in places if p.level == PlaceLevel.GRID), None) if patrol_report else None
    )
    if default_place is None and len([p for p in places if p.level == PlaceLevel.COMMUNITY]) == 1:
        default_place = next(p for p in places if p.level == PlaceLevel.COMMUNITY)
    form = forms.StaffIntakeForm(
        request.POST or None,
        request.FILES or None,
        categories=categories,
        places=places,
        patrol=patrol_report,
        initial={
            "place": default_place.code if default_place else "",
            "priority": Priority.NORMAL,
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            result = actions.submit_appeal(
                user,
                channel=channel,
                description=d["description"],
                category=d["category"],
                lat=d["lat"],
                lng=d["lng"],
                address=d["address"],
                place=d["place"] if d["lat"] is None else None,
                contact_name=d["contact_name"],
                contact_phone=d["contact_phone"],
                priority=d["priority"],
                photos=d.get("photos") or (),
                idempotency_key=d["idempotency_key"] or None,
            )
        except ActionError as error:
            show_errors(form, error)
        else:
            return redirect("appeals:submitted", tracking_no=result.appeal.tracking_no)
    focus = (
        default_place.parent
        if default_place and default_place.level == PlaceLevel.GRID
        else default_place
    )
    return render(
        request,
        "appeals/intake_staff.html",
        {
            "form": form,
            "patrol": patrol_report,
            "map_config": _map_config(focus.code if focus else "", places=[p.code for p in places]),
        },
    )


def _intake_places(user: User, roles) -> list[Place]:
    """Communities and grids inside the jurisdictions the user takes reports for."""
    codes = scope.jurisdiction_codes(user, roles_allowed=roles) or []
    if not codes:
        return []
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(code__startswith=code)
    return list(
        Place.objects.filter(condition, level__in=[PlaceLevel.COMMUNITY, PlaceLevel.GRID])
        .select_related("parent")
        .order_by("code")
    )


def _map_config(focus: str, places: list[str] | None = None) -> dict:
    return {
        "boundariesUrl": reverse("appeals:boundaries"),
        "focus": focus,
        "places": places,
        "text": {
            "loading": _("Loading the map…"),
            "loadFailed": _("The map could not be loaded. Choose a community below instead."),
            "outside": _("This point is outside the service area."),
            "notYours": _("This point is outside your jurisdiction."),
            "chosen": _("Marked:"),
            "tooMany": _("At most %(n)d photos.") % {"n": MAX_PHOTOS},
            # %(n)s is filled in by the script.
            "photosChosen": _("%(n)s photos chosen"),
            "noMatch": _("No category matches. Try another word."),
            "chosenCategory": _("Chosen:"),
        },
    }


# --- Lists ----------------------------------------------------------------------------------

MORE_FILTERS = (
    "category",
    "place",
    "channel",
    "unit",
    "date_from",
    "date_to",
    "overdue",
    "supervised",
)
STATE_GROUPS = [
    ("received,accepted", gettext_lazy("Waiting for dispatch")),
    ("dispatched,signed,handling", gettext_lazy("With a unit")),
]


@requires(may_work_appeals)
def appeal_list(request: AuthedRequest) -> HttpResponse:
    """Everything in the viewer's scope, filtered; opens on the role's own queue."""
    user = request.user
    params = request.GET.copy()
    if "mine" not in params:
        params["mine"] = "1" if scope.roles(user) & QUEUE_ROLES else "0"
    units = list(core_queries.units_for(user).order_by("code"))
    form = forms.QueueFilterForm(
        params,
        state_choices=[*STATE_GROUPS, *State.choices],
        categories=_ordered_categories(),
        places=_filter_places(user),
        units=units,
        channel_choices=Channel.choices,
    )
    qs = Appeal.objects.none()
    export_url = ""
    if form.is_valid():
        f = _api_filter(form.cleaned_data)
        try:
            qs = queries.filter_appeals(user, queries.AppealFilter(**f))
        except ActionError as error:
            show_errors(form, error)
        else:
            export_url = f"{reverse('api:appeals_export')}?{urlencode(_export_params(f))}"
    qs = qs.select_related("category", "community", "grid", "unit").annotate(
        pending_extension=Exists(
            ExtensionRequest.objects.filter(
                appeal=OuterRef("pk"), status=ExtensionRequest.Status.PENDING
            )
        )
    )
    page = Paginator(qs, LIST_PER_PAGE).get_page(request.GET.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "appeals/list.html",
        {
            "form": form,
            "page": page,
            "rows": [_row(a) for a in page.object_list],
            "presets": _presets(user, params),
            "query": query.urlencode(),
            "export_url": export_url,
            "mine": params.get("mine") == "1",
            "filtered": any(params.get(k) for k in form.fields if k != "mine"),
            "more_filters": any(params.get(k) for k in MORE_FILTERS)
            or any(form.errors.get(k) for k in MORE_FILTERS),
        },
    )


def _api_filter(data: dict) -> dict:
    """Form data → the API's AppealFilter arguments (same names)."""
    f: dict = {}
    for key in ("state", "category", "place", "channel", "unit", "q"):
        if data.get(key):
            f[key] = data[key]
    for key in ("overdue", "supervised"):
        if data.get(key):
            f[key] = True
    for key in ("date_from", "date_to"):
        if data.get(key):
            f[key] = data[key]
    if data.get("mine") == "1":
        f["mine"] = True
    return f


def _export_params(f: dict) -> dict:
    out = {}
    for key, value in f.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dt.date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def _presets(user: User, params) -> list[dict]:
    """The role's ready-made views (tabs): my queue, waiting for dispatch, to sign for …"""
    roles = scope.roles(user)
    presets: list[tuple[str, dict]] = []
    if roles & QUEUE_ROLES or Role.LEADER in roles:
        presets.append((_("My queue"), {"mine": "1"}))
    if roles & {Role.DISPATCHER, Role.COMMUNITY_STAFF}:
        presets.append((_("Waiting for dispatch"), {"mine": "0", "state": "received,accepted"}))
    if Role.UNIT_HANDLER in roles:
        presets.append((_("To sign for"), {"mine": "1", "state": "dispatched"}))
        presets.append((_("Handling"), {"mine": "1", "state": "signed,handling"}))
    presets.append((_("Overdue"), {"mine": "0", "overdue": "on"}))
    presets.append((_("Under supervision"), {"mine": "0", "supervised": "on"}))
    presets.append((_("All"), {"mine": "0"}))
    current = {k: v for k, v in params.items() if v and k != "page"}
    return [
        {"label": label, "url": f"?{urlencode(p)}", "active": current == p} for label, p in presets
    ]


def _ordered_categories() -> list[Category]:
    cats = list(Category.objects.filter(active=True).order_by("sort", "code"))
    children: dict[int, list[Category]] = {}
    for c in cats:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    ordered: list[Category] = []
    for top in (c for c in cats if c.parent_id is None):
        ordered.append(top)
        ordered.extend(children.get(top.pk, []))
    return ordered


def _filter_places(user: User) -> list[Place]:
    places = core_queries.places_for(user).order_by("code")
    grids = places.filter(level=PlaceLevel.GRID).count()
    levels = [PlaceLevel.STREET, PlaceLevel.COMMUNITY]
    if grids <= MAX_GRID_OPTIONS:
        levels.append(PlaceLevel.GRID)
    return list(places.filter(level__in=levels))


# --- One appeal -----------------------------------------------------------------------------


@requires(None)
def detail(request: AuthedRequest, tracking_no: str) -> HttpResponse:
    return _detail_page(request, _get_visible(request, tracking_no))


@dataclass(frozen=True)
class Step:
    """A step a viewer may take on the detail page: its form and the action it calls."""

    label: object
    form: Callable[..., BaseForm]
    run: Callable[[User, Appeal, dict], object]
    done: object
    style: str = ""
    primary: bool = False


def _unit_form(form_class):
    def make(request, appeal, data=None, files=None):
        groups, suggested = _unit_groups(
            request.user, appeal, exclude=appeal.unit if form_class is forms.TransferForm else None
        )
        return form_class(data, files, unit_groups=groups, suggested=suggested)

    return make


def _plain(form_class):
    def make(request, appeal, data=None, files=None):
        return form_class(data, files)

    return make


def _merge_form(request, appeal, data=None, files=None):
    return forms.MergeForm(data, files, visible=queries.appeals_for(request.user))


def _decide(user: User, appeal: Appeal, d: dict) -> None:
    pending = appeal.extensions.filter(status=ExtensionRequest.Status.PENDING).first()
    if pending is None:
        raise ActionError(
            _("No extension request is waiting for a decision."),
            field="decision",
            code=ErrorCode.INVALID_STATE,
        )
    actions.decide_extension(user, pending, approve=d["decision"] == "approve", note=d["note"])


STEPS: dict[str, Step] = {
    "accept": Step(
        gettext_lazy("Accept"),
        _plain(forms.NoteForm),
        lambda u, a, d: actions.accept(u, a, note=d["note"]),
        gettext_lazy("Accepted."),
        primary=True,
    ),
    "dispatch": Step(
        gettext_lazy("Dispatch"),
        _unit_form(forms.DispatchForm),
        lambda u, a, d: actions.dispatch(u, a, unit=d["unit"], note=d["note"]),
        gettext_lazy("Dispatched."),
        primary=True,
    ),
    "sign": Step(
        gettext_lazy("Sign for"),
        _plain(forms.NoteForm),
        lambda u, a, d: actions.sign(u, a, note=d["note"]),
        gettext_lazy("Signed for. The case is now yours."),
        primary=True,
    ),
    "progress": Step(
        gettext_lazy("Report progress"),
        _plain(forms.ProgressForm),
        lambda u, a, d: actions.progress(u, a, note=d["note"], photos=d["photos"]),
        gettext_lazy("Progress recorded."),
        primary=True,
    ),
    "resolve": Step(
        gettext_lazy("Resolve"),
        _plain(forms.ResolveForm),
        lambda u, a, d: actions.resolve(u, a, result=d["result"], photos=d["photos"]),
        gettext_lazy("Resolved. The resident is asked to rate the result."),
        primary=True,
    ),
    "decide-extension": Step(
        gettext_lazy("Decide on the extension"),
        _plain(forms.DecideExtensionForm),
        _decide,
        gettext_lazy("Decision on the extension recorded."),
        primary=True,
    ),
    "rate": Step(
        gettext_lazy("Rate the result"),
        _plain(forms.RateForm),
        lambda u, a, d: actions.rate(u, a, rating=d["rating"], comment=d["comment"]),
        gettext_lazy("Thank you for your rating."),
        primary=True,
    ),
    "transfer": Step(
        gettext_lazy("Transfer"),
        _unit_form(forms.TransferForm),
        lambda u, a, d: actions.transfer(u, a, unit=d["unit"], reason=d["reason"]),
        gettext_lazy("Transferred."),
    ),
    "return": Step(
        gettext_lazy("Return to dispatcher"),
        _plain(forms.ReasonForm),
        lambda u, a, d: actions.return_to_dispatcher(u, a, reason=d["reason"]),
        gettext_lazy("Returned to the dispatcher."),
    ),
    "request-extension": Step(
        gettext_lazy("Request extension"),
        _plain(forms.ExtensionForm),
        lambda u, a, d: actions.request_extension(u, a, days=d["days"], reason=d["reason"]),
        gettext_lazy("Extension requested."),
    ),
    "supervise": Step(
        gettext_lazy("Supervise"),
        _plain(forms.RequiredNoteForm),
        lambda u, a, d: actions.supervise(u, a, note=d["note"]),
        gettext_lazy("The appeal is under supervision."),
    ),
    "suspend": Step(
        gettext_lazy("Suspend"),
        _plain(forms.ReasonForm),
        lambda u, a, d: actions.suspend(u, a, reason=d["reason"]),
        gettext_lazy("Suspended; the clock stops."),
    ),
    "resume": Step(
        gettext_lazy("Resume"),
        _plain(forms.NoteForm),
        lambda u, a, d: actions.resume(u, a, note=d["note"]),
        gettext_lazy("Resumed."),
    ),
    "escalate": Step(
        gettext_lazy("Escalate"),
        _plain(forms.ReasonForm),
        lambda u, a, d: actions.escalate(u, a, reason=d["reason"]),
        gettext_lazy("Escalated."),
    ),
    "merge": Step(
        gettext_lazy("Merge into another"),
        _merge_form,
        lambda u, a, d: actions.merge(u, a, into=d["into"], note=d["note"]),
        gettext_lazy("Merged."),
    ),
    "reject": Step(
        gettext_lazy("Reject"),
        _plain(forms.ReasonForm),
        lambda u, a, d: actions.reject(u, a, reason=d["reason"]),
        gettext_lazy("Not accepted."),
        style="danger",
    ),
    "close": Step(
        gettext_lazy("Close"),
        _plain(forms.NoteForm),
        lambda u, a, d: actions.close(u, a, note=d["note"]),
        gettext_lazy("Closed."),
    ),
    "withdraw": Step(
        gettext_lazy("Withdraw"),
        _plain(forms.OptionalReasonForm),
        lambda u, a, d: actions.withdraw(u, a, reason=d["reason"]),
        gettext_lazy("Your appeal is withdrawn."),
        style="danger",
    ),
    "comment": Step(
        gettext_lazy("Internal note"),
        _plain(forms.RequiredNoteForm),
        lambda u, a, d: actions.comment(u, a, note=d["note"]),
        gettext_lazy("Note added."),
    ),
}


def _build(verb: str, request, appeal: Appeal, data=None, files=None):
    """The step's form; element ids carry the verb, as several forms share field names."""
    form = STEPS[verb].form(request, appeal, data, files)
    form.auto_id = f"id_{verb.replace('-', '_')}_%s"
    return form


@require_POST
@requires(None)
def act(request: AuthedRequest, tracking_no: str, verb: str) -> HttpResponse:
    """One step on one appeal: a form posted from the detail (or submitted) page."""
    step = STEPS.get(verb)
    if step is None:
        raise Http404
    appeal = _get_visible(request, tracking_no)
    form = _build(verb, request, appeal, request.POST, request.FILES)
    status = 200
    if form.is_valid():
        try:
            step.run(request.user, appeal, form.cleaned_data)
        except ActionError as error:
            show_errors(form, error, {"request": "decision", "state": ""})
            status = error.status if error.status in (403, 404) else 200
        else:
            messages.success(request, str(step.done))
            if not queries.appeals_for(request.user).filter(pk=appeal.pk).exists():
                return redirect("appeals:list")  # e.g. returned: no longer the unit's case
            return redirect("appeals:detail", tracking_no=appeal.tracking_no)
    appeal = _get_visible(request, tracking_no)
    return _detail_page(request, appeal, bound=(verb, form), status=status)


def _detail_page(
    request: AuthedRequest, appeal: Appeal, *, bound=None, status: int = 200
) -> HttpResponse:
    user = request.user
    staff = queries.is_staff_viewer(user)
    extensions = (
        list(appeal.extensions.select_related("requested_by", "decided_by").order_by("created_at"))
        if staff
        else []
    )
    verbs = queries.allowed_actions(user, appeal, extensions=extensions)
    steps = []
    for verb in STEPS:
        if verb not in verbs:
            continue
        step = STEPS[verb]
        form = bound[1] if bound and bound[0] == verb else _build(verb, request, appeal)
        steps.append(
            {
                "verb": verb,
                "label": step.label,
                "form": form,
                "style": step.style,
                "primary": step.primary,
                "open": bool(bound and bound[0] == verb),
                "url": reverse("appeals:act", args=[appeal.tracking_no, verb]),
                "multipart": "photos" in form.fields,
            }
        )
    page_errors = []
    if bound and bound[0] not in verbs:
        form = bound[1]
        page_errors = [e for errors in form.errors.values() for e in errors]
    attachments = list(appeal.attachments.select_related("event").order_by("id"))
    numbers = {a.pk: n for n, a in enumerate(attachments, start=1)}
    timeline = _timeline(user, appeal, staff, numbers)
    submit_photos = [
        _photo(appeal, a, numbers)
        for a in attachments
        if a.event is not None and a.event.verb == "submit"
    ]
    pending = next((x for x in extensions if x.status == ExtensionRequest.Status.PENDING), None)
    phone_reads.record(user, appeal, read_audit.reason_of(request))
    return render(
        request,
        "appeals/detail.html",
        {
            "appeal": appeal,
            "row": _row(appeal),
            "staff": staff,
            "owner": appeal.resident_id == user.pk,
            "phone": (
                appeal.contact_phone
                if queries.may_see_phone(user, appeal)
                else mask_phone(appeal.contact_phone)
            ),
            "timeline": timeline,
            "photos": submit_photos,
            "clock": _clock(appeal) if staff else [],
            "steps": [s for s in steps if s["primary"]],
            "side_steps": [s for s in steps if not s["primary"]],
            "page_errors": page_errors,
            "duplicates": _duplicates(user, appeal) if staff else [],
            "may_merge": "merge" in verbs,
            "merged": list(
                appeal.merged.order_by("received_at").values_list("tracking_no", flat=True)
            )
            if staff
            else [],
            "extensions": [_extension(x) for x in extensions],
            "pending_extension": _extension(pending) if pending else None,
            "rating_hint": _(
                "4–5 stars: satisfied · 3: basically satisfied · 1–2: not satisfied "
                "(the case goes back to the unit)"
            ),
        },
        status=status,
    )


@requires(None)
def photo(
    request: AuthedRequest, tracking_no: str, number: int, thumbnail: bool = False
) -> HttpResponseBase:
    """A photo of an appeal, to those who may see the step it documents."""
    appeal = _get_visible(request, tracking_no)
    att = queries.photo_for(request.user, appeal, number)
    if att is None:
        raise Http404
    field = att.thumbnail if thumbnail and att.thumbnail else att.file
    suffix = "-thumb" if field is att.thumbnail else ""
    return uploads.serve(request, field, download_name=f"{tracking_no}-{number}{suffix}")


@require_GET
@requires(None)
def boundaries(request: AuthedRequest) -> JsonResponse:
    """Community and grid outlines for the intake map: public names, codes and geometry only
    (a resident has no right to the place API, but needs the map to mark a point)."""
    places = (
        Place.objects.filter(
            level__in=[PlaceLevel.COMMUNITY, PlaceLevel.GRID], boundary__isnull=False
        )
        .select_related("parent")
        .order_by("code")
    )
    features = [
        {
            "type": "Feature",
            "id": p.code,
            "geometry": p.boundary,
            "properties": {
                "code": p.code,
                "name": p.name,
                "level": p.level,
                "parent_code": p.parent.code if p.parent_id and p.parent else None,
                "parent_name": p.parent.name if p.parent_id and p.parent else None,
            },
        }
        for p in places
    ]
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    patch_cache_control(response, private=True, max_age=300)
    return response


# --- Inbox ----------------------------------------------------------------------------------


@requires(None)
def inbox(request: AuthedRequest) -> HttpResponse:
    qs = Notification.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(qs, INBOX_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "title": n.title,
            "body": n.body,
            "at": n.created_at,
            "unread": n.read_at is None,
            "url": reverse("appeals:inbox_open", args=[n.pk]),
            "has_link": bool(n.link),
        }
        for n in page.object_list
    ]
    return render(
        request,
        "appeals/inbox.html",
        {
            "page": page,
            "rows": rows,
            "query": "",
            "unread": qs.filter(read_at=None).count(),
        },
    )


@requires(None)
def inbox_open(request: AuthedRequest, notification_id: int) -> HttpResponse:
    """Mark one message read and follow its link (a page of this site only)."""
    message = get_object_or_404(Notification, pk=notification_id, user=request.user)
    if message.read_at is None:
        Notification.objects.filter(pk=message.pk, read_at=None).update(read_at=timezone.now())
    link = message.link
    if link and url_has_allowed_host_and_scheme(
        link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(link)
    return redirect("appeals:inbox")


@require_POST
@requires(None)
def inbox_read_all(request: AuthedRequest) -> HttpResponse:
    count = Notification.objects.filter(user=request.user, read_at=None).update(
        read_at=timezone.now()
    )
    if count:
        messages.success(request, _("All messages marked as read."))
    return redirect("appeals:inbox")


# --- Presentation ---------------------------------------------------------------------------

EVENT_LABELS = {
    "submit": gettext_lazy("Submitted"),
    "accept": gettext_lazy("Accepted"),
    "reject": gettext_lazy("Not accepted"),
    "dispatch": gettext_lazy("Dispatched"),
    "transfer": gettext_lazy("Transferred"),
    "sign": gettext_lazy("Signed for by the unit"),
    "progress": gettext_lazy("Progress"),
    "resolve": gettext_lazy("Resolved"),
    "rate": gettext_lazy("Rated"),
    "reopen": gettext_lazy("Reopened: back to the unit"),
    "close": gettext_lazy("Closed"),
    "return": gettext_lazy("Returned to the dispatcher"),
    "request_extension": gettext_lazy("Extension requested"),
    "approve_extension": gettext_lazy("Extension approved"),
    "reject_extension": gettext_lazy("Extension refused"),
    "supervise": gettext_lazy("Put under supervision"),
    "classify": gettext_lazy("Category changed"),
    "suspend": gettext_lazy("Suspended"),
    "resume": gettext_lazy("Resumed"),
    "withdraw": gettext_lazy("Withdrawn"),
    "escalate": gettext_lazy("Escalated"),
    "merge": gettext_lazy("Merged into another appeal"),
    "absorb": gettext_lazy("Took in a duplicate"),
    "comment": gettext_lazy("Internal note"),
    "overdue": gettext_lazy("Overdue"),
    "route_refused": gettext_lazy("Not dispatched automatically"),
}
ESCALATION_LABELS = {
    "street": gettext_lazy("to the street"),
    "district": gettext_lazy("to the district"),
}


def _timeline(user: User, appeal: Appeal, staff: bool, numbers: dict[int, int]) -> list[dict]:
    items = []
    for e in queries.timeline_for(user, appeal):
        items.append(
            {
                "at": e.at,
                "verb": e.verb,
                "label": str(EVENT_LABELS.get(e.verb, e.verb)),
                "detail": _event_detail(e),
                "actor": _actor(e, user, staff),
                "role": (
                    str(Role(e.actor_role).label)
                    if staff and e.actor_role in Role.values and not e.automatic
                    else ""
                ),
                "note": e.note if e.verb != "submit" else "",
                "internal": not e.public,
                "automatic": e.automatic or e.actor_id is None,
                "state": e.to_state,
                "state_label": str(State(e.to_state).label) if e.to_state in State.values else "",
                "photos": (
                    []
                    if e.verb == "submit"
                    else [
                        _photo(appeal, a, numbers)
                        for a in sorted(e.attachments.all(), key=lambda a: a.pk)
                    ]
                ),
            }
        )
    return items


def _event_detail(e: AppealEvent) -> str:
    data = e.data or {}
    if e.verb in ("dispatch", "transfer", "reopen") and e.unit_id and e.unit:
        return _("to %(unit)s") % {"unit": e.unit.name}
    if e.verb in ("request_extension", "approve_extension", "reject_extension") and "days" in data:
        return _("%(days)s working days") % {"days": _number(data["days"])}
    if e.verb == "rate" and data.get("rating"):
        label = Satisfaction(data["satisfaction"]).label if data.get("satisfaction") else ""
        return f"{'★' * int(data['rating'])}{'☆' * (5 - int(data['rating']))} {label}"
    if e.verb == "merge" and data.get("into"):
        return _("into %(no)s") % {"no": data["into"]}
    if e.verb == "absorb" and data.get("merged"):
        return str(data["merged"])
    if e.verb == "escalate" and data.get("level") in ESCALATION_LABELS:
        return str(ESCALATION_LABELS[data["level"]])
    if e.verb == "return" and e.unit_id and e.unit:
        return _("by %(unit)s") % {"unit": e.unit.name}
    return ""


def _actor(e: AppealEvent, viewer: User, staff: bool) -> str:
    if e.automatic or e.actor_id is None:
        return _("System")
    if e.actor_id == viewer.pk:
        return _("You")
    if e.actor_role == Role.UNIT_HANDLER and e.unit_id and e.unit:
        return f"{e.unit.name} · {_person(e.actor)}" if staff else e.unit.name
    if staff:
        return _person(e.actor)
    return str(Role(e.actor_role).label) if e.actor_role in Role.values else _("Staff")


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or user.username


def _photo(appeal: Appeal, att: Attachment, numbers: dict[int, int]) -> dict:
    n = numbers[att.pk]
    return {
        "url": reverse("appeals:photo", args=[appeal.tracking_no, n]),
        "thumb": reverse("appeals:photo_thumb", args=[appeal.tracking_no, n]),
        "n": n,
    }


def _row(a: Appeal) -> dict:
    """One appeal in a list: number, title, where, state, unit and the clock that matters."""
    deadline, deadline_label = None, ""
    if a.state == State.DISPATCHED and a.sign_deadline and not a.signed_at:
        deadline, deadline_label = a.sign_deadline, _("Sign for by")
    elif a.state in (State.DISPATCHED, State.SIGNED, State.HANDLING):
        deadline, deadline_label = a.resolve_deadline, _("Resolve by")
    return {
        "tracking_no": a.tracking_no,
        "title": a.title or a.description[:30],
        "url": reverse("appeals:detail", args=[a.tracking_no]),
        "state": a.state,
        "state_label": str(State(a.state).label),
        "category": (a.category.name if a.category_id and a.category else _("Uncategorised")),
        "place": " · ".join(p.name for p in (a.community, a.grid) if p is not None),
        "address": a.address,
        "unit": a.unit.name if a.unit_id and a.unit else "",
        "received_at": a.received_at,
        "deadline": deadline,
        "deadline_label": deadline_label,
        "overdue": a.overdue,
        "supervised": a.supervised,
        "urgent": a.priority == Priority.URGENT,
        "reopened": a.reopen_count,
        "channel": str(Channel(a.channel).label) if a.channel in Channel.values else a.channel,
        "pending_extension": getattr(a, "pending_extension", False),
        "to_rate": a.state == State.RESOLVED,
        "satisfaction": (str(Satisfaction(a.satisfaction).label) if a.satisfaction else ""),
    }


def _clock(appeal: Appeal) -> list[dict]:
    """Deadlines with the working time left (or past), and when steps were done in time."""
    now = timezone.now()
    cal = WorkCalendar()
    clock = []
    if appeal.sign_deadline:
        clock.append(
            _deadline(
                _("Sign for by"),
                appeal.sign_deadline,
                appeal.signed_at,
                appeal.state == State.DISPATCHED,
                now,
                cal,
            )
        )
    if appeal.resolve_deadline:
        clock.append(
            _deadline(
                _("Resolve by"),
                appeal.resolve_deadline,
                appeal.resolved_at,
                appeal.state in (State.DISPATCHED, State.SIGNED, State.HANDLING),
                now,
                cal,
            )
        )
    if appeal.state == State.SUSPENDED:
        clock.append(
            {
                "label": _("Clock"),
                "at": appeal.suspended_at,
                "status": "paused",
                "text": _("Stopped while suspended"),
            }
        )
    return clock


def _deadline(
    label: str,
    deadline: dt.datetime,
    done_at: dt.datetime | None,
    running: bool,
    now: dt.datetime,
    cal: WorkCalendar,
) -> dict:
    if done_at is not None:
        late = done_at > deadline
        return {
            "label": label,
            "at": deadline,
            "status": "late" if late else "met",
            "text": _("Done late") if late else _("Done in time"),
        }
    if not running:
        return {"label": label, "at": deadline, "status": "idle", "text": ""}
    if deadline >= now:
        hours = cal.working_hours_between(now, deadline)
        return {
            "label": label,
            "at": deadline,
            "status": "soon" if hours <= 2 else "ok",
            "text": _("%(time)s left") % {"time": _duration(hours, cal)},
        }
    hours = cal.working_hours_between(deadline, now)
    return {
        "label": label,
        "at": deadline,
        "status": "late",
        "text": _("Overdue by %(time)s") % {"time": _duration(hours, cal)},
    }


def _duration(hours: float, cal: WorkCalendar) -> str:
    if hours >= cal.hours_per_day:
        return _("%(n)s working days") % {"n": _number(hours / cal.hours_per_day)}
    return _("%(n)s working hours") % {"n": _number(hours)}


def _number(value) -> str:
    value = round(float(value), 1)
    return str(int(value)) if value == int(value) else str(value)


def _extension(x: ExtensionRequest) -> dict:
    return {
        "days": _number(x.days),
        "reason": x.reason,
        "status": x.status,
        "status_label": str(ExtensionRequest.Status(x.status).label),
        "requested_by": _person(x.requested_by),
        "at": x.created_at,
        "decided_by": _person(x.decided_by) if x.decided_by_id else "",
        "decided_at": x.decided_at,
    }


def _duplicates(user: User, appeal: Appeal) -> list[dict]:
    if appeal.state not in states.ACTIVE:
        return []
    found = actions.find_duplicates(appeal)
    visible = (
        queries.appeals_for(user)
        .filter(pk__in=[a.pk for a in found])
        .select_related("category", "community", "grid", "unit")
        .order_by("received_at")
    )
    return [_row(a) for a in visible]


def _unit_groups(user: User, appeal: Appeal, exclude: Unit | None = None):
    """Units to choose from: the routing table's suggestion first, then units covering the
    place, then the other units of the dispatcher's jurisdiction."""
    decision = routing.route(appeal.category, appeal.place_code)
    suggested = list(decision.candidates)
    if decision.unit is not None:
        suggested = [decision.unit, *[u for u in suggested if u.pk != decision.unit.pk]]
    code = appeal.place_code
    prefixes = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    covering = list(
        Unit.objects.filter(active=True, places__code__in=prefixes).distinct().order_by("code")
    )
    others = list(core_queries.units_for(user).filter(active=True).order_by("code"))
    seen: set[int] = {exclude.pk} if exclude is not None else set()
    groups = []
    for label, units in (
        (_("Suggested by the routing table"), suggested),
        (_("Units covering this place"), covering),
        (_("Other units"), others),
    ):
        fresh = [u for u in units if u.pk not in seen]
        seen.update(u.pk for u in fresh)
        groups.append((label, fresh))
    first = decision.unit if decision.unit is not None and decision.unit != exclude else None
    return groups, first


def _get_visible(request: AuthedRequest, tracking_no: str) -> Appeal:
    appeal = (
        queries.appeals_for(request.user)
        .select_related(
            "category",
            "category_top",
            "street",
            "community",
            "grid",
            "unit",
            "merged_into",
            "resident",
        )
        .filter(tracking_no=tracking_no)
        .first()
    )
    if appeal is None:
        raise Http404(_("No such appeal, or it is outside your jurisdiction."))
    return appeal
