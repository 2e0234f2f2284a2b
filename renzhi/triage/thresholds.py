"""Per-class confidence thresholds and the validation metrics stored with a model version.

Everything here works on probabilities the model gave to rows it did NOT train on (the
classifier's out-of-fold probabilities), so the numbers predict how it does on new appeals.

Threshold of class c: the lowest confidence t such that, among validation rows predicted c
with confidence ≥ t, at least `target` were truly c, and there are at least `min_support` of
them. A class that never reaches the target gets no threshold: its appeals always go to the
triage queue. Thresholds never go below `FLOOR`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOOR = 0.5
MIN_SUPPORT = 5


def choose(
    y_true: Sequence[str],
    classes: Sequence[str],
    proba: np.ndarray,
    *,
    target: float = 0.95,
    min_support: int = MIN_SUPPORT,
) -> dict[str, float]:
    """label → threshold, for the labels that can reach `target` precision."""
    truth = np.asarray(list(y_true))
    names = np.asarray(list(classes))
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    thresholds: dict[str, float] = {}
    for j, label in enumerate(classes):
        rows = np.flatnonzero(pred == j)
        if rows.size < min_support:
            continue
        order = rows[np.argsort(-conf[rows], kind="stable")]
        correct = np.cumsum(truth[order] == names[j])
        counts = np.arange(1, order.size + 1)
        precision = correct / counts
        ok = np.flatnonzero((precision >= target) & (counts >= min_support))
        if ok.size == 0:
            continue
        # The largest prefix meeting the target; ties in confidence stay together.
        threshold = float(conf[order[ok[-1]]])
        thresholds[label] = round(max(threshold, FLOOR), 4)
    return thresholds


def passes(thresholds: dict[str, float], label: str, probability: float) -> bool:
    """True when `probability` of the top label is enough to act without a person."""
    threshold = thresholds.get(label)
    return threshold is not None and probability >= threshold


def metrics(y_true: Sequence[str], classes: Sequence[str], proba: np.ndarray) -> dict:
    """accuracy, macro_f1, per_class {label: precision, recall, f1, support}, confusion."""
    index = {label: i for i, label in enumerate(classes)}
    k = len(classes)
    truth = np.array([index.get(t, -1) for t in y_true])
    pred = proba.argmax(axis=1)
    confusion = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(truth, pred, strict=True):
        if t >= 0:
            confusion[t, p] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for j, label in enumerate(classes):
        tp = int(confusion[j, j])
        fp = int(confusion[:, j].sum()) - tp
        fn = int(confusion[j, :].sum()) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": int(confusion[j, :].sum()),
        }
    accuracy = float((truth == pred).mean()) if len(truth) else 0.0
    return {
        "accuracy": round(accuracy, 4),
        "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def coverage(
    y_true: Sequence[str], classes: Sequence[str], proba: np.ndarray, thresholds: dict[str, float]
) -> tuple[float, float | None]:
    """(share of rows that would be routed automatically, their precision)."""
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    auto = np.array([passes(thresholds, classes[p], c) for p, c in zip(pred, conf, strict=True)])
    if not auto.any():
        return 0.0, None
    right = np.array([classes[p] == t for p, t in zip(pred, y_true, strict=True)])
    return round(float(auto.mean()), 4), round(float(right[auto].mean()), 4)
