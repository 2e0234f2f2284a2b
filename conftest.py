"""Shared fixtures: two jurisdictions that must not see each other, and named users.

Places: district 110105 (朝阳演示区) > street A 110105001 > community A 110105001001 > grids A1, A2;
                                     > street B 110105002 > community B 110105002001 > grid B1.
Users (password for all: `Passw0rd!x`):
  alice   community staff of community A       bob     community staff of community B
  charlie resident of community A (no staff)   ivy     resident of community B
  dora    street dispatcher over street A      erin    unit handler of unit A (covers community A)
  gina    grid worker of grid A1               frank   leader of the district
  adam    administrator of street A only       root    global system administrator
  leo     leader of street A                   vera    volunteer of community A
  sam     social worker of community A
"""

import pytest

PASSWORD = "Passw0rd!x"


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def world(db):
    """The two-jurisdiction world. Returns a namespace with places, units and users."""
    from types import SimpleNamespace

    from renzhi.core import geo
    from renzhi.core.models import Membership, Place, Role, Unit, User

    def place(code, name, level, parent, box, population=0):
        fields = geo.boundary_fields(geo.parse_boundary(square(*box)))
        return Place.objects.create(
            code=code, name=name, level=level, parent=parent, population=population, **fields
        )

    w = SimpleNamespace()
    w.district = place("110105", "朝阳演示区", "district", None, (116.40, 39.90, 116.60, 40.00))
    w.street_a = place("110105001", "甲街道", "street", w.district, (116.40, 39.90, 116.50, 40.00))
    w.street_b = place("110105002", "乙街道", "street", w.district, (116.50, 39.90, 116.60, 40.00))
    w.community_a = place(
        "110105001001", "甲一社区", "community", w.street_a, (116.40, 39.90, 116.50, 39.95), 3000
    )
    w.community_b = place(
        "110105002001", "乙一社区", "community", w.street_b, (116.50, 39.90, 116.60, 39.95), 2500
    )
    w.grid_a1 = place(
        "110105001001001", "甲一社区第1网格", "grid", w.community_a, (116.40, 39.90, 116.45, 39.95)
    )
    w.grid_a2 = place(
        "110105001001002", "甲一社区第2网格", "grid", w.community_a, (116.45, 39.90, 116.50, 39.95)
    )
    w.grid_b1 = place(
        "110105002001001", "乙一社区第1网格", "grid", w.community_b, (116.50, 39.90, 116.60, 39.95)
    )

    w.unit_a = Unit.objects.create(code="U-WY-A", name="甲一物业", kind="property")
    w.unit_a.places.set([w.community_a])
    w.unit_b = Unit.objects.create(code="U-WY-B", name="乙一物业", kind="property")
    w.unit_b.places.set([w.community_b])

    def user(username, role, place=None, unit=None, phone=None, home=None):
        u = User.objects.create_user(
            username=username,
            password=PASSWORD,
            display_name=username.title(),
            phone=phone,
            home_place=home,
        )
        Membership.objects.create(user=u, role=role, place=place, unit=unit)
        return u

    w.alice = user("alice", Role.COMMUNITY_STAFF, w.community_a, phone="13800000001")
    w.bob = user("bob", Role.COMMUNITY_STAFF, w.community_b, phone="13800000002")
    w.charlie = user(
        "charlie", Role.RESIDENT, w.community_a, phone="13800000003", home=w.community_a
    )
    w.ivy = user("ivy", Role.RESIDENT, w.community_b, phone="13800000009", home=w.community_b)
    w.dora = user("dora", Role.DISPATCHER, w.street_a)
    w.erin = user("erin", Role.UNIT_HANDLER, unit=w.unit_a)
    w.gina = user("gina", Role.GRID_WORKER, w.grid_a1)
    w.frank = user("frank", Role.LEADER, w.district)
    w.adam = user("adam", Role.ADMIN, w.street_a)
    w.root = user("root", Role.ADMIN, None)
    w.leo = user("leo", Role.LEADER, w.street_a)
    w.vera = user("vera", Role.VOLUNTEER, w.community_a, phone="13800000021", home=w.community_a)
    w.sam = user("sam", Role.SOCIAL_WORKER, w.community_a, phone="13800000022")
    w.password = PASSWORD
    return w


@pytest.fixture
def api_client():
    """A Django test client that speaks JSON to /api/."""
    from django.test import Client

    class ApiClient(Client):
        def as_user(self, user):
            self.force_login(user)
            return self

        def post_json(self, path, data=None, **kw):
            return self.post(path, data=data or {}, content_type="application/json", **kw)

        def patch_json(self, path, data=None, **kw):
            return self.patch(path, data=data or {}, content_type="application/json", **kw)

    return ApiClient()
