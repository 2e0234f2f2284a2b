"""Four eyes in the commons (issue 23 #8, #10): who filed, edited, belonged to or attended may not
also decide; a proposal's claimed origin must exist and be visible to its author."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.commons.actions import organisations as orgs
from renzhi.commons.actions import proposals, training
from renzhi.commons.models import Assessment, Organisation, OrgStatus, Proposal
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Membership, PersonSkill, Role, Skill, User


def second_staff(world) -> User:
    """Another community-staff member of community A (so alice's colleague can act)."""
    user = User.objects.create_user(username="amy", password=world.password, display_name="Amy")
    Membership.objects.create(user=user, role=Role.COMMUNITY_STAFF, place=world.community_a)
    return user


# --- Organisations ---------------------------------------------------------------------------


def test_a_reviewer_who_left_the_organisation_still_cannot_approve_it(world):
    amy = second_staff(world)
    org = orgs.file_organisation(
        world.charlie,
        community=world.community_a,
        name="书画社",
        kind="culture_sports",
        purpose="书画交流",
        activity_area="活动室",
        members=[orgs.MemberIn(name="Amy", duty="队员", user=amy)],
    )
    member = org.members.get(user=amy)
    orgs.remove_member(world.charlie, member)  # amy "leaves"…
    orgs.submit_organisation(world.charlie, org)
    with pytest.raises(ActionError) as refused:
        orgs.approve_organisation(amy, org)  # …to approve it
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN
    assert Organisation.objects.get(pk=org.pk).status == OrgStatus.SUBMITTED
    assert orgs.approve_organisation(world.alice, org).status == OrgStatus.FILED


def test_staff_who_changed_an_organisations_members_cannot_approve_it(world):
    amy = second_staff(world)
    org = orgs.file_organisation(
        world.charlie,
        community=world.community_a,
        name="调解小组",
        kind="culture_sports",
        purpose="邻里调解",
        activity_area="甲一社区",
    )
    orgs.add_member(amy, org, orgs.MemberIn(name="李大爷", duty="调解员"))  # she shaped it
    orgs.submit_organisation(world.charlie, org)
    with pytest.raises(ActionError) as refused:
        orgs.approve_organisation(amy, org)
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN
    assert orgs.approve_organisation(world.alice, org).status == OrgStatus.FILED


# --- Training --------------------------------------------------------------------------------


def course_with_skill(world, *, sessions=1):
    skill = Skill.objects.create(code="cpr", name="心肺复苏", valid_months=0)
    course = training.create_course(
        world.alice, community=world.community_a, title="急救", topic="first_aid", skill=skill
    )
    session = None
    for _ in range(sessions):
        start = timezone.now() + dt.timedelta(days=1)
        session = training.add_session(
            world.alice,
            course,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            location="卫生站",
        )
    return course, session


def test_nobody_assesses_or_records_attendance_for_themself(world):
    course, session = course_with_skill(world)
    training.enrol(world.alice, course)
    with pytest.raises(ActionError) as refused:
        training.record_attendance(world.alice, session, world.alice)
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN
    amy = second_staff(world)
    training.record_attendance(amy, session, world.alice)
    with pytest.raises(ActionError) as refused:
        training.assess(world.alice, course, world.alice, score=100)
    assert refused.value.errors[0].field == "person"
    assert not Assessment.objects.exists() and not PersonSkill.objects.exists()
    _assessment, cert = training.assess(amy, course, world.alice, score=100)
    assert cert is not None and PersonSkill.objects.filter(user=world.alice).exists()


def test_a_pass_score_of_zero_is_refused(world):
    with pytest.raises(ActionError) as refused:
        training.create_course(
            world.alice,
            community=world.community_a,
            title="走过场",
            topic="first_aid",
            pass_score=0,
        )
    assert refused.value.errors[0].field == "pass_score"


def test_a_certificate_has_a_bounded_validity(world):
    course, session = course_with_skill(world)
    training.enrol(world.vera, course)
    training.record_attendance(world.alice, session, world.vera)
    today = timezone.localdate()
    with pytest.raises(ActionError) as refused:
        training.assess(
            world.alice, course, world.vera, score=90, valid_until=dt.date(9999, 12, 31)
        )
    assert refused.value.errors[0].field == "valid_until"
    _assessment, cert = training.assess(world.alice, course, world.vera, score=90)
    assert cert.valid_until is not None  # no skill lasts for ever
    assert cert.valid_until <= today.replace(year=today.year + 5)


def test_a_skill_is_granted_only_by_a_course_with_a_session(world):
    course, _session = course_with_skill(world, sessions=0)
    training.enrol(world.vera, course)
    with pytest.raises(ActionError) as refused:
        training.assess(world.alice, course, world.vera, score=90)
    assert refused.value.errors[0].field == "course"
    assert not PersonSkill.objects.filter(user=world.vera).exists()


# --- Proposal origins --------------------------------------------------------------------------


def test_a_proposal_cannot_claim_an_appeal_that_does_not_exist(world):
    with pytest.raises(ActionError) as refused:
        proposals.raise_proposal(
            world.charlie,
            community=world.community_a,
            title="加装路灯",
            body="小区北门太黑",
            source="appeal",
            source_ref="A-NOPE-0001",
        )
    assert refused.value.errors[0].field == "source_ref"
    with pytest.raises(ActionError):
        proposals.raise_proposal(
            world.charlie,
            community=world.community_a,
            title="加装路灯",
            body="小区北门太黑",
            source="hot_issue",
            source_ref="999999",
        )
    assert not Proposal.objects.exists()


def test_an_appeal_origin_must_be_visible_to_the_author(world):
    from renzhi.appeals.actions import submit_appeal

    ivys = submit_appeal(
        world.ivy, channel="web", description="乙一社区路灯不亮", lat=39.92, lng=116.55
    ).appeal
    charlies = submit_appeal(
        world.charlie, channel="web", description="甲一社区北门路灯不亮", lat=39.92, lng=116.42
    ).appeal
    with pytest.raises(ActionError) as refused:
        proposals.raise_proposal(
            world.charlie,
            community=world.community_a,
            title="加装路灯",
            body="小区北门太黑",
            source="appeal",
            source_ref=ivys.tracking_no,
        )
    assert refused.value.errors[0].field == "source_ref"
    p = proposals.raise_proposal(
        world.charlie,
        community=world.community_a,
        title="加装路灯",
        body="小区北门太黑",
        source="appeal",
        source_ref=charlies.tracking_no,
    )
    assert p.origin == "appeal" and p.source_ref == charlies.tracking_no
    # A resident's appeal origin does not skip the supports.
    with pytest.raises(ActionError) as refused:
        proposals.set_agenda(world.alice, p)
    assert refused.value.errors[0].field == "supports"
