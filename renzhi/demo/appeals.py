"""About eighteen months of demo appeals, ending now, each with a timeline true to its state.

Volume: a mean of `BASE_PER_DAY` appeals on an ordinary working day at scale 1, spread over the
communities by population and over the subcategories by their weight in
`renzhi.demo.categories`, shaped by the week (Mondays busy, weekends quiet), the year (heating in
winter, water, power, mosquitoes and greening in summer, each subcategory's `peak_months`), the
holidays (deep dips at the Spring Festival and National Day, from `chinese_calendar`), a slow
growth, day-to-day swings and Poisson noise; plus the local outbreaks of
`renzhi.demo.outbreaks`.

Each appeal then lives through the same steps the actions in `renzhi.appeals.actions` would
take — submit, automatic or manual accept and dispatch (the routing table decides, through
`renzhi.appeals.routing.route`), sign, progress, resolve, callback rating, reopen when not
satisfied, close; and sometimes reject, withdraw, merge into a duplicate, return, transfer,
supervise, suspend and resume, extension requests, overdue flags — setting the appeal's fields
exactly as those actions do and appending the same timeline events with the demo users who
would act. The clock stops at "now": old appeals are mostly closed, recent ones still open.
Deadlines come from `renzhi.appeals.sla` on one shared working calendar.

This is an operator job: no action runs per appeal (that would cost minutes and a million audit
events). Everything is simulated in memory (plain rows, one shared `MemoCalendar`) and written in
one transaction — COPY on PostgreSQL, executemany on SQLite, columns taken from the models — with
the residents' inbox messages, the tracking counters set to the last number used per day, and
one audit event naming what was created (and the outbreaks injected). Demo appeals carry an
`external_ref` starting with "demo-"; if any exists, nothing is generated again.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import chinese_calendar
import numpy as np
import shapely
from django.db import connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from renzhi.appeals import routing, sla
from renzhi.appeals.models import (
    Appeal,
    AppealEvent,
    Category,
    Channel,
    ExtensionRequest,
    Priority,
    Satisfaction,
    State,
    TrackingCounter,
    new_public_id,
)
from renzhi.core.models import Membership, Notification, Place, PlaceLevel, Role, Unit, User
from renzhi.core.workdays import LOCAL_TZ, WorkCalendar
from renzhi.demo import texts
from renzhi.demo.appeal_config import AMBIGUOUS, unit_code
from renzhi.demo.categories import subcategories
from renzhi.demo.city import DISTRICT_CODE, City
from renzhi.demo.names import mobile_number, person_name
from renzhi.demo.outbreaks import Outbreak, resolve

DEFAULT_APPEAL_DAYS = 548  # about eighteen months
BASE_PER_DAY = 54.0  # district-wide mean on an ordinary working day, at scale 1
EXTERNAL_REF_PREFIX = "demo-"
BATCH = 2000
JOB_MINUTES = 10  # the SLA job (`check_sla`) runs every ten minutes

ACTIVE_DISPATCHED: tuple[str, ...] = (State.DISPATCHED, State.SIGNED, State.HANDLING)
ACTIVE: tuple[str, ...] = (State.RECEIVED, State.ACCEPTED, *ACTIVE_DISPATCHED)
ACTIVE_OR_DONE: tuple[str, ...] = (*ACTIVE, State.SUSPENDED, State.RESOLVED, State.CLOSED)
CHANNEL_WEIGHTS: dict[str, float] = {
    Channel.WEB: 0.42,
    Channel.HOTLINE: 0.32,
    Channel.PATROL: 0.10,
    Channel.API: 0.09,
    Channel.IMPORT: 0.07,
}
# Share of appeals given by address only (no map point), by channel.
ADDRESS_ONLY: dict[str, float] = {
    Channel.WEB: 0.10,
    Channel.HOTLINE: 0.30,
    Channel.PATROL: 0.0,
    Channel.API: 0.15,
    Channel.IMPORT: 0.45,
}
# fmt: off
HOURS: dict[str, Sequence[float]] = {
    Channel.WEB: [1, .5, .3, .2, .2, .5, 1.5, 3, 5, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 6, 7, 6, 4, 2],
    Channel.HOTLINE: [.3, .2, .1, .1, .1, .3, 1, 3, 7, 9, 9, 8, 6, 7, 8, 8, 7, 6, 5, 5, 4, 3, 2, 1],
    Channel.PATROL: [0] * 9 + [5, 6, 5, 0, 0, 5, 6, 5, 3] + [0] * 6,
}
# fmt: on
HOURS[Channel.API] = HOURS[Channel.IMPORT] = HOURS[Channel.HOTLINE]
# When the unit says "not ours", who should it have been (by the kind of the unit returning it).
ALTERNATIVE = {
    "property": "JW",
    "community": "WY",
    "urban_management": "HW",
    "sanitation": "CG",
    "police": "CG",
    "water": "WY",
    "power": "WY",
    "gas": "WY",
    "housing": "WY",
    "health": "HW",
    "market": "CG",
    "transport": "PCS",
    "education": "JW",
    "human_resources": "JW",
    "civil_affairs": "JW",
}


@dataclass
class AppealReport:
    created: int = 0
    events: int = 0
    extensions: int = 0
    notifications: int = 0
    by_state: Counter = field(default_factory=Counter)
    outbreaks: list[Outbreak] = field(default_factory=list)
    first_day: dt.date | None = None
    last_day: dt.date | None = None


class MemoCalendar(WorkCalendar):
    """The working calendar, remembering each day's answer: one instance serves the whole run.

    Deadlines and working hours are the plain `WorkCalendar`'s (the same code runs); only the
    per-day lookups (holiday calendar, overrides, the day's working periods) are cached, which
    makes a deadline about ten times faster.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        self._working: dict[dt.date, bool] = {}
        self._periods: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = {}

    def is_working_day(self, day: dt.date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = super().is_working_day(day)
        return known

    def _day_periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        known = self._periods.get(day)
        if known is None:
            known = self._periods[day] = super()._day_periods(day)
        return known


def demo_appeals_exist() -> bool:
    return Appeal.objects.filter(external_ref__startswith=EXTERNAL_REF_PREFIX).exists()


def build_appeals(
    city: City,
    *,
    scale: float = 1.0,
    days: int = DEFAULT_APPEAL_DAYS,
    end: dt.datetime | None = None,
    say: Callable[[str], None] | None = None,
) -> AppealReport:
    """Generate and store the demo appeals, unless demo appeals exist already."""
    say = say or (lambda message: None)
    report = AppealReport()
    if scale <= 0 or demo_appeals_exist():
        return report
    end = (end or timezone.now()).astimezone(LOCAL_TZ)
    with translation.override("zh-hans"), transaction.atomic():
        world = World.load(city, scale, end)
        generator = Generator(world, days)
        cases = generator.run()
        report.outbreaks = generator.outbreaks
        report.first_day, report.last_day = generator.first_day, generator.last_day
        say(f"appeals: {len(cases)} simulated")
        _store(cases, world, report)
        from renzhi.demo.build import record

        record(
            "demo.create_appeals",
            city,
            {
                "appeals": report.created,
                "events": report.events,
                "extensions": report.extensions,
                "notifications": report.notifications,
                **{str(k): v for k, v in sorted(report.by_state.items())},
            },
            scale=scale,
            first_day=report.first_day.isoformat() if report.first_day else None,
            last_day=report.last_day.isoformat() if report.last_day else None,
            outbreaks=[o.as_dict() for o in report.outbreaks],
        )
    return report


# --- what the simulation needs from the database -----------------------------------------------


@dataclass
class Grid:
    code: str
    pk: int
    population: int
    geometry: shapely.Geometry


@dataclass
class Resident:
    pk: int
    phone: str
    name: str
    grid_code: str
    community_code: str
    username: str


@dataclass
class World:
    city: City
    seed: int
    scale: float
    now: dt.datetime
    calendar: MemoCalendar
    categories: dict[str, Category]  # subcategories by code
    place_ids: dict[str, int]
    places: dict[str, str]  # code → name
    grids: dict[str, list[Grid]]  # by community code
    units: dict[str, Unit]  # by code
    unit_codes: dict[int, str]
    handler: dict[int, int]  # unit id → its demo handler's user id
    users: dict[str, int]  # demo username → id
    residents: dict[str, list[Resident]]  # by community code
    routes: dict[tuple[str, str], routing.RouteDecision]  # (category, community) → decision
    slas: dict[tuple[str, str], sla.Sla]  # (category, priority) → rule
    counters: dict[dt.date, int]  # tracking numbers already used per day
    _streets: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, city: City, scale: float, now: dt.datetime) -> World:
        """Everything the simulation reads from the database (inside a transaction: the
        tracking counters stay locked until the appeals are stored)."""
        calendar = MemoCalendar()
        categories = {
            c.code: c
            for c in Category.objects.filter(parent__isnull=False).select_related("parent")
        }
        places = list(
            Place.objects.filter(code__startswith=DISTRICT_CODE).values_list(
                "code", "id", "name", "level", "population"
            )
        )
        geometry = {p.code: p.geometry for p in city.places}
        grids: dict[str, list[Grid]] = defaultdict(list)
        for code, pk, _name, level, population in sorted(places):
            if level == PlaceLevel.GRID and code in geometry:
                shape = geometry[code]
                shapely.prepare(shape)
                grids[code[:12]].append(Grid(code, pk, population or 1, shape))
        units = {u.code: u for u in Unit.objects.filter(code__in=[u.code for u in city.units])}
        handler: dict[int, int] = {}
        for unit_id, user_id in (
            Membership.objects.filter(
                role=Role.UNIT_HANDLER, unit_id__in=[u.pk for u in units.values()]
            )
            .order_by("user__username")
            .values_list("unit_id", "user_id")
        ):
            handler.setdefault(unit_id, user_id)
        users = dict(
            User.objects.filter(username__in=[a.username for a in city.accounts]).values_list(
                "username", "id"
            )
        )
        residents: dict[str, list[Resident]] = defaultdict(list)
        rows = (
            Membership.objects.filter(
                role=Role.RESIDENT, place__code__startswith=DISTRICT_CODE, user__is_active=True
            )
            .exclude(user__phone=None)
            .values_list(
                "user_id",
                "user__phone",
                "user__display_name",
                "user__home_place__code",
                "place__code",
                "user__username",
            )
            .order_by("user__username")
        )
        seen = set()
        for pk, phone, name, home, community, username in rows:
            # phone is never None (excluded above); the check narrows the type
            if pk in seen or not community or len(community) != 12 or phone is None:
                continue
            seen.add(pk)
            grid = home if home and home.startswith(community) and len(home) == 15 else ""
            residents[community].append(Resident(pk, phone, name, grid, community, username))
        communities = sorted(grids)
        routes = {
            (code, community): routing.route(category, community)
            for code, category in categories.items()
            for community in communities
        }
        slas = {
            (code, priority): sla.sla_for(category, priority)
            for code, category in categories.items()
            for priority in Priority.values
        }
        return cls(
            city=city,
            seed=city.seed,
            scale=scale,
            now=now,
            calendar=calendar,
            categories=categories,
            place_ids={code: pk for code, pk, *_ in places},
            places={code: name for code, _pk, name, *_ in places},
            grids=dict(grids),
            units=units,
            unit_codes={u.pk: u.code for u in units.values()},
            handler=handler,
            users=users,
            residents=dict(residents),
            routes=routes,
            slas=slas,
            # Locked until the appeals are stored: a real intake meanwhile waits, then
            # continues after the demo's numbers.
            counters=dict(TrackingCounter.objects.select_for_update().values_list("day", "last")),
        )

    def staff(self, username: str) -> int | None:
        return self.users.get(username)

    def dispatcher(self, place_code: str) -> int | None:
        """The demo dispatcher of the street (dispatcherN for the N-th street)."""
        return self.users.get(f"dispatcher{self._street_number(place_code)}")

    def street_leader(self, place_code: str) -> int | None:
        return self.users.get(f"leader{self._street_number(place_code)}")

    def _street_number(self, place_code: str) -> int:
        if not self._streets:
            streets = sorted(p.code for p in self.city.level(PlaceLevel.STREET))
            self._streets.update({code: n for n, code in enumerate(streets, start=1)})
        return self._streets[place_code[:9]]


# --- one appeal's life ------------------------------------------------------------------------


@dataclass
class Seed:
    at: dt.datetime
    community: str
    category: str
    channel: str
    outbreak: Outbreak | None = None
    grid: str | None = None
    resident: Resident | None = None
    plan: Plan | None = None  # preset for the showcase appeals of the demo resident accounts
    master_of: Seed | None = None  # a showcase duplicate names its master's seed


@dataclass
class Plan:
    """The decisions of one appeal's life, drawn up front (all optional)."""

    stop: str | None = None  # stop after reaching this state (showcase appeals)
    reject: bool = False
    withdraw: bool = False
    merge: bool = False
    return_: bool = False
    transfer: bool = False
    sign_late: bool = False
    resolve_late: bool = False
    supervise: bool = False
    extension: bool = False
    suspend: bool = False
    progress: bool = True
    comment: bool = False
    ratings: list[int | None] = field(default_factory=list)  # per cycle; None: no answer
    sign_hours: float | None = None  # forced working hours from dispatch to sign
    resolve_hours: float | None = None  # forced working hours from dispatch to resolve


class Case:
    """One appeal being lived through: the row, its timeline and its extension requests."""

    def __init__(self, sim: Generator, seed: Seed, appeal: Row, rng: random.Random):
        self.sim, self.world, self.seed, self.a, self.rng = sim, sim.world, seed, appeal, rng
        self.events: list[Event] = []
        self.extensions: list[Row] = []
        self.saves = 0
        self.master: Case | None = None
        self.overdue_at: dt.datetime | None = None
        self.ctx: texts.Context | None = None

    # the clock

    @property
    def now(self) -> dt.datetime:
        return self.world.now

    def reach(self, t: dt.datetime) -> bool:
        """Move the clock to `t`; False when `t` is after now (the story stops here)."""
        self._flag_overdue_before(t)
        return t <= self.now

    def _flag_overdue_before(self, t: dt.datetime) -> None:
        """What the SLA job would have done before `t` (and at the end, before now)."""
        a = self.a
        if a.overdue or a.state not in ACTIVE_DISPATCHED:
            return
        deadlines = [a.resolve_deadline]
        if a.state == State.DISPATCHED:
            deadlines.append(a.sign_deadline)
        due = min(d for d in deadlines if d is not None)
        if due >= min(t, self.now):
            return
        flagged = due + dt.timedelta(minutes=self.rng.randint(0, JOB_MINUTES - 1), seconds=30)
        if flagged < min(t, self.now):
            self.overdue(flagged)
        elif t >= self.now:
            self.overdue(self.now)

    def wh(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.world.calendar.add_working_hours(start, max(hours, 0.0))

    def next_working(self, moment: dt.datetime) -> dt.datetime:
        """`moment`, or the start of the next working period when it falls outside one."""
        return self.world.calendar.add_working_hours(moment, 1 / 3600) - dt.timedelta(seconds=1)

    # the timeline

    def log(
        self,
        at,
        verb,
        from_state,
        *,
        actor=None,
        role="",
        note="",
        public=True,
        automatic=False,
        unit_id=None,
        data=None,
    ) -> Event:
        event = Event(
            self.a,
            at,
            actor,
            role,
            verb,
            from_state,
            self.a.state,
            note or "",
            public,
            automatic,
            unit_id if unit_id is not None else self.a.unit_id,
            data or {},
        )
        self.events.append(event)
        return event

    def state_at(self, t: dt.datetime) -> tuple[str, int | None]:
        """(state, unit id) as of `t`, from the timeline."""
        state, unit = "", None
        for event in self.events:
            if event.at > t:
                break
            state, unit = event.to_state, event.unit_id
        return state, unit

    # the steps, as `renzhi.appeals.actions.cases` takes them

    def submit(self, actor: int | None) -> None:
        self.log(self.a.received_at, "submit", "", actor=actor, note=self.a.description[:200])

    def accept(self, t, actor=None, role="", note="") -> None:
        a = self.a
        a.state, a.accepted_at = State.ACCEPTED, t
        self.saves += 1
        automatic = actor is None
        self.log(
            t,
            "accept",
            State.RECEIVED,
            actor=actor,
            role=role,
            automatic=automatic,
            note=_("Accepted automatically.") if automatic else note,
        )

    def dispatch(self, t, unit_id, actor=None, role="", note="", verb="dispatch") -> None:
        a = self.a
        self._settle_warning(t)
        before = a.state
        rule = self.world.slas[(self.seed.category, a.priority)]
        a.sign_deadline, a.resolve_deadline = sla.deadlines(t, rule, self.world.calendar)
        a.state, a.unit_id, a.dispatched_at = State.DISPATCHED, unit_id, t
        a.first_dispatched_at = a.first_dispatched_at or t
        a.signed_at = a.signed_in_time = None
        a.overdue, a.warned_at, self.overdue_at = False, None, None
        self.saves += 1
        automatic = actor is None and verb == "dispatch"
        if automatic:
            note = _("Dispatched automatically by the routing table.")
        self.log(
            t,
            verb,
            before,
            actor=actor,
            role=role,
            note=note,
            automatic=automatic,
            unit_id=unit_id,
            data={
                "unit": self.world.unit_codes[unit_id],
                "sign_deadline": a.sign_deadline.isoformat(),
                "resolve_deadline": a.resolve_deadline.isoformat(),
            },
        )

    def sign(self, t, note="") -> None:
        a = self.a
        a.state, a.signed_at = State.SIGNED, t
        a.signed_in_time = a.sign_deadline is None or t <= a.sign_deadline
        self.saves += 1
        self.log(
            t, "sign", State.DISPATCHED, actor=self.handler(), role=Role.UNIT_HANDLER, note=note
        )

    def progress(self, t, note) -> None:
        before = self.a.state
        self.a.state = State.HANDLING
        self.saves += 1
        self.log(t, "progress", before, actor=self.handler(), role=Role.UNIT_HANDLER, note=note)

    def resolve(self, t, result) -> None:
        a = self.a
        self._settle_warning(t)
        before = a.state
        a.state, a.result, a.resolved_at = State.RESOLVED, result, t
        a.resolved_in_time = a.resolve_deadline is None or t <= a.resolve_deadline
        a.handling_hours = round(self.world.calendar.working_hours_between(a.dispatched_at, t), 3)
        a.overdue = False  # the demo keeps `overdue` for open appeals only (see the report)
        self.saves += 1
        self.log(t, "resolve", before, actor=self.handler(), role=Role.UNIT_HANDLER, note=result)

    def rate(self, t, rating, actor, role, comment) -> bool:
        """Returns True when the appeal was reopened."""
        a = self.a
        a.rating, a.satisfaction = rating, satisfaction_of(rating)
        a.feedback, a.rated_at = comment, t
        data = {"rating": rating, "satisfaction": a.satisfaction}
        if a.satisfaction == Satisfaction.UNSATISFIED:
            self.log(t, "rate", State.RESOLVED, actor=actor, role=role, note=comment, data=data)
            a.reopen_count += 1
            a.resolved_at = a.resolved_in_time = None
            self.dispatch(
                t,
                a.unit_id,
                actor,
                role,
                note=comment or _("The resident is not satisfied."),
                verb="reopen",
            )
            return True
        a.state, a.closed_at = State.CLOSED, t
        self.saves += 1
        self.log(t, "rate", State.RESOLVED, actor=actor, role=role, note=comment, data=data)
        return False

    def close(self, t, actor, role, note) -> None:
        self.a.state, self.a.closed_at = State.CLOSED, t
        self.saves += 1
        self.log(
            t, "close", State.RESOLVED, actor=actor, role=role, note=note, automatic=actor is None
        )

    def reject(self, t, actor, reason) -> None:
        before = self.a.state
        self.a.state, self.a.closed_at = State.REJECTED, t
        self.saves += 1
        self.log(t, "reject", before, actor=actor, role=Role.DISPATCHER, note=reason)

    def withdraw(self, t, reason) -> None:
        a = self.a
        self._settle_warning(t)
        before = a.state
        a.state, a.closed_at, a.overdue = State.WITHDRAWN, t, False
        self.saves += 1
        self.log(t, "withdraw", before, actor=a.resident_id, role=Role.RESIDENT, note=reason)

    def merge(self, t, master: Case, actor, role) -> None:
        a = self.a
        self._settle_warning(t)
        before = a.state
        a.state, a.overdue = State.MERGED, False
        self.master = master
        self.saves += 1
        number = master.a.tracking_no
        self.log(t, "merge", before, actor=actor, role=role, note=number, data={"into": number})
        state, unit = master.state_at(t)
        event = Event(
            master.a,
            t,
            actor,
            role,
            "absorb",
            state,
            state,
            a.tracking_no,
            False,
            False,
            unit,
            {"merged": a.tracking_no},
        )
        master.events.append(event)  # absorbing writes an event only
        master.events.sort(key=lambda e: e.at)

    def supervise(self, t, actor, role, note) -> None:
        a = self.a
        a.supervised, a.priority = True, Priority.URGENT
        a.supervise_count += 1
        self.saves += 1
        self.log(t, "supervise", a.state, actor=actor, role=role, note=note, public=False)

    def suspend(self, t, actor, reason) -> None:
        a = self.a
        before = a.state
        a.state_before_suspend, a.state, a.suspended_at = before, State.SUSPENDED, t
        self.saves += 1
        self.log(t, "suspend", before, actor=actor, role=Role.DISPATCHER, note=reason)

    def resume(self, t, actor, note) -> None:
        a = self.a
        # `Row` carries the Appeal's columns, which is all `shift_for_suspension` touches.
        sla.shift_for_suspension(cast(Appeal, a), a.suspended_at, t, self.world.calendar)
        a.state, a.state_before_suspend, a.suspended_at = a.state_before_suspend, "", None
        self.saves += 1
        self.log(t, "resume", State.SUSPENDED, actor=actor, role=Role.DISPATCHER, note=note)

    def return_(self, t, reason) -> None:
        a = self.a
        self._settle_warning(t)
        before, unit = a.state, a.unit_id
        actor = self.handler()
        a.state, a.unit_id = State.ACCEPTED, None
        a.return_count += 1
        a.sign_deadline = a.resolve_deadline = None
        a.overdue = False
        self.saves += 1
        self.log(
            t,
            "return",
            before,
            actor=actor,
            role=Role.UNIT_HANDLER,
            note=reason,
            public=False,
            unit_id=unit,
        )

    def transfer(self, t, unit_id, actor, reason) -> None:
        self.a.transfer_count += 1
        self.dispatch(t, unit_id, actor, Role.DISPATCHER, note=reason, verb="transfer")

    def request_extension(self, t, days, reason) -> Row:
        request = Row(
            EXTENSION_DEFAULTS,
            appeal=self.a,
            requested_by_id=self.handler(),
            days=days,
            reason=reason,
            created_at=t,
        )
        self.extensions.append(request)
        self.log(
            t,
            "request_extension",
            self.a.state,
            actor=self.handler(),
            role=Role.UNIT_HANDLER,
            note=reason,
            public=False,
            data={"days": days},
        )
        return request

    def decide_extension(self, t, request, approve, actor, note) -> None:
        a = self.a
        request.status = (
            ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
        )
        request.decided_by_id, request.decided_at = actor, t
        if approve and a.resolve_deadline:
            a.resolve_deadline = sla.extend(a.resolve_deadline, request.days, self.world.calendar)
            self.saves += 1
        self.log(
            t,
            "approve_extension" if approve else "reject_extension",
            a.state,
            actor=actor,
            role=Role.DISPATCHER,
            note=note,
            public=False,
            data={"days": request.days},
        )

    def comment(self, t, actor, role, note) -> None:
        self.log(t, "comment", self.a.state, actor=actor, role=role, note=note, public=False)

    def overdue(self, t) -> None:
        self.a.overdue, self.overdue_at = True, t
        self.saves += 1
        self.log(t, "overdue", self.a.state, public=False, automatic=True)

    def _settle_warning(self, leaving: dt.datetime) -> None:
        """The near-deadline warning the SLA job gave during this dispatch, if any."""
        a = self.a
        if a.warned_at is not None or a.state not in ACTIVE_DISPATCHED or not a.resolve_deadline:
            return
        rule = self.world.slas[(self.seed.category, a.priority)]
        total = self.world.calendar.working_hours_between(a.dispatched_at, a.resolve_deadline)
        warn = self.wh(a.dispatched_at, total * rule.warn_ratio)
        warn += dt.timedelta(minutes=self.rng.randint(0, JOB_MINUTES - 1))
        if warn < min(leaving, self.now, a.resolve_deadline) and (
            self.overdue_at is None or warn < self.overdue_at
        ):
            a.warned_at = warn

    def handler(self) -> int | None:
        return self.world.handler.get(self.a.unit_id) if self.a.unit_id else None

    def finish(self) -> None:
        self._flag_overdue_before(self.now)
        if self.a.state in ACTIVE_DISPATCHED:
            self._settle_warning(self.now)
        self.a.version = 1 + self.saves
        self.events.sort(key=lambda e: e.at)  # stable: same-moment steps keep their order


class Row:
    """A row in memory: the model's columns (by attname) as attributes, from `defaults` up."""

    def __init__(self, defaults: dict[str, Any], **values: Any) -> None:
        self.__dict__.update(defaults)
        self.__dict__.update(values)
        self.pk: int | None = None

    if TYPE_CHECKING:
        # The columns are set dynamically from the model's attnames; each is typed as Any.
        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...


class Event:
    """A timeline event in memory (the columns of `AppealEvent`)."""

    __slots__ = (
        "actor_id",
        "actor_role",
        "appeal",
        "at",
        "automatic",
        "data",
        "from_state",
        "note",
        "public",
        "to_state",
        "unit_id",
        "verb",
    )

    def __init__(
        self,
        appeal,
        at,
        actor_id,
        actor_role,
        verb,
        from_state,
        to_state,
        note,
        public,
        automatic,
        unit_id,
        data,
    ):
        self.appeal, self.at, self.actor_id, self.actor_role = appeal, at, actor_id, actor_role
        self.verb, self.from_state, self.to_state, self.note = verb, from_state, to_state, note
        self.public, self.automatic, self.unit_id, self.data = public, automatic, unit_id, data

    @property
    def appeal_id(self) -> int | None:
        return self.appeal.pk


def _defaults(model) -> dict:
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key}


APPEAL_DEFAULTS = _defaults(Appeal)
EXTENSION_DEFAULTS = _defaults(ExtensionRequest)


def satisfaction_of(rating: int) -> str:
    # As `renzhi.appeals.actions.satisfaction_of`.
    if rating >= 4:
        return Satisfaction.SATISFIED
    return Satisfaction.BASIC if rating == 3 else Satisfaction.UNSATISFIED


# --- the generator ----------------------------------------------------------------------------


class Generator:
    def __init__(self, world: World, days: int):
        self.world = world
        self.rng = random.Random(f"{world.seed}:appeals")
        self.np_rng = np.random.default_rng([world.seed, 4])
        self.last_day = world.now.date()
        self.first_day = self.last_day - dt.timedelta(days=max(days, 1) - 1)
        self.outbreaks = resolve(self.first_day, self.last_day, world.scale)
        self.subs = [s for s in subcategories() if s["code"] in world.categories]
        self.communities = sorted(world.grids)
        self.numbers: dict[dt.date, int] = {}
        self.recent: dict[tuple[str, str], list[Case]] = defaultdict(list)
        quality = random.Random(f"{world.seed}:unit-quality")
        # Some units are slower or less liked than others, so rankings mean something.
        self.quality = {
            code: (
                quality.uniform(0.03, 0.14),
                quality.uniform(0.04, 0.2),
                quality.uniform(-0.3, 0.5),
            )
            for code in sorted(world.units)
        }
        activity = random.Random(f"{world.seed}:activity")
        self.activity = {
            c: [activity.paretovariate(1.6) for _ in world.residents.get(c, [])]
            for c in self.communities
        }
        self.sequence = 0

    # volume

    def run(self) -> list[Case]:
        seeds = self.seeds() + self.showcase()
        seeds.sort(key=lambda s: s.at)
        cases: list[Case] = []
        by_seed: dict[int, Case] = {}
        for seed in seeds:
            case = self.live(seed, by_seed)
            if case is not None:
                cases.append(case)
                by_seed[id(seed)] = case
        return cases

    def seeds(self) -> list[Seed]:
        days = [
            self.first_day + dt.timedelta(days=k)
            for k in range((self.last_day - self.first_day).days + 1)
        ]
        means = self.daily_means(days)
        counts = self.np_rng.poisson(means)
        seeds = []
        rng = self.rng
        for d, c, k in zip(*np.nonzero(counts), strict=True):
            for _n in range(int(counts[d, c, k])):
                seed = self.seed(days[d], self.communities[c], self.subs[k]["code"], rng)
                if seed is not None:
                    seeds.append(seed)
        for outbreak in self.outbreaks:
            seeds += self.outbreak_seeds(outbreak)
        return [s for s in seeds if s.at <= self.world.now]

    def daily_means(self, days: list[dt.date]) -> np.ndarray:
        world = self.world
        n = len(days)
        day = np.array([_day_factor(d, world.calendar) for d in days])
        trend = np.linspace(0.9, 1.1, n)
        swings = self.np_rng.gamma(25.0, 1 / 25.0, n)
        population = np.array(
            [sum(g.population for g in world.grids[c]) for c in self.communities], dtype=float
        )
        propensity = self.np_rng.lognormal(-0.01, 0.15, len(self.communities))
        share = population * propensity / (population * propensity).sum()
        weights = np.array([s["weight"] for s in self.subs], dtype=float)
        season = np.array([[_season(s, d) for s in self.subs] for d in days])  # (n, K)
        mix = weights * season / weights.sum()
        affinity = self.np_rng.lognormal(-0.06, 0.35, (len(self.communities), len(self.subs)))
        total = BASE_PER_DAY * world.scale * day * trend * swings  # (n,)
        return total[:, None, None] * share[None, :, None] * mix[:, None, :] * affinity[None]

    def seed(self, day: dt.date, community: str, category: str, rng: random.Random) -> Seed | None:
        channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        working = self.world.calendar.is_working_day(day)
        if channel == Channel.PATROL and (category not in texts.PATROL or not working):
            channel = Channel.HOTLINE
        if channel == Channel.WEB and not self.world.residents.get(community):
            channel = Channel.HOTLINE
        hour = rng.choices(range(24), weights=HOURS[channel])[0]
        at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), LOCAL_TZ)
        return Seed(at, community, category, channel)

    def outbreak_seeds(self, outbreak: Outbreak) -> list[Seed]:
        rng = random.Random(
            f"{self.world.seed}:outbreak:{outbreak.community_code}:{outbreak.start}"
        )
        grids = self.world.grids.get(outbreak.community_code)
        if not grids or outbreak.category_code not in self.world.categories:
            return []
        grid = max(grids, key=lambda g: (g.population, g.code)).code
        seeds = []
        for k, day in enumerate(outbreak.dates):
            first = dt.datetime.combine(
                day, dt.time(rng.randint(6, 9), rng.randrange(60)), LOCAL_TZ
            )
            if k:
                first = first.replace(hour=rng.randint(7, 10))
            for _n in range(outbreak.extra_per_day):
                at = first + dt.timedelta(minutes=rng.expovariate(1 / 150))
                at = min(at, dt.datetime.combine(day, dt.time(23, 59), LOCAL_TZ))
                channel = rng.choices([Channel.WEB, Channel.HOTLINE, Channel.API], [5, 4, 1])[0]
                if channel == Channel.WEB and not self.world.residents.get(outbreak.community_code):
                    channel = Channel.HOTLINE
                seeds.append(
                    Seed(
                        at,
                        outbreak.community_code,
                        outbreak.category_code,
                        channel,
                        outbreak=outbreak,
                        grid=grid,
                    )
                )
        return seeds

    # the demo resident accounts: a few appeals each, in several states

    def showcase(self) -> list[Seed]:
        world = self.world
        communities = self.communities
        seeds: list[Seed] = []
        by_username = {r.username: r for rs in world.residents.values() for r in rs}
        for n, community in enumerate(communities, start=1):
            resident = by_username.get(f"resident{n}")
            if resident is None:
                continue
            wanted = SHOWCASE.get(n, SHOWCASE_DEFAULT if n % 2 else SHOWCASE_EVEN)
            for target in wanted:
                seeds += self.showcase_seeds(target, resident, community)
        return seeds

    def showcase_seeds(self, target: str, resident: Resident, community: str) -> list[Seed]:
        rng = random.Random(f"{self.world.seed}:showcase:{resident.username}:{target}")
        spec = SHOWCASE_PLANS[target]
        category = spec["category"]
        at = self.working_time_before(spec["hours"] + rng.uniform(0, 0.5))
        if "minutes" in spec:
            at = self.world.now - dt.timedelta(minutes=spec["minutes"] + rng.randint(0, 10))
        plan = Plan(**spec["plan"])
        seed = Seed(
            at,
            community,
            category,
            Channel.WEB,
            grid=resident.grid_code or None,
            resident=resident,
            plan=plan,
        )
        if target != "merged":
            return [seed]
        master = Seed(
            at - dt.timedelta(hours=1),
            community,
            category,
            Channel.HOTLINE,
            grid=resident.grid_code or None,
            plan=Plan(stop=State.HANDLING),
        )
        seed.master_of = master
        return [master, seed]

    def working_time_before(self, hours: float) -> dt.datetime:
        """The latest moment (to 15 minutes) at least `hours` working hours before now."""
        cal, now = self.world.calendar, self.world.now
        candidate = now
        while cal.working_hours_between(candidate, now) < hours:
            candidate -= dt.timedelta(days=1)
        step = dt.timedelta(minutes=15)
        while candidate + step < now and cal.working_hours_between(candidate + step, now) >= hours:
            candidate += step
        return candidate

    # one appeal

    def live(self, seed: Seed, by_seed: dict[int, Case]) -> Case | None:
        world, rng = self.world, self.rng
        category = world.categories[seed.category]
        community = seed.community
        grids = world.grids[community]
        resident = seed.resident
        if seed.channel == Channel.WEB and resident is None:
            pool = world.residents[community]
            resident = rng.choices(pool, weights=self.activity[community])[0]
        grid_code = seed.grid
        if grid_code is None:
            if resident is not None and resident.grid_code and rng.random() < 0.75:
                grid_code = resident.grid_code
            else:
                grid_code = rng.choices(grids, weights=[g.population for g in grids])[0].code
        grid = next(g for g in grids if g.code == grid_code)
        ctx = texts.Context(community, world.places[community], community[:9])
        if resident is not None:
            ctx.estate, ctx.bld, ctx.unit, ctx.room = texts.home_of(resident.phone, community)
        if seed.outbreak is not None:
            pool_rng = random.Random(f"{world.seed}:{seed.outbreak.start}:{community}")
            ctx.estate = pool_rng.choice(texts.ESTATES.get(community) or ["本小区"])
            first = pool_rng.randint(1, 28)
            ctx.bld_pool = [first, first + 1, first + 2, first + 4]
            ctx.bld = None
        keyword = seed.outbreak.keyword if seed.outbreak else None
        text, urgent = texts.description(seed.category, seed.channel, rng, ctx, keyword=keyword)
        priority = (
            Priority.URGENT
            if (urgent and rng.random() < 0.85) or rng.random() < 0.015
            else Priority.NORMAL
        )

        # where: a map point in the grid, or an address only
        lat = lng = None
        place_code = grid.code
        grid_id: int | None = grid.pk
        if rng.random() >= ADDRESS_ONLY[seed.channel] or seed.channel == Channel.PATROL:
            lng, lat = _point_in(grid.geometry, rng)
        elif seed.channel == Channel.WEB:
            if resident is not None and resident.grid_code:
                place_code = resident.grid_code
                grid_id = world.place_ids[place_code]
            else:
                lng, lat = _point_in(grid.geometry, rng)
        elif seed.outbreak is None and rng.random() < 0.7:
            place_code, grid_id = community, None
        address = ""
        if seed.channel != Channel.WEB or lat is None or rng.random() < 0.5:
            address = _address(rng, ctx, seed.channel)

        # who
        created_by, contact_name, contact_phone = None, "", ""
        if seed.channel == Channel.WEB:
            assert resident is not None  # drawn above for every web appeal
            created_by, contact_name, contact_phone = resident.pk, resident.name, resident.phone
        elif seed.channel == Channel.PATROL:
            created_by = world.staff(f"grid_{place_code}") if len(place_code) == 15 else None
        else:
            if seed.channel == Channel.HOTLINE:
                created_by = (
                    world.dispatcher(community)
                    if rng.random() < 0.5
                    else world.staff(f"staff_{community}")
                )
            elif seed.channel == Channel.API:
                created_by = world.staff("admin")
            else:
                created_by = world.dispatcher(community)
            name = person_name(rng)
            contact_name = name if rng.random() < 0.4 else name[0] + rng.choice(["先生", "女士"])
            contact_phone = mobile_number(rng)

        self.sequence += 1
        appeal = Row(
            APPEAL_DEFAULTS,
            public_id=new_public_id(),  # a default drawn per appeal, not once for all
            tracking_no=self.tracking_no(seed.at),
            channel=seed.channel,
            state=State.RECEIVED,
            priority=priority,
            category_id=category.pk,
            category_top_id=category.parent_id,
            title=text[:30].strip(),
            description=text,
            lat=lat,
            lng=lng,
            address=address,
            grid_id=grid_id,
            community_id=world.place_ids[community],
            street_id=world.place_ids[community[:9]],
            place_code=place_code,
            resident_id=resident.pk if seed.channel == Channel.WEB and resident else None,
            contact_name=contact_name[:50],
            contact_phone=contact_phone,
            anonymous=seed.channel == Channel.WEB and rng.random() < 0.12,
            created_by_id=created_by,
            external_ref=f"{EXTERNAL_REF_PREFIX}{self.sequence:07d}",
            received_at=seed.at,
            extra={},
        )
        case = Case(self, seed, appeal, rng)
        case.ctx = ctx
        plan = seed.plan or self.plan(seed, case)
        master = by_seed.get(id(seed.master_of)) if seed.master_of else None
        if plan.merge and master is None:
            master = self.find_master(case)
        self.lifecycle(case, plan, master)
        case.finish()
        self.recent[(community, seed.category)].append(case)
        return case

    def tracking_no(self, at: dt.datetime) -> str:
        day = at.astimezone(LOCAL_TZ).date()
        number = self.numbers.get(day, self.world.counters.get(day, 0)) + 1
        self.numbers[day] = number
        return f"RZ{day:%Y%m%d}-{number:06d}"

    def find_master(self, case: Case) -> Case | None:
        """An open appeal of the same kind in the same community in the last three days."""
        key = (case.seed.community, case.seed.category)
        recent = self.recent[key]
        since = case.a.received_at - dt.timedelta(days=3)
        while recent and recent[0].a.received_at < since - dt.timedelta(days=4):
            recent.pop(0)
        for other in reversed(recent):
            if other.a.received_at < since:
                break
            # A master that ends merged, rejected or withdrawn itself would leave its
            # duplicates pointing at a dead end; the dispatcher would pick another.
            if other.a.state in ACTIVE_OR_DONE and other.state_at(case.a.received_at)[0] in ACTIVE:
                return other
        return None

    def plan(self, seed: Seed, case: Case) -> Plan:
        rng = self.rng
        plan = Plan()
        queue = seed.category in AMBIGUOUS
        web = seed.channel == Channel.WEB
        plan.reject = queue and rng.random() < 0.12
        plan.withdraw = web and rng.random() < 0.035
        plan.merge = rng.random() < (0.45 if seed.outbreak else 0.1)
        r = rng.random()
        plan.return_ = not queue and r < 0.03
        plan.transfer = 0.03 <= r < 0.05
        route = self.world.routes[(seed.category, seed.community)]
        unit = (
            route.unit.code
            if route.unit
            else (route.candidates[0].code if route.candidates else "")
        )
        sign_late, resolve_late, bias = self.quality.get(unit, (0.08, 0.1, 0.0))
        plan.sign_late = rng.random() < sign_late
        plan.resolve_late = rng.random() < resolve_late
        plan.supervise = rng.random() < (0.35 if plan.resolve_late else 0.015)
        plan.extension = rng.random() < (0.3 if plan.resolve_late else 0.02)
        plan.suspend = rng.random() < 0.01
        plan.progress = rng.random() < 0.65
        plan.comment = rng.random() < 0.04
        plan.ratings = [self.rating(rng, cycle, plan.resolve_late, bias, web) for cycle in range(3)]
        return plan

    @staticmethod
    def rating(rng: random.Random, cycle: int, late: bool, bias: float, web: bool) -> int | None:
        """The resident's rating after the `cycle`-th resolution, or None: no answer."""
        # After a reopen, fewer answer the second callback; an unsatisfied rating then stays.
        reached = (0.82 if web else 0.88) if cycle == 0 else 0.3
        if rng.random() >= reached:
            return None
        if cycle == 0:
            weights = [0.34, 0.22, 0.17, 0.13, 0.14] if late else [0.54, 0.21, 0.13, 0.06, 0.06]
        else:
            weights = [0.45, 0.25, 0.18, 0.06, 0.06]
        weights = weights[:3] + [w * (1 + bias) for w in weights[3:]]
        if cycle == 2:
            weights = weights[:3]
        return 5 - rng.choices(range(len(weights)), weights=weights)[0]

    # the life of one appeal, step by step until now

    def lifecycle(self, case: Case, plan: Plan, master: Case | None) -> None:
        world, rng, a, seed = self.world, case.rng, case.a, case.seed
        case.submit(a.created_by_id)
        route = world.routes[(seed.category, seed.community)]
        dispatcher = world.dispatcher(seed.community)
        intake = a.received_at
        if seed.channel == Channel.IMPORT:  # imported in the next working morning's batch
            day = a.received_at.date() + dt.timedelta(days=1)
            while not world.calendar.is_working_day(day):
                day += dt.timedelta(days=1)
            intake = dt.datetime.combine(day, dt.time(10, rng.randrange(60)), LOCAL_TZ)
        if (
            route.unit is not None
            and not plan.reject
            and plan.stop not in (State.RECEIVED, State.ACCEPTED)
        ):
            if not case.reach(intake):
                return
            case.accept(intake)
            case.dispatch(intake, route.unit.pk)
        else:
            accept_at = case.wh(intake, rng.uniform(0.05, 1.2))
            if plan.withdraw and rng.random() < 0.3:
                withdraw_at = a.received_at + (accept_at - a.received_at) * rng.uniform(0.2, 0.9)
                if case.reach(withdraw_at):
                    case.withdraw(withdraw_at, texts.pick(texts.WITHDRAW_REASONS, rng))
                return
            if plan.stop == State.RECEIVED or not case.reach(accept_at):
                return
            if plan.reject:
                case.reject(accept_at, dispatcher, texts.pick(texts.REJECT_REASONS, rng))
                return
            case.accept(accept_at, dispatcher, Role.DISPATCHER)
            dispatch_at = case.wh(accept_at, rng.uniform(0.02, 0.4))
            if plan.stop == State.ACCEPTED or not case.reach(dispatch_at):
                return
            candidates = route.candidates or [world.units[unit_code("CG", seed.community)]]
            unit = route.unit or rng.choice(candidates)
            case.dispatch(
                dispatch_at,
                unit.pk,
                dispatcher,
                Role.DISPATCHER,
                note=texts.pick(texts.DISPATCH_NOTES, rng),
            )
        if master is not None:
            sign = world.slas[(seed.category, a.priority)].sign_hours
            merge_at = case.wh(a.dispatched_at, sign * rng.uniform(0.05, 0.5))
            if case.reach(merge_at):
                state, _unit = master.state_at(merge_at)
                if state in (State.MERGED, State.REJECTED, State.WITHDRAWN, ""):
                    master = None
                else:
                    who = (
                        dispatcher if rng.random() < 0.7 else world.staff(f"staff_{seed.community}")
                    )
                    role = Role.DISPATCHER if who == dispatcher else Role.COMMUNITY_STAFF
                    case.merge(merge_at, master, who, role)
                    return
            else:
                return
        self.unit_cycles(case, plan, dispatcher)

    def unit_cycles(self, case: Case, plan: Plan, dispatcher: int | None) -> None:
        world, rng, a, seed = self.world, case.rng, case.a, case.seed
        for cycle in range(3):
            rule = world.slas[(seed.category, a.priority)]
            if cycle == 0 and (plan.return_ or plan.transfer):
                other = self.other_unit(a.unit_id, seed.community)
                moved_at = case.wh(a.dispatched_at, rng.uniform(0.1, 1.5))
                if not case.reach(moved_at):
                    return
                if plan.return_:
                    case.return_(moved_at, texts.pick(texts.RETURN_REASONS, rng))
                    again = case.wh(moved_at, rng.uniform(0.1, 2.0))
                    if not case.reach(again):
                        return
                    if rng.random() < 0.2:
                        case.reject(again, dispatcher, texts.pick(texts.REJECT_REASONS, rng))
                        return
                    case.dispatch(
                        again,
                        other,
                        dispatcher,
                        Role.DISPATCHER,
                        note=texts.pick(texts.DISPATCH_NOTES, rng),
                    )
                else:
                    name = world.units[world.unit_codes[other]].name
                    case.transfer(
                        moved_at,
                        other,
                        dispatcher,
                        texts.pick(texts.TRANSFER_REASONS, rng, unit=name),
                    )
            start = a.dispatched_at
            if plan.sign_hours is not None:
                sign_h = plan.sign_hours
            elif plan.sign_late and cycle == 0:
                sign_h = rule.sign_hours * rng.uniform(1.05, 4.0)
            else:
                sign_h = rule.sign_hours * rng.uniform(0.02, 0.95) ** 1.5
            sign_at = case.wh(start, sign_h)
            if plan.withdraw and cycle == 0 and a.resident_id:
                withdraw_at = start + (sign_at - start) * rng.uniform(0.1, 0.9)
                if case.reach(withdraw_at):
                    case.withdraw(withdraw_at, texts.pick(texts.WITHDRAW_REASONS, rng))
                return
            if plan.stop == State.DISPATCHED or not case.reach(sign_at):
                return
            case.sign(sign_at, texts.pick(texts.SIGN_NOTES, rng))
            if plan.stop == State.SIGNED:
                return
            budget = rule.resolve_days * world.calendar.hours_per_day
            if plan.resolve_hours is not None:
                resolve_h = plan.resolve_hours
            elif plan.resolve_late and cycle == 0:
                resolve_h = budget * rng.uniform(1.03, 2.0)
            else:
                resolve_h = budget * min(0.97, max(0.02, rng.betavariate(1.3, 3.0)))
            resolve_h = max(resolve_h, sign_h + rng.uniform(0.1, 0.5))
            if not self.handle(case, plan, cycle, start, sign_h, resolve_h, dispatcher):
                return
            if plan.stop == State.RESOLVED:
                return
            if not self.feedback(case, plan, cycle, dispatcher):
                return

    def handle(
        self,
        case: Case,
        plan: Plan,
        cycle: int,
        start: dt.datetime,
        sign_h: float,
        resolve_h: float,
        dispatcher: int | None,
    ) -> bool:
        """From signed to resolved; False if the story stopped before the resolution.

        The steps in between (progress notes, internal notes, supervision, an extension request
        and its decision, a suspension) happen in time order; time spent suspended pushes every
        later step, the resolution included.
        """
        world, rng, a, seed = self.world, case.rng, case.a, case.seed
        span = resolve_h - sign_h
        planned: list[tuple[float, str]] = []
        if plan.progress or plan.stop == State.HANDLING:
            planned.append((sign_h + span * rng.uniform(0.1, 0.7), "progress"))
            if span > 14 and rng.random() < 0.4:
                planned.append((sign_h + span * rng.uniform(0.7, 0.9), "progress"))
        if plan.comment:
            planned.append((sign_h + span * rng.uniform(0.0, 0.9), "comment"))
        if plan.supervise and cycle == 0:
            rule = world.slas[(seed.category, a.priority)]
            budget = rule.resolve_days * world.calendar.hours_per_day
            supervise_h = (
                budget * rng.uniform(0.85, 1.1)
                if plan.resolve_late
                else span * rng.uniform(0.2, 0.8)
            )
            planned.append((min(max(supervise_h, sign_h + 0.05), resolve_h - 0.05), "supervise"))
        if plan.extension and cycle == 0 and span > 2:
            planned.append((sign_h + span * rng.uniform(0.3, 0.6), "extension"))
        if (plan.suspend or plan.stop == State.SUSPENDED) and cycle == 0:
            planned.append((sign_h + span * rng.uniform(0.1, 0.3), "suspend"))
        queue: list[tuple[dt.datetime, int, str, Row | None]] = [
            (case.wh(start, hours), n, kind, None) for n, (hours, kind) in enumerate(planned)
        ]
        resolved_at = case.wh(start, resolve_h)
        heapq.heapify(queue)
        while queue:
            at, n, kind, request = heapq.heappop(queue)
            if not case.reach(at):
                return False
            if kind == "progress":
                case.progress(at, texts.pick(texts.PROGRESS, rng, case.ctx))
            elif kind == "comment":
                who = world.staff(f"staff_{seed.community}")
                case.comment(at, who, Role.COMMUNITY_STAFF, texts.pick(texts.COMMENTS, rng))
            elif kind == "supervise" and a.state in ACTIVE:
                roll = rng.random()
                who, role = dispatcher, Role.DISPATCHER
                if roll < 0.2:
                    who, role = world.street_leader(seed.community), Role.LEADER
                elif roll < 0.3:
                    who, role = world.staff("leader"), Role.LEADER
                case.supervise(at, who, role, texts.pick(texts.SUPERVISE_NOTES, rng))
            elif kind == "extension" and a.state in (State.SIGNED, State.HANDLING):
                days = float(rng.choice([2, 3, 5, 5, 10]))
                request = case.request_extension(at, days, texts.pick(texts.EXTENSION_REASONS, rng))
                decide_at = min(case.wh(at, rng.uniform(0.2, 4.0)), at + (resolved_at - at) / 2)
                heapq.heappush(queue, (decide_at, n, "decide", request))
            elif kind == "decide":
                approve = rng.random() < 0.8
                note = "" if approve else texts.pick(texts.EXTENSION_REFUSALS, rng)
                case.decide_extension(at, request, approve, dispatcher, note)
            elif kind == "suspend" and a.state in (State.SIGNED, State.HANDLING) and not a.overdue:
                case.suspend(at, dispatcher, texts.pick(texts.SUSPEND_REASONS, rng))
                if plan.stop == State.SUSPENDED:
                    return False
                resume_at = at + dt.timedelta(days=rng.uniform(2, 10))
                resume_at = case.next_working(resume_at) + dt.timedelta(minutes=rng.randint(5, 90))
                if not case.reach(resume_at):
                    return False
                case.resume(resume_at, dispatcher, texts.pick(texts.RESUME_NOTES, rng))
                pause = resume_at - at
                queue = [(t + pause, m, k, r) for t, m, k, r in queue]
                heapq.heapify(queue)
                resolved_at = case.next_working(resolved_at + pause)
        if plan.stop == State.HANDLING or not case.reach(resolved_at):
            return False
        kind = world.units[world.unit_codes[a.unit_id]].kind
        result = texts.pick(texts.RESULTS.get(kind) or texts.RESULTS["other"], rng, case.ctx)
        case.resolve(resolved_at, result)
        return True

    def feedback(self, case: Case, plan: Plan, cycle: int, dispatcher: int | None) -> bool:
        """The callback after a resolution; True when it reopened the appeal."""
        world, rng, a, seed = self.world, case.rng, case.a, case.seed
        rating = plan.ratings[cycle] if cycle < len(plan.ratings) else 4
        web = a.resident_id is not None
        if rating is None:
            close_at = a.resolved_at + dt.timedelta(days=rng.uniform(3, 7))
            if not case.reach(close_at):
                return False
            if rng.random() < 0.3:
                case.close(close_at, None, "", _demo_auto_close_note())
            else:
                close_at = case.wh(close_at, rng.uniform(0, 3))
                if not case.reach(close_at):
                    return False
                case.close(
                    close_at, dispatcher, Role.DISPATCHER, texts.pick(texts.CLOSE_NOTES, rng)
                )
            return False
        if web:
            rate_at = a.resolved_at + dt.timedelta(hours=0.3 + rng.expovariate(1 / 18))
            actor, role = a.resident_id, Role.RESIDENT
        else:
            rate_at = case.wh(a.resolved_at, rng.uniform(0.5, 10))
            if rng.random() < 0.6:
                actor, role = dispatcher, Role.DISPATCHER
            else:
                actor, role = world.staff(f"staff_{seed.community}"), Role.COMMUNITY_STAFF
        if not case.reach(rate_at):
            return False
        kind = satisfaction_of(rating)
        comment = texts.pick(texts.FEEDBACK[str(kind)], rng)
        return case.rate(rate_at, rating, actor, role, comment)

    def other_unit(self, unit_id: int | None, community: str) -> int:
        current = self.world.units[self.world.unit_codes[unit_id]] if unit_id else None
        prefix = ALTERNATIVE.get(current.kind if current else "", "CG")
        other = self.world.units.get(unit_code(prefix, community))
        if other is None or other.pk == unit_id:
            other = self.world.units[unit_code("JW", community)]
        return other.pk


