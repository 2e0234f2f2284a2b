"""The write half of the permission matrix for the core API (issue 23 acceptance).

Every named user of the `world` fixture, and an anonymous caller, tries every state-changing
core endpoint (auth, places, units, users and roles, tokens, calendar, notifications) on an
object of community A and one of community B, each try in a rolled-back savepoint.
Expectations, written by hand from the rules:
  places, units, users and roles are kept by administrators over the place: adam (street A)
  on side A only, root everywhere; business roles keep none of them.
  The working calendar and address lockouts are global: root only.
  A password is one's own or an administrator's business; tokens and notifications are one's
  own (a token is issued to signed-in staff, never to residents, volunteers or social
  workers, and revoked only by its owner).
  Self-registration is public.
"""

from __future__ import annotations

import pytest

from renzhi.core import actions
from renzhi.core.models import CalendarOverride, Membership, Notification
from renzhi.core.tests.codes import live_code
from renzhi.core.tests.matrix import (
    ALL_USERS,
    WRITE_USERS,
    Write,
    check_writes,
    state_changing_operations,
)

pytestmark = pytest.mark.django_db

PREFIXES = (
    "/api/auth/",
    "/api/places",
    "/api/units",
    "/api/users",
    "/api/memberships",
    "/api/tokens",
    "/api/calendar",
    "/api/notifications",
)
EVERYONE = frozenset(WRITE_USERS)
SIGNED_IN = frozenset(ALL_USERS)
ADMIN_A = frozenset({"adam", "root"})
ADMIN_B = frozenset({"root"})
ROOT = frozenset({"root"})
# API tokens are for staff systems: residents, volunteers and social workers hold none.
TOKEN_HOLDERS = SIGNED_IN - {"charlie", "ivy", "vera", "sam"}
NOBODY: frozenset[str] = frozenset()


def _side(w, side):
    return (w.community_a, w.charlie) if side == "A" else (w.community_b, w.ivy)


def _new_place(side):
    def setup(w):
        parent, _ = _side(w, side)
        code = parent.code + "009"
        x0 = 116.40 if side == "A" else 116.50
        box = [[x0, 39.90], [x0 + 0.01, 39.90], [x0 + 0.01, 39.91], [x0, 39.91], [x0, 39.90]]
        body = {
            "level": "grid",
            "code": code,
            "name": "新网格",
            "parent_code": parent.code,
            "boundary": {"type": "Polygon", "coordinates": [box]},
        }
        return "/api/places", body

    return setup


def _place(side):
    return lambda w: (f"/api/places/{_side(w, side)[0].code}", {"population": 3333})


def _unit(side):
    return lambda w: (
        "/api/units",
        {
            "code": f"U-NEW-{side}",
            "name": "新物业",
            "kind": "property",
            "place_codes": [_side(w, side)[0].code],
        },
    )


def _user(side):
    return lambda w: (
        "/api/users",
        {
            "username": f"new{side.lower()}",
            "password": "Fresh2026pass!",
            "role": "resident",
            "place_code": _side(w, side)[0].code,
        },
    )


def _resident(suffix, body):
    def setup(w, side):
        _, resident = _side(w, side)
        return f"/api/users/{resident.pk}{suffix}", body(w, side) if callable(body) else body

    return setup


def _on(side, fn):
    return lambda w: fn(w, side)


def _grant(w, side):
    place, resident = _side(w, side)
    return f"/api/users/{resident.pk}/roles", {"role": "volunteer", "place_code": place.code}


def _revoke(w, side):
    _, resident = _side(w, side)
    membership = Membership.objects.get(user=resident)
    return f"/api/memberships/{membership.pk}", None


def _register_code(w):
    return "/api/auth/register/code", {"phone": "13900000077"}


def _register(w):
    # A code for every try (each try is rolled back, so one code serves them all).
    return "/api/auth/register", {
        "phone": "13900000078",
        "code": live_code("13900000078"),
        "password": "Home2026safe",
        "community_code": w.community_a.code,
    }


def _token(w):
    return "/api/tokens", {"name": "对接系统"}


def _alice_token(w):
    token, _raw = actions.issue_api_token(w.alice, "对接系统")
    return f"/api/tokens/{token.pk}", None


def _override(w):
    return "/api/calendar/overrides", {"date": "2026-10-09", "is_working_day": False}


def _remove_override(w):
    CalendarOverride.objects.create(date="2026-10-10", is_working_day=True)
    return "/api/calendar/overrides/2026-10-10", None


def _read_all(w):
    return "/api/notifications/read-all", None


def _alice_notification(w):
    n = Notification.objects.create(user=w.alice, kind="test", title="提醒")
    return f"/api/notifications/{n.pk}/read", None


def _rows():
    rows = [
        Write("POST /api/auth/register/code", "-", _register_code, EVERYONE),
        Write("POST /api/auth/register", "-", _register, EVERYONE),
        Write(
            "POST /api/auth/unlock-address",
            "-",
            lambda w: ("/api/auth/unlock-address", {"ip": "10.0.0.1"}),
            ROOT,
        ),
        Write("POST /api/tokens", "-", _token, TOKEN_HOLDERS),
        Write("DELETE /api/tokens/{token_id}", "-", _alice_token, frozenset({"alice"})),
        Write("POST /api/calendar/overrides", "-", _override, ROOT),
        Write("DELETE /api/calendar/overrides/{date}", "-", _remove_override, ROOT),
        Write("POST /api/notifications/read-all", "-", _read_all, SIGNED_IN),
        Write(
            "POST /api/notifications/{notification_id}/read",
            "-",
            _alice_notification,
            frozenset({"alice"}),
        ),
    ]
    for side, admins, resident in (("A", ADMIN_A, "charlie"), ("B", ADMIN_B, "ivy")):
        rows += [
            Write("POST /api/places", side, _new_place(side), admins),
            Write("PATCH /api/places/{code}", side, _place(side), admins),
            Write("POST /api/units", side, _unit(side), admins),
            Write("POST /api/users", side, _user(side), admins),
            Write("POST /api/users/{user_id}/roles", side, _on(side, _grant), admins),
            Write("DELETE /api/memberships/{membership_id}", side, _on(side, _revoke), admins),
            Write(
                "POST /api/users/{user_id}/password",
                side,
                _on(side, _resident("/password", {"password": "Another2026pass!"})),
                admins | {resident},
            ),
            Write(
                "POST /api/users/{user_id}/active",
                side,
                _on(side, _resident("/active", {"active": False})),
                admins,
            ),
            Write(
                "POST /api/users/{user_id}/unlock",
                side,
                _on(side, _resident("/unlock", None)),
                admins,
            ),
        ]
    return rows


def test_every_state_changing_core_endpoint_has_a_row_in_the_write_matrix():
    assert state_changing_operations(PREFIXES) - {row.op for row in _rows()} == set()


def test_no_user_may_change_core_state_the_table_does_not_allow(world, api_client):
    allows, refusals = check_writes(api_client, world, _rows())
    assert allows == []
    assert refusals == []
