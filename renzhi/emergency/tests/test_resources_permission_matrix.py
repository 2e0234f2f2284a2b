"""Who reads what among reserves, people, call-ups and the vulnerable register (the matrix).

World: depots dep-a and dep-a2 (community A), dep-b (community B), dep-sa (street A), with a
receipt in dep-a and dep-b and a request from dep-a to dep-sa; helper profiles for vera
(community A) and ivy (community B), each called up for an incident in their community; one
vulnerable resident in A (paired with vera) and one in B (unpaired).
Expectations, by hand:
  depots are read up and down the chain by stock readers (staff, dispatcher, leader, admin, grid
  worker, social worker): community A's people see A's depots and street A's;
  people are read by managers and social workers of the jurisdiction;
  call-ups: everybody sees their own, people readers those of incidents in their jurisdiction;
  the vulnerable register: ONLY the community's staff and the paired helper — not the street
  leader, the district leader, the dispatcher, the administrators or unpaired helpers.
Outside the scope answers 404 (or 403 for a role without the page at all).
"""

from __future__ import annotations

import pytest

from renzhi.core.tests.matrix import (
    ALL_USERS,
    DENY,
    DetailEndpoint,
    ListEndpoint,
    PageEndpoint,
    check_detail,
    check_list,
    check_page,
)
from renzhi.emergency.actions import people, vulnerable
from renzhi.emergency.actions import reserves as stock
from renzhi.emergency.tests.factories_resources import (
    add_depots,
    make_helper,
    make_incident,
)
from renzhi.emergency.tests.factories_resources import (
    stock as put,
)

API = "/api/emergency"
STREET_A = {"dep-a", "dep-a2", "dep-sa"}
EVERY = STREET_A | {"dep-b"}
NO_STOCK = {"charlie": DENY, "ivy": DENY, "erin": DENY, "vera": DENY}

DEPOTS = {
    "alice": STREET_A,
    "bob": {"dep-b"},
    "dora": STREET_A,
    "gina": STREET_A,
    "frank": EVERY,
    "adam": STREET_A,
    "root": EVERY,
    "leo": STREET_A,
    "sam": STREET_A,
} | NO_STOCK
MOVES = {
    name: (seen if seen == DENY else {d for d in seen if d in {"dep-a", "dep-b"}})
    for name, seen in DEPOTS.items()
}
REQUESTS = {
    name: (seen if seen == DENY else ({"A"} if "dep-a" in seen else set()))
    for name, seen in DEPOTS.items()
}
PEOPLE = {
    "alice": {"vera"},
    "bob": {"ivy"},
    "charlie": DENY,
    "ivy": DENY,
    "dora": {"vera"},
    "erin": DENY,
    "gina": DENY,
    "frank": {"vera", "ivy"},
    "adam": {"vera"},
    "root": {"vera", "ivy"},
    "leo": {"vera"},
    "vera": DENY,
    "sam": {"vera"},
}
CALLUPS = {
    "alice": {"vera"},
    "bob": {"ivy"},
    "charlie": set(),
    "ivy": {"ivy"},
    "dora": {"vera"},
    "erin": set(),
    "gina": set(),
    "frank": {"vera", "ivy"},
    "adam": {"vera"},
    "root": {"vera", "ivy"},
    "leo": {"vera"},
    "vera": {"vera"},
    "sam": {"vera"},
}
REGISTER = {name: DENY for name in ALL_USERS} | {
    "alice": {"RA"},
    "bob": {"RB"},
    "gina": set(),
    "vera": {"RA"},
    "sam": set(),
}
STOCK_PAGE = frozenset(n for n, seen in DEPOTS.items() if seen != DENY)
PEOPLE_PAGE = frozenset(n for n, seen in PEOPLE.items() if seen != DENY)
CALLUP_PAGE = frozenset(ALL_USERS) - {"charlie", "erin"}  # ivy has a helper profile
REGISTER_PAGE = frozenset({"alice", "bob", "gina", "vera", "sam"})


@pytest.fixture
def depots(world):
    return add_depots(world)


