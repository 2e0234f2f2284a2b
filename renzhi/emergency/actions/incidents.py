"""Every state change of an incident: report, verify, move through its states, log, link.

Each action checks the actor's role and scope, locks the incident row, checks the state it
expects, writes a live-log line and an audit event in one transaction. Bad input raises
`ActionError` naming the field; nothing is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, datebounds
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, User
from renzhi.emergency import rules
from renzhi.emergency.models import (
    Incident,
    IncidentLog,
    IncidentStatus,
    IncidentType,
    LogKind,
    ResponseLevel,
)

__all__ = [
    "NEXT_STATUSES",
    "add_log",
    "change_status",
    "link_appeal",
    "link_warning",
    "log_line",
    "report",
]

S = IncidentStatus
# Forward steps; recovering may fall back to responding when things get worse again.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    S.REPORTED: (S.VERIFIED, S.CLOSED),
    S.VERIFIED: (S.RESPONDING, S.CLOSED),
    S.RESPONDING: (S.RECOVERING,),
    S.RECOVERING: (S.RESPONDING, S.CLOSED),
    S.CLOSED: (),
}
MAX_TITLE = 120
MAX_NOTE = 2000


def report(
    actor: User,
    *,
    title: str,
    kind: str,
    place: Place | None,
    places: Iterable[Place] = (),
    severity: int | str | None,
    description: str = "",
    started_at: dt.datetime | None = None,
    lat: float | None = None,
    lng: float | None = None,
    warnings: Iterable = (),
    appeals: Iterable = (),
    hot_issue_ref: str = "",
) -> Incident:
    """Open an incident in `place` (the jurisdiction that runs it). Affected places default to
    `place` and must lie inside it."""
    errors: list[FieldError] = []
    title = (title or "").strip()
    if not title:
        errors.append(
            FieldError("title", ErrorCode.REQUIRED, _("Please give the incident a title."))
        )
    elif len(title) > MAX_TITLE:
        errors.append(
            FieldError("title", ErrorCode.INVALID, _("The title is longer than 120 characters."))
        )
    if kind not in IncidentType.values:
        errors.append(FieldError("kind", ErrorCode.INVALID, _("Unknown incident type.")))
    level = _level(severity)
    if level is None:
        errors.append(
            FieldError("severity", ErrorCode.INVALID, _("Choose a severity from I to IV."))
        )
    affected = list(places) or ([place] if place is not None else [])
    if place is None:
        errors.append(FieldError("place", ErrorCode.REQUIRED, _("Choose the place.")))
    else:
        outside = [p for p in affected if not p.code.startswith(place.code)]
        if outside:
            errors.append(
                FieldError(
                    "places",
                    ErrorCode.INVALID,
                    _("Affected places must lie inside the incident's place."),
                )
            )
    now = timezone.now()
    started = started_at or now
    if started > now + dt.timedelta(minutes=5):
        errors.append(
            FieldError("started_at", ErrorCode.INVALID, _("The start cannot be in the future."))
        )
    else:  # and not more than five years back (issue 23 #4)
        late = datebounds.check_moment("started_at", started_at, future=dt.timedelta(minutes=5))
        errors += [late] if late else []
    if (lat is None) != (lng is None) or (
        lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)
    ):
        errors.append(FieldError("lat", ErrorCode.INVALID, _("Invalid coordinates.")))
    if errors:
        raise ActionError(errors=errors)
    assert place is not None and level is not None
    if not rules.may_create_at(actor, place):
        raise PermissionRefused(_("You may not open an incident in this place."), field="place")
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title,
            kind=kind,
            description=(description or "").strip(),
            place=place,
            severity=level,
            started_at=started,
            lat=lat,
            lng=lng,
            hot_issue_ref=str(hot_issue_ref or "")[:40],
            created_by=actor,
        )
        incident.places.set(affected)
        warnings = list(warnings)
        appeals = list(appeals)
        if warnings:
            incident.warnings.set(warnings)
        if appeals:
            incident.appeals.set(appeals)
        log_line(incident, actor, LogKind.STATUS, _("Incident reported."))
        audit.record(
            actor,
            "emergency.incident.report",
            incident,
            after={
                "kind": kind,
                "place": place.code,
                "severity": level,
                "warnings": [w.pk for w in warnings],
                "appeals": [a.pk for a in appeals],
            },
        )
    return incident


def change_status(actor: User, incident: Incident, status: str, *, note: str = "") -> Incident:
    """Move the incident to `status`. Closing ends every open response level and sets the end
    time; the after-action review can then be written."""
    if status not in IncidentStatus.values:
        raise ActionError(_("Unknown status."), field="status")
    if not rules.may_run(actor, incident):
        raise PermissionRefused(_("You may not run this incident."))
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if status not in NEXT_STATUSES[locked.status]:
            raise ActionError(
                _("The incident cannot go from “%(a)s” to “%(b)s”.")
                % {"a": locked.get_status_display(), "b": IncidentStatus(status).label},
                field="status",
                code=ErrorCode.INVALID_STATE,
            )
        before = locked.status
        now = timezone.now()
        locked.status = status
        fields = ["status", "updated_at"]
        if status == S.CLOSED:
            locked.ended_at = max(now, locked.started_at)
            fields.append("ended_at")
            from renzhi.emergency.actions import plans

            plans.end_activation(locked, actor, now, _("Incident closed."))
        locked.save(update_fields=fields)
        text = _("Status: %(a)s → %(b)s.") % {
            "a": IncidentStatus(before).label,
            "b": IncidentStatus(status).label,
        }
        if note.strip():
            text = f"{text} {note.strip()[:MAX_NOTE]}"
        log_line(locked, actor, LogKind.STATUS, text)
        audit.record(
            actor,
            "emergency.incident.status",
            locked,
            before={"status": before},
            after={"status": status},
        )
    return locked


def add_log(actor: User, incident: Incident, text: str) -> IncidentLog:
    """A line in the live log from anyone who may read the incident."""
    from renzhi.emergency.queries_incidents import incidents_for

    text = (text or "").strip()
    if not text:
        raise ActionError(_("Please write something."), field="text", code=ErrorCode.REQUIRED)
    if len(text) > MAX_NOTE:
        raise ActionError(_("The note is longer than 2000 characters."), field="text")
    if not incidents_for(actor).filter(pk=incident.pk).exists():
        raise PermissionRefused(_("You may not write in this incident's log."))
    with transaction.atomic():
        Incident.objects.select_for_update().get(pk=incident.pk)
        entry = log_line(incident, actor, LogKind.NOTE, text)
        audit.record(actor, "emergency.incident.log", incident, after={"text": text[:200]})
    return entry


def link_warning(actor: User, incident: Incident, warning) -> None:
    if not rules.may_run(actor, incident):
        raise PermissionRefused(_("You may not run this incident."))
    with transaction.atomic():
        Incident.objects.select_for_update().get(pk=incident.pk)
        incident.warnings.add(warning)
        log_line(incident, actor, LogKind.LINK, _("Warning linked: %(w)s") % {"w": warning})
        audit.record(
            actor, "emergency.incident.link_warning", incident, after={"warning": warning.pk}
        )


def link_appeal(actor: User, incident: Incident, appeal) -> None:
    if not rules.may_run(actor, incident):
        raise PermissionRefused(_("You may not run this incident."))
    with transaction.atomic():
        Incident.objects.select_for_update().get(pk=incident.pk)
        incident.appeals.add(appeal)
        log_line(
            incident, actor, LogKind.LINK, _("Appeal linked: %(no)s") % {"no": appeal.tracking_no}
        )
        audit.record(actor, "emergency.incident.link_appeal", incident, after={"appeal": appeal.pk})


def log_line(incident: Incident, actor: User | None, kind: str, text: str) -> IncidentLog:
    """Append to the live log (inside the caller's transaction)."""
    return IncidentLog.objects.create(
        incident=incident, at=timezone.now(), author=actor, kind=kind, text=text
    )


def _level(value) -> int | None:
    try:
        level = int(value)
    except (TypeError, ValueError):
        return None
    return level if level in ResponseLevel.values else None