def _demo_auto_close_note() -> str:
    return "回访期满未评价，系统自动办结。"


# Showcase appeals of the printed demo resident accounts: target state → category, how many
# working hours before now they were received, and the forced plan.
SHOWCASE_PLANS: dict[str, dict] = {
    "closed": {"category": "0801", "hours": 180, "plan": {"ratings": [5], "progress": True}},
    "closed_reopened": {
        "category": "0805",
        "hours": 120,
        "plan": {"ratings": [2, 4], "progress": True, "resolve_hours": 10},
    },
    "resolved": {
        "category": "0802",
        "hours": 12,
        "plan": {"stop": State.RESOLVED, "sign_hours": 0.4, "resolve_hours": 6},
    },
    "handling": {
        "category": "0805",
        "hours": 8,
        "plan": {"stop": State.HANDLING, "sign_hours": 0.3, "resolve_hours": 6},
    },
    "signed": {"category": "0201", "hours": 2, "plan": {"stop": State.SIGNED, "sign_hours": 0.5}},
    "dispatched": {
        "category": "0106",
        "hours": 0,
        "minutes": 40,
        "plan": {"stop": State.DISPATCHED},
    },
    "received": {"category": "0203", "hours": 0, "minutes": 25, "plan": {"stop": State.RECEIVED}},
    "accepted": {"category": "0904", "hours": 3, "plan": {"stop": State.ACCEPTED}},
    "rejected": {"category": "0203", "hours": 10, "plan": {"reject": True}},
    "withdrawn": {"category": "0802", "hours": 6, "plan": {"withdraw": True, "sign_hours": 1.8}},
    "suspended": {
        "category": "0806",
        "hours": 20,
        "plan": {"stop": State.SUSPENDED, "sign_hours": 0.5, "resolve_hours": 60},
    },
    "merged": {"category": "0801", "hours": 6, "plan": {"merge": True}},
}
SHOWCASE = {
    1: ["closed", "closed_reopened", "resolved", "handling", "received"],
    2: ["closed", "resolved", "dispatched", "withdrawn", "signed"],
    3: ["closed", "resolved", "accepted", "rejected"],
    4: ["closed", "resolved", "suspended", "merged"],
}
SHOWCASE_DEFAULT = ["closed", "resolved", "handling"]
SHOWCASE_EVEN = ["closed", "resolved", "dispatched"]


