"""The warning lifecycle and who may take each step."""

from __future__ import annotations

import pytest

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import AuditEvent, Notification
from renzhi.warning import actions
from renzhi.warning.models import CapMessage, Status, Warning
from renzhi.warning.tests.conftest import draft_input


def test_a_level_iv_warning_goes_from_draft_to_published(world, publish_flow):
    w = publish_flow(4)
    assert w.status == Status.PUBLISHED
    assert w.approved_by == world.leo
    verbs = list(
        AuditEvent.objects.filter(object_type__icontains="warning", object_id=str(w.pk))
        .order_by("seq")
        .values_list("verb", flat=True)
    )
    assert verbs == ["warning.create", "warning.submit", "warning.approve", "warning.publish"]
    assert CapMessage.objects.get(warning=w).msg_type == "Alert"


def test_it_refuses_approving_ones_own_draft(world):
    w = actions.create_warning(world.leo, draft_input(4, [world.community_a.code]))
    actions.submit(world.leo, w.pk)
    with pytest.raises(PermissionRefused, match="drafted"):
        actions.approve(world.leo, w.pk)
    assert Warning.objects.get(pk=w.pk).status == Status.SUBMITTED


def test_a_level_ii_warning_needs_the_district_leader(world):
    w = actions.create_warning(world.alice, draft_input(2, [world.community_a.code]))
    actions.submit(world.alice, w.pk)
    with pytest.raises(PermissionRefused) as refused:
        actions.approve(world.leo, w.pk)
    assert refused.value.errors[0].field == "level"
    assert Warning.objects.get(pk=w.pk).status == Status.SUBMITTED
    actions.approve(world.frank, w.pk)
    assert Warning.objects.get(pk=w.pk).status == Status.APPROVED


def test_staff_cannot_approve(world):
    w = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    actions.submit(world.alice, w.pk)
    for user in (world.dora, world.bob, world.adam):
        with pytest.raises(PermissionRefused):
            actions.approve(user, w.pk)


def test_a_leader_of_another_street_cannot_approve(world):
    w = actions.create_warning(world.bob, draft_input(4, [world.community_b.code]))
    actions.submit(world.bob, w.pk)
    with pytest.raises(PermissionRefused):
        actions.approve(world.leo, w.pk)


def test_it_refuses_publishing_without_an_area(world):
    w = actions.create_warning(world.alice, draft_input(4, []))
    actions.submit(world.alice, w.pk)
    actions.approve(world.leo, w.pk)
    with pytest.raises(ActionError) as refused:
        actions.publish(world.alice, w.pk)
    assert [e.field for e in refused.value.errors] == ["areas"]
    w.refresh_from_db()
    assert w.status == Status.APPROVED
    assert not CapMessage.objects.exists()


def test_it_refuses_an_area_outside_the_jurisdiction(world):
    with pytest.raises(ActionError) as refused:
        actions.create_warning(world.alice, draft_input(4, [world.community_b.code]))
    assert refused.value.errors[0].field == "areas"
    assert not Warning.objects.exists()


def test_residents_and_unit_handlers_cannot_draft(world):
    for user in (world.charlie, world.erin, world.vera):
        with pytest.raises(PermissionRefused):
            actions.create_warning(user, draft_input(4, [world.community_a.code]))


def test_a_draft_without_headline_names_the_field(world):
    with pytest.raises(ActionError) as refused:
        actions.create_warning(world.alice, draft_input(4, headline=" "))
    assert refused.value.errors[0].field == "headline"


def test_publishing_tells_residents_in_the_area_only(world, publish_flow):
    w = publish_flow(3)
    assert Notification.objects.filter(user=world.charlie, object_id=str(w.pk)).exists()
    assert not Notification.objects.filter(user=world.ivy).exists()


def test_update_references_the_alert_and_cancel_references_both(world, publish_flow):
    w = publish_flow(3)
    actions.update(world.leo, w.pk, draft_input(3, headline="供水恢复中"), note="进展")
    w.refresh_from_db()
    assert w.status == Status.UPDATED and w.headline == "供水恢复中"
    actions.cancel(world.leo, w.pk, "供水已恢复")
    messages = list(CapMessage.objects.filter(warning=w).order_by("sent", "id"))
    assert [m.msg_type for m in messages] == ["Alert", "Update", "Cancel"]
    assert messages[0].identifier in messages[1].xml
    assert messages[0].identifier in messages[2].xml and messages[1].identifier in messages[2].xml
    w.refresh_from_db()
    assert w.status == Status.CANCELLED


def test_raising_a_live_warning_to_level_ii_needs_the_district_leader(world, publish_flow):
    w = publish_flow(3)
    with pytest.raises(PermissionRefused):
        actions.update(world.leo, w.pk, draft_input(2))
    w.refresh_from_db()
    assert w.level == 3 and w.status == Status.PUBLISHED
    actions.update(world.frank, w.pk, draft_input(2))


def test_cancel_needs_a_reason(world, publish_flow):
    w = publish_flow(4)
    with pytest.raises(ActionError) as refused:
        actions.cancel(world.leo, w.pk, "")
    assert refused.value.errors[0].field == "reason"
    w.refresh_from_db()
    assert w.status == Status.PUBLISHED


def test_it_refuses_steps_out_of_order(world):
    w = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    with pytest.raises(ActionError) as refused:
        actions.publish(world.alice, w.pk)
    assert refused.value.errors[0].code == "invalid_state"


def test_expired_warnings_leave_the_live_list(world, publish_flow):
    import datetime as dt

    from django.utils import timezone

    w = publish_flow(4)
    assert actions.expire_due(timezone.now() + dt.timedelta(days=3)) == 1
    w.refresh_from_db()
    assert w.status == Status.EXPIRED
