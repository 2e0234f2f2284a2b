"""People and mobilisation: profiles, skills, availability, teams and call-ups.

A call-up moves sent → accepted | declined → checked in (on duty) → checked out; cancelled from
sent or accepted. Each verb locks the call-up row and checks the state it expects. Check-out
writes the shift to core `ServiceHours` (once per call-up: the database refuses a second row),
and check-in records whether accident insurance covered the person that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, notify, scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, PlaceLevel, Skill, SkillSource, User
from renzhi.core.skills import grant_skill, record_hours
from renzhi.emergency import rules as incident_rules
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.models import (
    Availability,
    CallUp,
    CallUpStatus,
    PersonKind,
    PersonProfile,
    QualificationLevel,
    Team,
    TeamMember,
)

__all__ = [
    "Window",
    "add_team_member",
    "cancel_callup",
    "check_in",
    "check_out",
    "create_team",
    "grant_person_skill",
    "remove_team_member",
    "respond_callup",
    "save_profile",
    "send_callups",
    "set_availability",
]

CLOSED_INCIDENT = "closed"


class Window(NamedTuple):
    """A weekly availability window; `place` None means anywhere in the person's community."""

    weekday: int  # 0 Monday … 6 Sunday
    starts: dt.time
    ends: dt.time
    place: Place | None = None


# --- Profiles, skills, availability ------------------------------------------------------------


def save_profile(
    actor: User,
    user: User,
    *,
    kind: str,
    place: Place,
    qualification_level: str = "",
    certificate_no: str = "",
    lat: float | None = None,
    lng: float | None = None,
    insured_until: dt.date | None = None,
    insurance_policy: str = "",
    note: str = "",
    active: bool = True,
) -> PersonProfile:
    """Create or update the person's profile."""
    if not rules.may_manage_place_people(actor, place):
        raise PermissionRefused(_("You may not register people here."), field="place")
    errors = []
    if kind not in PersonKind.values:
        errors.append(FieldError("kind", ErrorCode.INVALID, _("Choose a kind of person.")))
    if place.level not in (PlaceLevel.COMMUNITY, PlaceLevel.STREET):
        errors.append(FieldError("place", ErrorCode.INVALID, _("Choose a community or street.")))
    if qualification_level not in QualificationLevel.values:
        errors.append(
            FieldError("qualification_level", ErrorCode.INVALID, _("Choose a qualification."))
        )
    if kind == PersonKind.SOCIAL_WORKER:
        if not certificate_no.strip():
            errors.append(
                FieldError(
                    "certificate_no",
                    ErrorCode.REQUIRED,
                    _("A social worker needs a certificate number."),
                )
            )
        if not qualification_level:
            errors.append(
                FieldError(
                    "qualification_level",
                    ErrorCode.REQUIRED,
                    _("A social worker needs a qualification level."),
                )
            )
    if (lat is None) != (lng is None) or (
        lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)
    ):
        errors.append(FieldError("lat", ErrorCode.INVALID, _("Give a valid position.")))
    if errors:
        raise ActionError(errors=errors)
    values = {
        "kind": kind,
        "place": place,
        "qualification_level": qualification_level,
        "certificate_no": certificate_no.strip(),
        "lat": lat,
        "lng": lng,
        "insured_until": insured_until,
        "insurance_policy": insurance_policy.strip(),
        "note": note.strip(),
        "active": active,
    }
    with transaction.atomic():
        profile, created = PersonProfile.objects.select_for_update().get_or_create(
            user=user, defaults=values
        )
        before = None if created else _profile_state(profile)
        if not created:
            if not rules.may_manage_person(actor, profile):
                raise PermissionRefused(_("This person is registered elsewhere."), field="user")
            for key, value in values.items():
                setattr(profile, key, value)
            profile.save()
        audit.record(
            actor,
            "emergency.person.create" if created else "emergency.person.update",
            profile,
            before=before,
            after=_profile_state(profile),
        )
    return profile


