"""Bad input and refused permissions: a field-named, localised error, and nothing changes.

Messages are Chinese by default (LANGUAGE_CODE zh-hans) and English when switched; a message
missing from the zh_Hans catalogue fails the test and names the message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import partial

import pytest
from django.utils import translation

from renzhi.core import actions
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import (
    ApiToken,
    AuditEvent,
    CalendarOverride,
    Membership,
    Place,
    Unit,
    User,
)
from renzhi.core.tests.codes import live_code

CJK = re.compile(r"[\u4e00-\u9fff]")
MODELS = [Place, Unit, User, Membership, ApiToken, CalendarOverride, AuditEvent]


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


INSIDE_A = square(116.41, 39.91, 116.42, 39.92)  # inside community A (116.40–116.50, 39.90–39.95)


@pytest.fixture(autouse=True)
def default_language():
    """No language left active by another test: messages come out in LANGUAGE_CODE (zh-hans)."""
    translation.deactivate()
    yield
    translation.deactivate()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


def assert_refused(run: Callable[[], object], field: str | None, code: ErrorCode) -> None:
    """`run` fails with (field, code) in Chinese by default and in English when switched,
    and changes no row either time."""
    before = counts()
    with pytest.raises(ActionError) as chinese:
        run()
    assert counts() == before
    assert (field, code) in [(e.field, e.code) for e in chinese.value.errors], chinese.value
    with translation.override("en"), pytest.raises(ActionError) as english:
        run()
    assert counts() == before
    assert_localised(_message(chinese.value, field), _message(english.value, field))


def assert_localised(chinese: str, english: str) -> None:
    assert english
    if chinese == english:
        pytest.fail(f"zh_Hans catalogue lacks a translation for: {english!r}")
    assert CJK.search(chinese), chinese


def _message(error: ActionError, field: str | None) -> str:
    return next(e.message for e in error.errors if e.field == field)


# --- places ---------------------------------------------------------------------------------


def _create_grid(world, actor=None, **overrides):
    fields = {
        "level": "grid",
        "code": "110105001001003",
        "name": "甲一社区第3网格",
        "parent": world.community_a,
        "boundary": INSIDE_A,
    }
    fields.update(overrides)
    return partial(actions.create_place, actor or world.root, **fields)


@pytest.mark.parametrize(
    "boundary",
    [
        "{not json",
        {"type": "Point", "coordinates": [116.41, 39.91]},
        {"type": "Polygon", "coordinates": [[[116.41, 39.91], [116.42, 39.91]]]},
        {"type": "Polygon", "coordinates": "116.41,39.91"},
        # a bow-tie: the ring crosses itself
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [116.41, 39.91],
                    [116.42, 39.92],
                    [116.42, 39.91],
                    [116.41, 39.92],
                    [116.41, 39.91],
                ]
            ],
        },
        None,
    ],
    ids=["not-json", "point", "two-points", "coordinates-text", "bow-tie", "missing"],
)
def test_a_malformed_boundary_is_refused(world, boundary):
    assert_refused(_create_grid(world, boundary=boundary), "boundary", ErrorCode.INVALID)


def test_coordinates_outside_longitude_and_latitude_are_refused(world):
    district = dict(level="district", code="110106", name="外区", parent=None)
    run = partial(actions.create_place, world.root, boundary=square(200, 95, 201, 96), **district)
    assert_refused(run, "boundary", ErrorCode.INVALID)


def test_a_duplicate_place_code_is_refused(world):
    original = Place.objects.get(code="110105001001001")
    assert_refused(_create_grid(world, code="110105001001001"), "code", ErrorCode.DUPLICATE)
    assert Place.objects.get(code="110105001001001").name == original.name


def test_a_grid_outside_its_community_is_refused(world):
    # Community B's area (116.50–116.60) is not inside community A (116.40–116.50).
    run = _create_grid(world, boundary=square(116.55, 39.91, 116.56, 39.92))
    assert_refused(run, "boundary", ErrorCode.OUT_OF_AREA)


def test_a_grid_reaching_over_its_community_edge_is_refused(world):
    run = _create_grid(world, boundary=square(116.49, 39.91, 116.51, 39.92))
    assert_refused(run, "boundary", ErrorCode.OUT_OF_AREA)


def test_a_code_not_starting_with_the_parents_code_is_refused(world):
    assert_refused(_create_grid(world, code="110105002001009"), "code", ErrorCode.INVALID)


@pytest.mark.parametrize("code", ["11010500100100", "1101050010010031", "11010500100100a", ""])
def test_a_code_of_the_wrong_length_or_not_digits_is_refused(world, code):
    assert_refused(_create_grid(world, code=code), "code", ErrorCode.INVALID)


def test_a_place_of_the_wrong_level_under_its_parent_is_refused(world):
    assert_refused(_create_grid(world, parent=world.street_a), "parent", ErrorCode.INVALID)


def test_bob_cannot_create_a_place_in_community_a(world):
    assert_refused(_create_grid(world, actor=world.bob), None, ErrorCode.FORBIDDEN)


def test_adam_cannot_create_a_place_in_street_b(world):
    run = _create_grid(
        world,
        actor=world.adam,
        code="110105002001003",
        parent=world.community_b,
        boundary=square(116.51, 39.91, 116.52, 39.92),
    )
    assert_refused(run, None, ErrorCode.FORBIDDEN)


def test_a_street_admin_cannot_create_a_district(world):
    run = partial(
        actions.create_place,
        world.adam,
        level="district",
        code="110106",
        name="新区",
        boundary=square(1, 1, 2, 2),
    )
    assert_refused(run, None, ErrorCode.FORBIDDEN)


def test_redrawing_a_community_ignores_children_without_a_boundary(world):
    """Regression: `exclude(boundary=None)` matched JSON null only, so a grid stored without a
    boundary (SQL NULL) was parsed and the redraw refused with a misleading message."""
    Place.objects.create(
        code="110105001001009", name="无边界网格", level="grid", parent=world.community_a
    )
    bigger = square(116.40, 39.90, 116.50, 39.96)

    place = actions.update_place(world.root, world.community_a, boundary=bigger)

    assert place.max_lat == pytest.approx(39.96)


def test_redrawing_a_community_so_a_grid_falls_outside_is_refused(world):
    smaller = square(116.40, 39.90, 116.45, 39.95)  # grid A2 (116.45–116.50) would be outside
    run = partial(actions.update_place, world.root, world.community_a, boundary=smaller)
    assert_refused(run, "boundary", ErrorCode.INVALID)


# --- roles ----------------------------------------------------------------------------------


def test_an_unknown_role_is_refused(world):
    run = partial(
        actions.grant_role, world.root, world.charlie, role="mayor", place=world.community_a
    )
    assert_refused(run, "role", ErrorCode.INVALID)


@pytest.mark.parametrize(
    ("role", "place"),
    [
        ("grid_worker", "community_a"),
        ("community_staff", "grid_a1"),
        ("community_staff", "street_a"),
        ("dispatcher", "community_a"),
        ("admin", "street_a"),
    ],
)
def test_a_role_bound_to_the_wrong_level_of_place_is_refused(world, role, place):
    run = partial(
        actions.grant_role, world.root, world.charlie, role=role, place=getattr(world, place)
    )
    assert_refused(run, "place", ErrorCode.INVALID)


def test_a_unit_handler_without_a_unit_is_refused(world):
    run = partial(actions.grant_role, world.root, world.charlie, role="unit_handler")
    assert_refused(run, "unit", ErrorCode.REQUIRED)


def test_a_unit_handler_bound_to_a_place_is_refused(world):
    run = partial(
        actions.grant_role,
        world.root,
        world.charlie,
        role="unit_handler",
        unit=world.unit_a,
        place=world.grid_a1,
    )
    assert_refused(run, "place", ErrorCode.INVALID)


def test_a_staff_role_without_a_place_is_refused(world):
    run = partial(actions.grant_role, world.root, world.charlie, role="grid_worker")
    assert_refused(run, "place", ErrorCode.REQUIRED)


def test_granting_a_role_twice_is_refused(world):
    run = partial(
        actions.grant_role, world.root, world.alice, role="community_staff", place=world.community_a
    )
    assert_refused(run, "role", ErrorCode.DUPLICATE)


def test_adam_cannot_grant_a_role_in_street_b(world):
    run = partial(
        actions.grant_role,
        world.adam,
        world.charlie,
        role="community_staff",
        place=world.community_b,
    )
    assert_refused(run, None, ErrorCode.FORBIDDEN)


def test_adam_cannot_make_a_unit_handler_of_a_unit_in_street_b(world):
    run = partial(
        actions.grant_role, world.adam, world.charlie, role="unit_handler", unit=world.unit_b
    )
    assert_refused(run, None, ErrorCode.FORBIDDEN)


def test_a_street_admin_cannot_make_a_global_admin(world):
    run = partial(actions.grant_role, world.adam, world.charlie, role="admin")
    assert_refused(run, "role", ErrorCode.FORBIDDEN)


def test_alice_cannot_grant_roles(world):
    run = partial(
        actions.grant_role, world.alice, world.charlie, role="volunteer", place=world.community_a
    )
    assert_refused(run, None, ErrorCode.FORBIDDEN)


# --- accounts -------------------------------------------------------------------------------

WEAK_PASSWORDS = {
    "short": "Ab1cd",  # 5 characters, the minimum is 8
    "numeric-only": "20260214123",
    "common": "password1",
    "letters-only": "Renzhiabcdef",
}


@pytest.mark.parametrize("password", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_a_too_weak_password_is_refused_for_a_new_user(world, password):
    run = partial(actions.create_user, world.root, username="zhangwei", password=password)
    assert_refused(run, "password", ErrorCode.WEAK_PASSWORD)


@pytest.mark.parametrize("password", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_a_too_weak_password_is_refused_at_registration(world, password):
    run = partial(
        actions.register_resident,
        phone="13900000021",
        code=live_code("13900000021"),
        password=password,
        home_place=world.community_a,
    )
    assert_refused(run, "password", ErrorCode.WEAK_PASSWORD)


def test_a_password_like_the_username_is_refused(world):
    run = partial(actions.create_user, world.root, username="wangfang2026", password="wangfang2026")
    assert_refused(run, "password", ErrorCode.WEAK_PASSWORD)


def test_an_empty_password_is_required(world):
    run = partial(actions.create_user, world.root, username="zhangwei", password="")
    assert_refused(run, "password", ErrorCode.REQUIRED)


def test_a_weak_password_change_is_refused_and_the_old_one_still_works(world):
    run = partial(actions.set_password, world.alice, world.alice, "12345678")
    assert_refused(run, "password", ErrorCode.WEAK_PASSWORD)
    world.alice.refresh_from_db()
    assert world.alice.check_password(world.password)


def test_a_phone_number_already_registered_is_refused_at_registration(world):
    """No code was ever texted to a registered number: refused like a wrong code, unrevealed."""
    run = partial(
        actions.register_resident, phone="13800000003", code="123456", password="Home2026safe"
    )
    assert_refused(run, "code", ErrorCode.INVALID)


def test_a_phone_number_already_used_is_refused_for_a_new_user(world):
    run = partial(
        actions.create_user,
        world.root,
        username="zhangwei",
        password="Grid2026work",
        phone="13800000001",
    )
    assert_refused(run, "phone", ErrorCode.DUPLICATE)


@pytest.mark.parametrize(
    "phone", ["1380000000", "138000000011", "23800000000", "12800000000", "138-0000-0001", "phone"]
)
def test_a_malformed_phone_number_is_refused(world, phone):
    run = partial(actions.register_resident, phone=phone, code="123456", password="Home2026safe")
    assert_refused(run, "phone", ErrorCode.INVALID)


def test_a_home_that_is_not_a_community_or_grid_is_refused(world):
    run = partial(
        actions.register_resident,
        phone="13900000021",
        code=live_code("13900000021"),
        password="Home2026safe",
        home_place=world.street_a,
    )
    assert_refused(run, "home_place", ErrorCode.INVALID)


def test_a_taken_username_is_refused(world):
    run = partial(actions.create_user, world.root, username="alice", password="Grid2026work")
    assert_refused(run, "username", ErrorCode.DUPLICATE)


def test_charlie_cannot_create_a_user(world):
    run = partial(actions.create_user, world.charlie, username="zhangwei", password="Grid2026work")
    assert_refused(run, None, ErrorCode.FORBIDDEN)


def test_an_admin_cannot_deactivate_themself(world):
    run = partial(actions.set_user_active, world.root, world.root, False)
    assert_refused(run, "active", ErrorCode.INVALID)


def test_several_mistakes_are_reported_together(world):
    with pytest.raises(ActionError) as error:
        actions.create_user(world.root, username="a", password="123", phone="12")
    assert {e.field for e in error.value.errors} == {"username", "password", "phone"}


# --- success writes exactly one audit event -------------------------------------------------


def _one_event(verb: str, run: Callable[[], object]):
    before = AuditEvent.objects.count()
    result = run()
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event is not None
    assert event.verb == verb
    return result, event


def test_each_successful_action_writes_exactly_one_audit_event(world):
    root = world.root
    place, event = _one_event("place.create", _create_grid(world))
    assert event.actor == root and event.object_id == str(place.pk)

    _one_event("place.update", lambda: actions.update_place(root, place, name="甲一社区第三网格"))
    _, event = _one_event(
        "unit.create",
        lambda: actions.create_unit(
            root, code="U-SW-A", name="甲区供水", kind="water", places=[world.community_a]
        ),
    )
    assert event.after["places"] == ["110105001001"]
    user, event = _one_event(
        "user.create",
        lambda: actions.create_user(
            root, username="zhangwei", password="Grid2026work", phone="13900000011"
        ),
    )
    assert event.after == {"username": "zhangwei", "phone": "139****0011"}
    membership, _ = _one_event(
        "membership.grant",
        lambda: actions.grant_role(root, user, role="grid_worker", place=place),
    )
    _one_event("membership.revoke", lambda: actions.revoke_role(root, membership))
    _one_event("user.set_password", lambda: actions.set_password(root, user, "Grid2027work"))
    _one_event("user.deactivate", lambda: actions.set_user_active(root, user, False))
    _one_event("user.activate", lambda: actions.set_user_active(root, user, True))
    resident, event = _one_event(
        "user.register",
        lambda: actions.register_resident(
            phone="13900000012",
            code=live_code("13900000012"),
            password="Home2026safe",
            home_place=world.community_a,
        ),
    )
    assert event.actor == resident
    assert "13900000012" not in str(event.after) + event.object_label
    (token, _raw), _ = _one_event("token.issue", lambda: actions.issue_api_token(root, "12345"))
    _one_event("token.revoke", lambda: actions.revoke_api_token(root, token))
    override, _ = _one_event(
        "calendar.override",
        lambda: actions.set_calendar_override(root, date=dt.date(2027, 2, 6), is_working_day=True),
    )
    _one_event("calendar.remove_override", lambda: actions.remove_calendar_override(root, override))


def test_adam_grants_a_role_inside_street_a(world):
    _, event = _one_event(
        "membership.grant",
        lambda: actions.grant_role(
            world.adam, world.charlie, role="volunteer", place=world.community_a
        ),
    )
    assert event.actor == world.adam
    assert Membership.objects.filter(user=world.charlie, role="volunteer").exists()


def test_deactivating_a_user_revokes_their_tokens(world):
    token, _ = actions.issue_api_token(world.alice, "巡查终端")

    actions.set_user_active(world.root, world.alice, False)

    token.refresh_from_db()
    assert token.revoked_at is not None


# --- the same through the API ---------------------------------------------------------------


def assert_api_refused(response, status: int, field: str | None, before: dict) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail"}
    for item in body["detail"]:
        assert set(item) == {"field", "code", "message"}
        assert item["message"]
    assert field in [item["field"] for item in body["detail"]], body
    assert counts() == before
    return next(item for item in body["detail"] if item["field"] == field)


PLACE_PAYLOAD = {
    "level": "grid",
    "code": "110105001001003",
    "name": "甲一社区第3网格",
    "parent_code": "110105001001",
    "boundary": INSIDE_A,
}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"boundary": "{not json"}, "boundary", "invalid"),
        ({"boundary": {"type": "Point", "coordinates": [116.41, 39.91]}}, "boundary", "invalid"),
        ({"code": "110105001001001"}, "code", "duplicate"),
        ({"boundary": square(116.55, 39.91, 116.56, 39.92)}, "boundary", "out_of_area"),
        ({"code": "110105002001009"}, "code", "invalid"),
        ({"code": "1101050010010"}, "code", "invalid"),
        ({"name": "  "}, "name", "required"),
        ({"level": "province"}, "level", "invalid"),
    ],
)
def test_the_places_api_refuses_bad_input_with_400(world, api_client, change, field, code):
    client = api_client.as_user(world.root)
    before = counts()
    response = client.post_json("/api/places", PLACE_PAYLOAD | change)
    item = assert_api_refused(response, 400, field, before)
    assert item["code"] == code


def test_the_places_api_answers_in_english_when_asked(world, api_client):
    client = api_client.as_user(world.root)
    before = counts()
    response = client.post_json(
        "/api/places", PLACE_PAYLOAD | {"code": "110105001001001"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    item = assert_api_refused(response, 400, "code", before)
    assert "110105001001001" in item["message"]
    assert not CJK.search(item["message"])


def test_the_places_api_refuses_bob_in_community_a(world, api_client):
    client = api_client.as_user(world.bob)
    before = counts()
    response = client.post_json("/api/places", PLACE_PAYLOAD)
    item = assert_api_refused(response, 403, None, before)
    assert item["code"] == "forbidden"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"password": "Ab1cd"}, "password", "weak_password"),
        ({"password": "20260214123"}, "password", "weak_password"),
        ({"password": "password1"}, "password", "weak_password"),
        ({"password": "Renzhiabcdef"}, "password", "weak_password"),
        ({"phone": "13800000001"}, "phone", "duplicate"),
        ({"phone": "1380000000"}, "phone", "invalid"),
        ({"username": "alice"}, "username", "duplicate"),
        ({"username": "a b"}, "username", "invalid"),
    ],
)
def test_the_users_api_refuses_bad_input_with_400(world, api_client, change, field, code):
    client = api_client.as_user(world.root)
    before = counts()
    payload = {"username": "zhangwei", "password": "Grid2026work", "phone": "13900000011"}
    response = client.post_json("/api/users", payload | change)
    assert assert_api_refused(response, 400, field, before)["code"] == code


def test_the_users_api_refuses_charlie(world, api_client):
    client = api_client.as_user(world.charlie)
    before = counts()
    response = client.post_json("/api/users", {"username": "zhangwei", "password": "Grid2026work"})
    assert assert_api_refused(response, 403, None, before)["code"] == "forbidden"


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"role": "mayor", "place_code": "110105001001"}, "role", "invalid"),
        ({"role": "grid_worker", "place_code": "110105001001"}, "place_code", "invalid"),
        ({"role": "unit_handler"}, "unit_code", "required"),
        ({"role": "grid_worker", "place_code": "999999999999999"}, "place_code", "not_found"),
    ],
)
def test_the_roles_api_refuses_bad_input(world, api_client, payload, field, code):
    client = api_client.as_user(world.root)
    before = counts()
    response = client.post_json(f"/api/users/{world.charlie.id}/roles", payload)
    status = 404 if code == "not_found" else 400
    assert assert_api_refused(response, status, field, before)["code"] == code


def test_the_roles_api_refuses_adam_in_street_b(world, api_client):
    client = api_client.as_user(world.adam)
    before = counts()
    response = client.post_json(
        f"/api/users/{world.charlie.id}/roles",
        {"role": "community_staff", "place_code": "110105002001"},
    )
    assert assert_api_refused(response, 403, None, before)["code"] == "forbidden"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"password": "Ab1cd"}, "password", "weak_password"),
        ({"password": "20260214123"}, "password", "weak_password"),
        ({"password": "password1"}, "password", "weak_password"),
        ({"password": "Renzhiabcdef"}, "password", "weak_password"),
        ({"phone": "13800000003"}, "code", "invalid"),
        ({"phone": "2380000000"}, "phone", "invalid"),
        ({"community_code": "110105001"}, "community_code", "invalid"),
    ],
)
def test_registration_refuses_bad_input_with_400(db, world, api_client, change, field, code):
    payload = {
        "phone": "13900000021",
        "code": live_code("13900000021"),
        "password": "Home2026safe",
        "community_code": "110105001001",
    }
    before = counts()
    response = api_client.post_json("/api/auth/register", payload | change)
    assert assert_api_refused(response, 400, field, before)["code"] == code


def test_registration_through_the_api_writes_one_event_and_masks_the_phone(world, api_client):
    response = api_client.post_json(
        "/api/auth/register",
        {
            "phone": "13900000021",
            "code": live_code("13900000021"),
            "password": "Home2026safe",
            "community_code": "110105001001",
        },
    )

    assert response.status_code == 201
    assert response.json()["roles"] == ["resident"]
    event = AuditEvent.objects.get()
    assert event.verb == "user.register"
    assert event.after == {"phone": "139****0021", "home_place": "110105001001"}


def test_revoking_a_role_through_the_api_writes_one_event(world, api_client):
    client = api_client.as_user(world.root)
    membership = Membership.objects.get(user=world.alice)
    before = AuditEvent.objects.count()

    response = client.delete(f"/api/memberships/{membership.pk}")

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.order_by("-seq").first().verb == "membership.revoke"


def test_a_street_admin_creates_an_account_together_with_its_first_role(world):
    account = actions.create_user(
        world.adam,
        username="liuyang",
        password="Grid2026work",
        role="grid_worker",
        place=world.grid_a2,
    )

    assert list(account.memberships.values_list("role", "place__code")) == [
        ("grid_worker", "110105001001002")
    ]
    assert list(AuditEvent.objects.order_by("seq").values_list("verb", flat=True)) == [
        "user.create",
        "membership.grant",
    ]


def test_a_street_admin_cannot_create_an_account_without_a_role(world):
    assert_refused(
        partial(actions.create_user, world.adam, username="liuyang", password="Grid2026work"),
        "role",
        ErrorCode.REQUIRED,
    )


def test_a_first_role_outside_the_admins_street_leaves_no_account_behind(world):
    before = counts()
    with pytest.raises(ActionError):
        actions.create_user(
            world.adam,
            username="liuyang",
            password="Grid2026work",
            role="community_staff",
            place=world.community_b,
        )
    assert counts() == before


def test_the_api_removes_a_calendar_override(world, api_client):
    client = api_client.as_user(world.root)
    client.post_json("/api/calendar/overrides", {"date": "2027-01-04", "is_working_day": False})

    response = client.delete("/api/calendar/overrides/2027-01-04")

    assert response.status_code == 200 and response.json()["is_working_day"] is True
    assert not CalendarOverride.objects.exists()
    assert client.delete("/api/calendar/overrides/2027-01-04").status_code == 404
