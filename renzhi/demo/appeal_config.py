"""The demo city's appeal configuration: category tree, routing table and SLA rules.

The category tree comes from `renzhi.demo.categories` and is loaded by the appeals app's own
loader (`renzhi.appeals.actions.config.load_categories`). The routing table sends each category
to the demo's units at the right level: property companies per community, urban management /
sanitation / police per street, utilities and bureaus district-wide. A few categories are
deliberately ambiguous (two units equally specific), so their appeals wait in the street
dispatcher's queue instead of being dispatched automatically, as in a real 12345 centre:

  0203 噪声扰民  urban management (construction) or police (people)            per street
  0604 食品安全  market regulation or health                                   district
  0904 电动车充电 property company or community committee                       per community

Loading creates only what is missing, in one transaction with one audit event.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from renzhi.appeals.actions.config import load_categories
from renzhi.appeals.models import Category, Priority, RoutingRule, SlaRule
from renzhi.core.models import Place, PlaceLevel, Unit
from renzhi.demo.categories import CATEGORIES
from renzhi.demo.city import DISTRICT_CODE, City

# (category code or None for the place's default, level of the rule's places, unit code prefix)
ROUTING: list[tuple[str | None, str, str]] = [
    (None, PlaceLevel.STREET, "CG"),
    ("01", PlaceLevel.STREET, "CG"),
    ("0101", PlaceLevel.DISTRICT, "GS"),
    ("0102", PlaceLevel.DISTRICT, "GD"),
    ("0103", PlaceLevel.DISTRICT, "ZJ"),
    ("0104", PlaceLevel.DISTRICT, "RQ"),
    ("02", PlaceLevel.STREET, "HW"),
    ("0203", PlaceLevel.STREET, "CG"),
    ("0203", PlaceLevel.STREET, "PCS"),
    ("0204", PlaceLevel.STREET, "CG"),
    ("0205", PlaceLevel.DISTRICT, "WJ"),
    ("03", PlaceLevel.DISTRICT, "JT"),
    ("0302", PlaceLevel.STREET, "PCS"),
    ("04", PlaceLevel.DISTRICT, "JY"),
    ("0403", PlaceLevel.COMMUNITY, "JW"),
    ("0404", PlaceLevel.STREET, "PCS"),
    ("05", PlaceLevel.DISTRICT, "RS"),
    ("06", PlaceLevel.DISTRICT, "SJ"),
    ("0604", PlaceLevel.DISTRICT, "SJ"),
    ("0604", PlaceLevel.DISTRICT, "WJ"),
    ("0605", PlaceLevel.STREET, "CG"),
    ("07", PlaceLevel.DISTRICT, "WJ"),
    ("08", PlaceLevel.COMMUNITY, "WY"),
    ("0806", PlaceLevel.STREET, "CG"),
    ("09", PlaceLevel.STREET, "PCS"),
    ("0903", PlaceLevel.DISTRICT, "RQ"),
    ("0904", PlaceLevel.COMMUNITY, "WY"),
    ("0904", PlaceLevel.COMMUNITY, "JW"),
    ("0905", PlaceLevel.COMMUNITY, "WY"),
    ("10", PlaceLevel.DISTRICT, "MZ"),
    ("1005", PlaceLevel.COMMUNITY, "JW"),
]
AMBIGUOUS = ("0203", "0604", "0904")

# (category code or None for the default, priority, sign within working hours, resolve within
# working days)
SLA_RULES: list[tuple[str | None, str, float, float]] = [
    (None, Priority.NORMAL, 2, 5),
    (None, Priority.URGENT, 1, 1),
    ("0101", Priority.NORMAL, 1, 2),  # water: people wait at dry taps
    ("0101", Priority.URGENT, 0.5, 0.5),
    ("0103", Priority.NORMAL, 2, 2),  # heating in winter
    ("0103", Priority.URGENT, 1, 0.5),
    ("0801", Priority.NORMAL, 1, 2),  # lifts
    ("0801", Priority.URGENT, 0.5, 0.5),
    ("0903", Priority.NORMAL, 1, 1),  # gas safety
    ("0903", Priority.URGENT, 0.5, 0.5),
    ("05", Priority.NORMAL, 4, 10),  # labour disputes need an investigation
    ("0401", Priority.NORMAL, 4, 10),
    ("0806", Priority.NORMAL, 4, 15),  # illegal structures: an enforcement procedure
]

# Unit code prefixes by the level of the place they serve (see `renzhi.demo.city`).
COMMUNITY_UNITS = {"WY", "JW"}
STREET_UNITS = {"CG", "HW", "PCS"}


def unit_code(prefix: str, place_code: str) -> str:
    """The demo unit with `prefix` that serves the place `place_code` (any level below it)."""
    if prefix in COMMUNITY_UNITS:
        return f"{prefix}-{place_code[:12]}"
    if prefix in STREET_UNITS:
        return f"{prefix}-{place_code[:9]}"
    return f"{prefix}-{DISTRICT_CODE}"


def load_appeal_config(city: City) -> Counter:
    """Categories, routing rules and SLA rules of the demo; returns what was created."""
    created: Counter = Counter()
    with transaction.atomic():
        result = load_categories(None, CATEGORIES)
        created["categories"] = result.created
        categories = {c.code: c for c in Category.objects.all()}
        places = {
            p.code: p
            for p in Place.objects.filter(code__in=[p.code for p in city.places]).only(
                "id", "code", "level"
            )
        }
        units = dict(
            Unit.objects.filter(code__in=[u.code for u in city.units]).values_list("code", "id")
        )
        existing: set[tuple[int | None, int, int | None]] = set(
            RoutingRule.objects.values_list("category_id", "place_id", "unit_id")
        )
        rules = []
        for category_code, level, prefix in ROUTING:
            category_id = categories[category_code].pk if category_code else None
            for place in (p for p in places.values() if p.level == level):
                unit_id = units.get(unit_code(prefix, place.code))
                key = (category_id, place.pk, unit_id)
                if unit_id is None or key in existing:
                    continue
                existing.add(key)
                rules.append(
                    RoutingRule(category_id=category_id, place_id=place.pk, unit_id=unit_id)
                )
        RoutingRule.objects.bulk_create(rules)
        created["routing_rules"] = len(rules)
        have = set(SlaRule.objects.values_list("category_id", "priority"))
        sla_rules = []
        for category_code, priority, sign_hours, resolve_days in SLA_RULES:
            category_id = categories[category_code].pk if category_code else None
            if (category_id, str(priority)) in have:
                continue
            sla_rules.append(
                SlaRule(
                    category_id=category_id,
                    priority=priority,
                    sign_hours=sign_hours,
                    resolve_days=resolve_days,
                )
            )
        SlaRule.objects.bulk_create(sla_rules)
        created["sla_rules"] = len(sla_rules)
        if created["routing_rules"] or created["sla_rules"]:
            from renzhi.demo.build import record

            record(
                "demo.configure_appeals",
                city,
                {"routing_rules": created["routing_rules"], "sla_rules": created["sla_rules"]},
            )
    return created
