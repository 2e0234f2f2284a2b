"""The leader dashboard (领导驾驶舱): active incidents, tasks overdue, reserve coverage in days
of supply per community, people available now, vulnerable residents not yet reached.

The last three come from the resources side (`reserves.coverage_by_community`,
`mobilisation.find_candidates`, `vulnerable.reach_summary`); while a function is missing the
figure is shown as unknown rather than as a wrong zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from renzhi.core import scope
from renzhi.core.models import Place, PlaceLevel, Role, User
from renzhi.emergency.models import OPEN_TASK_STATUSES, Incident, IncidentStatus, Task
from renzhi.emergency.queries_incidents import incidents_for, tasks_for

DAYS_SHORT = 3.0  # coverage below this many days is flagged


@dataclass
class IncidentRow:
    incident: Incident
    level: int | None
    open_tasks: int
    overdue_tasks: int
    reached: int | None
    vulnerable: int | None

    @property
    def not_reached(self) -> int | None:
        if self.reached is None or self.vulnerable is None:
            return None
        return self.vulnerable - self.reached


@dataclass
class CoverageRow:
    place: Place
    days: float | None

    @property
    def short(self) -> bool:
        return self.days is not None and self.days < DAYS_SHORT


@dataclass
class Figures:
    incidents: list[IncidentRow] = field(default_factory=list)
    overdue: list[Task] = field(default_factory=list)
    overdue_count: int = 0
    coverage: list[CoverageRow] = field(default_factory=list)
    people_available: int | None = None
    not_reached: int | None = None

    def as_json(self) -> dict:
        return {
            "active_incidents": [
                {
                    "id": r.incident.pk,
                    "title": r.incident.title,
                    "status": r.incident.status,
                    "level": r.level,
                    "open_tasks": r.open_tasks,
                    "overdue_tasks": r.overdue_tasks,
                    "vulnerable_reached": r.reached,
                    "vulnerable_total": r.vulnerable,
                }
                for r in self.incidents
            ],
            "tasks_overdue": self.overdue_count,
            "coverage_days": {c.place.code: c.days for c in self.coverage},
            "people_available": self.people_available,
            "vulnerable_not_reached": self.not_reached,
        }


def figures_for(user: User) -> Figures:
    now = timezone.now()
    figures = Figures()
    active = list(
        incidents_for(user)
        .exclude(status=IncidentStatus.CLOSED)
        .prefetch_related("activations")
        .order_by("severity", "-started_at")[:50]
    )
    not_reached_total: int | None = 0
    for incident in active:
        open_tasks = Task.objects.filter(incident=incident, status__in=OPEN_TASK_STATUSES)
        reach = _reach(incident)
        current = next((a for a in incident.activations.all() if a.ended_at is None), None)
        row = IncidentRow(
            incident,
            current.level if current else None,
            open_tasks.count(),
            open_tasks.filter(deadline__lt=now).count(),
            reach[0] if reach else None,
            reach[1] if reach else None,
        )
        figures.incidents.append(row)
        if row.not_reached is None:
            not_reached_total = None
        elif not_reached_total is not None:
            not_reached_total += row.not_reached
    figures.not_reached = not_reached_total if active else 0
    overdue = tasks_for(user).filter(status__in=OPEN_TASK_STATUSES, deadline__lt=now)
    figures.overdue_count = overdue.count()
    figures.overdue = list(overdue.order_by("deadline")[:20])
    communities = _communities(user)
    coverage = _coverage([c.code for c in communities])
    figures.coverage = [
        CoverageRow(c, coverage.get(c.code) if coverage else None) for c in communities
    ]
    figures.people_available = _people_available(user, now)
    return figures


def _leader_codes(user: User) -> list[str] | None:
    """The leader's jurisdictions; None for the global administrator (everything)."""
    if scope.is_global_admin(user):
        return None
    return scope.jurisdiction_codes(user, roles_allowed={Role.LEADER}) or []


def _communities(user: User) -> list[Place]:
    codes = _leader_codes(user)
    qs = Place.objects.filter(level=PlaceLevel.COMMUNITY)
    if codes is None:
        return list(qs.order_by("code")[:200])
    if not codes:
        return []
    from django.db.models import Q

    condition = Q(pk__in=[])
    for code in codes:
        condition |= Q(code__startswith=code)
    return list(qs.filter(condition).order_by("code")[:200])


def _coverage(codes: list[str]) -> dict[str, float] | None:
    try:
        from renzhi.emergency.reserves import coverage_by_community
    except ImportError:
        return None
    return coverage_by_community(codes)


def _people_available(user: User, now) -> int | None:
    try:
        from renzhi.emergency.mobilisation import find_candidates
    except ImportError:
        return None
    codes = _leader_codes(user)
    places = (
        list(Place.objects.filter(level=PlaceLevel.DISTRICT))
        if codes is None
        else list(Place.objects.filter(code__in=codes))
    )
    seen: set[int] = set()
    for place in places:
        for candidate in find_candidates("", place, now, 100000):
            profile_place = getattr(candidate.profile, "place", None)
            if profile_place is None or profile_place.code.startswith(place.code):
                seen.add(candidate.user.pk)
    return len(seen)


def _reach(incident: Incident) -> tuple[int, int] | None:
    try:
        from renzhi.emergency.vulnerable import reach_summary
    except ImportError:
        return None
    reached, total = reach_summary(incident)
    return int(reached), int(total)
