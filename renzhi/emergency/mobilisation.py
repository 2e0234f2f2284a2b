"""Finding people to call up: who holds a valid skill, is free at that hour near that place,
and is not already on duty elsewhere — nearest first.

Distance is straight-line (haversine) from the place's centre to where the person usually is
(their profile's point, else their community's centre): good enough to rank a few dozen
neighbours, and it needs no road network.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from renzhi.core.models import PersonSkill, Place, User
from renzhi.emergency.models import Availability, CallUp, CallUpStatus, PersonProfile

__all__ = ["Candidate", "available_at", "distance_km", "find_candidates"]

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Candidate:
    user: User
    profile: PersonProfile
    distance_km: float | None
    insured: bool
    skills: tuple[str, ...]
    skill_names: tuple[str, ...] = ()


def find_candidates(
    skill_code: str | None, place: Place, at: dt.datetime | None = None, limit: int = 20
) -> list[Candidate]:
    """Active people within the place's district who hold `skill_code` (valid on that day;
    any skill when empty), have an availability window covering `at` there, and are not on
    another call-up right now. Nearest first, at most `limit`."""
    at = at or timezone.now()
    local = timezone.localtime(at)
    day = local.date()
    profiles = PersonProfile.objects.filter(
        active=True, user__is_active=True, place__code__startswith=place.code[:6]
    ).select_related("user", "place")
    if skill_code:
        holders = PersonSkill.objects.filter(skill__code=skill_code).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )
        profiles = profiles.filter(user__in=holders.values("user"))
    busy = CallUp.objects.filter(
        status__in=[CallUpStatus.ACCEPTED, CallUpStatus.CHECKED_IN]
    ).values("user")
    profiles = profiles.exclude(user__in=busy)
    profiles_list = list(profiles)
    free = available_at([p.pk for p in profiles_list], place, local)
    skills_of: dict[int, list[tuple[str, str]]] = {}
    for user_id, code, name in (
        PersonSkill.objects.filter(user__in=[p.user_id for p in profiles_list])
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .values_list("user_id", "skill__code", "skill__name")
    ):
        skills_of.setdefault(user_id, []).append((code, name))
    candidates = [
        Candidate(
            user=p.user,
            profile=p,
            distance_km=_distance_to(p, place),
            insured=p.insured_on(day),
            skills=tuple(code for code, _name in sorted(skills_of.get(p.user_id, []))),
            skill_names=tuple(name for _code, name in sorted(skills_of.get(p.user_id, []))),
        )
        for p in profiles_list
        if p.pk in free
    ]
    candidates.sort(key=lambda c: (c.distance_km is None, c.distance_km or 0.0, c.user.pk))
    return candidates[:limit]


def available_at(profile_ids: list[int], place: Place, local: dt.datetime) -> set[int]:
    """Profiles with a weekly window covering this local time, anywhere or on the chain of
    `place` (a window for the street covers its communities and the other way round)."""
    windows = Availability.objects.filter(
        profile_id__in=profile_ids,
        weekday=local.weekday(),
        starts__lte=local.time(),
        ends__gt=local.time(),
    ).select_related("place")
    return {
        w.profile_id
        for w in windows
        if w.place is None
        or place.code.startswith(w.place.code)
        or w.place.code.startswith(place.code)
    }


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def _distance_to(profile: PersonProfile, place: Place) -> float | None:
    lat = profile.lat if profile.lat is not None else profile.place.centre_lat
    lng = profile.lng if profile.lng is not None else profile.place.centre_lng
    if lat is None or lng is None or place.centre_lat is None or place.centre_lng is None:
        return None
    return round(distance_km(lat, lng, place.centre_lat, place.centre_lng), 2)
