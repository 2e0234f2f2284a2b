"""Notifications: one interface, pluggable senders.

The in-app inbox always receives a message. Further senders are listed in
`settings.RENZHI_NOTIFICATION_SENDERS`; the SMS and WeChat senders shipped here are STUBS that
only log what they would send (no gateway is contacted) — replace them with a real gateway
adapter in deployment.

Outbox: for every inbox row and every further sender a `NotificationSend` row is written in the
same transaction as the action, and a task that sends them is enqueued after the commit. So a
rolled back action notifies nobody, and a send whose task was lost (the process died right after
the commit) is picked up by the sweeper (`resend_pending`, in RENZHI_OUTBOX_SWEEPS).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from renzhi.core.models import Notification, NotificationSend, User
from renzhi.core.privacy import mask_phone

log = logging.getLogger("renzhi.notify")


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str = ""
    link: str = ""
    object_type: str = ""
    object_id: str = ""


class Sender:
    def send(self, user: User, message: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class SmsLogSender(Sender):
    """Stub: logs the SMS it would send."""

    def send(self, user: User, message: Message) -> None:
        if user.phone:
            log.info("SMS stub to %s: %s", mask_phone(user.phone), message.title)


class WeChatLogSender(Sender):
    """Stub: logs the WeChat template message it would send."""

    def send(self, user: User, message: Message) -> None:
        log.info("WeChat stub to user %s: %s", user.pk, message.title)


def notify(users: list[User] | User, message: Message) -> None:
    """Write the inbox rows now (inside the caller's transaction) and run other senders on
    commit."""
    notify_many([([users] if isinstance(users, User) else users, message)])


def notify_many(messages: list[tuple[list[User], Message]]) -> None:
    """Several messages at once (bulk intake): one insert for all inbox rows, senders on commit.

    Each message goes to its users once, however often a user is listed.
    """
    deliveries = []
    for users, message in messages:
        recipients = list({u.pk: u for u in users if u is not None}.values())
        if recipients:
            deliveries.append((recipients, message))
    if not deliveries:
        return
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user=u,
                kind=m.kind,
                title=m.title[:200],
                body=m.body,
                link=m.link[:300],
                object_type=m.object_type,
                object_id=m.object_id,
            )
            for recipients, m in deliveries
            for u in recipients
        ],
        batch_size=1000,
    )
    senders = list(getattr(settings, "RENZHI_NOTIFICATION_SENDERS", []))
    if not senders:
        return
    sends = NotificationSend.objects.bulk_create(
        [NotificationSend(notification=row, sender=path) for row in rows for path in senders],
        batch_size=1000,
    )
    ids = [s.pk for s in sends]
    transaction.on_commit(lambda: _enqueue(ids))


def send_pending(ids: list[int]) -> int:
    """Run the senders of these outbox rows that are still pending; each row is sent once."""
    done = 0
    cache: dict[str, Sender] = {}
    for send in (
        NotificationSend.objects.filter(pk__in=ids, status=NotificationSend.Status.PENDING)
        .select_related("notification__user")
        .order_by("pk")
    ):
        n = send.notification
        message = Message(n.kind, n.title, n.body, n.link, n.object_type, n.object_id)
        send.attempts += 1
        try:
            sender = cache.get(send.sender) or import_string(send.sender)()
            cache[send.sender] = sender
            sender.send(n.user, message)
        except Exception:  # a broken gateway must not break the others
            log.exception("notification sender %s failed", send.sender)
            max_tries = getattr(settings, "RENZHI_NOTIFICATION_MAX_ATTEMPTS", 3)
            if send.attempts >= max_tries:
                send.status = NotificationSend.Status.FAILED
        else:
            send.status = NotificationSend.Status.SENT
            send.sent_at = timezone.now()
            done += 1
        send.save(update_fields=["attempts", "status", "sent_at"])
    return done


def resend_pending(grace: float) -> int:
    """The notification outbox sweep (RENZHI_OUTBOX_SWEEPS): rows pending longer than `grace`
    seconds whose task is not queued any more are enqueued again. Returns how many rows."""
    import datetime as dt

    from renzhi.core import sweeper

    queued = sweeper.queued_task_args("renzhi.core.tasks.send_notifications")
    queued_ids = {i for batch in queued if isinstance(batch, list) for i in batch}
    cutoff = timezone.now() - dt.timedelta(seconds=grace)
    ids = [
        pk
        for pk in NotificationSend.objects.filter(
            status=NotificationSend.Status.PENDING, created_at__lte=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:5000]
        if pk not in queued_ids
    ]
    if ids:
        _enqueue(ids)
    return len(ids)


def _enqueue(ids: list[int]) -> None:
    from renzhi.core import tasks

    try:
        tasks.send_notifications.enqueue(ids)
    except Exception:  # a broken queue must not undo the action; the sweeper sends them later
        log.exception("could not enqueue %s notification sends", len(ids))
