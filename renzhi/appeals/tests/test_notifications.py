"""Who hears about what: residents on acceptance, rejection and resolution (the feedback
request); units on dispatch, supervision and near-deadline; dispatchers on new, returned,
escalated and overdue appeals. The inbox row is written with the action; the SMS and WeChat
stubs run only after the transaction commits.
"""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django.utils import translation

from renzhi.appeals import actions
from renzhi.appeals.models import State
from renzhi.core.errors import ActionError
from renzhi.core.models import Membership, Notification, Role, User

S = State


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def inbox(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("pk").values_list("title", flat=True)
    )


def staff(username: str, role: str, place=None, unit=None, **extra) -> User:
    user = User.objects.create_user(username=username, password="Passw0rd!x", **extra)
    Membership.objects.create(user=user, role=role, place=place, unit=unit)
    return user


def test_the_resident_hears_that_the_appeal_was_accepted(flow):
    appeal = actions.accept(flow.dora, flow.bring(S.RECEIVED))
    assert inbox(flow.charlie) == [f"Your appeal {appeal.tracking_no} was accepted"]
    note = Notification.objects.get(user=flow.charlie)
    assert (note.link, note.object_type, note.object_id) == (
        f"/appeals/{appeal.tracking_no}/",
        "appeals.appeal",
        appeal.tracking_no,
    )


def test_the_resident_hears_why_an_appeal_was_not_accepted(flow):
    appeal = actions.reject(flow.dora, flow.bring(S.RECEIVED), reason="属于司法程序")
    note = Notification.objects.get(user=flow.charlie)
    assert note.title == f"Your appeal {appeal.tracking_no} was not accepted"
    assert note.body == "属于司法程序"


def test_the_resident_is_asked_to_rate_when_the_appeal_is_resolved(flow):
    appeal = flow.bring(S.RESOLVED)
    note = Notification.objects.filter(user=flow.charlie).order_by("pk").last()
    assert note.title == f"Appeal {appeal.tracking_no} is resolved — please rate it"
    assert note.body == "更换了控制板"


def test_the_unit_hears_of_a_new_dispatch(flow):
    appeal = flow.bring(S.DISPATCHED)
    assert inbox(flow.erin) == [f"New appeal {appeal.tracking_no} for your unit"]
    assert inbox(flow.hank) == []


def test_dispatchers_hear_of_an_appeal_the_routing_table_cannot_place(flow):
    appeal = actions.submit_appeal(
        flow.charlie,
        channel="web",
        description="停水了",
        category=flow.cat_outage,
        lat=39.92,
        lng=116.42,
    ).appeal
    assert appeal.state == S.RECEIVED  # no routing rule for water outages
    assert inbox(flow.dora) == [f"New appeal {appeal.tracking_no} waits for dispatch"]
    assert inbox(flow.charlie) == []


def test_only_the_streets_own_dispatchers_hear_of_a_return(flow):
    other = staff("olga", Role.DISPATCHER, flow.street_b)
    appeal = actions.return_to_dispatcher(flow.erin, flow.bring(S.SIGNED), reason="不是我们的")
    assert inbox(flow.dora)[-1] == f"Appeal {appeal.tracking_no} was returned by 甲一物业"
    assert inbox(other) == []


def test_a_district_escalation_reaches_district_dispatchers_only(flow):
    district = staff("dave", Role.DISPATCHER, flow.district)
    appeal = flow.bring(S.DISPATCHED)
    before = inbox(flow.dora)
    actions.escalate(flow.dora, appeal, reason="跨街道")
    assert inbox(district) == [f"Appeal {appeal.tracking_no} was escalated to you"]
    assert inbox(flow.dora) == before


def test_the_unit_hears_of_supervision_with_what_is_expected(flow):
    appeal = actions.supervise(flow.frank, flow.bring(S.SIGNED), note="今天必须修好")
    note = Notification.objects.filter(user=flow.erin).order_by("pk").last()
    assert (note.title, note.body) == (
        f"Appeal {appeal.tracking_no} is under supervision",
        "今天必须修好",
    )


def test_an_inactive_handler_is_not_notified(flow):
    flow.erin.is_active = False
    flow.erin.save()
    flow.bring(S.DISPATCHED)
    assert inbox(flow.erin) == []


def test_every_handler_of_the_unit_is_notified(flow):
    colleague = staff("ella", Role.UNIT_HANDLER, unit=flow.unit_a)
    appeal = flow.bring(S.DISPATCHED)
    title = f"New appeal {appeal.tracking_no} for your unit"
    assert inbox(colleague) == [title] and inbox(flow.erin) == [title]


def test_a_refused_action_notifies_nobody(flow):
    appeal = flow.bring(S.RECEIVED)
    count = Notification.objects.count()
    with pytest.raises(ActionError):
        actions.reject(flow.dora, appeal, reason="")
    assert Notification.objects.count() == count


def test_a_rolled_back_action_leaves_no_inbox_row_and_sends_nothing(
    flow, caplog, django_capture_on_commit_callbacks
):
    appeal = flow.bring(S.RECEIVED)
    count = Notification.objects.count()
    with (
        caplog.at_level(logging.INFO, logger="renzhi.notify"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.accept(flow.dora, appeal)
        raise RuntimeError("the request failed after the action")
    assert Notification.objects.count() == count
    assert callbacks == [] and "stub" not in caplog.text


def test_the_sms_and_wechat_stubs_log_after_commit_with_a_masked_phone(
    flow, caplog, django_capture_on_commit_callbacks
):
    appeal = flow.bring(S.RECEIVED)
    with caplog.at_level(logging.INFO, logger="renzhi.notify"):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            actions.accept(flow.dora, appeal)
        assert "stub" not in caplog.text  # nothing leaves before the commit
        for callback in callbacks:
            callback()
    title = f"Your appeal {appeal.tracking_no} was accepted"
    assert f"SMS stub to 138****0003: {title}" in caplog.text
    assert f"WeChat stub to user {flow.charlie.pk}: {title}" in caplog.text
    assert "13800000003" not in caplog.text
