"""Issue 14 #3 and #4: neither CAP import nor webhooks make the server reach an internal
address — directly, through a redirect from an outside server, or through a name that resolves
to loopback — and the user never sees what answered there."""

from __future__ import annotations

import socket

import pytest

from renzhi.core.errors import ActionError
from renzhi.core.tests.listeners import Listener
from renzhi.warning import actions
from renzhi.warning.models import Delivery, Webhook

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>外部预警</title><id>urn:x</id>
<updated>2026-01-01T00:00:00Z</updated>
<entry><title>a</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>
<link rel="alternate" type="application/cap+xml" href="{href}"/></entry></feed>"""


@pytest.fixture
def internal(settings):
    settings.RENZHI_OUTBOUND_ALLOW = []
    with Listener("127.0.0.1") as listener:
        yield listener


@pytest.fixture
def resolves_to_loopback(monkeypatch):
    """cap.example.cn and hooks.example.cn resolve to 127.0.0.1; everything else as usual."""
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in ("cap.example.cn", "hooks.example.cn"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _import_link(world, href):
    with pytest.raises(ActionError) as refused:
        actions.import_cap(world.alice, ATOM.format(href=href))
    return " ".join(str(e.message) for e in refused.value.errors)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "cap.example.cn"])
def test_cap_import_never_fetches_an_internal_link(world, internal, resolves_to_loopback, host):
    message = _import_link(world, internal.url("/alert.xml", host=host))
    assert internal.hits == []
    assert "hunter2" not in message and "Connection" not in message


def test_cap_import_does_not_follow_a_redirect_inside(world, internal, settings):
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]  # the "outside" server, only
    with Listener("127.0.0.2", status=302, location=internal.url("/alert.xml")) as outside:
        message = _import_link(world, outside.url("/feed-item.xml"))
    assert len(outside.hits) == 1
    assert internal.hits == []
    assert "hunter2" not in message and "302" not in message


def test_cap_import_does_not_echo_what_an_outside_server_answered(world, settings):
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    with Listener("127.0.0.2", status=500) as outside:
        message = _import_link(world, outside.url("/alert.xml"))
    assert len(outside.hits) == 1
    assert "hunter2" not in message and "500" not in message


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8000/hook",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
        "http://2130706433/hook",
        "http://hooks.example.cn/hook",
    ],
)
def test_webhooks_to_internal_addresses_are_refused_when_saved(
    world, settings, resolves_to_loopback, url
):
    settings.RENZHI_OUTBOUND_ALLOW = []
    with pytest.raises(ActionError) as refused:
        actions.create_webhook(world.leo, name="内网", url=url, place_code=world.street_a.code)
    assert [e.field for e in refused.value.errors] == ["url"]
    assert not Webhook.objects.exists()


def test_the_webhook_form_names_the_url_field(world, client, settings):
    settings.RENZHI_OUTBOUND_ALLOW = []
    client.force_login(world.leo)
    response = client.post(
        "/warnings/webhooks/",
        {"name": "内网", "url": "http://169.254.169.254/", "place": world.street_a.code},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["url"] == ["不能使用该地址：它不是公共互联网地址。"]
    assert not Webhook.objects.exists()


@pytest.fixture
def delivered(world, settings, django_capture_on_commit_callbacks):
    """Publish a warning for community A and run the deliveries queued on commit."""
    from renzhi.warning.tests.conftest import draft_input

    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            w = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
            actions.submit(world.alice, w.pk)
            actions.approve(world.leo, w.pk)
            actions.publish(world.alice, w.pk)
        return Delivery.objects.get(channel="webhook")

    return run


def _saved_hook(world, url):
    """A webhook row saved before the checks existed (or whose name resolved elsewhere then)."""
    return Webhook.objects.create(name="旧", url=url, place=world.street_a, created_by=world.leo)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "hooks.example.cn"])
def test_delivery_checks_the_address_again(world, internal, delivered, resolves_to_loopback, host):
    _saved_hook(world, internal.url("/hook", host=host))
    delivery = delivered()
    assert internal.hits == []
    assert (delivery.outcome, delivery.error) == ("failed", "blocked")


def test_delivery_does_not_follow_redirects(world, internal, delivered, settings):
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    settings.RENZHI_WEBHOOK_MAX_ATTEMPTS = 1
    with Listener("127.0.0.2", status=302, location=internal.url("/hook")) as outside:
        actions.create_webhook(
            world.leo, name="外部", url=outside.url("/hook"), place_code=world.street_a.code
        )
        delivery = delivered()
    assert len(outside.hits) == 1 and outside.hits[0]["method"] == "POST"
    assert internal.hits == []
    assert delivery.outcome == "failed"


def test_a_name_that_moved_inside_after_saving_is_refused_at_delivery(
    world, internal, delivered, monkeypatch, settings
):
    answers = {"hooks.example.cn": "8.8.8.8"}
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    hook = actions.create_webhook(
        world.leo,
        name="外部",
        url=f"http://hooks.example.cn:{internal.port}/hook",
        place_code=world.street_a.code,
    )
    answers["hooks.example.cn"] = "127.0.0.1"
    delivery = delivered()
    assert delivery.webhook_id == hook.pk
    assert internal.hits == []
    assert delivery.outcome == "failed"