def grant_person_skill(
    actor: User,
    profile: PersonProfile,
    skill: Skill,
    *,
    certificate_no: str = "",
    valid_until: dt.date | None = None,
    source: str = SkillSource.CERTIFICATE,
) -> None:
    if not rules.may_manage_person(actor, profile):
        raise PermissionRefused(_("You may not change this person."), field="user")
    if valid_until is not None and valid_until < timezone.localdate():
        raise ActionError(_("This certificate has already expired."), field="valid_until")
    with transaction.atomic():
        held = grant_skill(
            profile.user,
            skill,
            source=source,
            certificate_no=certificate_no.strip(),
            valid_until=valid_until,
        )
        audit.record(
            actor,
            "emergency.person.skill",
            profile,
            after={"skill": skill.code, "valid_until": str(held.valid_until or "")},
        )


def set_availability(actor: User, profile: PersonProfile, windows: Sequence[Window]) -> None:
    """Replace the person's weekly windows. The person sets their own; managers may too."""
    if actor.pk != profile.user_id and not rules.may_manage_person(actor, profile):
        raise PermissionRefused(_("You may not change this person."), field="user")
    for i, (weekday, starts, ends, place) in enumerate(windows):
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ActionError(_("Choose a day of the week."), field=f"windows[{i}].weekday")
        if ends <= starts:
            raise ActionError(_("The end must be after the start."), field=f"windows[{i}].ends")
        if place is not None and not (
            place.code.startswith(profile.place.code[:9])
            or profile.place.code.startswith(place.code)
        ):
            raise ActionError(_("Choose a place near your community."), field=f"windows[{i}].place")
    with transaction.atomic():
        PersonProfile.objects.select_for_update().get(pk=profile.pk)
        Availability.objects.filter(profile=profile).delete()
        Availability.objects.bulk_create(
            [
                Availability(profile=profile, weekday=w, starts=s, ends=e, place=p)
                for w, s, e, p in windows
            ]
        )
        audit.record(
            actor,
            "emergency.person.availability",
            profile,
            after=[[w, str(s), str(e), p.code if p else None] for w, s, e, p in windows],
        )


# --- Teams -------------------------------------------------------------------------------------


def create_team(actor: User, place: Place, name: str, leader: User | None = None) -> Team:
    if not rules.may_manage_place_people(actor, place):
        raise PermissionRefused(_("You may not form a team here."), field="place")
    if not (name or "").strip():
        raise ActionError(_("Enter a name."), field="name", code=ErrorCode.REQUIRED)
    if Team.objects.filter(place=place, name=name.strip()).exists():
        raise ActionError(_("A team of this name exists."), field="name", code=ErrorCode.DUPLICATE)
    with transaction.atomic():
        team = Team.objects.create(place=place, name=name.strip(), leader=leader)
        if leader is not None:
            TeamMember.objects.create(team=team, user=leader)
        audit.record(actor, "emergency.team.create", team, after={"place": place.code})
    return team


def add_team_member(actor: User, team: Team, user: User) -> None:
    if not rules.may_manage_place_people(actor, team.place):
        raise PermissionRefused(_("You may not change this team."), field="team")
    with transaction.atomic():
        _member, created = TeamMember.objects.get_or_create(team=team, user=user)
        if not created:
            raise ActionError(_("Already a member."), field="user", code=ErrorCode.DUPLICATE)
        audit.record(actor, "emergency.team.join", team, after={"user": user.pk})


def remove_team_member(actor: User, team: Team, user: User) -> None:
    if not rules.may_manage_place_people(actor, team.place):
        raise PermissionRefused(_("You may not change this team."), field="team")
    with transaction.atomic():
        deleted, _rows = TeamMember.objects.filter(team=team, user=user).delete()
        if not deleted:
            raise ActionError(_("Not a member."), field="user", code=ErrorCode.NOT_FOUND)
        audit.record(actor, "emergency.team.leave", team, after={"user": user.pk})


# --- Call-ups ----------------------------------------------------------------------------------


