"""The warning outbox: delivery rows are written in the publishing transaction; if the task
that sends them is lost (the process died after the commit), the sweeper sends them later."""

from __future__ import annotations

import pytest

from renzhi.core import sweeper
from renzhi.core.tests.listeners import Listener
from renzhi.warning import actions
from renzhi.warning.models import Delivery
from renzhi.warning.tests.conftest import draft_input


@pytest.fixture
def outside(settings):
    settings.RENZHI_OUTBOUND_ALLOW = ["127.0.0.2/32"]
    settings.RENZHI_MQTT_URL = "mqtt://127.0.0.1:1"
    with Listener("127.0.0.2", status=204, body=b"") as listener:
        yield listener


def _publish_and_crash(world):
    """Publish, but the on-commit enqueue never runs (the test transaction is not committed):
    as if the server was killed right after the commit."""
    w = actions.create_warning(world.alice, draft_input(4, [world.community_a.code]))
    actions.submit(world.alice, w.pk)
    actions.approve(world.leo, w.pk)
    return actions.publish(world.alice, w.pk)


def test_deliveries_are_written_with_the_warning_and_sent_by_the_sweeper(world, outside, settings):
    settings.RENZHI_OUTBOX_GRACE = 0
    actions.create_webhook(
        world.leo, name="外部", url=outside.url("/hook"), place_code=world.street_a.code
    )
    warning = _publish_and_crash(world)
    delivery = Delivery.objects.get(message__warning=warning, channel="webhook")
    assert delivery.outcome == "pending" and outside.hits == []
    report = sweeper.sweep()
    assert report.resent["renzhi.warning.tasks.resend_pending"] >= 1
    assert len(outside.hits) == 1
    assert outside.hits[0]["body"].decode() == delivery.message.xml
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts) == ("ok", 1)
    sweeper.sweep()  # sent ones are not sent again
    assert len(outside.hits) == 1


def test_the_sweeper_waits_out_the_grace_time(world, outside, settings):
    settings.RENZHI_OUTBOX_GRACE = 3600
    actions.create_webhook(
        world.leo, name="外部", url=outside.url("/hook"), place_code=world.street_a.code
    )
    warning = _publish_and_crash(world)
    sweeper.sweep()
    assert outside.hits == []
    assert Delivery.objects.get(message__warning=warning, channel="webhook").outcome == "pending"
