"""The write half of the permission matrix for commons (issue 23 acceptance).

Every named user of the `world` fixture, and an anonymous caller, tries every state-changing
commons endpoint on an object of community A and one of community B, each object brought to
the stage the endpoint acts on, each try in a rolled-back savepoint. charlie and vera (A) and
ivy (B) hold verified homes. The expected set of each row is written by hand from the rules
(see the sets below); everyone else must be refused: 0 unexpected allows.

Three rows do not yet bring their object to a stage where anyone may act (a household for
someone without one, finished-activity hours not yet credited, matched help): for them the
table expects NOBODY, so they prove only that nobody gets through — see STATE_NOT_REACHED.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from renzhi.commons.actions import activities, proposals, timebank, training, votes
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import Residence, TimeAccount, Vote
from renzhi.core.tests.matrix import ALL_USERS as USERS
from renzhi.core.tests.matrix import Form, Write, check_writes, state_changing_operations
from renzhi.core.tests.upload_samples import image

from .conftest import ended, under_way

pytestmark = pytest.mark.django_db

NOBODY: frozenset[str] = frozenset()


def _s(*names):
    return frozenset(names)


ROOT = _s("root")
# Community staff keep their community's commons (and the global administrator all of them);
# leaders, dispatchers, the street administrator, the social worker, the grid worker and the
# unit handler read but do not run it.
STAFF_A, STAFF_B = _s("alice", "root"), _s("bob", "root")
# An escalated organisation is decided by a leader over the street (and the global admin).
LEADERS_A, LEADERS_B = _s("leo", "frank", "root"), _s("frank", "root")
# Residents with a verified home: they support, vote, evaluate, ask for help.
RESIDENTS_A, RESIDENTS_B = _s("charlie", "vera"), _s("ivy")
RESIDENTS_AND_STAFF_A, RESIDENTS_AND_STAFF_B = RESIDENTS_A | STAFF_A, RESIDENTS_B | STAFF_B
# The one who filed, wrote, signed up or asked (charlie in A, ivy in B) and nobody else.
APPLICANT_A, APPLICANT_B = _s("charlie"), _s("ivy")
# Who runs an approved organisation or an option: its leader (the applicant) and staff.
RUNNERS_A, RUNNERS_B = APPLICANT_A | STAFF_A, APPLICANT_B | STAFF_B
# Signing oneself up for an activity or a residents' course: anyone who reads the community.
READERS_A = _s("alice", "charlie", "vera", "dora", "leo", "adam", "sam", "frank", "root")
READERS_B = _s("bob", "ivy", "frank", "root")


def _who(w, side):
    """(community, staff, resident) of a side."""
    if side == "A":
        return w.community_a, w.alice, w.charlie
    return w.community_b, w.bob, w.ivy


def _start(days=3):
    return timezone.now() + dt.timedelta(days=days)


# --- organisations --------------------------------------------------------------------------


def _org(w, side, stage):
    place, staff, resident = _who(w, side)
    org = orgs.file_organisation(
        resident,
        community=place,
        name=f"{side} 舞蹈队",
        kind="culture_sports",
        purpose="跳舞健身",
        activity_area="广场",
        leader=resident,
        submit=stage != "draft",
    )
    if stage == "review":
        orgs.start_review(staff, org)
    if stage in ("active", "suspended"):
        orgs.approve_organisation(staff, org)
    if stage == "suspended":
        orgs.suspend_organisation(staff, org, "整改")
    org.refresh_from_db()
    return org


def _org_op(stage, suffix, body=None):
    def setup(w, side):
        org = _org(w, side, stage)
        return f"/api/commons/organisations/{org.pk}{suffix}", body if body is not None else {}

    return setup


def _awaiting_approval(w, side):
    """A mediation committee (审批 kind): staff accept it and it goes to the street to decide."""
    place, staff, resident = _who(w, side)
    org = orgs.file_organisation(
        resident,
        community=place,
        name=f"{side} 调解委员会",
        kind="mediation",
        purpose="调解邻里纠纷",
        activity_area="社区",
        leader=resident,
        submit=True,
    )
    orgs.approve_organisation(staff, org)
    return f"/api/commons/organisations/{org.pk}/decide-approval", {"approve": True}


def _create_org(w, side):
    place, _, _ = _who(w, side)
    return "/api/commons/organisations", {
        "community_code": place.code,
        "name": "新的志愿队",
        "kind": "culture_sports",
        "purpose": "服务邻里",
        "activity_area": "社区",
    }


def _remove_member(w, side):
    org = _org(w, side, "active")
    member = orgs.add_member(_who(w, side)[1], org, orgs.MemberIn(name="王五", duty="成员"))
    return f"/api/commons/organisations/{org.pk}/members/{member.pk}/remove", {}


# --- residences and rules -------------------------------------------------------------------


def _create_residence(w, side):
    place, _, resident = _who(w, side)
    return "/api/commons/residences", {
        "community_code": place.code,
        "building": "9",
        "room": "901",
        "area_m2": 90,
        "username": resident.username,
    }


def _verify_residence(w, side):
    place, _, _ = _who(w, side)
    home = Residence.objects.create(
        user=w.sam if side == "A" else w.bob,
        community=place,
        building="8",
        room="801",
        area_m2=Decimal("70"),
    )
    return f"/api/commons/residences/{home.pk}/verify", {}


def _rules(w, side):
    place, _, _ = _who(w, side)
    return "/api/commons/rules", {
        "community_code": place.code,
        "support_percent": 5,
        "support_count": 10,
    }


# --- proposals ------------------------------------------------------------------------------


def _proposal(w, side, stage, by="staff"):
    place, staff, resident = _who(w, side)
    author = staff if by == "staff" else resident
    p = proposals.raise_proposal(author, community=place, title=f"{side} 加装电梯", body="议一议")
    if stage == "raised":
        return p
    proposals.set_agenda(staff, p)
    if stage == "agenda":
        return p
    proposals.open_discussion(staff, p)
    if stage == "discussion":
        return p
    vote = votes.open_vote(
        staff, p, method="yes_no", closes_at=timezone.now() + dt.timedelta(hours=1)
    )
    if stage == "voting":
        return p
    votes.cast_vote(resident, vote, [0])
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(hours=3),
        closes_at=timezone.now() - dt.timedelta(minutes=1),
    )
    votes.close_due_votes()
    if stage == "voted":
        return p
    p = proposals.record_resolution(staff, p, "同意加装电梯。")
    if stage == "resolved":
        return p
    task = proposals.add_task(staff, p, title="签订施工合同", owner=staff)
    if stage == "implementing":
        return p
    proposals.report_progress(staff, task, progress=100, note="已签订")
    p = proposals.publish_report(staff, p, "电梯已开工。")
    return p


def _p_op(stage, suffix, body=None, by="staff"):
    def setup(w, side):
        p = _proposal(w, side, stage, by)
        return f"/api/commons/proposals/{p.pk}{suffix}", body if body is not None else {}

    return setup


def _create_proposal(w, side):
    place, _, _ = _who(w, side)
    return "/api/commons/proposals", {
        "community_code": place.code,
        "title": "增设快递柜",
        "body": "小区门口增设快递柜",
    }


def _comment_op(action):
    def setup(w, side):
        p = _proposal(w, side, "discussion")
        row = proposals.comment(_who(w, side)[2], p, "费用怎么分摊？")
        body = {"body": "费用按楼层怎么分摊？"} if action == "edit" else {"reason": "与议题无关"}
        return f"/api/commons/proposals/{p.pk}/comments/{row.pk}/{action}", body

    return setup


def _amend(w, side):
    p = _proposal(w, side, "discussion")
    option = proposals.propose_option(_who(w, side)[2], p, "北侧绿地")
    return f"/api/commons/proposals/{p.pk}/options/{option.pk}/amend", {
        "label": "北侧绿地（车棚旁）"
    }


def _open_vote(w, side):
    p = _proposal(w, side, "discussion")
    closes = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    return f"/api/commons/proposals/{p.pk}/vote", {"method": "yes_no", "closes_at": closes}


def _close_vote(w, side):
    p = _proposal(w, side, "voting")
    Vote.objects.filter(proposal=p).update(
        opens_at=timezone.now() - dt.timedelta(hours=3),
        closes_at=timezone.now() - dt.timedelta(minutes=1),
    )
    return f"/api/commons/proposals/{p.pk}/vote/close", {}


def _add_task(w, side):
    p = _proposal(w, side, "resolved")
    return f"/api/commons/proposals/{p.pk}/tasks", {
        "title": "签订施工合同",
        "owner_username": _who(w, side)[1].username,
    }


def _progress(w, side):
    p = _proposal(w, side, "implementing")
    task = p.tasks.get()
    return f"/api/commons/proposals/{p.pk}/tasks/{task.pk}/progress", Form(
        progress=50, note="进行中"
    )


def _report(w, side):
    p = _proposal(w, side, "implementing")
    proposals.report_progress(_who(w, side)[1], p.tasks.get(), progress=100)
    return f"/api/commons/proposals/{p.pk}/report", {"report": "电梯已开工。"}


# --- activities, courses, help, time bank ---------------------------------------------------


def _activity(w, side, when="future", signed=False):
    place, staff, resident = _who(w, side)
    start = _start()
    act = activities.publish_activity(
        staff,
        community=place,
        title=f"{side} 义诊",
        kind="cultural",
        location="活动室",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=10,
        volunteer_hours=2,
    )
    if signed:
        activities.sign_up(resident, act)
    if when == "now":
        act = under_way(act)
    if when == "ended":
        act = ended(act)
    return act


def _a_op(suffix, body=None, when="future", signed=False):
    def setup(w, side):
        act = _activity(w, side, when, signed)
        return f"/api/commons/activities/{act.pk}{suffix}", body if body is not None else {}

    return setup


def _create_activity(w, side):
    place, _, _ = _who(w, side)
    start = _start()
    return "/api/commons/activities", {
        "community_code": place.code,
        "title": "读书会",
        "kind": "cultural",
        "location": "活动室",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
        "capacity": 10,
    }


def _checkin(w, side):
    act = _activity(w, side, "now", signed=True)
    return f"/api/commons/activities/{act.pk}/checkin", {"username": _who(w, side)[2].username}


def _confirm(w, side):
    _, staff, resident = _who(w, side)
    act = _activity(w, side, "now", signed=True)
    activities.check_in(staff, act, person=resident)
    act = ended(act)
    return f"/api/commons/activities/{act.pk}/confirm-hours", {"username": resident.username}


def _feedback(w, side):
    _, staff, resident = _who(w, side)
    act = _activity(w, side, "now", signed=True)
    activities.check_in(staff, act, person=resident)
    act = ended(act)
    return f"/api/commons/activities/{act.pk}/feedback", {"rating": 5}


def _photo(w, side):
    act = _activity(w, side)
    return f"/api/commons/activities/{act.pk}/photos", Form(photo=image)


def _course(w, side, with_session=False, enrolled=False):
    place, staff, resident = _who(w, side)
    course = training.create_course(staff, community=place, title=f"{side} 急救", topic="first_aid")
    if with_session:
        start = _start()
        course.session = training.add_session(
            staff, course, starts_at=start, ends_at=start + dt.timedelta(hours=1), location="室"
        )
    if enrolled:
        training.enrol(resident, course)
    return course


def _create_course(w, side):
    place, _, _ = _who(w, side)
    return "/api/commons/courses", {
        "community_code": place.code,
        "title": "心肺复苏",
        "topic": "first_aid",
    }


def _add_session(w, side):
    course = _course(w, side)
    start = _start()
    return f"/api/commons/courses/{course.pk}/sessions", {
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
        "location": "活动室",
    }


def _enrol(w, side):
    return f"/api/commons/courses/{_course(w, side).pk}/enrol", {}


def _attendance(w, side):
    course = _course(w, side, with_session=True, enrolled=True)
    return f"/api/commons/courses/{course.pk}/attendance", {
        "session_id": course.session.pk,
        "username": _who(w, side)[2].username,
    }


def _assess(w, side):
    course = _course(w, side, enrolled=True)
    return f"/api/commons/courses/{course.pk}/assess", {
        "username": _who(w, side)[2].username,
        "score": 80,
    }


def _help(w, side, responded=False):
    place, _, resident = _who(w, side)
    post = timebank.post_help(
        resident, community=place, kind="request", category="shopping", title="买菜", hours=1
    )
    if responded:
        timebank.respond(w.vera if side == "A" else _neighbour_b(w), post)
    return post


def _neighbour_b(w):
    """A second resident of community B, with a verified home, to answer ivy's post."""
    from .conftest import make_elector

    return make_elector(w, "nina", community=w.community_b)


