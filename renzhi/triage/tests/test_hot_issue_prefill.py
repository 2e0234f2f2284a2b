"""`?hot_issue=<id>` pre-fills (incident, warning, proposal forms) show only hot issues the user
may see on the hot-issues page: every named user × every pre-fill path × a hot issue in each
jurisdiction. A resident or the staff of another community gets an empty form, never the title."""

from __future__ import annotations

import pytest
from django.utils import timezone

from renzhi.triage.models import HotIssue

ALL_USERS = (
    "alice bob charlie ivy dora erin gina frank adam root leo vera sam".split()  # noqa: SIM905
)
# Who may see which hot issue (HOT_ROLES within their jurisdiction; the global admin everywhere).
SEES = {
    "alice": {"A"},
    "bob": {"B"},
    "dora": {"A"},
    "frank": {"A", "B"},
    "leo": {"A"},
    "root": {"A", "B"},
}
PREFILL_PAGES = (
    "/emergency/incidents/new/?hot_issue={pk}",
    "/warnings/new/?hot_issue={pk}",
    "/commons/proposals/new/?hot_issue={pk}",
)


@pytest.fixture
def hot(world):
    now = timezone.now()

    def issue(community, title, current=True):
        return HotIssue.objects.create(
            computed_at=now,
            current=current,
            window_start=now,
            window_end=now,
            rank=1,
            heat=5.0,
            count=7,
            residents=6,
            concentration=1.0,
            title=title,
            community=community,
            street=community.parent,
            place_code=community.code,
        )

    return {
        "A": issue(world.community_a, "HOTSECRET甲一积水"),
        "B": issue(world.community_b, "HOTSECRET乙一停电", current=False),
    }


@pytest.mark.parametrize("username", ALL_USERS)
@pytest.mark.parametrize("page", PREFILL_PAGES)
def test_a_prefill_shows_a_hot_issue_only_to_those_who_may_see_it(
    client, world, hot, username, page
):
    client.force_login(getattr(world, username))
    for side, issue in hot.items():
        response = client.get(page.format(pk=issue.pk))
        shown = issue.title in response.content.decode()
        if response.status_code == 200 and side in SEES.get(username, set()):
            assert shown, f"{username} should get {side} pre-filled on {page}"
        else:
            assert not shown, f"{username} read hot issue {side} through {page}"


def test_a_resident_reads_no_hot_issue_of_any_street(client, world, hot):
    client.force_login(world.charlie)
    for issue in hot.values():
        page = client.get(f"/commons/proposals/new/?hot_issue={issue.pk}")
        assert page.status_code == 200
        assert issue.title not in page.content.decode()


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999999", "1e3"])
def test_a_malformed_hot_issue_id_is_ignored(client, world, hot, value):
    client.force_login(world.alice)
    for page in PREFILL_PAGES:
        response = client.get(page.format(pk=value))
        assert response.status_code == 200
        assert hot["A"].title not in response.content.decode()
