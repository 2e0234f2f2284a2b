"""The write half of the permission matrix for appeals (issue 23 acceptance).

For every state-changing appeal endpoint, every named user tries it on a case of jurisdiction
A (grid A1, unit A) and on one of jurisdiction B (grid B1, unit B). Each try runs in a
savepoint that is rolled back, so every user meets the same case in the same state. The
expectation is written by hand from the rules (who may do what, where); a user allowed where
the table says no is an unexpected allow, and there must be none (nor unexpected refusals).

Intake (POST /api/appeals/) has its own table: test_intake_integrity (roles and channels).
"""

from __future__ import annotations

import pytest
from django.db import transaction

from renzhi.appeals import actions
from renzhi.appeals.models import Appeal, State
from renzhi.core.models import Unit

pytestmark = pytest.mark.django_db

S = State
USERS = [
    "alice",
    "bob",
    "charlie",
    "ivy",
    "dora",
    "erin",
    "gina",
    "frank",
    "adam",
    "root",
    "leo",
    "vera",
    "sam",
    "hank",
    "kate",
]

# verb: (state the case is in, body with {side} for the jurisdiction, allowed in A, allowed in B)
TABLE = {
    "accept": (S.RECEIVED, {}, {"alice", "dora"}, {"bob"}),
    "reject": (S.RECEIVED, {"reason": "不属于受理范围"}, {"alice", "dora"}, {"bob"}),
    "dispatch": (S.ACCEPTED, {"unit_code": "U-WY-{side}"}, {"alice", "dora"}, {"bob"}),
    "transfer": (
        S.SIGNED,
        {"unit_code": "U-SZ-{side}", "reason": "属市政"},
        {"alice", "dora"},
        {"bob"},
    ),
    "supervise": (S.DISPATCHED, {"note": "请加快"}, {"dora", "leo", "frank"}, {"frank"}),
    "suspend": (S.DISPATCHED, {"reason": "等待决议"}, {"dora"}, set()),
    "resume": (S.SUSPENDED, {"note": "继续"}, {"dora"}, set()),
    "escalate": (S.DISPATCHED, {"reason": "需街道协调"}, {"alice", "dora"}, {"bob"}),
    "close": (S.RESOLVED, {"note": "回访无人接听"}, {"alice", "dora"}, {"bob"}),
    "comment": (
        S.DISPATCHED,
        {"note": "内部备注"},
        {"alice", "dora", "gina", "leo", "frank", "erin"},
        {"bob", "frank", "hank"},
    ),
    "sign": (S.DISPATCHED, {}, {"erin"}, {"hank"}),
    "progress": (S.SIGNED, {"note": "已到场"}, {"erin"}, {"hank"}),
    "resolve": (S.HANDLING, {"result": "已修好"}, {"erin"}, {"hank"}),
    "return": (S.DISPATCHED, {"reason": "不归本单位"}, {"erin"}, {"hank"}),
    "request-extension": (S.SIGNED, {"days": 1, "reason": "等配件"}, {"erin"}, {"hank"}),
    "rate": (S.RESOLVED, {"rating": 5}, {"charlie"}, {"ivy"}),
    "withdraw": (S.RECEIVED, {"reason": "已自行解决"}, {"charlie"}, {"ivy"}),
}


@pytest.fixture
def both_sides(flow):
    """`flow` plus street units U-SZ-A / U-SZ-B (transfer targets) and `bring_b(state)`: a case
    of ivy in grid B1 driven by bob (community B staff) and hank (unit B)."""
    w = flow
    for side, street in (("A", w.street_a), ("B", w.street_b)):
        unit = Unit.objects.create(code=f"U-SZ-{side}", name=f"{side}街道市政所", kind="other")
        unit.places.set([street])

    def bring_b(state):
        appeal = actions.submit_appeal(
            w.ivy,
            channel="web",
            description="乙一社区电梯停了",
            category=w.cat_lift,
            lat=39.92,
            lng=116.55,
            auto_route=False,
        ).appeal
        steps = [
            (S.ACCEPTED, lambda: actions.accept(w.bob, appeal)),
            (S.DISPATCHED, lambda: actions.dispatch(w.bob, appeal, unit=w.unit_b)),
            (S.SIGNED, lambda: actions.sign(w.hank, appeal)),
            (S.HANDLING, lambda: actions.progress(w.hank, appeal, note="已到场")),
            (S.RESOLVED, lambda: actions.resolve(w.hank, appeal, result="已修")),
        ]
        for reached, step in steps:
            if state == S.RECEIVED:
                break
            step()
            if state == reached:
                break
        return Appeal.objects.get(pk=appeal.pk)

    w.bring_b = bring_b
    return w


def test_no_user_may_change_a_case_the_table_does_not_allow(both_sides, api_client):
    w = both_sides
    unexpected_allows, unexpected_refusals = [], []
    for verb, (state, body, allowed_a, allowed_b) in TABLE.items():
        if state == S.SUSPENDED:
            cases = {
                "A": (actions.suspend(w.dora, w.bring(S.DISPATCHED), reason="等"), allowed_a),
                "B": (w.bring_b(S.DISPATCHED), allowed_b),  # nobody may resume a running case
            }
        else:
            cases = {"A": (w.bring(state), allowed_a), "B": (w.bring_b(state), allowed_b)}
        for side, (appeal, allowed) in cases.items():
            payload = {k: v.format(side=side) if isinstance(v, str) else v for k, v in body.items()}
            for username in USERS:
                with transaction.atomic():
                    api_client.force_login(getattr(w, username))
                    response = api_client.post_json(
                        f"/api/appeals/{appeal.tracking_no}/{verb}", payload
                    )
                    transaction.set_rollback(True)
                done = response.status_code == 200
                if done and username not in allowed:
                    unexpected_allows.append((verb, side, username))
                if not done and username in allowed:
                    unexpected_refusals.append((verb, side, username, response.status_code))
    assert unexpected_allows == []
    assert unexpected_refusals == []
