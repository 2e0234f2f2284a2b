"""Self-governance journey in the Chinese UI, desktop (1280×800) and phone (390×844):

a resident files an organisation → staff approve it → the organisation raises a proposal → it
reaches the support threshold → discussion → the vote opens → 10 verified residents vote (one
tries twice and is refused, an unverified one is refused) → quorum met → resolution →
implementation tracked to done → residents evaluate.

Key steps are real clicks; the bulk of the ballots and the passing of the vote's closing time
are driven by actions for speed. Screenshots land in tests/browser/screenshots/ (commons-*.png).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.commons import ballot_box
from renzhi.commons.actions import proposals, votes
from renzhi.commons.models import (
    Ballot,
    Organisation,
    OrgStatus,
    Participation,
    Phase,
    Proposal,
    SealedBallot,
    Vote,
)
from renzhi.commons.tests.conftest import make_elector
from tests.browser.conftest import DESKTOP, PHONE, _open_page, login, overflow_x, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def neighbourhood(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    w = world
    w.voters = [make_elector(w, f"neighbour{i:02d}", area=str(80 + 5 * i)) for i in range(10)]
    w.unverified = make_elector(w, "newcomer", verified=False)
    return w


def phone(browser, live_server, username):
    context, page, outside, errors = _open_page(browser, PHONE)
    login(page, live_server, username)
    return context, page, outside, errors


def messages_text(page) -> str:
    return page.locator(".messages").inner_text() if page.locator(".messages").count() else ""


def test_a_resident_organisation_takes_a_proposal_from_filing_to_evaluation(
    browser, live_server, neighbourhood
):
    w = neighbourhood
    base = live_server.url

    # 1. charlie files an organisation on the phone.
    ctx, resident, outside, errors = phone(browser, live_server, "charlie")
    resident.goto(f"{base}/commons/")
    shot(resident, "commons-hub-phone")
    assert overflow_x(resident) == 0
    resident.goto(f"{base}/commons/organisations/new/")
    resident.fill("#f-name", "楼道微更新小组")
    resident.select_option("#f-kind", "mutual_aid")
    resident.fill("#f-purpose", "美化楼道公共空间，组织邻里共建")
    resident.fill("#f-area", "甲一社区3号楼")
    resident.fill("#f-members", "王阿姨\n李师傅")
    shot(resident, "commons-organisation-new-phone")
    resident.click("button[type=submit] >> text=提交备案")
    resident.wait_for_url("**/commons/organisations/*/")
    org = Organisation.objects.get(name="楼道微更新小组")
    assert org.status == OrgStatus.SUBMITTED

    # 2. alice (community staff) approves it on the desktop.
    ctx_staff, staff, out_staff, err_staff = _open_page(browser, DESKTOP)
    login(staff, live_server, "alice")
    staff.goto(f"{base}/commons/organisations/{org.pk}/")
    staff.fill("#a-reason", "材料齐全，准予备案")
    shot(staff, "commons-organisation-review")
    staff.click("[data-approve]")
    staff.wait_for_load_state()
    org.refresh_from_db()
    assert org.status == OrgStatus.FILED
    assert "已备案" in staff.locator("[data-status]").first.inner_text()

    # 3. charlie raises a proposal in the organisation's name.
    resident.goto(f"{base}/commons/proposals/new/?organisation={org.pk}")
    resident.select_option("#p-org", str(org.pk))
    resident.fill("#p-title", "三号楼楼道加装扶手")
    resident.fill("#p-body", "楼道老人多，上下楼困难，建议在楼梯两侧加装扶手。")
    resident.click("button[type=submit] >> text=提交议题")
    resident.wait_for_url("**/commons/proposals/*/")
    p = Proposal.objects.get(title="三号楼楼道加装扶手")
    assert p.origin == "organisation" and p.support_threshold == 3

    # 4. Supports reach the threshold: one real click, then two more by action.
    ctx_v, voter, out_v, err_v = phone(browser, live_server, "neighbour00")
    voter.goto(f"{base}/commons/proposals/{p.pk}/")
    shot(voter, "commons-proposal-collecting-phone")
    assert overflow_x(voter) == 0
    voter.click("[data-support]")
    voter.wait_for_load_state()
    for person in w.voters[1:3]:
        proposals.support(person, p)
    p.refresh_from_db()
    assert p.phase == Phase.AGENDA

    # 5. Staff open the discussion; a neighbour comments.
    staff.goto(f"{base}/commons/proposals/{p.pk}/")
    staff.click("[data-open-discussion]")
    staff.wait_for_load_state()
    voter.goto(f"{base}/commons/proposals/{p.pk}/")
    voter.fill("#cm-body", "扶手高度请按适老化标准。")
    voter.click("[data-comment-form] button")
    voter.wait_for_load_state()
    assert "适老化" in voter.locator("[data-discussion]").inner_text()

    # 6. Staff open a yes/no vote with a 50 % quorum.
    staff.goto(f"{base}/commons/proposals/{p.pk}/")
    staff.select_option("#o-method", "yes_no")
    shot(staff, "commons-proposal-open-vote")
    staff.click("[data-open-vote] button[type=submit]")
    staff.wait_for_load_state()
    vote = Vote.objects.get(proposal=p)
    assert vote.electorate_size == 10

    # 7. Ten verified residents vote: two real clicks, eight by action.
    voter.goto(f"{base}/commons/proposals/{p.pk}/")
    shot(voter, "commons-ballot-phone")
    assert overflow_x(voter) == 0
    voter.check("[data-ballot] input[value='0']")
    voter.click("[data-ballot] button[type=submit]")
    voter.wait_for_load_state()
    assert voter.locator("[data-voted]").count() == 1
    # ...and tries twice: the page shows no ballot, a forged second post is refused by field.
    csrf = next(c["value"] for c in voter.context.cookies() if c["name"] == "csrftoken")
    response = voter.request.post(
        f"{base}/commons/proposals/{p.pk}/act/cast/",
        form={"choice": "1", "csrfmiddlewaretoken": csrf},
    )
    assert response.ok and "投过票" in response.text()
    assert Participation.objects.filter(vote=vote).count() == 1
    # Sealed in the box until the count (no Ballot row yet to pair with the voter).
    assert [
        ballot_box.open_seal(b.sealed).choice for b in SealedBallot.objects.filter(vote=vote)
    ] == [[0]]
    assert not Ballot.objects.filter(vote=vote).exists()
    ctx2, second, out2, err2 = phone(browser, live_server, "neighbour01")
    second.goto(f"{base}/commons/proposals/{p.pk}/")
    second.check("[data-ballot] input[value='0']")
    second.click("[data-ballot] button[type=submit]")
    second.wait_for_load_state()
    for i, person in enumerate(w.voters[2:]):
        votes.cast_vote(person, vote, [0 if i < 5 else 1])
    ctx3, stranger, out3, err3 = phone(browser, live_server, "newcomer")
    stranger.goto(f"{base}/commons/proposals/{p.pk}/")
    assert stranger.locator("[data-ballot]").count() == 0
    assert "核实" in stranger.locator("[data-vote]").inner_text()
    assert ballot_box.pending(vote) == Participation.objects.filter(vote=vote).count() == 10

    # 8. The window passes; staff count the vote: quorum met, passed 7 : 3.
    Vote.objects.filter(pk=vote.pk).update(
        opens_at=timezone.now() - dt.timedelta(days=2),
        closes_at=timezone.now() - dt.timedelta(seconds=1),
    )
    staff.goto(f"{base}/commons/proposals/{p.pk}/")
    staff.click("[data-close-vote]")
    staff.wait_for_load_state()
    vote.refresh_from_db()
    assert vote.passed and vote.result["quorum_met"] and vote.result["counts"]["0"] == 7
    assert Ballot.objects.filter(vote=vote).count() == 10 and ballot_box.pending(vote) == 0
    assert staff.locator("[data-outcome='passed']").count() == 1
    shot(staff, "commons-vote-result")

    # 9. Resolution, a task owned by sam, progress to done with a photo, the public report.
    staff.fill("#r-text", "同意在三号楼楼梯两侧加装不锈钢扶手，费用由社区微更新资金列支。")
    staff.click("[data-resolution-form] button")
    staff.wait_for_load_state()
    staff.fill("#t-title", "采购并安装扶手")
    staff.fill("#t-owner", "sam")
    staff.click("[data-task-form] button")
    staff.wait_for_load_state()
    p.refresh_from_db()
    assert p.phase == Phase.IMPLEMENTING
    task = p.tasks.get()
    ctx4, owner, out4, err4 = phone(browser, live_server, "sam")
    owner.goto(f"{base}/commons/proposals/{p.pk}/")
    owner.fill(f"#pg-{task.pk}", "100")
    owner.fill(f"#pn-{task.pk}", "已安装完毕")
    owner.click(f"form:has(#pg-{task.pk}) button")
    owner.wait_for_load_state()
    task.refresh_from_db()
    assert task.progress == 100 and task.done_at is not None
    staff.goto(f"{base}/commons/proposals/{p.pk}/")
    staff.fill("#rp-text", "扶手已安装，验收合格；费用明细已公示。")
    staff.click("[data-report-form] button")
    staff.wait_for_load_state()
    p.refresh_from_db()
    assert p.phase == Phase.EVALUATING

    # 10. Residents evaluate.
    voter.goto(f"{base}/commons/proposals/{p.pk}/")
    voter.check("[data-evaluate] input[value='5']")
    voter.fill("#ev-c", "很实用")
    voter.click("[data-evaluate] button")
    voter.wait_for_load_state()
    assert p.evaluations.count() == 1
    shot(voter, "commons-proposal-evaluating-phone")
    assert overflow_x(voter) == 0
    shot(staff, "commons-proposal-done")

    for context in (ctx, ctx_staff, ctx_v, ctx2, ctx3, ctx4):
        context.close()
    for bucket in (outside, out_staff, out_v, out2, out3, out4):
        assert not bucket, bucket
    for bucket in (errors, err_staff, err_v, err2, err3, err4):
        assert not bucket, bucket


def test_commons_pages_fit_a_phone(browser, live_server, neighbourhood):
    """Activities, time bank and training at 390 px: nothing overflows."""
    from renzhi.commons.actions import activities, timebank, training

    w = neighbourhood
    start = timezone.now() + dt.timedelta(days=2)
    act = activities.publish_activity(
        w.alice,
        community=w.community_a,
        title="防汛应急演练",
        kind="drill",
        location="社区广场",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=20,
        volunteer_hours="2",
    )
    activities.sign_up(w.voters[0], act)
    training.create_course(
        w.alice, community=w.community_a, title="心肺复苏与AED使用", topic="first_aid"
    )
    timebank.post_help(
        w.voters[0],
        community=w.community_a,
        kind="request",
        category="escort",
        title="周三陪诊",
        hours="2",
    )
    ctx, page, outside, errors = phone(browser, live_server, "neighbour01")
    for path, name in [
        ("/commons/activities/", "commons-activities-phone"),
        (f"/commons/activities/{act.pk}/", "commons-activity-phone"),
        ("/commons/training/", "commons-training-phone"),
        ("/commons/timebank/", "commons-timebank-phone"),
        ("/commons/organisations/", "commons-organisations-phone"),
    ]:
        page.goto(live_server.url + path)
        shot(page, name)
        assert overflow_x(page) == 0, path
    page.goto(f"{live_server.url}/commons/activities/{act.pk}/")
    page.click("[data-signup]")
    page.wait_for_load_state()
    assert page.locator("[data-my-status='confirmed']").count() == 1
    ctx.close()
    ctx2, staff, out2, err2 = _open_page(browser, DESKTOP)
    login(staff, live_server, "alice")
    staff.goto(f"{live_server.url}/commons/activities/{act.pk}/")
    assert staff.locator("[data-qr] svg").count() == 1
    shot(staff, "commons-activity-organiser")
    staff.goto(f"{live_server.url}/commons/residences/")
    shot(staff, "commons-residences")
    staff.goto(f"{live_server.url}/commons/metrics/")
    shot(staff, "commons-metrics")
    ctx2.close()
    assert not outside and not out2 and not errors and not err2
