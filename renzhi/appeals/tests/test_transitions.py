"""Each transition, one behaviour per test: what it changes, what it records, whom it tells.

Named users (see the root conftest): dora dispatches for street A, alice is community A staff,
bob community B staff, erin handles for unit A, hank for unit B, charlie and kate are residents
of community A, ivy of community B, frank the district leader.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from renzhi.appeals import actions, queries, states
from renzhi.appeals.models import Appeal, AppealEvent, ExtensionRequest, Priority, State
from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import AuditEvent
from renzhi.core.workdays import LOCAL_TZ

S = State


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def unit_b_also_serves_grid_a2(request):
    """Here unit B is "another unit" the cases move to: it also manages buildings in grid A2,
    inside dora's street, so she may transfer to it (a unit serving neither the place nor the
    dispatcher's jurisdiction is refused: test_dispatch_coverage)."""
    if "flow" in request.fixturenames:
        flow = request.getfixturevalue("flow")
        flow.unit_b.places.add(flow.grid_a2)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


# --- every verb from every state it may start from ------------------------------------------

# verb: (actor, kwargs, event verb, public) — the same call the refusal tests make.
CALLS = {
    "accept": ("dora", {}, "accept", True),
    "reject": ("dora", {"reason": "不属于受理范围"}, "reject", True),
    "dispatch": ("dora", {"unit": "unit_a"}, "dispatch", True),
    "sign": ("erin", {}, "sign", True),
    "progress": ("erin", {"note": "已到场"}, "progress", True),
    "resolve": ("erin", {"result": "已修好"}, "resolve", True),
    "rate": ("charlie", {"rating": 5}, "rate", True),
    "close": ("dora", {}, "close", True),
    "return": ("erin", {"reason": "不归我们管"}, "return", False),
    "transfer": ("dora", {"unit": "unit_b", "reason": "产权属乙一物业"}, "transfer", True),
    "request_extension": (
        "erin",
        {"days": 2, "reason": "需要采购配件"},
        "request_extension",
        False,
    ),
    "decide_extension": ("dora", {"approve": True}, "approve_extension", False),
    "supervise": ("dora", {"note": "请今天内处理"}, "supervise", False),
    "suspend": ("dora", {"reason": "等待业委会决议"}, "suspend", True),
    "resume": ("dora", {}, "resume", True),
    "withdraw": ("charlie", {"reason": "不需要了"}, "withdraw", True),
    "escalate": ("alice", {"reason": "跨部门"}, "escalate", True),
    "merge": ("dora", {}, "merge", True),
    "comment": ("dora", {"note": "内部备注"}, "comment", False),
}
FUNCTIONS = {"return": actions.return_to_dispatcher}


def expected_state(verb: str, state: str) -> str:
    target = states.TRANSITIONS[verb].target
    if target is None:
        return S.CLOSED if verb == "rate" else state  # a rating of 5 closes the case
    if target == "previous":
        return S.DISPATCHED  # flow.bring suspends a dispatched appeal
    return target


def expected_recipients(verb: str, state: str) -> list[str]:
    has_unit = state in (S.DISPATCHED, S.SIGNED, S.HANDLING, S.SUSPENDED)
    return {
        "accept": ["charlie"],
        "reject": ["charlie"],
        "dispatch": ["charlie", "erin"] if state == S.RECEIVED else ["erin"],
        "resolve": ["charlie"],
        "return": ["dora"],
        "transfer": ["hank"],
        "request_extension": ["dora"],
        "decide_extension": ["erin"],
        "supervise": ["erin"] if has_unit else [],
        "withdraw": ["erin"] if has_unit else [],
        "escalate": ["dora"],
        "merge": ["charlie"],
    }.get(verb, [])


ALLOWED = [(verb, state) for verb in CALLS for state in sorted(states.TRANSITIONS[verb].sources)]
ALLOWED.append(("dispatch", S.RECEIVED))


