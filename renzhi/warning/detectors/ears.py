"""CDC's Early Aberration Reporting System C1, C2 and C3 (Hutwagner et al. 2003).

A port of ``surveillance::earsC`` (R package surveillance 1.20), vectorised over all series:
the mean and standard deviation of every sliding reference window come from cumulative sums of
the counts and of their squares, in exact integer arithmetic, so one pass serves every series and
every time point.

For time ``t`` (0-based) and ``b = baseline``:

* C1 compares ``y_t`` with the ``b`` days just before it: window ``y[t-b .. t-1]``;
* C2 leaves a two-day guard band: window ``y[t-b-2 .. t-3]``;
* C3 adds to today's C2 statistic the parts above 1 of the two previous days' C2 statistics.

Upper bound (C1, C2): ``mean + z_{1-alpha} * max(sd, min_sigma)``; alarm when ``y_t`` exceeds
it. For C3, R's ``earsC`` reports ``y_t + max(sd, min_sigma) * (z - lag2 - lag1)`` clipped at 0,
where ``lagj = max(0, C2_{t-j} - 1)``; the alarm is ``y_t > upperbound``, i.e. it fires when the two
previous C2 excesses already exceed ``z``. This is what R computes (not the textbook
``C3 > z``) and it is reproduced as is, for parity.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ._validate import (
    DetectorResult,
    FloatArray,
    IntArray,
    as_counts,
    check_choice,
    check_int,
    check_probability,
    check_real,
    empty_result,
    finish,
)

METHODS = ("C1", "C2", "C3")
# Above this the integer sums of squares could overflow int64; fall back to floats.
_EXACT_LIMIT = 2**62


def ears_c(
    counts: object,
    *,
    method: str = "C1",
    baseline: int = 7,
    alpha: float = 0.001,
    min_sigma: float = 0.0,
) -> DetectorResult:
    """EARS C1/C2/C3 over every series at once (R: ``earsC``).

    The first evaluated time point is ``baseline`` (C1), ``baseline + 2`` (C2) or
    ``baseline + 4`` (C3), counting from 0; earlier points have a NaN upper bound.
    """
    method = check_choice("method", method, METHODS)
    baseline = check_int("baseline", baseline, 3)
    alpha = check_probability("alpha", alpha)
    min_sigma = check_real("min_sigma", min_sigma)
    if min_sigma < 0:
        raise ValueError(f"min_sigma must be >= 0, got {min_sigma!r}")
    y, one_d = as_counts(counts)
    result = empty_result(y.shape)
    n_time = y.shape[1]
    z = float(norm.ppf(1.0 - alpha))
    lag = {"C1": 0, "C2": 2, "C3": 4}[method]
    first = baseline + lag
    if n_time <= first or y.shape[0] == 0:
        return finish(result, one_d)

    gap = 0 if method == "C1" else 2
    # Reference mean and sd for every t >= baseline + gap (window ends gap days before t).
    mean, sd = _window_moments(y, baseline, gap)
    t0 = baseline + gap  # first column of mean/sd
    sigma = np.maximum(sd, min_sigma)
    yf = y.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("C1", "C2"):
            upper = mean + z * sigma
            stat = (yf[:, t0:] - mean) / sigma
            sl = slice(t0, None)
            result.upperbound[:, sl] = upper
            result.expected[:, sl] = mean
            result.score[:, sl] = stat
            result.alarm[:, sl] = yf[:, sl] > upper
        else:
            c2 = (yf[:, t0:] - mean) / sigma
            lag2 = np.maximum(0.0, c2[:, :-2] - 1.0)
            lag1 = np.maximum(0.0, c2[:, 1:-1] - 1.0)
            now = yf[:, first:]
            upper = np.maximum(0.0, now + sigma[:, 2:] * (z - (lag2 + lag1)))
            sl = slice(first, None)
            result.upperbound[:, sl] = upper
            result.expected[:, sl] = mean[:, 2:]
            result.score[:, sl] = c2[:, 2:] + lag1 + lag2
            result.alarm[:, sl] = now > upper
    return finish(result, one_d)


def _window_moments(y: IntArray, baseline: int, gap: int) -> tuple[FloatArray, FloatArray]:
    """Mean and sample sd (n - 1) of ``y[t-baseline-gap .. t-gap-1]`` for t >= baseline + gap."""
    n_time = y.shape[1]
    stop = n_time - gap  # window starting at s covers s .. s+baseline-1; last s = n_time-gap-b
    if y.size and int(y.max()) ** 2 * baseline < _EXACT_LIMIT // max(n_time, 1):
        zero = np.zeros((y.shape[0], 1), dtype=np.int64)
        c1 = np.concatenate([zero, np.cumsum(y, axis=1)], axis=1)
        c2 = np.concatenate([zero, np.cumsum(y * y, axis=1)], axis=1)
        s = c1[:, baseline:stop] - c1[:, : stop - baseline]
        q = c2[:, baseline:stop] - c2[:, : stop - baseline]
        # b*Q - S^2 is exact in integers; one rounding in the division.
        var = (baseline * q - s * s) / float(baseline * (baseline - 1))
        return s / float(baseline), np.sqrt(var)
    windows = np.lib.stride_tricks.sliding_window_view(
        y[:, : stop - 1].astype(np.float64), baseline, axis=1
    )
    mean = windows.mean(axis=2)
    var = ((windows - mean[:, :, None]) ** 2).sum(axis=2) / (baseline - 1)
    return mean, np.sqrt(var)
