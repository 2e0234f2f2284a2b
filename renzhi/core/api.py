"""Core JSON API: who am I, places and lookup, units, accounts and roles, tokens, calendar,
audit.

No `from __future__ import annotations` here: `@paginate` wraps views in a function whose
globals are ninja's, so string annotations such as `QueryText` would not resolve.
"""

import datetime as dt

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from renzhi.core import actions, geo, phone_codes, queries, scope, signin_throttle, workdays
from renzhi.core.apiauth import credential_of
from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused, fields_renamed
from renzhi.core.http import AuthedRequest
from renzhi.core.middleware import client_ip
from renzhi.core.models import (
    ApiToken,
    AuditEvent,
    CalendarOverride,
    Membership,
    Place,
    PlaceLevel,
    Unit,
    User,
)
from renzhi.core.pagination import Page
from renzhi.core.permissions import Perm, has_perm
from renzhi.core.schemas import (
    ActiveIn,
    AuditEventOut,
    CalendarDayOut,
    CalendarOverrideIn,
    LocateOut,
    MembershipOut,
    MeOut,
    PasswordIn,
    PlaceDetailOut,
    PlaceIn,
    PlaceOut,
    PlacePatch,
    RegisterCodeIn,
    RegisterCodeOut,
    RegisterIn,
    RoleIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UnitIn,
    UnitOut,
    UnlockedOut,
    UnlockIn,
    UserIn,
    UserOut,
)
from renzhi.core.text import QueryText

router = Router(tags=["core"])


# --- me / registration ----------------------------------------------------------------------


@router.get("/me", response=MeOut, summary="The current account and its roles")
def me(request: AuthedRequest):
    user = request.auth
    ms = scope.memberships(user)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone or "",
        "roles": sorted({m.role for m in ms}),
        "memberships": [_membership(m) for m in ms],
    }


@router.post(
    "/auth/register/code",
    auth=None,
    response={202: RegisterCodeOut},
    summary="Resident self-registration, step 1: text a one-time code to the phone",
)
def register_code(request: AuthedRequest, payload: RegisterCodeIn):
    _refuse_locked_address(request)
    actions.request_registration_code(phone=payload.phone, ip=client_ip(request))
    return 202, {"detail": phone_codes.code_sent_message()}


@router.post(
    "/auth/register",
    auth=None,
    response={201: MeOut},
    summary="Resident self-registration, step 2: the texted code and the account details",
)
def register(request: AuthedRequest, payload: RegisterIn):
    _refuse_locked_address(request)
    home = None
    if payload.community_code:
        home = Place.objects.filter(code=payload.community_code).first()
        if home is None:
            raise ActionError(
                _("Unknown community code."), field="community_code", code=ErrorCode.NOT_FOUND
            )
    try:
        with fields_renamed({"home_place": "community_code"}):
            user = actions.register_resident(
                phone=payload.phone,
                code=payload.code,
                password=payload.password,
                display_name=payload.display_name,
                home_place=home,
            )
    except ActionError as error:
        if any(e.field == "code" for e in error.errors):
            signin_throttle.record_failure(request, _REGISTRATION)
        raise
    return 201, {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "phone": user.phone or "",
        "roles": ["resident"],
        "memberships": [_membership(m) for m in user.memberships.all()],
    }


# --- places ---------------------------------------------------------------------------------


@router.get("/places", response=list[PlaceOut], summary="Places in my jurisdiction")
@paginate(Page)
def list_places(
    request: AuthedRequest,
    level: QueryText | None = None,
    parent: QueryText | None = None,
    q: QueryText | None = None,
):
    _require(request, Perm.VIEW_PLACES)
    qs = queries.places_for(request.auth).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    if q:
        qs = qs.filter(name__icontains=q)
    return [PlaceOut.from_place(p) for p in qs.order_by("code")]


