"""The six steps: supports, agenda, discussion, vote, resolution, implementation, evaluation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.commons.actions import organisations as orgs
from renzhi.commons.actions import proposals, votes
from renzhi.commons.models import Comment, Origin, Phase, Proposal, Support, Vote
from renzhi.commons.tests.conftest import discussed_proposal, soon
from renzhi.core.errors import ActionError, ErrorCode


def resident_proposal(world, author):
    return proposals.raise_proposal(
        author, community=world.community_a, title="楼道堆物清理", body="请大家一起清理楼道杂物"
    )


def test_the_threshold_is_a_share_of_verified_residents_or_a_minimum(world, electors):
    electors(100)
    proposals.set_support_rules(world.alice, world.community_a, percent=5, count=3)
    assert proposals.support_threshold(world.community_a) == 5  # ceil(5 % × 100)
    proposals.set_support_rules(world.alice, world.community_a, percent=1, count=3)
    assert proposals.support_threshold(world.community_a) == 3


def test_supports_put_a_proposal_on_the_agenda(world, electors):
    people = electors(10)
    p = resident_proposal(world, people[0])
    assert p.origin == Origin.RESIDENT and p.support_threshold == 3
    for person in people[:3]:
        p = proposals.support(person, p)
    assert p.phase == Phase.AGENDA and p.supports_count == 3


def test_it_refuses_supporting_twice_and_changes_nothing(world, electors):
    people = electors(10)
    p = resident_proposal(world, people[0])
    proposals.support(people[1], p)
    with pytest.raises(ActionError) as refused:
        proposals.support(people[1], p)
    assert refused.value.errors[0].field == "proposal"
    assert refused.value.errors[0].code == ErrorCode.DUPLICATE
    assert Support.objects.filter(proposal=p).count() == 1
    assert Proposal.objects.get(pk=p.pk).supports_count == 1


def test_only_verified_residents_support(world, electors):
    electors(3)
    p = resident_proposal(world, world.charlie)
    with pytest.raises(ActionError):
        proposals.support(world.charlie, p)  # no verified household
    assert Proposal.objects.get(pk=p.pk).supports_count == 0


def test_staff_cannot_shortcut_a_residents_proposal_below_the_threshold(world, electors):
    electors(3)
    p = resident_proposal(world, world.charlie)
    with pytest.raises(ActionError) as refused:
        proposals.set_agenda(world.alice, p)
    assert refused.value.errors[0].field == "supports"


def test_only_a_filed_organisation_raises_in_its_name(world):
    org = orgs.file_organisation(
        world.charlie,
        community=world.community_a,
        name="读书会",
        kind="culture_sports",
        purpose="读书",
        activity_area="图书室",
        submit=True,
    )
    with pytest.raises(ActionError) as refused:
        proposals.raise_proposal(
            world.charlie, community=world.community_a, title="t", body="b", organisation=org
        )
    assert refused.value.errors[0].field == "organisation"
    orgs.approve_organisation(world.alice, org)
    org.refresh_from_db()
    p = proposals.raise_proposal(
        world.charlie, community=world.community_a, title="设立共享书架", body="b", organisation=org
    )
    assert p.origin == Origin.ORGANISATION


def test_comments_thread_moderate_and_freeze_after_replies(world):
    p = discussed_proposal(world)
    first = proposals.comment(world.charlie, p, "电梯费用怎么分摊？")
    proposals.edit_comment(world.charlie, first, "电梯费用按楼层怎么分摊？")
    proposals.comment(world.alice, p, "按楼层系数分摊", parent=first)
    with pytest.raises(ActionError) as refused:
        proposals.edit_comment(world.charlie, first, "改一下")
    assert refused.value.errors[0].field == "body"
    assert Comment.objects.get(pk=first.pk).body == "电梯费用按楼层怎么分摊？"
    rude = proposals.comment(world.vera, p, "广告：低价装修")
    with pytest.raises(ActionError):
        proposals.hide_comment(world.alice, rude, "")
    hidden = proposals.hide_comment(world.alice, rude, "与议题无关的广告")
    assert hidden.hidden and hidden.hidden_reason == "与议题无关的广告"


def test_options_are_proposed_and_amended_during_discussion(world, electors):
    electors(4)
    p = discussed_proposal(world, title="健身器材放在哪里")
    a = proposals.propose_option(world.charlie, p, "北侧绿地")
    proposals.propose_option(world.vera, p, "南门空地")
    proposals.amend_option(world.charlie, a, "北侧绿地（靠近车棚）")
    with pytest.raises(ActionError):
        proposals.amend_option(world.vera, a, "改成别的")
    vote = votes.open_vote(world.alice, p, method="single", closes_at=soon())
    assert list(vote.options.values_list("label", flat=True)) == [
        "北侧绿地（靠近车棚）",
        "南门空地",
    ]
    with pytest.raises(ActionError):
        proposals.propose_option(world.charlie, p, "太晚了")


def test_the_whole_cycle_from_resolution_to_evaluation(world, electors):
    people = electors(10)
    p = discussed_proposal(world)
    vote = votes.open_vote(world.alice, p, method="yes_no", closes_at=soon())
    for person in people[:8]:
        votes.cast_vote(person, vote, [0])
    with pytest.raises(ActionError):
        proposals.record_resolution(world.alice, p, "早了")
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(hours=3),
        closes_at=timezone.now() - dt.timedelta(minutes=1),
    )
    assert votes.close_due_votes() == 1
    p = proposals.record_resolution(world.alice, p, "同意三号楼加装电梯，费用按楼层分摊。")
    assert p.phase == Phase.RESOLVED
    task = proposals.add_task(world.alice, p, title="签订施工合同", owner=world.sam)
    p.refresh_from_db()
    assert p.phase == Phase.IMPLEMENTING
    with pytest.raises(ActionError):
        proposals.publish_report(world.alice, p, "未完成")
    with pytest.raises(ActionError) as refused:
        proposals.report_progress(world.sam, task, progress=120)
    assert refused.value.errors[0].field == "progress"
    proposals.report_progress(world.sam, task, progress=50, note="合同已拟好")
    proposals.report_progress(world.sam, task, progress=100, note="已签订")
    p = proposals.publish_report(world.alice, p, "电梯已开工，资金使用已公示。")
    assert p.phase == Phase.EVALUATING
    proposals.evaluate(people[0], p, rating=5, comment_text="很好")
    with pytest.raises(ActionError) as refused:
        proposals.evaluate(people[0], p, rating=4)
    assert refused.value.errors[0].field == "rating"
    with pytest.raises(ActionError):
        proposals.evaluate(world.ivy, p, rating=1)
    p = proposals.close_proposal(world.alice, p)
    assert p.phase == Phase.CLOSED
