"""Read side of appeals: scoped querysets and the timeline each viewer may see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from renzhi.appeals import states
from renzhi.appeals.actions.cases import DISPATCH_ROLES, INTAKE_STAFF, SUPERVISE_ROLES
from renzhi.appeals.models import (
    OPEN_STATES,
    Appeal,
    AppealEvent,
    Attachment,
    Category,
    Channel,
    ExtensionRequest,
    State,
)
from renzhi.core import scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError
from renzhi.core.models import Role, User
from renzhi.core.text import Text
from renzhi.core.workdays import LOCAL_TZ

ORDERINGS = {"received_at", "resolve_deadline", "updated_at", "priority", "tracking_no"}

# Roles that see appeals: residents their own, units their own cases, staff their jurisdiction.
APPEAL_ROLES = {
    Role.RESIDENT,
    Role.GRID_WORKER,
    Role.COMMUNITY_STAFF,
    Role.DISPATCHER,
    Role.LEADER,
    Role.UNIT_HANDLER,
    Role.ADMIN,
}
# Roles allowed to see contact phone numbers unmasked.
PHONE_ROLES = {Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.UNIT_HANDLER, Role.GRID_WORKER}


def appeals_for(user: User | None) -> QuerySet[Appeal]:
    return scope.scope_queryset(
        user,
        Appeal.objects.all(),
        code_field="place_code",
        unit_field="unit",
        owner_field="resident",
        roles_allowed=APPEAL_ROLES,
    )


def is_staff_viewer(user: User | None) -> bool:
    return bool(scope.roles(user) & (APPEAL_ROLES - {Role.RESIDENT}))


def may_see_phone(user: User | None, appeal: Appeal) -> bool:
    if appeal.resident_id is not None and user is not None and appeal.resident_id == user.pk:
        return True
    return bool(scope.roles(user) & PHONE_ROLES)


def timeline_for(user: User | None, appeal: Appeal) -> QuerySet[AppealEvent]:
    """Staff and units see every step; the resident sees the public steps only."""
    events = appeal.events.select_related("actor", "unit").prefetch_related("attachments")
    if is_staff_viewer(user):
        return events.order_by("at", "id")
    return events.filter(public=True).order_by("at", "id")


def photo_for(user: User | None, appeal: Appeal, number: int) -> Attachment | None:
    """The `number`-th photo of a visible appeal (1-based, in upload order, as in the photo
    URLs), or None when there is none or it documents a step hidden from this viewer."""
    if not 1 <= number <= 10_000:  # no OFFSET beyond what a database accepts
        return None
    found = list(appeal.attachments.select_related("event").order_by("id")[number - 1 : number])
    if not found:
        return None
    att = found[0]
    if att.event is not None and not att.event.public and not is_staff_viewer(user):
        return None
    return att


def public_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True, public=True).select_related("parent")


class AppealFilter(Schema):
    state: Annotated[str, Text(200)] | None = Field(
        None, description="Comma-separated states, e.g. dispatched,signed."
    )
    category: Annotated[str, Text(16)] | None = Field(
        None, description="Category code (first or second level)."
    )
    place: Annotated[str, Text(15)] | None = Field(
        None, description="Place code prefix (street, community, grid)."
    )
    channel: Annotated[str, Text(100)] | None = None
    unit: Annotated[str, Text(32)] | None = Field(None, description="Unit code.")
    overdue: bool | None = None
    supervised: bool | None = None
    date_from: dt.date | None = Field(None, description="Received on or after (Beijing date).")
    date_to: dt.date | None = Field(None, description="Received on or before (Beijing date).")
    q: Annotated[str, Text(200)] | None = Field(
        None, description="Words in description, title, address, number."
    )
    mine: bool = Field(
        False,
        description="My queue: the unit's open cases for a unit handler; "
        "those waiting for dispatch for a dispatcher.",
    )
    import_job: int | None = None
    ordering: Annotated[str, Text(30)] | None = Field(
        None,
        description="received_at, resolve_deadline, updated_at, "
        "priority or tracking_no; prefix - to reverse.",
    )


def filter_appeals(user: User, f: AppealFilter) -> QuerySet[Appeal]:
    """The viewer's appeals narrowed by the list filters (API list, export and web list)."""
    qs = appeals_for(user)
    errors: list[FieldError] = []
    if f.state:
        wanted = [s.strip() for s in f.state.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in State.values]
        if unknown:
            errors.append(
                FieldError(
                    "state",
                    ErrorCode.INVALID,
                    _("Unknown state: %(states)s") % {"states": ", ".join(unknown)},
                )
            )
        qs = qs.filter(state__in=wanted)
    if f.category:
        qs = qs.filter(Q(category__code=f.category) | Q(category_top__code=f.category))
    if f.place:
        qs = qs.filter(place_code__startswith=f.place.strip())
    if f.channel:
        if f.channel not in Channel.values:
            errors.append(FieldError("channel", ErrorCode.INVALID, _("Unknown channel.")))
        qs = qs.filter(channel=f.channel)
    if f.unit:
        qs = qs.filter(unit__code=f.unit)
    if f.overdue is not None:
        qs = qs.filter(overdue=f.overdue)
    if f.supervised is not None:
        qs = qs.filter(supervised=f.supervised)
    if f.date_from and f.date_to and f.date_to < f.date_from:
        errors.append(
            FieldError("date_to", ErrorCode.INVALID, _("The end date is before the start date."))
        )
    if f.date_from:
        qs = qs.filter(received_at__gte=_local_midnight(f.date_from))
    if f.date_to:
        qs = qs.filter(received_at__lt=_local_midnight(f.date_to + dt.timedelta(days=1)))
    if f.q and f.q.strip():
        term = f.q.strip()[:100]
        qs = qs.filter(
            Q(description__icontains=term)
            | Q(title__icontains=term)
            | Q(tracking_no__icontains=term)
            | Q(address__icontains=term)
        )
    if f.import_job is not None:
        qs = qs.filter(channel=Channel.IMPORT, extra__import_job=f.import_job)
    if f.mine:
        qs = qs.filter(my_queue(user))
    order = (f.ordering or "-received_at").strip()
    if order.lstrip("-") not in ORDERINGS:
        errors.append(
            FieldError(
                "ordering", ErrorCode.INVALID, _("Cannot sort by “%(field)s”.") % {"field": order}
            )
        )
    if errors:
        raise ActionError(errors=errors)
    return qs.order_by(order, "-id")


