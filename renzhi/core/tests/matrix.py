"""The permission matrix: for every role × every list/detail endpoint, what it may read.

Each app's test_permission_matrix.py declares its endpoints as `ListEndpoint`/`DetailEndpoint`
rows with hand-written expectations per named user of the `world` fixture, then calls
`check_list` / `check_detail`. An expectation is `DENY` (401/403/404 or a redirect to login) or
the exact set of keys the user must see — anything more is a cross-jurisdiction read, anything
less is a bug too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

DENY = "deny"
DENIED_STATUSES = {401, 403, 404}


@dataclass(frozen=True)
class ListEndpoint:
    """A JSON list endpoint. `keys` extracts comparable keys from one response page's JSON."""

    name: str
    url: str
    keys: Callable[[Any], Iterable[str]]
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DetailEndpoint:
    """A detail URL pattern with `{key}`; every key of the universe is tried for every user."""

    name: str
    url: str
    universe: Iterable[str]
    expect: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PageEndpoint:
    """An HTML page: allowed users get 200, others are refused (403/404 or redirect to login)."""

    name: str
    url: str
    allowed: frozenset[str]


def fetch_all(client, url: str) -> tuple[int, Any]:
    """GET every page of a paginated ninja list; returns (status of first page, items)."""
    items: list[Any] = []
    page = 1
    while True:
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}page={page}&page_size=500")
        if response.status_code != 200:
            return response.status_code, []
        body = response.json()
        if isinstance(body, dict) and "items" not in body:
            return 200, body  # not paginated (e.g. a GeoJSON FeatureCollection)
        batch = body["items"] if isinstance(body, dict) and "items" in body else body
        items.extend(batch)
        if (
            not isinstance(body, dict)
            or "count" not in body
            or len(items) >= body["count"]
            or not batch
        ):
            return 200, items
        page += 1


def check_list(client, world, endpoint: ListEndpoint, username: str) -> None:
    client.logout()
    client.force_login(getattr(world, username))
    expected = endpoint.expect[username]
    status, items = fetch_all(client, endpoint.url)
    if expected == DENY:
        assert status in DENIED_STATUSES, (
            f"{endpoint.name}: {username} should be refused, got {status}"
        )
        return
    assert status == 200, f"{endpoint.name}: {username} should be allowed, got {status}"
    seen = set(endpoint.keys(items))
    extra, missing = seen - set(expected), set(expected) - seen
    assert not extra, (
        f"{endpoint.name}: {username} sees outside their jurisdiction: {sorted(extra)}"
    )
    assert not missing, f"{endpoint.name}: {username} misses {sorted(missing)}"


def check_detail(client, world, endpoint: DetailEndpoint, username: str) -> None:
    client.logout()
    client.force_login(getattr(world, username))
    expected = endpoint.expect[username]
    visible = set() if expected == DENY else set(expected)
    for key in endpoint.universe:
        status = client.get(endpoint.url.format(key=key)).status_code
        if key in visible:
            assert status == 200, f"{endpoint.name}: {username} should read {key}, got {status}"
        else:
            assert status in DENIED_STATUSES, f"{endpoint.name}: {username} read {key} ({status})"


def check_page(client, world, endpoint: PageEndpoint, username: str) -> None:
    client.logout()
    client.force_login(getattr(world, username))
    response = client.get(endpoint.url)
    if username in endpoint.allowed:
        assert response.status_code == 200, (
            f"{endpoint.name}: {username} got {response.status_code}"
        )
    else:
        refused = response.status_code in DENIED_STATUSES or (
            response.status_code == 302 and "/login" in response["Location"]
        )
        assert refused, f"{endpoint.name}: {username} should be refused, got {response.status_code}"


USERS = ["alice", "bob", "charlie", "ivy", "dora", "erin", "gina", "frank", "adam", "root"]
# The apps after appeals also test the street leader, the volunteer and the social worker.
ALL_USERS = [*USERS, "leo", "vera", "sam"]


# --- the write half ---------------------------------------------------------------------------

WRITE_USERS = [*ALL_USERS, "anonymous"]
WRITE_METHODS = ("post", "put", "patch", "delete")
DONE_STATUSES = {200, 201, 202, 204}


@dataclass(frozen=True)
class Write:
    """One state-changing try: `op` as the OpenAPI names it ("POST /api/places/{code}"), the
    side of the world it acts on ("A", "B" or "-"), a `setup(world) -> (url, body)` that builds
    the object it acts on, and the users who must succeed. Everyone else must be refused."""

    op: str
    side: str
    setup: Callable[[Any], tuple[str, Any]]
    allowed: frozenset[str]


class Form(dict):
    """A body sent as a multipart form (file uploads, form parameters) instead of JSON; a
    callable value (an upload) is called afresh for every try."""


def state_changing_operations(prefixes: Iterable[str]) -> set[str]:
    """Every POST/PUT/PATCH/DELETE of renzhi.api whose path starts with one of `prefixes`."""
    from renzhi.api import api

    prefixes = tuple(prefixes)
    schema = api.get_openapi_schema()
    return {
        f"{method.upper()} {path}"
        for path, ops in schema["paths"].items()
        if path.startswith(prefixes)
        for method in ops
        if method in WRITE_METHODS
    }


def check_writes(client, world, rows: Iterable[Write]) -> tuple[list, list]:
    """Try every row as every user, each row's setup and each try in a rolled-back savepoint.
    Returns (unexpected allows, unexpected refusals)."""
    from django.db import transaction

    allows: list = []
    refusals: list = []
    for row in rows:
        method = row.op.split()[0].lower()
        with transaction.atomic():
            url, body = row.setup(world)
            for username in WRITE_USERS:
                with transaction.atomic():
                    client.logout()
                    if username != "anonymous":
                        client.force_login(getattr(world, username))
                    send = getattr(client, method)
                    if body is None:
                        response = send(url)
                    elif isinstance(body, Form):
                        fresh = {k: v() if callable(v) else v for k, v in body.items()}
                        response = send(url, data=fresh)
                    else:
                        response = send(url, data=body, content_type="application/json")
                    transaction.set_rollback(True)
                status = response.status_code
                assert status < 500, (row.op, row.side, username, status)
                done = status in DONE_STATUSES
                if done and username not in row.allowed:
                    allows.append((row.op, row.side, username, status))
                if not done and username in row.allowed:
                    refusals.append((row.op, row.side, username, status, response.content[:200]))
            transaction.set_rollback(True)
    client.logout()
    return allows, refusals
