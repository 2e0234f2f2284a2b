"""The demo appeals: volume and seasons, outbreaks, every state with consistent fields and
timelines, deadlines on the holiday calendar, tracking numbers, idempotency, the audit chain.

One demo city with appeals is built for the whole module (a reduced scale and period ending on a
fixed Wednesday afternoon, so the result is the same every day) inside a transaction that is
rolled back at the end; each test looks at it inside its own savepoint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
import random
import re
from collections import Counter, defaultdict
from statistics import mean
from types import SimpleNamespace
from unittest import mock

import pytest
import shapely
from django.core.management import call_command
from django.db import transaction
from django.utils import translation
from shapely.geometry import shape

from renzhi.appeals import queries, sla
from renzhi.appeals.models import (
    OPEN_STATES,
    Appeal,
    AppealEvent,
    ExtensionRequest,
    State,
    TrackingCounter,
)
from renzhi.core import audit
from renzhi.core.models import AuditEvent, Membership, Notification, Place, Role, User
from renzhi.core.workdays import LOCAL_TZ, WorkCalendar
from renzhi.demo import appeals as demo_appeals
from renzhi.demo import build as demo_build
from renzhi.demo import outbreaks as demo_outbreaks
from renzhi.demo.appeal_config import AMBIGUOUS
from renzhi.demo.city import generate_city

SCALE = 0.15
DAYS = 300
END = dt.datetime(2026, 9, 30, 15, 0, tzinfo=LOCAL_TZ)  # a Wednesday, in working time
FIRST_DAY = END.date() - dt.timedelta(days=DAYS - 1)
DISPATCHED_STATES = {State.DISPATCHED, State.SIGNED, State.HANDLING}
TRACKING_RE = re.compile(r"^RZ(\d{8})-(\d{6})$")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_city", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # The appeals stage alone: the other apps' demo stages have their own tests.
    only_appeals = mock.patch.object(demo_build, "APP_STAGES", [])
    with only_appeals, django_db_blocker.unblock(), transaction.atomic():
        output = run(
            "--scale", str(SCALE), "--appeal-days", str(DAYS), "--appeal-end", END.isoformat()
        )
        appeals = list(Appeal.objects.select_related("category", "community", "grid"))
        events = defaultdict(list)
        for event in AppealEvent.objects.order_by("at", "id"):
            events[event.appeal_id].append(event)
        yield SimpleNamespace(output=output, appeals=appeals, events=events)
        transaction.set_rollback(True)


@pytest.fixture
def data(demo, db):
    return demo


def daily_counts(appeals, **match) -> Counter:
    counts: Counter = Counter()
    for a in appeals:
        if all(_attr(a, k) == v for k, v in match.items()):
            counts[a.received_at.astimezone(LOCAL_TZ).date()] += 1
    return counts


def _attr(appeal: Appeal, key: str):
    if key == "community":
        assert appeal.community is not None
        return appeal.community.code
    if key == "category":
        assert appeal.category is not None
        return appeal.category.code
    if key == "category_top":
        assert appeal.category is not None
        return appeal.category.code[:2]
    return getattr(appeal, key)


# --- volume, seasons, outbreaks ---------------------------------------------------------------


def test_every_state_is_represented(data):
    states = Counter(a.state for a in data.appeals)
    assert {s: states[s] for s in State.values if not states[s]} == {}
    closed_share = states[State.CLOSED] / len(data.appeals)
    assert 0.75 < closed_share < 0.95


def test_daily_volume_matches_the_scale_with_quiet_weekends_and_holidays(data):
    counts = daily_counts(data.appeals)
    days = [FIRST_DAY + dt.timedelta(days=k) for k in range(DAYS - 1)]  # the last day is partial
    calendar = WorkCalendar()
    working = [counts[d] for d in days if calendar.is_working_day(d)]
    weekend = [counts[d] for d in days if not calendar.is_working_day(d) and d.month not in (2, 10)]
    assert 40 * SCALE <= mean(counts[d] for d in days) <= 80 * SCALE
    assert mean(weekend) < 0.85 * mean(working)
    spring_festival = [counts[dt.date(2026, 2, d)] for d in range(15, 24)]
    assert mean(spring_festival) < 0.6 * mean(working)
    assert len(data.appeals) > 1000


def test_heating_complaints_belong_to_winter_and_mosquitoes_to_summer(data):
    def share(code: str, months: set[int]) -> float:
        chosen = [a for a in data.appeals if a.received_at.astimezone(LOCAL_TZ).month in months]
        return sum(a.category.code == code for a in chosen) / len(chosen)

    winter, summer = {12, 1, 2}, {6, 7, 8}
    assert share("0103", winter) > 5 * share("0103", summer)
    assert share("0205", summer) > 3 * share("0205", winter)


def test_the_audit_event_lists_the_outbreaks_that_fit_the_period(data):
    event = AuditEvent.objects.get(verb="demo.create_appeals")
    expected = demo_outbreaks.resolve(FIRST_DAY, END.date(), SCALE)
    assert event.after["outbreaks"] == [o.as_dict() for o in expected]
    assert {(o.community_code, o.category_code) for o in expected} >= {
        ("110105002003", "0103"),  # heating, January
        ("110105001002", "0101"),  # water, July
    }


def test_each_outbreak_stands_out_against_its_communitys_usual_days(data):
    for outbreak in demo_outbreaks.resolve(FIRST_DAY, END.date(), SCALE):
        counts = daily_counts(
            data.appeals, community=outbreak.community_code, category=outbreak.category_code
        )
        during = [counts[d] for d in outbreak.dates]
        days_before = [outbreak.start - dt.timedelta(days=k) for k in range(1, 57)]
        days_before = [d for d in days_before if d >= FIRST_DAY]
        baseline = mean(counts[d] for d in days_before)
        assert min(during) >= outbreak.extra_per_day, outbreak
        assert mean(during) > baseline + 4 * math.sqrt(baseline + 0.1) + 1, outbreak
        # The same series at the first level of categories (what the detectors also watch).
        top = daily_counts(
            data.appeals,
            community=outbreak.community_code,
            category_top=outbreak.category_code[:2],
        )
        top_before = mean(top[d] for d in days_before)
        assert mean(top[d] for d in outbreak.dates) > 3 * top_before + 1, outbreak


def test_outbreak_appeals_come_from_one_grid_and_tell_the_same_story(data):
    outbreak = next(
        o for o in demo_outbreaks.resolve(FIRST_DAY, END.date(), SCALE) if o.category_code == "0103"
    )
    chosen = [
        a
        for a in data.appeals
        if a.category.code == "0103"
        and a.community.code == outbreak.community_code
        and a.received_at.astimezone(LOCAL_TZ).date() in outbreak.dates
    ]
    grids = Counter(a.place_code[:15] for a in chosen)
    assert grids.most_common(1)[0][1] >= outbreak.extra_per_day * outbreak.days
    assert sum("暖气" in a.description for a in chosen) >= 0.8 * len(chosen)
    assert any(a.state == State.MERGED for a in chosen)  # duplicates were merged


# --- fields consistent with the state ----------------------------------------------------------


def test_fields_are_consistent_with_each_state(data):
    for a in data.appeals:
        problems = _inconsistencies(a)
        assert not problems, (a.tracking_no, a.state, problems)


def _at(value: dt.datetime | None) -> dt.datetime:
    """The datetime a comparison needs; a missing one fails as comparing None would."""
    if value is None:
        raise TypeError("expected a datetime, got None")
    return value


def _inconsistencies(a: Appeal) -> list[str]:
    bad = []

    def need(condition: bool, rule: str) -> None:
        if not condition:
            bad.append(rule)

    state = a.state
    need(a.received_at <= END, "received in the future")
    need(a.category is not None and a.category_top_id == a.category.parent_id, "category top")
    dispatched = a.first_dispatched_at is not None
    if state == State.RECEIVED:
        need(a.accepted_at is None and a.unit_id is None and not dispatched, "received: clean")
    if a.unit_id is None:
        need(a.sign_deadline is None and a.resolve_deadline is None, "no unit, no deadlines")
    if state == State.ACCEPTED:
        need(a.accepted_at is not None and a.unit_id is None, "accepted: no unit")
    if state in DISPATCHED_STATES:
        need(a.unit_id is not None and dispatched, "dispatched: unit")
        need(a.sign_deadline is not None and a.resolve_deadline is not None, "deadlines")
        need(_at(a.first_dispatched_at) <= _at(a.dispatched_at), "first dispatch first")
        need(_at(a.sign_deadline) <= _at(a.resolve_deadline), "sign before resolve")
    if state == State.DISPATCHED:
        need(a.signed_at is None and a.signed_in_time is None, "dispatched: not signed")
    if state in (State.SIGNED, State.HANDLING) or a.signed_at:
        need(
            a.signed_at is not None and a.signed_at >= _at(a.dispatched_at), "signed after dispatch"
        )
        need(a.signed_in_time == (_at(a.signed_at) <= _at(a.sign_deadline)), "signed_in_time")
    if state in (State.RESOLVED, State.CLOSED):
        need(a.resolved_at is not None and a.resolved_at >= _at(a.signed_at), "resolved after sign")
        need(
            a.resolved_in_time == (_at(a.resolved_at) <= _at(a.resolve_deadline)),
            "resolved_in_time",
        )
        need(a.handling_hours is not None and a.handling_hours >= 0, "handling hours")
        need(bool(a.result), "result text")
    if state == State.RESOLVED:
        need(a.closed_at is None, "resolved: not closed")
    if state == State.CLOSED:
        need(a.closed_at is not None and a.closed_at >= _at(a.resolved_at), "closed after resolved")
    if state in (State.REJECTED, State.WITHDRAWN):
        need(a.closed_at is not None, "final: closed_at")
    if state == State.MERGED:
        need(a.merged_into_id is not None, "merged: master")
    else:
        need(a.merged_into_id is None, "not merged: no master")
    if state == State.SUSPENDED:
        need(a.suspended_at is not None, "suspended_at")
        need(a.state_before_suspend in (State.SIGNED, State.HANDLING), "state before suspend")
    else:
        need(a.suspended_at is None and a.state_before_suspend == "", "not suspended")
    need((a.rating is None) == (a.rated_at is None) == (a.satisfaction == ""), "rating triple")
    if a.rating is not None:
        expected = "satisfied" if a.rating >= 4 else "basic" if a.rating == 3 else "unsatisfied"
        need(a.satisfaction == expected, "satisfaction matches rating")
        if a.reopen_count == 0:
            need(
                a.resolved_at is not None and _at(a.rated_at) >= a.resolved_at,
                "rated when resolved",
            )
    if state == State.CLOSED and a.rating is not None and a.closed_at == a.rated_at:
        need(a.satisfaction in ("satisfied", "basic"), "closed by a good rating")
    if a.overdue:
        need(state in DISPATCHED_STATES, "overdue only when open at a unit")
        late_sign = a.signed_at is None and _at(a.sign_deadline) < END
        late_sign = late_sign or (a.signed_at is not None and not a.signed_in_time)
        need(late_sign or _at(a.resolve_deadline) < END, "overdue past a deadline")
    elif state in DISPATCHED_STATES:
        need(_at(a.resolve_deadline) >= END, "past the resolve deadline but not overdue")
        if state == State.DISPATCHED:
            need(_at(a.sign_deadline) >= END, "past the sign deadline but not overdue")
    if a.supervised:
        need(a.supervise_count >= 1 and a.priority == "urgent", "supervised: counted, urgent")
    need(a.version >= 1, "version")
    return bad


def test_places_nest_and_map_points_lie_in_their_grid(data):
    grids = {p.code: shape(p.boundary) for p in Place.objects.filter(level="grid")}
    for a in data.appeals:
        assert a.place_code.startswith(a.community.code), a.tracking_no
        assert a.community.parent_id == a.street_id
        if a.grid_id is not None:
            assert a.place_code == a.grid.code and a.grid.parent_id == a.community_id
        else:
            assert a.place_code == a.community.code and a.lat is None
        if a.lat is not None:
            assert a.grid_id is not None
            assert grids[a.grid.code].covers(shapely.Point(a.lng, a.lat)), a.tracking_no
    located = sum(a.lat is not None for a in data.appeals)
    assert 0.7 < located / len(data.appeals) < 0.95  # some by address only
    assert all(a.address for a in data.appeals if a.lat is None)


def test_channels_and_people_fit_together(data):
    residents = {m.user_id: m.place.code for m in Membership.objects.filter(role=Role.RESIDENT)}
    channels = Counter(a.channel for a in data.appeals)
    assert set(channels) == {"web", "hotline", "patrol", "api", "import"}
    assert 0.3 < channels["web"] / len(data.appeals) < 0.55
    for a in data.appeals:
        if a.channel == "web":
            assert a.resident_id == a.created_by_id and a.resident_id in residents
            assert residents[a.resident_id] == a.community.code  # they report where they live
        else:
            assert a.resident_id is None
        if a.channel in ("hotline", "api", "import"):
            assert a.contact_phone.isdigit() and 7 <= len(a.contact_phone) <= 12
        if a.channel == "patrol":
            assert a.created_by.username == f"grid_{a.place_code}"


def test_the_three_rates_are_realistic(data):
    dispatched = [a for a in data.appeals if a.first_dispatched_at]
    rated = [a for a in data.appeals if a.rating is not None]
    finished = [a for a in data.appeals if a.state in (State.RESOLVED, State.CLOSED)]
    response = sum(bool(a.signed_in_time) for a in dispatched) / len(dispatched)
    satisfaction = sum(a.satisfaction in ("satisfied", "basic") for a in rated) / len(rated)
    reopened = sum(a.reopen_count > 0 for a in finished) / len(finished)
    assert 0.8 < response < 0.97
    assert 0.84 < satisfaction < 0.94
    assert 0.04 < reopened < 0.2
    assert any(a.overdue for a in data.appeals)
    assert any(a.supervised for a in data.appeals)
    assert any(a.reopen_count >= 1 and a.state == State.CLOSED for a in data.appeals)
    assert ExtensionRequest.objects.filter(status="approved").exists()


# --- timelines ---------------------------------------------------------------------------------


def test_every_timeline_replays_to_its_appeals_state(data):
    handlers = dict(
        Membership.objects.filter(role=Role.UNIT_HANDLER).values_list("user_id", "unit_id")
    )
    for a in data.appeals:
        events = data.events[a.id]
        assert events[0].verb == "submit" and events[0].at == a.received_at, a.tracking_no
        assert events[0].actor_id == a.created_by_id
        state = ""
        for event in events:
            assert event.from_state == state, (a.tracking_no, event.verb)
            state = event.to_state
            if event.verb in ("sign", "progress", "resolve", "return", "request_extension"):
                assert event.actor_role == Role.UNIT_HANDLER
                assert handlers[event.actor_id] == event.unit_id, (a.tracking_no, event.verb)
            if event.verb in ("accept", "dispatch") and event.automatic:
                assert event.actor_id is None
            if event.verb == "overdue":
                assert event.automatic and not event.public
        assert state == a.state, a.tracking_no
        verbs = Counter(e.verb for e in events)
        assert verbs["reopen"] == a.reopen_count
        assert verbs["return"] == a.return_count and verbs["transfer"] == a.transfer_count
        assert verbs["supervise"] == a.supervise_count
        assert [e.at for e in events] == sorted(e.at for e in events)
        if a.first_dispatched_at:
            first = next(e for e in events if e.verb == "dispatch")
            assert first.at == a.first_dispatched_at
        if a.state in DISPATCHED_STATES | {State.RESOLVED, State.CLOSED}:
            last = [e for e in events if e.verb in ("dispatch", "transfer", "reopen")][-1]
            assert last.at == a.dispatched_at and last.unit_id == a.unit_id


def test_merged_appeals_point_at_a_master_that_absorbed_them(data):
    by_id = {a.id: a for a in data.appeals}
    merged = [a for a in data.appeals if a.state == State.MERGED]
    assert merged
    for a in merged:
        master = by_id[a.merged_into_id]
        assert master.state != State.MERGED
        assert master.category_id == a.category_id and master.community_id == a.community_id
        merge = next(e for e in data.events[a.id] if e.verb == "merge")
        absorb = [e for e in data.events[master.id] if e.verb == "absorb"]
        assert any(e.at == merge.at and e.note == a.tracking_no for e in absorb)


def test_ambiguous_categories_wait_for_the_dispatcher(data):
    for a in data.appeals:
        accept = next((e for e in data.events[a.id] if e.verb == "accept"), None)
        if accept is None:
            continue
        if a.category.code in AMBIGUOUS:
            assert not accept.automatic and accept.actor_role == Role.DISPATCHER
        elif a.channel != "import":
            assert accept.automatic and accept.at == a.received_at, a.tracking_no


def test_deadlines_follow_the_sla_rules_on_the_holiday_calendar(data: SimpleNamespace) -> None:
    calendar = WorkCalendar()  # the plain calendar, not the generator's cached one
    rules: dict[tuple[int, str], sla.Sla] = {}
    checked = 0
    for a in data.appeals:
        verbs = {e.verb for e in data.events[a.id]}
        if a.state not in DISPATCHED_STATES | {State.RESOLVED, State.CLOSED}:
            continue
        if verbs & {"supervise", "suspend", "approve_extension"}:
            continue
        key = (a.category_id, a.priority)
        rule = rules[key] = rules.get(key) or sla.sla_for(a.category, a.priority)
        assert (a.sign_deadline, a.resolve_deadline) == sla.deadlines(
            a.dispatched_at, rule, calendar
        ), a.tracking_no
        if a.resolved_at:
            hours = calendar.working_hours_between(a.dispatched_at, a.resolved_at)
            assert a.handling_hours == pytest.approx(round(hours, 3), abs=1e-3)
        checked += 1
    assert checked > 500


def test_the_memo_calendar_answers_as_the_plain_one(db):
    plain, memo = WorkCalendar(), demo_appeals.MemoCalendar()
    rng = random.Random(5)
    for _n in range(300):
        start = dt.datetime(2025, 9, 1, tzinfo=LOCAL_TZ) + dt.timedelta(
            minutes=rng.randrange(60 * 24 * 500)
        )
        hours = rng.uniform(0, 80)
        assert memo.add_working_hours(start, hours) == plain.add_working_hours(start, hours)
        end = start + dt.timedelta(hours=rng.uniform(0, 300))
        assert memo.working_hours_between(start, end) == plain.working_hours_between(start, end)


# --- numbering, residents, texts ---------------------------------------------------------------


def test_tracking_numbers_run_per_day_and_the_counters_continue_them(data: SimpleNamespace) -> None:
    by_day: dict[str, list[int]] = defaultdict(list)
    for a in data.appeals:
        match = TRACKING_RE.match(a.tracking_no)
        assert match, a.tracking_no
        assert match.group(1) == a.received_at.astimezone(LOCAL_TZ).strftime("%Y%m%d")
        by_day[match.group(1)].append(int(match.group(2)))
    counters = {c.day.strftime("%Y%m%d"): c.last for c in TrackingCounter.objects.all()}
    for day, numbers in by_day.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), day
        assert counters[day] == len(numbers)
    ordered = sorted(data.appeals, key=lambda a: (a.received_at, a.tracking_no))
    assert [a.tracking_no for a in ordered] == sorted(a.tracking_no for a in ordered)


def test_demo_resident_accounts_have_appeals_in_several_states(data):
    accounts = [a for a in generate_city().accounts if a.role == Role.RESIDENT]
    assert len(accounts) == 12
    for account in accounts:
        user = User.objects.get(username=account.username)
        own = list(queries.appeals_for(user))
        assert len(own) >= 3, account.username
        assert len({a.state for a in own}) >= 3, account.username
        waiting = [a for a in own if a.state == State.RESOLVED and a.rated_at is None]
        assert waiting, f"{account.username} has nothing to rate"
        assert all(a.resident_id == user.pk for a in own)
    first = User.objects.get(username="resident1")
    states = {a.state for a in queries.appeals_for(first)}
    assert {State.CLOSED, State.RESOLVED, State.HANDLING, State.RECEIVED} <= states


def test_residents_inboxes_hold_what_the_actions_would_have_sent(data):
    resident = User.objects.get(username="resident1")
    waiting = queries.appeals_for(resident).filter(state=State.RESOLVED, rated_at=None).first()
    with translation.override("zh-hans"):
        title = translation.gettext("Appeal %(no)s is resolved — please rate it") % {
            "no": waiting.tracking_no
        }
    message = Notification.objects.get(user=resident, object_id=waiting.tracking_no, title=title)
    assert message.read_at is None and message.link == f"/appeals/{waiting.tracking_no}/"
    assert message.body == waiting.result
    # Residents hear when their appeal is accepted, or that it was not accepted.
    told = [
        a for a in data.appeals if a.resident_id and (a.accepted_at or a.state == State.REJECTED)
    ]
    assert Notification.objects.filter(kind="appeal").count() >= len(told)
    others = Notification.objects.exclude(user_id__in={a.resident_id for a in told})
    assert not others.exists(), list(others.values_list("kind", "title")[:5])


def test_descriptions_vary_within_each_subcategory(data: SimpleNamespace) -> None:
    texts_by_category: dict[str, list[str]] = defaultdict(list)
    for a in data.appeals:
        texts_by_category[a.category.code].append(a.description)
    descriptions = [a.description for a in data.appeals]
    assert len(set(descriptions)) > 0.95 * len(descriptions)
    assert len(texts_by_category) >= 50
    for code, texts in texts_by_category.items():
        if len(texts) >= 20:
            assert len(set(texts)) > 0.8 * len(texts), code
    assert any("拉圾" in d or "反应" in d or "以经" in d for d in descriptions)  # typos
    assert all(len(d) >= 8 for d in descriptions)


# --- repeatable and audited --------------------------------------------------------------------


def test_running_it_again_creates_nothing(data):
    before = (Appeal.objects.count(), AppealEvent.objects.count(), AuditEvent.objects.count())
    output = run("--scale", str(SCALE), "--appeal-end", END.isoformat())
    after = (Appeal.objects.count(), AppealEvent.objects.count(), AuditEvent.objects.count())
    assert after == before
    assert translation.gettext("Everything was already there; nothing changed.") in output


def test_the_audit_chain_stays_whole_with_one_event_per_stage(data):
    _checked, broken = audit.verify_chain()
    assert broken is None
    verbs = list(AuditEvent.objects.order_by("seq").values_list("verb", flat=True))
    assert verbs == [
        "demo.create_places",
        "demo.create_units",
        "demo.create_accounts",
        "demo.create_residents",
        "appeal_category.load",
        "demo.configure_appeals",
        "demo.create_appeals",
    ]
    created = AuditEvent.objects.get(verb="demo.create_appeals").after["created"]
    assert created["appeals"] == len(data.appeals)
    assert created["events"] == AppealEvent.objects.count()


def test_the_summary_prints_appeal_counts_and_outbreaks(data):
    assert f"{len(data.appeals):,}" in data.output
    assert "110105002003/0103" in data.output


@pytest.fixture
def world(data):
    return demo_appeals.World.load(generate_city(), SCALE, END)


def test_the_same_seed_simulates_the_same_appeals(world):
    def simulate():
        cases = demo_appeals.Generator(world, 40).run()
        return [(c.a.tracking_no, c.a.description, c.a.state, c.a.received_at) for c in cases]

    first = simulate()
    assert first and first == simulate()
    assert {a for a, *_ in first} & {a.tracking_no for a in Appeal.objects.all()} == set()


def test_appeals_end_now_with_open_ones_when_no_end_is_given(world):
    world = dataclasses.replace(world, scale=0.05, now=dt.datetime.now(LOCAL_TZ))
    cases = demo_appeals.Generator(world, 20).run()
    assert max(c.a.received_at for c in cases) <= world.now
    states = {c.a.state for c in cases}
    assert State.RESOLVED in states and states & set(OPEN_STATES)
