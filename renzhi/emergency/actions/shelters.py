"""Shelters (避难场所): open one, check people in and out.

Check-in locks the shelter row, checks the room left, then moves `occupancy` with F(); the
database constraint `occupancy <= capacity` is the last guard. Two desks checking in at the
same moment therefore can never overfill a shelter: the second waits for the lock and sees
the first one's people.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, PlaceLevel, User
from renzhi.emergency import rules
from renzhi.emergency.actions.incidents import log_line
from renzhi.emergency.models import Incident, LogKind, Shelter, ShelterStay
from renzhi.emergency.shelters import FACILITIES

__all__ = ["check_in", "check_out", "create_shelter", "set_open"]

MAX_PARTY = 50


def create_shelter(
    actor: User,
    *,
    name: str,
    place: Place | None,
    capacity: int | str | None,
    address: str = "",
    facilities: list[str] | None = None,
    lat: float | None = None,
    lng: float | None = None,
) -> Shelter:
    errors: list[FieldError] = []
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Please give the shelter a name.")))
    cap = _int(capacity)
    if cap is None or cap < 1:
        errors.append(
            FieldError(
                "capacity", ErrorCode.INVALID, _("The capacity must be a whole number above zero.")
            )
        )
    if place is None:
        errors.append(FieldError("place", ErrorCode.REQUIRED, _("Choose the community.")))
    elif place.level not in (PlaceLevel.COMMUNITY, PlaceLevel.STREET):
        errors.append(
            FieldError("place", ErrorCode.INVALID, _("A shelter belongs to a community or street."))
        )
    unknown = [f for f in facilities or [] if f not in FACILITIES]
    if unknown:
        errors.append(FieldError("facilities", ErrorCode.INVALID, _("Unknown facility.")))
    if errors:
        raise ActionError(errors=errors)
    assert place is not None and cap is not None
    if not rules._covers(actor, place, rules.SHELTER_MANAGERS):
        raise PermissionRefused(_("You may not manage shelters here."), field="place")
    with transaction.atomic():
        shelter = Shelter.objects.create(
            name=name[:120],
            place=place,
            capacity=cap,
            address=(address or "")[:200],
            facilities=list(dict.fromkeys(facilities or [])),
            lat=lat,
            lng=lng,
        )
        audit.record(actor, "emergency.shelter.create", shelter, after={"capacity": cap})
    return shelter


def set_open(actor: User, shelter: Shelter, is_open: bool) -> Shelter:
    if not rules.may_manage_shelter(actor, shelter):
        raise PermissionRefused(_("You may not manage this shelter."))
    with transaction.atomic():
        locked = Shelter.objects.select_for_update().get(pk=shelter.pk)
        locked.is_open = bool(is_open)
        locked.save(update_fields=["is_open"])
        audit.record(
            actor, "emergency.shelter.open" if is_open else "emergency.shelter.close", locked
        )
    return locked


def check_in(
    actor: User,
    shelter: Shelter,
    *,
    name: str,
    people: int | str | None = 1,
    phone: str = "",
    incident: Incident | None = None,
) -> ShelterStay:
    errors: list[FieldError] = []
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Please give the name.")))
    count = _int(people)
    if count is None or not (1 <= count <= MAX_PARTY):
        errors.append(
            FieldError("people", ErrorCode.INVALID, _("The number of people must be from 1 to 50."))
        )
    phone = (phone or "").strip()
    if phone and (not phone.replace("-", "").isdigit() or len(phone) > 20):
        errors.append(FieldError("phone", ErrorCode.INVALID, _("Invalid phone number.")))
    if errors:
        raise ActionError(errors=errors)
    assert count is not None
    if not rules.may_staff_shelter(actor, shelter):
        raise PermissionRefused(_("You may not check people in at this shelter."))
    with transaction.atomic():
        locked = Shelter.objects.select_for_update().get(pk=shelter.pk)
        if not locked.is_open:
            raise ActionError(
                _("The shelter is closed."), field="shelter", code=ErrorCode.INVALID_STATE
            )
        room = locked.capacity - locked.occupancy
        if count > room:
            raise ActionError(
                _("Only %(n)d places are left in this shelter.") % {"n": room},
                field="people",
                code=ErrorCode.CONFLICT,
            )
        Shelter.objects.filter(pk=locked.pk).update(occupancy=F("occupancy") + count)
        stay = ShelterStay.objects.create(
            shelter=locked,
            incident=incident,
            name=name[:80],
            phone=phone,
            people=count,
            checked_in_at=timezone.now(),
            checked_in_by=actor,
        )
        if incident is not None:
            log_line(
                incident,
                actor,
                LogKind.SHELTER,
                _("%(n)d people checked in at %(s)s.") % {"n": count, "s": locked.name},
            )
        audit.record(
            actor, "emergency.shelter.check_in", stay, after={"people": count, "shelter": locked.pk}
        )
    return stay


def check_out(actor: User, stay: ShelterStay) -> ShelterStay:
    if not rules.may_staff_shelter(actor, stay.shelter):
        raise PermissionRefused(_("You may not check people out at this shelter."))
    with transaction.atomic():
        Shelter.objects.select_for_update().get(pk=stay.shelter_id)
        locked = ShelterStay.objects.select_for_update().get(pk=stay.pk)
        if locked.checked_out_at is not None:
            raise ActionError(_("Already checked out."), field="stay", code=ErrorCode.INVALID_STATE)
        locked.checked_out_at, locked.checked_out_by = timezone.now(), actor
        locked.save(update_fields=["checked_out_at", "checked_out_by"])
        Shelter.objects.filter(pk=stay.shelter_id).update(occupancy=F("occupancy") - locked.people)
        audit.record(actor, "emergency.shelter.check_out", locked, after={"people": locked.people})
    return locked


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
