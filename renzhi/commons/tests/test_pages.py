"""Pages: each role reaches what its menu shows; forms drive the actions; refusals are shown by
field and change nothing; the Chinese pages carry no English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from renzhi.commons import ballot_box
from renzhi.commons.actions import activities, votes
from renzhi.commons.actions import organisations as orgs
from renzhi.commons.models import (
    Ballot,
    Organisation,
    OrgStatus,
    Proposal,
    SealedBallot,
    Support,
)
from renzhi.commons.tests.conftest import discussed_proposal, soon, under_way
from renzhi.core.tests.matrix import ALL_USERS, PageEndpoint, check_page

TAKE_PART = set(ALL_USERS) - {"erin"}  # gina: a grid worker reads (her grid holds no community)
PAGES = [
    ("hub", "/commons/", TAKE_PART),
    ("organisations", "/commons/organisations/", TAKE_PART),
    ("new organisation", "/commons/organisations/new/", TAKE_PART),
    ("proposals", "/commons/proposals/", TAKE_PART),
    ("new proposal", "/commons/proposals/new/", TAKE_PART),
    ("activities", "/commons/activities/", TAKE_PART),
    ("new activity", "/commons/activities/new/", TAKE_PART),
    ("training", "/commons/training/", TAKE_PART),
    ("time bank", "/commons/timebank/", TAKE_PART),
    ("household records", "/commons/residences/", TAKE_PART),
    (
        "metrics",
        "/commons/metrics/",
        {"alice", "bob", "dora", "frank", "adam", "root", "leo", "sam", "gina"},
    ),
]


@pytest.mark.parametrize("username", ALL_USERS)
@pytest.mark.parametrize(("name", "url", "allowed"), PAGES)
def test_pages_follow_the_menu_rules(world, client, username, name, url, allowed):
    check_page(client, world, PageEndpoint(name, url, frozenset(allowed)), username)


def zh(client: Client) -> Client:
    client.cookies["django_language"] = "zh-hans"
    return client


ENGLISH = re.compile(r">[^<>{}]*\b(the|and|of|vote|proposal|activity|Sign|Submit)\b[^<>]*<")


def test_the_proposal_page_in_chinese_has_no_english(world, client, electors):
    people = electors(3)
    p = discussed_proposal(world)
    votes.open_vote(world.alice, p, method="yes_no", closes_at=soon())
    for c in (zh(client),):
        c.force_login(people[0])
        html = c.get(f"/commons/proposals/{p.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        body = html.split("<main", 1)[1].split("</main>", 1)[0]
        assert "投票" in body or "表决" in body
        assert not ENGLISH.search(body), ENGLISH.search(body).group(0)


def test_a_resident_files_an_organisation_through_the_form(world, client):
    client.force_login(world.charlie)
    response = client.post(
        "/commons/organisations/new/",
        {
            "community": world.community_a.code,
            "name": "楼道微更新小组",
            "kind": "mutual_aid",
            "purpose": "美化楼道",
            "activity_area": "3号楼",
            "members": "张三\n李四",
        },
    )
    org = Organisation.objects.get(name="楼道微更新小组")
    assert response.status_code == 302 and org.status == OrgStatus.SUBMITTED
    assert org.members.count() == 3


def test_approving_ones_own_organisation_shows_the_refusal(world, client):
    org = orgs.file_organisation(
        world.alice,
        community=world.community_a,
        name="社工站",
        kind="mutual_aid",
        purpose="p",
        activity_area="a",
        submit=True,
    )
    client.force_login(world.alice)
    response = client.post(f"/commons/organisations/{org.pk}/act/approve/", follow=True)
    text = response.content.decode()
    assert "field-organisation" in text
    assert Organisation.objects.get(pk=org.pk).status == OrgStatus.SUBMITTED


def test_supporting_twice_through_the_page_is_refused(world, client, electors):
    people = electors(10)
    p = Proposal.objects.create(
        community=world.community_a,
        title="t",
        body="b",
        origin="resident",
        author=people[0],
        support_threshold=5,
    )
    client.force_login(people[1])
    client.post(f"/commons/proposals/{p.pk}/act/support/")
    response = client.post(f"/commons/proposals/{p.pk}/act/support/", follow=True)
    assert "field-proposal" in response.content.decode()
    assert Support.objects.filter(proposal=p).count() == 1


def test_a_ballot_cast_through_the_page_is_counted_once(world, client, electors):
    people = electors(3)
    p = discussed_proposal(world)
    votes.open_vote(world.alice, p, method="yes_no", closes_at=soon())
    client.force_login(people[0])
    client.post(f"/commons/proposals/{p.pk}/act/cast/", {"choice": "0"})
    response = client.post(f"/commons/proposals/{p.pk}/act/cast/", {"choice": "1"}, follow=True)
    assert "field-voter" in response.content.decode()
    assert [ballot_box.open_seal(b.sealed).choice for b in SealedBallot.objects.all()] == [[0]]
    assert not Ballot.objects.exists()  # written only at the count


def test_the_checkin_page_from_the_qr_code_checks_in(world, client, electors):
    (person,) = electors(1)
    start = timezone.now() + dt.timedelta(days=1)
    act = activities.publish_activity(
        world.alice,
        community=world.community_a,
        title="防汛演练",
        kind="drill",
        location="河边",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=3,
    )
    activities.sign_up(person, act)
    client.force_login(world.alice)
    page = client.get(f"/commons/activities/{act.pk}/").content.decode()
    assert "<svg" in page and "data-qr" in page
    client.force_login(person)
    under_way(act)
    url = f"/commons/activities/{act.pk}/checkin?t={act.checkin_token}"
    assert client.get(url).status_code == 200
    client.post(url, {"t": act.checkin_token})
    assert act.signups.get(user=person).checked_in_at is not None


def test_the_new_proposal_page_prefills_from_an_appeal_and_ignores_unknown(world, client):
    client.force_login(world.charlie)
    assert client.get("/commons/proposals/new/?appeal=NOPE&hot_issue=999999").status_code == 200