# --- volume shapes ----------------------------------------------------------------------------


def _day_factor(day: dt.date, calendar: WorkCalendar) -> float:
    """Relative volume of a day: the week, the holidays."""
    holiday = None
    try:
        is_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        if not is_holiday:
            holiday = None
    except NotImplementedError:
        pass
    if holiday == chinese_calendar.Holiday.spring_festival.value:
        return 0.38
    if holiday == chinese_calendar.Holiday.national_day.value:
        return 0.55
    if holiday:
        return 0.7
    if not calendar.is_working_day(day):
        return 0.68
    return {0: 1.12, 4: 0.95}.get(day.weekday(), 1.0)


# Heating season in Beijing: 15 November to 15 March; complaints peak when it starts.
def _heating(day: dt.date) -> float:
    m, d = day.month, day.day
    if m == 11:
        return 0.8 if d < 15 else 4.5
    if m == 3:
        return 1.6 if d <= 15 else 0.5
    return {12: 3.0, 1: 2.8, 2: 2.2, 4: 0.15, 10: 0.3}.get(m, 0.05)


MONTHLY: dict[str, dict[int, float]] = {
    # mosquitoes, flies and rats: the warm months
    "0205": {
        1: 0.15,
        2: 0.15,
        3: 0.2,
        4: 0.4,
        5: 0.8,
        6: 2.2,
        7: 3.2,
        8: 3.2,
        9: 1.8,
        10: 0.6,
        11: 0.2,
        12: 0.15,
    },
    # estate cleaning and greening: catkins in spring, weeds and trees in summer
    "0802": {4: 1.5, 5: 1.6, 6: 1.4, 7: 1.4, 8: 1.3, 12: 0.8, 1: 0.8, 2: 0.8},
}


