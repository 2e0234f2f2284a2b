"""Open311 fixtures on top of the two-jurisdiction `world`: public categories with extra
attributes, routing and SLA rules, and a partner key issued by the global admin."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

LIFT_ATTRIBUTES = [
    # code, datatype, required, question, values
    ("building", "string", True, "楼栋号", []),
    ("blocking", "singlevaluelist", False, "是否影响通行", [("1", "是"), ("0", "否")]),
    ("floors", "multivaluelist", False, "受影响楼层", [("B1", "地下一层"), ("1F", "一层")]),
    ("people", "number", False, "被困人数", []),
    ("since", "datetime", False, "发现时间", []),
    ("details", "text", False, "补充说明", []),
]

# Inside grid A1 / grid B1 / outside every grid (see the root conftest's boxes).
IN_A1 = {"lat": "39.92", "long": "116.42"}
IN_B1 = {"lat": "39.92", "long": "116.55"}
OUTSIDE = {"lat": "31.23", "long": "121.47"}


@pytest.fixture
def o311(world, settings):
    from renzhi.appeals.models import Category, RoutingRule, SlaRule
    from renzhi.open311 import actions
    from renzhi.open311.actions import AttributeFields

    settings.RENZHI_OPEN311_JURISDICTIONS = ["renzhi.demo"]
    w = world
    published = {"open311_public": True}  # an administrator published these services
    w.cat_property = Category.objects.create(
        code="08", name="物业管理", default_unit_kind="property", keywords="物业,小区", **published
    )
    w.cat_lift = Category.objects.create(
        code="0801", name="电梯故障", parent=w.cat_property, keywords="电梯，困人", **published
    )
    w.cat_town = Category.objects.create(code="05", name="市容环境", **published)
    w.cat_lamp = Category.objects.create(
        code="0501", name="路灯不亮", parent=w.cat_town, **published
    )
    w.cat_hidden = Category.objects.create(
        code="0599", name="内部巡查", parent=w.cat_town, public=False
    )
    RoutingRule.objects.create(category=w.cat_property, place=w.community_a, unit=w.unit_a)
    RoutingRule.objects.create(category=w.cat_property, place=w.community_b, unit=w.unit_b)
    SlaRule.objects.create(category=None, priority="normal", sign_hours=2, resolve_days=3)
    SlaRule.objects.create(category=None, priority="urgent", sign_hours=1, resolve_days=1)
    for order, (code, datatype, required, question, values) in enumerate(LIFT_ATTRIBUTES, 1):
        actions.save_attribute(
            w.root,
            w.cat_lift,
            AttributeFields(
                code=code,
                description=question,
                datatype=datatype,
                required=required,
                order=order,
                values=[{"key": k, "name": n} for k, n in values],
            ),
        )
    w.key, w.raw_key = actions.issue_key(w.root, name="邻区市民App", rate_limit=1000)
    return w


@pytest.fixture
def o311_client():
    """A test client asking for English (predictable descriptions) with Open311 helpers:
    `get(path, **params)`, `post(fmt, fields)`; `raw` is the Django client itself."""
    from django.test import Client

    client = Client(headers={"Accept-Language": "en"})

    def get(path, **params):
        return client.get(f"/open311/v2/{path}", params)

    def post(fmt="json", data=None, **fields):
        body = dict(fields) if data is None else data
        return client.post(f"/open311/v2/requests.{fmt}", body)

    return SimpleNamespace(get=get, post=post, raw=client)


def lift_request(w, **overrides):
    """Form fields of a valid lift-fault request in grid A1."""
    fields = {
        "api_key": w.raw_key,
        "service_code": "0801",
        **IN_A1,
        "description": "3号楼电梯停在两层之间",
        "attribute[building]": "3号楼",
        "first_name": "晓明",
        "last_name": "王",
        "phone": "+86 138-0000-7777",
        "email": "wang@example.cn",
        "device_id": "dev-42",
        "account_id": "acc-9",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
def interop(o311, live_server):
    """For the independent-client test: the live base URL, a raw api_key, and `resolve(id)`
    which drives an appeal through sign and resolve in Renzhi (as a unit would)."""
    from renzhi.appeals import actions as appeal_actions
    from renzhi.appeals.models import Appeal

    def resolve(service_request_id: str) -> None:
        appeal = Appeal.objects.get(public_id=service_request_id)
        appeal_actions.sign(o311.erin, appeal)
        appeal_actions.resolve(o311.erin, appeal, result="已修复")

    return SimpleNamespace(
        base=f"{live_server.url}/open311/v2", api_key=o311.raw_key, resolve=resolve
    )
