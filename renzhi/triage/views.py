"""Triage pages: the queue (one click accepts a suggestion), hot issues with a map, and the
model versions (admin). Thin: reading through `queries`, every change through `actions`; an
`ActionError` comes back as a message and nothing changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renzhi.appeals.models import Appeal, Category, Priority
from renzhi.core.errors import ActionError
from renzhi.core.models import Place, Unit
from renzhi.core.text import posted_text
from renzhi.triage import actions, queries, tasks
from renzhi.triage.intake import ensure_suggestions
from renzhi.triage.models import Head, ModelVersion, UrgencyRule
from renzhi.triage.rules import may_manage_models, may_see_hot, may_triage
from renzhi.web.access import requires

PER_PAGE = 15


# --- Triage queue ---------------------------------------------------------------------------


@requires(may_triage)
def queue(request: HttpRequest) -> HttpResponse:
    qs = queries.queue_for(request.user)  # type: ignore[arg-type]
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    appeals = list(page.object_list)
    suggestions = ensure_suggestions(appeals)
    categories = _category_names()
    unit_names = dict(Unit.objects.values_list("code", "name"))
    similar_nos = {no for s in suggestions.values() for no, _score in s.similar}
    similar_titles = dict(
        Appeal.objects.filter(tracking_no__in=similar_nos).values_list("tracking_no", "title")
    )
    choices = [(c.code, str(c)) for c in _leaf_categories()]
    rows = []
    for appeal in appeals:
        s = suggestions.get(appeal.pk)
        rows.append(
            {
                "appeal": appeal,
                "urgent": appeal.priority == Priority.URGENT,
                "suggestion": s,
                "categories": [
                    {"code": c, "name": categories.get(c, c), "percent": _percent(p)}
                    for c, p in (s.categories if s else [])
                ],
                "units": [
                    {"code": u, "name": unit_names.get(u, u), "percent": _percent(p)}
                    for u, p in (s.units if s else [])
                ],
                "similar": [
                    {"no": no, "title": similar_titles.get(no, ""), "percent": _percent(score)}
                    for no, score in (s.similar if s else [])
                ],
                "unit_choices": _unit_choices(appeal),
            }
        )
    return render(
        request,
        "triage/queue.html",
        {"page": page, "rows": rows, "category_choices": choices},
    )


@requires(may_triage)
@require_POST
def decide(request: HttpRequest, tracking_no: str) -> HttpResponse:
    appeal = get_object_or_404(queries.queue_for(request.user), tracking_no=tracking_no)  # type: ignore[arg-type]
    category = unit = None
    try:
        code = posted_text(request.POST, "category", max_length=16)
        unit_code = posted_text(request.POST, "unit", max_length=32)
    except ActionError as error:
        messages.error(request, " ".join(e.message for e in error.errors))
        return redirect("triage:queue")
    if code:
        category = Category.objects.select_related("parent").filter(code=code).first()
        if category is None:
            messages.error(request, _("Unknown category."))
            return redirect("triage:queue")
    if unit_code:
        unit = Unit.objects.filter(code=unit_code).first()
        if unit is None:
            messages.error(request, _("Unknown unit."))
            return redirect("triage:queue")
    try:
        suggestion = actions.decide(request.user, appeal, category=category, unit=unit)  # type: ignore[arg-type]
    except ActionError as error:
        messages.error(request, " ".join(e.message for e in error.errors))
        return redirect("triage:queue")
    final_unit = suggestion.final_unit.name if suggestion.final_unit else ""
    messages.success(
        request,
        _("%(no)s dispatched to %(unit)s.") % {"no": appeal.tracking_no, "unit": final_unit},
    )
    return redirect("triage:queue")


# --- Hot issues -----------------------------------------------------------------------------


@requires(may_see_hot)
def hot(request: HttpRequest) -> HttpResponse:
    issues = list(queries.hot_issues_for(request.user)[:20])  # type: ignore[arg-type]
    numbers = {no for i in issues for no in i.representatives}
    texts = {
        a.tracking_no: a
        for a in Appeal.objects.filter(tracking_no__in=numbers).only(
            "tracking_no", "title", "description", "address", "received_at"
        )
    }
    community_ids = {i.community_id for i in issues if i.community_id}
    street_ids = {i.street_id for i in issues if i.street_id and not i.community_id}
    areas = Place.objects.filter(
        Q(pk__in=community_ids) | Q(pk__in=street_ids), boundary__isnull=False
    )
    items = []
    for issue in issues:
        items.append(
            {
                "issue": issue,
                "place": issue.community or issue.street,
                "growth": round((issue.recent + 1) / (issue.earlier + 1), 2),
                "concentration": round(100 * issue.concentration),
                "messages": [texts[no] for no in issue.representatives if no in texts],
            }
        )
    map_data = {
        "areas": [{"name": p.name, "boundary": p.boundary} for p in areas],
        "issues": [
            {
                "rank": i.rank,
                "title": i.title,
                "heat": i.heat,
                "lat": i.lat,
                "lng": i.lng,
                "points": i.points[:100],
            }
            for i in issues
            if i.lat is not None
        ],
        "text": {"appeals": _("appeals"), "heat": _("Heat")},
    }
    computed = issues[0].computed_at if issues else None
    return render(
        request,
        "triage/hot.html",
        {"items": items, "map_data": map_data, "computed_at": computed},
    )


# --- Model versions (admin) -----------------------------------------------------------------


@requires(may_manage_models)
def models_page(request: HttpRequest) -> HttpResponse:
    heads: list[dict[str, Any]] = []
    for head in Head:
        versions = list(ModelVersion.objects.filter(head=head)[:10])
        heads.append({"head": head, "label": head.label, "versions": versions})
    active = {v.head: v for h in heads for v in h["versions"] if v.active}
    details = []
    for head, version in active.items():
        labels = version.classes
        details.append(
            {
                "version": version,
                "label": Head(head).label,
                "rows": [
                    {
                        "name": version.names.get(label, label),
                        "threshold": version.thresholds.get(label),
                        **version.per_class.get(label, {}),
                        "confusion": version.confusion[i] if i < len(version.confusion) else [],
                    }
                    for i, label in enumerate(labels)
                ],
                "columns": [version.names.get(label, label) for label in labels],
            }
        )
    return render(
        request,
        "triage/models.html",
        {
            "heads": heads,
            "details": details,
            "rules": UrgencyRule.objects.all(),
        },
    )


@requires(may_manage_models)
@require_POST
def activate(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion, pk=version_id)
    try:
        actions.activate(request.user, version)  # type: ignore[arg-type]
    except ActionError as error:
        messages.error(request, " ".join(e.message for e in error.errors))
    else:
        messages.success(request, _("The model version is now active."))
    return redirect("triage:models")


@requires(may_manage_models)
@require_POST
def rollback(request: HttpRequest, head: str) -> HttpResponse:
    if head not in Head.values:
        raise Http404
    try:
        actions.rollback(request.user, head)  # type: ignore[arg-type]
    except ActionError as error:
        messages.error(request, " ".join(e.message for e in error.errors))
    else:
        messages.success(request, _("Rolled back to the previous model version."))
    return redirect("triage:models")


@requires(may_manage_models)
@require_POST
def retrain(request: HttpRequest, head: str) -> HttpResponse:
    if head not in [*Head.values, "all"]:
        raise Http404
    tasks.retrain.enqueue(head=head, activate=False)
    messages.success(
        request,
        _("Training was queued; the new version appears here when it is done (not activated)."),
    )
    return redirect("triage:models")


@requires(may_manage_models)
@require_POST
def urgency_rule(request: HttpRequest) -> HttpResponse:
    try:
        weight = float(request.POST.get("weight") or 1)
    except ValueError:
        weight = -1.0
    try:
        actions.save_urgency_rule(
            request.user,  # type: ignore[arg-type]
            phrase=posted_text(request.POST, "phrase", max_length=50),
            weight=weight,
            enabled=request.POST.get("enabled") == "on",
        )
    except ActionError as error:
        messages.error(request, " ".join(e.message for e in error.errors))
    else:
        messages.success(request, _("The urgency rule was saved."))
    return redirect("triage:models")


# --- helpers --------------------------------------------------------------------------------


def _percent(p: float | None) -> int | None:
    return None if p is None else round(100 * p)


def _leaf_categories() -> list[Category]:
    cats = list(Category.objects.filter(active=True).select_related("parent"))
    parents = {c.parent_id for c in cats if c.parent_id}
    return sorted((c for c in cats if c.pk not in parents), key=lambda c: (c.sort, c.code))


def _category_names() -> dict[str, str]:
    return {c.code: str(c) for c in Category.objects.select_related("parent")}


def _unit_choices(appeal: Appeal) -> list[tuple[str, str]]:
    """Units serving the appeal's place (or serving everywhere); all active ones otherwise."""
    code = appeal.place_code
    ancestors = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    units = (
        Unit.objects.filter(active=True)
        .filter(Q(places__code__in=ancestors) | Q(places=None))
        .distinct()
        .order_by("code")
    )
    found = [(u.code, u.name) for u in units]
    return found or [(u.code, u.name) for u in Unit.objects.filter(active=True).order_by("code")]
