"""Issue 23 #5: automatic dispatch at intake follows a routing rule (or the intake triage's
unit) only when the unit serves the appeal's place. A rule left pointing at another street's unit
(its coverage changed after the rule was made) leaves the appeal for the dispatcher, with an
internal, audited timeline step saying why."""

from unittest import mock

import pytest

from renzhi.appeals import actions
from renzhi.appeals.actions.cases import IntakeRow
from renzhi.appeals.models import Appeal, AppealEvent, RoutingRule, State
from renzhi.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _stale_rule(w):
    """The lift rule of community A now names unit B, which serves community B only."""
    RoutingRule.objects.filter(place=w.community_a).update(unit=w.unit_b)


def _submit(w):
    return actions.submit_appeal(
        w.charlie,
        channel="web",
        description="3号楼电梯停了",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal


def test_intake_leaves_the_appeal_for_the_dispatcher_when_the_rule_names_a_unit_elsewhere(flow):
    w = flow
    _stale_rule(w)
    appeal = Appeal.objects.get(pk=_submit(w).pk)
    assert appeal.state == State.RECEIVED
    assert appeal.unit_id is None
    step = AppealEvent.objects.get(appeal=appeal, verb="route_refused")
    assert step.automatic and not step.public and step.unit_id == w.unit_b.pk
    assert AuditEvent.objects.filter(verb="appeal.route_refused").count() == 1


def test_intake_still_dispatches_by_a_rule_whose_unit_serves_the_place(flow):
    w = flow
    appeal = Appeal.objects.get(pk=_submit(w).pk)
    assert (appeal.state, appeal.unit_id) == (State.DISPATCHED, w.unit_a.pk)
    assert not AppealEvent.objects.filter(appeal=appeal, verb="route_refused").exists()


def test_intake_ignores_a_triage_unit_that_does_not_serve_the_place(flow, settings):
    w = flow
    RoutingRule.objects.filter(place=w.community_a).delete()
    settings.RENZHI_INTAKE_TRIAGE = "renzhi.appeals.tests.test_routing_coverage.suggest_unit_b"
    with mock.patch.dict(globals(), {"_W": w}):
        appeal = Appeal.objects.get(pk=_submit(w).pk)
    assert (appeal.state, appeal.unit_id) == (State.RECEIVED, None)
    assert AppealEvent.objects.filter(appeal=appeal, verb="route_refused").exists()


_W = None


def suggest_unit_b(appeal):
    return _W.unit_b, "triage"


def test_batch_intake_leaves_the_appeal_for_the_dispatcher_too(flow):
    w = flow
    _stale_rule(w)
    [appeal] = actions.submit_many(
        w.dora,
        [IntakeRow(description="电梯停了", category=w.cat_lift, lat=39.92, lng=116.42)],
    )
    appeal = Appeal.objects.get(pk=appeal.pk)
    assert (appeal.state, appeal.unit_id) == (State.RECEIVED, None)
