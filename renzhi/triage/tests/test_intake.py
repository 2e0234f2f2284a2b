"""The intake hook: above the threshold an appeal is routed automatically (and says so on its
timeline and in the audit chain); below, it waits in the triage queue with top-3 suggestions."""

from unittest import mock

import pytest
from django.utils.translation import gettext as _

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import AppealEvent, Priority, State
from renzhi.core.models import AuditEvent
from renzhi.triage import queries
from renzhi.triage.models import Decision, TriageSuggestion
from renzhi.triage.tests.conftest import set_thresholds

pytestmark = pytest.mark.django_db


def submit(w, text, **kw):
    return appeal_actions.submit_appeal(
        w.charlie, channel="web", description=text, lat=39.92, lng=116.42, **kw
    ).appeal


def test_a_sure_category_is_set_and_routed_automatically(trained):
    w = trained
    set_thresholds(w.category_version, 0.5)
    appeal = submit(w, "5号楼电梯坏了，停在3楼不动")
    appeal.refresh_from_db()
    assert appeal.category == w.cat_lift
    assert appeal.state == State.DISPATCHED and appeal.unit == w.unit_a  # by the routing table
    suggestion = TriageSuggestion.objects.get(appeal=appeal)
    assert suggestion.status == Decision.AUTO and suggestion.auto_category
    assert suggestion.categories[0][0] == w.cat_lift.code and len(suggestion.categories) == 2
    note = AppealEvent.objects.get(appeal=appeal, verb="comment")
    assert note.automatic and not note.public and "电梯故障" in note.note
    audit = AuditEvent.objects.get(verb="appeal.triage", object_id=str(appeal.pk))
    assert audit.after["automatic"] is True and audit.after["category"] == w.cat_lift.code


def test_an_unsure_appeal_waits_in_the_queue_with_its_suggestions(trained):
    w = trained
    set_thresholds(w.category_version, None)
    set_thresholds(w.unit_version, None)
    appeal = submit(w, "5号楼电梯坏了，停在3楼不动")
    appeal.refresh_from_db()
    assert appeal.category is None and appeal.state == State.RECEIVED
    suggestion = TriageSuggestion.objects.get(appeal=appeal)
    assert suggestion.status == Decision.QUEUED
    assert suggestion.categories[0][0] == w.cat_lift.code
    assert 0 < suggestion.categories[0][1] <= 1
    assert suggestion.units[0][0] == w.unit_a.code
    assert appeal in queries.queue_for(w.dora)
    assert not AppealEvent.objects.filter(appeal=appeal, verb="comment").exists()


def test_the_unit_model_dispatches_what_the_routing_table_does_not_route(trained):
    w = trained
    set_thresholds(w.unit_version, 0.5)
    appeal = submit(w, "3号楼停水了，水龙头没有水", category=w.cat_outage)
    appeal.refresh_from_db()
    assert appeal.state == State.DISPATCHED and appeal.unit == w.unit_a
    dispatch = AppealEvent.objects.get(appeal=appeal, verb="dispatch")
    assert dispatch.automatic and dispatch.note == _(
        "Dispatched automatically by the triage model."
    )

    assert TriageSuggestion.objects.get(appeal=appeal).auto_unit


def test_below_the_unit_threshold_the_routing_gap_goes_to_the_queue(trained):
    w = trained
    set_thresholds(w.unit_version, 0.9999)
    appeal = submit(w, "3号楼停水了，水龙头没有水", category=w.cat_outage)
    appeal.refresh_from_db()
    assert appeal.state == State.RECEIVED and appeal.unit is None
    assert TriageSuggestion.objects.get(appeal=appeal).status == Decision.QUEUED


def test_an_urgent_appeal_is_flagged_and_jumps_the_queue(cases):
    w = cases
    calm = submit(w, "楼道灯不亮了")
    danger = submit(w, "楼道里有很重的煤气味，怀疑燃气泄漏")
    danger.refresh_from_db()
    assert danger.priority == Priority.URGENT
    assert list(queries.queue_for(w.dora))[:2] == [danger, calm]
    assert TriageSuggestion.objects.get(appeal=danger).urgent_phrases
    assert AppealEvent.objects.get(appeal=danger, verb="comment").automatic


def test_intake_goes_on_when_triage_fails(cases):
    w = cases
    with mock.patch("renzhi.triage.intake.propose", side_effect=RuntimeError("broken")):
        appeal = submit(w, "3号楼电梯坏了", category=w.cat_lift)
    appeal.refresh_from_db()
    assert appeal.state == State.DISPATCHED and appeal.unit == w.unit_a
    assert not TriageSuggestion.objects.filter(appeal=appeal).exists()


def test_without_a_model_the_queue_still_lists_routing_candidates(cases, model_dir):
    w = cases
    appeal = submit(w, "电梯坏了", category=w.cat_lift, auto_route=False)
    from renzhi.triage.intake import ensure_suggestions

    suggestion = ensure_suggestions([appeal])[appeal.pk]
    assert suggestion.categories == []
    assert suggestion.units == [[w.unit_a.code, None]]
