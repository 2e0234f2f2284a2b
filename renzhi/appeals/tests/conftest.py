"""Appeals fixtures on top of the two-jurisdiction `world`: categories, routing, SLA rules."""

import pytest

from renzhi.appeals.models import Category, RoutingRule, SlaRule


@pytest.fixture
def cases(world):
    """`world` plus: categories 物业管理 > 电梯故障 / 供水 > 停水, a routing table that sends lift
    faults in community A to unit A (unambiguous), and an SLA of 2 h / 3 days."""
    w = world
    w.cat_property = Category.objects.create(
        code="08", name="物业管理", default_unit_kind="property"
    )
    w.cat_lift = Category.objects.create(code="0801", name="电梯故障", parent=w.cat_property)
    w.cat_water = Category.objects.create(code="01", name="城乡建设")
    w.cat_outage = Category.objects.create(code="0101", name="停水", parent=w.cat_water)
    RoutingRule.objects.create(category=w.cat_property, place=w.community_a, unit=w.unit_a)
    RoutingRule.objects.create(category=w.cat_property, place=w.community_b, unit=w.unit_b)
    SlaRule.objects.create(category=None, priority="normal", sign_hours=2, resolve_days=3)
    SlaRule.objects.create(category=None, priority="urgent", sign_hours=1, resolve_days=1)
    return w


# --- Appended for the transition, SLA, notification and concurrency tests --------------------


class Clock:
    """The time `django.utils.timezone.now()` returns while the `clock` fixture is active."""

    def __init__(self, local: str = "2026-03-02 10:00") -> None:
        self.now = self.at(local)

    def at(self, local: str):
        """Set the clock to a local (Asia/Shanghai) time like "2026-02-13 16:00"."""
        import datetime as dt

        from renzhi.core.workdays import LOCAL_TZ

        self.now = dt.datetime.fromisoformat(local).replace(tzinfo=LOCAL_TZ)
        return self.now

    def utc(self):
        import datetime as dt

        return self.now.astimezone(dt.UTC)


@pytest.fixture
def clock():
    """Freeze `timezone.now()` (default Monday 2026-03-02 10:00 Shanghai, an ordinary working
    day); move it with `clock.at("…")`."""
    from unittest import mock

    c = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=c.utc):
        yield c


@pytest.fixture
def flow(cases):
    """`cases` plus hank (unit handler of unit B), kate (a second resident of community A) and
    helpers:

    - `flow.bring(state, resident=…)`: a new lift-fault appeal in grid A1 driven through the
      real actions into `state` (dispatched to unit A once dispatched; suspended and merged
      from dispatched; closed by the dispatcher without a rating);
    - `flow.snapshot(appeal)`: the appeal row and the counts an action could change, to prove a
      refused action changed nothing;
    - `flow.inbox_since(mark)`: usernames notified since `mark = flow.inbox_mark()`.
    """
    from renzhi.appeals import actions
    from renzhi.appeals.models import (
        Appeal,
        AppealEvent,
        Attachment,
        ExtensionRequest,
        State,
        TrackingCounter,
    )
    from renzhi.core.models import AuditEvent, Membership, Notification, Role, User

    w = cases
    w.hank = User.objects.create_user(username="hank", password=w.password, display_name="Hank")
    Membership.objects.create(user=w.hank, role=Role.UNIT_HANDLER, unit=w.unit_b)
    w.kate = User.objects.create_user(
        username="kate",
        password=w.password,
        display_name="Kate",
        phone="13800000011",
        home_place=w.community_a,
    )
    Membership.objects.create(user=w.kate, role=Role.RESIDENT, place=w.community_a)

    def bring(state, *, resident=None, lat=39.92, lng=116.42):
        appeal = actions.submit_appeal(
            resident or w.charlie,
            channel="web",
            description="3号楼电梯停了",
            category=w.cat_lift,
            lat=lat,
            lng=lng,
            auto_route=False,
        ).appeal
        if state == State.RECEIVED:
            return appeal
        if state == State.WITHDRAWN:
            return actions.withdraw(appeal.resident, appeal, reason="已自行解决")
        if state == State.REJECTED:
            return actions.reject(w.dora, appeal, reason="不属于受理范围")
        actions.accept(w.dora, appeal)
        if state == State.ACCEPTED:
            return Appeal.objects.get(pk=appeal.pk)
        actions.dispatch(w.dora, appeal, unit=w.unit_a)
        if state == State.DISPATCHED:
            return Appeal.objects.get(pk=appeal.pk)
        if state == State.SUSPENDED:
            return actions.suspend(w.dora, appeal, reason="等待业主委员会决议")
        if state == State.MERGED:
            master = bring(State.DISPATCHED, resident=w.kate)
            return actions.merge(w.dora, appeal, into=master)
        actions.sign(w.erin, appeal)
        if state == State.SIGNED:
            return Appeal.objects.get(pk=appeal.pk)
        actions.progress(w.erin, appeal, note="维修人员已到场")
        if state == State.HANDLING:
            return Appeal.objects.get(pk=appeal.pk)
        actions.resolve(w.erin, appeal, result="更换了控制板")
        if state == State.RESOLVED:
            return Appeal.objects.get(pk=appeal.pk)
        assert state == State.CLOSED, state
        return actions.close(w.dora, appeal, note="回访无人接听")

    def snapshot(appeal):
        return {
            "row": Appeal.objects.filter(pk=appeal.pk).values().get(),
            "events": AppealEvent.objects.count(),
            "audit": AuditEvent.objects.count(),
            "notifications": Notification.objects.count(),
            "extensions": list(ExtensionRequest.objects.order_by("pk").values()),
            "attachments": Attachment.objects.count(),
            "appeals": Appeal.objects.count(),
            "counters": list(TrackingCounter.objects.values_list("day", "last")),
        }

    def inbox_mark():
        last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
        return last or 0

    def inbox_since(mark):
        return sorted(
            Notification.objects.filter(pk__gt=mark).values_list("user__username", flat=True)
        )

    w.bring, w.snapshot, w.inbox_mark, w.inbox_since = bring, snapshot, inbox_mark, inbox_since
    return w


# --- Appended for the API, import, export and permission-matrix tests -------------------------


@pytest.fixture
def two_appeals(flow):
    """`flow` plus one appeal in each community, both routed by the table: `appeal_a` from
    charlie in grid A1 (phone 13900000001) → unit A; `appeal_b` from ivy in grid B1
    (13900000002) → unit B."""
    from renzhi.appeals import actions

    w = flow
    w.appeal_a = actions.submit_appeal(
        w.charlie,
        channel="web",
        description="甲一社区3号楼电梯故障",
        category=w.cat_lift,
        lat=39.92,
        lng=116.42,
        contact_phone="13900000001",
    ).appeal
    w.appeal_b = actions.submit_appeal(
        w.ivy,
        channel="web",
        description="乙一社区电梯故障",
        category=w.cat_lift,
        lat=39.92,
        lng=116.55,
        contact_phone="13900000002",
    ).appeal
    return w


@pytest.fixture
def token_for(db):
    """`token_for(user)` → headers carrying a fresh API token of that user (a partner system)."""
    from renzhi.core import actions as core_actions

    def make(user):
        _token, raw = core_actions.issue_api_token(user, "partner")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make
