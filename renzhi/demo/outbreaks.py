"""Local outbreaks injected into the demo appeals, for the early-warning detectors to find.

Each outbreak adds `extra_per_day` appeals of one subcategory in one community, every day for
`days` days, on top of the usual (seasonal, weekly, random) volume. They are point-source
clusters: the extra appeals come from one grid and a few buildings, tell the same story (the
`keyword` picks the matching description templates) and arrive within hours of each other.

The demo's appeals end "now", so outbreaks are anchored to a month and day and land on the
latest such date whose whole window (plus a week after it, so the detectors see it end) lies in
the generated period; one that does not fit the period is left out. `resolve()` gives the
concrete dates, and the generator records them in its audit event
("demo.create_appeals" → after.outbreaks), so tests and the detection job can check them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MARGIN_AFTER = dt.timedelta(days=7)  # days of normal volume kept after each outbreak


@dataclass(frozen=True)
class OutbreakSpec:
    community_code: str
    category_code: str  # a subcategory of `renzhi.demo.categories`
    month: int
    day: int
    days: int
    extra_per_day: int  # at scale 1
    keyword: str
    story: str  # what happened, for people reading the list


@dataclass(frozen=True)
class Outbreak:
    community_code: str
    category_code: str
    start: dt.date
    days: int
    extra_per_day: int  # at the generated scale
    keyword: str

    @property
    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=k) for k in range(self.days)]

    def as_dict(self) -> dict:
        return {
            "community": self.community_code,
            "category": self.category_code,
            "start": self.start.isoformat(),
            "days": self.days,
            "extra_per_day": self.extra_per_day,
        }


OUTBREAKS: list[OutbreakSpec] = [
    OutbreakSpec(
        "110105001002",
        "0101",
        7,
        8,
        4,
        8,
        "停水",
        "water main burst: 南湖东园 without water for four days",
    ),
    OutbreakSpec(
        "110105002003",
        "0103",
        1,
        12,
        5,
        10,
        "暖气",
        "heating outage: a failed heat exchanger at 万红西街 in a cold spell",
    ),
    OutbreakSpec(
        "110105003002",
        "0205",
        8,
        5,
        5,
        5,
        "蚊",
        "mosquitoes by the lake of 望湖公园 after heavy rain",
    ),
    OutbreakSpec(
        "110105001004", "0903", 12, 3, 3, 6, "味", "gas smell around 宝星园 from a leaking main"
    ),
    OutbreakSpec(
        "110105002001",
        "0201",
        8,
        20,
        4,
        6,
        "垃圾",
        "garbage not collected at 将台 during a contractor change",
    ),
    OutbreakSpec(
        "110105003004", "0102", 7, 22, 3, 7, "停电", "power cuts at 利泽西园 in a heat wave"
    ),
]


def resolve(first: dt.date, last: dt.date, scale: float = 1.0) -> list[Outbreak]:
    """The outbreaks that fit in [first, last], with their concrete start dates."""
    found = []
    for spec in OUTBREAKS:
        for year in range(last.year, first.year - 1, -1):
            try:
                start = dt.date(year, spec.month, spec.day)
            except ValueError:  # 29 February
                continue
            end = start + dt.timedelta(days=spec.days - 1)
            if end + MARGIN_AFTER <= last:
                if start >= first:
                    found.append(
                        Outbreak(
                            spec.community_code,
                            spec.category_code,
                            start,
                            spec.days,
                            scaled_extra(spec.extra_per_day, scale),
                            spec.keyword,
                        )
                    )
                break
    return sorted(found, key=lambda o: o.start)


def scaled_extra(extra_per_day: int, scale: float) -> int:
    """Extra appeals a day at `scale`; never fewer than 3, or a small demo would hide them."""
    return max(3, round(extra_per_day * scale))
