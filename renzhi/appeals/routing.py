"""Which unit handles an appeal: the routing table (category × place → unit).

A rule matches when its place is the appeal's grid or an ancestor of it, and its category is the
appeal's category, that category's parent, or empty (any). The most specific rules win — first
by category (second level > first level > any), then by place (deeper > shallower). Routing is
unambiguous when exactly one unit remains; otherwise the appeal waits in the dispatcher's queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from renzhi.appeals.models import Category, RoutingRule
from renzhi.core.models import Unit


@dataclass(frozen=True)
class RouteDecision:
    unit: Unit | None
    candidates: list[Unit]

    @property
    def unambiguous(self) -> bool:
        return self.unit is not None


def route(category: Category | None, place_code: str) -> RouteDecision:
    if not place_code:
        return RouteDecision(None, [])
    ancestor_codes = [place_code[:n] for n in (6, 9, 12, 15) if n <= len(place_code)]
    category_ids: list[int | None] = [None]
    if category is not None:
        category_ids = [category.pk, category.parent_id, None]
    rules = list(
        RoutingRule.objects.filter(place__code__in=ancestor_codes, unit__active=True)
        .filter(
            Q(category_id__in=[c for c in category_ids if c is not None]) | Q(category__isnull=True)
        )
        .select_related("unit", "place")
    )
    if not rules:
        return RouteDecision(None, [])

    def specificity(rule: RoutingRule) -> tuple[int, int]:
        rank = (
            category_ids.index(rule.category_id)
            if rule.category_id in category_ids
            else len(category_ids)
        )
        return (-rank, len(rule.place.code))

    best = max(specificity(r) for r in rules)
    winners = {r.unit_id: r.unit for r in rules if specificity(r) == best}
    ordered = sorted(
        {r.unit_id: r.unit for r in sorted(rules, key=specificity, reverse=True)}.values(),
        key=lambda u: u.code,
    )
    if len(winners) == 1:
        return RouteDecision(next(iter(winners.values())), ordered)
    return RouteDecision(None, ordered)