@router.get("/places/geojson", summary="Boundaries as a GeoJSON FeatureCollection")
def places_geojson(
    request: AuthedRequest, level: QueryText = PlaceLevel.GRID, within: QueryText | None = None
):
    _require(request, Perm.VIEW_PLACES)
    qs = queries.places_for(request.auth).filter(level=level, boundary__isnull=False)
    if within:
        qs = qs.filter(code__startswith=within)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": p.code,
                "geometry": p.boundary,
                "properties": {
                    "code": p.code,
                    "name": p.name,
                    "level": p.level,
                    "parent_code": p.parent.code if p.parent is not None else None,
                    "population": p.population,
                },
            }
            for p in qs.select_related("parent").order_by("code")
        ],
    }


@router.get("/places/locate", response=LocateOut, summary="Which grid contains a point")
def locate(request: AuthedRequest, lat: float, lng: float):
    grid = geo.locate(lat, lng)
    if grid is None:
        return {"inside": False, "message": _("This location is outside the service area.")}
    chain = [*grid.ancestors(), grid]
    by_level = {p.level: PlaceOut.from_place(p) for p in chain}
    return {"inside": True, "message": grid.full_name, **by_level}


@router.get("/places/{code}", response=PlaceDetailOut, summary="One place with its boundary")
def get_place(request: AuthedRequest, code: str):
    place = get_object_or_404(queries.places_for(request.auth).select_related("parent"), code=code)
    return {**PlaceOut.from_place(place), "boundary": place.boundary, "full_name": place.full_name}


@router.post("/places", response={201: PlaceDetailOut}, summary="Create a place")
def create_place(request: AuthedRequest, payload: PlaceIn):
    parent = None
    if payload.parent_code:
        parent = Place.objects.filter(code=payload.parent_code).first()
        if parent is None:
            raise ActionError(
                _("Unknown parent code."), field="parent_code", code=ErrorCode.NOT_FOUND
            )
    with fields_renamed({"parent": "parent_code"}):
        place = actions.create_place(
            request.auth,
            level=payload.level,
            code=payload.code,
            name=payload.name,
            parent=parent,
            boundary=payload.boundary,
            population=payload.population,
        )
    return 201, {
        **PlaceOut.from_place(place),
        "boundary": place.boundary,
        "full_name": place.full_name,
    }


@router.patch(
    "/places/{code}", response=PlaceDetailOut, summary="Rename, re-draw or set population"
)
def update_place(request: AuthedRequest, code: str, payload: PlacePatch):
    place = get_object_or_404(queries.places_for(request.auth), code=code)
    place = actions.update_place(
        request.auth,
        place,
        name=payload.name,
        boundary=payload.boundary,
        population=payload.population,
    )
    return {**PlaceOut.from_place(place), "boundary": place.boundary, "full_name": place.full_name}


# --- units ----------------------------------------------------------------------------------


@router.get("/units", response=list[UnitOut], summary="Handling units in my jurisdiction")
@paginate(Page)
def list_units(request: AuthedRequest, kind: QueryText | None = None, q: QueryText | None = None):
    _require(request, Perm.VIEW_UNITS)
    qs = queries.units_for(request.auth).prefetch_related("places")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return [_unit(u) for u in qs.order_by("code")]


@router.get("/units/{code}", response=UnitOut)
def get_unit(request: AuthedRequest, code: str):
    return _unit(get_object_or_404(queries.units_for(request.auth), code=code))


@router.post("/units", response={201: UnitOut})
def create_unit(request: AuthedRequest, payload: UnitIn):
    places = list(Place.objects.filter(code__in=payload.place_codes))
    missing = set(payload.place_codes) - {p.code for p in places}
    if missing:
        raise ActionError(
            _("Unknown place codes: %(codes)s") % {"codes": ", ".join(sorted(missing))},
            field="place_codes",
            code=ErrorCode.NOT_FOUND,
        )
    with fields_renamed({"places": "place_codes"}):
        unit = actions.create_unit(
            request.auth,
            code=payload.code,
            name=payload.name,
            kind=payload.kind,
            contact_phone=payload.contact_phone,
            places=places,
        )
    return 201, _unit(unit)


# --- users and roles ------------------------------------------------------------------------


