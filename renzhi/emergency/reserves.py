"""Read side of reserves: what is on hand, how many days it lasts, what is short, what expires.

"Usable" stock is stock in unexpired batches (expired batches still count as on hand until they
are disposed of, but cannot be issued). Days of supply of a community = for every item with a
daily need per person, usable stock in the community's depots ÷ (population × daily need), and
the community's figure is the smallest of them: the first thing to run out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from renzhi.core.models import Place
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.models import Depot, Item, MinimumLevel, StockBatch, StockMove

__all__ = [
    "ShortageRow",
    "StockRow",
    "coverage_by_community",
    "expiring_batches",
    "ledger_for",
    "shortage_report",
    "stock_rows",
    "usable_on_hand",
    "visible_depots",
]

WARN_DAYS = (30, 7)


@dataclass(frozen=True)
class StockRow:
    depot: Depot
    item: Item
    on_hand: int
    usable: int
    expired: int
    expiring_30: int
    expiring_7: int
    minimum: int | None

    @property
    def below_minimum(self) -> bool:
        return self.minimum is not None and self.usable < self.minimum


@dataclass(frozen=True)
class ShortageRow:
    """One item short in a community: `source` is "plan" (per-capita norm of a response level)
    or "minimum" (a depot's minimum level, `depot` set)."""

    source: str
    item_code: str
    item_name: str
    unit: str
    required: int
    on_hand: int
    depot: Depot | None = None

    @property
    def shortfall(self) -> int:
        return max(self.required - self.on_hand, 0)


def visible_depots(user) -> QuerySet[Depot]:
    condition = rules.depot_filter(user)
    queryset = Depot.objects.select_related("place")
    return queryset if condition is None else queryset.filter(condition)


def usable_on_hand(
    depots: QuerySet[Depot] | list[Depot], item_ids=None, today: dt.date | None = None
) -> dict[tuple[int, int], int]:
    """(depot id, item id) → usable quantity."""
    today = today or timezone.localdate()
    batches = StockBatch.objects.filter(depot__in=depots, quantity__gt=0).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )
    if item_ids is not None:
        batches = batches.filter(item_id__in=list(item_ids))
    totals = batches.values("depot_id", "item_id").annotate(total=Sum("quantity"))
    return {(r["depot_id"], r["item_id"]): int(r["total"]) for r in totals}


def stock_rows(depots, today: dt.date | None = None) -> list[StockRow]:
    """Every depot × item with stock or a minimum level, with expiry bands."""
    today = today or timezone.localdate()
    depots = list(depots)
    by_key: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"on_hand": 0, "usable": 0, "expired": 0, "e30": 0, "e7": 0}
    )
    batches = StockBatch.objects.filter(depot__in=depots, quantity__gt=0).values(
        "depot_id", "item_id", "expires_on", "quantity"
    )
    for b in batches:
        row = by_key[(b["depot_id"], b["item_id"])]
        row["on_hand"] += b["quantity"]
        expires = b["expires_on"]
        if expires is not None and expires < today:
            row["expired"] += b["quantity"]
            continue
        row["usable"] += b["quantity"]
        if expires is not None and expires <= today + dt.timedelta(days=30):
            row["e30"] += b["quantity"]
        if expires is not None and expires <= today + dt.timedelta(days=7):
            row["e7"] += b["quantity"]
    minimums = {
        (m.depot_id, m.item_id): m.minimum for m in MinimumLevel.objects.filter(depot__in=depots)
    }
    keys = set(by_key) | set(minimums)
    depot_by_id = {d.pk: d for d in depots}
    items = Item.objects.in_bulk({k[1] for k in keys})
    rows = [
        StockRow(
            depot=depot_by_id[d],
            item=items[i],
            on_hand=by_key[(d, i)]["on_hand"] if (d, i) in by_key else 0,
            usable=by_key[(d, i)]["usable"] if (d, i) in by_key else 0,
            expired=by_key[(d, i)]["expired"] if (d, i) in by_key else 0,
            expiring_30=by_key[(d, i)]["e30"] if (d, i) in by_key else 0,
            expiring_7=by_key[(d, i)]["e7"] if (d, i) in by_key else 0,
            minimum=minimums.get((d, i)),
        )
        for d, i in keys
    ]
    return sorted(
        rows, key=lambda r: (r.depot.place.code, r.depot.code, r.item.category, r.item.code)
    )


