"""Read side of the vulnerable register (重点人群).

Details are visible only to community staff whose jurisdiction contains the resident, and to
the resident's paired helper (`rules_resources.resident_filter`); not even a street leader or
the global administrator reads names through here. Everybody else gets aggregates:
`reach_summary` counts, without names, for the leader dashboard. Lists mask phone numbers;
the detail page of an allowed viewer shows them in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from renzhi.core.privacy import mask_phone
from renzhi.emergency import rules_resources as rules
from renzhi.emergency.models import CheckIn, CheckInOutcome, VulnerableResident

__all__ = [
    "REACHED",
    "ChecklistRow",
    "active_incident_covering",
    "check_interval",
    "check_interval_for_code",
    "checklist",
    "incident_residents",
    "masked_phone",
    "reach_summary",
    "visible_residents",
]

REACHED = (CheckInOutcome.SAFE, CheckInOutcome.NEEDS_HELP)
ACTIVE_INCIDENT = ("verified", "responding", "recovering")
DAILY = dt.timedelta(days=1)
WEEKLY = dt.timedelta(days=7)


@dataclass(frozen=True)
class ChecklistRow:
    resident: VulnerableResident
    last: CheckIn | None

    @property
    def reached(self) -> bool:
        return self.last is not None and self.last.outcome in REACHED


def visible_residents(user) -> QuerySet[VulnerableResident]:
    condition = rules.resident_filter(user)
    return VulnerableResident.objects.filter(condition).select_related("place", "helper")


def masked_phone(phone: str) -> str:
    return mask_phone(phone)


def incident_residents(incident) -> QuerySet[VulnerableResident]:
    """Active residents of the incident's affected places (its own place when none listed)."""
    codes = list(incident.places.values_list("code", flat=True)) or [incident.place.code]
    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(place_code__startswith=code)
    return VulnerableResident.objects.filter(condition, active=True)


def reach_summary(incident) -> tuple[int, int]:
    """(residents reached in this incident, residents in its area): reached means the latest
    check-in of the incident found them, safe or needing help."""
    residents = incident_residents(incident)
    total = residents.count()
    latest = _latest_checkins(incident, residents.values_list("pk", flat=True))
    reached = sum(1 for c in latest.values() if c.outcome in REACHED)
    return reached, total


def checklist(user, incident) -> list[ChecklistRow]:
    """The incident's residents that `user` may see, with their latest check-in of it;
    not reached first."""
    residents = list(
        incident_residents(incident)
        .filter(rules.resident_filter(user))
        .select_related("place", "helper")
    )
    latest = _latest_checkins(incident, [r.pk for r in residents])
    rows = [ChecklistRow(r, latest.get(r.pk)) for r in residents]
    return sorted(rows, key=lambda row: (row.reached, row.resident.place_code, row.resident.name))


def active_incident_covering(place_code: str):
    """The most recent active incident whose area contains the place, or None."""
    from renzhi.emergency.models import Incident

    candidates = Incident.objects.filter(status__in=ACTIVE_INCIDENT).prefetch_related("places")
    for incident in candidates.select_related("place").order_by("-started_at"):
        codes = [p.code for p in incident.places.all()] or [incident.place.code]
        if any(place_code.startswith(c) for c in codes):
            return incident
    return None


def check_interval(resident: VulnerableResident) -> dt.timedelta:
    return check_interval_for_code(resident.place_code)


def check_interval_for_code(place_code: str) -> dt.timedelta:
    """Daily while an incident is active around the place, weekly otherwise."""
    return DAILY if active_incident_covering(place_code) is not None else WEEKLY


def _latest_checkins(incident, resident_ids) -> dict[int, CheckIn]:
    latest: dict[int, CheckIn] = {}
    for c in CheckIn.objects.filter(incident=incident, resident_id__in=list(resident_ids)).order_by(
        "at", "id"
    ):
        latest[c.resident_id] = c
    return latest


def overdue(now: dt.datetime | None = None) -> QuerySet[VulnerableResident]:
    now = now or timezone.now()
    return VulnerableResident.objects.filter(active=True, next_check_due__lt=now)
