"""The write half of the permission matrix for triage (issue 23 acceptance).

Every named user of the `world` fixture, and an anonymous caller, tries every state-changing
triage endpoint on an appeal waiting in community A (from charlie) and one in community B
(from ivy), and on the trained model versions, each try in a rolled-back savepoint.
Expectations, written by hand from the rules: the triage queue is worked by community staff
and street dispatchers of the appeal's place (alice and dora on A, bob on B); leaders, unit
handlers, grid workers and the street administrator do not triage. Model versions span every
jurisdiction: only the global administrator (root) activates or rolls them back.
"""

from __future__ import annotations

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.core.tests.matrix import Write, check_writes, state_changing_operations
from renzhi.triage import actions, registry
from renzhi.triage.tests.conftest import set_thresholds

pytestmark = pytest.mark.django_db

ROOT = frozenset({"root"})
TRIAGE = {"A": frozenset({"alice", "dora"}), "B": frozenset({"bob"})}


def _waiting(w, side):
    resident, lng = (w.charlie, 116.42) if side == "A" else (w.ivy, 116.55)
    return appeal_actions.submit_appeal(
        resident, channel="web", description="3号楼电梯坏了，停在5楼不动", lat=39.92, lng=lng
    ).appeal


def _accept(side):
    return lambda w: (f"/api/triage/queue/{_waiting(w, side).tracking_no}/accept", None)


def _correct(side):
    unit = "U-WY-A" if side == "A" else "U-WY-B"
    return lambda w: (
        f"/api/triage/queue/{_waiting(w, side).tracking_no}/correct",
        {"category": "0801", "unit": unit},
    )


def _activate(w):
    return f"/api/triage/models/{actions.train(None, 'category').pk}/activate", None


def _rollback(w):
    actions.train(None, "category", activate=True)
    return "/api/triage/models/category/rollback", None


def _rows():
    rows = [
        Write("POST /api/triage/models/{version_id}/activate", "-", _activate, ROOT),
        Write("POST /api/triage/models/{head}/rollback", "-", _rollback, ROOT),
    ]
    for side in ("A", "B"):
        rows += [
            Write("POST /api/triage/queue/{tracking_no}/accept", side, _accept(side), TRIAGE[side]),
            Write(
                "POST /api/triage/queue/{tracking_no}/correct", side, _correct(side), TRIAGE[side]
            ),
        ]
    return rows


def test_every_state_changing_triage_endpoint_has_a_row_in_the_write_matrix():
    assert state_changing_operations(["/api/triage/"]) - {row.op for row in _rows()} == set()


def test_no_user_may_triage_or_switch_models_beyond_the_table(trained, api_client):
    for version in (trained.category_version, trained.unit_version):
        set_thresholds(version, None)  # nothing is dispatched automatically: appeals wait
    registry.forget()
    allows, refusals = check_writes(api_client, trained, _rows())
    assert allows == []
    assert refusals == []
