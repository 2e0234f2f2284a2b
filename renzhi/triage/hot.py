"""Hot issues (热点问题): many residents raising the same thing in one area, now.

`refresh` clusters the appeals of the last `days` days:
1. text: character 2–3-gram TF-IDF cosine (`similarity.vectorise`) ≥ `TEXT_MIN` links two
   appeals — only when they are in the same street (place) — and linked appeals form one
   cluster (connected components; the window itself is the time constraint);
2. clusters of at least `MIN_SIZE` appeals become hot issues, ranked by the heat index:

       heat = (n + r) / 2 × (1 + ½·log2 g) × (½ + ½·c)

   n  appeals in the cluster;
   r  distinct residents (by account, else by phone; an appeal with neither counts alone) —
      averaging n and r makes one resident calling five times count less than five people;
   g  growth = (later + 1) / (earlier + 1), appeals in the later vs the earlier half of the
      window, clipped to [½, 8]: a rising issue counts up to 2.5×, a fading one ½×;
   c  place concentration: the share of the cluster in its most common community — a problem
      of one estate is more actionable (and more likely one cause) than one spread thin.

Each refresh keeps the earlier issues (links to them stay valid) and marks only the new ones
`current`. A job refreshes it (`tasks.refresh_hot_issues`, `manage.py triage_hot`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from django.db import transaction
from django.utils import timezone
from scipy.sparse.csgraph import connected_components

from renzhi.appeals.models import Appeal, State
from renzhi.triage import similarity
from renzhi.triage.models import HotIssue

WINDOW_DAYS = 7
TEXT_MIN = 0.5
MIN_SIZE = 3
TOP = 20
CHUNK = 2000


@dataclass(frozen=True)
class Heat:
    count: int
    residents: int
    recent: int
    earlier: int
    concentration: float

    @property
    def growth(self) -> float:
        return (self.recent + 1) / (self.earlier + 1)

    @property
    def value(self) -> float:
        g = min(max(self.growth, 0.5), 8.0)
        return round(
            (self.count + self.residents)
            / 2
            * (1 + 0.5 * math.log2(g))
            * (0.5 + 0.5 * self.concentration),
            3,
        )


def refresh(
    now: dt.datetime | None = None, days: int = WINDOW_DAYS, top: int = TOP
) -> list[HotIssue]:
    """Recompute the hot issues of the `days` days up to `now`; returns them by rank."""
    now = now or timezone.now()
    start = now - dt.timedelta(days=days)
    middle = now - dt.timedelta(days=days / 2)
    rows: list[dict[str, Any]] = [
        dict(r)
        for r in Appeal.objects.filter(received_at__gte=start, received_at__lte=now)
        .exclude(state__in=[State.REJECTED, State.WITHDRAWN])
        .values(
            "pk",
            "tracking_no",
            "title",
            "description",
            "place_code",
            "community_id",
            "street_id",
            "category_id",
            "lat",
            "lng",
            "received_at",
            "resident_id",
            "contact_phone",
        )
        .order_by("received_at", "pk")
    ]
    clusters = _clusters(rows)
    found = []
    for members in clusters:
        found.append(_describe([rows[i] for i in members], middle))
    found.sort(key=lambda f: (-f[0].value, -f[0].count, f[1]["title"]))
    with transaction.atomic():
        HotIssue.objects.filter(current=True).update(current=False)
        issues = []
        for rank, (heat, fields, member_ids) in enumerate(found[:top], start=1):
            issue = HotIssue.objects.create(
                computed_at=now,
                window_start=start,
                window_end=now,
                rank=rank,
                heat=heat.value,
                count=heat.count,
                recent=heat.recent,
                earlier=heat.earlier,
                residents=heat.residents,
                concentration=round(heat.concentration, 4),
                **fields,
            )
            issue.appeals.set(member_ids)
            issues.append(issue)
    return issues


def heat_of(rows: list[dict], middle: dt.datetime) -> Heat:
    """The heat components of one cluster's appeal rows (see the module docstring)."""
    people = set()
    for r in rows:
        if r["resident_id"]:
            people.add(("u", r["resident_id"]))
        elif r["contact_phone"]:
            people.add(("p", r["contact_phone"]))
        else:
            people.add(("a", r["pk"]))
    recent = sum(1 for r in rows if r["received_at"] >= middle)
    communities = Counter(r["community_id"] for r in rows)
    top_share = communities.most_common(1)[0][1] / len(rows) if rows else 0.0
    return Heat(len(rows), len(people), recent, len(rows) - recent, top_share)


def _clusters(rows: list[dict]) -> list[list[int]]:
    if len(rows) < MIN_SIZE:
        return []
    matrix = similarity.vectorise([f"{r['title']} {r['description']}" for r in rows])
    streets = np.array([(r["place_code"] or "")[:9] for r in rows])
    n = len(rows)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for lo in range(0, n, CHUNK):
        block = (matrix[lo : lo + CHUNK] @ matrix.T).tocoo()
        keep = (block.data >= TEXT_MIN) & (streets[block.row + lo] == streets[block.col])
        sources.append(block.row[keep] + lo)
        targets.append(block.col[keep])
    src, dst = np.concatenate(sources), np.concatenate(targets)
    graph = sp.coo_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return [members for members in groups.values() if len(members) >= MIN_SIZE]


def _describe(rows: list[dict], middle: dt.datetime) -> tuple[Heat, dict, list[int]]:
    heat = heat_of(rows, middle)
    matrix = similarity.vectorise([f"{r['title']} {r['description']}" for r in rows])
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    typical = np.argsort(-(matrix @ centroid), kind="stable")
    representatives = [rows[i]["tracking_no"] for i in typical[:3]]
    lead = rows[int(typical[0])]
    communities = Counter(r["community_id"] for r in rows)
    community_id, in_top = communities.most_common(1)[0]
    street_id = Counter(r["street_id"] for r in rows).most_common(1)[0][0]
    categories = Counter(r["category_id"] for r in rows if r["category_id"])
    points = [[r["lat"], r["lng"]] for r in rows if r["lat"] is not None and r["lng"] is not None]
    codes = [r["place_code"] for r in rows if r["place_code"]]
    concentrated = in_top * 2 >= len(rows)
    place_code = _common_prefix(codes, 12 if concentrated else 9)
    fields = {
        "title": (lead["title"] or lead["description"])[:100],
        "category_id": categories.most_common(1)[0][0] if categories else None,
        "community_id": community_id if concentrated else None,
        "street_id": street_id,
        "place_code": place_code,
        "lat": float(np.mean([p[0] for p in points])) if points else None,
        "lng": float(np.mean([p[1] for p in points])) if points else None,
        "points": points[:200],
        "representatives": representatives,
    }
    return heat, fields, [r["pk"] for r in rows]


def _common_prefix(codes: list[str], length: int) -> str:
    if not codes:
        return ""
    prefix = Counter(c[:length] for c in codes).most_common(1)[0][0]
    return prefix
