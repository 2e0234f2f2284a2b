"""Distribution: a real MQTT subscriber receives the alert; webhooks get a signed POST and are
retried after a failure; the SMS channel is a logging stub."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse

import pytest

from renzhi.warning import actions, distribution
from renzhi.warning.models import CapMessage, Delivery


def _broker() -> tuple[str, int]:
    from django.conf import settings

    url = urlparse(getattr(settings, "RENZHI_MQTT_URL", "mqtt://127.0.0.1:1883"))
    return url.hostname or "127.0.0.1", url.port or 1883


def _broker_up() -> bool:
    try:
        with socket.create_connection(_broker(), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _broker_up(), reason="no MQTT broker at RENZHI_MQTT_URL (Mosquitto)")
def test_a_real_mqtt_subscriber_receives_the_published_alert(world, publish_flow, sent, settings):
    import paho.mqtt.client as mqtt

    settings.RENZHI_MQTT_TOPIC = f"renzhi-test/{uuid.uuid4().hex[:8]}"
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    got = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_subscribe = lambda *a, **k: subscribed.set()

    def on_message(_c, _u, msg):
        received.append((msg.topic, msg.payload))
        got.set()

    client.on_message = on_message
    host, port = _broker()
    client.connect(host, port)
    client.subscribe(f"{settings.RENZHI_MQTT_TOPIC}/#", qos=1)
    client.loop_start()
    try:
        assert subscribed.wait(5)
        warning = sent(publish_flow, 3)
        assert got.wait(10), "no MQTT message arrived"
    finally:
        client.loop_stop()
        client.disconnect()
    message = CapMessage.objects.get(warning=warning)
    topics = {t for t, _p in received}
    assert distribution.mqtt_topic(message) in topics
    assert any(p.decode() == message.xml for _t, p in received)
    assert Delivery.objects.get(message=message, channel="mqtt").outcome == "ok"


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Publish and run what is queued on commit (the test transaction never commits)."""

    def run(flow, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return flow(*args)

    return run


class _Receiver(BaseHTTPRequestHandler):
    fail_first = 0
    calls: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append({"headers": dict(self.headers), "body": body, "at": time.time()})
        if len(type(self).calls) <= type(self).fail_first:
            self.send_response(503)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    # The test receiver listens on loopback, which the outbound guard refuses unless listed.
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.1"]
    _Receiver.calls = []
    _Receiver.fail_first = 0
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Receiver
    server.shutdown()


def _hook(world, server):
    return actions.create_webhook(
        world.leo,
        name="气象台",
        url=f"http://127.0.0.1:{server.server_address[1]}/cap",
        place_code=world.street_a.code,
    )


def test_a_webhook_receives_a_correctly_signed_post(world, publish_flow, sent, receiver, settings):
    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"  # not under test here
    server, handler = receiver
    hook = _hook(world, server)
    warning = sent(publish_flow, 4)
    assert len(handler.calls) == 1
    call = handler.calls[0]
    message = CapMessage.objects.get(warning=warning)
    assert call["body"].decode() == message.xml
    timestamp = call["headers"][distribution.TIMESTAMP_HEADER]
    signature = call["headers"][distribution.SIGNATURE_HEADER]
    assert distribution.verify(hook.secret, timestamp, call["body"], signature)
    assert not distribution.verify("wrong", timestamp, call["body"], signature)
    delivery = Delivery.objects.get(message=message, channel="webhook")
    assert (delivery.outcome, delivery.attempts, delivery.status_code) == ("ok", 1, 204)


def test_a_failed_webhook_is_retried_with_growing_pauses(
    world, publish_flow, sent, receiver, settings
):
    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"
    settings.RENZHI_WEBHOOK_BACKOFF = 0.1
    server, handler = receiver
    handler.fail_first = 2
    _hook(world, server)
    warning = sent(publish_flow, 4)
    assert len(handler.calls) == 3
    gaps = [b["at"] - a["at"] for a, b in zip(handler.calls, handler.calls[1:], strict=False)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # 0.1 s, then 0.2 s
    delivery = Delivery.objects.get(message__warning=warning, channel="webhook")
    assert (delivery.outcome, delivery.attempts) == ("ok", 3)


def test_a_webhook_that_keeps_failing_is_given_up(world, publish_flow, sent, receiver, settings):
    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"
    settings.RENZHI_WEBHOOK_BACKOFF = 0.01
    settings.RENZHI_WEBHOOK_MAX_ATTEMPTS = 3
    server, handler = receiver
    handler.fail_first = 99
    _hook(world, server)
    warning = sent(publish_flow, 4)
    delivery = Delivery.objects.get(message__warning=warning, channel="webhook")
    assert (delivery.outcome, delivery.attempts, delivery.status_code) == ("failed", 3, 503)


def test_webhooks_outside_the_area_get_nothing(world, publish_flow, sent, receiver, settings):
    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"
    server, handler = receiver
    actions.create_webhook(
        world.frank,
        name="乙街道",
        url=f"http://127.0.0.1:{server.server_address[1]}/b",
        place_code=world.street_b.code,
    )
    sent(publish_flow, 4)
    assert handler.calls == []


def test_webhook_input_is_checked(world):
    from renzhi.core.errors import ActionError, PermissionRefused

    with pytest.raises(ActionError) as refused:
        actions.create_webhook(world.leo, name="", url="ftp://x", place_code=world.street_b.code)
    assert {e.field for e in refused.value.errors} == {"name", "url", "place"}
    with pytest.raises(PermissionRefused):
        actions.create_webhook(world.alice, name="x", url="http://x.cn", place_code="110105001")


def test_subscribers_elsewhere_get_the_inbox_message_and_sms_is_a_stub(
    world, publish_flow, sent, settings, caplog
):
    from renzhi.core.models import Notification

    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"
    actions.subscribe(world.ivy, world.community_a.code, sms=True)
    with caplog.at_level("INFO", logger="renzhi.warning.tasks"):
        warning = sent(publish_flow, 4)
    assert Notification.objects.filter(user=world.ivy, object_id=str(warning.pk)).exists()
    assert "SMS stub" in caplog.text
