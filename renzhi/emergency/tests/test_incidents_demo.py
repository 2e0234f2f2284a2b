"""The demo city's incident side: plans for several types, shelters, a past reviewed incident
whose review made plan version 2, a live incident — and a second run creates nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from renzhi.emergency.models import Incident, Plan, Review, Shelter

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("demo_city", "--scale", "0.02", "--appeal-days", "20", stdout=out)
    return out.getvalue()


def test_the_demo_city_has_plans_shelters_and_a_reviewed_past_incident():
    run()
    kinds = set(Plan.objects.values_list("kind", flat=True))
    assert {"flood", "fire", "public_health", "heat_cold"} <= kinds
    assert Shelter.objects.count() > 0
    past = Incident.objects.get(title__contains="内涝（演示）")
    assert past.status == "closed"
    review = Review.objects.get(incident=past)
    assert review.figures["tasks_total"] > 0
    flood_plan = Plan.objects.get(place=past.place, kind="flood")
    assert flood_plan.version_in_force().number == 2
    assert flood_plan.version_in_force().source_review == review
    assert Incident.objects.exclude(status="closed").exists()
    counts = (Plan.objects.count(), Shelter.objects.count(), Incident.objects.count())
    run()
    assert (Plan.objects.count(), Shelter.objects.count(), Incident.objects.count()) == counts