@pytest.mark.parametrize(("verb", "state"), ALLOWED, ids=[f"{v}-from-{s}" for v, s in ALLOWED])
def test_a_verb_from_an_allowed_state_moves_records_audits_and_notifies(flow, verb, state):
    w = flow
    appeal = w.bring(state)
    actor_name, kwargs, event_verb, public = CALLS[verb]
    actor = getattr(w, actor_name)
    kwargs = {k: getattr(w, v) if k == "unit" else v for k, v in kwargs.items()}
    target = appeal
    if verb == "decide_extension":
        target = actions.request_extension(w.erin, appeal, days=2, reason="需要采购配件")
    if verb == "merge":
        kwargs["into"] = w.bring(S.DISPATCHED, resident=w.kate)
    events_before = AppealEvent.objects.filter(appeal=appeal).count()
    audit_before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    mark = w.inbox_mark()

    function = FUNCTIONS[verb] if verb in FUNCTIONS else getattr(actions, verb)
    function(actor, target, **kwargs)

    appeal.refresh_from_db()
    assert appeal.state == expected_state(verb, state)
    new_events = list(AppealEvent.objects.filter(appeal=appeal).order_by("id")[events_before:])
    event = new_events[-1]
    assert (event.verb, event.to_state, event.public, event.automatic) == (
        event_verb,
        appeal.state,
        public,
        False,
    )
    assert event.from_state == (S.ACCEPTED if (verb, state) == ("dispatch", S.RECEIVED) else state)
    assert event.actor == actor
    audit = (
        AuditEvent.objects.filter(pk__gt=audit_before, object_type="appeals.appeal")
        .filter(object_id=str(appeal.pk))
        .order_by("-seq")
        .first()
    )
    assert (audit.verb, audit.actor) == (f"appeal.{event_verb}", actor)
    assert (audit.before["state"], audit.after["state"]) == (event.from_state, appeal.state)
    assert w.inbox_since(mark) == expected_recipients(verb, state)


# --- role and scope ------------------------------------------------------------------------


def assert_refused(call, code=ErrorCode.FORBIDDEN, field=None):
    with pytest.raises(ActionError) as refused:
        call()
    error = refused.value.errors[0]
    assert error.code == code
    if field is not None:
        assert error.field == field
    return error


def test_staff_of_another_community_cannot_accept_an_appeal(flow):
    appeal = flow.bring(S.RECEIVED)
    before = flow.snapshot(appeal)
    error = assert_refused(lambda: actions.accept(flow.bob, appeal))
    assert error.message == "This appeal is outside your jurisdiction."
    assert flow.snapshot(appeal) == before


def test_staff_of_another_community_cannot_dispatch_an_appeal(flow):
    appeal = flow.bring(S.ACCEPTED)
    before = flow.snapshot(appeal)
    assert_refused(lambda: actions.dispatch(flow.bob, appeal, unit=flow.unit_b))
    assert flow.snapshot(appeal) == before


def test_staff_of_another_community_cannot_accept_and_dispatch_a_received_appeal(flow):
    appeal = flow.bring(S.RECEIVED)
    before = flow.snapshot(appeal)
    assert_refused(lambda: actions.dispatch(flow.bob, appeal, unit=flow.unit_b))
    assert flow.snapshot(appeal) == before


def test_staff_of_the_community_may_accept(flow):
    appeal = actions.accept(flow.alice, flow.bring(S.RECEIVED))
    assert appeal.state == S.ACCEPTED


def test_a_handler_of_another_unit_cannot_sign(flow):
    appeal = flow.bring(S.ACCEPTED)
    actions.dispatch(flow.dora, appeal, unit=flow.unit_b)
    before = flow.snapshot(appeal)
    error = assert_refused(lambda: actions.sign(flow.erin, appeal))
    assert error.message == "Only the handling unit can do this."
    assert flow.snapshot(appeal) == before
    assert actions.sign(flow.hank, appeal).state == S.SIGNED


def test_a_resident_cannot_rate_someone_elses_appeal(flow):
    appeal = flow.bring(S.RESOLVED)
    before = flow.snapshot(appeal)
    error = assert_refused(lambda: actions.rate(flow.ivy, appeal, rating=5))
    assert error.message == "Only the resident who raised the appeal can rate it."
    assert flow.snapshot(appeal) == before


def test_charlie_cannot_rate_ivys_appeal(flow):
    w = flow
    appeal = actions.submit_appeal(
        w.ivy,
        channel="web",
        description="乙一社区水管爆裂",
        category=w.cat_lift,
        lat=39.92,
        lng=116.55,
    ).appeal
    assert appeal.state == S.DISPATCHED and appeal.unit == w.unit_b  # routed by the table
    actions.sign(w.hank, appeal)
    actions.resolve(w.hank, appeal, result="已修")
    before = w.snapshot(appeal)
    assert_refused(lambda: actions.rate(w.charlie, appeal, rating=1))
    assert w.snapshot(appeal) == before


