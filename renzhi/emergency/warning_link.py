"""From a warning (预警) to an incident: which type, places and severity it suggests.

Used by the "new incident" page (`?warning=<id>`) and by one-click activation from a red or
orange warning. The warning's grade maps one-to-one onto the severity (I red … IV blue).
"""

from __future__ import annotations

from renzhi.core.models import Place
from renzhi.emergency.models import IncidentType

# Keywords of the warning's event/headline → incident type (first match wins).
KEYWORDS: list[tuple[tuple[str, ...], str]] = [
    (("内涝", "暴雨", "洪", "积水", "flood", "rain"), IncidentType.FLOOD),
    (("燃气", "gas"), IncidentType.GAS),
    (("火", "fire"), IncidentType.FIRE),
    (("高温", "寒潮", "低温", "heat", "cold"), IncidentType.HEAT_COLD),
    (("停电", "停水", "outage"), IncidentType.OUTAGE),
    (("疫", "传染", "发热", "health", "epidemic"), IncidentType.PUBLIC_HEALTH),
    (("治安", "security"), IncidentType.SECURITY),
]
CAP_TYPES = {
    "Health": IncidentType.PUBLIC_HEALTH,
    "Fire": IncidentType.FIRE,
    "Security": IncidentType.SECURITY,
    "Infra": IncidentType.OUTAGE,
}


def prefill_from_warning(warning) -> dict:
    """title, kind, place, places, severity and description for an incident from `warning`."""
    text = f"{warning.event} {warning.headline} {getattr(warning, 'category', '') or ''}".lower()
    kind = next(
        (k for words, k in KEYWORDS if any(w.lower() in text for w in words)),
        CAP_TYPES.get(warning.cap_category, IncidentType.OTHER),
    )
    areas = list(warning.areas.all())
    owner = warning.owner_place
    if areas and all(a.code.startswith(owner.code) for a in areas):
        place = owner
    elif areas:
        place = _common_ancestor(areas) or owner
    else:
        place = owner
    return {
        "title": warning.headline[:120],
        "kind": kind,
        "place": place,
        "places": areas or [place],
        "severity": int(warning.level),
        "description": warning.description,
    }


def _common_ancestor(places: list[Place]) -> Place | None:
    codes = [p.code for p in places]
    for n in (15, 12, 9, 6):
        heads = {c[:n] for c in codes if len(c) >= n}
        if len(heads) == 1 and all(len(c) >= n for c in codes):
            return Place.objects.filter(code=heads.pop()).first()
    return None
