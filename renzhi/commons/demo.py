"""Demo data of the commons app, loaded by `manage.py demo_city` after the appeals.

In the first community of each of the first two streets: verified household records,
organisations in several states (filed, approved by the street, submitted, under review, draft,
suspended, rejected), a proposal in each of the six steps (one resolved, implemented and
evaluated; one rejected by vote), activities with sign-ups and check-ins, courses with
attendance and certificates, and a working time bank. Everything goes through the actions, so
the audit chain and the invariants hold. Idempotent: a community that already has the demo's
first organisation is skipped. Seeded: `random.Random(f"{seed}:commons:{code}")`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from renzhi.commons.actions import activities, proposals, timebank, training, votes
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import Organisation, Residence, Vote
from renzhi.core.models import Membership, Place, PlaceLevel, Role, Skill, User

if TYPE_CHECKING:
    from renzhi.demo.build import BuildReport
    from renzhi.demo.city import City

MARKER = "夕阳红舞蹈队"
ELECTORS = 40
SKILLS = {"first_aid": ("急救", 24), "fire": ("消防", 36), "nursing": ("护理", None)}


def load(city: City, report: BuildReport, say: Callable[[str], None]) -> None:
    streets = sorted(p.code for p in city.places if p.level == PlaceLevel.STREET)[:2]
    created = 0
    for street in streets:
        community_code = min(
            p.code
            for p in city.places
            if p.level == PlaceLevel.COMMUNITY and p.parent_code == street
        )
        community = Place.objects.filter(code=community_code).first()
        if (
            community is None
            or Organisation.objects.filter(community=community, name=MARKER).exists()
        ):
            continue
        with transaction.atomic():
            created += _community(community, random.Random(f"{city.seed}:commons:{community_code}"))
    report.created["commons"] = created
    say(f"commons: {created} objects created")


def _community(community: Place, rng: random.Random) -> int:
    staff = _member(community, Role.COMMUNITY_STAFF)
    leader = _member(community.parent, Role.LEADER) if community.parent else None
    people = list(
        User.objects.filter(home_place__code__startswith=community.code, is_active=True)
        .exclude(memberships__role__in=[Role.COMMUNITY_STAFF, Role.GRID_WORKER])
        .order_by("username")[: ELECTORS + 5]
    )
    if staff is None:
        return 0
    n = 0
    while len(people) < ELECTORS:  # a small city: add neighbours so every state can be shown
        people.append(_neighbour(community, len(people)))
        n += 1
    for i, person in enumerate(people):
        Residence.objects.get_or_create(
            user=person,
            community=community,
            defaults={
                "building": str(1 + i % 6),
                "room": f"{1 + i % 3}-{101 + (i * 7) % 1200}",
                "area_m2": Decimal(rng.randrange(5500, 14000)) / 100,
                "verified_by": staff if i < ELECTORS else None,
                "verified_at": timezone.now() if i < ELECTORS else None,
            },
        )
        n += 1
    electors = people[:ELECTORS]
    n += _organisations(community, staff, leader, electors)
    n += _proposals(community, staff, electors, rng)
    n += _activities_and_training(community, staff, electors)
    n += _timebank(community, electors)
    return n


def _organisations(community: Place, staff: User, leader: User | None, people: list[User]) -> int:
    def filed(name: str, kind: str, who: User, purpose: str) -> Organisation:
        return orgs.file_organisation(
            who,
            community=community,
            name=name,
            kind=kind,
            purpose=purpose,
            activity_area=f"{community.name}活动室",
            submit=True,
            members=[
                orgs.MemberIn(name=p.display_name or p.username, user=p)
                for p in people[20:23]
                if p != who
            ],
        )

    dance = filed(MARKER, "culture_sports", people[0], "组织中老年人广场舞，丰富文化生活")
    orgs.approve_organisation(staff, dance, "材料齐全，准予备案")
    orgs.submit_annual_report(
        people[0],
        dance,
        year=timezone.localdate().year - 1,
        summary="全年开展活动 24 次，参与 600 人次",
    )
    fund = filed("邻里互助基金", "charity", people[1], "为困难家庭提供小额应急互助")
    orgs.approve_organisation(staff, fund, "同意，报街道审批")
    if leader is not None:
        orgs.decide_approval(leader, fund, approve=True, reason="同意成立")
    review = filed("青少年科普社", "culture_sports", people[2], "周末开展科普活动")
    orgs.start_review(staff, review)
    orgs.comment_on_review(staff, review, "请补充指导老师资质")
    filed("楼道微更新小组", "mutual_aid", people[3], "美化楼道公共空间")
    orgs.file_organisation(
        people[4],
        community=community,
        name="宠物友好协会",
        kind="life_service",
        purpose="文明养犬宣传",
        activity_area="小区花园",
    )
    chess = filed("棋牌协会", "culture_sports", people[5], "棋牌交流")
    orgs.approve_organisation(staff, chess)
    orgs.suspend_organisation(staff, chess, "未按期提交年度报告")
    bad = filed("收藏品投资会", "life_service", people[6], "藏品交易")
    orgs.reject_organisation(staff, bad, "涉及经营活动，不属于社区社会组织")
    return 7


def _proposals(community: Place, staff: User, people: list[User], rng: random.Random) -> int:
    dance = Organisation.objects.get(community=community, name=MARKER)

    def raised(title: str, body: str, who: User, org: Organisation | None = None):
        return proposals.raise_proposal(
            who, community=community, title=title, body=body, organisation=org
        )

    def to_discussion(p):
        for person in people[: p.support_threshold]:
            p = proposals.support(person, p)
        proposals.open_discussion(staff, p)
        p.refresh_from_db()
        return p

    def voted(p, yes_share: float, method: str = "yes_no", close: bool = True):
        vote = votes.open_vote(
            staff, p, method=method, closes_at=timezone.now() + dt.timedelta(days=5)
        )
        for person in people[:30]:
            votes.cast_vote(person, vote, [0 if rng.random() < yes_share else 1])
        if close:
            Vote.objects.filter(pk=vote.pk).update(
                opens_at=timezone.now() - dt.timedelta(days=6),
                closes_at=timezone.now() - dt.timedelta(minutes=5),
            )
            vote.refresh_from_db()
            votes.close_vote(None, vote)
        return vote

    collecting = raised("小区增设快递柜", "快递经常丢失，建议在南门增设智能快递柜。", people[7])
    for person in people[8:10]:
        proposals.support(person, collecting)
    agenda = raised("规范电动车充电", "楼道飞线充电隐患大，建议建设集中充电棚。", people[8])
    for person in people[: agenda.support_threshold]:
        proposals.support(person, agenda)
    talk = to_discussion(raised("健身器材选址", "新一批健身器材安放在哪里，请大家议一议。", staff))
    proposals.comment(people[3], talk, "北侧绿地离住户远，不扰民。")
    first = proposals.comment(people[4], talk, "南门空地更方便老人。")
    proposals.comment(staff, talk, "两处都已测量，面积都够。", parent=first)
    proposals.propose_option(people[3], talk, "北侧绿地")
    proposals.propose_option(people[4], talk, "南门空地")
    voting = to_discussion(
        raised("周末广场舞时间调整", "建议周末广场舞改为 19:00—20:30，减少扰民。", people[0], dance)
    )
    voted(voting, 0.7, close=False)
    done = to_discussion(
        raised("三号楼加装电梯", "三号楼老人多，申请加装电梯，费用按楼层分摊。", staff)
    )
    voted(done, 0.85)
    proposals.record_resolution(
        staff, done, "同意三号楼加装电梯；费用按楼层系数分摊，由施工方负责办理审批。"
    )
    tasks = [
        proposals.add_task(staff, done, title="签订施工合同", owner=staff),
        proposals.add_task(staff, done, title="电梯安装与验收", owner=staff),
    ]
    for task in tasks:
        proposals.report_progress(staff, task, progress=50, note="进行中")
        proposals.report_progress(staff, task, progress=100, note="已完成")
    proposals.publish_report(staff, done, "电梯已通过验收并投入使用，资金使用明细已在公告栏公示。")
    for person in people[:12]:
        proposals.evaluate(person, done, rating=rng.choice([4, 5, 5, 5, 3]), comment_text="")
    implementing = to_discussion(raised("小区绿化补种", "部分绿地裸露，建议补种灌木。", staff))
    voted(implementing, 0.9)
    proposals.record_resolution(staff, implementing, "同意补种，由物业组织实施。")
    task = proposals.add_task(staff, implementing, title="采购苗木", owner=staff)
    proposals.report_progress(staff, task, progress=40, note="已询价")
    rejected = to_discussion(raised("取消地面停车位", "建议取消地面停车位改为绿地。", people[9]))
    voted(rejected, 0.2)
    declined = raised("在小区开设商铺", "建议利用架空层开设商铺。", people[10])
    proposals.decline(staff, declined, "架空层属于公共部位，不能用于经营。")
    return 8


def _activities_and_training(community: Place, staff: User, people: list[User]) -> int:
    now = timezone.now()
    dance = Organisation.objects.get(community=community, name=MARKER)

    def publish(title, kind, days, capacity, hours="0", org=None, who=staff):
        start = now + dt.timedelta(days=days)
        return activities.publish_activity(
            who,
            community=community,
            title=title,
            kind=kind,
            location=f"{community.name}广场",
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            capacity=capacity,
            volunteer_hours=hours,
            organisation=org,
        )

    drill = publish("防汛应急演练", "drill", 1, 30, "2")
    for person in people[:12]:
        activities.sign_up(person, drill)
    # The demo writes history rather than living it: the drill is moved to now, then to the past.
    _move(drill, now - dt.timedelta(minutes=5))
    for person in people[:9]:
        activities.check_in(staff, drill, person=person)
    _move(drill, now - dt.timedelta(hours=3))
    activities.finish_activity(staff, drill)
    party = publish("重阳节包饺子", "cultural", 5, 10, org=dance, who=people[0])
    for person in people[10:23]:
        activities.sign_up(person, party)  # three on the waiting list
    help_day = publish("为独居老人上门服务", "mutual_aid", 8, 15, "2")
    for person in people[20:26]:
        activities.sign_up(person, help_day)

    skills = {
        code: Skill.objects.get_or_create(
            code=code, defaults={"name": name, "valid_months": months}
        )[0]
        for code, (name, months) in SKILLS.items()
    }
    courses = [
        ("心肺复苏与AED使用", "first_aid", skills["first_aid"], False),
        ("家庭消防安全", "fire_safety", skills["fire"], False),
        ("防汛自救互救", "flood_response", None, False),
        ("居家养老护理", "elderly_care", skills["nursing"], False),
        ("老年人智能手机课堂", "digital_skills", None, False),
        ("社区工作者信息安全培训", "network_safety", None, True),
    ]
    for i, (title, topic, skill, for_staff) in enumerate(courses):
        course = training.create_course(
            staff, community=community, title=title, topic=topic, skill=skill, for_staff=for_staff
        )
        start = now - dt.timedelta(days=20 - i)
        session = training.add_session(
            staff,
            course,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            location="社区党群服务中心",
        )
        learners = [staff] if for_staff else people[i * 4 : i * 4 + 6]
        for j, person in enumerate(learners):
            training.enrol(staff, course, person)
            if person == staff:
                continue  # nobody records their own attendance or assesses themself
            training.record_attendance(staff, session, person)
            if j < 4:
                training.assess(staff, course, person, score=55 + (j * 13) % 45)
    return 3 + len(courses)


def _timebank(community: Place, people: list[User]) -> int:
    timebank.earn_from_service()
    helpers = [p for p in people[:9] if timebank.account_of(p).balance > 0]
    requests = [
        ("shopping", "帮忙买菜", "1"),
        ("escort", "周三陪诊去区医院", "3"),
        ("repair", "修理水龙头", "1"),
        ("digital", "教我用手机挂号", "1"),
    ]
    n = 0
    for i, (category, title, hours) in enumerate(requests):
        requester = helpers[i % len(helpers)] if helpers else people[-3]
        post = timebank.post_help(
            requester,
            community=community,
            kind="request",
            category=category,
            title=title,
            hours=hours,
        )
        n += 1
        if i < 2 and len(helpers) > 1:
            helper = helpers[(i + 1) % len(helpers)]
            timebank.respond(helper, post)
            timebank.complete_help(requester, post)
    timebank.post_help(
        people[31],
        community=community,
        kind="offer",
        category="shopping",
        title="每周二可代买菜",
        hours="1",
    )
    timebank.post_help(
        people[32],
        community=community,
        kind="offer",
        category="company",
        title="陪老人聊天下棋",
        hours="2",
    )
    return n + 2


def _neighbour(community: Place, n: int) -> User:
    user = User(
        username=f"commons_{community.code}_{n:02d}",
        display_name=f"{community.name}居民{n:02d}",
        home_place=community,
    )
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, role=Role.RESIDENT, place=community)
    return user


def _member(place: Place | None, role: str) -> User | None:
    if place is None:
        return None
    m = (
        Membership.objects.filter(place=place, role=role)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return m.user if m else None


def _move(activity, start: dt.datetime) -> None:
    length = activity.ends_at - activity.starts_at
    type(activity).objects.filter(pk=activity.pk).update(starts_at=start, ends_at=start + length)
    activity.refresh_from_db()
