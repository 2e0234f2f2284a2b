"""Plans (预案) and response levels: write a plan version, activate a level for an incident,
raise or lower it, lift it.

A plan version is written whole (all four levels) and never edited afterwards. Activation
takes the version in force at that moment, turns each action of the level into a task assigned
to someone holding the responsible role nearest to the incident, sends call-ups for the people
the level mobilises (through the people side's `find_candidates`/`send_callups` when present),
and starts the clock. Only the leader role activates, changes and lifts levels; all audited.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, datebounds, notify
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Membership, PersonSkill, Place, Role, Skill, Unit, User
from renzhi.emergency import rules
from renzhi.emergency.actions.incidents import log_line, report
from renzhi.emergency.models import (
    ROMAN,
    Activation,
    Incident,
    IncidentStatus,
    IncidentType,
    LogKind,
    Plan,
    PlanAction,
    PlanLevel,
    PlanPeople,
    PlanReserve,
    PlanVersion,
    ResponseLevel,
    Task,
)

__all__ = [
    "ActionSpec",
    "LevelSpec",
    "activate",
    "activate_from_warning",
    "change_level",
    "create_plan",
    "deactivate",
    "end_activation",
    "find_plan",
    "level_specs_of",
    "parse_actions",
    "parse_people",
    "parse_reserves",
    "save_version",
]

log = logging.getLogger("renzhi.emergency.plans")

MAX_ITEMS_PER_LEVEL = 50
# Roles a plan action can be given to: everyone who works, not residents or administrators.
ACTION_ROLES = frozenset(Role.values) - {Role.RESIDENT, Role.ADMIN}


@dataclass
class ActionSpec:
    title: str
    role: str
    due_hours: int = 2


@dataclass
class LevelSpec:
    level: int
    summary: str = ""
    actions: list[ActionSpec] = field(default_factory=list)
    reserves: list[tuple[str, Decimal]] = field(default_factory=list)
    people: list[tuple[str, int]] = field(default_factory=list)


# --- Writing plans ----------------------------------------------------------------------------


def create_plan(
    actor: User,
    *,
    place: Place | None,
    kind: str,
    title: str,
    levels: list[LevelSpec],
    note: str = "",
) -> Plan:
    """A new plan for a place and incident type, with its first version in force now."""
    errors: list[FieldError] = []
    title = (title or "").strip()
    if not title:
        errors.append(FieldError("title", ErrorCode.REQUIRED, _("Please give the plan a title.")))
    if kind not in IncidentType.values:
        errors.append(FieldError("kind", ErrorCode.INVALID, _("Unknown incident type.")))
    if place is None:
        errors.append(FieldError("place", ErrorCode.REQUIRED, _("Choose the place.")))
    if errors:
        raise ActionError(errors=errors)
    assert place is not None
    if not rules.may_write_plan(actor, place):
        raise PermissionRefused(_("You may not write plans for this place."), field="place")
    if Plan.objects.filter(place=place, kind=kind).exists():
        raise ActionError(
            _("This place already has a plan for this incident type; write a new version."),
            field="kind",
            code=ErrorCode.DUPLICATE,
        )
    _check_levels(levels)
    with transaction.atomic():
        plan = Plan.objects.create(place=place, kind=kind, title=title[:120])
        version = _write_version(plan, actor, levels, note or _("First version."), None, None)
        audit.record(
            actor, "emergency.plan.create", plan, after={"kind": kind, "version": version.number}
        )
    return plan


def save_version(
    actor: User,
    plan: Plan,
    levels: list[LevelSpec],
    *,
    note: str = "",
    in_force_from: dt.datetime | None = None,
    source_review=None,
) -> PlanVersion:
    """The next version of `plan`. Activations already running keep the version they started
    with; activations from `in_force_from` on use this one."""
    if not rules.may_write_plan(actor, plan.place):
        raise PermissionRefused(_("You may not write plans for this place."))
    if not (note or "").strip():
        raise ActionError(_("Say what changed."), field="note", code=ErrorCode.REQUIRED)
    _check_levels(levels)
    # In force from at most a year ahead, at most five years back (issue 23 #4).
    out_of_range = datebounds.check_moment("in_force_from", in_force_from, future=datebounds.YEAR)
    if out_of_range:
        raise ActionError(errors=[out_of_range])
    with transaction.atomic():
        Plan.objects.select_for_update().get(pk=plan.pk)
        version = _write_version(plan, actor, levels, note, in_force_from, source_review)
        audit.record(
            actor, "emergency.plan.version", plan, after={"version": version.number, "note": note}
        )
    return version


def level_specs_of(version: PlanVersion) -> list[LevelSpec]:
    """A version's content as specs, to copy it into the next version."""
    specs = []
    for lv in version.levels.prefetch_related("actions", "reserves", "people").order_by("-level"):
        specs.append(
            LevelSpec(
                level=lv.level,
                summary=lv.summary,
                actions=[ActionSpec(a.title, a.role, a.due_hours) for a in lv.actions.all()],
                reserves=[(r.item_code, r.per_thousand) for r in lv.reserves.all()],
                people=[(p.skill_code, p.count) for p in lv.people.all()],
            )
        )
    return specs


