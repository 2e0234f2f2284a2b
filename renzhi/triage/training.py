"""Training data from handled appeals, and training one head into a stored model version.

Labels are what people finally decided, never what a model guessed:
- resolved and closed appeals: their category and their handling unit as they ended — after
  returns, transfers and reopening, `appeal.unit` is the unit that really handled it, so a case
  first sent to the wrong unit teaches the right one;
- appeals a dispatcher accepted or corrected in the triage queue and that are still being
  handled: the category and unit the dispatcher chose (`TriageSuggestion.final_*`), so a
  correction counts from the next training on, not only once the case is closed.

The unit head reads the community name in front of the text: which company handles a leaking
pipe depends on where it leaks.

The urgency head ("urgent" / "normal") learns from the final priority of handled appeals plus
the urgency rules' hits, and its one threshold is chosen for recall (`urgency_model`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, Category, Priority, State
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Unit
from renzhi.triage import thresholds, urgency, urgency_model
from renzhi.triage.model import TextClassifier
from renzhi.triage.models import Decision, Head, ModelVersion, TriageSuggestion

DEFAULT_MAX_ROWS = 40_000  # the most recent; keeps training within a minute on two cores
DEFAULT_TARGET = 0.95
HANDLED = [State.RESOLVED, State.CLOSED]

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class TrainingSet:
    head: str
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    corrections: int = 0
    rule_hits: list[bool] = field(default_factory=list)  # urgency head: the rules flag the text


def model_dir() -> Path:
    path = Path(getattr(settings, "RENZHI_TRIAGE_MODEL_DIR", settings.VAR_DIR / "triage"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_path(version: ModelVersion) -> Path:
    return model_dir() / version.file


def unit_text(community_name: str, text: str) -> str:
    """What the unit head reads: where, then what."""
    return f"{community_name} {text}"


def training_set(head: str, *, max_rows: int | None = DEFAULT_MAX_ROWS) -> TrainingSet:
    """Texts and final labels of handled appeals (and dispatcher decisions) for `head`."""
    if head not in Head.values:
        raise ActionError(_("Unknown model head."), field="head")
    if head == Head.URGENCY:
        return urgency_rows(max_rows=max_rows)
    data = TrainingSet(head)
    label_field = "category__code" if head == Head.CATEGORY else "unit__code"
    decided = TriageSuggestion.objects.filter(
        status__in=[Decision.ACCEPTED, Decision.CORRECTED]
    ).exclude(appeal__state__in=HANDLED)
    final_field = "final_category__code" if head == Head.CATEGORY else "final_unit__code"
    decided_rows = list(
        decided.filter(**{f"{final_field}__isnull": False})
        .order_by("-decided_at")
        .values_list("appeal__description", "appeal__community__name", final_field)[
            : max_rows or None
        ]
    )
    handled = (
        Appeal.objects.filter(state__in=HANDLED)
        .filter(~Q(**{f"{label_field}": None}))
        .exclude(pk__in=decided.values("appeal_id"))
        .order_by("-received_at")
        .values_list("description", "community__name", label_field)
    )
    room = None if max_rows is None else max(0, max_rows - len(decided_rows))
    rows = decided_rows + list(handled[:room] if room is not None else handled)
    data.corrections = len(decided_rows)
    for text, community, label in rows:
        data.texts.append(unit_text(community or "", text) if head == Head.UNIT else text)
        data.labels.append(label)
    if head == Head.CATEGORY:
        data.names = {c.code: str(c) for c in Category.objects.select_related("parent")}
    else:
        data.names = dict(Unit.objects.values_list("code", "name"))
    return data


def urgency_rows(*, max_rows: int | None = DEFAULT_MAX_ROWS) -> TrainingSet:
    """Handled appeals labelled "urgent"/"normal" (see `urgency_model` for the rules).

    Left out: appeals under supervision that the rules do not flag (supervision raises the
    priority for lateness, not danger) and appeals only the model made urgent (its own guess).
    """
    data = TrainingSet(Head.URGENCY)
    rules = urgency.enabled_rules()
    model_made = TriageSuggestion.objects.filter(
        urgent_by_model=True, urgency_score__lt=urgency.URGENT_SCORE
    ).values("appeal_id")
    rows = (
        Appeal.objects.filter(state__in=HANDLED)
        .exclude(Q(priority=Priority.URGENT) & Q(pk__in=model_made))
        .order_by("-received_at")
        .values_list("description", "priority", "supervised")
    )
    for text, priority, supervised in rows[:max_rows] if max_rows else rows:
        hit = urgency.assess(text, rules).urgent
        if supervised and not hit:
            continue
        urgent = hit or priority == Priority.URGENT
        data.texts.append(text)
        data.labels.append(urgency_model.URGENT if urgent else urgency_model.NORMAL)
        data.rule_hits.append(hit)
    data.names = {
        urgency_model.URGENT: str(Priority.URGENT.label),
        urgency_model.NORMAL: str(Priority.NORMAL.label),
    }
    return data


def train(
    head: str,
    *,
    actor=None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    target: float = DEFAULT_TARGET,
    progress: Progress | None = None,
    classifier: TextClassifier | None = None,
) -> ModelVersion:
    """Fit `head` on the database's handled appeals, measure it, store file and version.

    The version is NOT activated (see `actions.activate`); a refused training set raises
    `ActionError` naming the head and changes nothing.
    """
    say = progress or (lambda stage, done, total: None)
    say("data", 0, 3)
    data = training_set(head, max_rows=max_rows)
    if head == Head.URGENCY:
        _check_urgency_data(data)
    distinct = sorted(set(data.labels))
    if len(distinct) < 2:
        raise ActionError(
            _(
                "Cannot train the %(head)s model: the handled appeals have %(n)d distinct "
                "label(s) (%(labels)s); at least two are needed."
            )
            % {"head": Head(head).label, "n": len(distinct), "labels": ", ".join(distinct) or "—"},
            field="head",
            code=ErrorCode.INVALID,
        )
    say("fit", 1, 3)
    started = time.perf_counter()
    clf = (classifier or TextClassifier()).fit(data.texts, data.labels)
    seconds = time.perf_counter() - started
    say("measure", 2, 3)
    classes = clf.classes
    proba = clf.cv_proba_
    if proba is None:  # a classifier without out-of-fold scores: measure in-sample (optimistic)
        proba = clf.predict_proba(data.texts)[1]
    measures: dict = {}
    if head == Head.URGENCY:
        p_urgent = proba[:, classes.index(urgency_model.URGENT)]
        hits = np.asarray(data.rule_hits, dtype=bool)
        threshold, measures = urgency_model.choose_threshold(data.labels, p_urgent, hits)
        chosen = {urgency_model.URGENT: threshold}
        decided = urgency_model.decisions(p_urgent, hits, threshold)
        measured = thresholds.metrics(data.labels, classes, decided)
        share, precision = measures["flag_share"], measures["precision"]
    else:
        measured = thresholds.metrics(data.labels, classes, proba)
        chosen = thresholds.choose(data.labels, classes, proba, target=target)
        share, precision = thresholds.coverage(data.labels, classes, proba, chosen)
    name = f"{head}-{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.rzm"
    clf.save(model_dir() / name)
    version = ModelVersion.objects.create(
        head=head,
        file=name,
        created_by=actor if actor is not None and actor.pk else None,
        rows=len(data.texts),
        classes=classes,
        names={label: data.names.get(label, label) for label in classes},
        accuracy=measured["accuracy"],
        macro_f1=measured["macro_f1"],
        per_class=measured["per_class"],
        confusion=measured["confusion"],
        thresholds=chosen,
        target_precision=target,
        auto_share=share,
        auto_precision=precision,
        fit_seconds=round(seconds, 2),
        measures=measures,
    )
    say("done", 3, 3)
    return version


def _check_urgency_data(data: TrainingSet) -> None:
    labels = (urgency_model.URGENT, urgency_model.NORMAL)
    counts = {label: data.labels.count(label) for label in labels}
    if min(counts.values()) < urgency_model.MIN_PER_CLASS:
        raise ActionError(
            _(
                "Cannot train the urgency model: the handled appeals include %(urgent)d urgent "
                "and %(normal)d normal ones; at least %(min)d of each are needed. The urgency "
                "rules keep working without it."
            )
            % {**counts, "min": urgency_model.MIN_PER_CLASS},
            field="head",
            code=ErrorCode.INVALID,
        )
