"""Deadlines on the Chinese working calendar, and the job that flags what is late.

Working hours are 09:00–12:00 and 13:30–17:30 Asia/Shanghai (7 h a day); holidays and 调休
make-up working days come from `chinese_calendar`. Every expected deadline below is computed by
hand in the comment above it. Time is controlled with the `clock` fixture, which patches
`django.utils.timezone.now`.
"""

from __future__ import annotations

import datetime as dt
import io

import chinese_calendar
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from renzhi.appeals import actions, sla
from renzhi.appeals.models import Appeal, AppealEvent, Priority, SlaRule, State
from renzhi.core.models import Notification
from renzhi.core.workdays import LOCAL_TZ

S = State


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def dispatched_at(flow, clock, when: str, *, priority: str = Priority.NORMAL, category=None):
    """A new appeal accepted earlier and dispatched to unit A at local time `when`."""
    staff_set = priority != Priority.NORMAL  # priority is staff's (issue 23 #10): hotline entry
    appeal = actions.submit_appeal(
        flow.alice if staff_set else flow.charlie,
        channel="hotline" if staff_set else "web",
        description="电梯故障",
        category=category or flow.cat_lift,
        lat=39.92,
        lng=116.42,
        priority=priority,
        auto_route=False,
    ).appeal
    actions.accept(flow.dora, appeal)
    clock.at(when)
    return actions.dispatch(flow.dora, appeal, unit=flow.unit_a)


# --- the calendar facts the hand computations rely on --------------------------------------


def test_the_2026_spring_festival_has_a_make_up_saturday_before_it():
    day = dt.date.fromisoformat
    assert chinese_calendar.is_workday(day("2026-02-13"))  # Friday
    assert chinese_calendar.is_workday(day("2026-02-14"))  # Saturday, 调休 working day
    assert not any(
        chinese_calendar.is_workday(day("2026-02-15") + dt.timedelta(n)) for n in range(9)
    )  # Sunday 15th … Monday 23rd off
    assert chinese_calendar.is_workday(day("2026-02-24"))  # Tuesday, back to work


def test_the_2025_national_day_holiday_has_make_up_days_on_both_sides():
    day = dt.date.fromisoformat
    assert not chinese_calendar.is_workday(day("2025-09-27"))  # Saturday off
    assert chinese_calendar.is_workday(day("2025-09-28"))  # Sunday, 调休 working day
    assert not any(
        chinese_calendar.is_workday(day("2025-10-01") + dt.timedelta(n)) for n in range(8)
    )  # 1st … 8th off
    assert chinese_calendar.is_workday(day("2025-10-09"))  # Thursday
    assert chinese_calendar.is_workday(day("2025-10-11"))  # Saturday, 调休 working day


# --- deadlines around holidays -------------------------------------------------------------


def test_dispatch_on_the_friday_before_the_spring_festival_counts_the_make_up_saturday(flow, clock):
    appeal = dispatched_at(flow, clock, "2026-02-13 16:00")
    # Sign within 2 working hours: Friday 16:00–17:30 gives 1.5 h; the remaining 0.5 h falls on
    # Saturday 02-14, a 调休 working day: 09:00 + 0.5 h = 09:30.
    assert appeal.sign_deadline == local("2026-02-14 09:30")
    # Resolve within 3 working days = 21 h: Friday 1.5 h (19.5 left); Saturday 02-14 7 h (12.5
    # left); 02-15…02-23 holiday; Tuesday 02-24 7 h (5.5 left); Wednesday 02-25 09:00–12:00 3 h
    # (2.5 left), 13:30 + 2.5 h = 16:00.
    assert appeal.resolve_deadline == local("2026-02-25 16:00")