def parse_actions(text: str, field_name: str) -> list[ActionSpec]:
    """Lines of `action | role | hours` (hours optional, default 2) as typed in the plan form."""
    out: list[ActionSpec] = []
    for n, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        role = parts[1] if len(parts) > 1 else ""
        role = _role_aliases().get(role, role)
        hours = parts[2] if len(parts) > 2 and parts[2] else "2"
        if not parts[0] or role not in ACTION_ROLES or not hours.isdigit() or int(hours) < 1:
            raise ActionError(
                _("Line %(n)d: write “action | role | hours”, with a known role.") % {"n": n},
                field=field_name,
            )
        out.append(ActionSpec(parts[0][:200], role, int(hours)))
    return out


def parse_reserves(text: str, field_name: str) -> list[tuple[str, Decimal]]:
    """Lines of `item code | quantity per 1,000 residents`."""
    out: list[tuple[str, Decimal]] = []
    for n, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        try:
            qty = Decimal(parts[1]) if len(parts) > 1 else None
        except InvalidOperation:
            qty = None
        if not parts[0] or qty is None or not qty.is_finite() or qty <= 0:
            raise ActionError(
                _("Line %(n)d: write “item code | quantity”, with a quantity above zero.")
                % {"n": n},
                field=field_name,
            )
        out.append((parts[0], qty))
    return out


def parse_people(text: str, field_name: str) -> list[tuple[str, int]]:
    """Lines of `skill code | number of people`."""
    out: list[tuple[str, int]] = []
    for n, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        count = parts[1] if len(parts) > 1 else ""
        if not parts[0] or not count.isdigit() or int(count) < 1:
            raise ActionError(
                _("Line %(n)d: write “skill code | number of people”.") % {"n": n},
                field=field_name,
            )
        out.append((parts[0], int(count)))
    return out


# --- Activation -------------------------------------------------------------------------------


def find_plan(incident: Incident) -> Plan | None:
    """The plan for the incident's type at its place, or at the nearest place above it."""
    code = incident.place.code
    candidates = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    return (
        Plan.objects.filter(kind=incident.kind, place__code__in=candidates)
        .select_related("place")
        .order_by("-place__code")
        .first()
    )


def activate(
    actor: User, incident: Incident, level: int | str | None, *, note: str = ""
) -> Activation:
    """Activate a response level: tasks created and assigned, call-ups sent, clock started."""
    lvl = _level(level)
    if lvl is None:
        raise ActionError(_("Choose a response level from I to IV."), field="level")
    if not rules.may_activate(actor, incident):
        raise PermissionRefused(_("Only the leader of this place activates a response level."))
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status == IncidentStatus.CLOSED:
            raise ActionError(
                _("The incident is closed."), field="level", code=ErrorCode.INVALID_STATE
            )
        if locked.activations.filter(ended_at=None).exists():
            raise ActionError(
                _("A response level is already active; raise or lower it instead."),
                field="level",
                code=ErrorCode.INVALID_STATE,
            )
        plan_level = _plan_level(locked, lvl)
        now = timezone.now()
        activation = _start(locked, actor, plan_level, now, note)
        if locked.status in (IncidentStatus.REPORTED, IncidentStatus.VERIFIED):
            before = locked.status
            locked.status = IncidentStatus.RESPONDING
            locked.save(update_fields=["status", "updated_at"])
            audit.record(
                actor,
                "emergency.incident.status",
                locked,
                before={"status": before},
                after={"status": locked.status},
            )
        _create_tasks(locked, activation, plan_level, actor, now, skip_titles=set())
        _mobilise(locked, plan_level, actor)
    return activation