def test_a_resident_cannot_do_staff_work(flow):
    appeal = flow.bring(S.RECEIVED)
    error = assert_refused(lambda: actions.accept(flow.charlie, appeal))
    assert error.message == "Your role does not allow this action."


def test_rating_twice_is_refused(flow):
    appeal = flow.bring(S.RESOLVED)
    actions.rate(flow.charlie, appeal, rating=4)
    before = flow.snapshot(appeal)
    error = assert_refused(
        lambda: actions.rate(flow.charlie, appeal, rating=5),
        code=ErrorCode.DUPLICATE,
        field="rating",
    )
    assert error.message == "This appeal has already been rated."
    assert flow.snapshot(appeal) == before


@pytest.mark.parametrize("rating", [0, 6, -1, 4.5, "5", None, True])
def test_a_rating_that_is_not_a_whole_number_from_1_to_5_is_refused(flow, rating):
    appeal = flow.bring(S.RESOLVED)
    before = flow.snapshot(appeal)
    error = assert_refused(
        lambda: actions.rate(flow.charlie, appeal, rating=rating),
        code=ErrorCode.INVALID,
        field="rating",
    )
    assert error.message == "The rating must be a whole number from 1 to 5."
    assert flow.snapshot(appeal) == before


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_rejecting_without_a_reason_is_refused(flow, reason):
    appeal = flow.bring(S.RECEIVED)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.reject(flow.dora, appeal, reason=reason),
        code=ErrorCode.REQUIRED,
        field="reason",
    )
    assert flow.snapshot(appeal) == before


def test_a_rejection_records_its_reason_for_the_resident(flow):
    appeal = actions.reject(flow.dora, flow.bring(S.RECEIVED), reason="属于司法程序")
    event = appeal.events.get(verb="reject")
    assert event.note == "属于司法程序" and event.public
    assert appeal.closed_at is not None


def test_transferring_to_the_same_unit_is_refused(flow):
    appeal = flow.bring(S.SIGNED)
    before = flow.snapshot(appeal)
    error = assert_refused(
        lambda: actions.transfer(flow.dora, appeal, unit=flow.unit_a, reason="再派一次"),
        code=ErrorCode.INVALID,
        field="unit",
    )
    assert error.message == "The appeal is already with this unit."
    assert flow.snapshot(appeal) == before


def test_an_inactive_unit_cannot_receive_a_transfer(flow):
    flow.unit_b.active = False
    flow.unit_b.save()
    appeal = flow.bring(S.DISPATCHED)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.transfer(flow.dora, appeal, unit=flow.unit_b, reason="x"),
        code=ErrorCode.INVALID,
        field="unit",
    )
    assert flow.snapshot(appeal) == before


def test_requesting_an_extension_twice_is_refused(flow):
    appeal = flow.bring(S.HANDLING)
    actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    before = flow.snapshot(appeal)
    error = assert_refused(
        lambda: actions.request_extension(flow.erin, appeal, days=3, reason="还需要更多时间"),
        code=ErrorCode.DUPLICATE,
        field="days",
    )
    assert error.message == "An extension request is already waiting for a decision."
    assert flow.snapshot(appeal) == before


@pytest.mark.parametrize("days", [0, -1, 31, float("nan"), float("inf"), "2"])
def test_an_extension_of_an_impossible_length_is_refused(flow, days):
    appeal = flow.bring(S.SIGNED)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.request_extension(flow.erin, appeal, days=days, reason="x"),
        code=ErrorCode.INVALID,
        field="days",
    )
    assert flow.snapshot(appeal) == before


def test_only_the_handling_unit_may_request_an_extension(flow):
    appeal = flow.bring(S.SIGNED)
    assert_refused(lambda: actions.request_extension(flow.hank, appeal, days=1, reason="x"))


@pytest.mark.parametrize("who", ["ivy", "kate", "alice", "dora"])
def test_only_the_resident_who_raised_it_may_withdraw(flow, who):
    appeal = flow.bring(S.DISPATCHED)
    before = flow.snapshot(appeal)
    error = assert_refused(lambda: actions.withdraw(getattr(flow, who), appeal))
    assert error.message == "Only the resident who raised the appeal can withdraw it."
    assert flow.snapshot(appeal) == before