def test_dispatch_on_the_eve_of_national_day_waits_out_the_holiday(flow, clock):
    appeal = dispatched_at(flow, clock, "2025-09-30 16:00")
    # Sign: Tuesday 09-30 16:00–17:30 gives 1.5 h; 10-01…10-08 are off; Thursday 10-09 09:00 +
    # 0.5 h = 09:30.
    assert appeal.sign_deadline == local("2025-10-09 09:30")
    # Resolve, 21 h: 09-30 1.5 h (19.5 left); Thursday 10-09 7 h (12.5); Friday 10-10 7 h (5.5);
    # Saturday 10-11 is a 调休 working day: 09:00–12:00 3 h (2.5), 13:30 + 2.5 h = 16:00.
    assert appeal.resolve_deadline == local("2025-10-11 16:00")


def test_dispatch_on_a_day_off_starts_the_clock_on_the_make_up_sunday(flow, clock):
    appeal = dispatched_at(flow, clock, "2025-09-27 10:00")  # Saturday, off
    # The clock starts Sunday 09-28 09:00 (调休 working day): sign at 11:00.
    assert appeal.sign_deadline == local("2025-09-28 11:00")
    # 21 h = Sunday 09-28, Monday 09-29 and Tuesday 09-30, 7 h each: Tuesday 17:30.
    assert appeal.resolve_deadline == local("2025-09-30 17:30")


def test_an_urgent_appeal_before_the_spring_festival(flow, clock):
    appeal = dispatched_at(flow, clock, "2026-02-13 16:00", priority=Priority.URGENT)
    # Urgent rule (cases fixture): sign within 1 working hour → Friday 17:00.
    assert appeal.sign_deadline == local("2026-02-13 17:00")
    # Resolve within 1 working day = 7 h: Friday 1.5 h (5.5 left); Saturday 02-14 (调休)
    # 09:00–12:00 3 h (2.5 left), 13:30 + 2.5 h = 16:00.
    assert appeal.resolve_deadline == local("2026-02-14 16:00")


def test_a_rule_for_the_category_overrides_the_generic_rule(flow, clock):
    SlaRule.objects.create(category=flow.cat_lift, priority="normal", sign_hours=4, resolve_days=5)
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")  # Monday, no holiday that week
    # Sign 4 h: Monday 10–12 (2 h) + 13:30–15:30 (2 h).
    assert appeal.sign_deadline == local("2026-03-02 15:30")
    # Resolve 5 working days: Tuesday…Friday and Monday 03-09, same time of day.
    assert appeal.resolve_deadline == local("2026-03-09 10:00")


def test_a_rule_for_the_parent_category_applies_to_its_children(flow):
    SlaRule.objects.create(
        category=flow.cat_property, priority="normal", sign_hours=3, resolve_days=4
    )
    assert sla.sla_for(flow.cat_lift, "normal") == sla.Sla(3, 4, 0.8)


def test_the_childs_rule_beats_the_parents(flow):
    SlaRule.objects.create(
        category=flow.cat_property, priority="normal", sign_hours=3, resolve_days=4
    )
    SlaRule.objects.create(
        category=flow.cat_lift, priority="normal", sign_hours=1, resolve_days=2, warn_ratio=0.5
    )
    assert sla.sla_for(flow.cat_lift, "normal") == sla.Sla(1, 2, 0.5)
    assert sla.sla_for(flow.cat_property, "normal") == sla.Sla(3, 4, 0.8)


def test_a_category_rule_of_another_priority_does_not_apply(flow):
    SlaRule.objects.create(
        category=flow.cat_lift, priority="urgent", sign_hours=0.5, resolve_days=0.5
    )
    assert sla.sla_for(flow.cat_lift, "normal") == sla.Sla(2, 3, 0.8)  # the generic rule


def test_without_any_rule_the_built_in_fallback_applies(flow, clock):
    SlaRule.objects.all().delete()
    assert sla.sla_for(flow.cat_lift, "normal") == sla.Sla(2, 5, 0.8)
    assert sla.sla_for(None, "urgent") == sla.Sla(1, 1, 0.8)
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    assert appeal.sign_deadline == local("2026-03-02 12:00")
    assert appeal.resolve_deadline == local("2026-03-09 10:00")  # 5 working days


