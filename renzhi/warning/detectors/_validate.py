"""Input checks shared by the detectors.

Every public detector accepts counts as a 1-D series or a 2-D ``(n_series, n_time)`` array and
refuses anything that is not a table of non-negative integers, naming what is wrong: a detector
fed a NaN or a negative count would otherwise return plausible-looking nonsense.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DetectorResult:
    """What every detector returns.

    ``upperbound`` and ``alarm`` have the shape of the input counts. ``upperbound`` is NaN where
    the time point was not evaluated (not enough history) or where the method gives no answer
    (R returns NA there); ``alarm`` is False at those points. ``expected`` is the baseline the
    method compares against (EARS: the reference mean; Farrington: the fitted mean; CUSUM: ``m``),
    NaN where not evaluated, and ``score`` the method's own statistic (EARS: the C statistic,
    Farrington: ``(y - mu0) / (U - mu0)``, CUSUM: the cumulative sum).
    """

    upperbound: FloatArray
    alarm: BoolArray
    expected: FloatArray
    score: FloatArray


def as_counts(counts: object) -> tuple[IntArray, bool]:
    """Return ``counts`` as a 2-D int64 array and whether the input was 1-D."""
    try:
        arr = np.asarray(counts)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"counts must be a rectangular array of numbers ({exc})") from exc
    if arr.ndim not in (1, 2):
        raise ValueError(f"counts must be a 1-D or 2-D array, got {arr.ndim} dimensions")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"counts must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError("counts must not contain NaN or infinite values")
        if np.any(arr != np.round(arr)):
            raise ValueError("counts must be whole numbers (non-integer values found)")
    if arr.size and arr.min() < 0:
        raise ValueError("counts must be non-negative (negative values found)")
    if arr.size and arr.max() > 2**53:
        raise ValueError("counts are too large (above 2**53)")
    one_d = arr.ndim == 1
    out = np.ascontiguousarray(np.atleast_2d(arr), dtype=np.int64)
    return out, one_d


def finish(result: DetectorResult, one_d: bool) -> DetectorResult:
    """Drop the series axis again when the caller passed a single 1-D series."""
    if not one_d:
        return result
    return DetectorResult(
        upperbound=result.upperbound[0],
        alarm=result.alarm[0],
        expected=result.expected[0],
        score=result.score[0],
    )


def check_int(name: str, value: object, minimum: int) -> int:
    """An integer parameter ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(name: str, value: object) -> float:
    """A finite real parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def check_probability(name: str, value: object) -> float:
    """A level strictly between 0 and 1."""
    out = check_real(name, value)
    if not 0.0 < out < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return out


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """One of a fixed set of method names."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def empty_result(shape: tuple[int, ...]) -> DetectorResult:
    """All-NaN bounds and no alarms: the starting point every detector fills in."""
    nan = np.full(shape, np.nan)
    return DetectorResult(
        upperbound=nan,
        alarm=np.zeros(shape, dtype=bool),
        expected=nan.copy(),
        score=nan.copy(),
    )
