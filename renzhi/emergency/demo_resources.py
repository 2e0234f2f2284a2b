"""Emergency demo data (resources), called by `renzhi.emergency.demo.load`. Idempotent.

Per street: a street warehouse and a partner warehouse; per community: a community store room.
Stock goes in through the ledger (receipts, then a few transfers and issues), so the ledger,
the shortage report and the expiry warnings have something true to show: some batches expire
within a week or a month, and some community depots sit below their minimum level. Then
helpers (volunteers drawn from each community's residents, the street volunteers and social
workers) with skills, insurance and weekly availability, one team per street, and a register
of vulnerable residents per community, paired with grid workers, some of them overdue for a
check-in. Everything is looked up before it is created, so a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from renzhi.core.models import (
    Membership,
    PersonSkill,
    Place,
    PlaceLevel,
    Role,
    Skill,
    SkillSource,
    User,
)
from renzhi.emergency.actions import reserves as stock
from renzhi.emergency.models import (
    Availability,
    Depot,
    DepotKind,
    Item,
    MinimumLevel,
    PersonKind,
    PersonProfile,
    Team,
    TeamMember,
    VulnerableResident,
)

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City

# code: (name, unit, category, shelf life days, one per household, daily need per person,
#        per-community stock, per-street stock)
ITEMS = {
    "water": ("瓶装饮用水(550ml)", "瓶", "water", 365, False, "2", 9000, 30000),
    "rice": ("大米(5kg)", "袋", "food", 300, False, "0.05", 300, 1200),
    "instant_noodles": ("方便面", "箱", "food", 180, False, "0.02", 120, 500),
    "mask": ("医用口罩", "个", "protective", 720, False, "0", 3000, 20000),
    "disinfectant": ("84消毒液", "瓶", "protective", 365, False, "0", 200, 800),
    "protective_suit": ("防护服", "套", "protective", 1095, False, "0", 60, 400),
    "medicine_kit": ("家庭常用药包", "包", "medical", 540, True, "0", 150, 600),
    "sandbag": ("沙袋", "个", "tools", None, False, "0", 400, 3000),
    "pump": ("移动排水泵", "台", "tools", None, False, "0", 2, 10),
    "raincoat": ("雨衣雨靴", "套", "protective", None, False, "0", 40, 200),
    "extinguisher": ("干粉灭火器", "具", "tools", 1825, False, "0", 30, 120),
    "blanket": ("棉被", "床", "shelter", None, False, "0", 80, 500),
    "tent": ("救灾帐篷", "顶", "shelter", None, False, "0", 0, 30),
}
SKILLS = {
    "first_aid": "急救",
    "rescue": "水上救援",
    "driver": "驾驶",
    "electrician": "电工",
    "nursing": "护理",
    "counselling": "心理疏导",
    "fire": "消防",
}
NEEDS_POOL = [
    "medicine",
    "mobility",
    "oxygen",
    "dialysis",
    "insulin",
    "hearing",
    "sight",
    "cognitive",
    "food",
]
CATEGORIES = [
    "elderly_alone",
    "disabled",
    "chronically_ill",
    "pregnant",
    "left_behind_child",
    "low_income",
]
VOLUNTEERS_PER_COMMUNITY = 6
REGISTER_PER_COMMUNITY = 10


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    rng = random.Random(f"{city.seed}:emergency-resources")
    today = timezone.localdate()
    with transaction.atomic():
        items = _items()
        skills = {
            code: Skill.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name in SKILLS.items()
        }
        made = _depots(items, rng, today)
        people = _people(city, skills, random.Random(f"{city.seed}:helpers"), today)
        registered = _register(random.Random(f"{city.seed}:register"))
    report.created["emergency_depots"] += made
    report.created["emergency_helpers"] += people
    report.created["vulnerable_residents"] += registered
    say(
        f"emergency reserves: {made} depots stocked, {people} helpers, "
        f"{registered} vulnerable residents"
    )


# --- Reserves ---------------------------------------------------------------------------------


def _items() -> dict[str, Item]:
    items = {}
    for code, (name, unit, category, life, once, daily, _c, _s) in ITEMS.items():
        items[code], _ = Item.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "category": category,
                "shelf_life_days": life,
                "one_per_household": once,
                "daily_per_person": Decimal(daily),
            },
        )
    return items


def _depots(items: dict[str, Item], rng: random.Random, today: dt.date) -> int:
    made = 0
    streets = list(Place.objects.filter(level=PlaceLevel.STREET).order_by("code"))
    for street in streets:
        warehouse, created = _depot(
            f"st-{street.code}",
            f"{street.name}应急物资仓库",
            DepotKind.STREET,
            street,
            "街道办事处后院",
        )
        if created:
            _stock(warehouse, items, rng, today, street_level=True)
            made += 1
        partner, created = _depot(
            f"pt-{street.code}",
            f"{street.name}协议储备点（联华超市）",
            DepotKind.PARTNER,
            street,
            "协议超市仓库",
        )
        if created:
            for code in ("water", "rice", "instant_noodles"):
                _receive(partner, items[code], ITEMS[code][7] // 2, today, rng, days=200)
            made += 1
        communities = Place.objects.filter(parent=street, level=PlaceLevel.COMMUNITY)
        for n, community in enumerate(communities.order_by("code")):
            depot, created = _depot(
                f"cm-{community.code}",
                f"{community.name}应急储备室",
                DepotKind.COMMUNITY,
                community,
                "社区居委会一层",
            )
            if not created:
                continue
            _stock(depot, items, rng, today, street_level=False, thin=n % 3 == 1)
            for code, share in (
                ("water", 1.0),
                ("mask", 1.0),
                ("medicine_kit", 1.0),
                ("sandbag", 1.0),
            ):
                MinimumLevel.objects.get_or_create(
                    depot=depot,
                    item=items[code],
                    defaults={"minimum": int(ITEMS[code][6] * share)},
                )
            # A routine transfer from the street and a few issues, for a lived-in ledger.
            stock.transfer(None, warehouse, depot, items["mask"], 500, reason="月度补充")
            stock.issue(None, depot, items["water"], rng.randint(50, 300), reason="社区活动用水")
            made += 1
    return made


def _depot(code: str, name: str, kind: str, place: Place, address: str):
    return Depot.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "kind": kind,
            "place": place,
            "address": address,
            "lat": place.centre_lat,
            "lng": place.centre_lng,
        },
    )


def _stock(
    depot: Depot,
    items: dict[str, Item],
    rng: random.Random,
    today: dt.date,
    *,
    street_level: bool,
    thin: bool = False,
) -> None:
    for code, spec in ITEMS.items():
        total = spec[7] if street_level else spec[6]
        if thin:
            total = total // 3  # below minimum: the shortage report has something to say
        if total <= 0:
            continue
        life = spec[3]
        if life is None:
            _receive(depot, items[code], total, today, rng, days=None)
            continue
        # Two batches: an older one (some expiring within a week or a month) and a fresh one.
        older = total // 3
        soon = rng.choice([5, 6, 18, 25, 60, 120])
        _receive(depot, items[code], older, today, rng, days=min(soon, life))
        _receive(depot, items[code], total - older, today, rng, days=life)


def _receive(
    depot: Depot, item: Item, quantity: int, today: dt.date, rng: random.Random, days: int | None
) -> None:
    if quantity <= 0:
        return
    expires = today + dt.timedelta(days=days) if days is not None else None
    batch = f"{item.code[:3].upper()}{(expires or today):%y%m%d}" if days else ""
    stock.receive(
        None, depot, item, quantity, batch_no=batch, expires_on=expires, reason="初始建账"
    )


# --- People -----------------------------------------------------------------------------------


def _people(city: City, skills: dict[str, Skill], rng: random.Random, today: dt.date) -> int:
    made = 0
    communities = list(Place.objects.filter(level=PlaceLevel.COMMUNITY).order_by("code"))
    for community in communities:
        rng = random.Random(f"{city.seed}:helpers:{community.code}")
        if PersonProfile.objects.filter(place=community, kind=PersonKind.VOLUNTEER).exists():
            continue
        residents = list(
            User.objects.filter(
                memberships__role=Role.RESIDENT, memberships__place=community
            ).order_by("id")[: VOLUNTEERS_PER_COMMUNITY * 4]
        )
        chosen = rng.sample(residents, min(VOLUNTEERS_PER_COMMUNITY, len(residents)))
        for user in chosen:
            if _profile(user, PersonKind.VOLUNTEER, community, skills, rng, today):
                Membership.objects.get_or_create(user=user, role=Role.VOLUNTEER, place=community)
                made += 1
        staff = User.objects.filter(
            memberships__role=Role.COMMUNITY_STAFF, memberships__place=community
        ).first()
        if staff is not None and _profile(
            staff, PersonKind.COMMUNITY_STAFF, community, skills, rng, today
        ):
            made += 1
    for street in Place.objects.filter(level=PlaceLevel.STREET).order_by("code"):
        first = Place.objects.filter(parent=street).order_by("code").first()
        if first is None:
            continue
        for user in User.objects.filter(
            memberships__place=street, memberships__role__in=[Role.VOLUNTEER, Role.SOCIAL_WORKER]
        ).distinct():
            kind = (
                PersonKind.SOCIAL_WORKER
                if user.memberships.filter(role=Role.SOCIAL_WORKER).exists()
                else PersonKind.VOLUNTEER
            )
            if _profile(user, kind, first, skills, rng, today):
                made += 1
        team, created = Team.objects.get_or_create(place=street, name=f"{street.name}应急突击队")
        if created:
            members = PersonProfile.objects.filter(
                place__code__startswith=street.code, kind=PersonKind.VOLUNTEER
            ).order_by("id")[:8]
            TeamMember.objects.bulk_create(
                [TeamMember(team=team, user_id=p.user_id) for p in members]
            )
            team.leader_id = members[0].user_id if members else None
            team.save(update_fields=["leader"])
    return made


def _profile(
    user: User,
    kind: str,
    place: Place,
    skills: dict[str, Skill],
    rng: random.Random,
    today: dt.date,
) -> bool:
    if PersonProfile.objects.filter(user=user).exists():
        return False
    social = kind == PersonKind.SOCIAL_WORKER
    profile = PersonProfile.objects.create(
        user=user,
        kind=kind,
        place=place,
        qualification_level=rng.choice(["assistant", "social_worker"]) if social else "",
        certificate_no=f"SW{rng.randint(2015, 2025)}{rng.randint(10000, 99999)}" if social else "",
        lat=(place.centre_lat or 39.9) + rng.uniform(-0.004, 0.004),
        lng=(place.centre_lng or 116.4) + rng.uniform(-0.004, 0.004),
        insured_until=today + dt.timedelta(days=rng.randint(30, 300))
        if rng.random() < 0.8
        else None,
        insurance_policy=f"YW{rng.randint(10**7, 10**8 - 1)}",
    )
    for code in rng.sample(sorted(skills), rng.randint(1, 3)):
        months = 24 if code in ("first_aid", "rescue") else None
        PersonSkill.objects.get_or_create(
            user=user,
            skill=skills[code],
            defaults={
                "source": SkillSource.CERTIFICATE,
                "certificate_no": f"C{rng.randint(10**6, 10**7 - 1)}",
                "valid_until": today + dt.timedelta(days=30 * months - rng.randint(0, 700))
                if months
                else None,
            },
        )
    evenings = rng.random() < 0.5
    Availability.objects.bulk_create(
        [
            Availability(
                profile=profile,
                weekday=day,
                starts=dt.time(18) if evenings and day < 5 else dt.time(8),
                ends=dt.time(22) if evenings and day < 5 else dt.time(20),
            )
            for day in range(7)
            if not evenings or day >= 5 or rng.random() < 0.8
        ]
    )
    return True


# --- The vulnerable register ------------------------------------------------------------------


def _register(rng: random.Random) -> int:
    from renzhi.demo.names import person_name

    now = timezone.now()
    made = 0
    for community in Place.objects.filter(level=PlaceLevel.COMMUNITY).order_by("code"):
        if VulnerableResident.objects.filter(place=community).exists():
            continue
        helpers = list(
            User.objects.filter(
                memberships__role__in=[Role.GRID_WORKER, Role.VOLUNTEER],
                memberships__place__code__startswith=community.code,
            )
            .distinct()
            .order_by("id")
        )
        staff = User.objects.filter(
            memberships__role=Role.COMMUNITY_STAFF, memberships__place=community
        ).first()
        rows = []
        for n in range(REGISTER_PER_COMMUNITY):
            categories = sorted(set(rng.sample(CATEGORIES, rng.choice([1, 1, 2]))))
            if n < 4:
                categories = sorted(
                    {"elderly_alone", *categories} - {"pregnant", "left_behind_child"}
                )
            due = now + dt.timedelta(hours=rng.randint(-60, 160))
            rows.append(
                VulnerableResident(
                    place=community,
                    place_code=community.code,
                    name=person_name(rng),
                    birth_year=rng.randint(1935, 1955)
                    if "elderly_alone" in categories
                    else rng.randint(1970, 2015),
                    phone=f"13{rng.randint(100000000, 999999999)}",
                    address=f"{rng.randint(1, 18)}号楼{rng.randint(1, 4)}单元"
                    f"{rng.randint(1, 18)}0{rng.randint(1, 4)}",
                    categories=categories,
                    needs=sorted(set(rng.sample(NEEDS_POOL, rng.randint(0, 2)))),
                    emergency_contact_name=person_name(rng),
                    emergency_contact_phone=f"13{rng.randint(100000000, 999999999)}",
                    consent_given=True,
                    consent_at=now - dt.timedelta(days=rng.randint(30, 400)),
                    consent_method=rng.choice(["本人签字", "家属代签", "口头同意（网格员见证）"]),
                    consent_recorded_by=staff,
                    helper=rng.choice(helpers) if helpers and rng.random() < 0.85 else None,
                    paired_at=now - dt.timedelta(days=rng.randint(1, 300)),
                    last_reached_at=now - dt.timedelta(days=rng.randint(1, 9)),
                    next_check_due=due,
                    missed_checks=1 if due < now and rng.random() < 0.4 else 0,
                )
            )
        VulnerableResident.objects.bulk_create(rows)
        made += len(rows)
    return made
