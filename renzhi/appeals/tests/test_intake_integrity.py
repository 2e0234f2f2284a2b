"""Issue 23 #10 and #11: who sets what at intake, and how often a resident may file.

- Priority is staff's: a resident's own filing with a priority other than normal is refused
  with a field error (it shortens the SLA and trains the urgency model).
- A resident's filings are throttled per account and per phone (5 in 10 minutes, 30 a day by
  default): HTTP 429 with Retry-After in the API, a form error keeping the text on the page.
  Staff channels are not throttled per caller.
- A person files as a resident unless they choose a staff channel they hold; each role's
  rights apply to the act done in that role.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from renzhi.appeals import actions
from renzhi.appeals.models import Appeal, Channel, Priority
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import Membership, Role, User

pytestmark = pytest.mark.django_db

GRID_A1 = {"lat": 39.92, "lng": 116.42}  # at home of charlie and vera (community A)
GRID_B1 = {"lat": 39.92, "lng": 116.55}  # the other street


@pytest.fixture(autouse=True)
def production_limits(settings):
    """The production defaults (tests elsewhere run without limits)."""
    settings.RENZHI_INTAKE_THROTTLE = {"WINDOW_MINUTES": 10, "PER_WINDOW": 5, "PER_DAY": 30}


def _file(api_client, user, **extra):
    api_client.force_login(user)
    return api_client.post_json("/api/appeals/", {"description": "楼道灯坏了", **GRID_A1, **extra})


# --- priority ---------------------------------------------------------------------------------


def test_it_refuses_a_priority_set_by_a_resident_through_the_api(cases, api_client):
    response = _file(api_client, cases.charlie, priority="urgent")
    assert response.status_code == 403
    assert [e["field"] for e in response.json()["detail"]] == ["priority"]
    assert not Appeal.objects.exists()


def test_it_refuses_a_priority_set_on_the_resident_channel_by_staff_too(cases, api_client):
    response = _file(api_client, cases.alice, channel="web", priority="urgent")
    assert response.status_code == 403
    assert not Appeal.objects.exists()


def test_staff_set_the_priority_on_the_hotline(cases, api_client):
    response = _file(
        api_client, cases.alice, channel="hotline", priority="urgent", contact_phone="13912345678"
    )
    assert response.status_code == 201
    assert Appeal.objects.get().priority == Priority.URGENT


# --- throttle -----------------------------------------------------------------------------------


def test_it_throttles_a_resident_after_five_appeals_in_ten_minutes(cases, api_client, clock):
    for _n in range(5):
        assert _file(api_client, cases.charlie).status_code == 201
    refused = _file(api_client, cases.charlie)
    assert refused.status_code == 429
    assert refused.json()["detail"][0]["code"] == ErrorCode.RATE_LIMITED
    assert refused.json()["detail"][0]["field"] == "description"
    assert 0 < int(refused["Retry-After"]) <= 600
    assert Appeal.objects.count() == 5
    clock.at("2026-03-02 10:11")
    assert _file(api_client, cases.charlie).status_code == 201


def test_it_throttles_one_phone_across_accounts(flow, api_client):
    for _n in range(3):
        assert _file(api_client, flow.charlie).status_code == 201  # phone 13800000003
    for _n in range(2):
        assert _file(api_client, flow.kate, contact_phone="13800000003").status_code == 201
    assert _file(api_client, flow.kate, contact_phone="13800000003").status_code == 429
    assert _file(api_client, flow.kate).status_code == 201  # her own phone is not spent


def test_it_throttles_a_resident_per_day(cases, api_client, clock, settings):
    settings.RENZHI_INTAKE_THROTTLE = {"WINDOW_MINUTES": 10, "PER_WINDOW": 5, "PER_DAY": 7}
    for n in range(7):
        clock.at(f"2026-03-02 {9 + n:02d}:00")
        assert _file(api_client, cases.charlie).status_code == 201
    clock.at("2026-03-02 18:00")
    refused = _file(api_client, cases.charlie)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 15 * 3600  # the 09:00 one leaves the day at 09:00
    clock.at("2026-03-03 09:01")
    assert _file(api_client, cases.charlie).status_code == 201


def test_the_form_says_why_and_keeps_what_was_typed_when_throttled(cases, client, settings):
    settings.RENZHI_INTAKE_THROTTLE = {"WINDOW_MINUTES": 10, "PER_WINDOW": 1, "PER_DAY": 30}
    client.force_login(cases.charlie)
    data = {
        "category": cases.cat_lift.code,
        "description": "3号楼电梯停了，老人下不了楼",
        "lat": "39.92",
        "lng": "116.42",
        "place": cases.community_a.code,
        "contact_phone": "13800000003",
    }
    assert client.post("/appeals/new/", {**data, "idempotency_key": "k-1"}).status_code == 302
    page = client.post("/appeals/new/", {**data, "description": "又停了", "idempotency_key": "k-2"})
    assert page.status_code == 200
    form = page.context["form"]
    assert form.errors["description"]
    assert form["description"].value() == "又停了"
    assert Appeal.objects.count() == 1


def test_hotline_calls_of_one_caller_are_not_throttled(cases, api_client):
    for _n in range(7):
        response = _file(api_client, cases.alice, channel="hotline", contact_phone="13800000003")
        assert response.status_code == 201
    assert Appeal.objects.filter(channel=Channel.HOTLINE).count() == 7


# --- several roles, one person ------------------------------------------------------------------


def test_a_resident_who_is_also_a_volunteer_files_at_home_through_the_api(world, api_client):
    Membership.objects.create(user=world.charlie, role=Role.VOLUNTEER, place=world.community_a)
    response = _file(api_client, world.charlie)
    assert response.status_code == 201, response.json()
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.resident) == (Channel.WEB, world.charlie)
    # … and anywhere else in the city, like any resident
    assert _file(api_client, world.charlie, **GRID_B1).status_code == 201


# Where each role of the demo city sits for the pair test (all in street A).
ROLE_PLACES: dict[str, str | None] = {
    Role.RESIDENT: "community_a",
    Role.GRID_WORKER: "grid_a1",
    Role.COMMUNITY_STAFF: "community_a",
    Role.DISPATCHER: "street_a",
    Role.LEADER: "street_a",
    Role.ORG_ADMIN: "community_a",
    Role.VOLUNTEER: "community_a",
    Role.SOCIAL_WORKER: "community_a",
    Role.ADMIN: "street_a",
    Role.UNIT_HANDLER: None,  # bound to unit A
}
STAFF_CHANNELS = (Channel.HOTLINE, Channel.PATROL, Channel.API)


def _person(world, n: int, roles: tuple[str, ...]) -> User:
    user = User.objects.create_user(
        username=f"p{n}",
        password=world.password,
        phone=f"1370000{n:04d}",
        home_place=world.grid_a1 if Role.RESIDENT in roles else None,
    )
    for role in roles:
        spot = ROLE_PLACES[role]
        Membership.objects.create(
            user=user,
            role=role,
            place=getattr(world, spot) if spot else None,
            unit=world.unit_a if role == Role.UNIT_HANDLER else None,
        )
    return user


def _allowed(roles: tuple[str, ...], channel: str, inside: bool) -> bool:
    """The rule as the table states it: a staff channel is open to a held role of that channel,
    at a place inside that role's jurisdiction (all roles here sit in street A)."""
    return inside and bool(set(roles) & actions.staff_channel_roles(channel))


