"""The vulnerable register: registering, pairing, check-ins and "no answer" escalation.

Only community staff of the resident's community change the register; the paired helper (a
volunteer, grid worker or social worker of that community) records check-ins. After each
check-in the next one falls due a day later during an active incident around the resident,
a week later otherwise. A "no answer" tells the community staff at once (and the emergency
contact's number is on the resident's page for them); `escalate_overdue` tells the helper and
the staff when a check-in is missed altogether, once per missed due time.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, notify, scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Membership, Notification, Place, PlaceLevel, User
from renzhi.emergency import rules_resources as rules
from renzhi.emergency import vulnerable as register
from renzhi.emergency.models import (
    NEEDS,
    CheckIn,
    CheckInOutcome,
    VulnerableCategory,
    VulnerableResident,
)

__all__ = [
    "escalate_overdue",
    "pair",
    "record_checkin",
    "register_resident",
    "update_resident",
]

EDITABLE = (
    "name",
    "birth_year",
    "phone",
    "address",
    "categories",
    "needs",
    "needs_note",
    "emergency_contact_name",
    "emergency_contact_phone",
    "active",
)


def register_resident(
    actor: User,
    place: Place,
    *,
    name: str,
    address: str,
    categories: list[str],
    consent_method: str,
    needs: list[str] | None = None,
    needs_note: str = "",
    birth_year: int | None = None,
    phone: str = "",
    emergency_contact_name: str = "",
    emergency_contact_phone: str = "",
) -> VulnerableResident:
    """Put a resident on the register. Consent is required and recorded (how, when, by whom)."""
    if not rules.may_keep_register(actor, place):
        raise PermissionRefused(
            _("You may not keep the register of this community."), field="place"
        )
    fields = {
        "name": name,
        "address": address,
        "categories": categories,
        "needs": needs or [],
        "needs_note": needs_note,
        "birth_year": birth_year,
        "phone": phone,
        "emergency_contact_name": emergency_contact_name,
        "emergency_contact_phone": emergency_contact_phone,
    }
    errors = _check(fields)
    if place.level != PlaceLevel.COMMUNITY:
        errors.append(FieldError("place", ErrorCode.INVALID, _("Choose a community.")))
    if not (consent_method or "").strip():
        errors.append(
            FieldError(
                "consent_method",
                ErrorCode.REQUIRED,
                _("Record how the resident consented to be registered."),
            )
        )
    if errors:
        raise ActionError(errors=errors)
    now = timezone.now()
    with transaction.atomic():
        resident = VulnerableResident.objects.create(
            place=place,
            place_code=place.code,
            consent_given=True,
            consent_at=now,
            consent_method=consent_method.strip()[:100],
            consent_recorded_by=actor,
            next_check_due=now + register.check_interval_for_code(place.code),
            **_cleaned(fields),
        )
        audit.record(
            actor,
            "emergency.vulnerable.register",
            resident,
            label=f"#{resident.pk}",
            after={"place": place.code},
        )
    return resident


def update_resident(actor: User, resident: VulnerableResident, **changes) -> VulnerableResident:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ActionError(_("This cannot be changed here."), field=sorted(unknown)[0])
    with transaction.atomic():
        resident = VulnerableResident.objects.select_for_update().get(pk=resident.pk)
        if not rules.may_keep_register(actor, resident.place):
            raise PermissionRefused(
                _("You may not keep the register of this community."), field="place"
            )
        merged = {f: getattr(resident, f) for f in EDITABLE if f != "active"} | {
            k: v for k, v in changes.items() if k != "active"
        }
        errors = _check(merged)
        if errors:
            raise ActionError(errors=errors)
        for key, value in _cleaned(merged).items():
            setattr(resident, key, value)
        if "active" in changes:
            resident.active = bool(changes["active"])
        resident.save()
        # Field names only: the audit chain is read more widely than the register.
        audit.record(
            actor,
            "emergency.vulnerable.update",
            resident,
            label=f"#{resident.pk}",
            after={"changed": sorted(changes)},
        )
    return resident


def pair(actor: User, resident: VulnerableResident, helper: User | None) -> VulnerableResident:
    """Pair the resident with a helper of the same community (None ends the pairing)."""
    with transaction.atomic():
        resident = VulnerableResident.objects.select_for_update().get(pk=resident.pk)
        if not rules.may_keep_register(actor, resident.place):
            raise PermissionRefused(
                _("You may not keep the register of this community."), field="place"
            )
        if helper is not None and not _is_local_helper(helper, resident.place):
            raise ActionError(
                _("Pair with a volunteer, grid worker or social worker of this community."),
                field="helper",
            )
        before = resident.helper_id
        resident.helper = helper
        resident.paired_at = timezone.now() if helper is not None else None
        resident.save(update_fields=["helper", "paired_at"])
        audit.record(
            actor,
            "emergency.vulnerable.pair",
            resident,
            label=f"#{resident.pk}",
            before={"helper": before},
            after={"helper": getattr(helper, "pk", None)},
        )
        if helper is not None:
            notify.notify(
                helper,
                notify.Message(
                    kind="emergency.pairing",
                    title=_("You have been paired with a resident to look after"),
                    link=f"/emergency/vulnerable/{resident.pk}/",
                    object_type="emergency.vulnerableresident",
                    object_id=str(resident.pk),
                ),
            )
    return resident


def record_checkin(
    actor: User,
    resident: VulnerableResident,
    outcome: str,
    *,
    note: str = "",
    incident=None,
) -> CheckIn:
    """Record one attempt to reach the resident; "no answer" escalates to the staff."""
    if outcome not in CheckInOutcome.values:
        raise ActionError(_("Choose an outcome."), field="outcome")
    with transaction.atomic():
        resident = VulnerableResident.objects.select_for_update().get(pk=resident.pk)
        if not rules.may_see_resident(actor, resident):
            raise PermissionRefused(_("You may not check on this resident."), field="resident")
        if incident is None:
            incident = register.active_incident_covering(resident.place_code)
        now = timezone.now()
        escalate = outcome in (CheckInOutcome.NO_ANSWER, CheckInOutcome.NEEDS_HELP)
        checkin = CheckIn.objects.create(
            resident=resident,
            incident=incident,
            by=actor,
            at=now,
            outcome=outcome,
            note=note.strip()[:300],
            escalated=escalate,
        )
        if outcome == CheckInOutcome.NO_ANSWER:
            resident.missed_checks += 1
            # Try again soon: an hour during an incident, the next day otherwise.
            resident.next_check_due = now + (
                dt.timedelta(hours=1) if incident is not None else dt.timedelta(days=1)
            )
        else:
            resident.missed_checks = 0
            resident.last_reached_at = now
            resident.next_check_due = now + (
                register.DAILY if incident is not None else register.WEEKLY
            )
        resident.save(update_fields=["missed_checks", "last_reached_at", "next_check_due"])
        audit.record(
            actor,
            "emergency.vulnerable.checkin",
            checkin,
            after={"resident": resident.pk, "outcome": outcome},
        )
        if escalate:
            title = (
                _("No answer from a vulnerable resident (%(count)s in a row)")
                % {"count": resident.missed_checks}
                if outcome == CheckInOutcome.NO_ANSWER
                else _("A vulnerable resident needs help")
            )
            notify.notify(
                [u for u in _staff_of(resident.place) if u.pk != actor.pk],
                notify.Message(
                    kind="emergency.vulnerable",
                    title=title,
                    body=_("Address: %(address)s") % {"address": resident.address},
                    link=f"/emergency/vulnerable/{resident.pk}/",
                    object_type="emergency.vulnerableresident",
                    object_id=str(resident.pk),
                ),
            )
    return checkin


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Tell the helper and the community staff about every resident whose check-in is overdue,
    once per due time. Returns how many residents were escalated."""
    now = now or timezone.now()
    count = 0
    for resident in register.overdue(now).select_related("place", "helper"):
        assert resident.next_check_due is not None
        key = f"{resident.pk}:{resident.next_check_due:%Y%m%d%H%M}"
        if Notification.objects.filter(kind="emergency.vulnerable.overdue", object_id=key).exists():
            continue
        users = _staff_of(resident.place) + ([resident.helper] if resident.helper else [])
        with transaction.atomic():
            notify.notify(
                users,
                notify.Message(
                    kind="emergency.vulnerable.overdue",
                    title=_("A check-in on a vulnerable resident is overdue"),
                    link=f"/emergency/vulnerable/{resident.pk}/",
                    object_type="emergency.vulnerableresident",
                    object_id=key,
                ),
            )
        count += 1
    return count


