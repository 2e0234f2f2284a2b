"""Notifications: one interface, pluggable senders.

The in-app inbox always receives a message. Further senders are listed in
`settings.RENZHI_NOTIFICATION_SENDERS`; the SMS and WeChat senders shipped here are STUBS that
only log what they would send (no gateway is contacted) — replace them with a real gateway
adapter in deployment. Sending happens after the surrounding transaction commits, so a rolled
back action notifies nobody.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from renzhi.core.models import Notification, User
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
    Notification.objects.bulk_create(
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
    senders = [
        import_string(path)() for path in getattr(settings, "RENZHI_NOTIFICATION_SENDERS", [])
    ]
    if senders:

        def deliver() -> None:
            for recipients, message in deliveries:
                for user in recipients:
                    for sender in senders:
                        try:
                            sender.send(user, message)
                        except Exception:  # a broken gateway must not break the action
                            log.exception("notification sender %s failed", type(sender).__name__)

        transaction.on_commit(deliver)
