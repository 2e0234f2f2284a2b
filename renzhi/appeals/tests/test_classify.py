"""Changing the category of an open appeal (分类), e.g. from the triage queue."""

import pytest

from renzhi.appeals import actions
from renzhi.appeals.models import AppealEvent
from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import AuditEvent


def test_a_dispatcher_corrects_the_category_with_an_internal_step(two_appeals):
    w = two_appeals
    appeal, other = w.appeal_a, w.cat_outage
    actions.classify(w.dora, appeal, category=other)
    appeal.refresh_from_db()
    assert appeal.category == other and appeal.category_top == other.top
    step = AppealEvent.objects.filter(appeal=appeal, verb="classify").get()
    assert not step.public and step.data == {"category": "0101", "before": "0801"}
    assert AuditEvent.objects.filter(verb="appeal.classify", object_id=str(appeal.pk)).exists()


def test_a_resident_cannot_change_the_category(two_appeals):
    w = two_appeals
    with pytest.raises(PermissionRefused):
        actions.classify(w.charlie, w.appeal_a, category=w.cat_outage)
    w.appeal_a.refresh_from_db()
    assert w.appeal_a.category == w.cat_lift


def test_a_withdrawn_appeal_keeps_its_category(two_appeals):
    w = two_appeals
    appeal = w.appeal_a
    actions.withdraw(w.charlie, appeal, reason="已自行解决")
    with pytest.raises(ActionError) as caught:
        actions.classify(w.dora, appeal, category=w.cat_outage)
    assert caught.value.errors[0].field == "state"
    assert not AppealEvent.objects.filter(appeal=appeal, verb="classify").exists()
