"""The write half of the permission matrix for emergency resources, shelters, plans, tasks and
reviews (issue 23 acceptance), beside test_write_matrix_incidents.py.

A world with the same things on both sides — depots with stock, a supply request, a household,
an incident with a task, a shelter with a guest, a plan and a review in community/street A and
in community/street B — is built once; then every named user tries every state-changing
endpoint on side A and on side B, each try in a rolled-back savepoint. The allowed sets are
written from the rules (emergency/rules*.py): keepers of a depot are the staff, dispatcher and
leaders covering it; plans, shelters and reviews belong to the leader, staff and dispatcher
covering the place; nobody out of jurisdiction, and administrators keep the system but do not
run incidents. 0 unexpected allows, 0 unexpected refusals.

`test_every_state_changing_emergency_operation_is_in_a_table` lists the state-changing
/api/emergency/ operations from the OpenAPI schema and fails on one no table names.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from renzhi.emergency.actions import incidents, plans, reserves, reviews, shelters, tasks
from renzhi.emergency.models import Depot, StockBatch
from renzhi.emergency.tests.factories_incidents import level_specs, make_items
from renzhi.emergency.tests.factories_resources import add_depots, make_incident, stock
from renzhi.emergency.tests.test_write_matrix_incidents import USERS

pytestmark = pytest.mark.django_db

API = "/api/emergency"


def _sides(world):
    """Build the same things on side A and side B; return {side: namespace-like dict}."""
    w = add_depots(world)
    make_items()
    w.depot_sb = Depot.objects.create(
        code="dep-sb", name="乙街道应急仓库", kind="street", place=w.street_b
    )
    out = {}
    for side, staff, leader, community, street, depot, street_depot in (
        ("A", w.alice, w.leo, w.community_a, w.street_a, w.depot_a, w.depot_street),
        ("B", w.bob, w.frank, w.community_b, w.street_b, w.depot_b, w.depot_sb),
    ):
        s = {"community": community, "street": street, "depot": depot}
        stock(depot, w.items["water"], 20)
        stock(street_depot, w.items["water"], 20)
        s["batch"] = StockBatch.objects.filter(depot=depot).first()
        expired = stock(depot, w.items["rice"], 5, days=10, batch="OLD")
        s["expired"] = expired.batch if hasattr(expired, "batch") else None
        s["request"] = reserves.request_supplies(
            staff, depot, street_depot, [reserves.Line(w.items["water"], 5)]
        )
        s["approved"] = reserves.approve_request(
            leader,
            reserves.request_supplies(
                staff, depot, street_depot, [reserves.Line(w.items["water"], 3)]
            ),
        )
        s["household"] = reserves.register_household(staff, community, f"{side}区3栋201")
        s["incident"] = incidents.report(
            staff, title="内涝", kind="flood", place=community, severity=3
        )
        s["task"] = tasks.create_task(
            staff,
            s["incident"],
            title="转移群众",
            deadline=timezone.now() + dt.timedelta(hours=4),
            assignee=staff,
        )
        s["active"] = incidents.report(
            staff, title="燃气泄漏", kind="flood", place=community, severity=3
        )
        s["shelter"] = shelters.create_shelter(
            staff, name=f"{side}避难点", place=community, capacity=50
        )
        s["stay"] = shelters.check_in(staff, s["shelter"], name="张三", people=2)
        s["plan"] = plans.create_plan(
            leader, place=street, kind="flood", title=f"{side}防汛预案", levels=level_specs()
        )
        plans.activate(leader, s["active"], 4)
        s["closed"] = make_incident(community, status="closed", by=staff)
        reviewed = make_incident(community, status="closed", by=staff)
        change = reviews.ChangeSpec(s["plan"], 3, "add_action", "加固围挡", role="community_staff")
        s["review"] = reviews.write_review(
            leader, reviewed, summary="总结", lessons="教训", changes=[change]
        )
        out[side] = s
    return w, out


# Roles by rule, per side (A: community A / street A; B: community B / street B).
# Stock keepers (rules_resources.STOCK_KEEPERS) include administrators of the place.
KEEP_A = {"alice", "dora", "leo", "frank", "adam", "root"}
KEEP_B = {"bob", "frank", "root"}
STREET_A = KEEP_A - {"alice"}  # keepers of street A's depot (alice's reach is her community)
STREET_B = KEEP_B - {"bob"}
# Households and hand-outs: also the grid worker and social worker of the community.
HAND_OUT_A = KEEP_A | {"gina", "sam"}
HAND_OUT_B = KEEP_B
# Incidents, plans, shelters, reviews: staff, dispatcher and leaders covering it, no admin.
RUN_A = {"alice", "dora", "leo", "frank"}
RUN_B = {"bob", "frank"}
PLAN_STREET_A = RUN_A - {"alice"}
PLAN_STREET_B = RUN_B - {"bob"}
# The shelter desk: also the helpers of the community (grid worker, volunteer, social worker).
DESK_A = RUN_A | {"gina", "vera", "sam"}
DESK_B = RUN_B
# The live log: anyone who may read the incident writes in it (actions.incidents.add_log) —
# its helpers and unit, and the administrators too.
LOG_A = RUN_A | {"adam", "root", "erin", "gina", "sam", "vera"}
LOG_B = RUN_B | {"root"}


def _rows(w, sides):
    """(operation, side, method, url, body, allowed) for every try."""
    rows = []
    for side, s in sides.items():
        a = side == "A"
        keep, run = (KEEP_A, RUN_A) if a else (KEEP_B, RUN_B)
        street_keep = STREET_A if a else STREET_B
        hand_out, desk = (HAND_OUT_A, DESK_A) if a else (HAND_OUT_B, DESK_B)
        plan_street = PLAN_STREET_A if a else PLAN_STREET_B
        d, c = s["depot"].code, s["community"].code
        r, t, sh = s["request"].pk, s["task"].pk, s["shelter"].pk
        plan, inc, rev = s["plan"].pk, s["incident"].pk, s["review"].pk
        soon = (timezone.now() + dt.timedelta(hours=4)).isoformat()
        levels = [
            {
                "level": spec.level,
                "summary": spec.summary,
                "actions": [
                    {"title": a.title, "role": a.role, "due_hours": a.due_hours}
                    for a in spec.actions
                ],
            }
            for spec in level_specs()
        ]
        rows += [
            (
                "POST /depots",
                side,
                "post",
                "/depots",
                {"code": f"new-{side}", "name": "新储备点", "kind": "community", "place_code": c},
                keep,
            ),
            (
                "POST /depots/{code}/minimums",
                side,
                "post",
                f"/depots/{d}/minimums",
                {"item": "water", "minimum": 5},
                keep,
            ),
            (
                "POST /stock/receive",
                side,
                "post",
                "/stock/receive",
                {"depot": d, "item": "water", "quantity": 3},
                keep,
            ),
            (
                "POST /stock/issue",
                side,
                "post",
                "/stock/issue",
                {"depot": d, "item": "water", "quantity": 1, "reason": "发放"},
                keep,
            ),
            (
                "POST /stock/transfer",
                side,
                "post",
                "/stock/transfer",
                {
                    "from_depot": d,
                    "to_depot": s["request"].from_depot.code,
                    "item": "water",
                    "quantity": 1,
                },
                keep,
            ),
            (
                "POST /stock/adjust",
                side,
                "post",
                "/stock/adjust",
                {"batch_id": s["batch"].pk, "quantity": -1, "reason": "盘点"},
                keep,
            ),
            (
                "POST /requests",
                side,
                "post",
                "/requests",
                {
                    "to_depot": d,
                    "from_depot": s["request"].from_depot.code,
                    "lines": [{"item": "water", "quantity": 2}],
                },
                keep,
            ),
            (
                "POST /requests/{request_id}/approve",
                side,
                "post",
                f"/requests/{r}/approve",
                {},
                street_keep,
            ),
            (
                "POST /requests/{request_id}/reject",
                side,
                "post",
                f"/requests/{r}/reject",
                {"note": "库存不足"},
                street_keep,
            ),
            (
                "POST /requests/{request_id}/cancel",
                side,
                "post",
                f"/requests/{r}/cancel",
                None,
                keep,
            ),
            (
                "POST /households",
                side,
                "post",
                "/households",
                {"place_code": c, "address": "5栋101"},
                hand_out,
            ),
            (
                "POST /distributions",
                side,
                "post",
                "/distributions",
                {
                    "depot": d,
                    "household_id": s["household"].pk,
                    "item": "water",
                    "signed_by": "张三",
                },
                hand_out,
            ),
            (
                "POST /incidents/{incident_id}/tasks",
                side,
                "post",
                f"/incidents/{inc}/tasks",
                {"title": "巡查", "assignee": "gina" if a else "bob", "deadline": soon},
                run,
            ),
            (
                "POST /tasks/{task_id}/complete",
                side,
                "post",
                f"/tasks/{t}/complete",
                {"note": "完成"},
                run,
            ),
            (
                "POST /tasks/{task_id}/cancel",
                side,
                "post",
                f"/tasks/{t}/cancel",
                {"reason": "取消"},
                run,
            ),
            (
                "POST /shelters",
                side,
                "post",
                "/shelters",
                {"name": "新避难点", "place_code": c, "capacity": 10},
                run,
            ),
            (
                "POST /shelters/{shelter_id}/open",
                side,
                "post",
                f"/shelters/{sh}/open",
                {"is_open": False},
                run,
            ),
            (
                "POST /shelters/{shelter_id}/check-in",
                side,
                "post",
                f"/shelters/{sh}/check-in",
                {"name": "李四"},
                desk,
            ),
            (
                "POST /stays/{stay_id}/check-out",
                side,
                "post",
                f"/stays/{s['stay'].pk}/check-out",
                None,
                desk,
            ),
            (
                "POST /plans",
                side,
                "post",
                "/plans",
                {"place_code": c, "kind": "fire", "title": "新预案", "levels": levels},
                run,
            ),
            (
                "POST /plans/{plan_id}/versions",
                side,
                "post",
                f"/plans/{plan}/versions",
                {"levels": levels, "note": "改"},
                plan_street,
            ),
            (
                "POST /incidents/{incident_id}/review",
                side,
                "post",
                f"/incidents/{s['closed'].pk}/review",
                {"summary": "总结", "lessons": "教训"},
                run,
            ),
            (
                "POST /incidents/{incident_id}/level",
                side,
                "post",
                f"/incidents/{s['active'].pk}/level",
                {"level": 3},
                {"leo", "frank"} if a else {"frank"},
            ),
            (
                "POST /incidents/{incident_id}/deactivate",
                side,
                "post",
                f"/incidents/{s['active'].pk}/deactivate",
                {"note": "解除"},
                {"leo", "frank"} if a else {"frank"},
            ),
            (
                "POST /items",
                side,
                "post",
                "/items",
                {"code": f"tent-{side}", "name": "帐篷", "unit": "顶", "category": "tools"},
                KEEP_A | KEEP_B,  # one shared catalogue: any stock keeper adds to it
            ),
            (
                "POST /incidents/{incident_id}/log",
                side,
                "post",
                f"/incidents/{inc}/log",
                {"text": "水位上涨"},
                LOG_A if a else LOG_B,
            ),
            (
                "POST /incidents/{incident_id}/activate",
                side,
                "post",
                f"/incidents/{inc}/activate",
                {"level": 3},
                {"leo", "frank"} if a else {"frank"},
            ),
            (
                "POST /tasks/{task_id}/assign",
                side,
                "post",
                f"/tasks/{t}/assign",
                {"assignee": "gina" if a else "bob"},
                run,
            ),
            ("POST /tasks/{task_id}/accept", side, "post", f"/tasks/{t}/accept", None, run),
            (
                "POST /requests/{request_id}/issue",
                side,
                "post",
                f"/requests/{s['approved'].pk}/issue",
                None,
                street_keep,
            ),
            (
                "POST /people",
                side,
                "post",
                "/people",
                {"username": "vera" if a else "ivy", "kind": "volunteer", "place_code": c},
                keep,
            ),
            ("POST /teams", side, "post", "/teams", {"place_code": c, "name": "救援队"}, keep),
            (
                "POST /vulnerable",
                side,
                "post",
                "/vulnerable",
                {
                    "place_code": c,
                    "name": "王奶奶",
                    "address": "1栋101",
                    "categories": ["elderly_alone"],
                    "consent_method": "本人签字",
                },
                {"alice"} if a else {"bob"},
            ),
            (
                "POST /reviews/{review_id}/apply",
                side,
                "post",
                f"/reviews/{rev}/apply",
                None,
                plan_street,
            ),
        ]
    return rows


def _try(api_client, user, method, url, body):
    with transaction.atomic():
        api_client.force_login(user)
        if method == "post":
            response = api_client.post_json(API + url, body)
        elif method == "put":
            response = api_client.put(API + url, body or {}, content_type="application/json")
        else:
            response = api_client.delete(API + url)
        transaction.set_rollback(True)
    return response


def test_no_user_may_change_emergency_resources_the_table_does_not_allow(world, api_client):
    w, sides = _sides(world)
    unexpected_allows, unexpected_refusals = [], []
    for op, side, method, url, body, allowed in _rows(w, sides):
        done_by = set()
        for username in USERS:
            response = _try(api_client, getattr(w, username), method, url, body)
            if response.status_code in (200, 201):
                done_by.add(username)
            elif username in allowed:
                unexpected_refusals.append(
                    (op, side, username, response.status_code, response.content[:150])
                )
        if done_by - allowed:
            unexpected_allows.append((op, side, sorted(done_by - allowed)))
    assert unexpected_allows == []
    assert unexpected_refusals == []


# Covered by test_write_matrix_incidents.py.
IN_INCIDENTS_MATRIX = {"POST /incidents", "POST /incidents/{incident_id}/status"}
# Not yet in a table (issue 23): named here so that a new endpoint cannot slip past unlisted.
NOT_YET = {
    "POST /incidents/{incident_id}/link",
    "POST /warnings/{warning_id}/activate",
    "POST /tasks/{task_id}/report",
    "POST /stock/dispose",
    "POST /stock/import",
    "POST /requests/{request_id}/receive",
    "POST /people/{username}/skills",
    "PUT /people/{username}/availability",
    "POST /teams/{team_id}/members",
    "DELETE /teams/{team_id}/members/{username}",
    "POST /callups",
    "POST /callups/{callup_id}/accept",
    "POST /callups/{callup_id}/decline",
    "POST /callups/{callup_id}/check-in",
    "POST /callups/{callup_id}/check-out",
    "POST /callups/{callup_id}/cancel",
    "PATCH /vulnerable/{resident_id}",
    "POST /vulnerable/{resident_id}/pair",
    "POST /vulnerable/{resident_id}/checkins",
}


def _schema_operations() -> set[str]:
    from renzhi.api import api

    found = set()
    for path, operations in api.get_openapi_schema()["paths"].items():
        if path.startswith(API + "/"):
            for method in operations:
                if method in ("post", "put", "patch", "delete"):
                    found.add(f"{method.upper()} {path.removeprefix(API)}")
    return found


def test_every_state_changing_emergency_operation_is_in_a_table(world):
    w, sides = _sides(world)
    in_tables = {row[0] for row in _rows(w, sides)} | IN_INCIDENTS_MATRIX
    in_schema = _schema_operations()
    assert in_schema - in_tables - NOT_YET == set(), "add these to a write-matrix table"
    assert (in_tables | NOT_YET) - in_schema == set(), "no such operation any more"
    assert not in_tables & NOT_YET, "covered now: take these off NOT_YET"
