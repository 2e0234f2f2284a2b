"""Emergency demo data (incidents), called by `renzhi.emergency.demo.load` after the resources
side (items, depots, people). Idempotent: plans, shelters and incidents are looked up by their
natural keys first, so a second run creates nothing.

What it adds: plans for four incident types in every street (written by the street leader
through the actions, so they are audited like real ones), one shelter per community, one past
waterlogging incident that went through level III, was closed, reviewed, and whose review
produced version 2 of the street's flood plan — and one live heat-wave incident at level IV so
the leader dashboard has something to show.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import F
from django.utils import timezone

from renzhi.core.models import Place, PlaceLevel, Role, Skill, User
from renzhi.emergency.actions.plans import ActionSpec, LevelSpec

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City

PAST_TITLE = "暴雨致社区低洼处内涝（演示）"
LIVE_TITLE = "持续高温天气（演示）"
SKILLS = {"rescue": "水上救援", "first_aid": "急救", "driver": "驾驶"}
# (type, title, actions per level as (title, role, hours), reserve codes wanted, skills)
PLAN_TYPES: list[tuple[str, str, list[tuple[str, str, int]], list[str], list[str]]] = [
    (
        "flood",
        "防汛排涝应急预案",
        [
            ("巡查低洼点位、地下车库和地下室", Role.GRID_WORKER, 2),
            ("通知低洼处居民、转移独居老人", Role.COMMUNITY_STAFF, 1),
            ("抽排积水、设置警示和围挡", Role.UNIT_HANDLER, 3),
            ("联系结对帮扶对象并确认安全", Role.SOCIAL_WORKER, 4),
        ],
        ["sandbag", "water", "pump", "raincoat"],
        ["rescue", "driver"],
    ),
    (
        "fire",
        "消防安全应急预案",
        [
            ("组织楼内居民疏散到安全区域", Role.COMMUNITY_STAFF, 1),
            ("清理消防通道、引导消防车", Role.GRID_WORKER, 1),
            ("切断燃气和电源、配合处置", Role.UNIT_HANDLER, 1),
        ],
        ["extinguisher", "mask"],
        ["first_aid"],
    ),
    (
        "public_health",
        "突发公共卫生事件应急预案",
        [
            ("核对重点人群名单、逐户联系", Role.COMMUNITY_STAFF, 4),
            ("设立物资分发点、登记发放", Role.VOLUNTEER, 6),
            ("网格内逐户排查、上报异常", Role.GRID_WORKER, 6),
            ("为慢病老人协调配药", Role.SOCIAL_WORKER, 12),
        ],
        ["mask", "disinfectant", "protective_suit", "rice", "water"],
        ["first_aid", "driver"],
    ),
    (
        "heat_cold",
        "高温寒潮应急预案",
        [
            ("开放纳凉点/取暖点", Role.COMMUNITY_STAFF, 2),
            ("上门探访独居老人", Role.VOLUNTEER, 6),
            ("检查供水供电设施", Role.UNIT_HANDLER, 6),
        ],
        ["water", "medicine_kit"],
        ["first_aid"],
    ),
]
FACILITIES = ["beds", "water", "toilets", "power", "medical", "kitchen", "accessible", "heating"]


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    rng = random.Random(f"{city.seed}:emergency-incidents")
    for code, name in SKILLS.items():
        Skill.objects.get_or_create(code=code, defaults={"name": name})
    streets = list(Place.objects.filter(level=PlaceLevel.STREET).order_by("code"))
    leaders = _holders(Role.LEADER)
    plans_made = 0
    for street in streets:
        leader = leaders.get(street.code)
        if leader is None:
            continue
        for kind, title, actions, wanted, skills in PLAN_TYPES:
            plans_made += _plan(
                leader, street, kind, f"{street.name}{title}", actions, wanted, skills
            )
    report.created["emergency_plans"] += plans_made
    shelters_made = _shelters(leaders, rng)
    report.created["shelters"] += shelters_made
    incidents_made = 0
    if streets and streets[0].code in leaders:
        incidents_made += _past_incident(streets[0], leaders[streets[0].code])
        incidents_made += _live_incident(streets[0], leaders[streets[0].code])
    report.created["incidents"] += incidents_made
    say(
        f"emergency plans: {plans_made}, shelters: {shelters_made}, incidents: {incidents_made} "
        "created"
    )


def _holders(role: str) -> dict[str, User]:
    from renzhi.core.models import Membership

    out: dict[str, User] = {}
    for m in (
        Membership.objects.filter(role=role, place__isnull=False)
        .select_related("user", "place")
        .order_by("user__username")
    ):
        out.setdefault(m.place.code, m.user)  # type: ignore[union-attr]
    return out


def _plan(leader, street, kind, title, actions, wanted, skills) -> int:
    from renzhi.emergency.actions import plans
    from renzhi.emergency.models import Plan

    if Plan.objects.filter(place=street, kind=kind).exists():
        return 0
    items = _item_codes()
    reserves = [c for c in wanted if c in items] if items is not None else []
    specs = []
    for level in (4, 3, 2, 1):
        scale = 5 - level  # IV → 1 … I → 4
        chosen = actions[: max(2, min(len(actions), scale + 1))]
        specs.append(
            LevelSpec(
                level=level,
                summary=_summary(level),
                actions=[ActionSpec(t, r, max(1, h - (scale - 1) // 2)) for t, r, h in chosen],
                reserves=[(c, Decimal(20 * scale)) for c in reserves],
                people=[(s, 2 * scale) for s in skills] if level <= 3 else [],
            )
        )
    plans.create_plan(leader, place=street, kind=kind, title=title, levels=specs)
    return 1


def _summary(level: int) -> str:
    return {
        4: "影响局部、可由社区自行处置时启动。",
        3: "影响多个小区或持续6小时以上时启动。",
        2: "影响多个社区、需街道统一调度时启动。",
        1: "影响全街道或造成人员伤亡时启动。",
    }[level]


def _item_codes() -> set[str] | None:
    try:
        from renzhi.emergency.models import Item
    except ImportError:
        return None
    return set(Item.objects.values_list("code", flat=True))


def _shelters(leaders: dict[str, User], rng: random.Random) -> int:
    from renzhi.emergency.actions import shelters
    from renzhi.emergency.models import Shelter

    made = 0
    for community in Place.objects.filter(level=PlaceLevel.COMMUNITY).order_by("code"):
        leader = leaders.get(community.code[:9])
        if leader is None or Shelter.objects.filter(place=community).exists():
            continue
        shelters.create_shelter(
            leader,
            name=f"{community.name}应急避难场所",
            place=community,
            capacity=rng.choice([120, 200, 300, 400]),
            address=f"{community.name}文体活动中心",
            facilities=sorted(rng.sample(FACILITIES, 4)),
            lat=community.centre_lat,
            lng=community.centre_lng,
        )
        made += 1
    return made


def _past_incident(street: Place, leader: User) -> int:
    """A closed waterlogging incident 40 days ago, reviewed, its review applied to the plan."""
    from renzhi.emergency.actions import incidents, plans, reviews, tasks
    from renzhi.emergency.models import (
        Activation,
        Incident,
        IncidentLog,
        Plan,
        Task,
        TaskReport,
    )

    if Incident.objects.filter(title=PAST_TITLE).exists():
        return 0
    community = Place.objects.filter(parent=street).order_by("code").first()
    if community is None or not Plan.objects.filter(place=street, kind="flood").exists():
        return 0
    now = timezone.now()
    incident = incidents.report(
        leader,
        title=PAST_TITLE,
        kind="flood",
        place=street,
        places=[community],
        severity=3,
        description="短时强降雨，社区低洼处积水约40厘米，地下车库进水。",
        started_at=now - dt.timedelta(minutes=38),
    )
    incidents.change_status(leader, incident, "verified")
    plans.activate(leader, incident, 3, note="积水持续上涨")
    for n, task in enumerate(Task.objects.filter(incident=incident).order_by("id")):
        if n == 0:
            continue  # one task left undone: the review shows it
        worker = task.assignee
        if worker is None and task.unit_id is not None:
            from renzhi.core.models import Membership

            m = Membership.objects.filter(unit_id=task.unit_id).select_related("user").first()
            worker = m.user if m else None
        if worker is not None:
            tasks.complete(worker, task, note="已完成")
    plans.deactivate(leader, incident, note="积水已退")
    incidents.change_status(leader, incident, "closed")
    # Move the whole record 40 days back, then measure it in the review.
    back = dt.timedelta(days=40)
    Incident.objects.filter(pk=incident.pk).update(
        started_at=F("started_at") - back, ended_at=F("ended_at") - back
    )
    Activation.objects.filter(incident=incident).update(
        started_at=F("started_at") - back, ended_at=F("ended_at") - back
    )
    Task.objects.filter(incident=incident).update(
        created_at=F("created_at") - back,
        deadline=F("deadline") - back,
        done_at=F("done_at") - back,
    )
    TaskReport.objects.filter(task__incident=incident).update(at=F("at") - back)
    IncidentLog.objects.filter(incident=incident).update(at=F("at") - back)
    incident.refresh_from_db()
    plan = Plan.objects.get(place=street, kind="flood")
    review = reviews.write_review(
        leader,
        incident,
        summary="强降雨后38分钟启动三级响应，积水6小时内排除，无人员伤亡。",
        lessons="沙袋储备不足、抽排单位到场偏慢；独居老人名单未及时更新。",
        changes=[
            reviews.ChangeSpec(plan, 3, "add_action", "汛前预置移动抽水泵", Role.UNIT_HANDLER),
            reviews.ChangeSpec(plan, 3, "set_people", "rescue", quantity=6),
        ],
    )
    reviews.apply_changes(leader, review)
    return 1


def _live_incident(street: Place, leader: User) -> int:
    from renzhi.emergency.actions import incidents, plans
    from renzhi.emergency.models import Incident

    if Incident.objects.filter(title=LIVE_TITLE).exists():
        return 0
    incident = incidents.report(
        leader,
        title=LIVE_TITLE,
        kind="heat_cold",
        place=street,
        severity=4,
        description="连续三天最高气温超过37℃。",
        started_at=timezone.now() - dt.timedelta(hours=3),
    )
    plans.activate(leader, incident, 4)
    return 1
