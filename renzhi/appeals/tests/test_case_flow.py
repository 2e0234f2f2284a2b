"""The closed loop end to end through actions: submit → auto-dispatch → sign → resolve → rate."""

from renzhi.appeals import actions
from renzhi.appeals.models import AppealEvent, State
from renzhi.core.models import AuditEvent, Notification


def test_an_unambiguous_appeal_is_dispatched_automatically_and_closes_on_a_good_rating(cases):
    w = cases
    result = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="3号楼电梯停了两天",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    )
    appeal = result.appeal
    assert appeal.tracking_no.startswith("RZ") and appeal.state == State.DISPATCHED
    assert appeal.unit == w.unit_a and appeal.grid == w.grid_a1 and appeal.street == w.street_a
    assert appeal.sign_deadline is not None and appeal.resolve_deadline > appeal.sign_deadline

    actions.sign(w.erin, appeal)
    actions.progress(w.erin, appeal, note="维修人员已到场")
    actions.resolve(w.erin, appeal, result="更换了控制板，电梯恢复运行")
    appeal = actions.rate(w.charlie, appeal, rating=5, comment="很快")

    assert appeal.state == State.CLOSED and appeal.satisfaction == "satisfied"
    verbs = list(AppealEvent.objects.filter(appeal=appeal).values_list("verb", flat=True))
    assert verbs == ["submit", "accept", "dispatch", "sign", "progress", "resolve", "rate"]
    assert (
        AuditEvent.objects.filter(object_id=str(appeal.pk), verb__startswith="appeal.").count() == 7
    )
    assert Notification.objects.filter(user=w.charlie).count() >= 2


def test_an_unsatisfied_rating_reopens_the_case_to_the_same_unit(cases):
    w = cases
    appeal = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="电梯又坏了",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
    ).appeal
    actions.sign(w.erin, appeal)
    actions.resolve(w.erin, appeal, result="已修")
    appeal = actions.rate(w.charlie, appeal, rating=1, comment="没修好")
    assert appeal.state == State.DISPATCHED and appeal.reopen_count == 1 and appeal.unit == w.unit_a
