"""The write half of the permission matrix for incidents (issue 23 acceptance), as far as it
goes: reporting and running an incident, every named user, in and out of jurisdiction, each
try in a rolled-back savepoint; 0 unexpected allows. Administrators keep the system and do not
run incidents."""

from __future__ import annotations

import pytest
from django.db import transaction

from renzhi.emergency.actions import incidents

pytestmark = pytest.mark.django_db

USERS = [
    "alice",
    "bob",
    "charlie",
    "ivy",
    "dora",
    "erin",
    "gina",
    "frank",
    "adam",
    "root",
    "leo",
    "vera",
    "sam",
]
REPORT_A = {"alice", "dora", "gina", "leo", "frank"}  # reporters covering grid A1
REPORT_B = {"bob", "frank"}
RUN_A = {"alice", "dora", "leo", "frank"}  # runners covering community A
RUN_B = {"bob", "frank"}


def test_no_user_may_report_or_run_an_incident_the_table_does_not_allow(world, api_client):
    w = world
    tries = []
    for side, grid, allowed in (("A", w.grid_a1, REPORT_A), ("B", w.grid_b1, REPORT_B)):
        body = {"title": "积水", "kind": "flood", "place_code": grid.code, "severity": 3}
        tries.append(("report", side, "/api/emergency/incidents", body, allowed))
    for side, staff, place, allowed in (
        ("A", w.alice, w.community_a, RUN_A),
        ("B", w.bob, w.community_b, RUN_B),
    ):
        incident = incidents.report(staff, title="内涝", kind="flood", place=place, severity=3)
        url = f"/api/emergency/incidents/{incident.pk}/status"
        tries.append(("status", side, url, {"status": "verified"}, allowed))
    unexpected_allows, unexpected_refusals = [], []
    for verb, side, url, body, allowed in tries:
        for username in USERS:
            with transaction.atomic():
                api_client.force_login(getattr(w, username))
                response = api_client.post_json(url, body)
                transaction.set_rollback(True)
            done = response.status_code in (200, 201)
            if done and username not in allowed:
                unexpected_allows.append((verb, side, username))
            if not done and username in allowed:
                unexpected_refusals.append((verb, side, username, response.status_code))
    assert unexpected_allows == []
    assert unexpected_refusals == []
