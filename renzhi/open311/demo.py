"""Demo data of the open311 app, loaded by `manage.py demo_city` after the appeals.

A demo partner key with a FIXED raw value (`DEMO_KEY`, documented in docs/open311.md for
`make run` only — never use a known key outside the demo), the questions 楼栋号 and 是否影响通行
on a few property categories, a few appeals filed through Open311 by the demo partner, and the
services published on Open311: the categories about shared public space (PUBLIC_GROUPS), not
those about a person's job, health, safety or welfare.
Idempotent: every row is matched by a stable key, so a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from renzhi.appeals.models import Category
from renzhi.core.models import PlaceLevel, Role, User
from renzhi.core.workdays import LOCAL_TZ
from renzhi.open311 import actions, keys
from renzhi.open311.models import PartnerKey, PartnerRequest, ServiceAttribute

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City

DEMO_KEY = "o311_demo-only-renzhi-partner-key"
DEMO_PARTNER = "演示伙伴：邻区市民App"
BLOCKING_VALUES = [{"key": "1", "name": "是"}, {"key": "0", "name": "否"}]
# category code → [(code, question, datatype, required, values)]
QUESTIONS: dict[str, list[tuple[str, str, str, bool, list[dict[str, str]]]]] = {
    "0801": [
        ("building", "楼栋号", "string", True, []),
        ("blocking", "是否影响通行", "singlevaluelist", False, BLOCKING_VALUES),
    ],
    "0802": [("building", "楼栋号", "string", False, [])],
    "0803": [("blocking", "是否影响通行", "singlevaluelist", True, BLOCKING_VALUES)],
}
# 城乡建设/市政设施, 环境保护/卫生, 交通运输, 物业管理: things anyone may see from the street.
PUBLIC_GROUPS = ("01", "02", "03", "08")
DEMO_REQUESTS = [
    ("0801", "2号楼东侧电梯门关不上，老人上下楼困难", {"building": "2号楼", "blocking": "1"}),
    ("0802", "楼道里堆放了很多纸箱，存在消防隐患", {"building": "5号楼"}),
    ("0803", "小区门口有车辆长期占用消防通道", {"blocking": "1"}),
]


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    admin = _global_admin()
    if admin is None:
        say("open311: no global administrator, skipped")
        return
    _publish_services()
    created_attributes = _load_questions(admin)
    key, created_key = _demo_key(admin)
    filed = _load_requests(city, key, _demo_moment(report))
    report.created["open311_attributes"] += created_attributes
    report.created["open311_keys"] += int(created_key)
    report.created["open311_requests"] += filed
    say(
        f"open311: {created_attributes} attributes, {int(created_key)} partner key, "
        f"{filed} requests created"
    )


def _global_admin() -> User | None:
    return (
        User.objects.filter(memberships__role=Role.ADMIN, memberships__place__isnull=True)
        .order_by("pk")
        .first()
    )


def _publish_services() -> int:
    """Mark the demo's public-space categories as Open311 services (idempotent)."""
    published = Category.objects.none()
    for group in PUBLIC_GROUPS:
        published |= Category.objects.filter(code__startswith=group)
    return published.filter(open311_public=False).update(open311_public=True)


def _load_questions(admin: User) -> int:
    created = 0
    categories = Category.objects.in_bulk(list(QUESTIONS), field_name="code")
    for code, questions in QUESTIONS.items():
        category = categories.get(code)
        if category is None:
            continue
        existing = set(
            ServiceAttribute.objects.filter(category=category).values_list("code", flat=True)
        )
        for attr_code, question, datatype, required, values in questions:
            if attr_code in existing:
                continue
            actions.save_attribute(
                admin,
                category,
                actions.AttributeFields(
                    code=attr_code,
                    description=question,
                    datatype=datatype,
                    required=required,
                    values=values,
                ),
            )
            created += 1
    return created


def _demo_key(admin: User) -> tuple[PartnerKey, bool]:
    existing = PartnerKey.objects.filter(key_hash=keys.hash_key(DEMO_KEY)).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        key, _raw = actions.issue_key(admin, name=DEMO_PARTNER, rate_limit=120)
        # Give the demo key its documented raw value (the random one is thrown away).
        key.key_hash, key.prefix = keys.hash_key(DEMO_KEY), DEMO_KEY[:10]
        key.save(update_fields=["key_hash", "prefix"])
    return key, True


def _demo_moment(report: BuildReport) -> dt.datetime | None:
    """The requests arrive on the last day of the demo appeals (which may lie in the past),
    in the morning, so the partner's cases sit with the rest of the demo history."""
    last_day = report.appeals.last_day if report.appeals is not None else None
    if last_day is None:
        return None
    moment = dt.datetime.combine(last_day, dt.time(9, 30), tzinfo=LOCAL_TZ)
    return min(moment, timezone.now())


def _load_requests(city: City, key: PartnerKey, received_at: dt.datetime | None) -> int:
    if PartnerRequest.objects.filter(key=key).exists():
        return 0
    rng = random.Random(f"{city.seed}:open311")
    grids = sorted(city.level(PlaceLevel.GRID), key=lambda p: p.code)
    if not grids:
        return 0
    filed = 0
    categories = Category.objects.in_bulk([c for c, _d, _a in DEMO_REQUESTS], field_name="code")
    for code, description, answers in DEMO_REQUESTS:
        category = categories.get(code)
        if category is None:
            continue
        point = rng.choice(grids).geometry.representative_point()
        attributes = {a.code: a for a in ServiceAttribute.objects.filter(category=category)}
        lines = [
            f"{attributes[c].description}：{attributes[c].value_names().get(v, v)}"
            for c, v in answers.items()
            if c in attributes
        ]
        actions.file_request(
            key,
            actions.Filing(
                category=category,
                description=description,
                attributes={c: v for c, v in answers.items() if c in attributes},
                attribute_lines=lines,
                lat=round(point.y, 6),
                lng=round(point.x, 6),
                received_at=received_at,
            ),
        )
        filed += 1
    return filed
