"""Who may read which places, units and accounts (two jurisdictions that must not see each other).

Codes: D=110105 district; SA/SB streets; CA/CB communities; A1, A2, B1 grids.
"""

import pytest

from renzhi.core.tests.matrix import (
    ALL_USERS,
    DENY,
    USERS,
    DetailEndpoint,
    ListEndpoint,
    check_detail,
    check_list,
)

D, SA, SB = "110105", "110105001", "110105002"
CA, CB = "110105001001", "110105002001"
A1, A2, B1 = "110105001001001", "110105001001002", "110105002001001"
ALL_PLACES = {D, SA, SB, CA, CB, A1, A2, B1}

PLACES_SEEN: dict[str, set[str] | str] = {
    "alice": {CA, A1, A2},
    "bob": {CB, B1},
    "charlie": DENY,
    "ivy": DENY,
    "dora": {SA, CA, A1, A2},
    "erin": {CA, A1, A2},  # the places its unit covers
    "gina": {A1},
    "frank": ALL_PLACES,
    "adam": {SA, CA, A1, A2},
    "root": ALL_PLACES,
}

UNITS_SEEN = {
    "alice": {"U-WY-A"},
    "bob": {"U-WY-B"},
    "charlie": DENY,
    "ivy": DENY,
    "dora": {"U-WY-A"},
    "erin": {"U-WY-A"},
    "gina": {"U-WY-A"},
    "frank": {"U-WY-A", "U-WY-B"},
    "adam": {"U-WY-A"},
    "root": {"U-WY-A", "U-WY-B"},
}

# Street A's administrator manages accounts with a role or home in street A (erin through her unit).
STREET_A_ACCOUNTS = {"alice", "charlie", "dora", "erin", "gina", "adam", "leo", "vera", "sam"}
USERS_SEEN = {name: DENY for name in USERS} | {"adam": STREET_A_ACCOUNTS, "root": set(ALL_USERS)}

LISTS = [
    ListEndpoint(
        "places list", "/api/places", lambda items: [p["code"] for p in items], PLACES_SEEN
    ),
    ListEndpoint(
        "places geojson",
        "/api/places/geojson?level=grid",
        lambda body: [f["id"] for f in body["features"]] if isinstance(body, dict) else [],
        {k: (v & {A1, A2, B1} if isinstance(v, set) else v) for k, v in PLACES_SEEN.items()},
    ),
    ListEndpoint("units list", "/api/units", lambda items: [u["code"] for u in items], UNITS_SEEN),
    ListEndpoint(
        "users list", "/api/users", lambda items: [u["username"] for u in items], USERS_SEEN
    ),
]

DETAILS = [
    DetailEndpoint("place detail", "/api/places/{key}", sorted(ALL_PLACES), PLACES_SEEN),
    DetailEndpoint("unit detail", "/api/units/{key}", ["U-WY-A", "U-WY-B"], UNITS_SEEN),
]


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("endpoint", LISTS, ids=lambda e: e.name)
def test_lists_show_exactly_the_jurisdiction(world, api_client, endpoint, username):
    check_list(api_client, world, endpoint, username)


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("endpoint", DETAILS, ids=lambda e: e.name)
def test_details_outside_the_jurisdiction_are_not_found(world, api_client, endpoint, username):
    check_detail(api_client, world, endpoint, username)


@pytest.mark.parametrize("username", USERS)
def test_user_detail_follows_the_admin_scope(world, api_client, username):
    ids = {name: getattr(world, name).id for name in ALL_USERS}
    endpoint = DetailEndpoint(
        "user detail",
        "/api/users/{key}",
        [str(i) for i in ids.values()],
        {k: (v if v == DENY else {str(ids[n]) for n in v}) for k, v in USERS_SEEN.items()},
    )
    check_detail(api_client, world, endpoint, username)


def test_anonymous_reads_nothing(world, api_client):
    for url in ["/api/places", "/api/units", "/api/users", "/api/places/110105", "/api/audit"]:
        assert api_client.get(url).status_code == 401, url
