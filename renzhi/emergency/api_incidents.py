"""Emergency JSON API (incidents, plans, tasks, shelters, reviews, the leader dashboard),
mounted under /api/emergency by `renzhi.emergency.api`.

Reading goes through `queries_incidents` (the data scope): anything outside it answers 404.
Every change goes through an action; an `ActionError` becomes
{"detail": [{field, code, message}]} with 400/403/404/409.

(No `from __future__ import annotations`: ninja reads the annotations at import time.)
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Place, Unit, User
from renzhi.core.pagination import Page
from renzhi.core.text import NOTE, QueryText, Text
from renzhi.emergency import dashboard, queries_incidents, reviews, rules
from renzhi.emergency.actions import incidents as incident_actions
from renzhi.emergency.actions import plans as plan_actions
from renzhi.emergency.actions import reviews as review_actions
from renzhi.emergency.actions import shelters as shelter_actions
from renzhi.emergency.actions import tasks as task_actions
from renzhi.emergency.models import (
    Incident,
    Plan,
    PlanVersion,
    Review,
    Shelter,
    ShelterStay,
    Task,
)

router = Router(tags=["emergency"])


# --- Schemas ----------------------------------------------------------------------------------


class IncidentIn(Schema):
    title: Annotated[str, Text(120)]
    kind: Annotated[str, Text(20)]
    place_code: Annotated[str, Text(15)]
    place_codes: list[Annotated[str, Text(15)]] = []
    severity: int
    description: Annotated[str, NOTE] = ""
    started_at: dt.datetime | None = None
    lat: float | None = None
    lng: float | None = None
    warning_ids: list[int] = []
    appeal_numbers: list[Annotated[str, Text(20)]] = []
    hot_issue: Annotated[str, Text(40)] = ""


class IncidentOut(Schema):
    id: int
    title: str
    kind: str
    status: str
    severity: int
    place_code: str
    place_name: str
    place_codes: list[str]
    started_at: dt.datetime
    ended_at: dt.datetime | None
    active_level: int | None
    warning_ids: list[int]
    appeal_numbers: list[str]


class StatusIn(Schema):
    status: Annotated[str, Text(12)]
    note: Annotated[str, NOTE] = ""


class TextIn(Schema):
    text: Annotated[str, Text(2000, multiline=True)]


class LinkIn(Schema):
    tracking_no: Annotated[str, Text(20)] = ""
    warning_id: int | None = None


class LevelIn(Schema):
    level: int
    note: Annotated[str, Text(300, multiline=True)] = ""


class NoteIn(Schema):
    note: Annotated[str, NOTE] = ""


class ReasonIn(Schema):
    reason: Annotated[str, Text(200, multiline=True)] = ""


class TaskIn(Schema):
    title: Annotated[str, Text(200)]
    deadline: dt.datetime | None = None
    description: Annotated[str, NOTE] = ""
    assignee: Annotated[str, Text(150)] = ""  # username
    unit_code: Annotated[str, Text(32)] = ""
    team_id: int | None = None


class AssignIn(Schema):
    assignee: Annotated[str, Text(150)] = ""
    unit_code: Annotated[str, Text(32)] = ""
    team_id: int | None = None


class TaskOut(Schema):
    id: int
    incident_id: int
    title: str
    status: str
    role: str
    assignee: str | None
    unit: str | None
    team: str | None
    deadline: dt.datetime
    overdue: bool
    escalation: int
    reports: int


class ActionSpecIn(Schema):
    title: Annotated[str, Text(200)]
    role: Annotated[str, Text(20)]
    due_hours: int = 2


class ReserveIn(Schema):
    item_code: Annotated[str, Text(40)]
    per_thousand: Decimal


class PeopleIn(Schema):
    skill_code: Annotated[str, Text(40)]
    count: int


class LevelSpecIn(Schema):
    level: int
    summary: Annotated[str, NOTE] = ""
    actions: list[ActionSpecIn] = []
    reserves: list[ReserveIn] = []
    people: list[PeopleIn] = []


class PlanIn(Schema):
    place_code: Annotated[str, Text(15)]
    kind: Annotated[str, Text(20)]
    title: Annotated[str, Text(120)]
    levels: list[LevelSpecIn]
    note: Annotated[str, Text(300, multiline=True)] = ""


class VersionIn(Schema):
    levels: list[LevelSpecIn]
    note: Annotated[str, Text(300, multiline=True)]
    in_force_from: dt.datetime | None = None


class PlanOut(Schema):
    id: int
    title: str
    kind: str
    place_code: str
    version_in_force: int | None
    versions: int


class VersionOut(Schema):
    id: int
    plan_id: int
    number: int
    in_force_from: dt.datetime
    note: str
    levels: list[LevelSpecIn]


class ActivationOut(Schema):
    id: int
    incident_id: int
    level: int
    version: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    tasks: int


class ShelterIn(Schema):
    name: Annotated[str, Text(120)]
    place_code: Annotated[str, Text(15)]
    capacity: int
    address: Annotated[str, Text(200)] = ""
    facilities: list[Annotated[str, Text(100)]] = []
    lat: float | None = None
    lng: float | None = None


class ShelterOut(Schema):
    id: int
    name: str
    place_code: str
    capacity: int
    occupancy: int
    facilities: list[str]
    is_open: bool


class CheckInIn(Schema):
    name: Annotated[str, Text(80)]
    people: int = 1
    phone: Annotated[str, Text(20)] = ""
    incident_id: int | None = None


class OpenIn(Schema):
    is_open: bool


class StayOut(Schema):
    id: int
    shelter_id: int
    name: str
    phone: str
    people: int
    checked_in_at: dt.datetime
    checked_out_at: dt.datetime | None


class ChangeIn(Schema):
    plan_id: int
    level: int
    change: Annotated[str, Text(20)]
    target: Annotated[str, Text(200)]
    role: Annotated[str, Text(20)] = ""
    quantity: Decimal | None = None


class ReviewIn(Schema):
    summary: Annotated[str, NOTE]
    lessons: Annotated[str, NOTE]
    changes: list[ChangeIn] = []


class ReviewOut(Schema):
    id: int
    incident_id: int
    summary: str
    lessons: str
    figures: dict
    changes: int
    applied: int


class MomentOut(Schema):
    at: dt.datetime
    source: str
    text: str


# --- Incidents --------------------------------------------------------------------------------


@router.get("/incidents", response=list[IncidentOut], summary="Incidents I may see")
@paginate(Page)
def list_incidents(request: AuthedRequest, status: QueryText = ""):
    qs = queries_incidents.incidents_for(request.auth).prefetch_related(
        "places", "warnings", "appeals", "activations"
    )
    if status:
        qs = qs.filter(status=status)
    return [_incident(i) for i in qs]


@router.post("/incidents", response={201: IncidentOut}, summary="Report an incident")
def create_incident(request: AuthedRequest, payload: IncidentIn):
    place = _place(payload.place_code, "place_code")
    places = [_place(c, "place_codes") for c in payload.place_codes]
    warnings = _warnings(request.auth, payload.warning_ids)
    appeals = _appeals(request.auth, payload.appeal_numbers)
    incident = incident_actions.report(
        request.auth,
        title=payload.title,
        kind=payload.kind,
        place=place,
        places=places,
        severity=payload.severity,
        description=payload.description,
        started_at=payload.started_at,
        lat=payload.lat,
        lng=payload.lng,
        warnings=warnings,
        appeals=appeals,
        hot_issue_ref=payload.hot_issue,
    )
    return 201, _incident(incident)


@router.get("/incidents/{incident_id}", response=IncidentOut, summary="One incident")
def get_incident(request: AuthedRequest, incident_id: int):
    return _incident(_incident_for(request, incident_id))


@router.post("/incidents/{incident_id}/status", response=IncidentOut, summary="Change status")
def incident_status(request: AuthedRequest, incident_id: int, payload: StatusIn):
    incident = _incident_for(request, incident_id)
    return _incident(
        incident_actions.change_status(request.auth, incident, payload.status, note=payload.note)
    )


@router.get("/incidents/{incident_id}/log", response=list[MomentOut], summary="The live log")
def incident_log(request: AuthedRequest, incident_id: int):
    incident = _incident_for(request, incident_id)
    return [{"at": e.at, "source": e.kind, "text": e.text} for e in reviews.log_of(incident, 500)]


@router.post("/incidents/{incident_id}/log", response={201: MomentOut}, summary="Write in the log")
def incident_add_log(request: AuthedRequest, incident_id: int, payload: TextIn):
    entry = incident_actions.add_log(
        request.auth, _incident_for(request, incident_id), payload.text
    )
    return 201, {"at": entry.at, "source": entry.kind, "text": entry.text}


@router.post("/incidents/{incident_id}/link", response=IncidentOut, summary="Link appeal/warning")
def incident_link(request: AuthedRequest, incident_id: int, payload: LinkIn):
    incident = _incident_for(request, incident_id)
    if not payload.tracking_no and payload.warning_id is None:
        raise ActionError(_("Give an appeal number or a warning."), field="tracking_no")
    if payload.tracking_no:
        (appeal,) = _appeals(request.auth, [payload.tracking_no])
        incident_actions.link_appeal(request.auth, incident, appeal)
    if payload.warning_id is not None:
        (warning,) = _warnings(request.auth, [payload.warning_id])
        incident_actions.link_warning(request.auth, incident, warning)
    return _incident(Incident.objects.get(pk=incident.pk))


@router.post(
    "/incidents/{incident_id}/activate", response=ActivationOut, summary="Activate a level"
)
def incident_activate(request: AuthedRequest, incident_id: int, payload: LevelIn):
    incident = _incident_for(request, incident_id)
    return _activation(
        plan_actions.activate(request.auth, incident, payload.level, note=payload.note)
    )


@router.post("/incidents/{incident_id}/level", response=ActivationOut, summary="Raise or lower")
def incident_level(request: AuthedRequest, incident_id: int, payload: LevelIn):
    incident = _incident_for(request, incident_id)
    return _activation(
        plan_actions.change_level(request.auth, incident, payload.level, note=payload.note)
    )


@router.post(
    "/incidents/{incident_id}/deactivate", response=ActivationOut, summary="Lift the level"
)
def incident_deactivate(request: AuthedRequest, incident_id: int, payload: NoteIn):
    incident = _incident_for(request, incident_id)
    return _activation(plan_actions.deactivate(request.auth, incident, note=payload.note))


@router.get("/incidents/{incident_id}/tasks", response=list[TaskOut], summary="The task board")
def incident_tasks(request: AuthedRequest, incident_id: int):
    incident = _incident_for(request, incident_id)
    return [_task(t) for t in incident.tasks.select_related("assignee", "unit", "team")]


@router.post("/incidents/{incident_id}/tasks", response={201: TaskOut}, summary="Create a task")
def incident_create_task(request: AuthedRequest, incident_id: int, payload: TaskIn):
    incident = _incident_for(request, incident_id)
    assignee, unit, team = _assignment(payload.assignee, payload.unit_code, payload.team_id)
    task = task_actions.create_task(
        request.auth,
        incident,
        title=payload.title,
        deadline=payload.deadline,
        description=payload.description,
        assignee=assignee,
        unit=unit,
        team=team,
    )
    return 201, _task(task)


@router.get("/incidents/{incident_id}/timeline", response=list[MomentOut], summary="Timeline")
def incident_timeline(request: AuthedRequest, incident_id: int):
    incident = _incident_for(request, incident_id)
    return [{"at": m.at, "source": m.source, "text": m.text} for m in reviews.timeline(incident)]


@router.post(
    "/warnings/{warning_id}/activate",
    response=ActivationOut,
    summary="One click from a red or orange warning: incident + plan level",
)
def warning_activate(request: AuthedRequest, warning_id: int, payload: NoteIn):
    (warning,) = _warnings(request.auth, [warning_id])
    return _activation(plan_actions.activate_from_warning(request.auth, warning, note=payload.note))


# --- Plans ------------------------------------------------------------------------------------


@router.get("/plans", response=list[PlanOut], summary="Plans I may see")
@paginate(Page)
def list_plans(request: AuthedRequest):
    return [_plan(p) for p in queries_incidents.plans_for(request.auth)]


@router.post("/plans", response={201: PlanOut}, summary="Write a new plan (version 1)")
def create_plan(request: AuthedRequest, payload: PlanIn):
    plan = plan_actions.create_plan(
        request.auth,
        place=_place(payload.place_code, "place_code"),
        kind=payload.kind,
        title=payload.title,
        levels=[_spec(s) for s in payload.levels],
        note=payload.note,
    )
    return 201, _plan(plan)


@router.get("/plans/{plan_id}", response=PlanOut, summary="One plan")
def get_plan(request: AuthedRequest, plan_id: int):
    return _plan(_plan_for(request, plan_id))


@router.get("/plans/{plan_id}/versions/{number}", response=VersionOut, summary="A plan version")
def get_version(request: AuthedRequest, plan_id: int, number: int):
    plan = _plan_for(request, plan_id)
    return _version(get_object_or_404(PlanVersion, plan=plan, number=number))


@router.post("/plans/{plan_id}/versions", response={201: VersionOut}, summary="Write a version")
def create_version(request: AuthedRequest, plan_id: int, payload: VersionIn):
    plan = _plan_for(request, plan_id)
    version = plan_actions.save_version(
        request.auth,
        plan,
        [_spec(s) for s in payload.levels],
        note=payload.note,
        in_force_from=payload.in_force_from,
    )
    return 201, _version(version)


# --- Tasks ------------------------------------------------------------------------------------


@router.get("/tasks", response=list[TaskOut], summary="Tasks I may see (mine=1: assigned to me)")
@paginate(Page)
def list_tasks(request: AuthedRequest, mine: bool = False, open_only: bool = False):
    qs = queries_incidents.tasks_for(request.auth).select_related("team")
    if mine:
        qs = qs.filter(assignee=request.auth)
    if open_only:
        qs = qs.filter(status__in=("open", "accepted", "in_progress"))
    return [_task(t) for t in qs]


@router.get("/tasks/{task_id}", response=TaskOut, summary="One task")
def get_task(request: AuthedRequest, task_id: int):
    return _task(_task_for(request, task_id))


@router.post("/tasks/{task_id}/accept", response=TaskOut, summary="Accept a task")
def task_accept(request: AuthedRequest, task_id: int):
    return _task(task_actions.accept(request.auth, _task_for(request, task_id)))


@router.post("/tasks/{task_id}/report", response=TaskOut, summary="Check-in report (multipart)")
def task_report(
    request: AuthedRequest,
    task_id: int,
    note: Form[Annotated[str, NOTE]],
    lat: Form[float | None] = None,
    lng: Form[float | None] = None,
    done: Form[bool] = False,
    photo: File[UploadedFile] | None = None,
):
    task = _task_for(request, task_id)
    task_actions.report(request.auth, task, note=note, lat=lat, lng=lng, photo=photo, done=done)
    task.refresh_from_db()
    return _task(task)


@router.post("/tasks/{task_id}/complete", response=TaskOut, summary="Finish a task")
def task_complete(request: AuthedRequest, task_id: int, payload: NoteIn):
    return _task(
        task_actions.complete(request.auth, _task_for(request, task_id), note=payload.note)
    )


@router.post("/tasks/{task_id}/cancel", response=TaskOut, summary="Cancel a task")
def task_cancel(request: AuthedRequest, task_id: int, payload: ReasonIn):
    return _task(
        task_actions.cancel(request.auth, _task_for(request, task_id), reason=payload.reason)
    )


@router.post("/tasks/{task_id}/assign", response=TaskOut, summary="Reassign a task")
def task_assign(request: AuthedRequest, task_id: int, payload: AssignIn):
    task = _task_for(request, task_id)
    assignee, unit, team = _assignment(payload.assignee, payload.unit_code, payload.team_id)
    return _task(task_actions.assign(request.auth, task, assignee=assignee, unit=unit, team=team))


# --- Shelters ---------------------------------------------------------------------------------


@router.get("/shelters", response=list[ShelterOut], summary="Shelters I may see")
@paginate(Page)
def list_shelters(request: AuthedRequest):
    return [_shelter(s) for s in queries_incidents.shelters_for(request.auth)]


@router.post("/shelters", response={201: ShelterOut}, summary="Open a shelter")
def create_shelter(request: AuthedRequest, payload: ShelterIn):
    shelter = shelter_actions.create_shelter(
        request.auth,
        name=payload.name,
        place=_place(payload.place_code, "place_code"),
        capacity=payload.capacity,
        address=payload.address,
        facilities=payload.facilities,
        lat=payload.lat,
        lng=payload.lng,
    )
    return 201, _shelter(shelter)


@router.get("/shelters/{shelter_id}", response=ShelterOut, summary="One shelter")
def get_shelter(request: AuthedRequest, shelter_id: int):
    return _shelter(_shelter_for(request, shelter_id))


@router.post("/shelters/{shelter_id}/check-in", response={201: StayOut}, summary="Check in")
def shelter_check_in(request: AuthedRequest, shelter_id: int, payload: CheckInIn):
    shelter = _shelter_for(request, shelter_id)
    incident = _incident_for(request, payload.incident_id) if payload.incident_id else None
    stay = shelter_actions.check_in(
        request.auth,
        shelter,
        name=payload.name,
        people=payload.people,
        phone=payload.phone,
        incident=incident,
    )
    return 201, _stay(stay)


@router.get("/shelters/{shelter_id}/stays", response=list[StayOut], summary="Who is staying")
@paginate(Page)
def shelter_stays(request: AuthedRequest, shelter_id: int, current: bool = True):
    shelter = _shelter_for(request, shelter_id)
    stays = shelter.stays.all()
    if current:
        stays = stays.filter(checked_out_at=None)
    return [_stay(x) for x in stays]


@router.post("/shelters/{shelter_id}/open", response=ShelterOut, summary="Open or close")
def shelter_open(request: AuthedRequest, shelter_id: int, payload: OpenIn):
    shelter = _shelter_for(request, shelter_id)
    return _shelter(shelter_actions.set_open(request.auth, shelter, payload.is_open))


@router.post("/stays/{stay_id}/check-out", response=StayOut, summary="Check out")
def shelter_check_out(request: AuthedRequest, stay_id: int):
    stay = get_object_or_404(
        ShelterStay.objects.select_related("shelter"),
        pk=stay_id,
        shelter__in=queries_incidents.shelters_for(request.auth),
    )
    return _stay(shelter_actions.check_out(request.auth, stay))


# --- Reviews and the dashboard ----------------------------------------------------------------


@router.get("/incidents/{incident_id}/review", response=ReviewOut, summary="The review")
def get_review(request: AuthedRequest, incident_id: int):
    incident = _incident_for(request, incident_id)
    return _review(get_object_or_404(Review, incident=incident))


@router.post("/incidents/{incident_id}/review", response={201: ReviewOut}, summary="Write it")
def write_review(request: AuthedRequest, incident_id: int, payload: ReviewIn):
    incident = _incident_for(request, incident_id)
    plans = {p.pk: p for p in queries_incidents.plans_for(request.auth)}
    changes = [
        review_actions.ChangeSpec(
            plans.get(c.plan_id), c.level, c.change, c.target, c.role, c.quantity
        )
        for c in payload.changes
    ]
    review = review_actions.write_review(
        request.auth, incident, summary=payload.summary, lessons=payload.lessons, changes=changes
    )
    return 201, _review(review)


@router.post("/reviews/{review_id}/apply", response=list[VersionOut], summary="Apply changes")
def apply_review(request: AuthedRequest, review_id: int):
    review = get_object_or_404(
        Review, pk=review_id, incident__in=queries_incidents.incidents_for(request.auth)
    )
    return [_version(v) for v in review_actions.apply_changes(request.auth, review)]


@router.get("/dashboard", summary="The leader dashboard figures")
def get_dashboard(request: AuthedRequest):
    if not rules.may_view_dashboard(request.auth):
        raise ActionError(
            _("Your role does not give access to this page."), code=ErrorCode.FORBIDDEN
        )
    return dashboard.figures_for(request.auth).as_json()


# --- Helpers ----------------------------------------------------------------------------------


def _incident_for(request, incident_id) -> Incident:
    return get_object_or_404(queries_incidents.incidents_for(request.auth), pk=incident_id)


def _plan_for(request, plan_id) -> Plan:
    return get_object_or_404(queries_incidents.plans_for(request.auth), pk=plan_id)


def _task_for(request, task_id) -> Task:
    return get_object_or_404(queries_incidents.tasks_for(request.auth), pk=task_id)


def _shelter_for(request, shelter_id) -> Shelter:
    return get_object_or_404(queries_incidents.shelters_for(request.auth), pk=shelter_id)


def _place(code: str, field: str) -> Place:
    place = Place.objects.filter(code=code).first()
    if place is None:
        raise ActionError(_("Unknown place code."), field=field)
    return place


def _warnings(user, ids: list[int]) -> list:
    if not ids:
        return []
    from renzhi.emergency.views_incidents import warnings_for

    found = list(warnings_for(user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ActionError(_("Unknown warning."), field="warning_ids", code=ErrorCode.NOT_FOUND)
    return found


def _appeals(user, numbers: list[str]) -> list:
    if not numbers:
        return []
    from renzhi.appeals import queries as appeal_queries

    found = list(appeal_queries.appeals_for(user).filter(tracking_no__in=numbers))
    if len(found) != len(set(numbers)):
        raise ActionError(_("Unknown appeal."), field="appeal_numbers")
    return found


def _assignment(username: str, unit_code: str, team_id: int | None):
    assignee = unit = team = None
    if username:
        assignee = User.objects.filter(username=username, is_active=True).first()
        if assignee is None:
            raise ActionError(_("Unknown person."), field="assignee")
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            raise ActionError(_("Unknown unit."), field="unit_code")
    if team_id is not None:
        from renzhi.emergency.models import Team

        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise ActionError(_("Unknown team."), field="team_id")
    return assignee, unit, team


def _spec(s: LevelSpecIn) -> plan_actions.LevelSpec:
    return plan_actions.LevelSpec(
        level=s.level,
        summary=s.summary,
        actions=[plan_actions.ActionSpec(a.title, a.role, a.due_hours) for a in s.actions],
        reserves=[(r.item_code, r.per_thousand) for r in s.reserves],
        people=[(p.skill_code, p.count) for p in s.people],
    )


def _incident(i: Incident) -> dict:
    current = next((a for a in i.activations.all() if a.ended_at is None), None)
    return {
        "id": i.pk,
        "title": i.title,
        "kind": i.kind,
        "status": i.status,
        "severity": i.severity,
        "place_code": i.place.code,
        "place_name": i.place.name,
        "place_codes": [p.code for p in i.places.all()],
        "started_at": i.started_at,
        "ended_at": i.ended_at,
        "active_level": current.level if current else None,
        "warning_ids": [w.pk for w in i.warnings.all()],
        "appeal_numbers": [a.tracking_no for a in i.appeals.all()],
    }


def _task(t: Task) -> dict:
    from django.utils import timezone

    return {
        "id": t.pk,
        "incident_id": t.incident_id,
        "title": t.title,
        "status": t.status,
        "role": t.role,
        "assignee": t.assignee.username if t.assignee else None,
        "unit": t.unit.code if t.unit else None,
        "team": t.team.name if t.team else None,
        "deadline": t.deadline,
        "overdue": t.is_open and t.deadline < timezone.now(),
        "escalation": t.escalation,
        "reports": t.reports.count(),
    }


def _plan(p: Plan) -> dict:
    current = p.version_in_force()
    return {
        "id": p.pk,
        "title": p.title,
        "kind": p.kind,
        "place_code": p.place.code,
        "version_in_force": current.number if current else None,
        "versions": p.versions.count(),
    }


def _version(v: PlanVersion) -> dict:
    return {
        "id": v.pk,
        "plan_id": v.plan_id,
        "number": v.number,
        "in_force_from": v.in_force_from,
        "note": v.note,
        "levels": [
            {
                "level": s.level,
                "summary": s.summary,
                "actions": [a.__dict__ for a in s.actions],
                "reserves": [{"item_code": c, "per_thousand": q} for c, q in s.reserves],
                "people": [{"skill_code": c, "count": n} for c, n in s.people],
            }
            for s in plan_actions.level_specs_of(v)
        ],
    }


def _activation(a) -> dict:
    return {
        "id": a.pk,
        "incident_id": a.incident_id,
        "level": a.level,
        "version": a.version.number,
        "started_at": a.started_at,
        "ended_at": a.ended_at,
        "tasks": a.tasks.count(),
    }


def _shelter(s: Shelter) -> dict:
    return {
        "id": s.pk,
        "name": s.name,
        "place_code": s.place.code,
        "capacity": s.capacity,
        "occupancy": s.occupancy,
        "facilities": s.facilities,
        "is_open": s.is_open,
    }


def _stay(s: ShelterStay) -> dict:
    from renzhi.core.privacy import mask_phone

    return {
        "id": s.pk,
        "shelter_id": s.shelter_id,
        "name": s.name,
        "phone": mask_phone(s.phone) if s.phone else "",
        "people": s.people,
        "checked_in_at": s.checked_in_at,
        "checked_out_at": s.checked_out_at,
    }


def _review(r: Review) -> dict:
    actions = list(r.actions.all())
    return {
        "id": r.pk,
        "incident_id": r.incident_id,
        "summary": r.summary,
        "lessons": r.lessons,
        "figures": r.figures,
        "changes": len(actions),
        "applied": sum(1 for a in actions if a.applied_version_id),
    }
