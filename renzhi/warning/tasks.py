"""Background jobs of the warning app (django-tasks).

Periodic (`RENZHI_PERIODIC_TASKS`): `refresh_series` counts new appeals into the series,
`detect_today` runs the detectors for today (nightly: it is idempotent, running it more often
only refreshes the day's signals), `expire_warnings` retires warnings past their expiry.
`deliver` sends one queued delivery (webhook / MQTT / SMS stub); a failed webhook is retried
with exponential backoff up to `RENZHI_WEBHOOK_MAX_ATTEMPTS`. `resend_pending` is the outbox
sweep: deliveries whose task was lost in a crash are enqueued again (renzhi.core.sweeper).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from django_tasks import default_task_backend, task

from renzhi.core import outbound
from renzhi.warning import distribution
from renzhi.warning.models import Delivery

log = logging.getLogger("renzhi.warning.tasks")


@task()
def refresh_series() -> dict[str, int]:
    from renzhi.warning import series

    report = series.refresh()
    return {"appeals": report.appeals, "rows": report.rows}


@task()
def detect_today() -> dict[str, int]:
    from renzhi.warning import detection, series

    series.refresh()
    report = detection.run(timezone.localdate())
    return {"series": report.series, "signals": report.signals}


@task()
def expire_warnings() -> int:
    from renzhi.warning import actions

    return actions.expire_due()


@task()
def deliver(delivery_id: int) -> str:
    delivery = (
        Delivery.objects.select_related("message__warning__owner_place", "webhook")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.outcome in (Delivery.Outcome.OK, Delivery.Outcome.FAILED):
        return "skipped"
    if delivery.channel == Delivery.Channel.WEBHOOK:
        return _deliver_webhook(delivery)
    if delivery.channel == Delivery.Channel.MQTT:
        return _deliver_mqtt(delivery)
    return _deliver_sms(delivery)


def resend_pending(grace: float) -> int:
    """The warning outbox sweep (listed in RENZHI_OUTBOX_SWEEPS, run by renzhi.core.sweeper):
    deliveries still pending `grace` seconds after they were written or last tried (plus the
    backoff of a retry) and not queued any more are enqueued again. Returns how many."""
    from renzhi.core import sweeper

    now = timezone.now()
    queued = sweeper.queued_task_args(f"{__name__}.deliver")
    backoff = _setting("RENZHI_WEBHOOK_BACKOFF", 30.0)
    count = 0
    stale = Delivery.objects.filter(
        outcome__in=[Delivery.Outcome.PENDING, Delivery.Outcome.RETRY]
    ).only("pk", "outcome", "attempts", "created_at", "last_attempt_at")
    for delivery in stale.order_by("pk"):
        wait = grace
        if delivery.outcome == Delivery.Outcome.RETRY:
            wait += backoff * 2 ** max(delivery.attempts - 1, 0)
        since = delivery.last_attempt_at or delivery.created_at
        if (now - since).total_seconds() < wait or delivery.pk in queued:
            continue
        try:
            deliver.enqueue(delivery.pk)
        except Exception:  # a broken queue: the next sweep tries again
            log.exception("sweeper could not enqueue delivery %s", delivery.pk)
            continue
        count += 1
    return count


# --- channels -------------------------------------------------------------------------------


def _deliver_webhook(delivery: Delivery) -> str:
    """POST through the guarded outbound module: the URL is checked again now (it was checked
    when saved, but its name may resolve elsewhere today), no redirect is followed."""
    assert delivery.webhook is not None
    body = delivery.message.xml.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/cap+xml; charset=utf-8",
        distribution.TIMESTAMP_HEADER: timestamp,
        distribution.SIGNATURE_HEADER: distribution.sign(delivery.webhook.secret, timestamp, body),
        "X-Renzhi-Delivery": str(delivery.pk),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    try:
        response = outbound.fetch(
            delivery.webhook.url,
            method="POST",
            data=body,
            headers=headers,
            timeout=_setting("RENZHI_WEBHOOK_TIMEOUT", 10),
            max_bytes=64 * 1024,
        )
    except outbound.OutboundError as exc:
        delivery.status_code = None
        delivery.error = exc.code  # a category ("blocked", "timeout"…); details are in the log
        if exc.code in ("blocked", "invalid"):
            delivery.outcome = Delivery.Outcome.FAILED  # retrying cannot make it allowed
            delivery.save()
            return "failed"
    else:
        delivery.status_code = response.status
        if 200 <= response.status < 300:
            delivery.outcome = Delivery.Outcome.OK
            delivery.error = ""
        else:
            delivery.error = f"HTTP {response.status}"
    if delivery.outcome == Delivery.Outcome.OK:
        delivery.save()
        return "ok"
    if delivery.attempts >= _setting("RENZHI_WEBHOOK_MAX_ATTEMPTS", 6):
        delivery.outcome = Delivery.Outcome.FAILED
        delivery.save()
        log.warning("webhook %s gave up after %s attempts", delivery.target, delivery.attempts)
        return "failed"
    delivery.outcome = Delivery.Outcome.RETRY
    delivery.save()
    _retry(delivery.pk, delivery.attempts)
    return "retry"


def _deliver_mqtt(delivery: Delivery) -> str:
    import paho.mqtt.client as mqtt
    import paho.mqtt.publish as publish

    url = urlparse(_setting("RENZHI_MQTT_URL", "mqtt://127.0.0.1:1883"))
    auth: Any = {"username": url.username, "password": url.password} if url.username else None
    prefix = _setting("RENZHI_MQTT_TOPIC", "renzhi/cap")
    payload = delivery.message.xml.encode()
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    try:
        publish.multiple(
            [
                {"topic": delivery.target, "payload": payload, "qos": 1, "retain": True},
                {"topic": f"{prefix}/latest", "payload": payload, "qos": 1, "retain": True},
            ],
            hostname=url.hostname or "127.0.0.1",
            port=url.port or 1883,
            client_id="",
            auth=auth,
            protocol=mqtt.MQTTv311,
        )
        delivery.outcome = Delivery.Outcome.OK
        delivery.error = ""
    except (OSError, ValueError) as exc:
        delivery.outcome = Delivery.Outcome.FAILED
        delivery.error = str(exc)[:500]
        log.warning("MQTT publish to %s failed: %s", url.hostname, exc)
    delivery.save()
    return delivery.outcome


def _deliver_sms(delivery: Delivery) -> str:
    """STUB: logs the SMS it would send to each subscriber; no gateway is contacted."""
    warning = delivery.message.warning
    log.info(
        "SMS stub: would send [%s] %s to %s",
        warning.colour,
        warning.headline,
        delivery.target,
    )
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.outcome = Delivery.Outcome.OK
    delivery.save()
    return "ok"


def _retry(delivery_id: int, attempts: int) -> None:
    """Exponential backoff: base × 2^(attempts−1) seconds.

    A queue that can defer (the database backend) runs it later; the immediate backend used in
    tests cannot, so the delay is slept (capped) and the retry runs in-line.
    """
    delay = _setting("RENZHI_WEBHOOK_BACKOFF", 30.0) * 2 ** (attempts - 1)
    if default_task_backend.supports_defer:
        run_after = timezone.now() + dt.timedelta(seconds=delay)
        deliver.using(run_after=run_after).enqueue(delivery_id)
    else:
        time.sleep(min(delay, 2.0))
        deliver.enqueue(delivery_id)


def _setting(name: str, default):
    return getattr(settings, name, default)
