"""The demo loader: the documented demo key works, and a second run creates nothing."""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

from django.test import Client
from shapely.geometry import shape

from renzhi.appeals.models import Appeal, Category, Channel
from renzhi.open311 import demo
from renzhi.open311.models import PartnerKey, PartnerRequest, ServiceAttribute


def fake_city(w):
    grids = [
        SimpleNamespace(code=g.code, geometry=shape(g.boundary))
        for g in (w.grid_a1, w.grid_a2, w.grid_b1)
    ]
    return SimpleNamespace(seed=7, level=lambda level: grids if level == "grid" else [])


def test_the_demo_loads_once_and_its_key_files_requests(world):
    parent = Category.objects.create(code="08", name="物业管理")
    for code, name in (("0801", "电梯故障"), ("0802", "小区环境卫生"), ("0803", "小区停车")):
        Category.objects.create(code=code, name=name, parent=parent)
    report = SimpleNamespace(created=Counter(), appeals=None)
    said: list[str] = []
    demo.load(fake_city(world), report, said.append)
    assert report.created["open311_attributes"] == 4
    assert report.created["open311_requests"] == 3
    assert Appeal.objects.filter(channel=Channel.OPEN311).count() == 3
    assert set(Category.objects.filter(open311_public=True).values_list("code", flat=True)) == {
        "08",
        "0801",
        "0802",
        "0803",
    }
    assert demo.DEMO_KEY not in " ".join(said)
    snapshot = (
        PartnerKey.objects.count(),
        ServiceAttribute.objects.count(),
        PartnerRequest.objects.count(),
        Appeal.objects.count(),
    )
    demo.load(fake_city(world), report, said.append)
    assert snapshot == (
        PartnerKey.objects.count(),
        ServiceAttribute.objects.count(),
        PartnerRequest.objects.count(),
        Appeal.objects.count(),
    )
    response = Client().post(
        "/open311/v2/requests.json",
        {
            "api_key": demo.DEMO_KEY,
            "service_code": "0803",
            "address_id": world.community_a.code,
            "attribute[blocking]": "0",
            "description": "演示",
        },
    )
    assert response.status_code == 200, response.content
    assert json.loads(response.content)[0]["service_request_id"]
