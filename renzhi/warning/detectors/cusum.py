"""Poisson CUSUM on standardised counts (Rossi et al. 1999), R: ``surveillance::algo.cusum``.

The first ``phase1`` points of each series form the in-control phase: unless ``m`` is given, the
in-control mean is their average, and they are not evaluated. From then on, with ``x_t`` the
count standardised by ``trans``::

    S_0 = 0,   S_t = max(0, S_{t-1} + x_t - k),   alarm_t = S_t >= h

As in R's ``algo.cusum``, the sum is NOT reset after an alarm (it drains by ``k`` per step on its
own). The upper bound is the smallest count that would have raised an alarm at ``t`` given
``S_{t-1}`` (solved for each transformation exactly as R does, including R's ``ceiling`` for
"standard" and its ``h - S_t`` for "none"); negative or undefined bounds are reported as 0, as R
does. A series whose estimated ``m`` is 0 (an all-zero phase 1) cannot be standardised: R returns
NA there from the first zero count on (NaN bound, no alarm here); before that, and for
"anscombe2nd" always, its statistic is +Inf and it alarms, which is reproduced for parity
(docs/detectors.md: give ``m`` or a longer ``phase1`` for sparse series).

``trans``: "standard" ``(x-m)/sqrt(m)``; "rossi" ``(x - 3m + 2 sqrt(x m)) / (2 sqrt(m))``;
"anscombe" ``3/2 (x^(2/3) - m^(2/3)) / m^(1/6)``; "anscombe2nd" (second-order Anscombe);
"pearsonNegBin" ``(x-m)/sqrt(m + 0.1 m^2)`` (R's default alpha 0.1); "none" (raw counts).
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    DetectorResult,
    FloatArray,
    as_counts,
    check_choice,
    check_int,
    check_real,
    empty_result,
    finish,
)

TRANSFORMS = ("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none")
NB_ALPHA = 0.1  # algo.cusum's control$alpha default, used by "pearsonNegBin"


def cusum(
    counts: object,
    *,
    k: float = 1.04,
    h: float = 2.26,
    m: object = None,
    trans: str = "standard",
    phase1: int = 28,
) -> DetectorResult:
    """CUSUM over every series at once; the loop runs over time, vectorised over series.

    ``m`` is None (estimate from the first ``phase1`` points), one positive number, or one
    positive number per series.
    """
    k = check_real("k", k)
    h = check_real("h", h)
    if h <= 0:
        raise ValueError(f"h must be > 0, got {h!r}")
    trans = check_choice("trans", trans, TRANSFORMS)
    phase1 = check_int("phase1", phase1, 1 if m is None else 0)
    y, one_d = as_counts(counts)
    n_series, n_time = y.shape
    result = empty_result(y.shape)
    if n_time <= phase1 or n_series == 0:
        return finish(result, one_d)
    mm = _in_control_mean(y, m, phase1)[:, None]
    x = y[:, phase1:].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        stand = _standardise(x, mm, trans)
        steps = x.shape[1]
        sums = np.zeros((n_series, steps + 1))
        for t in range(steps):
            # np.maximum propagates NaN like R's max(): a series whose phase-1 mean is 0 turns
            # NaN at its first zero count and stays NaN (R: alarm NA).
            sums[:, t + 1] = np.maximum(0.0, sums[:, t] + (stand[:, t] - k))
        previous, current = sums[:, :-1], sums[:, 1:]
        upper = _upperbound(mm, previous, current, h, k, trans)
    upper[np.isnan(upper)] = 0.0
    upper[upper < 0] = 0.0
    undefined = np.isnan(current)
    upper[undefined] = np.nan

    sl = slice(phase1, None)
    result.upperbound[:, sl] = upper
    result.alarm[:, sl] = ~undefined & (current >= h)
    result.expected[:, sl] = np.broadcast_to(mm, current.shape)
    result.score[:, sl] = current
    return finish(result, one_d)


def _in_control_mean(y: np.ndarray, m: object, phase1: int) -> FloatArray:
    """The in-control mean per series: estimated from phase 1, or given."""
    n_series = y.shape[0]
    if m is None:
        return np.asarray(y[:, :phase1].mean(axis=1), dtype=np.float64)
    values = np.asarray(m, dtype=np.float64) if not isinstance(m, str) else np.array([np.nan])
    if values.ndim == 0:
        values = np.full(n_series, float(values))
    if values.shape != (n_series,):
        raise ValueError(f"m must be None, one number or one number per series ({n_series})")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError("m must be > 0 and finite")
    return values


def _standardise(x: FloatArray, m: FloatArray, trans: str) -> FloatArray:
    if trans == "standard":
        return (x - m) / np.sqrt(m)
    if trans == "rossi":
        return (x - 3 * m + 2 * np.sqrt(x * m)) / (2 * np.sqrt(m))
    if trans == "anscombe":
        return 1.5 * (x ** (2 / 3) - m ** (2 / 3)) / m ** (1 / 6)
    if trans == "anscombe2nd":
        return (x ** (2 / 3) - (m ** (2 / 3) - m ** (-1 / 3) / 9)) / (2 / 3 * m ** (1 / 6))
    if trans == "pearsonNegBin":
        return (x - m) / np.sqrt(m + NB_ALPHA * m**2)
    return x.copy()


def _upperbound(
    m: FloatArray, prev: FloatArray, cur: FloatArray, h: float, k: float, trans: str
) -> FloatArray:
    """R's closed forms (``Ctm1`` is the sum before time t)."""
    reach = h + k - prev
    with np.errstate(invalid="ignore"):
        if trans == "standard":
            return np.ceil(np.sqrt(m) * reach + m)
        if trans == "rossi":
            root = 4 * m**2 + 2 * m**1.5 * h + 2 * m**1.5 * k - 2 * m**1.5 * prev
            return (
                2 * h * np.sqrt(m) + 2 * k * np.sqrt(m) - 2 * prev * np.sqrt(m) + 5 * m
            ) - 2 * np.sqrt(root)
        if trans == "anscombe":
            base = 2 / 3 * m ** (1 / 6) * reach + m ** (2 / 3)
            return np.where(base < 0, 0.0, np.abs(base) ** 1.5)
        if trans == "anscombe2nd":
            # R uses m^(1/3)/9 here (not the m^(-1/3)/9 of its transformation); kept for parity.
            base = 2 / 3 * m ** (1 / 6) * reach + (m ** (2 / 3) - m ** (1 / 3) / 9)
            return np.where(base < 0, 0.0, np.abs(base) ** 1.5)
        if trans == "pearsonNegBin":
            return np.sqrt(m + NB_ALPHA * m**2) * reach + m
        return h - cur
