"""Builders shared by the resources-side tests: depots of community A, B and street A, items,
and a helper to put stock on a shelf through the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from renzhi.emergency.actions import reserves as actions
from renzhi.emergency.models import Depot, Item, StockBatch, StockMove


def today() -> dt.date:
    return timezone.localdate()


def make_resource_items() -> dict[str, Item]:
    specs = {
        "water": ("饮用水", "瓶", "water", 365, False, Decimal("2")),
        "rice": ("大米", "袋", "food", 300, False, Decimal("0.05")),
        "mask": ("口罩", "个", "protective", 720, False, Decimal("0")),
        "kit": ("家庭应急包", "个", "tools", None, True, Decimal("0")),
        "sandbag": ("沙袋", "个", "tools", None, False, Decimal("0")),
    }
    items = {}
    for code, (name, unit, category, life, once, daily) in specs.items():
        items[code], _ = Item.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "category": category,
                "shelf_life_days": life,
                "one_per_household": once,
                "daily_per_person": daily,
            },
        )
    return items


def add_depots(world):
    """world + depot_a (community A), depot_b (community B), depot_street (street A), items."""
    w = world
    w.items = make_resource_items()
    w.depot_a = Depot.objects.create(
        code="dep-a", name="甲一社区储备点", kind="community", place=w.community_a
    )
    w.depot_a2 = Depot.objects.create(
        code="dep-a2", name="甲一社区第二储备点", kind="community", place=w.community_a
    )
    w.depot_b = Depot.objects.create(
        code="dep-b", name="乙一社区储备点", kind="community", place=w.community_b
    )
    w.depot_street = Depot.objects.create(
        code="dep-sa", name="甲街道应急仓库", kind="street", place=w.street_a
    )
    return w


def stock(depot: Depot, item: Item, quantity: int, days: int | None = 100, batch: str = ""):
    """Receive `quantity` as the system, expiring in `days` (None: never)."""
    expires = today() + dt.timedelta(days=days) if days is not None else None
    return actions.receive(
        None, depot, item, quantity, batch_no=batch or f"B{days}", expires_on=expires
    )


def on_hand(depot: Depot, item: Item) -> int:
    return sum(StockBatch.objects.filter(depot=depot, item=item).values_list("quantity", flat=True))


def move_sum(depot: Depot, item: Item) -> int:
    return sum(StockMove.objects.filter(depot=depot, item=item).values_list("quantity", flat=True))


def make_incident(place, *, status: str = "responding", title: str = "甲一社区内涝", by=None):
    """An incident straight in the database (the incident side's actions are not under test)."""
    from renzhi.emergency.models import Incident

    incident = Incident.objects.create(
        title=title,
        kind="flood",
        place=place,
        severity=3,
        status=status,
        started_at=timezone.now(),
        created_by=by,
    )
    incident.places.set([place])
    return incident


def make_helper(
    user, place, *, kind="volunteer", lat=None, lng=None, skills=(), insured=True, always=True
):
    """A person profile with skills (valid a year) and, when `always`, a window every day."""
    from renzhi.core.models import PersonSkill, Skill
    from renzhi.emergency.models import Availability, PersonProfile

    profile = PersonProfile.objects.create(
        user=user,
        kind=kind,
        place=place,
        lat=lat,
        lng=lng,
        certificate_no="SW-1" if kind == "social_worker" else "",
        qualification_level="assistant" if kind == "social_worker" else "",
        insured_until=today() + dt.timedelta(days=100) if insured else None,
    )
    for code in skills:
        skill, _ = Skill.objects.get_or_create(code=code, defaults={"name": code})
        PersonSkill.objects.create(
            user=user,
            skill=skill,
            source="certificate",
            valid_until=today() + dt.timedelta(days=365),
        )
    if always:
        Availability.objects.bulk_create(
            [
                Availability(
                    profile=profile, weekday=d, starts=dt.time(0, 0), ends=dt.time(23, 59, 59)
                )
                for d in range(7)
            ]
        )
    return profile