def _create_help(w, side):
    place, _, _ = _who(w, side)
    return "/api/commons/help", {
        "community_code": place.code,
        "kind": "request",
        "category": "shopping",
        "title": "帮忙买菜",
        "hours": 1,
    }


def _h_op(suffix, responded=False):
    return lambda w, side: (f"/api/commons/help/{_help(w, side, responded).pk}{suffix}", {})


def _transfer(w, side):
    """Every caller holds 5 hours; credits pass only between residents of one community
    (vera to charlie in A; B has no second resident)."""
    _, _, resident = _who(w, side)
    for name in USERS:
        TimeAccount.objects.update_or_create(
            user=getattr(w, name), defaults={"balance": Decimal("5")}
        )
    return "/api/commons/timebank/transfer", {"to_username": resident.username, "hours": 1}


# --- the table ------------------------------------------------------------------------------

# op -> (setup(world, side), allowed on A, allowed on B).
TABLE: dict[str, tuple] = {
    "POST /api/commons/organisations": (_create_org, RESIDENTS_AND_STAFF_A, RESIDENTS_AND_STAFF_B),
    "POST /api/commons/organisations/{org_id}/submit": (
        _org_op("draft", "/submit"),
        APPLICANT_A,
        APPLICANT_B,
    ),
    "POST /api/commons/organisations/{org_id}/edit": (
        _org_op("draft", "/edit", {"purpose": "跳舞、健身"}),
        APPLICANT_A,
        APPLICANT_B,
    ),
    "POST /api/commons/organisations/{org_id}/review": (
        _org_op("submitted", "/review"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/comment": (
        _org_op("review", "/comment", {"note": "章程缺页"}),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/request-changes": (
        _org_op("review", "/request-changes", {"reason": "请补充章程"}),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/approve": (
        _org_op("submitted", "/approve"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/decide-approval": (
        _awaiting_approval,
        LEADERS_A,
        LEADERS_B,
    ),
    "POST /api/commons/organisations/{org_id}/reject": (
        _org_op("submitted", "/reject", {"reason": "不符合条件"}),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/suspend": (
        _org_op("active", "/suspend", {"reason": "整改"}),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/reinstate": (
        _org_op("suspended", "/reinstate"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/organisations/{org_id}/dissolve": (
        _org_op("active", "/dissolve", {"reason": "解散"}),
        RUNNERS_A,
        RUNNERS_B,
    ),
    "POST /api/commons/organisations/{org_id}/members": (
        _org_op("active", "/members", {"name": "李四", "duty": "成员"}),
        RUNNERS_A,
        RUNNERS_B,
    ),
    "POST /api/commons/organisations/{org_id}/members/{member_id}/remove": (
        _remove_member,
        RUNNERS_A,
        RUNNERS_B,
    ),
    "POST /api/commons/organisations/{org_id}/annual-reports": (
        _org_op("active", "/annual-reports", {"year": 2025, "summary": "全年活动十二次"}),
        RUNNERS_A,
        RUNNERS_B,
    ),
    "POST /api/commons/residences": (_create_residence, NOBODY, NOBODY),
    "POST /api/commons/residences/{residence_id}/verify": (_verify_residence, STAFF_A, ROOT),
    "POST /api/commons/rules": (_rules, STAFF_A, STAFF_B),
    "POST /api/commons/proposals": (_create_proposal, RESIDENTS_AND_STAFF_A, RESIDENTS_AND_STAFF_B),
    "POST /api/commons/proposals/{proposal_id}/support": (
        _p_op("raised", "/support", by="resident"),
        RESIDENTS_A,
        RESIDENTS_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/agenda": (
        _p_op("raised", "/agenda"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/decline": (
        _p_op("raised", "/decline", {"reason": "不属本社区事务"}, by="resident"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/discussion": (
        _p_op("agenda", "/discussion"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/comments": (
        _p_op("discussion", "/comments", {"body": "赞成"}),
        RESIDENTS_AND_STAFF_A,
        RESIDENTS_AND_STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/comments/{comment_id}/edit": (
        _comment_op("edit"),
        APPLICANT_A,
        APPLICANT_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/comments/{comment_id}/hide": (
        _comment_op("hide"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/options": (
        _p_op("discussion", "/options", {"label": "南门空地"}),
        RESIDENTS_AND_STAFF_A,
        RESIDENTS_AND_STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/options/{option_id}/amend": (
        _amend,
        RUNNERS_A,
        RUNNERS_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/vote": (_open_vote, STAFF_A, STAFF_B),
    "POST /api/commons/proposals/{proposal_id}/vote/cast": (
        _p_op("voting", "/vote/cast", {"choice": [0]}),
        RESIDENTS_A,
        RESIDENTS_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/vote/close": (_close_vote, STAFF_A, STAFF_B),
    "POST /api/commons/proposals/{proposal_id}/resolution": (
        _p_op("voted", "/resolution", {"resolution": "同意"}),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/tasks": (_add_task, STAFF_A, STAFF_B),
    "POST /api/commons/proposals/{proposal_id}/tasks/{task_id}/progress": (
        _progress,
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/report": (_report, STAFF_A, STAFF_B),
    "POST /api/commons/proposals/{proposal_id}/evaluations": (
        _p_op("evaluating", "/evaluations", {"rating": 5}),
        RESIDENTS_A,
        RESIDENTS_B,
    ),
    "POST /api/commons/proposals/{proposal_id}/close": (
        _p_op("evaluating", "/close"),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/activities": (_create_activity, STAFF_A, STAFF_B),
    "POST /api/commons/activities/{activity_id}/signup": (_a_op("/signup"), READERS_A, READERS_B),
    "POST /api/commons/activities/{activity_id}/cancel-signup": (
        _a_op("/cancel-signup", signed=True),
        APPLICANT_A,
        APPLICANT_B,
    ),
    "POST /api/commons/activities/{activity_id}/checkin": (_checkin, RUNNERS_A, RUNNERS_B),
    "POST /api/commons/activities/{activity_id}/finish": (
        _a_op("/finish", when="ended", signed=True),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/activities/{activity_id}/confirm-hours": (_confirm, NOBODY, NOBODY),
    "POST /api/commons/activities/{activity_id}/cancel": (
        _a_op("/cancel", {"reason": "下雨"}),
        STAFF_A,
        STAFF_B,
    ),
    "POST /api/commons/activities/{activity_id}/photos": (_photo, STAFF_A, STAFF_B),
    "POST /api/commons/activities/{activity_id}/feedback": (_feedback, APPLICANT_A, APPLICANT_B),
    "POST /api/commons/courses": (_create_course, STAFF_A, STAFF_B),
    "POST /api/commons/courses/{course_id}/sessions": (_add_session, STAFF_A, STAFF_B),
    "POST /api/commons/courses/{course_id}/enrol": (_enrol, READERS_A, READERS_B),
    "POST /api/commons/courses/{course_id}/attendance": (_attendance, STAFF_A, STAFF_B),
    "POST /api/commons/courses/{course_id}/assess": (_assess, STAFF_A, STAFF_B),
    "POST /api/commons/help": (_create_help, RESIDENTS_A, RESIDENTS_B),
    "POST /api/commons/help/{post_id}/respond": (_h_op("/respond"), _s("vera"), NOBODY),
    "POST /api/commons/help/{post_id}/complete": (
        _h_op("/complete", responded=True),
        NOBODY,
        NOBODY,
    ),
    "POST /api/commons/help/{post_id}/cancel": (_h_op("/cancel"), APPLICANT_A, APPLICANT_B),
    "POST /api/commons/timebank/transfer": (
        _transfer,
        _s("vera"),
        NOBODY,
    ),
}


STATE_NOT_REACHED = {
    "POST /api/commons/residences",
    "POST /api/commons/activities/{activity_id}/confirm-hours",
    "POST /api/commons/help/{post_id}/complete",
}


def _rows():
    rows = []
    for op, (setup, allowed_a, allowed_b) in TABLE.items():
        for side, allowed in (("A", allowed_a), ("B", allowed_b)):
            rows.append(Write(op, side, (lambda w, s=side, f=setup: f(w, s)), allowed))
    return rows


@pytest.fixture
def homes(world):
    for person, place in (
        (world.charlie, world.community_a),
        (world.vera, world.community_a),
        (world.ivy, world.community_b),
    ):
        Residence.objects.create(
            user=person,
            community=place,
            building="1",
            room=person.username[:3],
            area_m2=Decimal("80"),
            verified_by=world.alice,
            verified_at=timezone.now(),
        )
    return world


def test_every_state_changing_commons_endpoint_has_a_row_in_the_write_matrix():
    assert state_changing_operations(["/api/commons/"]) - set(TABLE) == set()


def test_no_user_may_change_commons_state_the_table_does_not_allow(homes, api_client):
    allows, refusals = check_writes(api_client, homes, _rows())
    assert allows == []
    assert refusals == []
