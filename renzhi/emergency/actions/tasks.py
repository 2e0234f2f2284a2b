"""Every state change of an emergency task (任务): create, assign, accept, report, finish,
cancel, and the periodic escalation of overdue tasks.

open → accepted → in_progress (first report) → done; open/accepted/in_progress → cancelled.
Escalation runs without an actor: level 1 at the deadline tells the staff running the incident,
level 2 four hours later tells the leaders. Each level is notified once.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, datebounds, notify, scope, uploads
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Membership, Role, Unit, User
from renzhi.emergency import rules
from renzhi.emergency.actions.incidents import log_line
from renzhi.emergency.models import (
    OPEN_TASK_STATUSES,
    Incident,
    IncidentStatus,
    LogKind,
    Task,
    TaskReport,
    TaskStatus,
)

__all__ = [
    "LEADER_DELAY",
    "accept",
    "assign",
    "cancel",
    "complete",
    "create_task",
    "escalate_overdue",
    "report",
]

LEADER_DELAY = dt.timedelta(hours=4)
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def create_task(
    actor: User,
    incident: Incident,
    *,
    title: str,
    deadline: dt.datetime | None,
    description: str = "",
    assignee: User | None = None,
    unit: Unit | None = None,
    team=None,
) -> Task:
    errors: list[FieldError] = []
    title = (title or "").strip()
    if not title:
        errors.append(FieldError("title", ErrorCode.REQUIRED, _("Please give the task a title.")))
    elif len(title) > 200:
        errors.append(FieldError("title", ErrorCode.INVALID, _("The title is too long.")))
    if deadline is None:
        errors.append(FieldError("deadline", ErrorCode.REQUIRED, _("Set a deadline.")))
    elif deadline <= timezone.now():
        errors.append(
            FieldError("deadline", ErrorCode.INVALID, _("The deadline must be later than now."))
        )
    else:  # a task of an incident is due within a year (issue 23 #4)
        late = datebounds.check_moment("deadline", deadline, future=datebounds.YEAR)
        errors += [late] if late else []
    errors.extend(_assignment_errors(incident, assignee, unit, team))
    if errors:
        raise ActionError(errors=errors)
    assert deadline is not None
    if not rules.may_manage_tasks(actor, incident):
        raise PermissionRefused(_("You may not manage the tasks of this incident."))
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status == IncidentStatus.CLOSED:
            raise ActionError(_("The incident is closed."), code=ErrorCode.INVALID_STATE)
        task = Task(
            incident=locked,
            activation=locked.activations.filter(ended_at=None).first(),
            title=title,
            description=(description or "").strip(),
            place=locked.place,
            assignee=assignee,
            unit=unit,
            deadline=deadline,
            created_by=actor,
            created_at=timezone.now(),
            team=team,
        )
        task.save()
        log_line(locked, actor, LogKind.TASK, _("Task created: %(t)s") % {"t": title})
        audit.record(actor, "emergency.task.create", task, after=_assignment(task))
        _notify_assigned(task)
    return task


def assign(
    actor: User, task: Task, *, assignee: User | None = None, unit: Unit | None = None, team=None
) -> Task:
    """(Re)assign a task to a person, a unit or a team (exactly one)."""
    errors = _assignment_errors(task.incident, assignee, unit, team)
    if assignee is None and unit is None and team is None:
        errors.append(FieldError("assignee", ErrorCode.REQUIRED, _("Choose who does the task.")))
    if errors:
        raise ActionError(errors=errors)
    if not rules.may_manage_tasks(actor, task.incident):
        raise PermissionRefused(_("You may not manage the tasks of this incident."))
    with transaction.atomic():
        locked = _lock(task, OPEN_TASK_STATUSES)
        before = _assignment(locked)
        locked.assignee, locked.unit = assignee, unit
        locked.team = team
        locked.status = TaskStatus.OPEN
        locked.save()
        log_line(
            locked.incident, actor, LogKind.TASK, _("Task reassigned: %(t)s") % {"t": locked.title}
        )
        audit.record(
            actor, "emergency.task.assign", locked, before=before, after=_assignment(locked)
        )
        _notify_assigned(locked)
    return locked


def accept(actor: User, task: Task) -> Task:
    if not rules.may_work_task(actor, task):
        raise PermissionRefused(_("This task is not yours."))
    with transaction.atomic():
        locked = _lock(task, (TaskStatus.OPEN,))
        if locked.assignee_id is None and locked.unit_id is None:
            locked.assignee = actor  # an unassigned task is claimed by who accepts it
        locked.status = TaskStatus.ACCEPTED
        locked.save(update_fields=["status", "assignee"])
        log_line(
            locked.incident, actor, LogKind.TASK, _("Task accepted: %(t)s") % {"t": locked.title}
        )
        audit.record(actor, "emergency.task.accept", locked, after={"status": locked.status})
    return locked


def report(
    actor: User,
    task: Task,
    *,
    note: str,
    lat: float | None = None,
    lng: float | None = None,
    photo=None,
    done: bool = False,
) -> TaskReport:
    """A check-in report (what was done, where, a photo); `done` also finishes the task."""
    errors: list[FieldError] = []
    note = (note or "").strip()
    if not note:
        errors.append(FieldError("note", ErrorCode.REQUIRED, _("Please describe what was done.")))
    elif len(note) > 2000:
        errors.append(FieldError("note", ErrorCode.INVALID, _("The report is too long.")))
    if (lat is None) != (lng is None) or (
        lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180)
    ):
        errors.append(FieldError("lat", ErrorCode.INVALID, _("Invalid coordinates.")))
    checked = None
    if photo is not None:
        try:
            checked = uploads.image(photo, "photo", max_bytes=MAX_PHOTO_BYTES)
        except ActionError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ActionError(errors=errors)
    if not rules.may_work_task(actor, task):
        raise PermissionRefused(_("This task is not yours."))
    with transaction.atomic():
        locked = _lock(task, OPEN_TASK_STATUSES)
        now = timezone.now()
        entry = TaskReport(task=locked, author=actor, at=now, note=note, lat=lat, lng=lng)
        if checked is not None:
            uploads.store(entry.photo, checked)
        entry.save()
        before = locked.status
        locked.status = TaskStatus.DONE if done else TaskStatus.IN_PROGRESS
        if done:
            locked.done_at = now
        if locked.assignee_id is None and locked.unit_id is None:
            locked.assignee = actor
        locked.save(update_fields=["status", "done_at", "assignee"])
        text = _("Task done: %(t)s") if done else _("Task report: %(t)s")
        log_line(
            locked.incident, actor, LogKind.TASK, text % {"t": f"{locked.title} — {note[:100]}"}
        )
        audit.record(
            actor,
            "emergency.task.report",
            locked,
            before={"status": before},
            after={"status": locked.status, "lat": lat, "lng": lng, "photo": bool(photo)},
        )
    return entry


def complete(actor: User, task: Task, *, note: str = "") -> Task:
    report(actor, task, note=note or _("Done."), done=True)
    task.refresh_from_db()
    return task


def cancel(actor: User, task: Task, *, reason: str) -> Task:
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(
            _("Say why the task is cancelled."), field="reason", code=ErrorCode.REQUIRED
        )
    if not rules.may_manage_tasks(actor, task.incident):
        raise PermissionRefused(_("You may not manage the tasks of this incident."))
    with transaction.atomic():
        locked = _lock(task, OPEN_TASK_STATUSES)
        locked.status = TaskStatus.CANCELLED
        locked.save(update_fields=["status"])
        log_line(
            locked.incident,
            actor,
            LogKind.TASK,
            _("Task cancelled: %(t)s (%(r)s)") % {"t": locked.title, "r": reason[:200]},
        )
        audit.record(actor, "emergency.task.cancel", locked, after={"reason": reason[:200]})
    return locked


def escalate_overdue(now: dt.datetime | None = None) -> dict[str, int]:
    """Escalate open tasks past their deadline (periodic; safe to run as often as wanted)."""
    now = now or timezone.now()
    counts = {"staff": 0, "leaders": 0}
    due = Task.objects.filter(status__in=OPEN_TASK_STATUSES).filter(
        Q(escalation=0, deadline__lt=now) | Q(escalation=1, deadline__lt=now - LEADER_DELAY)
    )
    for pk in list(due.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            task = (
                Task.objects.select_for_update()
                .select_related("incident__place")
                .filter(pk=pk, status__in=OPEN_TASK_STATUSES)
                .first()
            )
            if task is None:
                continue
            target = 1 if task.escalation == 0 else 2
            if target == 2 and task.deadline >= now - LEADER_DELAY:
                continue
            if target == 1 and task.deadline >= now:
                continue
            roles = rules.INCIDENT_RUNNERS - {Role.LEADER} if target == 1 else {Role.LEADER}
            people = _people_over(task.incident.place.code, roles)
            if target == 1:
                people.extend(_assigned_people(task))
            task.escalation, task.escalated_at = target, now
            task.save(update_fields=["escalation", "escalated_at"])
            title = (
                _("Emergency task overdue: %(t)s")
                if target == 1
                else _("Emergency task still overdue, escalated to leaders: %(t)s")
            ) % {"t": task.title}
            notify.notify(
                people,
                notify.Message(
                    kind="emergency.task.overdue",
                    title=title,
                    body=str(task.incident),
                    link=f"/emergency/tasks/{task.pk}/",
                    object_type="emergency.task",
                    object_id=str(task.pk),
                ),
            )
            log_line(task.incident, None, LogKind.TASK, title)
            audit.record(None, "emergency.task.escalate", task, after={"escalation": target})
            counts["staff" if target == 1 else "leaders"] += 1
    return counts


# --- Internals --------------------------------------------------------------------------------


def _lock(task: Task, expected) -> Task:
    locked = Task.objects.select_for_update().select_related("incident").get(pk=task.pk)
    if locked.status not in expected:
        raise ActionError(
            _("The task is “%(s)s”; this is not possible now.")
            % {"s": locked.get_status_display()},
            field="status",
            code=ErrorCode.INVALID_STATE,
        )
    return locked


def _assignment_errors(incident: Incident, assignee, unit, team) -> list[FieldError]:
    errors: list[FieldError] = []
    if sum(x is not None for x in (assignee, unit, team)) > 1:
        errors.append(
            FieldError(
                "assignee", ErrorCode.INVALID, _("Assign the task to one person, team or unit.")
            )
        )
    if assignee is not None:
        codes = [m.place.code for m in scope.memberships(assignee) if m.place is not None]
        place = incident.place.code
        if not any(place.startswith(c) or c.startswith(place) for c in codes):
            errors.append(
                FieldError("assignee", ErrorCode.OUT_OF_SCOPE, _("This person does not work here."))
            )
    return errors


def _assignment(task: Task) -> dict:
    return {
        "assignee": task.assignee_id,
        "unit": task.unit_id,
        "team": task.team_id,
        "status": task.status,
    }


def _assigned_people(task: Task) -> list[User]:
    """Whoever the task is assigned to: the person, the unit's handlers, the team."""
    users: list[User] = []
    if task.assignee is not None:
        users.append(task.assignee)
    if task.unit_id is not None:
        users.extend(
            m.user
            for m in Membership.objects.filter(
                role=Role.UNIT_HANDLER, unit_id=task.unit_id
            ).select_related("user")
        )
    if task.team is not None:
        users.extend(task.team.members.all())
        if task.team.leader is not None:
            users.append(task.team.leader)
    return users


def _notify_assigned(task: Task) -> None:
    users = _assigned_people(task)
    if users:
        notify.notify(
            users,
            notify.Message(
                kind="emergency.task",
                title=_("New emergency task: %(t)s") % {"t": task.title},
                body=str(task.incident),
                link=f"/emergency/tasks/{task.pk}/",
                object_type="emergency.task",
                object_id=str(task.pk),
            ),
        )


def _people_over(code: str, roles) -> list[User]:
    """Active holders of `roles` whose place contains `code` or lies inside it."""
    prefixes = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    q = Q(place__code__in=prefixes) | Q(place__code__startswith=code)
    return [
        m.user
        for m in Membership.objects.filter(
            q, role__in=list(roles), user__is_active=True
        ).select_related("user")
    ]