def _season(sub: dict, day: dt.date) -> float:
    code = sub["code"]
    if code == "0103":
        return _heating(day)
    if code in MONTHLY:
        return MONTHLY[code].get(day.month, 1.0)
    peaks = sub["peak_months"]
    if not peaks:
        return 1.0
    return 1.9 if day.month in peaks else 0.85


def _point_in(geometry: shapely.Geometry, rng: random.Random) -> tuple[float, float]:
    """A point uniformly inside `geometry` (rejection sampling; holes excluded)."""
    minx, miny, maxx, maxy = geometry.bounds
    for _attempt in range(1000):
        x, y = round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6)
        if shapely.contains_xy(geometry, x, y):
            return x, y
    point = geometry.representative_point()
    return round(point.x, 6), round(point.y, 6)


def _address(rng: random.Random, ctx: texts.Context, channel: str) -> str:
    forms = [
        "{estate}{bld}号楼{unit}单元",
        "{estate}{bld}号楼",
        "{road}{roadno}号",
        "{estate}{gate}",
    ]
    if channel == Channel.PATROL:
        forms = ["{road}{roadno}号附近", "{estate}{gate}", "{estate}{bld}号楼旁"]
    return texts.pick(forms, rng, ctx)[:200]


# --- storing ----------------------------------------------------------------------------------