def coverage_by_community(place_codes, today: dt.date | None = None) -> dict[str, float]:
    """Days of supply per community code (depots inside the community only). Communities with
    no population recorded, or when no item has a daily need, are left out."""
    communities = list(Place.objects.filter(code__in=list(place_codes), population__gt=0))
    norms = {
        i.pk: i.daily_per_person for i in Item.objects.filter(daily_per_person__gt=0, active=True)
    }
    if not communities or not norms:
        return {}
    today = today or timezone.localdate()
    result: dict[str, float] = {}
    for community in communities:
        depots = Depot.objects.filter(place__code__startswith=community.code, active=True)
        totals: dict[int, int] = defaultdict(int)
        for (_d, item_id), qty in usable_on_hand(depots, norms.keys(), today).items():
            totals[item_id] += qty
        days = min(
            float(Decimal(totals.get(item_id, 0)) / (need * community.population))
            for item_id, need in norms.items()
        )
        result[community.code] = round(days, 1)
    return result


def shortage_report(
    plan_level, community: Place, today: dt.date | None = None
) -> list[ShortageRow]:
    """What a community lacks: against the per-1,000-residents reserves of a plan's response
    level (`plan_level.reserves`: item_code + per_thousand; None to skip), and against every
    minimum level of its depots. Only short rows are returned, largest shortfall first."""
    today = today or timezone.localdate()
    depots = list(Depot.objects.filter(place__code__startswith=community.code, active=True))
    on_hand = usable_on_hand(depots, today=today)
    per_item: dict[int, int] = defaultdict(int)
    for (_d, item_id), qty in on_hand.items():
        per_item[item_id] += qty
    rows: list[ShortageRow] = []
    if plan_level is not None:
        needs = list(plan_level.reserves.all())
        items = {i.code: i for i in Item.objects.filter(code__in=[n.item_code for n in needs])}
        for need in needs:
            required = math.ceil(Decimal(need.per_thousand) * community.population / 1000)
            item = items.get(need.item_code)
            have = per_item.get(item.pk, 0) if item is not None else 0
            if have < required:
                rows.append(
                    ShortageRow(
                        source="plan",
                        item_code=need.item_code,
                        item_name=item.name if item else need.item_code,
                        unit=item.unit if item else "",
                        required=required,
                        on_hand=have,
                    )
                )
    for level in MinimumLevel.objects.filter(depot__in=depots).select_related("item", "depot"):
        have = on_hand.get((level.depot_id, level.item_id), 0)
        if have < level.minimum:
            rows.append(
                ShortageRow(
                    source="minimum",
                    item_code=level.item.code,
                    item_name=level.item.name,
                    unit=level.item.unit,
                    required=level.minimum,
                    on_hand=have,
                    depot=level.depot,
                )
            )
    return sorted(rows, key=lambda r: (-r.shortfall, r.item_code))


def expiring_batches(depots, within_days: int, today: dt.date | None = None):
    """Batches with stock that expire within `within_days` (expired ones included)."""
    today = today or timezone.localdate()
    return (
        StockBatch.objects.filter(
            depot__in=depots,
            quantity__gt=0,
            expires_on__isnull=False,
            expires_on__lte=today + dt.timedelta(days=within_days),
        )
        .select_related("depot", "item")
        .order_by("expires_on", "id")
    )


def ledger_for(
    user, *, depot: Depot | None = None, item: Item | None = None
) -> QuerySet[StockMove]:
    """The stock moves `user` may read, newest first."""
    moves = StockMove.objects.filter(depot__in=visible_depots(user)).select_related(
        "depot", "item", "batch", "actor", "counterpart"
    )
    if depot is not None:
        moves = moves.filter(depot=depot)
    if item is not None:
        moves = moves.filter(item=item)
    return moves