def test_an_appeal_without_category_uses_the_generic_rule(flow):
    assert sla.sla_for(None, "normal") == sla.Sla(2, 3, 0.8)


# --- mark_overdue --------------------------------------------------------------------------


def overdue_notices(appeal) -> list[str]:
    return sorted(
        Notification.objects.filter(
            object_id=appeal.tracking_no, title__contains="overdue"
        ).values_list("user__username", flat=True)
    )


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def test_an_appeal_not_signed_by_its_sign_deadline_is_flagged_overdue(flow, clock, english):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")  # sign by 12:00
    clock.at("2026-03-02 12:00")
    assert actions.mark_overdue() == {"overdue": 0, "warned": 0}  # at the deadline: not late
    clock.at("2026-03-02 12:01")
    assert actions.mark_overdue()["overdue"] == 1
    appeal.refresh_from_db()
    assert appeal.overdue is True and appeal.state == S.DISPATCHED
    event = appeal.events.last()
    assert (event.verb, event.automatic, event.public, event.actor) == (
        "overdue",
        True,
        False,
        None,
    )
    assert overdue_notices(appeal) == ["dora", "erin"]


def test_marking_overdue_twice_flags_and_notifies_once(flow, clock, english):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    clock.at("2026-03-02 14:00")
    assert actions.mark_overdue()["overdue"] == 1
    clock.at("2026-03-02 15:00")
    assert actions.mark_overdue() == {"overdue": 0, "warned": 0}
    assert overdue_notices(appeal) == ["dora", "erin"]
    assert AppealEvent.objects.filter(appeal=appeal, verb="overdue").count() == 1


def test_a_signed_appeal_is_flagged_after_its_resolve_deadline(flow, clock, english):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")  # resolve by Thursday 10:00
    actions.sign(flow.erin, appeal)
    clock.at("2026-03-05 09:59")
    actions.mark_overdue()
    assert Appeal.objects.get(pk=appeal.pk).overdue is False
    clock.at("2026-03-05 10:01")
    assert actions.mark_overdue()["overdue"] == 1
    assert Appeal.objects.get(pk=appeal.pk).overdue is True


def test_a_suspended_or_resolved_appeal_is_never_flagged(flow, clock):
    suspended = dispatched_at(flow, clock, "2026-03-02 10:00")
    actions.suspend(flow.dora, suspended, reason="等待")
    resolved = dispatched_at(flow, clock, "2026-03-02 10:00")
    actions.sign(flow.erin, resolved)
    actions.resolve(flow.erin, resolved, result="已修")
    clock.at("2026-03-20 10:00")
    assert actions.mark_overdue() == {"overdue": 0, "warned": 0}


def test_marking_overdue_changes_nothing_else(flow, clock):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    before = Appeal.objects.filter(pk=appeal.pk).values().get()
    clock.at("2026-03-02 14:00")
    actions.mark_overdue()
    after = Appeal.objects.filter(pk=appeal.pk).values().get()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"overdue", "version", "updated_at"}


def test_a_warning_goes_out_once_80_percent_of_the_time_is_used(flow, clock, english):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    actions.sign(flow.erin, appeal)
    # 21 working hours from Monday 10:00 to Thursday 10:00; 80 % is 16.8 h: Monday 6 h,
    # Tuesday 7 h (13), Wednesday 09:00–12:00 (16), then 0.8 h after 13:30 → Wednesday 14:18.
    clock.at("2026-03-04 14:15")  # 16.75 h used, 79.8 %
    assert actions.mark_overdue() == {"overdue": 0, "warned": 0}
    clock.at("2026-03-04 14:20")  # 16.83 h, 80.2 %
    assert actions.mark_overdue() == {"overdue": 0, "warned": 1}
    clock.at("2026-03-04 16:00")
    assert actions.mark_overdue() == {"overdue": 0, "warned": 0}
    appeal.refresh_from_db()
    assert appeal.warned_at == local("2026-03-04 14:20") and appeal.overdue is False
    warnings = Notification.objects.filter(
        object_id=appeal.tracking_no, title__contains="near its deadline"
    )
    assert list(warnings.values_list("user__username", flat=True)) == ["erin"]