def test_withdrawing_after_handling_started_is_refused(flow):
    appeal = flow.bring(S.HANDLING)
    before = flow.snapshot(appeal)
    error = assert_refused(
        lambda: actions.withdraw(flow.charlie, appeal), code=ErrorCode.INVALID_STATE
    )
    assert error.message == "Cannot “Withdraw” an appeal that is “Handling”."
    assert flow.snapshot(appeal) == before


def test_a_signed_appeal_may_still_be_withdrawn_and_the_unit_is_told(flow):
    appeal = flow.bring(S.SIGNED)
    mark = flow.inbox_mark()
    appeal = actions.withdraw(flow.charlie, appeal, reason="邻居已经修好")
    assert appeal.state == S.WITHDRAWN and appeal.closed_at is not None
    assert flow.inbox_since(mark) == ["erin"]


def test_a_unit_cannot_supervise(flow):
    appeal = flow.bring(S.DISPATCHED)
    assert_refused(lambda: actions.supervise(flow.erin, appeal, note="x"))


def test_community_staff_cannot_suspend(flow):
    appeal = flow.bring(S.DISPATCHED)
    assert_refused(lambda: actions.suspend(flow.alice, appeal, reason="x"))


# --- the main line -------------------------------------------------------------------------


def test_dispatch_sets_the_unit_the_clock_and_the_first_dispatch_time(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")  # Monday, an ordinary working day
    appeal = actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    assert appeal.unit == flow.unit_a
    assert appeal.dispatched_at == appeal.first_dispatched_at == local("2026-03-02 10:00")
    assert appeal.sign_deadline == local("2026-03-02 12:00")  # 2 working hours
    assert appeal.resolve_deadline == local("2026-03-05 10:00")  # 3 working days


def test_signing_in_time_is_recorded_for_the_response_rate(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    clock.at("2026-03-02 11:59")
    appeal = actions.sign(flow.erin, appeal)
    assert appeal.signed_in_time is True and appeal.signed_at == local("2026-03-02 11:59")


def test_signing_late_is_recorded_for_the_response_rate(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    clock.at("2026-03-02 14:00")
    assert actions.sign(flow.erin, appeal).signed_in_time is False


def test_resolving_requires_a_result(flow):
    appeal = flow.bring(S.HANDLING)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.resolve(flow.erin, appeal, result="  "),
        code=ErrorCode.REQUIRED,
        field="result",
    )
    assert flow.snapshot(appeal) == before


def test_resolving_counts_the_working_hours_spent(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    actions.sign(flow.erin, appeal)
    clock.at("2026-03-03 10:00")  # Mon 10–12 (2 h) + 13:30–17:30 (4 h) + Tue 9–10 (1 h)
    appeal = actions.resolve(flow.erin, appeal, result="已修好")
    assert appeal.handling_hours == 7.0 and appeal.resolved_in_time is True


def test_an_unsatisfied_rating_reopens_to_the_same_unit_with_fresh_deadlines(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    actions.sign(flow.erin, appeal)
    actions.resolve(flow.erin, appeal, result="已修")
    clock.at("2026-03-03 10:00")
    mark = flow.inbox_mark()
    appeal = actions.rate(flow.charlie, appeal, rating=2, comment="还是坏的")
    assert (appeal.state, appeal.unit, appeal.reopen_count) == (S.DISPATCHED, flow.unit_a, 1)
    assert appeal.satisfaction == "unsatisfied" and appeal.resolved_at is None
    assert appeal.resolve_deadline == local("2026-03-06 10:00")  # Tue 10:00 + 3 working days
    verbs = list(appeal.events.values_list("verb", "from_state", "to_state"))[-2:]
    assert verbs == [("rate", S.RESOLVED, S.RESOLVED), ("reopen", S.RESOLVED, S.DISPATCHED)]
    assert flow.inbox_since(mark) == ["erin"]


def test_after_a_reopen_the_resident_rates_again(flow):
    appeal = flow.bring(S.RESOLVED)
    actions.rate(flow.charlie, appeal, rating=1)
    actions.sign(flow.erin, appeal)
    actions.resolve(flow.erin, appeal, result="重新修好了")
    appeal = actions.rate(flow.charlie, appeal, rating=3)
    assert (appeal.state, appeal.satisfaction, appeal.reopen_count) == (S.CLOSED, "basic", 1)


# --- side transitions ----------------------------------------------------------------------


def test_a_return_sends_the_appeal_back_to_the_dispatcher_without_a_unit(flow):
    appeal = flow.bring(S.SIGNED)
    mark = flow.inbox_mark()
    appeal = actions.return_to_dispatcher(flow.erin, appeal, reason="属于供水公司")
    assert (appeal.state, appeal.unit, appeal.return_count) == (S.ACCEPTED, None, 1)
    assert appeal.sign_deadline is None and appeal.resolve_deadline is None
    event = appeal.events.last()
    assert (event.verb, event.unit, event.public) == ("return", flow.unit_a, False)
    assert flow.inbox_since(mark) == ["dora"]


def test_returns_are_counted(flow):
    appeal = flow.bring(S.DISPATCHED)
    actions.return_to_dispatcher(flow.erin, appeal, reason="不是我们的")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    appeal = actions.return_to_dispatcher(flow.erin, appeal, reason="仍然不是我们的")
    assert appeal.return_count == 2


def test_a_transfer_moves_the_case_to_the_new_unit_with_new_deadlines(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    actions.sign(flow.erin, appeal)
    clock.at("2026-03-03 15:00")  # Tuesday
    appeal = actions.transfer(flow.dora, appeal, unit=flow.unit_b, reason="产权属乙一物业")
    assert (appeal.state, appeal.unit, appeal.transfer_count) == (S.DISPATCHED, flow.unit_b, 1)
    assert appeal.dispatched_at == local("2026-03-03 15:00")
    assert appeal.first_dispatched_at == local("2026-03-02 10:00")
    assert appeal.sign_deadline == local("2026-03-03 17:00")
    assert appeal.resolve_deadline == local("2026-03-06 15:00")
    assert appeal.signed_at is None
    event = appeal.events.last()
    assert (event.verb, event.from_state, event.unit) == ("transfer", S.SIGNED, flow.unit_b)


def test_transfers_are_counted(flow):
    appeal = flow.bring(S.DISPATCHED)
    actions.transfer(flow.dora, appeal, unit=flow.unit_b, reason="一")
    appeal = actions.transfer(flow.dora, appeal, unit=flow.unit_a, reason="二")
    assert appeal.transfer_count == 2 and appeal.version == Appeal.objects.get(pk=appeal.pk).version


def test_an_approved_extension_moves_the_resolve_deadline_by_working_days(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    actions.sign(flow.erin, appeal)
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    assert request.status == ExtensionRequest.Status.PENDING
    mark = flow.inbox_mark()
    request = actions.decide_extension(flow.dora, request, approve=True)
    appeal.refresh_from_db()
    # Thursday 03-05 10:00 plus 2 working days: Friday 03-06 10:00 is one, the weekend does not
    # count, Monday 03-09 10:00 is the second.
    assert appeal.resolve_deadline == local("2026-03-09 10:00")
    assert appeal.sign_deadline == local("2026-03-02 12:00")  # untouched
    assert (request.status, request.decided_by) == ("approved", flow.dora)
    assert appeal.events.last().verb == "approve_extension" and not appeal.events.last().public
    assert flow.inbox_since(mark) == ["erin"]


def test_an_extension_over_a_holiday_skips_it(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-02-10 10:00")  # Tuesday before the Spring Festival
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    actions.sign(flow.erin, appeal)
    appeal.refresh_from_db()
    assert appeal.resolve_deadline == local("2026-02-13 10:00")  # Wed, Thu, Fri
    request = actions.request_extension(flow.erin, appeal, days=3, reason="春节前备件不足")
    actions.decide_extension(flow.dora, request, approve=True)
    appeal.refresh_from_db()
    # From Friday 02-13 10:00: Saturday 02-14 (调休, worked) is one day, 02-15…02-23 are the
    # holiday, Tuesday 02-24 is two and Wednesday 02-25 three.
    assert appeal.resolve_deadline == local("2026-02-25 10:00")


def test_refusing_an_extension_needs_a_reason(flow):
    appeal = flow.bring(S.SIGNED)
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.decide_extension(flow.dora, request, approve=False, note=""),
        code=ErrorCode.REQUIRED,
        field="note",
    )
    assert flow.snapshot(appeal) == before


def test_a_refused_extension_leaves_the_deadline_and_tells_the_unit(flow):
    appeal = flow.bring(S.SIGNED)
    deadline = appeal.resolve_deadline
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    mark = flow.inbox_mark()
    request = actions.decide_extension(flow.dora, request, approve=False, note="配件库存充足")
    appeal.refresh_from_db()
    assert request.status == "rejected" and appeal.resolve_deadline == deadline
    assert appeal.events.last().verb == "reject_extension"
    assert flow.inbox_since(mark) == ["erin"]


def test_an_extension_is_decided_once(flow):
    appeal = flow.bring(S.SIGNED)
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    actions.decide_extension(flow.dora, request, approve=True)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.decide_extension(flow.dora, request, approve=True),
        code=ErrorCode.INVALID_STATE,
        field="request",
    )
    assert flow.snapshot(appeal) == before


def test_after_a_decision_the_unit_may_ask_again(flow):
    appeal = flow.bring(S.SIGNED)
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    actions.decide_extension(flow.dora, request, approve=False, note="不同意")
    again = actions.request_extension(flow.erin, appeal, days=1, reason="补充理由")
    assert again.status == "pending"


def test_supervision_raises_priority_counts_and_tells_the_unit_internally(flow):
    appeal = flow.bring(S.SIGNED)
    assert appeal.priority == Priority.NORMAL
    mark = flow.inbox_mark()
    appeal = actions.supervise(flow.dora, appeal, note="请今天内处理")
    assert (appeal.supervised, appeal.priority, appeal.supervise_count) == (True, "urgent", 1)
    assert appeal.state == S.SIGNED
    event = appeal.events.last()
    assert (event.verb, event.public, event.note) == ("supervise", False, "请今天内处理")
    assert flow.inbox_since(mark) == ["erin"]
    appeal = actions.supervise(flow.frank, appeal, note="区领导督办")
    assert appeal.supervise_count == 2


def test_supervision_needs_a_note(flow):
    appeal = flow.bring(S.SIGNED)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.supervise(flow.dora, appeal, note=""), code=ErrorCode.REQUIRED, field="note"
    )
    assert flow.snapshot(appeal) == before


def test_suspension_time_does_not_count_against_the_deadlines(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-02 10:00")
    actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    # Deadlines: sign Monday 12:00, resolve Thursday 03-05 10:00.
    clock.at("2026-03-02 11:00")
    appeal = actions.suspend(flow.dora, appeal, reason="等待业委会决议")
    assert (appeal.state, appeal.state_before_suspend) == (S.SUSPENDED, S.DISPATCHED)
    clock.at("2026-03-03 10:00")
    appeal = actions.resume(flow.dora, appeal, note="业委会已同意")
    # Suspended Monday 11:00 → Tuesday 10:00 = Mon 11–12 (1 h) + Mon 13:30–17:30 (4 h)
    # + Tue 9–10 (1 h) = 6 working hours; each deadline moves by 6 working hours.
    # Sign: Mon 12:00 + 6 h = Mon 13:30–17:30 (4 h) + Tue 9–11 (2 h) → Tue 11:00, which is
    # also "the 1 hour that was left at suspension, counted from the resume".
    assert appeal.sign_deadline == local("2026-03-03 11:00")
    # Resolve: Thu 10:00 + 6 h = Thu 10–12 (2 h) + Thu 13:30–17:30 (4 h) → Thu 17:30.
    assert appeal.resolve_deadline == local("2026-03-05 17:30")
    assert (appeal.state, appeal.state_before_suspend, appeal.suspended_at) == (
        S.DISPATCHED,
        "",
        None,
    )


def test_a_suspension_outside_working_hours_moves_nothing(flow, clock):
    appeal = flow.bring(S.ACCEPTED)
    clock.at("2026-03-06 16:00")  # Friday
    appeal = actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    deadlines = (appeal.sign_deadline, appeal.resolve_deadline)
    clock.at("2026-03-06 18:00")
    actions.suspend(flow.dora, appeal, reason="周末")
    clock.at("2026-03-09 08:30")  # Monday before work
    appeal = actions.resume(flow.dora, appeal)
    assert (appeal.sign_deadline, appeal.resolve_deadline) == deadlines


def test_a_suspended_signed_appeal_resumes_as_signed_and_keeps_its_sign_time(flow, clock):
    appeal = flow.bring(S.SIGNED)
    signed = (appeal.signed_at, appeal.sign_deadline)
    actions.suspend(flow.dora, appeal, reason="等待")
    appeal = actions.resume(flow.dora, appeal)
    assert appeal.state == S.SIGNED and (appeal.signed_at, appeal.sign_deadline) == signed


def test_escalation_by_community_staff_goes_to_the_street(flow):
    appeal = flow.bring(S.DISPATCHED)
    mark = flow.inbox_mark()
    appeal = actions.escalate(flow.alice, appeal, reason="需要街道协调")
    assert (appeal.state, appeal.unit, appeal.escalation_level) == (S.ACCEPTED, None, "street")
    assert appeal.events.last().data == {"level": "street"}
    assert flow.inbox_since(mark) == ["dora"]


def test_escalation_by_the_street_dispatcher_goes_to_the_district(flow):
    appeal = actions.escalate(flow.dora, flow.bring(S.HANDLING), reason="跨街道")
    assert (appeal.state, appeal.escalation_level) == (S.ACCEPTED, "district")


def test_an_escalated_appeal_leaves_the_units_deadlines_behind(flow):
    appeal = actions.escalate(flow.alice, flow.bring(S.DISPATCHED), reason="需要街道协调")
    assert appeal.sign_deadline is None and appeal.resolve_deadline is None


def test_merging_a_duplicate_makes_it_follow_its_master(flow):
    w = flow
    master = w.bring(S.DISPATCHED, resident=w.kate)
    duplicate = w.bring(S.ACCEPTED)
    mark = w.inbox_mark()
    duplicate = actions.merge(w.dora, duplicate, into=master, note="同一部电梯")
    assert (duplicate.state, duplicate.merged_into) == (S.MERGED, master)
    assert w.inbox_since(mark) == ["charlie"]
    absorb = master.events.last()
    assert (absorb.verb, absorb.public, absorb.data) == (
        "absorb",
        False,
        {"merged": duplicate.tracking_no},
    )

    actions.sign(w.erin, master)
    mark = w.inbox_mark()
    actions.resolve(w.erin, master, result="更换了控制板")
    assert w.inbox_since(mark) == ["charlie", "kate"]  # both residents are asked to rate

    master = actions.rate(w.kate, master, rating=5)
    duplicate = actions.rate(w.charlie, duplicate, rating=3, comment="慢了点")
    assert (master.state, master.rating) == (S.CLOSED, 5)
    assert (duplicate.state, duplicate.rating, duplicate.satisfaction) == (S.MERGED, 3, "basic")
    assert duplicate.feedback == "慢了点" and duplicate.events.last().verb == "rate"
    assert_refused(
        lambda: actions.rate(w.charlie, duplicate, rating=5),
        code=ErrorCode.DUPLICATE,
        field="rating",
    )


def test_an_appeal_cannot_be_merged_into_itself(flow):
    appeal = flow.bring(S.DISPATCHED)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.merge(flow.dora, appeal, into=appeal), code=ErrorCode.INVALID, field="into"
    )
    assert flow.snapshot(appeal) == before


def test_an_appeal_cannot_be_merged_into_a_withdrawn_one(flow):
    master = flow.bring(S.WITHDRAWN, resident=flow.kate)
    appeal = flow.bring(S.DISPATCHED)
    before = flow.snapshot(appeal)
    assert_refused(
        lambda: actions.merge(flow.dora, appeal, into=master),
        code=ErrorCode.INVALID_STATE,
        field="into",
    )
    assert flow.snapshot(appeal) == before


def test_closing_without_a_rating_ends_the_case(flow):
    appeal = actions.close(flow.dora, flow.bring(S.RESOLVED), note="三次回访无人接听")
    assert appeal.state == S.CLOSED and appeal.closed_at and appeal.rating is None


def test_the_system_may_close_a_resolved_appeal(flow):
    appeal = actions.close(None, flow.bring(S.RESOLVED), note="7日未评价自动关闭")
    event = appeal.events.last()
    assert appeal.state == S.CLOSED and event.automatic and event.actor is None


def test_an_automatic_dispatch_is_marked_automatic(flow):
    appeal = actions.submit_appeal(
        flow.charlie,
        channel="web",
        description="电梯坏了",
        category=flow.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal
    steps = list(appeal.events.values_list("verb", "automatic", "actor"))
    assert steps == [
        ("submit", False, flow.charlie.pk),
        ("accept", True, None),
        ("dispatch", True, None),
    ]


def test_every_step_bumps_the_version_once(flow):
    appeal = flow.bring(S.ACCEPTED)
    version = appeal.version
    appeal = actions.dispatch(flow.dora, appeal, unit=flow.unit_a)
    appeal = actions.sign(flow.erin, appeal)
    assert appeal.version == version + 2
    assert Appeal.objects.get(pk=appeal.pk).version == version + 2


# --- the resident's view of the timeline ---------------------------------------------------


def test_the_residents_timeline_hides_internal_steps(flow):
    w = flow
    appeal = w.bring(S.DISPATCHED)
    actions.supervise(w.dora, appeal, note="加快")
    actions.comment(w.dora, appeal, note="业主脾气不好")
    actions.return_to_dispatcher(w.erin, appeal, reason="不归我们")
    actions.dispatch(w.dora, appeal, unit=w.unit_a)
    actions.sign(w.erin, appeal)
    actions.request_extension(w.erin, appeal, days=1, reason="缺配件")

    seen = list(queries.timeline_for(w.charlie, appeal).values_list("verb", flat=True))
    staff = list(queries.timeline_for(w.dora, appeal).values_list("verb", flat=True))

    assert seen == ["submit", "accept", "dispatch", "dispatch", "sign"]
    assert staff == [
        "submit",
        "accept",
        "dispatch",
        "supervise",
        "comment",
        "return",
        "dispatch",
        "sign",
        "request_extension",
    ]
    notes = list(queries.timeline_for(w.charlie, appeal).values_list("note", flat=True))
    assert "业主脾气不好" not in notes


def test_the_unit_sees_the_whole_timeline(flow):
    appeal = flow.bring(S.SIGNED)
    actions.comment(flow.dora, appeal, note="内部")
    assert "comment" in queries.timeline_for(flow.erin, appeal).values_list("verb", flat=True)


# --- an extension request belongs to the unit's handling episode ---------------------------


def test_a_transfer_lapses_the_old_units_pending_extension(flow):
    appeal = flow.bring(S.SIGNED)
    stale = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    actions.transfer(flow.dora, appeal, unit=flow.unit_b, reason="产权属乙一物业")
    stale.refresh_from_db()
    assert (stale.status, stale.decided_by) == ("rejected", None)
    assert AuditEvent.objects.filter(
        verb="appeal.extension_lapsed", object_id=str(stale.pk)
    ).exists()
    actions.sign(flow.hank, appeal)
    own = actions.request_extension(flow.hank, appeal, days=1, reason="乙一物业也需要时间")
    assert own.status == "pending"


def test_a_lapsed_extension_cannot_be_approved_later(flow):
    appeal = flow.bring(S.SIGNED)
    stale = actions.request_extension(flow.erin, appeal, days=5, reason="需要采购配件")
    actions.transfer(flow.dora, appeal, unit=flow.unit_b, reason="产权属乙一物业")
    actions.sign(flow.hank, appeal)
    deadline = Appeal.objects.get(pk=appeal.pk).resolve_deadline
    assert_refused(
        lambda: actions.decide_extension(flow.dora, stale, approve=True),
        code=ErrorCode.INVALID_STATE,
        field="request",
    )
    assert Appeal.objects.get(pk=appeal.pk).resolve_deadline == deadline


@pytest.mark.parametrize("step", ["resolve", "return", "escalate", "withdraw"])
def test_the_end_of_the_units_handling_lapses_its_pending_extension(flow, step):
    appeal = flow.bring(S.SIGNED)
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    {
        "resolve": lambda: actions.resolve(flow.erin, appeal, result="已修好"),
        "return": lambda: actions.return_to_dispatcher(flow.erin, appeal, reason="不归我们"),
        "escalate": lambda: actions.escalate(flow.dora, appeal, reason="跨部门"),
        "withdraw": lambda: actions.withdraw(flow.charlie, appeal),
    }[step]()
    request.refresh_from_db()
    assert request.status == "rejected"


def test_a_suspension_keeps_the_pending_extension(flow):
    appeal = flow.bring(S.HANDLING)
    request = actions.request_extension(flow.erin, appeal, days=2, reason="需要采购配件")
    actions.suspend(flow.dora, appeal, reason="等待")
    actions.resume(flow.dora, appeal)
    request.refresh_from_db()
    assert request.status == "pending"
    assert actions.decide_extension(flow.dora, request, approve=True).status == "approved"
