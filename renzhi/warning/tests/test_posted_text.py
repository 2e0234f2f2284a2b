"""Issue 23 #9: the warning pages read reasons and notes from the POST through the text checks —
a NUL byte or 5,000 characters is a message on the page, never a 500, and nothing changes."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from renzhi.core.models import AuditEvent
from renzhi.warning.models import Series, Signal, Warning

pytestmark = pytest.mark.django_db

BAD = [("\x00", "U+0000"), ("长" * 5000, "5000")]


def _row(model, pk):
    return model.objects.filter(pk=pk).values().get()


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_cancelling_a_warning_refuses_a_bad_reason_with_a_message(
    world, publish_flow, client, value, shown
):
    warning = publish_flow()
    client.force_login(world.alice)
    before, events = _row(Warning, warning.pk), AuditEvent.objects.count()
    response = client.post(
        reverse("warning:step", args=[warning.pk, "cancel"]), {"reason": value}, follow=True
    )
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert _row(Warning, warning.pk) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_updating_a_live_warning_refuses_a_bad_note_with_a_message(
    world, publish_flow, client, value, shown
):
    warning = publish_flow()
    client.force_login(world.alice)
    before, events = _row(Warning, warning.pk), AuditEvent.objects.count()
    expires = timezone.localtime(timezone.now() + dt.timedelta(days=3))
    response = client.post(
        reverse("warning:edit", args=[warning.pk]),
        {
            "level": "4",
            "headline": "甲一社区供水异常（更新）",
            "event": "供水问题",
            "cap_category": "Infra",
            "description": "多户居民反映停水。",
            "instructions": "请储备饮用水。",
            "areas": [world.community_a.code],
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M"),
            "note": value,
        },
    )
    assert response.status_code in (200, 400)
    assert shown in response.content.decode()
    assert _row(Warning, warning.pk) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_dismissing_a_signal_refuses_a_bad_reason_with_a_message(world, client, value, shown):
    series = Series.objects.create(place=world.community_a, place_level="community")
    signal = Signal.objects.create(
        series=series,
        day=dt.date(2026, 3, 2),
        method="ears_c1",
        observed=9,
        expected=1,
        upperbound=4,
        score=5,
    )
    before = _row(Signal, signal.pk)
    client.force_login(world.alice)
    response = client.post(
        reverse("warning:signal_step", args=[signal.pk, "dismiss"]),
        {"reason": value},
        follow=True,
    )
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert _row(Signal, signal.pk) == before