def change_level(
    actor: User, incident: Incident, level: int | str | None, *, note: str = ""
) -> Activation:
    """Raise or lower the active level: the current one ends, the new one starts with the
    version in force now; actions of the new level not already under way become tasks."""
    lvl = _level(level)
    if lvl is None:
        raise ActionError(_("Choose a response level from I to IV."), field="level")
    if not rules.may_activate(actor, incident):
        raise PermissionRefused(_("Only the leader of this place activates a response level."))
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        current = locked.activations.select_for_update().filter(ended_at=None).first()
        if current is None:
            raise ActionError(
                _("No response level is active."), field="level", code=ErrorCode.INVALID_STATE
            )
        if current.level == lvl:
            raise ActionError(_("This level is already active."), field="level")
        plan_level = _plan_level(locked, lvl)
        now = timezone.now()
        current.ended_at, current.ended_by = now, actor
        current.save(update_fields=["ended_at", "ended_by"])
        activation = _start(locked, actor, plan_level, now, note, previous=current.level)
        running = set(
            locked.tasks.filter(status__in=("open", "accepted", "in_progress")).values_list(
                "title", flat=True
            )
        )
        _create_tasks(locked, activation, plan_level, actor, now, skip_titles=running)
        if lvl < current.level:
            _mobilise(locked, plan_level, actor)
    return activation


def deactivate(actor: User, incident: Incident, *, note: str = "") -> Activation:
    """Lift the response level; a responding incident moves on to recovering."""
    if not rules.may_activate(actor, incident):
        raise PermissionRefused(_("Only the leader of this place activates a response level."))
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        current = locked.activations.select_for_update().filter(ended_at=None).first()
        if current is None:
            raise ActionError(
                _("No response level is active."), field="level", code=ErrorCode.INVALID_STATE
            )
        end_activation(locked, actor, timezone.now(), note or _("Response level lifted."))
        if locked.status == IncidentStatus.RESPONDING:
            locked.status = IncidentStatus.RECOVERING
            locked.save(update_fields=["status", "updated_at"])
            log_line(locked, actor, LogKind.STATUS, _("Status: Responding → Recovering."))
        current.refresh_from_db()
    return current


def end_activation(incident: Incident, actor: User | None, at: dt.datetime, note: str) -> None:
    """End the open activation, if any (inside the caller's transaction and lock)."""
    current = incident.activations.select_for_update().filter(ended_at=None).first()
    if current is None:
        return
    current.ended_at, current.ended_by = at, actor
    current.save(update_fields=["ended_at", "ended_by"])
    log_line(
        incident,
        actor,
        LogKind.ACTIVATION,
        _("Level %(r)s response ended. %(note)s") % {"r": current.roman, "note": note},
    )
    audit.record(
        actor,
        "emergency.level.end",
        incident,
        before={"level": current.level},
        after={"level": None, "note": note[:200]},
    )


def activate_from_warning(actor: User, warning, *, note: str = "") -> Activation:
    """One click from a red or orange warning: the incident opened from the warning and the
    matching level of its plan activated (red → I, orange → II)."""
    from renzhi.emergency.warning_link import prefill_from_warning

    if warning.level not in (ResponseLevel.I, ResponseLevel.II):
        raise ActionError(
            _("Only red and orange warnings activate a plan in one step."), field="warning"
        )
    data = prefill_from_warning(warning)
    with transaction.atomic():
        incident = report(
            actor,
            title=data["title"],
            kind=data["kind"],
            place=data["place"],
            places=data["places"],
            severity=data["severity"],
            description=data["description"],
            warnings=[warning],
        )
        return activate(actor, incident, warning.level, note=note)


# --- Internals --------------------------------------------------------------------------------


def _role_aliases() -> dict[str, str]:
    """Role names in Chinese and English as typed in the plan form, mapped to role codes."""
    from django.utils import translation

    aliases: dict[str, str] = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            aliases.update({str(label): value for value, label in Role.choices})
    return aliases


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def _level(value) -> int | None:
    try:
        lvl = int(value)
    except (TypeError, ValueError):
        return None
    return lvl if lvl in ResponseLevel.values else None


