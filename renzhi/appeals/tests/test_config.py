"""Configuration of appeals by administrators: categories, the routing table, SLA rules, and
the idempotent loader of the standard category tree.

root is the global administrator; adam administers street A only; dora is a dispatcher (no
configuration rights).
"""

from __future__ import annotations

import pytest

from renzhi.appeals import actions, routing
from renzhi.appeals.actions import config
from renzhi.appeals.models import Category, RoutingRule, SlaRule
from renzhi.core.errors import ActionError
from renzhi.core.models import AuditEvent, Unit
from renzhi.demo.categories import CATEGORIES


def as_user(api_client, user):
    api_client.logout()
    return api_client.as_user(user)


def fields(response) -> set[str]:
    return {e["field"] for e in response.json()["detail"]}


# --- Categories -----------------------------------------------------------------------------


def test_the_global_admin_creates_a_subcategory_under_its_parent(cases, api_client):
    as_user(api_client, cases.root)
    response = api_client.post_json(
        "/api/appeals/config/categories",
        {"code": "0802", "name": "消防通道", "parent_code": "08", "default_unit_kind": "property"},
    )
    assert response.status_code == 201, response.content
    category = Category.objects.get(code="0802")
    assert category.parent == cases.cat_property and category.top == cases.cat_property
    assert AuditEvent.objects.filter(verb="appeal_category.create").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "0801", "name": "重复"}, "code"),
        ({"code": "09 01", "name": "空格"}, "code"),
        ({"code": "0901", "name": "错父", "parent_code": "08"}, "code"),
        ({"code": "080101", "name": "三级", "parent_code": "0801"}, "parent_code"),
        ({"code": "11", "name": ""}, "name"),
        ({"code": "11", "name": "类", "default_unit_kind": "spaceship"}, "default_unit_kind"),
    ],
)
def test_a_bad_category_is_refused_by_field(cases, api_client, body, field):
    as_user(api_client, cases.root)
    before = Category.objects.count()
    response = api_client.post_json("/api/appeals/config/categories", body)
    assert response.status_code == 400 and field in fields(response)
    assert Category.objects.count() == before


def test_an_unknown_parent_is_named(cases, api_client):
    as_user(api_client, cases.root)
    response = api_client.post_json(
        "/api/appeals/config/categories", {"code": "9901", "name": "x", "parent_code": "99"}
    )
    assert response.status_code == 400 and fields(response) == {"parent_code"}


def test_a_place_bound_admin_cannot_change_the_system_wide_tree(cases, api_client):
    as_user(api_client, cases.adam)
    response = api_client.post_json("/api/appeals/config/categories", {"code": "11", "name": "x"})
    assert response.status_code == 403
    assert not Category.objects.filter(code="11").exists()


def test_a_category_is_renamed_and_retired_with_its_children(cases, api_client):
    as_user(api_client, cases.root)
    response = api_client.patch_json("/api/appeals/config/categories/08", {"name": "物业服务"})
    assert response.json()["name"] == "物业服务"
    response = api_client.post_json("/api/appeals/config/categories/08/deactivate")
    assert response.json()["active"] is False
    assert not Category.objects.get(code="0801").active
    as_user(api_client, cases.charlie)
    assert [c["code"] for c in api_client.get("/api/appeals/categories").json()] == ["01"]


def test_a_retired_category_cannot_be_chosen_for_a_new_appeal(cases):
    config.deactivate_category(cases.root, cases.cat_lift)
    with pytest.raises(ActionError) as refused:
        actions.submit_appeal(
            cases.charlie,
            channel="web",
            description="x",
            category=Category.objects.get(code="0801"),
            lat=39.92,
            lng=116.42,
        )
    assert refused.value.errors[0].field == "category"


def test_a_child_cannot_be_reactivated_under_a_retired_parent(cases):
    config.deactivate_category(cases.root, cases.cat_property)
    with pytest.raises(ActionError) as refused:
        config.update_category(cases.root, Category.objects.get(code="0801"), active=True)
    assert refused.value.errors[0].field == "active"


def test_only_administrators_read_the_configuration(cases, api_client):
    for user, status in [(cases.dora, 403), (cases.adam, 200), (cases.root, 200)]:
        as_user(api_client, user)
        for url in [
            "/api/appeals/config/categories",
            "/api/appeals/config/routing-rules",
            "/api/appeals/config/sla-rules",
        ]:
            assert api_client.get(url).status_code == status, (user, url)


# --- Loading the standard tree --------------------------------------------------------------


def test_the_standard_tree_loads_once_and_a_second_run_changes_nothing(db, world):
    first = config.load_categories(None, CATEGORIES)
    expected = len(CATEGORIES) + sum(len(top["children"]) for top in CATEGORIES)
    assert (first.created, first.updated) == (expected, 0)
    audit_before = AuditEvent.objects.count()
    second = config.load_categories(None, CATEGORIES)
    assert (second.created, second.updated, second.unchanged) == (0, 0, expected)
    assert AuditEvent.objects.count() == audit_before
    water = Category.objects.get(code="0101")
    assert water.parent.code == "01" and water.default_unit_kind == "water"
    assert "停水" in water.keywords.split()


def test_loading_keeps_an_administrators_retirement_but_follows_new_names(db, world):
    config.load_categories(None, CATEGORIES)
    config.deactivate_category(world.root, Category.objects.get(code="0101"))
    renamed = [dict(top) for top in CATEGORIES]
    renamed[0] = renamed[0] | {"name": "城乡建设"}
    result = config.load_categories(world.root, renamed)
    assert result.updated == 1
    assert Category.objects.get(code="01").name == "城乡建设"
    assert not Category.objects.get(code="0101").active


