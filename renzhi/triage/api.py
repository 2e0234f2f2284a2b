"""JSON API of the triage app, mounted at /api/triage (OpenAPI tag "triage").

The same rules as the pages (`renzhi.triage.rules`): the triage queue for dispatchers and
community staff in their jurisdiction (an appeal outside it answers 404), hot issues for
dispatchers, community staff and leaders, model versions for the global administrator.

(No `from __future__ import annotations` here: ninja reads the annotations at import time.)
"""

import datetime as dt
from typing import Annotated

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import paginate

from renzhi.appeals import queries as appeal_queries
from renzhi.appeals.models import Appeal, Category, Priority
from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.http import AuthedRequest
from renzhi.core.models import Unit
from renzhi.core.pagination import Page
from renzhi.core.text import NOTE, QueryText, Text
from renzhi.triage import actions, queries, similarity
from renzhi.triage.intake import ensure_suggestions
from renzhi.triage.models import Head, HotIssue, ModelVersion, TriageSuggestion
from renzhi.triage.rules import may_manage_models, may_see_hot, may_triage

router = Router(tags=["triage"])


class Choice(Schema):
    code: str
    name: str
    probability: float | None


class Similar(Schema):
    tracking_no: str
    score: float


class QueueItemOut(Schema):
    tracking_no: str
    title: str
    description: str
    urgent: bool
    urgent_phrases: list[str]
    community: str | None
    received_at: dt.datetime
    categories: list[Choice]
    units: list[Choice]
    similar: list[Similar]


class DecisionIn(Schema):
    category: Annotated[str, Text(16)] | None = None
    unit: Annotated[str, Text(32)] | None = None
    note: Annotated[str, NOTE] = ""


class DecisionOut(Schema):
    tracking_no: str
    status: str
    category: str | None
    unit: str | None
    state: str


class HotIssueOut(Schema):
    id: int
    rank: int
    heat: float
    title: str
    count: int
    residents: int
    recent: int
    earlier: int
    growth: float
    concentration: float
    place: str | None
    place_code: str
    category: str | None
    lat: float | None
    lng: float | None
    representatives: list[str]
    incident_url: str
    warning_url: str


class ModelVersionOut(Schema):
    id: int
    head: str
    created_at: dt.datetime
    rows: int
    classes: list[str]
    accuracy: float
    macro_f1: float
    per_class: dict
    confusion: list[list[int]]
    thresholds: dict[str, float]
    target_precision: float
    auto_share: float
    auto_precision: float | None
    active: bool
    activated_at: dt.datetime | None


# --- Queue ----------------------------------------------------------------------------------


@router.get("/queue", response=list[QueueItemOut], summary="The triage queue (urgent first)")
@paginate(Page)
def queue(request: AuthedRequest):
    _require(may_triage(request.auth))
    appeals = list(queries.queue_for(request.auth)[:500])
    suggestions = ensure_suggestions(appeals)
    names = {c.code: str(c) for c in Category.objects.select_related("parent")}
    units = dict(Unit.objects.values_list("code", "name"))
    return [_queue_item(a, suggestions.get(a.pk), names, units) for a in appeals]


@router.post(
    "/queue/{tracking_no}/accept", response=DecisionOut, summary="Accept the top suggestion"
)
def accept(request: AuthedRequest, tracking_no: QueryText):
    return _decide(request, tracking_no, DecisionIn())


@router.post(
    "/queue/{tracking_no}/correct",
    response=DecisionOut,
    summary="Dispatch with another category and/or unit (stored for the next training)",
)
def correct(request: AuthedRequest, tracking_no: QueryText, payload: DecisionIn):
    return _decide(request, tracking_no, payload)


@router.get(
    "/appeals/{tracking_no}/similar",
    response=list[Similar],
    summary="Open appeals nearby whose text is alike (staff)",
)
def similar(request: AuthedRequest, tracking_no: QueryText):
    _require(appeal_queries.is_staff_viewer(request.auth))
    appeal = get_object_or_404(appeal_queries.appeals_for(request.auth), tracking_no=tracking_no)
    found = similarity.similar_open_appeals(appeal)
    visible = set(
        appeal_queries.appeals_for(request.auth)
        .filter(pk__in=[a.pk for a, _score in found])
        .values_list("pk", flat=True)
    )
    return [
        {"tracking_no": a.tracking_no, "score": round(s, 3)} for a, s in found if a.pk in visible
    ]


