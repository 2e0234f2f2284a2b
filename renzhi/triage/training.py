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
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, Category, State
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Unit
from renzhi.triage import thresholds
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
    )
    say("done", 3, 3)
    return version
