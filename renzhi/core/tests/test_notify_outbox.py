"""The notification outbox: further senders (SMS, WeChat) are rows written with the action and
sent after commit; a send whose task was lost is sent by the sweeper, once."""

from __future__ import annotations

import pytest

from renzhi.core import notify, sweeper
from renzhi.core.models import NotificationSend

SENT: list[tuple[str, str]] = []


class Recorder(notify.Sender):
    def send(self, user, message):
        SENT.append((user.username, message.title))


class Broken(notify.Sender):
    def send(self, user, message):
        raise ConnectionError("gateway down")


@pytest.fixture(autouse=True)
def recorder(settings):
    SENT.clear()
    settings.RENZHI_NOTIFICATION_SENDERS = ["renzhi.core.tests.test_notify_outbox.Recorder"]
    return SENT


def test_sends_are_written_with_the_action_and_run_after_commit(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify([world.charlie, world.ivy], notify.Message(kind="t", title="停水通知"))
        assert NotificationSend.objects.filter(status="pending").count() == 2
        assert SENT == []
    assert sorted(SENT) == [("charlie", "停水通知"), ("ivy", "停水通知")]
    assert set(NotificationSend.objects.values_list("status", flat=True)) == {"sent"}


def test_a_send_whose_task_was_lost_is_sent_by_the_sweeper_once(world, settings):
    settings.RENZHI_OUTBOX_GRACE = 0
    notify.notify(world.charlie, notify.Message(kind="t", title="停电通知"))  # no commit: lost
    assert SENT == []
    sweeper.sweep()
    assert SENT == [("charlie", "停电通知")]
    sweeper.sweep()
    assert SENT == [("charlie", "停电通知")]


def test_the_sweeper_waits_out_the_grace_time(world, settings):
    settings.RENZHI_OUTBOX_GRACE = 3600
    notify.notify(world.charlie, notify.Message(kind="t", title="停电通知"))
    sweeper.sweep()
    assert SENT == []
    assert NotificationSend.objects.get().status == "pending"


def test_a_broken_gateway_is_retried_then_given_up(world, settings):
    settings.RENZHI_NOTIFICATION_SENDERS = ["renzhi.core.tests.test_notify_outbox.Broken"]
    settings.RENZHI_NOTIFICATION_MAX_ATTEMPTS = 2
    notify.notify(world.charlie, notify.Message(kind="t", title="x"))
    ids = list(NotificationSend.objects.values_list("pk", flat=True))
    assert notify.send_pending(ids) == 0
    assert NotificationSend.objects.get().status == "pending"
    notify.send_pending(ids)
    row = NotificationSend.objects.get()
    assert (row.status, row.attempts) == ("failed", 2)