def send_callups(actor: User, incident, users: Iterable[User], note: str = "") -> list[CallUp]:
    """Call people up for an incident. People already called up for it are skipped; the
    others get a notice. Returns the call-ups created."""
    if not may_mobilise(actor, incident):
        raise PermissionRefused(
            _("You may not call people up for this incident."), field="incident"
        )
    if incident.status == CLOSED_INCIDENT:
        raise ActionError(
            _("This incident is closed."), field="incident", code=ErrorCode.INVALID_STATE
        )
    people = list({u.pk: u for u in users}.values())
    if not people:
        raise ActionError(_("Choose at least one person."), field="users", code=ErrorCode.REQUIRED)
    profiles = {p.user_id: p for p in PersonProfile.objects.filter(user__in=people, active=True)}
    missing = [u for u in people if u.pk not in profiles]
    if missing:
        raise ActionError(
            _("%(name)s is not registered as a helper.")
            % {"name": missing[0].display_name or missing[0].username},
            field="users",
        )
    now = timezone.now()
    with transaction.atomic():
        already = set(
            CallUp.objects.filter(incident=incident, user__in=people).values_list(
                "user_id", flat=True
            )
        )
        created = CallUp.objects.bulk_create(
            [
                CallUp(
                    incident=incident,
                    user=u,
                    place=profiles[u.pk].place,
                    note=note.strip()[:300],
                    sent_by=actor,
                    sent_at=now,
                )
                for u in people
                if u.pk not in already
            ],
            ignore_conflicts=False,
        )
        created = list(
            CallUp.objects.filter(incident=incident, user__in=[c.user_id for c in created])
            .select_related("user")
            .order_by("id")
        )
        audit.record_many(
            actor,
            [
                audit.AuditEntry(
                    "emergency.callup.send", c, after={"incident": incident.pk, "user": c.user_id}
                )
                for c in created
            ],
        )
        notify.notify_many(
            [
                (
                    [c.user],
                    notify.Message(
                        kind="emergency.callup",
                        title=_("Call-up: %(incident)s") % {"incident": incident.title},
                        body=note,
                        link=f"/emergency/callups/{c.pk}/",
                        object_type="emergency.callup",
                        object_id=str(c.pk),
                    ),
                )
                for c in created
            ]
        )
    return created


def respond_callup(actor: User, callup: CallUp, *, accept: bool, reason: str = "") -> CallUp:
    with transaction.atomic():
        callup = _lock(callup, {CallUpStatus.SENT})
        if actor.pk != callup.user_id:
            raise PermissionRefused(_("Only the person called up can answer."), field="user")
        callup.status = CallUpStatus.ACCEPTED if accept else CallUpStatus.DECLINED
        callup.responded_at = timezone.now()
        callup.decline_reason = "" if accept else reason.strip()[:200]
        callup.save(update_fields=["status", "responded_at", "decline_reason"])
        audit.record(actor, f"emergency.callup.{'accept' if accept else 'decline'}", callup)
        if callup.sent_by is not None:
            notify.notify(
                callup.sent_by,
                notify.Message(
                    kind="emergency.callup",
                    title=(
                        _("%(name)s accepted the call-up")
                        if accept
                        else _("%(name)s declined the call-up")
                    )
                    % {"name": callup.user.display_name or callup.user.username},
                    link=f"/emergency/callups/{callup.pk}/",
                    object_type="emergency.callup",
                    object_id=str(callup.pk),
                ),
            )
    return callup


def check_in(
    actor: User, callup: CallUp, *, lat: float | None = None, lng: float | None = None
) -> CallUp:
    """Start the shift; records whether insurance covers the person today."""
    with transaction.atomic():
        callup = _lock(callup, {CallUpStatus.ACCEPTED})
        _require_self_or_manager(actor, callup)
        profile = PersonProfile.objects.get(user_id=callup.user_id)
        callup.status = CallUpStatus.CHECKED_IN
        callup.checked_in_at = timezone.now()
        callup.check_in_lat, callup.check_in_lng = lat, lng
        callup.insured = profile.insured_on(timezone.localdate())
        callup.save(
            update_fields=["status", "checked_in_at", "check_in_lat", "check_in_lng", "insured"]
        )
        audit.record(actor, "emergency.callup.check_in", callup, after={"insured": callup.insured})
    return callup


