"""The detection job: run the configured detectors over every series for one day.

Series are grouped by the detector configuration that applies to them (their category's own
settings, else the default settings); each group is one (n_series × n_time) matrix and one call
to the vectorised detector. Daily methods (EARS C1–C3, CUSUM) see the last `DAILY_WINDOW`
days; Farrington sees 7-day sums ending on the day (weeks aligned to the day, so any day can be
evaluated without a half week). Only the last time point produces signals.

Idempotent for a day: signals that still alarm are updated in place (keeping a decision already
taken on them), new alarms are added, and undecided signals that no longer alarm are removed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from renzhi.core.errors import ActionError
from renzhi.warning import detectors, series
from renzhi.warning.models import DetectorConfig, Method, Series, Signal, SignalStatus

DAILY_WINDOW = {"ears_c1": 28, "ears_c2": 28, "ears_c3": 28, "cusum": 91}
# Farrington defaults for the weekly sums: one year back (b=1) works with two years of data.
FARRINGTON_DEFAULTS = {"freq": 52, "b": 1, "w": 3}

DEFAULT_CONFIGS = [
    {"method": Method.EARS_C2, "parameters": {"alpha": 0.001, "min_sigma": 0.5}, "min_count": 4},
]


@dataclass
class DetectionReport:
    day: dt.date
    series: int = 0
    evaluated: int = 0
    signals: int = 0
    removed: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


def run(
    day: dt.date,
    methods: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
    since: dt.date | None = None,
) -> DetectionReport:
    """Evaluate `day` for every series with every configured method (or only `methods`).

    With `since`, every day from `since` to `day` is evaluated in the same single pass (a
    backfill: EARS gives exactly the per-day answers; CUSUM then runs over one long window;
    Farrington still evaluates only `day`).
    """
    since = since or day
    span = (day - since).days + 1
    started = time.perf_counter()
    report = DetectionReport(day=day)
    say = progress or (lambda _msg: None)
    plan = _plan(methods)
    all_series = list(Series.objects.values_list("id", "category_id", "category__parent_id"))
    report.series = len(all_series)
    found: list[Signal] = []
    ran: set[str] = set()
    for n, (config, members) in enumerate(_assign(plan, all_series).items(), start=1):
        method, params_key, min_count = config
        params = dict(params_key)
        ids = sorted(members)
        try:
            length = None
            if method != Method.FARRINGTON and span > 1:
                length = DAILY_WINDOW.get(method, 28) + span - 1
            observed, result = evaluate(method, params, ids, day, length)
        except ValueError as exc:
            report.skipped.append(f"{method}: {exc}")
            say(f"[{n}] {method}: skipped ({exc})")
            continue
        ran.add(method)
        cols = 1 if method == Method.FARRINGTON else span
        width = observed.shape[1]
        tail = slice(width - cols, width)
        evaluated = ~np.isnan(result.upperbound[:, tail])
        alarm = result.alarm[:, tail] & (observed[:, tail] >= min_count)
        report.evaluated += int(evaluated.sum())
        for i, j in zip(*np.nonzero(alarm), strict=True):
            col = width - cols + j
            found.append(
                Signal(
                    series_id=ids[i],
                    day=day - dt.timedelta(days=int(cols - 1 - j)),
                    method=method,
                    observed=float(observed[i, col]),
                    expected=_num(result.expected[i, col]),
                    upperbound=_num(result.upperbound[i, col]),
                    score=_num(result.score[i, col]) or 0.0,
                )
            )
        say(
            f"[{n}] {method} {params}: {len(ids)} series, {int(evaluated.sum())} evaluated, "
            f"{int(alarm.sum())} alarms"
        )
    report.signals, report.removed = _store(since, day, ran, found)
    report.seconds = time.perf_counter() - started
    say(
        f"{since}…{day}: {report.signals} signals from {report.evaluated} evaluations over "
        f"{report.series} series in {report.seconds:.2f}s"
    )
    return report


def evaluate(
    method: str, params: dict, series_ids: list[int], day: dt.date, length: int | None = None
) -> tuple[np.ndarray, detectors.DetectorResult]:
    """Observed counts and the detector's result for the window ending on `day`."""
    if method == Method.FARRINGTON:
        p = {**FARRINGTON_DEFAULTS, **params}
        weeks = length or (p["b"] * p["freq"] + p["w"] + 2)
        first = day - dt.timedelta(days=7 * weeks - 1)
        daily = series.matrix(series_ids, first, day)
        weekly = daily.reshape(len(series_ids), weeks, 7).sum(axis=2)
        return weekly, detectors.farrington_flexible(weekly, **p)
    days = length or DAILY_WINDOW.get(method, 28)
    first = day - dt.timedelta(days=days - 1)
    counts = series.matrix(series_ids, first, day)
    return counts, _call(method, params, counts)