# --- Internals ---------------------------------------------------------------------------------


def _check(fields: dict) -> list[FieldError]:
    errors = []
    if not str(fields.get("name") or "").strip():
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Enter the name.")))
    if not str(fields.get("address") or "").strip():
        errors.append(FieldError("address", ErrorCode.REQUIRED, _("Enter the address.")))
    categories = fields.get("categories") or []
    if not categories:
        errors.append(
            FieldError("categories", ErrorCode.REQUIRED, _("Choose at least one category."))
        )
    elif any(c not in VulnerableCategory.values for c in categories):
        errors.append(FieldError("categories", ErrorCode.INVALID, _("Unknown category.")))
    if any(n not in NEEDS for n in fields.get("needs") or []):
        errors.append(FieldError("needs", ErrorCode.INVALID, _("Unknown need.")))
    year = fields.get("birth_year")
    if year is not None and not (1900 <= int(year) <= timezone.localdate().year):
        errors.append(FieldError("birth_year", ErrorCode.INVALID, _("Enter a real year.")))
    for key in ("phone", "emergency_contact_phone"):
        value = str(fields.get(key) or "").strip()
        if value and (not value.replace("-", "").isdigit() or len(value) > 20):
            errors.append(FieldError(key, ErrorCode.INVALID, _("Enter a phone number.")))
    return errors


def _cleaned(fields: dict) -> dict:
    return {
        "name": str(fields["name"]).strip()[:50],
        "address": str(fields["address"]).strip()[:200],
        "categories": sorted(set(fields["categories"])),
        "needs": sorted(set(fields.get("needs") or [])),
        "needs_note": str(fields.get("needs_note") or "").strip()[:300],
        "birth_year": fields.get("birth_year"),
        "phone": str(fields.get("phone") or "").strip(),
        "emergency_contact_name": str(fields.get("emergency_contact_name") or "").strip()[:50],
        "emergency_contact_phone": str(fields.get("emergency_contact_phone") or "").strip(),
    }


def _is_local_helper(helper: User, community: Place) -> bool:
    return any(
        m.role in rules.HELPER_ROLES
        and m.place is not None
        and (m.place.code.startswith(community.code) or community.code.startswith(m.place.code))
        and len(m.place.code) >= len(community.code)
        for m in scope.memberships(helper)
    )


def _staff_of(place: Place) -> list[User]:
    codes = [place.code[:n] for n in (12,) if len(place.code) >= n]
    return [
        m.user
        for m in Membership.objects.filter(
            role__in=rules.REGISTER_KEEPERS, place__code__in=codes
        ).select_related("user")
    ]
