"""The dispatcher's one click (accept) and correction; corrections feed the next training."""

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, AppealEvent, State
from renzhi.core.errors import ActionError
from renzhi.core.models import AuditEvent
from renzhi.triage import actions, training
from renzhi.triage.models import Decision, TriageSuggestion
from renzhi.triage.tests.conftest import set_thresholds

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(trained):
    w = trained
    set_thresholds(w.category_version, None)
    set_thresholds(w.unit_version, None)
    w.lift = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="7号楼电梯门打不开", lat=39.92, lng=116.42
    ).appeal
    w.water = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="9号楼停水两天了没有水", lat=39.92, lng=116.42
    ).appeal
    return w


def test_accepting_takes_the_top_suggestion_and_dispatches(queued):
    w = queued
    suggestion = actions.decide(w.dora, w.lift)
    lift = Appeal.objects.get(pk=w.lift.pk)
    assert lift.state == State.DISPATCHED and lift.unit == w.unit_a
    assert lift.category == w.cat_lift
    assert suggestion.status == Decision.ACCEPTED and suggestion.decided_by == w.dora
    assert AuditEvent.objects.filter(verb="triage.accept", object_id=str(suggestion.pk)).exists()


def test_a_correction_is_stored_and_used_by_the_next_training(queued):
    w = queued
    suggestion = actions.decide(w.dora, w.water, category=w.cat_lift, unit=w.unit_a)
    water = Appeal.objects.get(pk=w.water.pk)
    assert water.category == w.cat_lift and water.state == State.DISPATCHED
    assert suggestion.status == Decision.CORRECTED
    assert suggestion.final_category == w.cat_lift and suggestion.final_unit == w.unit_a
    assert suggestion.categories[0][0] == w.cat_outage.code  # what the model had said
    event = AppealEvent.objects.filter(appeal=water, verb="classify").last()
    assert event is not None and event.actor == w.dora
    data = training.training_set("category")
    assert data.corrections == 1
    assert data.labels[data.texts.index(water.description)] == w.cat_lift.code
    unit_data = training.training_set("unit")
    assert unit_data.labels[0] == w.unit_a.code and water.description in unit_data.texts[0]


def test_it_refuses_a_dispatcher_outside_the_jurisdiction(queued):
    w = queued
    with pytest.raises(ActionError):
        actions.decide(w.bob, w.lift)
    with pytest.raises(ActionError):
        actions.decide(w.charlie, w.lift)
    assert Appeal.objects.get(pk=w.lift.pk).state == State.RECEIVED
    assert TriageSuggestion.objects.get(appeal=w.lift).status == Decision.QUEUED


def test_it_refuses_an_appeal_already_dispatched(queued):
    w = queued
    actions.decide(w.dora, w.lift)
    with pytest.raises(ActionError) as refused:
        actions.decide(w.dora, w.lift, category=w.cat_outage, unit=w.unit_b)
    assert refused.value.errors[0].code == "invalid_state"
    assert Appeal.objects.get(pk=w.lift.pk).unit == w.unit_a


def test_an_inactive_category_is_refused_and_nothing_changes(queued):
    w = queued
    w.cat_outage.active = False
    w.cat_outage.save()
    with pytest.raises(ActionError) as refused:
        actions.decide(w.dora, w.water, category=w.cat_outage, unit=w.unit_a)
    assert refused.value.errors[0].field == "category"
    water = Appeal.objects.get(pk=w.water.pk)
    assert water.state == State.RECEIVED and water.category is None
