"""Issue 23 #4: the SLA extension request is bounded as its schema says (0 < days ≤ 30); a
request for 9999 days is a 400 naming `days`, and nothing is asked for or moved."""

from __future__ import annotations

import pytest

from renzhi.appeals.models import Appeal, ExtensionRequest, State

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days", [9999, 30.5, 0, -1])
def test_an_extension_outside_0_to_30_working_days_is_refused_naming_days(flow, api_client, days):
    appeal = flow.bring(State.SIGNED)
    before = Appeal.objects.get(pk=appeal.pk).resolve_deadline
    api_client.force_login(flow.erin)
    response = api_client.post_json(
        f"/api/appeals/{appeal.tracking_no}/request-extension",
        {"days": days, "reason": "需要采购配件"},
    )
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["detail"]] == ["days"]
    assert not ExtensionRequest.objects.filter(appeal=appeal).exists()
    assert Appeal.objects.get(pk=appeal.pk).resolve_deadline == before
