"""The demo city: what `manage.py demo_city` creates, and that it is repeatable."""

from __future__ import annotations

import io
import re
from itertools import combinations

import pytest
import shapely
from django.contrib.auth import password_validation
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client
from django.utils import translation
from shapely.geometry import shape

from renzhi.core import audit, geo
from renzhi.core.actions import PHONE_RE
from renzhi.core.models import CODE_LENGTH, AuditEvent, Membership, Place, Role, Unit, User
from renzhi.demo import city as demo
from renzhi.demo.build import build_city

RESIDENTS = 2000  # at the default scale


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_city", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def loaded(db):
    return run("--no-appeals")


def boundaries(level: str) -> dict[str, shapely.Geometry]:
    return {p.code: shape(p.boundary) for p in Place.objects.filter(level=level)}


def test_it_creates_one_district_three_streets_twelve_communities_sixty_grids(loaded):
    counts = {
        level: Place.objects.filter(level=level).count()
        for level in ("district", "street", "community", "grid")
    }
    assert counts == {"district": 1, "street": 3, "community": 12, "grid": 60}
    assert Place.objects.get(level="district").code == "110105"


def test_it_creates_units_for_streets_district_and_communities(loaded):
    kinds = {
        k: Unit.objects.filter(kind=k).count()
        for k in ("urban_management", "sanitation", "police", "water", "property")
    }
    assert kinds == {
        "urban_management": 3,
        "sanitation": 3,
        "police": 3,
        "water": 1,
        "property": 12,
    }
    assert Unit.objects.count() == len(demo.generate_city().units)
    police = Unit.objects.get(code="PCS-110105001")
    assert [p.code for p in police.places.all()] == ["110105001"]
    assert all(u.places.exists() for u in Unit.objects.all())


def test_it_creates_one_demo_login_per_role_per_jurisdiction(loaded):
    def holders(role, level=None):
        ms = Membership.objects.filter(role=role, user__username__in=_demo_usernames())
        return ms.filter(place__level=level).count() if level else ms.count()

    assert holders(Role.ADMIN) == 1
    assert holders(Role.LEADER, "district") == 1
    assert holders(Role.LEADER, "street") == 3
    assert holders(Role.DISPATCHER, "street") == 3
    assert holders(Role.COMMUNITY_STAFF, "community") == 12
    assert holders(Role.GRID_WORKER, "grid") == 60
    assert holders(Role.UNIT_HANDLER) == Unit.objects.count()
    for role in (Role.ORG_ADMIN, Role.VOLUNTEER, Role.SOCIAL_WORKER):
        assert holders(role, "street") == 3
    assert holders(Role.RESIDENT, "community") == 12


def test_residents_have_phones_homes_in_grids_and_membership_in_their_community(loaded):
    residents = User.objects.exclude(username__in=_demo_usernames())
    assert residents.count() == RESIDENTS
    phones = list(residents.values_list("phone", flat=True))
    assert len(set(phones)) == RESIDENTS
    assert all(PHONE_RE.match(p) for p in phones)
    for user in residents.select_related("home_place")[:50]:
        assert user.username == user.phone
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", user.display_name)
        assert user.home_place.level == "grid"
        membership = user.memberships.get()
        assert membership.role == Role.RESIDENT
        assert membership.place_id == user.home_place.parent_id


def test_every_code_nests_under_its_parents_code(loaded):
    for place in Place.objects.select_related("parent"):
        assert len(place.code) == CODE_LENGTH[place.level]
        if place.parent is not None:
            assert place.code.startswith(place.parent.code)
            assert len(place.parent.code) < len(place.code)


def test_populations_add_up_level_by_level(loaded):
    for community in Place.objects.filter(level="community"):
        assert 3000 <= community.population <= 12000
    for place in Place.objects.exclude(level="grid"):
        assert place.population == sum(c.population for c in place.children.all())


def test_every_boundary_is_a_valid_polygon_around_chaoyang(loaded):
    for place in Place.objects.all():
        geom = geo.parse_boundary(place.boundary)
        assert geom.geom_type == "Polygon"
        assert 116.4 < place.min_lng < place.max_lng < 116.55
        assert 39.93 < place.min_lat < place.max_lat < 40.05
        assert geom.covers(shapely.Point(place.centre_lng, place.centre_lat))


def test_grids_do_not_overlap(loaded):
    grids = boundaries("grid")
    codes, geoms = list(grids), list(grids.values())
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left, right, strict=True) if a < b]
    assert pairs, "neighbouring grids should touch"
    for a, b in pairs:
        overlap = geoms[a].intersection(geoms[b]).area
        assert overlap < 1e-12, f"{codes[a]} overlaps {codes[b]} by {overlap}"


def test_grids_tile_the_whole_district(loaded):
    grids = list(boundaries("grid").values())
    district = shape(Place.objects.get(level="district").boundary)
    assert shapely.union_all(grids).symmetric_difference(district).area < 1e-12
    assert sum(g.area for g in grids) == pytest.approx(district.area, rel=1e-9)


