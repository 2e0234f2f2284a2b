"""What triage proposes for an appeal, and the intake hook that acts on it.

`on_intake` is the appeals app's plug point (`settings.RENZHI_INTAKE_TRIAGE`): it runs inside
`submit_appeal`'s transaction right after the appeal is created and before the routing table
is asked. It may
- set the category, when the resident gave none and the category model is sure (its top
  class is above that class's threshold);
- make the appeal urgent, when the urgency rules hit OR the urgency model's probability reaches
  its threshold (urgent appeals come first in every queue and get the urgent deadlines); the
  timeline says which: the phrases found, or the model and its confidence;
- name a unit to dispatch to, when the routing table has no unambiguous unit for the appeal
  and the unit model is sure — `_auto_route` then accepts and dispatches automatically.
Every automatic decision is written on the appeal's timeline (an internal note marked
automatic) and in the audit chain. Otherwise the appeal waits in the triage queue with the
top-3 suggestions of both heads. The suggestion row is stored either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals import routing
from renzhi.appeals.models import Appeal, AppealEvent, Category, Priority
from renzhi.core import audit
from renzhi.core.models import Unit
from renzhi.triage import registry, similarity, urgency, urgency_model
from renzhi.triage.models import Decision, Head, ModelVersion, TriageSuggestion
from renzhi.triage.thresholds import passes
from renzhi.triage.training import unit_text

TOP_K = 3


@dataclass
class Proposal:
    categories: list[tuple[str, float]] = field(default_factory=list)
    units: list[tuple[str, float | None]] = field(default_factory=list)
    category_version: ModelVersion | None = None
    unit_version: ModelVersion | None = None
    category_sure: bool = False
    unit_sure: bool = False
    urgency: urgency.Urgency = field(default_factory=lambda: urgency.Urgency(False, 0.0))
    model_urgency: urgency_model.Opinion | None = None
    similar: list[tuple[str, float]] = field(default_factory=list)

    @property
    def urgent(self) -> bool:
        """The rules hit, or the urgency model is at or above its threshold."""
        return self.urgency.urgent or self.urgent_by_model

    @property
    def urgent_by_model(self) -> bool:
        return self.model_urgency is not None and self.model_urgency.urgent


def propose(
    appeal: Appeal, *, with_similar: bool = True, rules: list[tuple[str, float]] | None = None
) -> Proposal:
    """Top-3 categories and units with probabilities, urgency and near-duplicates."""
    text = f"{appeal.title} {appeal.description}" if appeal.title else appeal.description
    p = Proposal(urgency=urgency.assess(text, rules))
    p.model_urgency = urgency_model.opinion(appeal.description)
    loaded = registry.active(Head.CATEGORY)
    if loaded is not None:
        p.category_version, clf = loaded
        p.categories = clf.top_k(appeal.description, TOP_K)[0]
        top, prob = p.categories[0]
        p.category_sure = passes(p.category_version.thresholds, top, prob)
    loaded_unit = registry.active(Head.UNIT)
    if loaded_unit is not None:
        p.unit_version, unit_clf = loaded_unit
        community = appeal.community.name if appeal.community_id and appeal.community else ""
        ranked = unit_clf.top_k(unit_text(community, appeal.description), TOP_K)[0]
        p.units = list(ranked)
        top_unit, unit_prob = ranked[0]
        p.unit_sure = passes(p.unit_version.thresholds, top_unit, unit_prob)
    if not p.units:
        p.units = _routing_candidates(appeal, p.categories)
    if with_similar:
        p.similar = [
            (a.tracking_no, round(score, 3)) for a, score in similarity.similar_open_appeals(appeal)
        ]
    return p


def on_intake(appeal: Appeal) -> tuple[Unit, str] | None:
    """The intake hook (see the module docstring): (unit, timeline note) or None."""
    p = propose(appeal)
    notes: list[str] = []
    changed: list[str] = []
    auto_category = False
    if appeal.category_id is None and p.category_sure:
        category = (
            Category.objects.filter(code=p.categories[0][0], active=True)
            .select_related("parent")
            .first()
        )
        if category is not None:
            appeal.category, appeal.category_top = category, category.top
            changed += ["category", "category_top"]
            auto_category = True
            notes.append(
                _("Classified automatically as “%(category)s” (confidence %(p)d%%).")
                % {"category": category, "p": round(100 * p.categories[0][1])}
            )
    if p.urgent and appeal.priority != Priority.URGENT:
        appeal.priority = Priority.URGENT
        changed.append("priority")
        notes.append(_urgency_note(p))
    if changed:
        appeal.version += 1
        appeal.save(update_fields=[*changed, "version", "updated_at"])
    unit, status = _decide_unit(appeal, p)
    if unit is not None:
        notes.append(
            _("Unit “%(unit)s” suggested by the triage model (confidence %(p)d%%).")
            % {"unit": unit.name, "p": round(100 * (p.units[0][1] or 0))}
        )
    suggestion = _store(appeal, p, status=status, auto_category=auto_category, auto_unit=bool(unit))
    if notes:
        _log_automatic(appeal, " ".join(notes), suggestion)
    if unit is None:
        return None
    return unit, _("Dispatched automatically by the triage model.")


def ensure_suggestions(appeals: Iterable[Appeal]) -> dict[int, TriageSuggestion]:
    """The suggestion of each appeal, proposing (and storing) the missing ones.

    Appeals that came in without the hook (bulk import, before the first model) get their
    suggestions when a dispatcher first opens the queue; nothing is decided automatically then.
    """
    appeals = list(appeals)
    found = {
        s.appeal_id: s for s in TriageSuggestion.objects.filter(appeal__in=[a.pk for a in appeals])
    }
    rules = urgency.enabled_rules()
    missing = [a for a in appeals if a.pk not in found]
    fresh = []
    for appeal in missing:
        p = propose(appeal, rules=rules)
        fresh.append(_row(appeal, p, status=Decision.QUEUED, auto_category=False, auto_unit=False))
    for row in TriageSuggestion.objects.bulk_create(fresh, ignore_conflicts=True):
        found[row.appeal_id] = row
    if fresh:  # ignore_conflicts leaves primary keys unset: read them back
        found.update(
            {
                s.appeal_id: s
                for s in TriageSuggestion.objects.filter(appeal__in=[a.pk for a in missing])
            }
        )
    return found


# --- internals ----------------------------------------------------------------------------


def _urgency_note(p: Proposal) -> str:
    if p.urgency.urgent:
        return _("Marked urgent automatically: mentions %(phrases)s.") % {
            "phrases": "、".join(p.urgency.phrases)
        }
    probability = p.model_urgency.probability if p.model_urgency else 0.0
    return _("Marked urgent automatically by the urgency model (confidence %(p)d%%).") % {
        "p": round(100 * probability)
    }


def _decide_unit(appeal: Appeal, p: Proposal) -> tuple[Unit | None, str]:
    if appeal.category_id is not None and routing.route(appeal.category, appeal.place_code).unit:
        return None, Decision.AUTO  # the routing table is explicit: it decides
    if p.unit_sure and p.units:
        unit = Unit.objects.filter(code=p.units[0][0], active=True).first()
        if unit is not None:
            return unit, Decision.AUTO
    return None, Decision.QUEUED


def _routing_candidates(
    appeal: Appeal, categories: list[tuple[str, float]]
) -> list[tuple[str, float | None]]:
    """Without a unit model: the units the routing table names for the likely category."""
    category = appeal.category
    if category is None and categories:
        category = Category.objects.filter(code=categories[0][0]).first()
    if category is None:
        return []
    decision = routing.route(category, appeal.place_code)
    return [(u.code, None) for u in decision.candidates[:TOP_K]]


def _row(
    appeal: Appeal, p: Proposal, *, status: str, auto_category: bool, auto_unit: bool
) -> TriageSuggestion:
    return TriageSuggestion(
        appeal=appeal,
        category_version=p.category_version,
        unit_version=p.unit_version,
        categories=[[c, round(prob, 4)] for c, prob in p.categories],
        units=[[u, None if prob is None else round(prob, 4)] for u, prob in p.units],
        auto_category=auto_category,
        auto_unit=auto_unit,
        urgent=p.urgent,
        urgent_phrases=p.urgency.phrases,
        urgency_score=p.urgency.score,
        urgency_probability=(
            None if p.model_urgency is None else round(p.model_urgency.probability, 4)
        ),
        urgent_by_model=p.urgent_by_model,
        similar=[[no, score] for no, score in p.similar],
        status=status,
    )


def _store(
    appeal: Appeal, p: Proposal, *, status: str, auto_category: bool, auto_unit: bool
) -> TriageSuggestion:
    row = _row(appeal, p, status=status, auto_category=auto_category, auto_unit=auto_unit)
    row.save(force_insert=True)
    return row


def _log_automatic(appeal: Appeal, note: str, suggestion: TriageSuggestion) -> None:
    data = {
        "triage": True,
        "category": appeal.category.code if appeal.category else None,
        "priority": appeal.priority,
        "categories": suggestion.categories,
        "units": suggestion.units,
        "urgent_phrases": suggestion.urgent_phrases,
        "urgency_probability": suggestion.urgency_probability,
        "urgent_by_model": suggestion.urgent_by_model,
        "auto_unit": suggestion.auto_unit,
    }
    AppealEvent.objects.create(
        appeal=appeal,
        at=timezone.now(),
        actor=None,
        verb="comment",
        from_state=appeal.state,
        to_state=appeal.state,
        note=note,
        public=False,
        automatic=True,
        data=data,
    )
    audit.record(
        None,
        "appeal.triage",
        appeal,
        after={**data, "automatic": True, "status": suggestion.status},
    )
