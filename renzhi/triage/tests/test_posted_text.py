"""Issue 23 #9: the triage pages read codes and phrases from the POST through the text checks —
a NUL byte or 5,000 characters is a message on the page, never a 500, and nothing changes."""

import pytest
from django.urls import reverse

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, AppealEvent
from renzhi.triage.models import UrgencyRule

pytestmark = pytest.mark.django_db

BAD = [("\x00", "U+0000"), ("长" * 5000, "5000")]


@pytest.mark.parametrize(
    ("field", "value", "shown"), [(f, v, s) for f in ("category", "unit") for v, s in BAD]
)
def test_the_decide_page_refuses_a_bad_code_with_a_message(cases, client, field, value, shown):
    w = cases
    appeal = appeal_actions.submit_appeal(
        w.charlie,
        channel="web",
        description="7号楼电梯门打不开",
        lat=39.92,
        lng=116.42,
        auto_route=False,
    ).appeal
    events = AppealEvent.objects.count()
    client.force_login(w.dora)
    response = client.post(
        reverse("triage:decide", args=[appeal.tracking_no]), {field: value}, follow=True
    )
    assert response.status_code == 200
    assert shown in response.content.decode()
    after = Appeal.objects.get(pk=appeal.pk)
    assert (after.state, after.unit_id, after.version) == (appeal.state, None, appeal.version)
    assert AppealEvent.objects.count() == events


@pytest.mark.parametrize(("value", "shown"), BAD)
def test_the_urgency_rule_page_refuses_a_bad_phrase_with_a_message(cases, client, value, shown):
    w = cases
    rules = UrgencyRule.objects.count()
    client.force_login(w.root)
    response = client.post(
        reverse("triage:urgency_rule"), {"phrase": value, "weight": "1"}, follow=True
    )
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert UrgencyRule.objects.count() == rules
