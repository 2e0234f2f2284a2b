"""Appeals fixtures on top of the two-jurisdiction `world`: categories, routing, SLA rules."""

import pytest

from renzhi.appeals.models import Category, RoutingRule, SlaRule


@pytest.fixture
def cases(world):
    """`world` plus: categories 物业管理 > 电梯故障 / 供水 > 停水, a routing table that sends lift
    faults in community A to unit A (unambiguous), and an SLA of 2 h / 3 days."""
    w = world
    w.cat_property = Category.objects.create(code="08", name="物业管理", default_unit_kind="property")
    w.cat_lift = Category.objects.create(code="0801", name="电梯故障", parent=w.cat_property)
    w.cat_water = Category.objects.create(code="01", name="城乡建设")
    w.cat_outage = Category.objects.create(code="0101", name="停水", parent=w.cat_water)
    RoutingRule.objects.create(category=w.cat_property, place=w.community_a, unit=w.unit_a)
    RoutingRule.objects.create(category=w.cat_property, place=w.community_b, unit=w.unit_b)
    SlaRule.objects.create(category=None, priority="normal", sign_hours=2, resolve_days=3)
    SlaRule.objects.create(category=None, priority="urgent", sign_hours=1, resolve_days=1)
    return w
