"""Incidents: reporting, the status machine, the live log and links — with scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.core.errors import ActionError, PermissionRefused
from renzhi.core.models import AuditEvent
from renzhi.emergency.actions import incidents
from renzhi.emergency.models import Incident, IncidentLog, IncidentStatus
from renzhi.emergency.queries_incidents import incidents_for
from renzhi.emergency.tests import factories_incidents as factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood_plan(world):
    return factories.add_flood_plan(world)


@pytest.fixture
def flood(flood_plan):
    return factories.add_flood(flood_plan)


def test_staff_report_an_incident_in_their_community(world):
    incident = incidents.report(
        world.alice, title="积水", kind="flood", place=world.community_a, severity="3"
    )
    assert incident.status == IncidentStatus.REPORTED
    assert list(incident.places.all()) == [world.community_a]
    assert incident.log.filter(kind="status").exists()
    assert AuditEvent.objects.filter(verb="emergency.incident.report").count() == 1


def test_it_refuses_bad_input_naming_each_field_and_creates_nothing(world):
    with pytest.raises(ActionError) as exc:
        incidents.report(
            world.alice,
            title="",
            kind="volcano",
            place=world.community_a,
            severity=7,
            started_at=timezone.now() + dt.timedelta(days=1),
            lat=91,
            lng=0,
        )
    fields = {e.field for e in exc.value.errors}
    assert fields == {"title", "kind", "severity", "started_at", "lat"}
    assert Incident.objects.count() == 0


def test_affected_places_must_lie_inside_the_incident_place(world):
    with pytest.raises(ActionError) as exc:
        incidents.report(
            world.leo,
            title="x",
            kind="fire",
            place=world.street_a,
            places=[world.community_b],
            severity=2,
        )
    assert exc.value.errors[0].field == "places"
    assert Incident.objects.count() == 0


def test_it_refuses_an_incident_outside_the_reporters_jurisdiction(world):
    with pytest.raises(PermissionRefused):
        incidents.report(world.bob, title="x", kind="fire", place=world.community_a, severity=2)
    with pytest.raises(PermissionRefused):
        incidents.report(world.charlie, title="x", kind="fire", place=world.community_a, severity=2)
    assert Incident.objects.count() == 0


def test_the_status_moves_forward_and_closing_sets_the_end(flood):
    w = flood
    incidents.change_status(w.alice, w.incident, "verified")
    incidents.change_status(w.alice, w.incident, "responding")
    incidents.change_status(w.alice, w.incident, "recovering")
    closed = incidents.change_status(w.alice, w.incident, "closed", note="水已退")
    assert closed.status == "closed" and closed.ended_at is not None
    texts = list(IncidentLog.objects.filter(incident=w.incident).values_list("text", flat=True))
    assert any("水已退" in t for t in texts)


def test_it_refuses_a_jump_the_state_machine_does_not_allow(flood):
    w = flood
    with pytest.raises(ActionError) as exc:
        incidents.change_status(w.alice, w.incident, "recovering")
    assert exc.value.errors[0].field == "status"
    w.incident.refresh_from_db()
    assert w.incident.status == "reported"


def test_a_volunteer_may_not_move_the_status(flood):
    with pytest.raises(PermissionRefused):
        incidents.change_status(flood.vera, flood.incident, "verified")


def test_anyone_who_reads_the_incident_writes_in_its_log(flood):
    w = flood
    entry = incidents.add_log(w.vera, w.incident, "3号楼地下室进水")
    assert entry.author == w.vera
    with pytest.raises(PermissionRefused):
        incidents.add_log(w.bob, w.incident, "x")
    with pytest.raises(ActionError) as exc:
        incidents.add_log(w.vera, w.incident, "   ")
    assert exc.value.errors[0].field == "text"


def test_a_street_incident_is_seen_by_its_communities_and_not_by_the_other_street(flood_plan):
    w = flood_plan
    street = incidents.report(w.leo, title="街道停电", kind="outage", place=w.street_a, severity=2)
    assert street in incidents_for(w.alice)
    assert street in incidents_for(w.gina)
    assert street in incidents_for(w.frank)
    assert street not in incidents_for(w.bob)
    assert street not in incidents_for(w.charlie)


def test_linking_an_appeal_is_logged(flood):
    from renzhi.appeals import actions as appeal_actions

    w = flood
    appeal = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="楼下积水很深", place=w.community_a
    ).appeal
    incidents.link_appeal(w.alice, w.incident, appeal)
    assert appeal in w.incident.appeals.all()
    assert w.incident.log.filter(kind="link").exists()