@router.get("/users", response=list[UserOut], summary="Accounts I administer")
@paginate(Page)
def list_users(request: AuthedRequest, q: QueryText | None = None, role: QueryText | None = None):
    _require(request, Perm.MANAGE_USERS)
    qs = queries.users_for(request.auth).prefetch_related(_memberships_prefetch())
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(display_name__icontains=q)
    if role:
        qs = qs.filter(memberships__role=role).distinct()
    return [UserOut.from_user(u, show_phone=True) for u in qs.order_by("id")]


@router.get("/users/{user_id}", response=UserOut)
def get_user(request: AuthedRequest, user_id: int):
    user = get_object_or_404(
        queries.users_for(request.auth).prefetch_related(_memberships_prefetch()), pk=user_id
    )
    return UserOut.from_user(user, show_phone=True)


@router.post("/users", response={201: UserOut})
def create_user(request: AuthedRequest, payload: UserIn):
    place, unit = _place_and_unit(payload.place_code, payload.unit_code)
    with fields_renamed({"place": "place_code", "unit": "unit_code"}):
        user = actions.create_user(
            request.auth,
            username=payload.username,
            password=payload.password,
            display_name=payload.display_name,
            phone=payload.phone,
            role=payload.role,
            place=place,
            unit=unit,
        )
    return 201, UserOut.from_user(user, show_phone=True)


@router.post("/users/{user_id}/roles", response={201: MembershipOut})
def grant_role(request: AuthedRequest, user_id: int, payload: RoleIn):
    user = _managed_user(request, user_id)
    place, unit = _place_and_unit(payload.place_code, payload.unit_code)
    with fields_renamed({"place": "place_code", "unit": "unit_code"}):
        membership = actions.grant_role(
            request.auth, user, role=payload.role, place=place, unit=unit
        )
    return 201, _membership(membership)


@router.delete("/memberships/{membership_id}", response={204: None})
def revoke_role(request: AuthedRequest, membership_id: int):
    membership = get_object_or_404(
        Membership, pk=membership_id, user__in=queries.users_for(request.auth)
    )
    actions.revoke_role(request.auth, membership)
    return 204, None


@router.post("/users/{user_id}/password", response={204: None})
def set_password(request: AuthedRequest, user_id: int, payload: PasswordIn):
    user = request.auth if user_id == request.auth.id else _managed_user(request, user_id)
    actions.set_password(request.auth, user, payload.password, credential=credential_of(request))
    return 204, None


@router.post("/users/{user_id}/active", response=UserOut)
def set_active(request: AuthedRequest, user_id: int, payload: ActiveIn):
    user = actions.set_user_active(request.auth, _managed_user(request, user_id), payload.active)
    return UserOut.from_user(user, show_phone=True)


@router.post(
    "/users/{user_id}/unlock", response=UnlockedOut, summary="Lift an account's sign-in lockout"
)
def unlock_user(request: AuthedRequest, user_id: int):
    return {"cleared": actions.unlock_sign_in(request.auth, user=_managed_user(request, user_id))}


@router.post(
    "/auth/unlock-address",
    response=UnlockedOut,
    summary="Lift an address's sign-in lockout (global administrators)",
)
def unlock_address(request: AuthedRequest, payload: UnlockIn):
    return {"cleared": actions.unlock_sign_in(request.auth, ip=payload.ip)}


# --- tokens ---------------------------------------------------------------------------------


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request: AuthedRequest):
    return list(ApiToken.objects.filter(user=request.auth).order_by("-created_at"))


@router.post(
    "/tokens", response={201: TokenCreatedOut}, summary="Issue a token (the key is shown once)"
)
def issue_token(request: AuthedRequest, payload: TokenIn):
    token, raw = actions.issue_api_token(
        request.auth, payload.name, credential=credential_of(request)
    )
    return 201, {**TokenOut.from_orm(token).dict(), "key": raw}


@router.delete("/tokens/{token_id}", response=TokenOut)
def revoke_token(request: AuthedRequest, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.auth)
    return actions.revoke_api_token(request.auth, token)


# --- calendar -------------------------------------------------------------------------------