# --- Hot issues -----------------------------------------------------------------------------


@router.get("/hot", response=list[HotIssueOut], summary="Current hot issues by heat")
@paginate(Page)
def hot(request: AuthedRequest):
    _require(may_see_hot(request.auth))
    return [_hot_item(i) for i in queries.hot_issues_for(request.auth)]


# --- Model versions -------------------------------------------------------------------------


@router.get("/models", response=list[ModelVersionOut], summary="Model versions (admin)")
@paginate(Page)
def model_versions(request: AuthedRequest, head: QueryText | None = None):
    _require(may_manage_models(request.auth))
    qs = ModelVersion.objects.all()
    if head:
        if head not in Head.values:
            raise ActionError(_("Unknown model head."), field="head")
        qs = qs.filter(head=head)
    return qs


@router.post(
    "/models/{int:version_id}/activate", response=ModelVersionOut, summary="Activate a version"
)
def activate(request: AuthedRequest, version_id: int):
    _require(may_manage_models(request.auth))
    version = get_object_or_404(ModelVersion, pk=version_id)
    return actions.activate(request.auth, version)


@router.post(
    "/models/{head}/rollback", response=ModelVersionOut, summary="Back to the previous version"
)
def rollback(request: AuthedRequest, head: QueryText):
    _require(may_manage_models(request.auth))
    if head not in Head.values:
        raise ActionError(_("Unknown model head."), field="head", code=ErrorCode.NOT_FOUND)
    return actions.rollback(request.auth, head)


# --- helpers --------------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionRefused(_("Your role does not allow this action."))


def _decide(request: AuthedRequest, tracking_no: QueryText, payload: DecisionIn) -> dict:
    _require(may_triage(request.auth))
    appeal = get_object_or_404(queries.queue_for(request.auth), tracking_no=tracking_no)
    category = unit = None
    if payload.category:
        category = Category.objects.select_related("parent").filter(code=payload.category).first()
        if category is None:
            raise ActionError(_("Unknown category."), field="category")
    if payload.unit:
        unit = Unit.objects.filter(code=payload.unit).first()
        if unit is None:
            raise ActionError(_("Unknown unit."), field="unit")
    s = actions.decide(request.auth, appeal, category=category, unit=unit, note=payload.note)
    fresh = Appeal.objects.get(pk=appeal.pk)
    return {
        "tracking_no": appeal.tracking_no,
        "status": s.status,
        "category": s.final_category.code if s.final_category else None,
        "unit": s.final_unit.code if s.final_unit else None,
        "state": fresh.state,
    }


def _queue_item(
    appeal: Appeal, s: TriageSuggestion | None, names: dict[str, str], units: dict[str, str]
) -> dict:
    return {
        "tracking_no": appeal.tracking_no,
        "title": appeal.title,
        "description": appeal.description,
        "urgent": appeal.priority == Priority.URGENT,
        "urgent_phrases": s.urgent_phrases if s else [],
        "community": appeal.community.name if appeal.community else None,
        "received_at": appeal.received_at,
        "categories": [
            {"code": c, "name": names.get(c, c), "probability": p}
            for c, p in (s.categories if s else [])
        ],
        "units": [
            {"code": u, "name": units.get(u, u), "probability": p}
            for u, p in (s.units if s else [])
        ],
        "similar": [{"tracking_no": no, "score": sc} for no, sc in (s.similar if s else [])],
    }


def _hot_item(issue: HotIssue) -> dict:
    place = issue.community or issue.street
    return {
        "id": issue.pk,
        "rank": issue.rank,
        "heat": issue.heat,
        "title": issue.title,
        "count": issue.count,
        "residents": issue.residents,
        "recent": issue.recent,
        "earlier": issue.earlier,
        "growth": round((issue.recent + 1) / (issue.earlier + 1), 3),
        "concentration": issue.concentration,
        "place": place.name if place else None,
        "place_code": issue.place_code,
        "category": issue.category.code if issue.category else None,
        "lat": issue.lat,
        "lng": issue.lng,
        "representatives": issue.representatives,
        "incident_url": f"/emergency/incidents/new/?hot_issue={issue.pk}",
        "warning_url": f"/warnings/new/?hot_issue={issue.pk}",
    }