def test_a_category_rule_sets_its_own_warning_share(flow, clock):
    SlaRule.objects.create(
        category=flow.cat_lift, priority="normal", sign_hours=2, resolve_days=3, warn_ratio=0.5
    )
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    actions.sign(flow.erin, appeal)
    clock.at("2026-03-03 14:00")  # Monday 6 h + Tuesday 3 h + 0.5 h = 9.5 of 21 h: 45 %
    assert actions.mark_overdue()["warned"] == 0
    clock.at("2026-03-03 15:00")  # 10.5 of 21 h: 50 %
    assert actions.mark_overdue()["warned"] == 1


# --- the periodic task and the commands ----------------------------------------------------


def test_the_check_sla_task_marks_overdue_appeals(flow, clock):
    from renzhi.appeals.tasks import check_sla

    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    clock.at("2026-03-02 14:00")
    result = check_sla.enqueue()  # the Immediate backend under test runs it at once
    assert result.return_value == {"overdue": 1, "warned": 0}
    assert Appeal.objects.get(pk=appeal.pk).overdue is True


def test_the_appeals_sla_command_runs_the_check_now_and_prints_counts(flow, clock):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    clock.at("2026-03-02 14:00")
    out = io.StringIO()
    call_command("appeals_sla", stdout=out)
    assert out.getvalue().strip() == "Appeals newly overdue: 1; warned near the deadline: 0."
    assert Appeal.objects.get(pk=appeal.pk).overdue is True
    out = io.StringIO()
    call_command("appeals_sla", stdout=out)
    assert "newly overdue: 0" in out.getvalue()


def test_the_scheduler_once_enqueues_and_runs_check_sla(flow, clock, settings):
    settings.RENZHI_PERIODIC_TASKS = {"renzhi.appeals.tasks.check_sla": 600}
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    clock.at("2026-03-02 14:00")
    out = io.StringIO()
    call_command("scheduler", "--once", stdout=out)
    assert "Enqueued renzhi.appeals.tasks.check_sla" in out.getvalue()
    assert "'overdue': 1" in out.getvalue()
    assert Appeal.objects.get(pk=appeal.pk).overdue is True


def test_the_scheduler_refuses_a_path_that_is_not_a_task(db, settings):
    settings.RENZHI_PERIODIC_TASKS = {"renzhi.appeals.actions.mark_overdue": 600}
    with pytest.raises(CommandError, match="is not a @task"):
        call_command("scheduler", "--once")


def test_the_scheduler_refuses_a_missing_task(db, settings):
    settings.RENZHI_PERIODIC_TASKS = {"renzhi.appeals.tasks.no_such_task": 600}
    with pytest.raises(CommandError, match="cannot import"):
        call_command("scheduler", "--once")


@pytest.mark.parametrize("seconds", [0, -5, "600", None, True])
def test_the_scheduler_refuses_an_interval_that_is_not_positive_seconds(db, settings, seconds):
    settings.RENZHI_PERIODIC_TASKS = {"renzhi.appeals.tasks.check_sla": seconds}
    with pytest.raises(CommandError, match="must be a number of seconds"):
        call_command("scheduler", "--once")


def test_the_scheduler_without_tasks_says_so(db, settings):
    settings.RENZHI_PERIODIC_TASKS = {}
    err = io.StringIO()
    call_command("scheduler", "--once", stderr=err)
    assert "RENZHI_PERIODIC_TASKS is empty" in err.getvalue()


