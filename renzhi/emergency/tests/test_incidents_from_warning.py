"""A warning suggests the incident: type from its words, place from its areas, severity from
its grade."""

from __future__ import annotations

import pytest

from renzhi.emergency.warning_link import prefill_from_warning
from renzhi.warning.models import Warning

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("event", "cap", "kind"),
    [
        ("暴雨内涝", "Met", "flood"),
        ("燃气泄漏", "Safety", "gas"),
        ("高温", "Met", "heat_cold"),
        ("", "Health", "public_health"),
        ("", "Geo", "other"),
    ],
)
def test_the_type_comes_from_the_words_then_the_cap_category(world, event, cap, kind):
    warning = Warning.objects.create(
        level=2, headline="预警", event=event, cap_category=cap, owner_place=world.street_a
    )
    assert prefill_from_warning(warning)["kind"] == kind


def test_areas_across_streets_are_run_from_their_common_ancestor(world):
    warning = Warning.objects.create(level=1, headline="暴雨红色预警", owner_place=world.street_a)
    warning.areas.set([world.community_a, world.community_b])
    data = prefill_from_warning(warning)
    assert data["place"] == world.district
    assert set(data["places"]) == {world.community_a, world.community_b}
    assert data["severity"] == 1 and data["title"] == "暴雨红色预警"


def test_a_warning_without_areas_is_run_from_its_owner(world):
    warning = Warning.objects.create(level=4, headline="大风蓝色预警", owner_place=world.street_b)
    data = prefill_from_warning(warning)
    assert data["place"] == world.street_b and data["places"] == [world.street_b]
