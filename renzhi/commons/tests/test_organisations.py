"""Filing and approval of community organisations."""

from __future__ import annotations

import pytest

from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import Organisation, OrgEvent, OrgStatus
from renzhi.core.errors import ActionError, ErrorCode


def filed_draft(world, kind="culture_sports", name="夕阳红舞蹈队"):
    return orgs.file_organisation(
        world.charlie,
        community=world.community_a,
        name=name,
        kind=kind,
        purpose="丰富老年人文化生活",
        activity_area="甲一社区广场",
        members=[orgs.MemberIn(name="王阿姨", duty="队员")],
    )


def test_a_resident_files_and_staff_file_it(world):
    org = filed_draft(world)
    assert org.status == OrgStatus.DRAFT and org.members.count() == 2
    orgs.submit_organisation(world.charlie, org)
    orgs.start_review(world.alice, org)
    orgs.comment_on_review(world.alice, org, "章程第三条请补充活动时间")
    org = orgs.approve_organisation(world.alice, org, "材料齐全")
    assert org.status == OrgStatus.FILED and org.filing_no
    verbs = list(OrgEvent.objects.filter(organisation=org).values_list("verb", flat=True))
    assert verbs == ["file", "submit", "start_review", "comment", "approve"]


def test_kinds_that_need_approval_go_to_the_street(world):
    org = filed_draft(world, kind="charity", name="邻里互助基金")
    orgs.submit_organisation(world.charlie, org)
    org = orgs.approve_organisation(world.alice, org)
    assert org.status == OrgStatus.AWAITING_APPROVAL
    with pytest.raises(ActionError):
        orgs.decide_approval(world.alice, org, approve=True)  # community staff cannot 审批
    org = orgs.decide_approval(world.leo, org, approve=True)
    assert org.status == OrgStatus.APPROVED and org.is_active


def test_it_refuses_approving_ones_own_organisation(world):
    org = orgs.file_organisation(
        world.alice,
        community=world.community_a,
        name="社区志愿服务队",
        kind="mutual_aid",
        purpose="互助",
        activity_area="甲一社区",
        submit=True,
    )
    with pytest.raises(ActionError) as refused:
        orgs.approve_organisation(world.alice, org)
    assert refused.value.errors[0].field == "organisation"
    assert refused.value.errors[0].code == ErrorCode.FORBIDDEN
    org.refresh_from_db()
    assert org.status == OrgStatus.SUBMITTED
    assert not OrgEvent.objects.filter(organisation=org, verb="approve").exists()


def test_request_for_changes_returns_it_to_the_applicant(world):
    org = filed_draft(world)
    orgs.submit_organisation(world.charlie, org)
    org = orgs.request_changes(world.alice, org, "请上传章程")
    assert org.status == OrgStatus.DRAFT and org.decision_reason == "请上传章程"
    orgs.edit_organisation(world.charlie, org, purpose="丰富文化生活，每周三活动")
    org = orgs.submit_organisation(world.charlie, org)
    assert org.status == OrgStatus.SUBMITTED


def test_a_rejection_needs_a_reason(world):
    org = filed_draft(world)
    orgs.submit_organisation(world.charlie, org)
    with pytest.raises(ActionError) as refused:
        orgs.reject_organisation(world.alice, org, "  ")
    assert refused.value.errors[0].field == "reason"
    org = orgs.reject_organisation(world.alice, org, "与现有组织重复")
    assert org.status == OrgStatus.REJECTED


def test_staff_of_another_community_cannot_review(world):
    org = filed_draft(world)
    orgs.submit_organisation(world.charlie, org)
    with pytest.raises(ActionError):
        orgs.approve_organisation(world.bob, org)
    assert Organisation.objects.get(pk=org.pk).status == OrgStatus.SUBMITTED


def test_suspend_reinstate_dissolve_and_report(world):
    org = filed_draft(world)
    orgs.submit_organisation(world.charlie, org)
    orgs.approve_organisation(world.alice, org)
    report = orgs.submit_annual_report(world.charlie, org, year=2025, summary="全年活动 12 次")
    assert report.members_count == 2
    with pytest.raises(ActionError) as refused:
        orgs.submit_annual_report(world.charlie, org, year=2025, summary="again")
    assert refused.value.errors[0].field == "year"
    orgs.suspend_organisation(world.alice, org, "未按期报告")
    orgs.reinstate_organisation(world.alice, org)
    org = orgs.dissolve_organisation(world.charlie, org, "成员迁出")
    assert org.status == OrgStatus.DISSOLVED


def test_a_resident_of_another_community_cannot_file_here(world):
    with pytest.raises(ActionError) as refused:
        orgs.file_organisation(
            world.ivy,
            community=world.community_a,
            name="x",
            kind="mutual_aid",
            purpose="x",
            activity_area="x",
        )
    assert refused.value.errors[0].field == "community"
