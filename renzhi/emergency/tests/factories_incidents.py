"""Builders shared by the incident-side tests: a flood plan for street A, items and skills.
Each test module wraps them in its own `flood_plan` / `flood` fixtures."""

from __future__ import annotations

from decimal import Decimal

from renzhi.core.models import Role, Skill
from renzhi.emergency.actions import incidents, plans
from renzhi.emergency.actions.plans import ActionSpec, LevelSpec


def level_specs(extra_action: str = "") -> list[LevelSpec]:
    """Four levels; level III (the journey's) has staff, grid worker and unit actions."""
    specs = []
    for level in (4, 3, 2, 1):
        actions = [
            ActionSpec(f"L{level} 巡查积水点", Role.GRID_WORKER, 2),
            ActionSpec(f"L{level} 通知居民转移", Role.COMMUNITY_STAFF, 1),
        ]
        if level <= 3:
            actions.append(ActionSpec(f"L{level} 抽排地下车库", Role.UNIT_HANDLER, 3))
        if extra_action:
            actions.append(ActionSpec(extra_action, Role.COMMUNITY_STAFF, 2))
        specs.append(
            LevelSpec(
                level=level,
                summary=f"level {level}",
                actions=actions,
                reserves=[("sandbag", Decimal(50 * (5 - level)))],
                people=[("rescue", 2)] if level <= 3 else [],
            )
        )
    return specs


def make_items() -> None:
    from renzhi.emergency.models import Item

    Item.objects.get_or_create(
        code="sandbag", defaults={"name": "沙袋", "unit": "个", "category": "tools"}
    )
    Item.objects.get_or_create(
        code="water",
        defaults={
            "name": "饮用水",
            "unit": "瓶",
            "category": "water",
            "daily_per_person": Decimal("2"),
        },
    )
    Skill.objects.get_or_create(code="rescue", defaults={"name": "水上救援"})


def add_flood_plan(world):
    """The world with items, skills and street A's flood plan (`w.plan`)."""
    make_items()
    w = world
    w.plan = plans.create_plan(
        w.leo, place=w.street_a, kind="flood", title="甲街道防汛预案", levels=level_specs()
    )
    return w


def add_flood(world):
    """Plus a reported waterlogging incident in community A (`w.incident`)."""
    w = world
    w.incident = incidents.report(
        w.alice,
        title="甲一社区内涝",
        kind="flood",
        place=w.community_a,
        severity=3,
        description="暴雨后积水",
    )
    return w