def my_queue(user: User) -> Q:
    """What waits for this user: a unit's open cases; appeals waiting for dispatch or an
    extension decision (dispatchers, community staff); supervised cases (leaders); a resident's
    own appeals; what a grid worker reported."""
    ms = scope.memberships(user)
    roles = {m.role for m in ms}
    condition = Q(pk__in=[])
    units = [m.unit_id for m in ms if m.role == Role.UNIT_HANDLER]
    if units:
        condition |= Q(
            unit_id__in=units, state__in=[State.DISPATCHED, State.SIGNED, State.HANDLING]
        )
    if roles & DISPATCH_ROLES:
        condition |= Q(state__in=[State.RECEIVED, State.ACCEPTED])
        condition |= Q(
            pk__in=ExtensionRequest.objects.filter(status=ExtensionRequest.Status.PENDING).values(
                "appeal_id"
            )
        )
    if Role.LEADER in roles:
        condition |= Q(supervised=True, state__in=OPEN_STATES)
    if Role.RESIDENT in roles:
        condition |= Q(resident=user)
    if Role.GRID_WORKER in roles:
        condition |= Q(created_by=user)
    return condition


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)


API_VERBS = {
    "return": "return",
    "request_extension": "request-extension",
    "decide_extension": "decide-extension",
}


def allowed_actions(user: User, a: Appeal, *, extensions=None) -> list[str]:
    """The transitions of `states` that this viewer may start now (API names).

    Mirrors the role and scope checks of `renzhi.appeals.actions.cases`; the action itself
    still decides (this only drives which buttons to show).
    """
    ms = scope.memberships(user)
    here = {m.role for m in ms if m.place is not None and a.place_code.startswith(m.place.code)}
    handler = a.unit_id is not None and any(
        m.role == Role.UNIT_HANDLER and m.unit_id == a.unit_id for m in ms
    )
    owner = a.resident_id is not None and a.resident_id == user.pk
    if extensions is None:
        extensions = list(a.extensions.all())
    pending = any(x.status == ExtensionRequest.Status.PENDING for x in extensions)
    verbs = states.allowed_verbs(a.state)
    if a.state == State.RECEIVED:
        verbs.append("dispatch")  # accept and dispatch in one step
    staff_roles: dict[str, set[str]] = {
        "accept": DISPATCH_ROLES,
        "reject": DISPATCH_ROLES,
        "dispatch": DISPATCH_ROLES,
        "transfer": DISPATCH_ROLES,
        "merge": DISPATCH_ROLES,
        "close": DISPATCH_ROLES,
        "supervise": SUPERVISE_ROLES,
        "suspend": {Role.DISPATCHER},
        "resume": {Role.DISPATCHER},
        "decide_extension": {Role.DISPATCHER},
        "escalate": {Role.COMMUNITY_STAFF, Role.DISPATCHER},
        "comment": INTAKE_STAFF | SUPERVISE_ROLES,
    }
    handler_verbs = {"sign", "progress", "resolve", "return", "request_extension", "comment"}
    allowed = []
    for verb in verbs:
        if verb == "reopen":
            continue  # happens through an unsatisfied rating
        if verb == "rate":
            ok = owner if a.resident_id is not None else bool(here & DISPATCH_ROLES)
        elif verb == "withdraw":
            ok = owner
        else:
            ok = bool(here & staff_roles.get(verb, set())) or (handler and verb in handler_verbs)
        if verb == "decide_extension":
            ok = ok and pending
        if verb == "request_extension":
            ok = ok and not pending
        if ok:
            allowed.append(API_VERBS.get(verb, verb))
    if (
        a.state == State.MERGED
        and owner
        and a.merged_into is not None
        and a.merged_into.state in (State.RESOLVED, State.CLOSED)
    ):
        allowed.append("rate")
    return list(dict.fromkeys(allowed))
