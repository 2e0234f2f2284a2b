"""Telling people: every CAP message goes to residents' inboxes, subscribers, webhooks, MQTT
and the SMS stub.

`dispatch(message)` runs inside the publishing transaction: it writes the inbox rows (so they
appear with the warning, or not at all) and the pending delivery rows, and enqueues the sending
tasks on commit. The sending itself lives in `renzhi.warning.tasks`.

Channels:
- in-app: residents whose home lies in the area, plus subscribers (place, CAP category, level);
  the banner on their pages comes from `renzhi.warning.context.live_warnings`.
- webhooks: POST of the CAP XML, signed with HMAC-SHA256 over "<timestamp>.<body>", retried with
  exponential backoff, every attempt logged in `Delivery`.
- MQTT: the CAP XML published (QoS 1, retained) on `<prefix>/<district>/<identifier>` and on
  `<prefix>/latest` to `settings.RENZHI_MQTT_URL` with paho-mqtt.
- SMS: a LOGGING STUB — it logs what it would send and contacts no gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from renzhi.core.models import User
from renzhi.core.notify import Message, notify_many
from renzhi.warning.models import CapMessage, Delivery, Subscription, Warning, Webhook

log = logging.getLogger("renzhi.warning.distribution")

SIGNATURE_HEADER = "X-Renzhi-Signature"
TIMESTAMP_HEADER = "X-Renzhi-Timestamp"


def dispatch(message: CapMessage) -> list[Delivery]:
    """Inbox rows now; webhook, MQTT and SMS deliveries queued and sent after commit."""
    warning = message.warning
    area_codes = list(warning.areas.values_list("code", flat=True))
    _notify_inbox(warning, message, area_codes)
    deliveries = [
        Delivery(message=message, channel=Delivery.Channel.WEBHOOK, webhook=hook, target=hook.url)
        for hook in _webhooks_for(area_codes)
    ]
    deliveries.append(
        Delivery(message=message, channel=Delivery.Channel.MQTT, target=mqtt_topic(message))
    )
    sms_users = _subscribers(warning, area_codes, sms_only=True)
    if sms_users:
        deliveries.append(
            Delivery(
                message=message,
                channel=Delivery.Channel.SMS,
                target=f"{len(sms_users)} subscribers",
            )
        )
    created = Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in created]
    transaction.on_commit(lambda: _enqueue(ids))
    return created


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex; sent as `sha256=<hex>`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def mqtt_topic(message: CapMessage) -> str:
    prefix = getattr(settings, "RENZHI_MQTT_TOPIC", "renzhi/cap")
    return f"{prefix}/{message.warning.owner_place.code[:6]}/{message.identifier}"


def residents_in(area_codes: Iterable[str]) -> list[User]:
    condition = Q(pk__in=[])
    for code in area_codes:
        condition |= Q(home_place__code__startswith=code)
    return list(User.objects.filter(condition, is_active=True))


# --- helpers --------------------------------------------------------------------------------


def _notify_inbox(warning: Warning, message: CapMessage, area_codes: list[str]) -> None:
    from django.utils.translation import gettext as _

    users = residents_in(area_codes) + _subscribers(warning, area_codes)
    if not users:
        return
    titles = {
        CapMessage.MsgType.ALERT: _("%(colour)s warning: %(headline)s"),
        CapMessage.MsgType.UPDATE: _("Updated %(colour)s warning: %(headline)s"),
        CapMessage.MsgType.CANCEL: _("Warning cancelled: %(headline)s"),
    }
    title = titles[CapMessage.MsgType(message.msg_type)] % {
        "colour": warning.colour_label,
        "headline": warning.headline,
    }
    body = warning.instructions if message.msg_type != "Cancel" else warning.cancel_reason
    notify_many(
        [
            (
                users,
                Message(
                    kind="warning",
                    title=title,
                    body=body,
                    link=reverse("warning:mine"),
                    object_type="warning",
                    object_id=str(warning.pk),
                ),
            )
        ]
    )


def _subscribers(warning: Warning, area_codes: list[str], sms_only: bool = False) -> list[User]:
    """Users subscribed to a place containing or inside the area, for this category and level."""
    place_match = Q(pk__in=[])
    for code in area_codes:
        place_match |= Q(place__code__startswith=code)
        for n in (6, 9, 12):
            if n < len(code):
                place_match |= Q(place__code=code[:n])
    subs = Subscription.objects.filter(place_match, min_level__gte=warning.level).filter(
        Q(cap_category="") | Q(cap_category=warning.cap_category)
    )
    if sms_only:
        subs = subs.filter(sms=True)
    return list({s.user_id: s.user for s in subs.select_related("user")}.values())


def _webhooks_for(area_codes: list[str]) -> list[Webhook]:
    hooks = Webhook.objects.filter(active=True).select_related("place")
    return [
        h
        for h in hooks
        if any(c.startswith(h.place.code) or h.place.code.startswith(c) for c in area_codes)
    ]


def _enqueue(ids: list[int]) -> None:
    from renzhi.warning import tasks

    for delivery_id in ids:
        try:
            tasks.deliver.enqueue(delivery_id)
        except Exception:  # a broken queue must not undo a published warning
            log.exception("could not enqueue delivery %s", delivery_id)