@pytest.fixture
def matrix_world(depots):
    w = depots
    put(w.depot_a, w.items["water"], 10)
    put(w.depot_b, w.items["water"], 10)
    stock.request_supplies(w.alice, w.depot_a, w.depot_street, [stock.Line(w.items["water"], 5)])
    make_helper(w.vera, w.community_a)
    make_helper(w.ivy, w.community_b)
    people.send_callups(w.alice, make_incident(w.community_a), [w.vera])
    people.send_callups(w.bob, make_incident(w.community_b, title="乙一社区停水"), [w.ivy])
    w.ra = vulnerable.register_resident(
        w.alice,
        w.community_a,
        name="RA",
        address="1号楼",
        categories=["disabled"],
        consent_method="签字",
    )
    vulnerable.pair(w.alice, w.ra, w.vera)
    w.rb = vulnerable.register_resident(
        w.bob,
        w.community_b,
        name="RB",
        address="9号楼",
        categories=["pregnant"],
        consent_method="签字",
    )
    return w


LISTS = [
    ListEndpoint("depots", f"{API}/depots", lambda rows: [r["code"] for r in rows], DEPOTS),
    ListEndpoint("moves", f"{API}/moves", lambda rows: [r["depot"] for r in rows], MOVES),
    ListEndpoint(
        "requests",
        f"{API}/requests",
        lambda rows: ["A" for r in rows if r["to_depot"] == "dep-a"],
        REQUESTS,
    ),
    ListEndpoint("people", f"{API}/people", lambda rows: [r["username"] for r in rows], PEOPLE),
    ListEndpoint("callups", f"{API}/callups", lambda rows: [r["username"] for r in rows], CALLUPS),
    ListEndpoint("register", f"{API}/vulnerable", lambda rows: [r["name"] for r in rows], REGISTER),
]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", LISTS, ids=lambda e: e.name)
@pytest.mark.parametrize("username", ALL_USERS)
def test_list_endpoints_show_each_role_exactly_its_scope(matrix_world, client, endpoint, username):
    check_list(client, matrix_world, endpoint, username)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ALL_USERS)
def test_depot_details_follow_the_same_scope(matrix_world, client, username):
    endpoint = DetailEndpoint("depot", API + "/depots/{key}", sorted(EVERY), DEPOTS)
    check_detail(client, matrix_world, endpoint, username)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ALL_USERS)
def test_the_register_is_invisible_outside_its_community_and_to_unpaired_helpers(
    matrix_world, client, username
):
    w = matrix_world
    ids = {"RA": str(w.ra.pk), "RB": str(w.rb.pk)}
    expect = {
        name: seen if seen == DENY else {ids[k] for k in seen} for name, seen in REGISTER.items()
    }
    endpoint = DetailEndpoint("resident", API + "/vulnerable/{key}", ids.values(), expect)
    check_detail(client, w, endpoint, username)
    page = DetailEndpoint("resident page", "/emergency/vulnerable/{key}/", ids.values(), expect)
    check_detail(client, w, page, username)


PAGES = [
    PageEndpoint("reserves", "/emergency/reserves/", STOCK_PAGE),
    PageEndpoint("ledger", "/emergency/reserves/ledger/", STOCK_PAGE),
    PageEndpoint("requests", "/emergency/requests/", STOCK_PAGE),
    PageEndpoint("distributions", "/emergency/distributions/", STOCK_PAGE),
    PageEndpoint("depot", "/emergency/depots/dep-a/", STOCK_PAGE - {"bob"}),
    PageEndpoint("people", "/emergency/people/", PEOPLE_PAGE),
    PageEndpoint("teams", "/emergency/teams/", PEOPLE_PAGE),
    PageEndpoint("callups", "/emergency/callups/", CALLUP_PAGE),
    PageEndpoint("register", "/emergency/vulnerable/", REGISTER_PAGE),
    PageEndpoint("register new", "/emergency/vulnerable/new/", frozenset({"alice", "bob"})),
]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", PAGES, ids=lambda e: e.name)
@pytest.mark.parametrize("username", ALL_USERS)
def test_pages_open_for_exactly_their_roles(matrix_world, client, endpoint, username):
    check_page(client, matrix_world, endpoint, username)