def _check_levels(levels: list[LevelSpec]) -> None:
    errors: list[FieldError] = []
    seen = {spec.level for spec in levels}
    if seen != set(ResponseLevel.values) or len(levels) != 4:
        errors.append(
            FieldError(
                "levels", ErrorCode.INVALID, _("A plan has the four levels IV, III, II and I.")
            )
        )
    known_items = _known_item_codes()
    known_skills = set(Skill.objects.values_list("code", flat=True))
    for spec in levels:
        prefix = f"level_{ROMAN.get(spec.level, spec.level)}"
        if not spec.actions:
            errors.append(
                FieldError(
                    f"{prefix}_actions",
                    ErrorCode.REQUIRED,
                    _("Level %(r)s lists no action.") % {"r": ROMAN.get(spec.level, "?")},
                )
            )
        for a in spec.actions:
            if a.role not in ACTION_ROLES or not a.title.strip() or a.due_hours < 1:
                errors.append(
                    FieldError(f"{prefix}_actions", ErrorCode.INVALID, _("Invalid action."))
                )
        if len(spec.actions) > MAX_ITEMS_PER_LEVEL:
            errors.append(
                FieldError(f"{prefix}_actions", ErrorCode.INVALID, _("Too many actions."))
            )
        codes = [c for c, _q in spec.reserves]
        if len(set(codes)) != len(codes):
            errors.append(
                FieldError(f"{prefix}_reserves", ErrorCode.DUPLICATE, _("An item is listed twice."))
            )
        for code, qty in spec.reserves:
            if qty <= 0:
                errors.append(
                    FieldError(
                        f"{prefix}_reserves", ErrorCode.INVALID, _("Quantities must be above zero.")
                    )
                )
            if known_items is not None and code not in known_items:
                errors.append(
                    FieldError(
                        f"{prefix}_reserves",
                        ErrorCode.INVALID,
                        _("Unknown item code “%(code)s”.") % {"code": code},
                    )
                )
        skills = [c for c, _n in spec.people]
        if len(set(skills)) != len(skills):
            errors.append(
                FieldError(f"{prefix}_people", ErrorCode.DUPLICATE, _("A skill is listed twice."))
            )
        for code, count in spec.people:
            if count < 1:
                errors.append(
                    FieldError(
                        f"{prefix}_people", ErrorCode.INVALID, _("Numbers must be above zero.")
                    )
                )
            if code not in known_skills:
                errors.append(
                    FieldError(
                        f"{prefix}_people",
                        ErrorCode.INVALID,
                        _("Unknown skill code “%(code)s”.") % {"code": code},
                    )
                )
    if errors:
        raise ActionError(errors=errors)


def _known_item_codes() -> set[str] | None:
    """Item codes of the reserves ledger, or None while it has no Item model (then any code is
    accepted and checked when the ledger arrives)."""
    try:
        from renzhi.emergency.models import Item  # type: ignore[attr-defined]
    except ImportError:
        return None
    return set(Item.objects.values_list("code", flat=True))