def test_only_the_global_admin_may_load_categories(db, world):
    with pytest.raises(ActionError):
        config.load_categories(world.adam, CATEGORIES)
    assert Category.objects.count() == 0


# --- Routing table --------------------------------------------------------------------------


def test_an_admin_adds_a_rule_in_his_street_and_routing_follows_it(cases, api_client):
    w = cases
    as_user(api_client, w.adam)
    response = api_client.post_json(
        "/api/appeals/config/routing-rules",
        {"category_code": "0101", "place_code": "110105001001", "unit_code": "U-WY-A"},
    )
    assert response.status_code == 201, response.content
    assert routing.route(w.cat_outage, "110105001001001").unit == w.unit_a
    rule_id = response.json()["id"]
    assert api_client.delete(f"/api/appeals/config/routing-rules/{rule_id}").status_code == 204
    assert routing.route(w.cat_outage, "110105001001001").unit is None
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="routing_rule.").values_list("verb", flat=True)
    )
    assert verbs == ["routing_rule.create", "routing_rule.delete"]


def test_an_admin_cannot_add_a_rule_outside_his_street(cases, api_client):
    as_user(api_client, cases.adam)
    response = api_client.post_json(
        "/api/appeals/config/routing-rules",
        {"category_code": "0101", "place_code": "110105002001", "unit_code": "U-WY-B"},
    )
    assert response.status_code == 403
    assert RoutingRule.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"place_code": "999", "unit_code": "U-WY-A"}, "place_code"),
        ({"place_code": "110105001001", "unit_code": "U-NOPE"}, "unit_code"),
        (
            {"place_code": "110105001001", "unit_code": "U-WY-A", "category_code": "77"},
            "category_code",
        ),
        ({"place_code": "110105001001", "unit_code": "U-WY-B"}, "unit_code"),  # serves B only
        (
            {"place_code": "110105001001", "unit_code": "U-WY-A", "category_code": "08"},
            "unit_code",
        ),  # already there
    ],
)
def test_a_bad_routing_rule_is_refused_by_field(cases, api_client, body, field):
    as_user(api_client, cases.root)
    response = api_client.post_json("/api/appeals/config/routing-rules", body)
    assert response.status_code == 400 and field in fields(response)
    assert RoutingRule.objects.count() == 2


def test_an_inactive_unit_cannot_be_routed_to(cases):
    Unit.objects.filter(pk=cases.unit_a.pk).update(active=False)
    with pytest.raises(ActionError) as refused:
        config.create_routing_rule(
            cases.root, place=cases.community_a, unit=Unit.objects.get(pk=cases.unit_a.pk)
        )
    assert refused.value.errors[0].field == "unit_code"


def test_a_street_admin_sees_the_rules_that_apply_in_his_street(cases, api_client):
    w = cases
    config.create_routing_rule(w.root, place=w.district, unit=w.unit_a)  # district default
    as_user(api_client, w.adam)
    seen = {
        (r["place_code"], r["unit_code"])
        for r in api_client.get("/api/appeals/config/routing-rules").json()["items"]
    }
    assert seen == {("110105001001", "U-WY-A"), ("110105", "U-WY-A")}
    district_rule = RoutingRule.objects.get(place=w.district)
    response = api_client.delete(f"/api/appeals/config/routing-rules/{district_rule.pk}")
    assert response.status_code == 403  # visible, but above his jurisdiction
    other = RoutingRule.objects.get(place=w.community_b)
    assert api_client.delete(f"/api/appeals/config/routing-rules/{other.pk}").status_code == 404


# --- SLA rules ------------------------------------------------------------------------------


def test_an_sla_rule_is_created_then_replaced(cases, api_client):
    as_user(api_client, cases.root)
    body = {"category_code": "0801", "priority": "normal", "sign_hours": 1, "resolve_days": 2}
    assert api_client.post_json("/api/appeals/config/sla-rules", body).status_code == 201
    response = api_client.post_json("/api/appeals/config/sla-rules", body | {"resolve_days": 4})
    assert response.status_code == 200 and response.json()["resolve_days"] == 4
    assert SlaRule.objects.filter(category=cases.cat_lift).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sign_hours": 0, "resolve_days": 2}, "sign_hours"),
        ({"sign_hours": 2, "resolve_days": -1}, "resolve_days"),
        ({"sign_hours": 2, "resolve_days": 2, "warn_ratio": 1}, "warn_ratio"),
        ({"sign_hours": 2, "resolve_days": 2, "warn_ratio": 0}, "warn_ratio"),
        ({"sign_hours": 2, "resolve_days": 2, "priority": "vip"}, "priority"),
        ({"resolve_days": 2}, "sign_hours"),
    ],
)
def test_a_bad_sla_rule_is_refused_by_field(cases, api_client, body, field):
    as_user(api_client, cases.root)
    response = api_client.post_json(
        "/api/appeals/config/sla-rules", {"priority": "normal", "category_code": "0801"} | body
    )
    assert response.status_code == 400 and field in fields(response)
    assert not SlaRule.objects.filter(category=cases.cat_lift).exists()


def test_a_place_bound_admin_cannot_change_sla_rules(cases, api_client):
    as_user(api_client, cases.adam)
    response = api_client.post_json(
        "/api/appeals/config/sla-rules", {"priority": "normal", "sign_hours": 1, "resolve_days": 1}
    )
    assert response.status_code == 403
    assert SlaRule.objects.get(category=None, priority="normal").resolve_days == 3


def test_an_sla_rule_is_removed(cases, api_client):
    as_user(api_client, cases.root)
    rule = SlaRule.objects.get(category=None, priority="urgent")
    assert api_client.delete(f"/api/appeals/config/sla-rules/{rule.pk}").status_code == 204
    assert not SlaRule.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.filter(verb="sla_rule.delete").count() == 1