def test_each_place_lies_within_its_parent(loaded):
    for place in Place.objects.exclude(level="district").select_related("parent"):
        assert geo.lies_within(shape(place.boundary), shape(place.parent.boundary)), place.code


def test_a_lake_is_cut_out_of_one_grid_and_every_level_above(loaded):
    lake_grid = Place.objects.get(code=demo.LAKE_GRID)
    polygon = shape(lake_grid.boundary)
    assert len(polygon.interiors) == 1
    for ancestor in lake_grid.ancestors():
        assert len(shape(ancestor.boundary).interiors) == 1
    in_lake = shapely.Polygon(polygon.interiors[0]).representative_point()
    assert geo.locate(in_lake.y, in_lake.x) is None
    on_land = polygon.representative_point()
    assert geo.locate(on_land.y, on_land.x).code == demo.LAKE_GRID


def test_every_grid_locates_its_own_interior_point(loaded):
    for code, polygon in boundaries("grid").items():
        point = polygon.representative_point()
        assert geo.locate(point.y, point.x).code == code


def test_running_it_twice_changes_nothing(loaded):
    def snapshot():
        return [m.objects.count() for m in (Place, Unit, User, Membership, AuditEvent)] + [
            list(Place.objects.order_by("code").values_list("code", "boundary", "population"))
        ]

    before = snapshot()
    output = run("--no-appeals")
    assert snapshot() == before
    assert translation.gettext("Everything was already there; nothing changed.") in output


def test_it_leaves_the_audit_chain_whole_with_one_event_per_batch(loaded):
    _checked, broken = audit.verify_chain()
    assert broken is None
    verbs = list(AuditEvent.objects.values_list("verb", flat=True))
    assert verbs == [
        "demo.create_places",
        "demo.create_units",
        "demo.create_accounts",
        "demo.create_residents",
    ]
    assert AuditEvent.objects.get(verb="demo.create_places").after["created"]["grid"] == 60


def test_scaling_up_only_adds_residents(db):
    build_city(scale=0.05)
    first = set(User.objects.values_list("username", flat=True))
    _, report = build_city(scale=0.1)
    assert report.created == {"places": 0, "units": 0, "accounts": 0, "residents": 100}
    assert first < set(User.objects.values_list("username", flat=True))


def test_the_same_seed_gives_the_same_city():
    a, b = demo.generate_city(7), demo.generate_city(7)
    assert [(p.code, p.name, p.population, p.geometry.wkt) for p in a.places] == [
        (p.code, p.name, p.population, p.geometry.wkt) for p in b.places
    ]
    assert a.units == b.units
    assert a.accounts == b.accounts
    assert list(demo.generate_residents(a, 50)) == list(demo.generate_residents(b, 50))


def test_another_seed_gives_other_polygons_with_the_same_codes():
    a, b = demo.generate_city(1), demo.generate_city(2)
    assert [p.code for p in a.places] == [p.code for p in b.places]
    assert a.by_code[demo.LAKE_GRID].geometry.wkt != b.by_code[demo.LAKE_GRID].geometry.wkt


def test_coordinates_keep_six_decimals():
    for place in demo.generate_city().places:
        for x, y in shapely.get_coordinates(place.geometry):
            assert round(x, 6) == x and round(y, 6) == y


def test_the_demo_password_passes_the_password_rules():
    password_validation.validate_password(demo.DEMO_PASSWORD, User(username="admin"))


def test_each_printed_demo_user_can_log_in(loaded):
    usernames = [
        m.group(1)
        for m in re.finditer(
            r"^\S.*?\s{2,}(\S+)\s{2,}.*\s{2,}" + re.escape(demo.DEMO_PASSWORD) + "$",
            loaded,
            re.MULTILINE,
        )
    ]
    assert 15 <= len(usernames) <= 25
    assert {"admin", "leader", "dispatcher1", "resident1"} <= set(usernames)
    for username in usernames:
        assert Client().login(
            request=HttpRequest(), username=username, password=demo.DEMO_PASSWORD
        ), username
    resident = User.objects.exclude(username__in=_demo_usernames()).first()
    assert Client().login(
        request=HttpRequest(), username=resident.phone, password=demo.DEMO_PASSWORD
    )


def test_list_users_names_every_demo_account(db):
    output = run("--list-users")
    for username in _demo_usernames():
        assert username in output
    assert not Place.objects.exists()  # listing loads nothing


def test_quiet_prints_nothing(db):
    assert run("--quiet", "--no-appeals") == ""
    assert Place.objects.count() == 76


def test_no_appeals_loads_places_and_people_only(loaded):
    from renzhi.appeals.models import Appeal, Category, RoutingRule, SlaRule

    assert not Appeal.objects.exists()
    assert not (Category.objects.exists() or RoutingRule.objects.exists())
    assert not SlaRule.objects.exists()


def _demo_usernames() -> list[str]:
    return [a.username for a in demo.generate_city().accounts]


def test_no_two_grids_share_more_than_an_edge():
    # The same check on the plan itself, independent of the database.
    grids = [p.geometry for p in demo.generate_city().level("grid")]
    for a, b in combinations(grids, 2):
        if a.intersects(b):
            assert a.intersection(b).area < 1e-12
