"""The state machine table, and every verb refused from every state it may not start from.

A refusal is an ActionError with code `invalid_state` whose message names the action and the
state, and it changes nothing: not the row, not the timeline, not the audit chain, not the inbox.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from renzhi.appeals import actions, states
from renzhi.appeals.models import FINAL_STATES, ExtensionRequest, State
from renzhi.core.errors import ActionError, ErrorCode

# The verbs a person calls (reopen happens inside `rate`, so it has no action of its own).
VERBS = [verb for verb in states.TRANSITIONS if verb != "reopen"]


def prepare(verb: str, w, appeal):
    """A zero-argument call of `verb` on `appeal` by an actor who would otherwise be allowed."""
    if verb == "decide_extension":
        request = ExtensionRequest.objects.create(
            appeal=appeal, requested_by=w.erin, days=2, reason="需要采购配件"
        )
        return lambda: actions.decide_extension(w.dora, request, approve=True)
    if verb == "merge":
        master = w.bring(State.DISPATCHED, resident=w.kate)
        return lambda: actions.merge(w.dora, appeal, into=master)
    calls = {
        "accept": lambda: actions.accept(w.dora, appeal),
        "reject": lambda: actions.reject(w.dora, appeal, reason="不属于受理范围"),
        "dispatch": lambda: actions.dispatch(w.dora, appeal, unit=w.unit_a),
        "sign": lambda: actions.sign(w.erin, appeal),
        "progress": lambda: actions.progress(w.erin, appeal, note="已到场"),
        "resolve": lambda: actions.resolve(w.erin, appeal, result="已修好"),
        "rate": lambda: actions.rate(w.charlie, appeal, rating=5),
        "close": lambda: actions.close(w.dora, appeal),
        "return": lambda: actions.return_to_dispatcher(w.erin, appeal, reason="不归我们管"),
        "transfer": lambda: actions.transfer(
            w.dora, appeal, unit=w.unit_b, reason="产权属乙一物业"
        ),
        "request_extension": lambda: actions.request_extension(
            w.erin, appeal, days=2, reason="需要采购配件"
        ),
        "supervise": lambda: actions.supervise(w.dora, appeal, note="请今天内处理"),
        "suspend": lambda: actions.suspend(w.dora, appeal, reason="等待业委会决议"),
        "resume": lambda: actions.resume(w.dora, appeal),
        "withdraw": lambda: actions.withdraw(w.charlie, appeal, reason="不需要了"),
        "escalate": lambda: actions.escalate(w.dora, appeal, reason="跨部门"),
        "comment": lambda: actions.comment(w.dora, appeal, note="内部备注"),
    }
    return calls[verb]


def disallowed(verb: str) -> list[str]:
    refused = [s for s in State.values if s not in states.TRANSITIONS[verb].sources]
    if verb == "dispatch":
        refused.remove(State.RECEIVED)  # dispatching a received appeal accepts it first
    if verb == "rate":
        refused.remove(State.MERGED)  # a merged appeal is rated after its master: own test
    return refused


REFUSALS = [(verb, state) for verb in VERBS for state in disallowed(verb)]


@pytest.mark.parametrize(("verb", "state"), REFUSALS, ids=[f"{v}-from-{s}" for v, s in REFUSALS])
def test_a_verb_from_a_state_it_may_not_start_from_is_refused_and_changes_nothing(
    flow, verb, state
):
    appeal = flow.bring(state)
    call = prepare(verb, flow, appeal)
    before = flow.snapshot(appeal)

    with pytest.raises(ActionError) as refused:
        call()

    error = refused.value.errors[0]
    assert (error.code, error.field) == (ErrorCode.INVALID_STATE, "state")
    assert str(states.TRANSITIONS[verb].label) in error.message
    assert str(State(state).label) in error.message
    assert flow.snapshot(appeal) == before


def test_the_refusal_message_names_the_action_and_the_state_in_words():
    with translation.override("en"), pytest.raises(ActionError) as refused:
        states.check("sign", State.CLOSED)
    assert refused.value.errors[0].message == "Cannot “Sign for” an appeal that is “Closed”."


def test_the_refusal_message_is_translated_for_chinese_users():
    with translation.override("zh-hans"), pytest.raises(ActionError) as refused:
        states.check("sign", State.CLOSED)
    message = refused.value.errors[0].message
    with translation.override("zh-hans"):
        assert str(State.CLOSED.label) in message
    assert "Cannot" not in message


def test_rating_a_merged_appeal_before_its_master_is_resolved_is_refused(flow):
    appeal = flow.bring(State.MERGED)
    before = flow.snapshot(appeal)
    with pytest.raises(ActionError) as refused:
        actions.rate(flow.charlie, appeal, rating=5)
    assert refused.value.errors[0].code == ErrorCode.INVALID_STATE
    assert refused.value.errors[0].field == "rating"
    assert flow.snapshot(appeal) == before


def test_final_states_allow_no_verb():
    for state in FINAL_STATES:
        assert states.allowed_verbs(state) == [], state


def test_every_open_state_has_a_way_forward():
    for state in [
        State.RECEIVED,
        State.ACCEPTED,
        State.DISPATCHED,
        State.SIGNED,
        State.HANDLING,
        State.SUSPENDED,
        State.RESOLVED,
    ]:
        moves = [
            v
            for v in states.allowed_verbs(state)
            if states.TRANSITIONS[v].target not in (None, state) or v == "rate"
        ]
        assert moves, state


def test_every_transition_leads_to_a_known_state():
    for verb, transition in states.TRANSITIONS.items():
        assert transition.target in (None, "previous", *State.values), verb
        assert transition.sources <= set(State.values), verb


def test_allowed_verbs_of_a_dispatched_appeal_are_the_units_and_dispatchers_moves():
    assert set(states.allowed_verbs(State.DISPATCHED)) == {
        "sign",
        "return",
        "transfer",
        "supervise",
        "suspend",
        "withdraw",
        "escalate",
        "merge",
        "comment",
    }


def test_handling_is_past_the_point_where_the_resident_may_withdraw():
    assert "withdraw" in states.allowed_verbs(State.SIGNED)
    assert "withdraw" not in states.allowed_verbs(State.HANDLING)
