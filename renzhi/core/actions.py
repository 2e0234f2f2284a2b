"""Every state change of places, units, accounts, roles, tokens and the calendar.

Each function: checks the actor's permission and data scope, validates input into field-named
errors, changes rows inside one transaction, and appends an audit event. Nothing else writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, geo, phone_codes, signin_throttle
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import (
    CODE_LENGTH,
    PARENT_LEVEL,
    ROLE_PLACE_LEVELS,
    ApiToken,
    CalendarOverride,
    Membership,
    Place,
    PlaceLevel,
    Role,
    Unit,
    UnitKind,
    User,
)
from renzhi.core.permissions import Perm, require
from renzhi.core.privacy import mask_phone
from renzhi.core.scope import is_global_admin

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
TOKEN_PREFIX = "rz_"


# --- Places ---------------------------------------------------------------------------------


@transaction.atomic
def create_place(
    actor: User,
    *,
    level: str,
    code: str,
    name: str,
    boundary,
    parent: Place | None = None,
    population: int = 0,
) -> Place:
    require(actor, Perm.MANAGE_PLACES)  # refuse a role without the right before judging input
    if level not in PlaceLevel.values:
        raise ActionError(_("Unknown place level “%(level)s”.") % {"level": level}, field="level")
    if parent is None:
        if level != PlaceLevel.DISTRICT:
            raise ActionError(
                _("A %(level)s needs a parent place.") % {"level": PlaceLevel(level).label},
                field="parent",
            )
        if not is_global_admin(actor):
            raise PermissionRefused(
                _("Only a system administrator without a jurisdiction can create a district.")
            )
        require(actor, Perm.MANAGE_PLACES)
    else:
        require(actor, Perm.MANAGE_PLACES, parent)
        if PARENT_LEVEL.get(PlaceLevel(level)) != parent.level:
            raise ActionError(
                _("A %(level)s must belong to a %(parent)s.")
                % {
                    "level": PlaceLevel(level).label,
                    "parent": PlaceLevel(PARENT_LEVEL[PlaceLevel(level)]).label,
                },
                field="parent",
            )
    errors = _place_code_errors(level, code, parent)
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Please enter a name.")))
    if population < 0:
        errors.append(
            FieldError("population", ErrorCode.INVALID, _("Population cannot be negative."))
        )
    if errors:
        raise ActionError(errors=errors)
    geom = geo.parse_boundary(boundary)
    _check_inside_parent(geom, parent)
    place = Place(
        level=level,
        code=code,
        name=name,
        parent=parent,
        population=population,
        **geo.boundary_fields(geom),
    )
    try:
        with transaction.atomic():
            place.save(force_insert=True)
    except IntegrityError as exc:
        raise _duplicate_code(code) from exc
    audit.record(actor, "place.create", place, after=_place_summary(place))
    return place


@transaction.atomic
def update_place(
    actor: User,
    place: Place,
    *,
    name: str | None = None,
    boundary=None,
    population: int | None = None,
) -> Place:
    place = Place.objects.select_for_update().get(pk=place.pk)
    require(actor, Perm.MANAGE_PLACES, place)
    before = _place_summary(place)
    if name is not None:
        if not name.strip():
            raise ActionError(_("Please enter a name."), field="name", code=ErrorCode.REQUIRED)
        place.name = name.strip()
    if population is not None:
        if population < 0:
            raise ActionError(_("Population cannot be negative."), field="population")
        place.population = population
    if boundary is not None:
        geom = geo.parse_boundary(boundary)
        _check_inside_parent(geom, place.parent)
        # `boundary=None` would match JSON null only; a child without a boundary is SQL NULL.
        for child in place.children.exclude(boundary__isnull=True):
            if not geo.lies_within(geo.parse_boundary(child.boundary), geom):
                raise ActionError(
                    _("The new boundary would leave “%(child)s” outside it.")
                    % {"child": child.name},
                    field="boundary",
                )
        for key, value in geo.boundary_fields(geom).items():
            setattr(place, key, value)
    place.save()
    audit.record(actor, "place.update", place, before=before, after=_place_summary(place))
    return place


def _place_code_errors(level: str, code: str, parent: Place | None) -> list[FieldError]:
    length = CODE_LENGTH[PlaceLevel(level)]
    if not code or not code.isdigit() or len(code) != length or not code.isascii():
        return [
            FieldError(
                "code",
                ErrorCode.INVALID,
                _("A %(level)s code has exactly %(n)d digits.")
                % {"level": PlaceLevel(level).label, "n": length},
            )
        ]
    if parent is not None and not code.startswith(parent.code):
        return [
            FieldError(
                "code",
                ErrorCode.INVALID,
                _("The code must start with the parent's code %(code)s.") % {"code": parent.code},
            )
        ]
    if Place.objects.filter(code=code).exists():
        return [_duplicate_code(code).errors[0]]
    return []


def _duplicate_code(code: str) -> ActionError:
    return ActionError(
        _("The code %(code)s is already used by another place.") % {"code": code},
        field="code",
        code=ErrorCode.DUPLICATE,
    )


def _check_inside_parent(geom, parent: Place | None) -> None:
    if parent is None or not parent.boundary:
        return
    if not geo.lies_within(geom, geo.parse_boundary(parent.boundary)):
        raise ActionError(
            _("The boundary extends outside its parent “%(parent)s”.") % {"parent": parent.name},
            field="boundary",
            code=ErrorCode.OUT_OF_AREA,
        )


def _place_summary(place: Place) -> dict:
    return {
        "code": place.code,
        "name": place.name,
        "level": place.level,
        "population": place.population,
        "bbox": [place.min_lng, place.min_lat, place.max_lng, place.max_lat],
    }


# --- Units ----------------------------------------------------------------------------------


@transaction.atomic
def create_unit(
    actor: User,
    *,
    code: str,
    name: str,
    kind: str,
    contact_phone: str = "",
    places: list[Place] | None = None,
) -> Unit:
    require(actor, Perm.MANAGE_UNITS)
    places = places or []
    for place in places:
        require(actor, Perm.MANAGE_UNITS, place)
    errors: list[FieldError] = []
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        errors.append(FieldError("code", ErrorCode.REQUIRED, _("Please enter a code.")))
    elif Unit.objects.filter(code=code).exists():
        errors.append(
            FieldError(
                "code",
                ErrorCode.DUPLICATE,
                _("The code %(code)s is already used by another unit.") % {"code": code},
            )
        )
    if not name:
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Please enter a name.")))
    if kind not in UnitKind.values:
        errors.append(
            FieldError(
                "kind", ErrorCode.INVALID, _("Unknown unit kind “%(kind)s”.") % {"kind": kind}
            )
        )
    if errors:
        raise ActionError(errors=errors)
    unit = Unit.objects.create(code=code, name=name, kind=kind, contact_phone=contact_phone)
    unit.places.set(places)
    audit.record(
        actor,
        "unit.create",
        unit,
        after={"code": code, "name": name, "kind": kind, "places": [p.code for p in places]},
    )
    return unit


# --- Accounts -------------------------------------------------------------------------------


@transaction.atomic
def request_registration_code(*, phone: str, ip: str | None = None) -> None:
    """Registration step 1: text a one-time code to the number (see `phone_codes`).

    The answer is the same whether or not the number is registered; only its owner learns
    that, from the text. Rate-limited per number and per address (429).
    """
    phone = (phone or "").strip()
    if not PHONE_RE.match(phone):
        raise ActionError(_("Please enter an 11-digit mainland mobile number."), field="phone")
    row = phone_codes.send_code(phone, ip=ip)
    audit.record(
        None,
        "user.registration_code",
        None,
        object_type="core.phonecode",
        object_id=str(row.pk),
        label=mask_phone(phone),
        after={"phone": mask_phone(phone)},
    )


def register_resident(
    *,
    phone: str,
    code: str,
    password: str,
    display_name: str = "",
    home_place: Place | None = None,
) -> User:
    """Registration step 2: the texted code proves the phone, which becomes the username.

    The details are checked first (a typo in the password costs no attempt at the code); then
    the code is redeemed in its own transaction, so a wrong guess is counted even though the
    registration is refused. A registered number never receives a code, so it fails here like
    any wrong code and its registration is not revealed.
    """
    phone = (phone or "").strip()
    errors: list[FieldError] = []
    if not PHONE_RE.match(phone):
        errors.append(
            FieldError(
                "phone", ErrorCode.INVALID, _("Please enter an 11-digit mainland mobile number.")
            )
        )
    if home_place is not None and home_place.level not in (PlaceLevel.COMMUNITY, PlaceLevel.GRID):
        errors.append(
            FieldError("home_place", ErrorCode.INVALID, _("Please choose your community."))
        )
    candidate = User(username=phone, phone=phone, display_name=(display_name or "").strip())
    errors += _password_errors(password, candidate)
    if errors:
        raise ActionError(errors=errors)
    if not phone_codes.redeem(phone, code):
        raise ActionError(
            _("The code is wrong or has expired. Check the text message or ask for a new code."),
            field="code",
        )
    with transaction.atomic():
        return _create_resident(candidate, password, home_place)


def _create_resident(candidate: User, password: str, home_place: Place | None) -> User:
    phone = candidate.username
    if User.objects.filter(Q(username=phone) | Q(phone=phone)).exists():
        raise _duplicate_phone()  # only after proving the phone: registered meanwhile
    candidate.home_place = home_place
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # registered concurrently since the check above
        raise _duplicate_phone() from exc
    Membership.objects.create(user=candidate, role=Role.RESIDENT, place=home_place)
    audit.record(
        candidate,
        "user.register",
        candidate,
        label=mask_phone(phone),
        after={"phone": mask_phone(phone), "home_place": home_place.code if home_place else None},
    )
    return candidate


@transaction.atomic
def create_user(
    actor: User,
    *,
    username: str,
    password: str,
    display_name: str = "",
    phone: str | None = None,
    role: str | None = None,
    place: Place | None = None,
    unit: Unit | None = None,
) -> User:
    """A new account, with its first role when given.

    A jurisdiction administrator must give the first role at once: an account without a role
    or home place lies outside every jurisdiction, and they could never find it again.
    """
    require(actor, Perm.MANAGE_USERS)
    if not role and not is_global_admin(actor):
        raise ActionError(
            _("Please give the new account its first role in your jurisdiction."),
            field="role",
            code=ErrorCode.REQUIRED,
        )
    username = (username or "").strip()
    phone = (phone or "").strip() or None
    errors: list[FieldError] = []
    if not re.match(r"^[\w.@+-]{3,150}$", username):
        errors.append(
            FieldError(
                "username",
                ErrorCode.INVALID,
                _("A username has 3–150 letters, digits or the characters . @ + - _."),
            )
        )
    elif User.objects.filter(username=username).exists():
        errors.append(FieldError("username", ErrorCode.DUPLICATE, _("This username is taken.")))
    if phone is not None:
        if not PHONE_RE.match(phone):
            errors.append(
                FieldError(
                    "phone",
                    ErrorCode.INVALID,
                    _("Please enter an 11-digit mainland mobile number."),
                )
            )
        elif User.objects.filter(phone=phone).exists():
            errors.append(
                FieldError(
                    "phone", ErrorCode.DUPLICATE, _("This phone number is already registered.")
                )
            )
    candidate = User(username=username, display_name=(display_name or "").strip(), phone=phone)
    errors += _password_errors(password, candidate)
    if errors:
        raise ActionError(errors=errors)
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError as exc:  # created concurrently since the checks above
        raise ActionError(
            _("This username is taken."), field="username", code=ErrorCode.DUPLICATE
        ) from exc
    audit.record(
        actor, "user.create", candidate, after={"username": username, "phone": mask_phone(phone)}
    )
    if role:
        _grant_role(actor, candidate, role=role, place=place, unit=unit)
    return candidate


@transaction.atomic
def set_password(
    actor: User, user: User, password: str, *, credential: ApiToken | None = None
) -> None:
    """A new password, set by the account itself or by an administrator who may manage it.

    `credential` is the API token the request came with, if any: a token may not change a
    password (a stolen token must not become a stolen account). The account's API tokens are
    revoked, so a reset after a compromise locks out whoever held them; Django's session hash
    ends its other browser sessions.
    """
    if credential is not None:
        raise PermissionRefused(_("A password can only be changed from a signed-in browser."))
    if actor.pk != user.pk:
        _require_manage_user(actor, user)
    errors = _password_errors(password, user)
    if errors:
        raise ActionError(errors=errors)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    revoked = ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
    audit.record(actor, "user.set_password", user, after={"tokens_revoked": revoked})


@transaction.atomic
def set_user_active(actor: User, user: User, active: bool) -> User:
    _require_manage_user(actor, user)
    if actor.pk == user.pk and not active:
        raise ActionError(_("You cannot deactivate your own account."), field="active")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"active": user.is_active}
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
    audit.record(
        actor,
        "user.activate" if active else "user.deactivate",
        user,
        before=before,
        after={"active": active},
    )
    return user


@transaction.atomic
def grant_role(
    actor: User, user: User, *, role: str, place: Place | None = None, unit: Unit | None = None
) -> Membership:
    """A further role for an account the actor may manage (wholly inside their jurisdiction)."""
    _require_manage_user(actor, user)
    return _grant_role(actor, user, role=role, place=place, unit=unit)


def _grant_role(
    actor: User, user: User, *, role: str, place: Place | None = None, unit: Unit | None = None
) -> Membership:
    require(actor, Perm.MANAGE_USERS)
    if role not in Role.values:
        raise ActionError(_("Unknown role “%(role)s”.") % {"role": role}, field="role")
    if role == Role.UNIT_HANDLER:
        if unit is None:
            raise ActionError(
                _("A unit handler must belong to a unit."), field="unit", code=ErrorCode.REQUIRED
            )
        if place is not None:
            raise ActionError(_("A unit handler is bound to a unit, not a place."), field="place")
        if not is_global_admin(actor):
            for covered in unit.places.all():
                require(actor, Perm.MANAGE_USERS, covered)
    else:
        if unit is not None:
            raise ActionError(_("Only a unit handler is bound to a unit."), field="unit")
        if place is None:
            if role == Role.ADMIN:
                if not is_global_admin(actor):
                    raise PermissionRefused(
                        _("Only a global administrator can create another."), field="role"
                    )
            elif role != Role.RESIDENT:
                raise ActionError(
                    _("This role must be bound to a place."), field="place", code=ErrorCode.REQUIRED
                )
        else:
            require(actor, Perm.MANAGE_USERS, place)
            allowed = ROLE_PLACE_LEVELS.get(role, set())
            if place.level not in allowed:
                raise ActionError(
                    _("A %(role)s is bound to a %(levels)s, not a %(level)s.")
                    % {
                        "role": Role(role).label,
                        "levels": " / ".join(
                            str(PlaceLevel(v).label) for v in PlaceLevel.values if v in allowed
                        ),
                        "level": PlaceLevel(place.level).label,
                    },
                    field="place",
                )
    if Membership.objects.filter(user=user, role=role, place=place, unit=unit).exists():
        raise _already_holds_role()
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, role=role, place=place, unit=unit)
    except IntegrityError as exc:  # granted concurrently since the check above
        raise _already_holds_role() from exc
    audit.record(
        actor,
        "membership.grant",
        membership,
        label=str(user),
        after={
            "user": user.username,
            "role": role,
            "place": place.code if place else None,
            "unit": unit.code if unit else None,
        },
    )
    return membership


@transaction.atomic
def revoke_role(actor: User, membership: Membership) -> None:
    # Lock the membership row only: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer joins to place and unit.
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("place", "unit", "user")
        .get(pk=membership.pk)
    )
    _require_manage_user(actor, membership.user)
    if membership.place is not None:
        require(actor, Perm.MANAGE_USERS, membership.place)
    else:
        require(actor, Perm.MANAGE_USERS)
        if not is_global_admin(actor):
            raise PermissionRefused(_("Only a global administrator can revoke this role."))
    if membership.user_id == actor.pk and membership.role == Role.ADMIN:
        raise ActionError(_("You cannot revoke your own administrator role."), field="role")
    summary = {
        "user": membership.user.username,
        "role": membership.role,
        "place": membership.place.code if membership.place else None,
        "unit": membership.unit.code if membership.unit else None,
    }
    audit.record(actor, "membership.revoke", membership, label=str(membership.user), before=summary)
    membership.delete()


@transaction.atomic
def unlock_sign_in(actor: User, *, user: User | None = None, ip: str = "") -> int:
    """Lift a sign-in lockout before its cool-off ends; returns the failure records cleared.

    An account may be unlocked by whoever may manage it; an address (which may lock out many
    people behind one gateway) only by a global administrator. Audited either way.
    """
    require(actor, Perm.MANAGE_USERS)
    ip = (ip or "").strip()
    if user is None and not ip:
        raise ActionError(
            _("Please name the account or the address to unlock."),
            field="username",
            code=ErrorCode.REQUIRED,
        )
    if user is not None:
        _require_manage_user(actor, user)
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ActionError(_("Please enter a valid IP address."), field="ip") from None
        if not is_global_admin(actor):
            raise PermissionRefused(
                _("Only a global administrator can unlock an address."), field="ip"
            )
    cleared = signin_throttle.unlock(username=user.username if user else None, ip=ip or None)
    after = {"username": user.username if user else None, "ip": ip or None, "cleared": cleared}
    if user is not None:
        audit.record(actor, "auth.unlock", user, after=after)
    else:
        audit.record(
            actor, "auth.unlock", None, object_type="core.user", object_id="", label=ip, after=after
        )
    return cleared


def _duplicate_phone() -> ActionError:
    return ActionError(
        _("This phone number is already registered."), field="phone", code=ErrorCode.DUPLICATE
    )


def _already_holds_role() -> ActionError:
    return ActionError(
        _("The user already holds this role here."), field="role", code=ErrorCode.DUPLICATE
    )


def _require_manage_user(actor: User, user: User) -> None:
    """The actor may manage `user`: global admin, or every role and home of `user` is inside."""
    require(actor, Perm.MANAGE_USERS)
    if is_global_admin(actor):
        return
    from renzhi.core.queries import users_for

    if not users_for(actor).filter(pk=user.pk).exists():
        raise PermissionRefused(_("This account is outside your jurisdiction."))


def _password_errors(password: str, user: User) -> list[FieldError]:
    if not password:
        return [FieldError("password", ErrorCode.REQUIRED, _("Please enter a password."))]
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return [FieldError("password", ErrorCode.WEAK_PASSWORD, str(m)) for m in exc.messages]
    return []


# --- API tokens -----------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def issue_api_token(
    actor: User, name: str, *, credential: ApiToken | None = None
) -> tuple[ApiToken, str]:
    """A new token for the actor's own account; the raw key is shown once and never stored.

    `credential` is the API token the request came with: tokens come only from an interactive
    session, so a leaked token cannot mint itself successors that outlive its revocation.
    """
    if credential is not None:
        raise PermissionRefused(_("API tokens can only be issued from a signed-in browser."))
    require(actor, Perm.USE_API_TOKENS)
    name = (name or "").strip()
    if not name:
        raise ActionError(
            _("Please name the token (e.g. the system that will use it)."),
            field="name",
            code=ErrorCode.REQUIRED,
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, name=name[:100], prefix=raw[:10], key_hash=hash_token(raw)
    )
    audit.record(actor, "token.issue", token, after={"name": token.name, "prefix": token.prefix})
    return token, raw


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk:
        _require_manage_user(actor, token.user)
    if token.revoked_at is not None:
        raise ActionError(
            _("This token is already revoked."), field="token", code=ErrorCode.INVALID_STATE
        )
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor, "token.revoke", token, after={"prefix": token.prefix})
    return token


# --- Calendar -------------------------------------------------------------------------------


@transaction.atomic
def set_calendar_override(
    actor: User, *, date: dt.date, is_working_day: bool, note: str = ""
) -> CalendarOverride:
    _require_calendar_admin(actor)
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise ActionError(_("Please enter a valid date."), field="date")
    note = (note or "").strip()[:100]
    override, created = CalendarOverride.objects.select_for_update().get_or_create(
        date=date, defaults={"is_working_day": is_working_day, "note": note}
    )
    before = None if created else {"working": override.is_working_day, "note": override.note}
    override.is_working_day, override.note = is_working_day, note
    override.save()
    audit.record(
        actor,
        "calendar.override",
        override,
        before=before,
        after={"date": date.isoformat(), "working": is_working_day, "note": override.note},
    )
    return override


@transaction.atomic
def remove_calendar_override(actor: User, override: CalendarOverride) -> None:
    _require_calendar_admin(actor)
    audit.record(
        actor,
        "calendar.remove_override",
        override,
        before={"date": override.date.isoformat(), "working": override.is_working_day},
    )
    override.delete()


def _require_calendar_admin(actor: User) -> None:
    """The calendar sets every deadline in every jurisdiction, so a scoped admin may not edit it."""
    require(actor, Perm.MANAGE_CALENDAR)
    if not is_global_admin(actor):
        raise PermissionRefused(
            _("Only a system administrator without a jurisdiction can change the calendar.")
        )
