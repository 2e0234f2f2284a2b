"""Data for a series chart: observed counts, expected value and upper bound, signals marked.

The detector is re-run on the one series for the window shown (cheap: one row), so the chart
shows exactly what the nightly job computed for each day, not only the days with signals.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from renzhi.warning import detection
from renzhi.warning.models import Method, Series, Signal

CHART_DAYS = 120


def series_chart(series: Series, end: dt.date, days: int = CHART_DAYS) -> dict:
    configs = detection.configs_for(
        series.category_id, series.category.parent_id if series.category else None
    )
    daily = [c for c in configs if c.method != Method.FARRINGTON]
    config = daily[0] if daily else None
    method = config.method if config else Method.EARS_C2
    params = config.parameters if config else {}
    history = detection.DAILY_WINDOW.get(method, 28)
    observed, result = detection.evaluate(method, params, [series.pk], end, days + history)
    dates = [end - dt.timedelta(days=days - 1 - k) for k in range(days)]

    def tail(values: np.ndarray) -> list[float | None]:
        return [None if np.isnan(v) else round(float(v), 2) for v in values[0, -days:]]

    signals = list(
        Signal.objects.filter(series=series, day__gte=dates[0], day__lte=end).values(
            "day", "method", "observed", "status"
        )
    )
    return {
        "dates": [d.isoformat() for d in dates],
        "observed": [int(v) for v in observed[0, -days:]],
        "expected": tail(result.expected),
        "upperbound": tail(result.upperbound),
        "method": str(Method(method).label),
        "signals": [
            {"day": s["day"].isoformat(), "observed": s["observed"], "status": s["status"]}
            for s in signals
        ],
    }
