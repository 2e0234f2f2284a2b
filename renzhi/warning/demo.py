"""Demo data of the warning app, loaded by `manage.py demo_city` after the appeals.

Detector settings, the series counted from the demo appeals, one detection pass over the whole
period (so the injected outbreaks show up as signals), and warnings of every colour made from
them through the real workflow (drafted by community staff, approved by the street or district
leader, published; some cancelled, one updated) plus a hand-made rainstorm warning.

`load(city, report, say)` is idempotent: settings are matched by (category, method), demo
warnings by their `external_identifier` "demo:<key>", and the detection pass only refreshes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils import timezone, translation

from renzhi.appeals.models import Category
from renzhi.core.models import AuditEvent, Membership, Place, Role, User
from renzhi.warning import actions, detection, series
from renzhi.warning.actions import WarningInput
from renzhi.warning.models import DetectorConfig, Level, Method, Signal, Warning

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City

EARS = {"alpha": 0.001, "min_sigma": 0.5}
# (category code or None, method, parameters, minimum count, severity)
CONFIGS = [
    (None, Method.EARS_C2, EARS, 4, Level.IV),
    ("0101", Method.EARS_C2, EARS, 3, Level.III),
    ("0102", Method.EARS_C2, EARS, 3, Level.III),
    ("0103", Method.EARS_C2, EARS, 3, Level.III),
    ("0201", Method.EARS_C2, EARS, 3, Level.IV),
    ("0205", Method.EARS_C2, EARS, 3, Level.IV),
    ("0903", Method.EARS_C2, EARS, 3, Level.II),
    ("0903", Method.EARS_C3, EARS, 3, Level.II),
]
# What the demo does with the n-th outbreak's warning: (level, then).
PLAN = [
    (Level.IV, "cancel"),
    (Level.III, "update"),
    (Level.II, "keep"),
    (Level.I, "cancel"),
    (Level.III, "cancel"),
    (Level.IV, "keep"),
]


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    started = time.perf_counter()
    configs = _configs()
    series.refresh(say)
    outbreaks = _outbreaks(report)
    last = timezone.localdate()
    appeals_report = getattr(report, "appeals", None)
    if appeals_report is not None and appeals_report.last_day:
        last = appeals_report.last_day
    first = (
        appeals_report.first_day
        if appeals_report is not None and appeals_report.first_day
        else last - dt.timedelta(days=365)
    )
    since = first + dt.timedelta(days=14)  # EARS C3 needs 7 + 2 + 2 days of history
    if since <= last:
        detection.run(last, since=since, progress=None)
    signals = Signal.objects.count()
    with translation.override("zh-hans"):
        created = _warnings(outbreaks)
    say(
        f"warnings: {configs} detector settings, {signals} signals, {created} demo warnings "
        f"created ({time.perf_counter() - started:.1f}s)"
    )
    report.created["warnings"] = created


def _configs() -> int:
    created = 0
    cats = {c.code: c for c in Category.objects.all()}
    for code, method, params, min_count, severity in CONFIGS:
        category = cats.get(code) if code else None
        if code and category is None:
            continue
        _config, made = DetectorConfig.objects.get_or_create(
            category=category,
            method=method,
            defaults={"parameters": params, "min_count": min_count, "severity": severity},
        )
        created += made
    return created


def _outbreaks(report: BuildReport) -> list[dict]:
    appeals_report = getattr(report, "appeals", None)
    if appeals_report is not None and appeals_report.outbreaks:
        return [o.as_dict() for o in appeals_report.outbreaks]
    event = AuditEvent.objects.filter(verb="demo.create_appeals").order_by("-seq").first()
    return list((event.after or {}).get("outbreaks", [])) if event else []


def _warnings(outbreaks: list[dict]) -> int:
    created = 0
    district_leader = _user(Role.LEADER, level="district")
    for n, outbreak in enumerate(outbreaks[: len(PLAN)]):
        key = f"demo:outbreak:{outbreak['community']}:{outbreak['category']}:{outbreak['start']}"
        if Warning.objects.filter(external_identifier=key).exists():
            continue
        community = Place.objects.filter(code=outbreak["community"]).first()
        staff = User.objects.filter(username=f"staff_{outbreak['community']}").first()
        if community is None or staff is None or district_leader is None:
            continue
        street_leader = _user(Role.LEADER, place=community.parent)
        level, then = PLAN[n]
        start = dt.date.fromisoformat(outbreak["start"])
        signal = (
            Signal.objects.filter(
                series__place=community,
                series__category__code=outbreak["category"],
                day__gte=start,
                day__lte=start + dt.timedelta(days=outbreak["days"]),
                status="new",
            )
            .order_by("day")
            .first()
        )
        if signal is not None:
            warning = actions.propose_from_signal(staff, signal.pk)
        else:
            warning = actions.create_warning(
                staff, WarningInput(level=level, headline=f"{community.name}诉求异常")
            )
        data = WarningInput(
            level=level,
            area_codes=[community.code],
            expires_at=timezone.now() + dt.timedelta(days=3),
            headline_en=f"Unusual rise in appeals in {community.code}",
            instructions=warning.instructions or "请关注社区通知。",
        )
        actions.edit_warning(staff, warning.pk, data)
        Warning.objects.filter(pk=warning.pk).update(external_identifier=key)
        approver = district_leader if level <= Level.II else (street_leader or district_leader)
        _publish(staff, approver, warning.pk)
        if then == "update":
            actions.update(
                approver,
                warning.pk,
                WarningInput(description=warning.description + "\n抢修队伍已到场，预计今晚恢复。"),
                note="抢修进展",
            )
        elif then == "cancel":
            actions.cancel(approver, warning.pk, "情况已恢复正常")
        created += 1
    created += _rainstorm(district_leader)
    return created


def _rainstorm(district_leader: User | None) -> int:
    """A hand-made warning like a weather bureau's: red, for the first street's communities."""
    key = "demo:rainstorm"
    if Warning.objects.filter(external_identifier=key).exists() or district_leader is None:
        return 0
    street = Place.objects.filter(level="street").order_by("code").first()
    dispatcher = _user(Role.DISPATCHER, place=street)
    if street is None or dispatcher is None:
        return 0
    communities = list(Place.objects.filter(parent=street, level="community"))
    warning = actions.create_warning(
        dispatcher,
        WarningInput(
            level=Level.I,
            headline="暴雨红色预警：3小时内降雨量将达100毫米以上",
            headline_en="Red rainstorm warning: over 100 mm of rain within 3 hours",
            event="暴雨",
            cap_category="Met",
            description="区气象台发布暴雨红色预警，低洼地段和地下空间有积水风险。",
            instructions="请远离低洼地段和地下车库，不要涉水出行，关注社区通知。",
            area_codes=[c.code for c in communities],
            expires_at=timezone.now() + dt.timedelta(hours=12),
        ),
        source="区气象台",
    )
    Warning.objects.filter(pk=warning.pk).update(external_identifier=key)
    _publish(dispatcher, district_leader, warning.pk)
    return 1


def _publish(author: User, approver: User, warning_id: int) -> None:
    actions.submit(author, warning_id)
    actions.approve(approver, warning_id)
    actions.publish(author, warning_id)


def _user(role: str, place: Place | None = None, level: str | None = None) -> User | None:
    memberships = Membership.objects.filter(role=role).select_related("user", "place")
    if place is not None:
        memberships = memberships.filter(place=place)
    if level is not None:
        memberships = memberships.filter(place__level=level)
    m = memberships.order_by("id").first()
    return m.user if m else None
