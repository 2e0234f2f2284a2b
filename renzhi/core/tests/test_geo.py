"""Boundaries and point-in-polygon lookup: edges, vertices, holes, the API, bad GeoJSON."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from django.utils import translation

from conftest import square
from renzhi.core import actions, geo
from renzhi.core.errors import ActionError
from renzhi.core.models import Place

# Two grids side by side; the western one has a lake (hole) cut out of it.
#   A 110105001001001: 116.40..116.45 x 39.90..39.95, hole 116.42..116.43 x 39.92..39.93
#   B 110105001001002: 116.45..116.50 x 39.90..39.95
HOLE = [[116.42, 39.92], [116.42, 39.93], [116.43, 39.93], [116.43, 39.92], [116.42, 39.92]]
A_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [square(116.40, 39.90, 116.45, 39.95)["coordinates"][0], HOLE],
}
B = square(116.45, 39.90, 116.50, 39.95)
A_CODE, B_CODE = "110105001001001", "110105001001002"


def index_of(*grids: tuple[int, str, dict]) -> geo.GridIndex:
    return geo.GridIndex.build([Place(pk=pk, code=code, boundary=b) for pk, code, b in grids])


@pytest.fixture
def index():
    return index_of((1, A_CODE, A_WITH_HOLE), (2, B_CODE, B))


# --- the index, without a database -----------------------------------------------------------


@pytest.mark.parametrize(
    ("lng", "lat", "expected"),
    [
        (116.41, 39.91, 1),  # strictly inside A
        (116.48, 39.93, 2),  # strictly inside B
        (116.45, 39.925, 1),  # on the edge A and B share: the smaller code
        (116.45, 39.90, 1),  # on a vertex A and B share
        (116.45, 39.95, 1),
        (116.40, 39.90, 1),  # outer vertex
        (116.50, 39.95, 2),  # outer vertex of B
        (116.40, 39.93, 1),  # outer edge
        (116.47, 39.90, 2),  # outer edge of B
        (116.425, 39.925, None),  # inside the hole
        (116.42, 39.925, 1),  # on the hole's edge: the grid still covers it
        (116.43, 39.93, 1),  # on the hole's vertex
        (116.4199999, 39.925, 1),  # just outside the hole
        (116.4200001, 39.925, None),  # just inside the hole
        (116.50000001, 39.92, None),  # just outside the outer edge
        (116.60, 39.92, None),  # outside every grid
        (0.0, 0.0, None),
    ],
)
def test_it_locates_points_inside_on_edges_and_in_holes(index, lng, lat, expected):
    assert index.locate_id(lng, lat) == expected


def test_a_shared_edge_goes_to_the_smaller_code_whatever_the_build_order(index):
    reversed_build = index_of((2, B_CODE, B), (1, A_CODE, A_WITH_HOLE))
    assert reversed_build.locate_id(116.45, 39.925) == 1
    codes_swapped = index_of((1, B_CODE, A_WITH_HOLE), (2, A_CODE, B))
    assert codes_swapped.locate_id(116.45, 39.925) == 2


def test_the_batch_lookup_agrees_with_one_point_at_a_time(index):
    rng = np.random.default_rng(1)
    lngs = np.concatenate([rng.uniform(116.38, 116.52, 2000), [116.45, 116.42, 116.425]])
    lats = np.concatenate([rng.uniform(39.88, 39.97, 2000), [39.925, 39.925, 39.925]])
    found = index.locate_many(lngs, lats)
    one_by_one = [index.locate_id(x, y) for x, y in zip(lngs, lats, strict=True)]
    assert [None if i < 0 else int(index.ids[i]) for i in found] == one_by_one
    assert (found >= 0).any() and (found < 0).any()


def test_an_empty_index_finds_nothing():
    empty = geo.GridIndex.build([])
    assert empty.locate_id(116.41, 39.91) is None
    assert list(empty.locate_many(np.array([116.41]), np.array([39.91]))) == [-1]


def test_a_nan_point_is_outside(index):
    assert index.locate_id(float("nan"), float("nan")) is None


# --- locate() and the API over the database --------------------------------------------------


def test_locate_returns_the_grid_with_its_ancestors(world, django_assert_max_num_queries):
    geo.locate(39.92, 116.42)  # warm the index
    with django_assert_max_num_queries(1):
        grid = geo.locate(39.92, 116.42)
        assert grid == world.grid_a1
        assert [p.code for p in grid.ancestors()] == ["110105", "110105001", "110105001001"]
    assert grid.boundary == world.grid_a1.boundary  # deferred, loads on access


def test_locate_on_an_edge_between_two_communities_picks_the_smaller_code(world):
    assert geo.locate(39.92, 116.45) == world.grid_a1
    assert geo.locate(39.92, 116.50) == world.grid_a2  # 110105001001002 < 110105002001001


def test_locate_outside_every_grid_is_none(world):
    assert geo.locate(39.97, 116.45) is None  # inside the district, but no grid drawn there
    assert geo.locate(31.23, 121.47) is None  # Shanghai


LOCATE = "/api/places/locate"


def test_the_api_answers_with_the_grid_and_its_ancestors(world, api_client):
    response = api_client.as_user(world.alice).get(LOCATE, {"lat": 39.92, "lng": 116.47})
    assert response.status_code == 200
    body = response.json()
    assert body["inside"] is True
    assert [body[k]["code"] for k in ("grid", "community", "street", "district")] == [
        world.grid_a2.code,
        "110105001001",
        "110105001",
        "110105",
    ]


def test_the_api_says_outside_the_service_area_in_english_when_asked(world, api_client):
    response = api_client.as_user(world.alice).get(
        LOCATE, {"lat": 39.97, "lng": 116.45}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json() == {
        "inside": False,
        "message": "This location is outside the service area.",
        **dict.fromkeys(["grid", "community", "street", "district"]),
    }


def test_the_api_says_outside_the_service_area_in_chinese_by_default(world, api_client):
    with translation.override("zh-hans"):
        expected = translation.gettext("This location is outside the service area.")
    response = api_client.as_user(world.alice).get(LOCATE, {"lat": 39.97, "lng": 116.45})
    body = response.json()
    assert body["inside"] is False
    assert body["message"] == expected
    assert "服务" in body["message"]  # translated, not the English msgid


def test_the_index_rebuilds_after_a_grid_boundary_is_redrawn(world):
    assert geo.locate(39.92, 116.49) == world.grid_a2
    actions.update_place(world.root, world.grid_a2, boundary=square(116.45, 39.90, 116.48, 39.95))
    assert geo.locate(39.92, 116.49) is None
    assert geo.locate(39.92, 116.47) == world.grid_a2


def test_the_index_sees_a_new_grid_and_a_renamed_community(world):
    assert geo.locate(39.97, 116.45) is None
    north = square(116.40, 39.95, 116.50, 40.00)
    community = actions.create_place(
        world.root,
        level="community",
        code="110105001002",
        name="甲二社区",
        parent=world.street_a,
        boundary=north,
    )
    grid = actions.create_place(
        world.root,
        level="grid",
        code="110105001002001",
        name="甲二社区第一网格",
        parent=community,
        boundary=north,
    )
    assert geo.locate(39.97, 116.45) == grid
    actions.update_place(world.root, community, name="甲二新社区")
    assert geo.locate(39.97, 116.45).parent.name == "甲二新社区"


def test_located_places_are_fresh_objects_each_time(world):
    first = geo.locate(39.92, 116.42)
    first.name = "changed in memory"
    assert geo.locate(39.92, 116.42).name == world.grid_a1.name


# --- malformed boundaries ---------------------------------------------------------------------

RING = square(116.40, 39.90, 116.45, 39.95)["coordinates"][0]

MALFORMED = {
    "not JSON": '{"type": "Polygon", "coordinates": [[[116.4, 39.9]',
    "not UTF-8": b"\xff\xfe",
    "empty text": "",
    "a number": 42,
    "nothing": None,
    "a point": {"type": "Point", "coordinates": [116.4, 39.9]},
    "a line": {"type": "LineString", "coordinates": RING},
    "a feature collection": {"type": "FeatureCollection", "features": []},
    "a feature without geometry": {"type": "Feature", "geometry": None},
    "no coordinates": {"type": "Polygon"},
    "empty polygon": {"type": "Polygon", "coordinates": []},
    "empty multipolygon": {"type": "MultiPolygon", "coordinates": []},
    "empty ring": {"type": "Polygon", "coordinates": [[]]},
    "coordinates not a list": {"type": "Polygon", "coordinates": "116.4,39.9"},
    "self-intersecting bowtie": {
        "type": "Polygon",
        "coordinates": [
            [[116.40, 39.90], [116.45, 39.95], [116.45, 39.90], [116.40, 39.95], [116.40, 39.90]]
        ],
    },
    "unclosed ring": {"type": "Polygon", "coordinates": [RING[:-1]]},
    "too few positions": {"type": "Polygon", "coordinates": [[RING[0], RING[1], RING[0]]]},
    "collapsed to a line": {
        "type": "Polygon",
        "coordinates": [[[116.40, 39.90], [116.45, 39.90], [116.50, 39.90], [116.40, 39.90]]],
    },
    "longitude out of range": {
        "type": "Polygon",
        "coordinates": [[[186.40, 39.90], [186.45, 39.90], [186.45, 39.95], [186.40, 39.90]]],
    },
    "latitude out of range": {
        "type": "Polygon",
        "coordinates": [[[116.40, 89.90], [116.45, 95.90], [116.45, 89.95], [116.40, 89.90]]],
    },
    "text coordinates": {"type": "Polygon", "coordinates": [[["116.4", "39.9"]] * 4]},
    "boolean coordinates": {"type": "Polygon", "coordinates": [[[True, False]] * 4]},
    "NaN coordinates": '{"type": "Polygon", "coordinates": [[[NaN, 39.9], [116.5, 39.9], '
    "[116.5, 40.0], [NaN, 39.9]]]}",
    "four dimensions": {"type": "Polygon", "coordinates": [[[*p, 0, 0] for p in RING]]},
    "hole outside its shell": {
        "type": "Polygon",
        "coordinates": [RING, [[117.0, 39.0], [117.1, 39.0], [117.1, 39.1], [117.0, 39.0]]],
    },
    "overlapping multipolygon": {"type": "MultiPolygon", "coordinates": [[RING], [RING]]},
}


@pytest.mark.parametrize("geojson", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_geojson_is_refused_on_the_boundary_field(geojson):
    with pytest.raises(ActionError) as caught:
        geo.parse_boundary(geojson)
    assert [e.field for e in caught.value.errors] == ["boundary"]
    assert caught.value.errors[0].message


@pytest.mark.parametrize(
    "geojson",
    [
        A_WITH_HOLE,
        json.dumps(B),
        json.dumps(B).encode(),
        {"type": "Feature", "properties": {}, "geometry": B},
        {
            "type": "MultiPolygon",
            "coordinates": [B["coordinates"], square(116.6, 39.9, 116.7, 40.0)["coordinates"]],
        },
        {
            "type": "Polygon",
            "coordinates": [[(x, y, 45.0) for x, y in RING]],
        },  # tuples, with altitude
    ],
    ids=["with hole", "JSON text", "JSON bytes", "feature", "multipolygon", "tuples with altitude"],
)
def test_wellformed_geojson_is_accepted(geojson):
    assert geo.parse_boundary(geojson).is_valid


def test_a_malformed_boundary_changes_nothing_through_the_actions(world):
    before = list(Place.objects.order_by("code").values_list("code", "boundary"))
    with pytest.raises(ActionError) as caught:
        actions.update_place(
            world.root, world.grid_a1, boundary=MALFORMED["self-intersecting bowtie"]
        )
    assert caught.value.errors[0].field == "boundary"
    with pytest.raises(ActionError) as caught:
        actions.create_place(
            world.root,
            level="grid",
            code="110105001001003",
            name="新网格",
            parent=world.community_a,
            boundary=MALFORMED["unclosed ring"],
        )
    assert caught.value.errors[0].field == "boundary"
    assert list(Place.objects.order_by("code").values_list("code", "boundary")) == before


@pytest.mark.parametrize(
    "name, chinese",
    [("self-intersecting bowtie", "边界线相互交叉"), ("hole outside its shell", "洞位于外环之外")],
)
def test_geos_reasons_reach_the_user_in_chinese(name, chinese):
    with translation.override("zh-hans"), pytest.raises(ActionError) as caught:
        geo.parse_boundary(MALFORMED[name])
    message = str(caught.value.errors[0].message)
    assert chinese in message
    assert not re.search(r"[A-Za-z]{3,}", message), message
