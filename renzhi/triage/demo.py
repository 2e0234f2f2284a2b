"""Demo data of the triage app, loaded by `manage.py demo_city` after the appeals.

Trains the three heads (category, unit, urgency) on the demo city's handled appeals and
activates them — the urgency head only when there are enough urgent handled appeals (otherwise
it says why and the rules work alone) — proposes suggestions for the appeals still waiting for
dispatch (so the triage queue shows something), and computes the hot issues of the last week.
Idempotent: a head with an active version is not retrained, suggestions are only added where
missing, hot issues are computed only when none is current.
Training reads the most recent `DEMO_ROWS` handled appeals with a lighter classifier (3 folds,
fewer n-grams) to keep `make run` short; `manage.py triage_train` trains the full model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from renzhi.appeals.models import Appeal
from renzhi.core.errors import ActionError
from renzhi.triage import actions, hot, queries, registry
from renzhi.triage.intake import ensure_suggestions
from renzhi.triage.model import TextClassifier
from renzhi.triage.models import Head, HotIssue, TriageSuggestion

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City

DEMO_ROWS = 6_000
QUEUE_SUGGESTIONS = 300


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    for head in Head:
        if registry.active_version(head) is not None:
            continue
        started = time.perf_counter()
        try:
            version = actions.train(
                None, head, activate=True, max_rows=DEMO_ROWS, classifier=_demo_classifier()
            )
        except ActionError as error:
            say(f"triage {head}: not trained ({error})")
            continue
        report.created["triage_models"] += 1
        say(
            f"triage {head} model: {version.rows} rows, accuracy {version.accuracy:.3f}, "
            f"macro-F1 {version.macro_f1:.3f}, {time.perf_counter() - started:.1f}s"
        )
        if version.measures:
            m = version.measures
            say(
                f"  urgency threshold {m['threshold']:.3f}: recall {m['recall']:.3f} "
                f"(rules alone {m['rules_recall']:.3f}), flags {m['flag_share']:.1%}"
            )
    waiting = list(
        Appeal.objects.filter(state__in=queries.WAITING, unit__isnull=True)
        .select_related("community")
        .order_by("-received_at")[:QUEUE_SUGGESTIONS]
    )
    had = TriageSuggestion.objects.filter(appeal__in=waiting).count()
    found = ensure_suggestions(waiting)
    report.created["triage_suggestions"] += len(found) - had
    say(f"triage queue: {len(found)} waiting appeals with suggestions")
    if not HotIssue.objects.filter(current=True).exists():
        issues = hot.refresh()
        report.created["hot_issues"] += len(issues)
        say(f"hot issues: {len(issues)}")


def _demo_classifier() -> TextClassifier:
    return TextClassifier(folds=3, max_features=100_000)