def _write_version(plan, actor, levels, note, in_force_from, source_review) -> PlanVersion:
    number = (plan.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PlanVersion.objects.create(
        plan=plan,
        number=number,
        in_force_from=in_force_from or timezone.now(),
        note=(note or "")[:300],
        created_by=actor,
        source_review=source_review,
    )
    for spec in sorted(levels, key=lambda s: -s.level):
        lv = PlanLevel.objects.create(version=version, level=spec.level, summary=spec.summary)
        PlanAction.objects.bulk_create(
            PlanAction(
                level=lv, position=i, title=a.title[:200], role=a.role, due_hours=a.due_hours
            )
            for i, a in enumerate(spec.actions)
        )
        PlanReserve.objects.bulk_create(
            PlanReserve(level=lv, item_code=c, per_thousand=q) for c, q in spec.reserves
        )
        PlanPeople.objects.bulk_create(
            PlanPeople(level=lv, skill_code=c, count=n) for c, n in spec.people
        )
    return version


def _plan_level(incident: Incident, level: int) -> PlanLevel:
    plan = find_plan(incident)
    if plan is None:
        raise ActionError(
            _("There is no plan for this incident type here; write one first."), field="level"
        )
    version = plan.version_in_force()
    if version is None:
        raise ActionError(_("The plan has no version in force yet."), field="level")
    plan_level = version.levels.filter(level=level).first()
    if plan_level is None:
        raise ActionError(_("The plan has no such level."), field="level")
    return plan_level


def _start(incident, actor, plan_level, now, note, previous: int | None = None) -> Activation:
    activation = Activation.objects.create(
        incident=incident,
        version=plan_level.version,
        level=plan_level.level,
        started_at=now,
        started_by=actor,
        note=(note or "")[:300],
    )
    if previous is None:
        text = _("Level %(r)s response activated (%(plan)s, version %(v)d).")
    elif plan_level.level < previous:
        text = _("Response raised to level %(r)s (%(plan)s, version %(v)d).")
    else:
        text = _("Response lowered to level %(r)s (%(plan)s, version %(v)d).")
    log_line(
        incident,
        actor,
        LogKind.ACTIVATION,
        text
        % {"r": activation.roman, "plan": plan_level.version.plan, "v": plan_level.version.number},
    )
    audit.record(
        actor,
        "emergency.level.activate" if previous is None else "emergency.level.change",
        incident,
        before={"level": previous},
        after={"level": plan_level.level, "version": plan_level.version_id},
    )
    return activation


def _create_tasks(
    incident, activation, plan_level, actor, now, skip_titles: set[str]
) -> list[Task]:
    tasks: list[Task] = []
    for action in plan_level.actions.all():
        if action.title in skip_titles:
            continue
        assignee, unit = _assignee_for(action.role, incident.place)
        tasks.append(
            Task(
                incident=incident,
                activation=activation,
                plan_action=action,
                title=action.title,
                place=incident.place,
                role=action.role,
                assignee=assignee,
                unit=unit,
                deadline=now + dt.timedelta(hours=action.due_hours),
                created_by=actor,
                created_at=now,
            )
        )
    Task.objects.bulk_create(tasks)
    messages = []
    for task in tasks:
        if task.assignee is not None:
            messages.append(([task.assignee], _task_message(task)))
        elif task.unit is not None:
            handlers = [
                m.user
                for m in Membership.objects.filter(
                    role=Role.UNIT_HANDLER, unit=task.unit
                ).select_related("user")
            ]
            messages.append((handlers, _task_message(task)))
    notify.notify_many(messages)
    if tasks:
        log_line(
            incident,
            actor,
            LogKind.TASK,
            _("%(n)d tasks created from the plan.") % {"n": len(tasks)},
        )
    return tasks


def _task_message(task: Task) -> notify.Message:
    return notify.Message(
        kind="emergency.task",
        title=_("New emergency task: %(t)s") % {"t": task.title},
        body=str(task.incident),
        link=f"/emergency/tasks/{task.pk}/",
        object_type="emergency.task",
        object_id=str(task.pk),
    )


def _assignee_for(role: str, place: Place) -> tuple[User | None, Unit | None]:
    """Someone holding `role` nearest to `place`: at the place itself, then below it (lowest
    code first), then the nearest place above it. Unit handlers: a unit covering the place."""
    if role == Role.UNIT_HANDLER:
        unit = (
            Unit.objects.filter(places__code__startswith=place.code[:12]).order_by("code").first()
            or Unit.objects.filter(places__code__in=_ancestors(place.code)).order_by("code").first()
        )
        return None, unit
    members = Membership.objects.filter(role=role, user__is_active=True).select_related(
        "user", "place"
    )
    exact = members.filter(place=place).order_by("user_id").first()
    if exact:
        return exact.user, None
    below = members.filter(place__code__startswith=place.code).order_by("place__code", "user_id")
    if first := below.first():
        return first.user, None
    for code in reversed(_ancestors(place.code)):
        above = members.filter(place__code=code).order_by("user_id").first()
        if above:
            return above.user, None
    return None, None


def _ancestors(code: str) -> list[str]:
    return [code[:n] for n in (6, 9, 12) if n < len(code)]


def _mobilise(incident: Incident, plan_level: PlanLevel, actor: User) -> None:
    """Call up the people the level lists, through the people side when it is installed."""
    wanted = list(plan_level.people.all())
    if not wanted:
        return
    try:
        from renzhi.emergency import mobilisation
        from renzhi.emergency.actions import people as people_actions
    except ImportError:
        log_line(
            incident,
            actor,
            LogKind.ACTIVATION,
            _("People to mobilise: %(list)s (call-ups to be sent by hand).")
            % {"list": ", ".join(f"{p.skill_code} × {p.count}" for p in wanted)},
        )
        return
    sent = 0
    for need in wanted:
        try:
            with transaction.atomic():
                # People already called for this incident count towards the level's number.
                called = set(incident.callups.values_list("user_id", flat=True))
                have = PersonSkill.objects.filter(
                    skill__code=need.skill_code, user_id__in=called
                ).count()
                missing = need.count - have
                if missing <= 0:
                    continue
                candidates = mobilisation.find_candidates(
                    need.skill_code, incident.place, timezone.now(), missing + len(called)
                )
                users: list[User] = [c.user for c in candidates if c.user.pk not in called][
                    :missing
                ]
                if users:
                    made = people_actions.send_callups(
                        actor, incident, users, plan_level.version.plan.title
                    )
                    sent += len(made)
        except (ActionError, TypeError, AttributeError, ValueError) as exc:  # robust: log it
            log.warning("call-ups for %s failed: %s", need.skill_code, exc)
            log_line(
                incident,
                actor,
                LogKind.ACTIVATION,
                _("Call-ups for %(skill)s could not be sent.") % {"skill": need.skill_code},
            )
    if sent:
        log_line(incident, actor, LogKind.ACTIVATION, _("%(n)d call-ups sent.") % {"n": sent})