def check_parameters(method: str, parameters: dict) -> None:
    """Refuse parameters the detector refuses, with its message naming the parameter."""
    if method not in Method.values:
        raise ActionError(_("Unknown method."), field="method")
    if not isinstance(parameters, dict):
        raise ActionError(_("Parameters must be a JSON object."), field="parameters")
    probe = np.ones((1, 400), dtype=np.int64)
    try:
        if method == Method.FARRINGTON:
            detectors.farrington_flexible(probe, **{**FARRINGTON_DEFAULTS, **parameters})
        else:
            _call(method, parameters, probe)
    except TypeError as exc:
        raise ActionError(
            _("Unknown parameter: %(error)s") % {"error": exc}, field="parameters"
        ) from exc
    except ValueError as exc:
        raise ActionError(str(exc), field="parameters") from exc


def configs_for(category_id: int | None, parent_id: int | None) -> list[DetectorConfig]:
    return [c for c in _plan(None) if c.category_id in (category_id, parent_id, None)]


# --- helpers --------------------------------------------------------------------------------


def _call(method: str, params: dict, counts: np.ndarray) -> detectors.DetectorResult:
    if method.startswith("ears_"):
        return detectors.ears_c(counts, method=method[-2:].upper(), **params)
    if method == Method.CUSUM:
        return detectors.cusum(counts, **params)
    raise ValueError(f"unknown method {method!r}")


def _plan(methods: list[str] | None) -> list[DetectorConfig]:
    configs = list(DetectorConfig.objects.filter(active=True))
    if not configs:
        configs = [DetectorConfig(category_id=None, **c) for c in DEFAULT_CONFIGS]
    if methods:
        configs = [c for c in configs if c.method in methods]
    return configs


def _assign(
    plan: list[DetectorConfig], all_series: Sequence[tuple[int, int | None, int | None]]
) -> dict[tuple[str, tuple, int], list[int]]:
    """Series grouped by the configuration that applies: own category, else parent, else
    default (per method)."""
    by_category: dict[int | None, list[DetectorConfig]] = defaultdict(list)
    for c in plan:
        by_category[c.category_id].append(c)
    groups: dict[tuple[str, tuple, int], list[int]] = defaultdict(list)
    for sid, category, parent in all_series:
        chosen = by_category.get(category) or by_category.get(parent) or by_category.get(None, [])
        if category is not None and category in by_category:
            chosen = by_category[category]
        for c in chosen:
            key = (c.method, tuple(sorted(c.parameters.items())), c.min_count)
            groups[key].append(sid)
    return groups


def _store(since: dt.date, day: dt.date, methods: set[str], found: list[Signal]) -> tuple[int, int]:
    with transaction.atomic():
        keep = {(s.series_id, s.day, s.method) for s in found}
        stale = [
            pk
            for pk, sid, d, method in Signal.objects.filter(
                day__gte=since, day__lte=day, method__in=methods, status=SignalStatus.NEW
            ).values_list("pk", "series_id", "day", "method")
            if (sid, d, method) not in keep
        ]
        Signal.objects.filter(pk__in=stale).delete()
        Signal.objects.bulk_create(
            found,
            update_conflicts=True,
            unique_fields=["series", "day", "method"],
            update_fields=["observed", "expected", "upperbound", "score"],
            batch_size=1000,
        )
    return len(found), len(stale)


def _num(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