def _store(cases: list[Case], world: World, report: AppealReport) -> None:
    appeals = [c.a for c in cases]
    now = timezone.now()
    for row in appeals:
        row.updated_at = now
    _insert(Appeal, appeals)
    ids = dict(
        Appeal.objects.filter(external_ref__startswith=EXTERNAL_REF_PREFIX).values_list(
            "external_ref", "id"
        )
    )
    for row in appeals:
        row.pk = ids[row.external_ref]
    merged = [(c.master.a.pk, c.a.pk) for c in cases if c.master is not None]
    table = connection.ops.quote_name(Appeal._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET merged_into_id = %s WHERE id = %s", merged)
    events = [e for c in cases for e in c.events]
    _insert(AppealEvent, events)
    extensions = [x for c in cases for x in c.extensions]
    for request in extensions:
        request.appeal_id = request.appeal.pk
    _insert(ExtensionRequest, extensions)
    notifications = _notifications(cases, world.now)
    _insert(Notification, notifications)
    _store_counters(cases, world)
    report.created = len(appeals)
    report.events = len(events)
    report.extensions = len(extensions)
    report.notifications = len(notifications)
    report.by_state = Counter(str(a.state) for a in appeals)


def _notifications(cases: list[Case], now: dt.datetime) -> list[Row]:
    """The inbox messages the actions send residents about their own appeals (accepted, not
    accepted, resolved — please rate, merged); those older than two days have been read."""
    defaults = _defaults(Notification)
    rows = []
    for case in cases:
        a = case.a
        if a.resident_id is None:
            continue
        for event in case.events:
            no, body = a.tracking_no, ""
            if event.verb == "accept":
                title = _("Your appeal %(no)s was accepted") % {"no": no}
            elif event.verb == "reject":
                title, body = _("Your appeal %(no)s was not accepted") % {"no": no}, event.note
            elif event.verb == "resolve":
                title = _("Appeal %(no)s is resolved — please rate it") % {"no": no}
                body = event.note
            elif event.verb == "merge":
                title = _("Your appeal %(no)s is handled together with %(master)s") % {
                    "no": no,
                    "master": event.note,
                }
            else:
                continue
            seen = event.at + dt.timedelta(hours=6)
            rows.append(
                Row(
                    defaults,
                    user_id=a.resident_id,
                    kind="appeal",
                    title=title,
                    body=body,
                    link=f"/appeals/{no}/",
                    object_type="appeals.appeal",
                    object_id=no,
                    created_at=event.at,
                    read_at=seen if seen < now - dt.timedelta(days=2) else None,
                )
            )
    return rows


def _insert(model, rows: list, batch: int = 5000) -> None:
    """INSERT `rows` (objects with the model's attnames): COPY on PostgreSQL, else executemany.

    Django's bulk_create prepares every value through its field (a few microseconds each, and
    millions of them here) and, on PostgreSQL, sends one statement per batch of rows; the demo's
    values are already plain, so only datetimes and JSON need adapting to the database.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    table, columns = qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor: COPY adapts Python values itself
            pairs = list(zip(names, [_preparer(f, copy=True) for f in fields], strict=True))
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([p(getattr(row, name)) for name, p in pairs])
            return
        pairs = list(zip(names, [_preparer(f) for f in fields], strict=True))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.executemany(sql, [[p(getattr(row, name)) for name, p in pairs] for row in chunk])


def _preparer(f, *, copy: bool = False) -> Callable:
    """How a value of field `f` goes to the database (what the field itself would do, faster)."""
    ops = connection.ops
    if isinstance(f, models.DateTimeField):
        if copy:
            return lambda v: v  # psycopg sends aware datetimes as timestamptz
        if connection.vendor == "sqlite" and connection.timezone_name == "UTC":
            # As DatabaseOperations.adapt_datetimefield_value: naive UTC, str().
            return lambda v: None if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None))
        adapt = ops.adapt_datetimefield_value
        return lambda v: None if v is None else adapt(v)
    if isinstance(f, models.JSONField):
        adapt_json = ops.adapt_json_value
        encoder = f.encoder
        empty = adapt_json({}, encoder)
        return lambda v: empty if v == {} else adapt_json(v, encoder)
    return lambda v: v


def _store_counters(cases: list[Case], world: World) -> None:
    last: dict[dt.date, int] = {}
    for case in cases:
        day = dt.date(
            int(case.a.tracking_no[2:6]),
            int(case.a.tracking_no[6:8]),
            int(case.a.tracking_no[8:10]),
        )
        last[day] = max(last.get(day, 0), int(case.a.tracking_no[-6:]))
    existing = {c.day: c for c in TrackingCounter.objects.select_for_update().filter(day__in=last)}
    new, changed = [], []
    for day, number in last.items():
        counter = existing.get(day)
        if counter is None:
            new.append(TrackingCounter(day=day, last=number))
        elif counter.last < number:
            counter.last = number
            changed.append(counter)
    TrackingCounter.objects.bulk_create(new, batch_size=BATCH)
    TrackingCounter.objects.bulk_update(changed, ["last"], batch_size=BATCH)
