"""Outbreak detectors with R ``surveillance`` parity, vectorised over many series.

Pure numpy/scipy, no database: each function takes counts shaped ``(n_series, n_time)`` (or one
1-D series) and returns a :class:`DetectorResult` with ``upperbound`` (NaN where a time point is
not evaluated) and ``alarm``. See docs/detectors.md for the methods, parameters and parity.
"""

from ._validate import DetectorResult
from .cusum import cusum
from .ears import ears_c
from .farrington import farrington_flexible

__all__ = ["DetectorResult", "cusum", "ears_c", "farrington_flexible"]
