"""Time bank: matching within the community, credits as a ledger that never goes negative."""

from __future__ import annotations

from decimal import Decimal

import pytest

from renzhi.commons.actions import timebank
from renzhi.commons.models import HelpStatus, LedgerEntry, TimeAccount
from renzhi.core.errors import ActionError
from renzhi.core.skills import record_hours


def test_help_is_matched_and_paid_from_the_helped_to_the_helper(world):
    record_hours(
        world.charlie,
        world.community_a,
        Decimal("3"),
        __import__("datetime").date(2026, 1, 5),
        source_type="emergency.task",
        source_id="42",
    )
    assert timebank.earn_from_service() == 1
    request = timebank.post_help(
        world.charlie,
        community=world.community_a,
        kind="request",
        category="shopping",
        title="帮忙买菜",
        hours="1.5",
    )
    offer = timebank.post_help(
        world.vera,
        community=world.community_a,
        kind="offer",
        category="shopping",
        title="每周可代买菜",
        hours="1",
    )
    assert timebank.matches_for(request) == [offer]
    with pytest.raises(ActionError):
        timebank.respond(world.ivy, request)  # another community
    timebank.respond(world.vera, request)
    with pytest.raises(ActionError):
        timebank.complete_help(world.vera, request)  # the helped confirms, not the helper
    post = timebank.complete_help(world.charlie, request)
    assert post.status == HelpStatus.DONE
    assert TimeAccount.objects.get(user=world.charlie).balance == Decimal("1.5")
    assert TimeAccount.objects.get(user=world.vera).balance == Decimal("1.5")
    statement = list(
        LedgerEntry.objects.filter(account__user=world.charlie).values_list("kind", "amount")
    )
    assert statement == [("earned", Decimal("3")), ("help_received", Decimal("-1.5"))]


def test_a_transfer_beyond_the_balance_is_refused_and_changes_nothing(world):
    with pytest.raises(ActionError) as refused:
        timebank.transfer(world.charlie, world.vera, "2")
    assert refused.value.errors[0].field == "hours"
    assert not LedgerEntry.objects.exists()
    assert not TimeAccount.objects.filter(balance__gt=0).exists()
