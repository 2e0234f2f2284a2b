"""The urgency head: a binary classifier ("urgent" / "normal") beside the editable phrase rules.

The phrase rules (`renzhi.triage.urgency`) only catch what someone thought of writing down; the
model learns from handled appeals how people describe danger in their own words ("电线掉下来
还在冒火花", "水从天花板上往下流"). At intake an appeal is urgent when the rules hit OR the
model's probability of "urgent" reaches the head's threshold.

Labels (see `training.urgency_rows`): a handled appeal is "urgent" when its final priority is
urgent or the rules flag its text; an appeal put under supervision (which raises the priority
for reasons other than danger) counts only when the rules flag it, and an appeal that only the
model made urgent is left out — the model must not learn from its own guesses.

Threshold: a missed emergency costs more than a false alarm, so the threshold is chosen for
RECALL, on out-of-fold probabilities and together with the rules (what intake really does):
the highest threshold t such that "rules hit or p(urgent) ≥ t" catches at least
`TARGET_RECALL` of the urgent validation appeals, as long as no more than a share of all
appeals gets flagged — `MAX_FLAG_SHARE`, or `FLAG_SHARE_PER_URGENT` times the share of urgent
appeals when that is larger (if everything is urgent, urgent jumps no queue). When the target
cannot be met within that share (labels that the text cannot explain: an appeal made urgent by
a phone call), the threshold that flags exactly that share is taken and
`measures["target_met"]` says so. The threshold is never above `CEILING`: an even chance of
danger is enough to flag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from renzhi.triage import registry
from renzhi.triage.models import Head, ModelVersion

URGENT = "urgent"
NORMAL = "normal"
TARGET_RECALL = 0.95
MAX_FLAG_SHARE = 0.10
FLAG_SHARE_PER_URGENT = 1.5
CEILING = 0.5
MIN_PER_CLASS = 20  # fewer urgent (or normal) handled appeals: the head is not trained


@dataclass(frozen=True)
class Opinion:
    """What the active urgency model says about one text."""

    version: ModelVersion
    probability: float
    threshold: float | None

    @property
    def urgent(self) -> bool:
        return self.threshold is not None and self.probability >= self.threshold


def opinion(text: str) -> Opinion | None:
    """The active urgency model's probability that `text` is urgent (None: no model)."""
    loaded = registry.active(Head.URGENCY)
    if loaded is None:
        return None
    version, clf = loaded
    classes, probs = clf.predict_proba(text or "")
    if URGENT not in classes:
        return None
    probability = float(probs[0, classes.index(URGENT)])
    return Opinion(version, probability, version.thresholds.get(URGENT))


def choose_threshold(
    labels: Sequence[str],
    probability: Sequence[float] | np.ndarray,
    rule_hits: Sequence[bool] | np.ndarray,
    *,
    target: float = TARGET_RECALL,
    max_share: float | None = None,
) -> tuple[float, dict[str, Any]]:
    """(threshold on p(urgent), measures at that threshold) — see the module docstring.

    `probability` must be out-of-fold (from models that did not train on the row), otherwise
    the recall is optimistic and the threshold too high.
    """
    y = np.asarray([label == URGENT for label in labels], dtype=bool)
    p = np.asarray(probability, dtype=float)
    r = np.asarray(rule_hits, dtype=bool)
    n, positives = y.size, int(y.sum())
    if max_share is None:
        max_share = max(MAX_FLAG_SHARE, FLAG_SHARE_PER_URGENT * positives / max(n, 1))
    threshold = CEILING
    if n and positives:
        # Rows the rules do not catch, by falling probability: lowering the threshold to the
        # probability of row i flags rows 0..i of this order on top of the rule hits.
        rest = np.flatnonzero(~r)
        order = rest[np.argsort(-p[rest], kind="stable")]
        recall = (int((y & r).sum()) + np.cumsum(y[order])) / positives
        share = (int(r.sum()) + np.arange(1, order.size + 1)) / n
        # A threshold equal to p[order[i]] also flags later rows with the same probability.
        last_of_tie = np.r_[p[order][1:] != p[order][:-1], True] if order.size else order
        ok = last_of_tie & (share <= max_share)
        meets = np.flatnonzero(ok & (recall >= target))
        within = np.flatnonzero(ok)
        if meets.size:
            threshold = min(CEILING, float(p[order[meets[0]]]))
        elif within.size:
            threshold = min(CEILING, float(p[order[within[-1]]]))
    # Stored with 4 decimals: round DOWN, or the row that set the threshold would fall below it.
    threshold = math.floor(threshold * 10_000) / 10_000
    return threshold, measure(y, p, r, threshold, target=target, max_share=max_share)


def measure(
    y: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    threshold: float,
    *,
    target: float = TARGET_RECALL,
    max_share: float = MAX_FLAG_SHARE,
) -> dict[str, Any]:
    """Recall, precision and flagged share of rules, model and both at `threshold`."""
    model = p >= threshold
    both = r | model

    def recall(flags: np.ndarray) -> float:
        return round(float((flags & y).sum() / y.sum()), 4) if y.any() else 0.0

    flagged = int(both.sum())
    combined = recall(both)
    return {
        "threshold": threshold,
        "target_recall": target,
        "max_share": round(max_share, 4),
        "recall": combined,
        "precision": round(float((both & y).sum() / flagged), 4) if flagged else None,
        "flag_share": round(flagged / y.size, 4) if y.size else 0.0,
        "rules_recall": recall(r),
        "model_recall": recall(model),
        "missed": int((y & ~both).sum()),
        "urgent_rows": int(y.sum()),
        "target_met": bool(y.any() and combined >= target),
    }


def decisions(p: np.ndarray, r: np.ndarray, threshold: float) -> np.ndarray:
    """One-hot rows over (normal, urgent) of what intake decides: rules hit or p ≥ threshold."""
    urgent = r | (p >= threshold)
    return np.column_stack([~urgent, urgent]).astype(float)