def test_the_schedule_runs_each_task_at_its_own_interval():
    from renzhi.core.management.commands.scheduler import Schedule

    schedule = Schedule({"a": 600, "b": 60})
    assert schedule.due(1000.0) == ["a", "b"]  # everything once at start
    assert schedule.due(1059.0) == []
    assert schedule.seconds_to_next(1059.0) == 1.0
    assert schedule.due(1060.0) == ["b"]
    assert schedule.due(1600.0) == ["a", "b"]
    assert schedule.due(1600.5) == []


# --- moving deadlines and the overdue flag -------------------------------------------------


def test_an_appeal_resumed_after_its_deadline_is_announced_by_the_job(flow, clock, english):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")  # sign by 12:00
    clock.at("2026-03-02 14:00")  # 30 working minutes late (13:30–14:00); the job has not run
    actions.suspend(flow.dora, appeal, reason="等待业委会决议")
    clock.at("2026-03-03 10:00")
    appeal = actions.resume(flow.dora, appeal)
    # Suspended 14:00 → Tuesday 10:00 = 3.5 h + 1 h = 4.5 working hours; the sign deadline
    # moves from Monday 12:00 by 4.5 h to Tuesday 09:30 — still 30 minutes late.
    assert appeal.sign_deadline == local("2026-03-03 09:30")
    assert appeal.overdue is False  # resume does not flag; the job does, and tells people
    assert actions.mark_overdue()["overdue"] == 1
    assert overdue_notices(appeal) == ["dora", "erin"]
    assert appeal.events.filter(verb="overdue").count() == 1


def test_an_approved_extension_lifts_the_overdue_flag(flow, clock):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")  # resolve by Thursday 10:00
    actions.sign(flow.erin, appeal)
    request = actions.request_extension(flow.erin, appeal, days=3, reason="需要采购配件")
    clock.at("2026-03-05 11:00")
    actions.mark_overdue()
    assert Appeal.objects.get(pk=appeal.pk).overdue is True
    actions.decide_extension(flow.dora, request, approve=True)
    appeal.refresh_from_db()
    # Thursday 10:00 + 3 working days = Tuesday 03-10 10:00, later than now.
    assert appeal.resolve_deadline == local("2026-03-10 10:00") and appeal.overdue is False


def test_an_extension_too_short_to_catch_up_leaves_the_flag(flow, clock):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    actions.sign(flow.erin, appeal)
    request = actions.request_extension(flow.erin, appeal, days=1, reason="需要采购配件")
    clock.at("2026-03-09 11:00")  # Monday after: Thursday 10:00 + 1 day = Friday 10:00, passed
    actions.mark_overdue()
    actions.decide_extension(flow.dora, request, approve=True)
    assert Appeal.objects.get(pk=appeal.pk).overdue is True


def test_an_approved_extension_warns_again_near_the_new_deadline(flow, clock, english):
    appeal = dispatched_at(flow, clock, "2026-03-02 10:00")
    actions.sign(flow.erin, appeal)
    clock.at("2026-03-04 14:20")  # 80.2 % of the 21 working hours to Thursday 10:00
    assert actions.mark_overdue()["warned"] == 1
    request = actions.request_extension(flow.erin, appeal, days=2, reason="等配件")
    actions.decide_extension(flow.dora, request, approve=True)
    # New deadline: Thursday 10:00 + 14 h = Monday 2026-03-09 10:00, 35 working hours after
    # dispatch; 80 % is 28 h: Mon 6 + Tue 7 + Wed 7 + Thu 7 = 27 h, then 1 h → Fri 10:00.
    clock.at("2026-03-06 09:55")
    assert actions.mark_overdue()["warned"] == 0
    clock.at("2026-03-06 10:05")
    assert actions.mark_overdue()["warned"] == 1
    appeal.refresh_from_db()
    assert appeal.warned_at == local("2026-03-06 10:05")
