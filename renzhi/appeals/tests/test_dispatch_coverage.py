"""Issue 23 #5: a case goes only to a unit that serves its place (or works inside the
dispatcher's own jurisdiction); otherwise a unit of another street would read the resident's
phone. The same rule holds for dispatch and transfer, through the API and the action."""

import pytest

from renzhi.appeals import actions
from renzhi.appeals.models import Appeal, State
from renzhi.core.errors import ActionError
from renzhi.core.models import Unit

pytestmark = pytest.mark.django_db


def test_it_refuses_to_dispatch_to_a_unit_of_another_street_through_the_api(flow, api_client):
    w = flow
    appeal = w.bring(State.ACCEPTED)
    before = w.snapshot(appeal)
    api_client.force_login(w.dora)
    response = api_client.post_json(
        f"/api/appeals/{appeal.tracking_no}/dispatch", {"unit_code": "U-WY-B"}
    )
    assert response.status_code == 400
    assert "unit_code" in str(response.json())
    after = w.snapshot(appeal)
    assert (after["row"], after["events"]) == (before["row"], before["events"])
    # hank, the handler of unit B, never sees the resident's case
    api_client.force_login(w.hank)
    assert api_client.get(f"/api/appeals/{appeal.tracking_no}").status_code == 404


def test_it_refuses_to_transfer_to_a_unit_that_does_not_serve_the_place(flow):
    w = flow
    appeal = w.bring(State.SIGNED)
    with pytest.raises(ActionError) as refused:
        actions.transfer(w.dora, appeal, unit=w.unit_b, reason="转派")
    assert refused.value.errors[0].field == "unit"
    assert Appeal.objects.get(pk=appeal.pk).unit_id == w.unit_a.pk


def test_it_refuses_a_unit_that_serves_no_place_at_all(flow):
    w = flow
    nowhere = Unit.objects.create(code="U-NOWHERE", name="无辖区单位", kind="other")
    appeal = w.bring(State.ACCEPTED)
    with pytest.raises(ActionError):
        actions.dispatch(w.dora, appeal, unit=nowhere)


def test_it_dispatches_to_units_covering_the_place_or_working_in_the_jurisdiction(flow):
    w = flow
    district_unit = Unit.objects.create(code="U-QU", name="区水务局", kind="water")
    district_unit.places.set([w.district])
    grid_unit = Unit.objects.create(code="U-A1", name="甲一网格保洁", kind="sanitation")
    grid_unit.places.set([w.grid_a2])  # inside dora's street, not the appeal's grid
    appeal = w.bring(State.ACCEPTED)
    actions.dispatch(w.dora, appeal, unit=district_unit)
    assert Appeal.objects.get(pk=appeal.pk).unit_id == district_unit.pk
    actions.sign(_handler(w, district_unit), appeal)
    actions.transfer(w.dora, appeal, unit=grid_unit, reason="属地保洁")
    assert Appeal.objects.get(pk=appeal.pk).unit_id == grid_unit.pk


def _handler(w, unit):
    from renzhi.core.models import Membership, Role, User

    user = User.objects.create_user(username=f"h-{unit.code}", password=w.password)
    Membership.objects.create(user=user, role=Role.UNIT_HANDLER, unit=unit)
    return user
