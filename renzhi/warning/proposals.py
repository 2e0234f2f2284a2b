"""From signals to a proposed warning: which signals belong together and what level they merit.

Rules (documented in docs/warnings.md):
- start from the category's severity (`DetectorConfig.severity`, the subcategory's or its
  parent's; Level IV when none is set);
- strength: observed at least twice the upper bound → one level up;
- spread: three or more communities with signals of the same category on the same day, or a
  signal on a whole street or district → one level up;
- a proposal never goes above Level II by itself: red is a person's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from renzhi.core.models import Place, PlaceLevel
from renzhi.warning.models import CapCategory, DetectorConfig, Level, Signal, SignalStatus

SPREAD_COMMUNITIES = 3
STRENGTH_RATIO = 2.0
HIGHEST_PROPOSED = Level.II

# First-level category codes of the demo taxonomy → CAP category (others: Safety).
CAP_CATEGORY_OF_CODE = {
    "01": CapCategory.INFRA,
    "02": CapCategory.ENV,
    "09": CapCategory.SAFETY,
}


@dataclass
class Proposal:
    level: int
    headline: str
    event: str
    description: str
    instructions: str
    cap_category: str
    area_codes: list[str]
    reasons: list[str]


def group_for(signal: Signal, visible: Callable[[Place], bool]) -> list[Signal]:
    """The signal and every new signal of the same source, category and day the actor sees."""
    peers = (
        Signal.objects.select_related("series__place", "series__category")
        .filter(
            day=signal.day,
            status=SignalStatus.NEW,
            series__source=signal.series.source,
        )
        .filter(_same_category(signal.series.category_id))
        .exclude(pk=signal.pk)
    )
    return [signal, *(s for s in peers if visible(s.series.place))]


def _same_category(category_id: int | None) -> Q:
    if category_id is None:
        return Q(series__category__isnull=True)
    return Q(series__category_id=category_id)


def build(group: list[Signal]) -> Proposal:
    first = group[0]
    category = first.series.category
    places = {s.series.place.code: s.series.place for s in group}
    communities = [p for p in places.values() if p.level in (PlaceLevel.COMMUNITY, PlaceLevel.GRID)]
    wide = [p for p in places.values() if p.level in (PlaceLevel.STREET, PlaceLevel.DISTRICT)]
    level = _base_level(category)
    reasons = [_("category severity: level %(level)s") % {"level": Level(level).label}]
    strongest = max(_ratio(s) for s in group)
    if strongest >= STRENGTH_RATIO:
        level -= 1
        reasons.append(_("observed %(ratio).1f× the upper bound") % {"ratio": strongest})
    if len(communities) >= SPREAD_COMMUNITIES or wide:
        level -= 1
        reasons.append(_("signals in %(n)s places at once") % {"n": len(communities) + len(wide)})
    level = max(level, HIGHEST_PROPOSED)
    area = communities or wide
    names = "、".join(p.name for p in area)
    category_name = category.name if category else _("all categories")
    total = int(sum(s.observed for s in group))
    return Proposal(
        level=level,
        headline=_("Unusual rise in %(category)s appeals: %(places)s")
        % {"category": category_name, "places": names},
        event=category_name,
        description=_(
            "On %(day)s residents of %(places)s raised %(total)s appeals about %(category)s, "
            "well above the usual level for this time."
        )
        % {
            "day": first.day.isoformat(),
            "places": names,
            "total": total,
            "category": category_name,
        },
        instructions=_(
            "Follow notices from your community, avoid the affected spots and report new "
            "problems through the appeal hotline."
        ),
        cap_category=_cap_category(category),
        area_codes=[p.code for p in area],
        reasons=reasons,
    )


def _ratio(signal: Signal) -> float:
    if not signal.upperbound or signal.upperbound <= 0:
        return float(signal.observed)
    return signal.observed / signal.upperbound


def _base_level(category) -> int:
    if category is None:
        return Level.IV
    configs = DetectorConfig.objects.filter(category_id__in=[category.pk, category.parent_id])
    levels = [c.severity for c in configs]
    return min(levels) if levels else Level.IV


def _cap_category(category) -> str:
    if category is None:
        return CapCategory.SAFETY
    return CAP_CATEGORY_OF_CODE.get(category.code[:2], CapCategory.SAFETY)