def test_each_role_of_a_person_applies_to_the_act_done_in_it(world):
    """Every pair of roles the demo city has, on one person: as a resident they file anywhere
    (no priority); through each staff channel only if one of their roles holds that channel
    and covers the place; a role never lends its rights to another."""
    unexpected = []
    pairs = list(itertools.combinations(ROLE_PLACES, 2))
    for n, roles in enumerate(pairs):
        person = _person(world, n, roles)
        if Role.RESIDENT in roles:
            for spot in (GRID_A1, GRID_B1):
                result = actions.submit_appeal(
                    person, channel=Channel.WEB, description="路灯坏了", auto_route=False, **spot
                )
                if result.appeal.resident != person:
                    unexpected.append((roles, "web", spot))
        for channel, (spot, inside) in itertools.product(
            STAFF_CHANNELS, ((GRID_A1, True), (GRID_B1, False))
        ):
            try:
                actions.submit_appeal(
                    person,
                    channel=channel,
                    description="巡查发现路灯坏了",
                    priority=Priority.URGENT,
                    auto_route=False,
                    **spot,
                )
                allowed = True
            except ActionError:
                allowed = False
            if allowed != _allowed(roles, channel, inside):
                unexpected.append((roles, channel, inside, allowed))
    assert unexpected == []
    assert len(pairs) == 45


def test_a_staff_channel_one_does_not_hold_is_refused_by_name(world):
    with pytest.raises(ActionError) as refused:
        actions.submit_appeal(
            world.vera, channel=Channel.HOTLINE, description="代人来电", **GRID_A1
        )
    assert refused.value.errors[0].field == "channel"


def test_filing_times_are_counted_in_the_database(cases, clock):
    """The count survives restarts and spans processes: it is the appeals table itself."""
    for _n in range(5):
        actions.submit_appeal(
            cases.charlie, channel=Channel.WEB, description="噪音", auto_route=False, **GRID_A1
        )
    Appeal.objects.update(received_at=clock.utc() - dt.timedelta(minutes=11))
    actions.submit_appeal(
        cases.charlie, channel=Channel.WEB, description="噪音", auto_route=False, **GRID_A1
    )
    assert Appeal.objects.count() == 6
