"""Read side of the warning app: scoped querysets and what the pages and API show."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from renzhi.core import scope
from renzhi.core.models import Place, User
from renzhi.warning import rules
from renzhi.warning.models import (
    LIVE_STATUSES,
    Delivery,
    Series,
    Signal,
    Status,
    Warning,
)


def visible_warnings(user: User | None) -> QuerySet[Warning]:
    """Staff see warnings owned by, or covering, a place in their jurisdiction."""
    if not rules.is_warning_staff(user):
        return Warning.objects.none()
    codes = scope.jurisdiction_codes(user, rules.WARNING_STAFF)
    qs = Warning.objects.select_related("owner_place", "created_by", "approved_by")
    if codes is None:
        return qs
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(owner_place__code__startswith=code) | Q(areas__code__startswith=code)
    ids = Warning.objects.filter(condition).values("pk")
    return qs.filter(pk__in=ids)


def awaiting_approval(user: User | None) -> QuerySet[Warning]:
    if not rules.is_leader(user):
        return Warning.objects.none()
    return visible_warnings(user).filter(status=Status.SUBMITTED)


def warnings_for_resident(user: User | None) -> list[Warning]:
    """Live warnings whose area contains the user's home (a resident's community), with their
    areas for the page that lists them."""
    return list(warnings_near_home(user).prefetch_related("areas"))


def warnings_near_home(user: User | None) -> QuerySet[Warning]:
    """The same warnings without their areas: the banner on every page needs only headlines."""
    code = rules.home_code(user)
    if not code:
        return Warning.objects.none()
    prefixes = [code[:n] for n in (6, 9, 12, 15) if n <= len(code)]
    return (
        Warning.objects.filter(
            status__in=LIVE_STATUSES, expires_at__gt=timezone.now(), areas__code__in=prefixes
        )
        .distinct()
        .order_by("level", "-published_at")
    )


def visible_series(user: User | None) -> QuerySet[Series]:
    if not rules.is_warning_staff(user):
        return Series.objects.none()
    return scope.scope_queryset(
        user,
        Series.objects.select_related("place", "category"),
        place_field="place",
        roles_allowed=rules.WARNING_STAFF,
    )


def visible_signals(user: User | None) -> QuerySet[Signal]:
    if not rules.is_warning_staff(user):
        return Signal.objects.none()
    return scope.scope_queryset(
        user,
        Signal.objects.all(),
        place_field="series__place",
        roles_allowed=rules.WARNING_STAFF,
    )


def latest_signal_day(user: User | None) -> dt.date | None:
    return visible_signals(user).order_by("-day").values_list("day", flat=True).first()


def signal_days(user: User | None) -> list[dt.date]:
    return list(
        visible_signals(user).order_by("-day").values_list("day", flat=True).distinct()[:30]
    )


def places_for(user: User | None, levels=("community",)) -> list[Place]:
    qs = Place.objects.filter(level__in=levels)
    codes = scope.jurisdiction_codes(user, rules.WARNING_STAFF)
    if codes is None:
        return list(qs)
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(code__startswith=code)
    return list(qs.filter(condition))


def deliveries_of(warning: Warning) -> QuerySet[Delivery]:
    return Delivery.objects.filter(message__warning=warning).select_related("message", "webhook")


def recent_deliveries(user: User | None) -> list[Delivery]:
    warnings = visible_warnings(user).values("pk")
    return list(
        Delivery.objects.filter(
            message__warning__in=warnings, channel=Delivery.Channel.WEBHOOK
        ).select_related("message", "webhook")[:30]
    )


def hot_issue_initial(user: User | None, value: str | None) -> dict:
    """Text from a triage hot issue the user may see (the triage app's scoped lookup, named by
    the RENZHI_HOT_ISSUE_LOOKUP setting); otherwise nothing (the link still works)."""
    lookup = getattr(settings, "RENZHI_HOT_ISSUE_LOOKUP", "")
    issue = import_string(lookup)(user, value) if lookup else None
    if issue is None:
        return {}
    title = str(getattr(issue, "title", "") or getattr(issue, "label", "") or "")
    return {"headline": title[:160], "description": str(getattr(issue, "summary", "") or "")}


def map_data(user: User | None) -> dict:
    """Live warnings with their areas' GeoJSON, for the map coloured by level."""
    now = timezone.now()
    warnings = (
        visible_warnings(user)
        .filter(status__in=LIVE_STATUSES, expires_at__gt=now)
        .prefetch_related("areas")
        .order_by("-level")
    )
    features = []
    items = []
    for w in warnings:
        items.append({"id": w.pk, "headline": w.headline, "colour": w.colour, "level": w.roman})
        for place in w.areas.all():
            if place.boundary:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": place.boundary,
                        "properties": {
                            "warning": w.pk,
                            "colour": w.colour,
                            "level": w.roman,
                            "headline": w.headline,
                            "place": place.name,
                        },
                    }
                )
    outline = [
        {"type": "Feature", "geometry": p.boundary, "properties": {"place": p.name}}
        for p in places_for(user)
        if p.boundary
    ]
    return {
        "warnings": items,
        "areas": {"type": "FeatureCollection", "features": features},
        "outline": {"type": "FeatureCollection", "features": outline},
    }
