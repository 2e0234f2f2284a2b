"""Batched intake (`cases.submit_many`, used by the Excel/CSV import) gives what `submit_appeal`
gives one row at a time: the same appeals, timeline, audit events and notifications, tracking
numbers that continue the day's sequence, and all or nothing.

The `clock` fixture freezes the time, so deadlines and timestamps of both paths are comparable.
alice is community A staff, dora the street A dispatcher, erin unit A's handler, charlie a
resident of community A; lift faults (0801) in community A route to unit A, water (0101) does not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.forms.models import model_to_dict

from renzhi.appeals.actions import cases as intake
from renzhi.appeals.models import Appeal, AppealEvent, TrackingCounter
from renzhi.core import audit
from renzhi.core.models import AuditEvent, Notification
from renzhi.core.workdays import LOCAL_TZ

# Differ by construction between the two paths (or are timestamps written by the database).
NOT_COMPARED = {"id", "tracking_no", "created_at", "updated_at"}


def sample_rows(w) -> list[intake.IntakeRow]:
    """Routed and unrouted rows, by point and by place, urgent, anonymous, an earlier day."""
    return [
        intake.IntakeRow(
            "3号楼电梯停了",
            category=w.cat_lift,
            lat=39.92,
            lng=116.42,
            contact_name="张三",
            contact_phone="13800001234",
            extra={"row": 2},
        ),
        intake.IntakeRow(
            "停水了",
            category=w.cat_outage,
            place=w.community_a,
            address="幸福路1号",
            external_ref="EXT-2",
        ),
        intake.IntakeRow(
            "电梯困人",
            category=w.cat_lift,
            lat=39.93,
            lng=116.47,
            priority="urgent",
            title="困人",
            anonymous=True,
        ),
        intake.IntakeRow("  楼道灯不亮  ", place=w.grid_a2, contact_phone="13900000000"),
        intake.IntakeRow(
            "电梯异响",
            category=w.cat_lift,
            place=w.grid_a1,
            received_at=dt.datetime(2026, 2, 27, 16, 30, tzinfo=LOCAL_TZ),
        ),
    ]


def one_by_one(actor, rows, channel) -> list[Appeal]:
    return [
        intake.submit_appeal(
            actor,
            channel=channel,
            description=r.description,
            category=r.category,
            lat=r.lat,
            lng=r.lng,
            address=r.address,
            place=r.place,
            contact_name=r.contact_name,
            contact_phone=r.contact_phone,
            anonymous=r.anonymous,
            priority=r.priority,
            external_ref=r.external_ref,
            extra=r.extra,
            title=r.title,
            received_at=r.received_at,
        ).appeal
        for r in rows
    ]


def fields(appeal: Appeal) -> dict:
    appeal = Appeal.objects.get(pk=appeal.pk)
    return {k: v for k, v in model_to_dict(appeal).items() if k not in NOT_COMPARED}


def timeline(appeal: Appeal) -> list[tuple]:
    return [
        (
            e.verb,
            e.from_state,
            e.to_state,
            e.actor_id,
            e.actor_role,
            e.note,
            e.public,
            e.automatic,
            e.unit_id,
            e.data,
            e.at,
        )
        for e in AppealEvent.objects.filter(appeal=appeal).order_by("id")
    ]


def audit_trail(appeal: Appeal) -> list[tuple]:
    return [
        (a.verb, a.actor_id, a.object_label == appeal.tracking_no, a.before, a.after)
        for a in AuditEvent.objects.filter(
            object_type="appeals.appeal", object_id=str(appeal.pk)
        ).order_by("seq")
    ]


def inbox(appeal: Appeal) -> list[tuple]:
    rows = Notification.objects.filter(object_id=appeal.tracking_no).order_by("user_id", "title")
    return [
        (
            n.user_id,
            n.kind,
            n.title.replace(appeal.tracking_no, "№"),
            n.body,
            n.link.replace(appeal.tracking_no, "№"),
        )
        for n in rows
    ]


@pytest.mark.parametrize("channel", ["import", "web"])
def test_a_batch_gives_the_same_appeals_timeline_audit_and_notifications_as_one_by_one(
    cases, clock, channel
):
    w = cases
    actor = w.alice if channel == "import" else w.charlie
    rows = sample_rows(w)
    if channel == "web":  # a resident does not set the priority (issue 23 #10)
        rows = [dataclasses.replace(r, priority="normal") for r in rows]
    single = one_by_one(actor, rows, channel)
    notified_single = Notification.objects.count()
    batch = intake.submit_many(actor, rows, channel=channel)
    assert len(batch) == len(rows)
    assert Notification.objects.count() - notified_single == notified_single > 0

    for one, many in zip(single, batch, strict=True):
        assert fields(many) == fields(one)
        assert timeline(many) == timeline(one)
        assert audit_trail(many) == audit_trail(one)
        assert inbox(many) == inbox(one)
    routed = [a for a in batch if a.unit_id]
    assert len(routed) == 3 and {a.state for a in routed} == {"dispatched"}
    assert [e[0] for e in timeline(routed[0])] == ["submit", "accept", "dispatch"]
    assert fields(batch[1])["state"] == "received"  # water: waits for the dispatcher
    assert {n.user for n in Notification.objects.filter(object_id=batch[1].tracking_no)} == {w.dora}
    if channel == "web":  # the resident hears their appeal was accepted
        assert Notification.objects.filter(user=w.charlie, object_id=batch[0].tracking_no).exists()


def test_tracking_numbers_continue_the_days_sequence_without_gaps_or_collisions(cases, clock):
    w = cases
    rows = sample_rows(w)
    before = intake.submit_appeal(
        w.alice, channel="import", description="先来的", place=w.community_a
    ).appeal
    batch = intake.submit_many(w.alice, rows)
    after = intake.submit_appeal(
        w.alice, channel="import", description="后来的", place=w.community_a
    ).appeal
    today = [before, *[a for a in batch if a.received_at.date() != dt.date(2026, 2, 27)], after]
    assert [a.tracking_no for a in today] == [f"RZ20260302-{n:06d}" for n in range(1, 7)]
    assert batch[4].tracking_no == "RZ20260227-000001"  # its own day, its own sequence
    assert TrackingCounter.objects.get(day=dt.date(2026, 3, 2)).last == 6
    second = intake.submit_many(w.alice, rows[:2])
    assert [a.tracking_no for a in second] == ["RZ20260302-000007", "RZ20260302-000008"]
    numbers = list(Appeal.objects.values_list("tracking_no", flat=True))
    assert len(numbers) == len(set(numbers)) == 9


def test_a_row_outside_the_jurisdiction_refuses_the_whole_batch_and_writes_nothing(cases, clock):
    w = cases
    rows = sample_rows(w)
    rows.insert(3, intake.IntakeRow("乙社区的井盖丢了", place=w.community_b))
    counts = [m.objects.count() for m in (Appeal, AppealEvent, AuditEvent, Notification)]
    with pytest.raises(intake.BatchRowRefused) as refused:
        intake.submit_many(w.alice, rows)
    assert refused.value.index == 3
    assert refused.value.errors[0].field == "place" and refused.value.status == 403
    assert [m.objects.count() for m in (Appeal, AppealEvent, AuditEvent, Notification)] == counts
    assert TrackingCounter.objects.count() == 0


def test_a_bad_row_is_named_with_the_message_of_the_single_intake(cases):
    w = cases
    rows = [*sample_rows(w), intake.IntakeRow("", place=w.community_a)]
    with pytest.raises(intake.BatchRowRefused) as refused:
        intake.submit_many(w.alice, rows)
    assert refused.value.index == 5 and refused.value.errors[0].field == "description"
    assert Appeal.objects.count() == 0


def test_a_resident_may_not_submit_an_import_batch(cases):
    with pytest.raises(intake.BatchRowRefused) as refused:
        intake.submit_many(cases.charlie, sample_rows(cases))
    assert refused.value.index == 0 and refused.value.status == 403
    assert Appeal.objects.count() == 0


def test_the_audit_chain_verifies_after_a_batch(cases, clock):
    w = cases
    intake.submit_appeal(w.alice, channel="import", description="先来的", place=w.community_a)
    batch = intake.submit_many(w.alice, sample_rows(w) * 3)
    checked, broken = audit.verify_chain()
    assert broken is None
    submits = AuditEvent.objects.filter(verb="appeal.submit").count()
    assert submits == 1 + len(batch) and checked == AuditEvent.objects.count()


def test_a_batch_routes_and_times_each_category_place_and_priority_once(
    cases, clock, django_assert_max_num_queries
):
    w = cases
    rows = [r for r in sample_rows(w) for _ in range(40)]  # 200 rows, few distinct keys
    with django_assert_max_num_queries(100):  # one by one: about 40 per row, 8,000
        batch = intake.submit_many(w.alice, rows)
    assert len(batch) == 200
    assert AppealEvent.objects.count() == 200 + 2 * 120


def test_an_empty_batch_writes_nothing(cases):
    assert intake.submit_many(cases.alice, []) == []
    assert AuditEvent.objects.filter(verb__startswith="appeal.").count() == 0


def test_a_grids_own_routing_rule_wins_over_its_communitys_in_a_batch_as_one_by_one(cases, clock):
    from renzhi.appeals.models import RoutingRule

    w = cases
    w.unit_b.places.add(w.grid_a2)  # the grid's rule names a unit that serves the grid
    RoutingRule.objects.create(category=w.cat_lift, place=w.grid_a2, unit=w.unit_b)
    rows = [
        intake.IntakeRow("电梯停了", category=w.cat_lift, lat=39.92, lng=116.42),  # grid A1
        intake.IntakeRow("电梯停了", category=w.cat_lift, lat=39.92, lng=116.47),  # grid A2
        intake.IntakeRow("电梯停了", category=w.cat_lift, place=w.community_a),
        intake.IntakeRow("停水了", category=w.cat_outage, lat=39.92, lng=116.47),
    ]
    single = one_by_one(w.alice, rows, "import")
    batch = intake.submit_many(w.alice, rows)
    assert [a.unit_id for a in batch] == [a.unit_id for a in single]
    assert [a.unit for a in batch] == [w.unit_a, w.unit_b, w.unit_a, None]