def check_out(actor: User, callup: CallUp, *, hours: Decimal | None = None) -> CallUp:
    """End the shift and record the hours served (measured, or as given by a manager)."""
    with transaction.atomic():
        callup = _lock(callup, {CallUpStatus.CHECKED_IN})
        _require_self_or_manager(actor, callup)
        now = timezone.now()
        assert callup.checked_in_at is not None
        if hours is None:
            measured = Decimal((now - callup.checked_in_at).total_seconds()) / Decimal(3600)
            hours = max(Decimal("0.25"), (measured * 4).quantize(Decimal("1"), ROUND_HALF_UP) / 4)
        hours = Decimal(hours)
        if hours <= 0 or hours > 24:
            raise ActionError(_("Hours must be between 0 and 24."), field="hours")
        callup.status = CallUpStatus.CHECKED_OUT
        callup.checked_out_at = now
        callup.hours = hours
        callup.save(update_fields=["status", "checked_out_at", "hours"])
        record_hours(
            callup.user,
            callup.place,
            hours,
            timezone.localdate(callup.checked_in_at),
            source_type="emergency.callup",
            source_id=str(callup.pk),
            note=callup.incident.title[:200],
        )
        audit.record(actor, "emergency.callup.check_out", callup, after={"hours": str(hours)})
    return callup


def cancel_callup(actor: User, callup: CallUp) -> CallUp:
    with transaction.atomic():
        callup = _lock(callup, {CallUpStatus.SENT, CallUpStatus.ACCEPTED})
        if not may_mobilise(actor, callup.incident):
            raise PermissionRefused(_("You may not cancel this call-up."), field="incident")
        callup.status = CallUpStatus.CANCELLED
        callup.save(update_fields=["status"])
        audit.record(actor, "emergency.callup.cancel", callup)
        notify.notify(
            callup.user,
            notify.Message(
                kind="emergency.callup",
                title=_("Call-up cancelled: %(incident)s") % {"incident": callup.incident.title},
                object_type="emergency.callup",
                object_id=str(callup.pk),
            ),
        )
    return callup


def may_mobilise(actor: User | None, incident) -> bool:
    """Those who run the incident call people up (its rules), as do people managers whose
    jurisdiction contains the incident's place."""
    if actor is None:
        return False
    return incident_rules.may_run(actor, incident) or (
        scope.covers(actor, incident.place, rules.PEOPLE_MANAGERS - {"admin"})
        and scope.has_role(actor, *(rules.PEOPLE_MANAGERS - {"admin"}))
    )


# --- Internals ---------------------------------------------------------------------------------


def _lock(callup: CallUp, expected: set[str]) -> CallUp:
    locked = (
        CallUp.objects.select_for_update(of=("self",))
        .select_related("incident", "user", "place")
        .get(pk=callup.pk)
    )
    if locked.status not in expected:
        raise ActionError(
            _("This call-up is %(status)s; it cannot do that now.")
            % {"status": locked.get_status_display()},
            field="status",
            code=ErrorCode.INVALID_STATE,
        )
    return locked


def _require_self_or_manager(actor: User, callup: CallUp) -> None:
    if actor.pk != callup.user_id and not may_mobilise(actor, callup.incident):
        raise PermissionRefused(_("You may not do this for someone else."), field="user")


def _profile_state(profile: PersonProfile) -> dict:
    return {
        "kind": profile.kind,
        "place": profile.place.code,
        "qualification_level": profile.qualification_level,
        "certificate_no": profile.certificate_no,
        "insured_until": str(profile.insured_until or ""),
        "active": profile.active,
    }