@router.get("/calendar", response=list[CalendarDayOut], summary="Working days in a date range")
def calendar(request: AuthedRequest, start: dt.date, end: dt.date):
    if end < start:
        raise ActionError(_("The end date is before the start date."), field="end")
    if (end - start).days > 366:
        raise ActionError(_("At most one year at a time."), field="end")
    return [workdays.day_info(start + dt.timedelta(days=i)) for i in range((end - start).days + 1)]


@router.get("/calendar/deadline", summary="Add working hours to a start time")
def calendar_deadline(request: AuthedRequest, start: dt.datetime, hours: float):
    if hours < 0 or hours > 24 * 365:
        raise ActionError(_("Hours must be between 0 and 8760."), field="hours")
    return {"start": start, "hours": hours, "deadline": workdays.add_working_hours(start, hours)}


@router.post("/calendar/overrides", response={201: CalendarDayOut})
def set_override(request: AuthedRequest, payload: CalendarOverrideIn):
    actions.set_calendar_override(
        request.auth, date=payload.date, is_working_day=payload.is_working_day, note=payload.note
    )
    return 201, workdays.day_info(payload.date)


@router.delete("/calendar/overrides/{date}", response=CalendarDayOut)
def remove_override(request: AuthedRequest, date: dt.date):
    override = get_object_or_404(CalendarOverride, date=date)
    actions.remove_calendar_override(request.auth, override)
    return workdays.day_info(date)


# --- audit ----------------------------------------------------------------------------------


@router.get("/audit", response=list[AuditEventOut], summary="The audit chain (administrators)")
@paginate(Page)
def audit_events(
    request: AuthedRequest,
    object_type: QueryText | None = None,
    object_id: QueryText | None = None,
    verb: QueryText | None = None,
):
    if not (has_perm(request.auth, Perm.VIEW_AUDIT) and scope.is_global_admin(request.auth)):
        raise PermissionRefused(_("Only a system administrator can read the audit chain."))
    qs = AuditEvent.objects.order_by("-seq")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if verb:
        qs = qs.filter(verb=verb)
    return qs


# --- helpers --------------------------------------------------------------------------------


def _membership(m: Membership) -> dict:
    return {
        "id": m.id,
        "role": m.role,
        "role_label": str(m.get_role_display()),
        "place_code": m.place.code if m.place else None,
        "place_name": m.place.name if m.place else None,
        "unit_code": m.unit.code if m.unit else None,
        "unit_name": m.unit.name if m.unit else None,
    }


def _unit(u: Unit) -> dict:
    return {
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "kind_label": str(u.get_kind_display()),
        "contact_phone": u.contact_phone,
        "active": u.active,
        "place_codes": sorted(p.code for p in u.places.all()),
    }


def _require(request: AuthedRequest, perm: Perm) -> None:
    if not has_perm(request.auth, perm):
        raise PermissionRefused(_("Your role does not allow this action."))


def _place_and_unit(
    place_code: str | None, unit_code: str | None
) -> tuple[Place | None, Unit | None]:
    place = unit = None
    if place_code:
        place = Place.objects.filter(code=place_code).first()
        if place is None:
            raise ActionError(
                _("Unknown place code."), field="place_code", code=ErrorCode.NOT_FOUND
            )
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise ActionError(_("Unknown unit code."), field="unit_code", code=ErrorCode.NOT_FOUND)
    return place, unit


_REGISTRATION = signin_throttle.channel_credentials("registration")


def _refuse_locked_address(request) -> None:
    """Wrong registration codes count against the address like wrong passwords."""
    if not signin_throttle.is_allowed(request, _REGISTRATION):
        raise ActionError(signin_throttle.lockout_message(), code=ErrorCode.RATE_LIMITED)


def _managed_user(request: AuthedRequest, user_id: int) -> User:
    return get_object_or_404(queries.users_for(request.auth), pk=user_id)


def _memberships_prefetch() -> Prefetch:
    return Prefetch("memberships", queryset=Membership.objects.select_related("place", "unit"))


__all__ = ["Query", "router"]
