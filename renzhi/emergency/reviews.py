"""Read side of the after-action review (复盘): the timeline reconstructed from the record and
the measured figures. Nothing here is typed in by hand — it is all read back from warnings,
activations, tasks, the stock ledger, call-ups, check-ins, shelters and appeals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.emergency.models import (
    ROMAN,
    Incident,
    IncidentLog,
    ShelterStay,
    Task,
    TaskStatus,
)


@dataclass(frozen=True)
class Moment:
    at: dt.datetime
    source: str  # warning, incident, activation, task, stock, callup, appeal, shelter, checkin
    text: str


def timeline(incident: Incident) -> list[Moment]:
    """Every recorded step of the incident, oldest first."""
    out: list[Moment] = []
    for w in incident.warnings.all():
        at = w.published_at or w.approved_at or w.created_at
        out.append(
            Moment(at, "warning", _("Warning %(r)s: %(h)s") % {"r": w.roman, "h": w.headline})
        )
    out.append(
        Moment(incident.started_at, "incident", _("Incident began: %(t)s") % {"t": incident.title})
    )
    out.append(Moment(incident.created_at, "incident", _("Incident reported.")))
    for a in incident.activations.order_by("started_at"):
        out.append(
            Moment(
                a.started_at,
                "activation",
                _("Level %(r)s response started (plan version %(v)d).")
                % {"r": a.roman, "v": a.version.number},
            )
        )
        if a.ended_at:
            out.append(
                Moment(a.ended_at, "activation", _("Level %(r)s response ended.") % {"r": a.roman})
            )
    for t in incident.tasks.select_related("assignee", "unit").order_by("created_at"):
        who = t.assignee.display_name if t.assignee else (t.unit.name if t.unit else "—")
        out.append(
            Moment(
                t.created_at,
                "task",
                _("Task assigned to %(who)s: %(t)s") % {"who": who, "t": t.title},
            )
        )
        if t.done_at:
            out.append(Moment(t.done_at, "task", _("Task done: %(t)s") % {"t": t.title}))
    for m in _stock_moves(incident):
        out.append(
            Moment(
                m.at,
                "stock",
                _("%(kind)s %(qty)d %(item)s at %(depot)s")
                % {
                    "kind": m.get_kind_display(),
                    "qty": abs(m.quantity),
                    "item": m.item.name,
                    "depot": m.depot.name,
                },
            )
        )
    for c in _callups(incident):
        out.append(
            Moment(
                c.sent_at,
                "callup",
                _("Call-up sent to %(who)s") % {"who": c.user.display_name or c.user.username},
            )
        )
        if c.checked_in_at:
            out.append(
                Moment(
                    c.checked_in_at,
                    "callup",
                    _("%(who)s on duty") % {"who": c.user.display_name or c.user.username},
                )
            )
    for ap in incident.appeals.all():
        out.append(
            Moment(
                ap.received_at,
                "appeal",
                _("Appeal %(no)s: %(t)s")
                % {"no": ap.tracking_no, "t": ap.title or ap.description[:40]},
            )
        )
    for s in ShelterStay.objects.filter(incident=incident).select_related("shelter"):
        out.append(
            Moment(
                s.checked_in_at,
                "shelter",
                _("%(n)d people checked in at %(s)s") % {"n": s.people, "s": s.shelter.name},
            )
        )
    reached = _checkins(incident)
    if reached:
        first, _last, count = reached
        out.append(
            Moment(
                first, "checkin", _("Vulnerable residents checked: %(n)d check-ins") % {"n": count}
            )
        )
    if incident.ended_at:
        out.append(Moment(incident.ended_at, "incident", _("Incident closed.")))
    out.sort(key=lambda m: m.at)
    return out


def figures(incident: Incident, now: dt.datetime | None = None) -> dict:
    """The measured figures of the review (plain JSON, stored on the review when written)."""
    now = now or timezone.now()
    first = incident.activations.order_by("started_at").first()
    minutes = None
    if first is not None:
        minutes = max(0, round((first.started_at - incident.started_at).total_seconds() / 60))
    tasks = Task.objects.filter(incident=incident).exclude(status=TaskStatus.CANCELLED)
    total = tasks.count()
    done = tasks.filter(status=TaskStatus.DONE).count()
    on_time = tasks.filter(status=TaskStatus.DONE, done_at__lte=F("deadline")).count()
    reached, vulnerable_total = _reach(incident)
    callups = _callups(incident)
    on_duty = sum(1 for c in callups if c.checked_in_at)
    return {
        "minutes_to_activate": minutes,
        "highest_level": ROMAN.get(
            min((a.level for a in incident.activations.all()), default=0), ""
        ),
        "tasks_total": total,
        "tasks_done": done,
        "tasks_on_time": on_time,
        "task_completion": round(done / total, 3) if total else None,
        "shortage_days": shortage_days(incident, now),
        "people_called": len(callups),
        "people_on_duty": on_duty,
        "vulnerable_reached": reached,
        "vulnerable_total": vulnerable_total,
        "sheltered": sum(s.people for s in ShelterStay.objects.filter(incident=incident)),
        "appeals": incident.appeals.count(),
        "duration_hours": round(
            ((incident.ended_at or now) - incident.started_at).total_seconds() / 3600, 1
        ),
    }


def shortage_days(incident: Incident, now: dt.datetime | None = None) -> int:
    """Days of the incident on which a supply request for it stood open or only partly
    fulfilled at the end of the day (the community asked and did not get it)."""
    try:
        from renzhi.emergency.models import SupplyRequest
    except ImportError:
        return 0
    end = incident.ended_at or now or timezone.now()
    requests = list(SupplyRequest.objects.filter(incident=incident).prefetch_related("lines"))
    if not requests:
        return 0
    days = 0
    local = timezone.get_current_timezone()
    day = timezone.localtime(incident.started_at).date()
    while day <= timezone.localtime(end).date():
        day_end = dt.datetime.combine(day, dt.time.max, tzinfo=local)
        for r in requests:
            if r.requested_at > day_end:
                continue
            fulfilled_at = r.received_at or r.issued_at
            short = any(line.issued < line.requested for line in r.lines.all())
            if fulfilled_at is None or fulfilled_at > day_end or short:
                days += 1
                break
        day += dt.timedelta(days=1)
    return days


def log_of(incident: Incident, limit: int = 200):
    return IncidentLog.objects.filter(incident=incident).select_related("author")[:limit]


def _stock_moves(incident: Incident) -> list:
    try:
        from renzhi.emergency.models import StockMove
    except ImportError:
        return []
    return list(
        StockMove.objects.filter(incident=incident)
        .filter(~Q(kind="transfer_in"))
        .select_related("item", "depot")
        .order_by("at")[:500]
    )


def _callups(incident: Incident) -> list:
    try:
        from renzhi.emergency.models import CallUp
    except ImportError:
        return []
    return list(CallUp.objects.filter(incident=incident).select_related("user"))


def _checkins(incident: Incident):
    try:
        from renzhi.emergency.models import CheckIn
    except ImportError:
        return None
    qs = CheckIn.objects.filter(incident=incident).order_by("at")
    first, last = qs.first(), qs.last()
    if first is None or last is None:
        return None
    return first.at, last.at, qs.count()


def _reach(incident: Incident) -> tuple[int, int]:
    try:
        from renzhi.emergency.vulnerable import reach_summary
    except ImportError:
        return 0, 0
    reached, total = reach_summary(incident)
    return int(reached), int(total)
