"""Issue 23 #8 (warnings): nobody who drafted, edited or submitted a warning approves it.

Before, only the drafter was barred: a street leader could edit someone else's draft (raise the
level, widen the area) and then approve and publish it alone."""

from __future__ import annotations

import pytest

from renzhi.core.errors import PermissionRefused
from renzhi.core.models import Membership, Role, User
from renzhi.warning import actions
from renzhi.warning.actions import WarningInput
from renzhi.warning.models import Status, Warning

from .conftest import draft_input

pytestmark = pytest.mark.django_db


def _second_leader(world) -> User:
    user = User.objects.create_user(username="lily", password=world.password)
    Membership.objects.create(user=user, role=Role.LEADER, place=world.street_a)
    return user


def test_it_refuses_approval_by_a_leader_who_edited_the_draft(world):
    draft = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    actions.edit_warning(world.leo, draft.pk, WarningInput(level=3, headline="甲街道供水异常"))
    actions.submit(world.alice, draft.pk)
    with pytest.raises(PermissionRefused, match="edited"):
        actions.approve(world.leo, draft.pk)
    assert Warning.objects.get(pk=draft.pk).status == Status.SUBMITTED
    assert set(Warning.objects.get(pk=draft.pk).editors.values_list("username", flat=True)) == {
        "alice",
        "leo",
    }
    actions.approve(_second_leader(world), draft.pk)  # another pair of eyes may
    assert Warning.objects.get(pk=draft.pk).status == Status.APPROVED


def test_it_refuses_approval_by_the_leader_who_submitted_it(world):
    draft = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    actions.submit(world.leo, draft.pk)
    with pytest.raises(PermissionRefused):
        actions.approve(world.leo, draft.pk)
    with pytest.raises(PermissionRefused):
        actions.reject(world.leo, draft.pk, "自己退回")


def test_a_leader_who_only_read_it_approves(world):
    draft = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    actions.submit(world.alice, draft.pk)
    actions.approve(world.leo, draft.pk)
    assert Warning.objects.get(pk=draft.pk).approved_by == world.leo
