"""Every state change of an appeal: one function per verb.

Each one locks the appeal row, checks the transition against `renzhi.appeals.states`, checks
the actor's role and data scope, changes the row, appends a timeline event and an audit event,
and queues notifications — all in one transaction. Automatic steps (auto-dispatch, overdue
marking) pass `actor=None` and are marked `automatic` on the timeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from renzhi.appeals import routing, sla, states, tracking
from renzhi.appeals.attachments import store_photos, validate_photos
from renzhi.appeals.intake_throttle import RESIDENT_CHANNELS, check_intake_rate
from renzhi.appeals.models import (
    Appeal,
    AppealEvent,
    Category,
    Channel,
    ExtensionRequest,
    Priority,
    RoutingRule,
    Satisfaction,
    State,
)
from renzhi.core import audit, geo, notify, scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Membership, Place, PlaceLevel, Role, Unit, User
from renzhi.core.privacy import mask_phone
from renzhi.core.workdays import WorkCalendar

__all__ = [
    "BatchRowRefused",
    "IntakeRow",
    "SubmitResult",
    "accept",
    "classify",
    "close",
    "comment",
    "decide_extension",
    "dispatch",
    "escalate",
    "find_duplicates",
    "mark_overdue",
    "merge",
    "progress",
    "rate",
    "reject",
    "request_extension",
    "resolve",
    "resume",
    "return_to_dispatcher",
    "satisfaction_of",
    "sign",
    "staff_channel_roles",
    "submit_appeal",
    "submit_many",
    "supervise",
    "suspend",
    "transfer",
    "unit_serves",
    "withdraw",
]

log = logging.getLogger("renzhi.appeals.intake")

INTAKE_STAFF: set[str] = {Role.COMMUNITY_STAFF, Role.DISPATCHER, Role.GRID_WORKER}
DISPATCH_ROLES: set[str] = {Role.DISPATCHER, Role.COMMUNITY_STAFF}
SUPERVISE_ROLES: set[str] = {Role.DISPATCHER, Role.LEADER}
MAX_DESCRIPTION = 4000
DUPLICATE_RADIUS_M = 200
DUPLICATE_DAYS = 7


@dataclass
class SubmitResult:
    appeal: Appeal
    created: bool
    duplicates: list[Appeal] = field(default_factory=list)


# --- Intake ---------------------------------------------------------------------------------


def submit_appeal(
    actor: User | None,
    *,
    channel: str,
    description: str,
    category: Category | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    place: Place | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    anonymous: bool = False,
    public: bool = False,
    priority: str = Priority.NORMAL,
    photos=(),
    idempotency_key: str | None = None,
    external_ref: str = "",
    extra: dict | None = None,
    title: str = "",
    received_at: dt.datetime | None = None,
    auto_route: bool = True,
) -> SubmitResult:
    """Create an appeal from any channel; a repeated idempotency key returns the existing one."""
    if idempotency_key and actor is not None:
        existing = Appeal.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return SubmitResult(existing, created=False)
    checked_photos = validate_photos(photos)
    cleaned = _clean_intake(
        actor,
        channel=channel,
        description=description,
        category=category,
        lat=lat,
        lng=lng,
        address=address,
        place=place,
        contact_phone=contact_phone,
        priority=priority,
    )
    try:
        with transaction.atomic():
            _throttle(actor, channel, cleaned["contact_phone"])
            appeal = _create(
                actor,
                cleaned,
                channel=channel,
                contact_name=contact_name,
                anonymous=anonymous,
                idempotency_key=idempotency_key,
                external_ref=external_ref,
                extra=extra or {},
                title=title,
                received_at=received_at,
                public=public,
            )
            event = _submit_event(appeal, actor, at=timezone.now())
            event.save(force_insert=True)
            store_photos(appeal, event, checked_photos, actor)
            audit.record(actor, "appeal.submit", appeal, after=_submit_audit(appeal))
            if auto_route:
                _auto_route(appeal, _intake_triage(appeal))
    except IntegrityError:
        # Two requests with the same idempotency key raced; the other one won.
        existing = Appeal.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()
        if idempotency_key and existing is not None:
            return SubmitResult(existing, created=False)
        raise
    return SubmitResult(appeal, created=True, duplicates=find_duplicates(appeal))


def _clean_intake(
    actor,
    *,
    channel,
    description,
    category,
    lat,
    lng,
    address,
    place,
    contact_phone,
    priority,
    locate: Callable[[float, float], Place | None] = geo.locate,
    permit: Callable[..., None] | None = None,
) -> dict:
    """The checked intake fields, or ActionError. `submit_many` passes a `locate` answering
    from one vectorised lookup and a `permit` that checks each distinct place once."""
    errors: list[FieldError] = []
    if channel not in Channel.values:
        errors.append(FieldError("channel", ErrorCode.INVALID, _("Unknown channel.")))
    description = (description or "").strip()
    if not description:
        errors.append(
            FieldError("description", ErrorCode.REQUIRED, _("Please describe the problem."))
        )
    elif len(description) > MAX_DESCRIPTION:
        errors.append(
            FieldError(
                "description",
                ErrorCode.INVALID,
                _("The description is longer than %(n)d characters.") % {"n": MAX_DESCRIPTION},
            )
        )
    if category is not None and not category.active:
        errors.append(
            FieldError("category", ErrorCode.INVALID, _("This category is no longer in use."))
        )
    if priority not in Priority.values:
        errors.append(FieldError("priority", ErrorCode.INVALID, _("Unknown priority.")))
    elif channel in RESIDENT_CHANNELS and priority != Priority.NORMAL:
        # Priority shortens the SLA and trains the urgency model: staff set it, residents
        # describe the problem (issue 23 #10). Refused, not ignored, so a client learns it.
        errors.append(
            FieldError(
                "priority",
                ErrorCode.FORBIDDEN,
                _("Only staff set the priority; describe the urgency in the text instead."),
            )
        )
    contact_phone = (contact_phone or "").strip()
    if contact_phone and not (contact_phone.isdigit() and 7 <= len(contact_phone) <= 12):
        errors.append(
            FieldError("contact_phone", ErrorCode.INVALID, _("Please enter a valid phone number."))
        )
    grid = community = None
    if (lat is None) != (lng is None):
        errors.append(
            FieldError("location", ErrorCode.INVALID, _("Give both latitude and longitude."))
        )
    elif lat is not None and lng is not None:
        if not _valid_point(lat, lng):
            errors.append(
                FieldError("location", ErrorCode.INVALID, _("The coordinates are not valid."))
            )
        else:
            grid = locate(lat, lng)
            if grid is None:
                errors.append(
                    FieldError(
                        "location",
                        ErrorCode.OUT_OF_AREA,
                        _("This location is outside the service area."),
                    )
                )
    elif place is not None:
        if place.level == PlaceLevel.GRID:
            grid = place
        elif place.level == PlaceLevel.COMMUNITY:
            community = place
        else:
            errors.append(
                FieldError("place", ErrorCode.INVALID, _("Please choose a community or a grid."))
            )
    elif actor is not None and actor.home_place_id and channel == Channel.WEB:
        home = actor.home_place
        grid, community = (home, None) if home.level == PlaceLevel.GRID else (None, home)
    else:
        errors.append(
            FieldError(
                "location",
                ErrorCode.REQUIRED,
                _("Please mark the location on the map or choose a community."),
            )
        )
    if grid is not None:
        community = grid.parent
    if errors:
        raise ActionError(errors=errors)
    assert community is not None
    street = community.parent
    (permit or _check_intake_permission)(actor, channel, grid or community)
    return {
        "description": description,
        "category": category,
        "lat": lat,
        "lng": lng,
        "address": (address or "").strip()[:200],
        "grid": grid,
        "community": community,
        "street": street,
        "contact_phone": contact_phone,
        "priority": priority,
    }


def _valid_point(lat: float, lng: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180


def _throttle(actor: User | None, channel: str, phone: str) -> None:
    """Count a resident's filings (issue 23 #10), their account row locked so that
    simultaneous filings are counted one after the other."""
    if channel not in RESIDENT_CHANNELS:
        return
    if channel == Channel.WEB and actor is not None and actor.pk:
        User.objects.select_for_update().filter(pk=actor.pk).values_list("pk").first()
        phone = phone or actor.phone or ""
    check_intake_rate(actor, channel, phone)


def staff_channel_roles(channel: str) -> set[str]:
    """The roles that may file through a staff channel (a person chooses it explicitly)."""
    if channel == Channel.PATROL:
        return {Role.GRID_WORKER, Role.COMMUNITY_STAFF}
    if channel == Channel.HOTLINE:
        return {Role.COMMUNITY_STAFF, Role.DISPATCHER}
    return INTAKE_STAFF | {Role.ADMIN}  # api, import


def _check_intake_permission(actor: User | None, channel: str, place: Place) -> None:
    """Residents' channels are open to anyone logged in; a staff channel needs a role for it
    whose place covers the point: the act is done in that role, and only that role's
    jurisdiction counts (issue 23 #11)."""
    if channel in RESIDENT_CHANNELS:
        if actor is None and channel == Channel.WEB:
            raise PermissionRefused(_("Please log in first."))
        return
    if actor is None:
        raise PermissionRefused(_("Please log in first."))
    wanted = staff_channel_roles(channel)
    if not scope.has_role(actor, *wanted) and not scope.is_global_admin(actor):
        raise PermissionRefused(
            _("You hold no role that files through this channel."), field="channel"
        )
    if not scope.covers(actor, place, roles_allowed=wanted):
        raise PermissionRefused(
            _("“%(place)s” is outside your jurisdiction.") % {"place": place.name}, field="place"
        )


def _create(
    actor,
    c: dict,
    *,
    channel,
    contact_name,
    anonymous,
    idempotency_key,
    external_ref,
    extra,
    title,
    received_at,
    public=False,
) -> Appeal:
    now = received_at or timezone.now()
    appeal = _new_appeal(
        actor,
        c,
        tracking_no=tracking.next_tracking_no(now),
        channel=channel,
        contact_name=contact_name,
        anonymous=anonymous,
        idempotency_key=idempotency_key,
        external_ref=external_ref,
        extra=extra,
        title=title,
        received_at=now,
    )
    appeal.public = bool(public)  # consent to Open311 publication (renzhi.open311.publish)
    appeal.save(force_insert=True)
    return appeal


def _new_appeal(
    actor,
    c: dict,
    *,
    tracking_no,
    channel,
    contact_name,
    anonymous,
    idempotency_key,
    external_ref,
    extra,
    title,
    received_at,
) -> Appeal:
    """The unsaved appeal, state `received`, from `_clean_intake`'s fields."""
    resident = actor if channel == Channel.WEB else None
    phone = c["contact_phone"] or (
        resident.phone if resident is not None and resident.phone else ""
    )
    category = c["category"]
    return Appeal(
        tracking_no=tracking_no,
        channel=channel,
        state=State.RECEIVED,
        priority=c["priority"],
        category=category,
        category_top=category.top if category else None,
        title=(title or c["description"][:30]).strip()[:100],
        description=c["description"],
        lat=c["lat"],
        lng=c["lng"],
        address=c["address"],
        grid=c["grid"],
        community=c["community"],
        street=c["street"],
        place_code=(c["grid"] or c["community"]).code,
        resident=resident,
        contact_name=(contact_name or (resident.display_name if resident else ""))[:50],
        contact_phone=phone,
        anonymous=anonymous,
        created_by=actor if actor and actor.pk else None,
        idempotency_key=idempotency_key or None,
        external_ref=external_ref[:100],
        extra=extra,
        received_at=received_at,
    )


def _submit_event(appeal: Appeal, actor, *, at: dt.datetime) -> AppealEvent:
    return _event_row(appeal, actor, "submit", "", at=at, note=appeal.description[:200])


def _submit_audit(appeal: Appeal) -> dict:
    return {
        "channel": appeal.channel,
        "category": appeal.category.code if appeal.category else None,
        "place": appeal.place_code,
        "phone": mask_phone(appeal.contact_phone),
    }


def _intake_triage(appeal: Appeal) -> tuple[Unit, str] | None:
    """The plug point `settings.RENZHI_INTAKE_TRIAGE`: a dotted path to a callable
    `(appeal) -> (unit, timeline note) | None`, run after the appeal is created and before the
    routing table is asked. It may set the category (when none was given) and the priority,
    recording its own timeline step; the unit it names is used only when the routing table has
    none. Appeals do not depend on it: when it fails, the appeal goes on without it.
    """
    path = getattr(settings, "RENZHI_INTAKE_TRIAGE", None)
    if not path:
        return None
    try:
        with transaction.atomic():
            return import_string(path)(appeal)
    except Exception:
        log.exception("intake triage failed for %s; routing without it", appeal.tracking_no)
        appeal.refresh_from_db()
        return None


def _auto_route(appeal: Appeal, suggested: tuple[Unit, str] | None = None) -> None:
    """Accept and dispatch a new appeal when the routing table (or the intake triage) names a
    unit that serves its place; otherwise it waits for a dispatcher. A named unit that does not
    cover the place (issue 23 #5: a rule or a model pointing at another street's unit) is never
    followed: the refusal is a step of the timeline (not shown to the resident) and audited."""
    unit = _routed_unit(appeal.category, appeal.place_code)
    note = _auto_dispatch_note()
    if unit is None and suggested is not None:
        unit, note = suggested
    if unit is not None and not covers_place(unit, appeal.place_code):
        _log(
            appeal,
            None,
            "route_refused",
            appeal.state,
            note=_("“%(unit)s” does not serve the place of this appeal; it waits for a dispatcher.")
            % {"unit": unit.name},
            public=False,
            automatic=True,
            unit=unit,
            data={"unit": unit.code, "place": appeal.place_code},
        )
        unit = None
    if unit is None:
        _notify_dispatchers(appeal, _waits_title(appeal))
        return
    _do_accept(appeal, None, note=_auto_accept_note(), automatic=True)
    _do_dispatch(appeal, None, unit, note=note, automatic=True)


def _routed_unit(category: Category | None, place_code: str) -> Unit | None:
    """The unit the routing table names for a new appeal; None: it waits in the queue. The
    caller checks that the unit covers the place (`covers_place`)."""
    if category is None:
        return None
    decision = routing.route(category, place_code)
    return decision.unit if decision.unambiguous else None


def covers_place(unit: Unit, place_code: str) -> bool:
    """Whether one of `unit`'s places is `place_code` or above it: what automatic dispatch
    needs (no dispatcher's jurisdiction widens it)."""
    return unit_serves(unit, place_code, [])


def _auto_accept_note() -> str:
    return _("Accepted automatically.")


def _auto_dispatch_note() -> str:
    return _("Dispatched automatically by the routing table.")


def _waits_title(appeal: Appeal) -> str:
    return _("New appeal %(no)s waits for dispatch") % {"no": appeal.tracking_no}


def _accepted_title(appeal: Appeal) -> str:
    return _("Your appeal %(no)s was accepted") % {"no": appeal.tracking_no}


def _new_for_unit_title(appeal: Appeal) -> str:
    return _("New appeal %(no)s for your unit") % {"no": appeal.tracking_no}


# --- Batched intake (Excel/CSV import) --------------------------------------------------------


@dataclass
class IntakeRow:
    """One appeal for `submit_many`: what `submit_appeal` takes, less photos and idempotency."""

    description: str
    category: Category | None = None
    lat: float | None = None
    lng: float | None = None
    place: Place | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    priority: str = Priority.NORMAL
    anonymous: bool = False
    title: str = ""
    external_ref: str = ""
    extra: dict = field(default_factory=dict)
    received_at: dt.datetime | None = None


class BatchRowRefused(ActionError):
    """`submit_many` refused the row at `index` (0-based); nothing of the batch was written."""

    def __init__(self, index: int, refused: ActionError):
        super().__init__(errors=refused.errors)
        self.index, self.refused = index, refused


def submit_many(
    actor: User | None, rows: list[IntakeRow], *, channel: str = Channel.IMPORT
) -> list[Appeal]:
    """Create many appeals in one go, each exactly as `submit_appeal` would (same checks and
    locating, tracking numbers in row order, routing → automatic accept and dispatch with SLA
    deadlines, timeline, audit, notifications), but written in bulk: the permission checked once
    per place, routing and deadlines decided once per (category, place) / (category, priority),
    tracking numbers reserved as one block per day, one insert per table and two audit appends.

    All or nothing: every row is checked before anything is written; a refused row raises
    `BatchRowRefused` naming it. No photos, idempotency keys or duplicate lookup (imports have
    none). Audit order differs from one-by-one intake only in grouping: the batch's submissions
    (by `actor`) come first, then the automatic accepts and dispatches (by the system).
    """
    rows = list(rows)
    if not rows:
        return []
    batch = _IntakeBatch(actor, channel, rows)
    cleaned = []
    for index, row in enumerate(rows):
        try:
            cleaned.append(batch.clean(row))
        except ActionError as exc:
            raise BatchRowRefused(index, exc) from exc
    with transaction.atomic():
        return batch.write(rows, cleaned)


class _IntakeBatch:
    """What a `submit_many` call looks up once and reuses for every row."""

    def __init__(self, actor: User | None, channel: str, rows: list[IntakeRow]):
        self.actor, self.channel = actor, channel
        # Fresh rows: a category retired since the caller loaded it is refused, as is a stale
        # place; the parents come along (category.top, community.parent) without a query each.
        self.categories = Category.objects.select_related("parent").in_bulk(
            {r.category.pk for r in rows if r.category is not None}
        )
        self.places = Place.objects.select_related("parent__parent").in_bulk(
            {r.place.pk for r in rows if r.place is not None}
        )
        self.grids = self._locate_all(rows)
        self.permitted: set[int] = set()
        self.routes: dict[tuple[int, str], Unit | None] = {}
        self.coverage: dict[tuple[int, str], bool] = {}
        # Places the routing table names: a rule matches the appeal's place or an ancestor,
        # so places below the deepest one with rules all route alike (fewer lookups).
        self.rule_places = set(RoutingRule.objects.values_list("place__code", flat=True))
        self.deadlines: dict[tuple[int | None, str], tuple[dt.datetime, dt.datetime]] = {}
        self.handlers: dict[int, list[User]] = {}
        self.dispatchers: dict[tuple[str, ...], list[User]] = {}

    @staticmethod
    def _locate_all(rows: list[IntakeRow]) -> dict[tuple[float, float], Place | None]:
        """The grid of every distinct valid point, in one vectorised lookup."""
        points = list(
            {
                (r.lat, r.lng)
                for r in rows
                if r.lat is not None and r.lng is not None and _valid_point(r.lat, r.lng)
            }
        )
        if not points:
            return {}
        index = geo.grid_index()
        found = index.locate_many(
            np.array([p[1] for p in points]), np.array([p[0] for p in points])
        )
        grids = Place.objects.select_related("parent__parent").in_bulk(
            {int(index.ids[i]) for i in found if i >= 0}
        )
        return {
            point: grids.get(int(index.ids[i])) if i >= 0 else None
            for point, i in zip(points, found, strict=True)
        }

    def locate(self, lat: float, lng: float) -> Place | None:
        if (lat, lng) in self.grids:
            return self.grids[(lat, lng)]
        return geo.locate(lat, lng)

    def permit(self, actor, channel: str, place: Place) -> None:
        if place.pk not in self.permitted:
            _check_intake_permission(actor, channel, place)
            self.permitted.add(place.pk)

    def clean(self, row: IntakeRow) -> dict:
        category = self.categories.get(row.category.pk, row.category) if row.category else None
        place = self.places.get(row.place.pk, row.place) if row.place else None
        return _clean_intake(
            self.actor,
            channel=self.channel,
            description=row.description,
            category=category,
            lat=row.lat,
            lng=row.lng,
            address=row.address,
            place=place,
            contact_phone=row.contact_phone,
            priority=row.priority,
            locate=self.locate,
            permit=self.permit,
        )

    def unit_for(self, appeal: Appeal) -> Unit | None:
        if appeal.category is None:
            return None
        code = appeal.place_code
        depths = [n for n in (15, 12, 9, 6) if n <= len(code) and code[:n] in self.rule_places]
        if not depths:
            return None  # no rule anywhere on the appeal's path
        key = (appeal.category.pk, code[: depths[0]])
        if key not in self.routes:
            self.routes[key] = _routed_unit(appeal.category, key[1])
        unit = self.routes[key]
        if unit is None:
            return None
        # As `_auto_route`: a unit that does not cover the appeal's place is not followed.
        covered = (unit.pk, code)
        if covered not in self.coverage:
            self.coverage[covered] = covers_place(unit, code)
        return unit if self.coverage[covered] else None

    def deadlines_for(
        self, appeal: Appeal, now: dt.datetime, calendar: WorkCalendar
    ) -> tuple[dt.datetime, dt.datetime]:
        key = (appeal.category_id, appeal.priority)
        if key not in self.deadlines:
            rule = sla.sla_for(appeal.category, appeal.priority)
            self.deadlines[key] = sla.deadlines(now, rule, calendar)
        return self.deadlines[key]

    def unit_handlers(self, unit_id: int) -> list[User]:
        if unit_id not in self.handlers:
            self.handlers[unit_id] = _unit_handlers(unit_id)
        return self.handlers[unit_id]

    def dispatchers_for(self, appeal: Appeal) -> list[User]:
        codes = _dispatcher_codes(appeal.place_code)
        if codes not in self.dispatchers:
            self.dispatchers[codes] = _dispatchers(codes)
        return self.dispatchers[codes]

    def write(self, rows: list[IntakeRow], cleaned: list[dict]) -> list[Appeal]:
        now = timezone.now()
        calendar = WorkCalendar()
        appeals = [
            _new_appeal(
                self.actor,
                c,
                tracking_no="",
                channel=self.channel,
                contact_name=row.contact_name,
                anonymous=row.anonymous,
                idempotency_key=None,
                external_ref=row.external_ref,
                extra=dict(row.extra or {}),
                title=row.title,
                received_at=row.received_at or now,
            )
            for row, c in zip(rows, cleaned, strict=True)
        ]
        numbers = tracking.reserve([a.received_at for a in appeals])
        events: list[AppealEvent] = []
        steps: list[audit.AuditEntry] = []
        messages: list[tuple[list[User], notify.Message]] = []
        for appeal, number in zip(appeals, numbers, strict=True):
            appeal.tracking_no = number
            events.append(_submit_event(appeal, self.actor, at=now))
            unit = self.unit_for(appeal)
            if unit is None:
                messages.append(
                    (self.dispatchers_for(appeal), _message(appeal, _waits_title(appeal)))
                )
                continue
            # As `_auto_route`: `_do_accept` then `_do_dispatch`, each a `_save` (version + 1).
            _apply_accept(appeal, now)
            appeal.version += 1
            events.append(
                _event_row(
                    appeal,
                    None,
                    "accept",
                    State.RECEIVED,
                    at=now,
                    note=_auto_accept_note(),
                    automatic=True,
                )
            )
            steps.append(
                audit.AuditEntry(
                    "appeal.accept", appeal, **_step_audit(appeal, State.RECEIVED, None, True)
                )
            )
            if appeal.resident is not None:
                messages.append(([appeal.resident], _message(appeal, _accepted_title(appeal))))
            data = _apply_dispatch(appeal, unit, now, self.deadlines_for(appeal, now, calendar))
            appeal.version += 1
            events.append(
                _event_row(
                    appeal,
                    None,
                    "dispatch",
                    State.ACCEPTED,
                    at=now,
                    note=_auto_dispatch_note(),
                    automatic=True,
                    unit=unit,
                    data=data,
                )
            )
            steps.append(
                audit.AuditEntry(
                    "appeal.dispatch", appeal, **_step_audit(appeal, State.ACCEPTED, data, True)
                )
            )
            messages.append(
                (
                    self.unit_handlers(unit.pk),
                    _message(appeal, _new_for_unit_title(appeal), appeal.title),
                )
            )
        Appeal.objects.bulk_create(appeals, batch_size=500)
        AppealEvent.objects.bulk_create(events, batch_size=1000)
        audit.record_many(
            self.actor,
            [audit.AuditEntry("appeal.submit", a, after=_submit_audit(a)) for a in appeals],
        )
        audit.record_many(None, steps)
        notify.notify_many(messages)
        return appeals


def find_duplicates(
    appeal: Appeal, radius_m: float = DUPLICATE_RADIUS_M, days: int = DUPLICATE_DAYS
) -> list[Appeal]:
    """Open appeals of the same category near this one (distance and time window)."""
    if appeal.category_id is None:
        return []
    qs = Appeal.objects.filter(
        category_id=appeal.category_id,
        state__in=list(states.ACTIVE),
        received_at__gte=appeal.received_at - dt.timedelta(days=days),
        received_at__lte=appeal.received_at + dt.timedelta(days=days),
    ).exclude(pk=appeal.pk)
    if appeal.lat is None or appeal.lng is None:
        return list(qs.filter(place_code=appeal.place_code).order_by("received_at")[:20])
    dlat = radius_m / 111_320
    dlng = radius_m / (111_320 * max(math.cos(math.radians(appeal.lat)), 0.01))
    near = qs.filter(
        lat__range=(appeal.lat - dlat, appeal.lat + dlat),
        lng__range=(appeal.lng - dlng, appeal.lng + dlng),
    )
    return [
        a
        for a in near.order_by("received_at")[:50]
        if _metres(appeal.lat, appeal.lng, a.lat, a.lng) <= radius_m
    ][:20]


# --- Dispatcher's steps ---------------------------------------------------------------------


@transaction.atomic
def accept(actor: User, appeal: Appeal, *, note: str = "") -> Appeal:
    appeal = _lock(appeal)
    states.check("accept", appeal.state)
    role = _require_staff(actor, appeal, DISPATCH_ROLES)
    _do_accept(appeal, actor, note=note, role=role)
    return appeal


@transaction.atomic
def reject(actor: User, appeal: Appeal, *, reason: str) -> Appeal:
    appeal = _lock(appeal)
    states.check("reject", appeal.state)
    role = _require_staff(actor, appeal, DISPATCH_ROLES)
    reason = _required(reason, "reason", _("Please give the reason for not accepting."))
    before = appeal.state
    appeal.state, appeal.closed_at = State.REJECTED, timezone.now()
    _save(appeal)
    _log(appeal, actor, "reject", before, note=reason, role=role)
    _tell_resident(
        appeal, _("Your appeal %(no)s was not accepted") % {"no": appeal.tracking_no}, reason
    )
    return appeal


@transaction.atomic
def dispatch(actor: User, appeal: Appeal, *, unit: Unit, note: str = "") -> Appeal:
    appeal = _lock(appeal)
    if appeal.state == State.RECEIVED:  # accepting and dispatching in one step is common
        states.check("accept", appeal.state)
        role = _require_staff(actor, appeal, DISPATCH_ROLES)
        _do_accept(appeal, actor, note="", role=role)
    states.check("dispatch", appeal.state)
    role = _require_staff(actor, appeal, DISPATCH_ROLES)
    _check_unit(unit, appeal, actor, DISPATCH_ROLES)
    _do_dispatch(appeal, actor, unit, note=note, role=role)
    return appeal


@transaction.atomic
def transfer(actor: User, appeal: Appeal, *, unit: Unit, reason: str) -> Appeal:
    appeal = _lock(appeal)
    states.check("transfer", appeal.state)
    role = _require_staff(actor, appeal, DISPATCH_ROLES)
    reason = _required(reason, "reason", _("Please give the reason for the transfer."))
    _check_unit(unit, appeal, actor, DISPATCH_ROLES)
    if unit.pk == appeal.unit_id:
        raise ActionError(_("The appeal is already with this unit."), field="unit")
    appeal.transfer_count = F("transfer_count") + 1
    _lapse_pending_extensions(appeal)
    _do_dispatch(appeal, actor, unit, note=reason, role=role, verb="transfer")
    return appeal


@transaction.atomic
def supervise(actor: User, appeal: Appeal, *, note: str) -> Appeal:
    appeal = _lock(appeal)
    states.check("supervise", appeal.state)
    role = _require_staff(actor, appeal, SUPERVISE_ROLES)
    note = _required(note, "note", _("Please say what is expected."))
    appeal.supervised, appeal.priority = True, Priority.URGENT
    appeal.supervise_count = F("supervise_count") + 1
    _save(appeal)
    _log(appeal, actor, "supervise", appeal.state, note=note, role=role, public=False)
    _notify_unit(appeal, _("Appeal %(no)s is under supervision") % {"no": appeal.tracking_no}, note)
    return appeal


@transaction.atomic
def classify(actor: User, appeal: Appeal, *, category: Category, note: str = "") -> Appeal:
    """Set or correct the category (分类) while the case is open: dispatchers and community staff,
    e.g. from the triage queue. An internal step; the resident sees the new category only."""
    appeal = _lock(appeal)
    if appeal.state not in states.ACTIVE:
        raise ActionError(
            _("The category of an appeal that is “%(state)s” cannot change.")
            % {"state": State(appeal.state).label},
            field="state",
            code=ErrorCode.INVALID_STATE,
        )
    role = _require_staff(actor, appeal, DISPATCH_ROLES)
    if not category.active:
        raise ActionError(_("This category is no longer in use."), field="category")
    if appeal.category_id == category.pk:
        return appeal
    before = appeal.category.code if appeal.category else None
    appeal.category, appeal.category_top = category, category.top
    _save(appeal)
    _log(
        appeal,
        actor,
        "classify",
        appeal.state,
        note=note or _("Category set to “%(category)s”.") % {"category": category},
        role=role,
        public=False,
        data={"category": category.code, "before": before},
    )
    return appeal


@transaction.atomic
def suspend(actor: User, appeal: Appeal, *, reason: str) -> Appeal:
    appeal = _lock(appeal)
    states.check("suspend", appeal.state)
    role = _require_staff(actor, appeal, {Role.DISPATCHER})
    reason = _required(reason, "reason", _("Please give the reason for suspending."))
    before = appeal.state
    appeal.state_before_suspend, appeal.state = before, State.SUSPENDED
    appeal.suspended_at = timezone.now()
    _save(appeal)
    _log(appeal, actor, "suspend", before, note=reason, role=role)
    return appeal


@transaction.atomic
def resume(actor: User, appeal: Appeal, *, note: str = "") -> Appeal:
    appeal = _lock(appeal)
    states.check("resume", appeal.state)
    role = _require_staff(actor, appeal, {Role.DISPATCHER})
    now = timezone.now()
    if appeal.suspended_at:
        sla.shift_for_suspension(appeal, appeal.suspended_at, now)
        appeal.warned_at = None  # deadlines moved: warn again at 80 % of the new time
    appeal.state, appeal.state_before_suspend, appeal.suspended_at = (
        appeal.state_before_suspend,
        "",
        None,
    )
    _lift_overdue_if_on_time(appeal, now)
    _save(appeal)
    _log(appeal, actor, "resume", State.SUSPENDED, note=note, role=role)
    return appeal


@transaction.atomic
def escalate(actor: User, appeal: Appeal, *, reason: str) -> Appeal:
    appeal = _lock(appeal)
    states.check("escalate", appeal.state)
    role = _require_staff(actor, appeal, {Role.COMMUNITY_STAFF, Role.DISPATCHER})
    reason = _required(reason, "reason", _("Please give the reason for escalating."))
    level = (
        "district" if role == Role.DISPATCHER or appeal.escalation_level == "street" else "street"
    )
    before = appeal.state
    appeal.escalation_level, appeal.state, appeal.unit = level, State.ACCEPTED, None
    appeal.accepted_at = appeal.accepted_at or timezone.now()
    # Like a return: without a unit there is nobody to sign or resolve, so the unit's clock
    # stops; the next dispatch sets fresh deadlines.
    appeal.sign_deadline = appeal.resolve_deadline = None
    _lapse_pending_extensions(appeal)
    _save(appeal)
    _log(appeal, actor, "escalate", before, note=reason, role=role, data={"level": level})
    _notify_dispatchers(
        appeal,
        _("Appeal %(no)s was escalated to you") % {"no": appeal.tracking_no},
        district=level == "district",
    )
    return appeal


@transaction.atomic
def merge(actor: User, appeal: Appeal, *, into: Appeal, note: str = "") -> Appeal:
    """Merge a duplicate into its master; the duplicate follows the master from now on."""
    if appeal.pk == into.pk:
        raise ActionError(_("An appeal cannot be merged into itself."), field="into")
    first, second = sorted([appeal.pk, into.pk])  # lock in id order: no deadlock between two merges
    locked = {a.pk: a for a in Appeal.objects.select_for_update().filter(pk__in=[first, second])}
    appeal, master = locked[appeal.pk], locked[into.pk]
    states.check("merge", appeal.state)
    role = _require_staff(actor, appeal, DISPATCH_ROLES)
    _require_staff(actor, master, DISPATCH_ROLES)
    if master.state in (State.MERGED, State.REJECTED, State.WITHDRAWN):
        raise ActionError(
            _("Cannot merge into an appeal that is “%(state)s”.")
            % {"state": State(master.state).label},
            field="into",
            code=ErrorCode.INVALID_STATE,
        )
    before = appeal.state
    appeal.state, appeal.merged_into = State.MERGED, master
    appeal.overdue = False
    _lapse_pending_extensions(appeal)
    _save(appeal)
    _log(
        appeal,
        actor,
        "merge",
        before,
        note=note or master.tracking_no,
        role=role,
        data={"into": master.tracking_no},
    )
    _log(
        master,
        actor,
        "absorb",
        master.state,
        note=appeal.tracking_no,
        role=role,
        public=False,
        data={"merged": appeal.tracking_no},
    )
    _tell_resident(
        appeal,
        _("Your appeal %(no)s is handled together with %(master)s")
        % {"no": appeal.tracking_no, "master": master.tracking_no},
    )
    return appeal


@transaction.atomic
def decide_extension(
    actor: User, request: ExtensionRequest, *, approve: bool, note: str = ""
) -> ExtensionRequest:
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    appeal = _lock(request.appeal)
    states.check("decide_extension", appeal.state)
    role = _require_staff(actor, appeal, {Role.DISPATCHER})
    if request.status != ExtensionRequest.Status.PENDING:
        raise ActionError(
            _("This request has already been decided."),
            field="request",
            code=ErrorCode.INVALID_STATE,
        )
    if not approve:
        note = _required(note, "note", _("Please give the reason for refusing."))
    now = timezone.now()
    request.status = (
        ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REJECTED
    )
    request.decided_by, request.decided_at = actor, now
    request.save()
    if approve and appeal.resolve_deadline:
        appeal.resolve_deadline = sla.extend(appeal.resolve_deadline, request.days)
        appeal.warned_at = None  # warn again at 80 % of the extended time
        _lift_overdue_if_on_time(appeal, now)
        _save(appeal)
    _log(
        appeal,
        actor,
        "approve_extension" if approve else "reject_extension",
        appeal.state,
        note=note,
        role=role,
        public=False,
        data={"days": request.days},
    )
    _notify_unit(
        appeal,
        (_("Extension approved for %(no)s") if approve else _("Extension refused for %(no)s"))
        % {"no": appeal.tracking_no},
        note,
    )
    return request


@transaction.atomic
def close(actor: User | None, appeal: Appeal, *, note: str = "") -> Appeal:
    """Close a resolved appeal without a rating (e.g. no answer to the callback)."""
    appeal = _lock(appeal)
    states.check("close", appeal.state)
    role = "" if actor is None else _require_staff(actor, appeal, DISPATCH_ROLES)
    appeal.state, appeal.closed_at = State.CLOSED, timezone.now()
    _save(appeal)
    _log(appeal, actor, "close", State.RESOLVED, note=note, role=role, automatic=actor is None)
    return appeal


@transaction.atomic
def comment(actor: User, appeal: Appeal, *, note: str) -> Appeal:
    appeal = _lock(appeal)
    states.check("comment", appeal.state)
    role = _require_staff_or_handler(actor, appeal)
    note = _required(note, "note", _("Please write the note."))
    _log(appeal, actor, "comment", appeal.state, note=note, role=role, public=False)
    return appeal


# --- Unit's steps ---------------------------------------------------------------------------


@transaction.atomic
def sign(actor: User, appeal: Appeal, *, note: str = "") -> Appeal:
    appeal = _lock(appeal)
    states.check("sign", appeal.state)
    _require_handler(actor, appeal)
    now = timezone.now()
    appeal.state, appeal.signed_at = State.SIGNED, now
    appeal.signed_in_time = appeal.sign_deadline is None or now <= appeal.sign_deadline
    _save(appeal)
    _log(appeal, actor, "sign", State.DISPATCHED, note=note, role=Role.UNIT_HANDLER)
    return appeal


@transaction.atomic
def progress(actor: User, appeal: Appeal, *, note: str, photos=()) -> Appeal:
    checked = validate_photos(photos)
    appeal = _lock(appeal)
    states.check("progress", appeal.state)
    _require_handler(actor, appeal)
    note = _required(note, "note", _("Please describe the progress."))
    before = appeal.state
    appeal.state = State.HANDLING
    _save(appeal)
    event = _log(appeal, actor, "progress", before, note=note, role=Role.UNIT_HANDLER)
    store_photos(appeal, event, checked, actor)
    return appeal


@transaction.atomic
def resolve(actor: User, appeal: Appeal, *, result: str, photos=()) -> Appeal:
    checked = validate_photos(photos)
    appeal = _lock(appeal)
    states.check("resolve", appeal.state)
    _require_handler(actor, appeal)
    result = _required(result, "result", _("Please describe how it was resolved."))
    now = timezone.now()
    before = appeal.state
    appeal.state, appeal.result, appeal.resolved_at = State.RESOLVED, result, now
    appeal.overdue = False  # lateness is kept in resolved_in_time; the flag marks open cases
    appeal.resolved_in_time = appeal.resolve_deadline is None or now <= appeal.resolve_deadline
    if appeal.dispatched_at:
        appeal.handling_hours = round(
            WorkCalendar().working_hours_between(appeal.dispatched_at, now), 3
        )
    _lapse_pending_extensions(appeal)
    _save(appeal)
    event = _log(appeal, actor, "resolve", before, note=result, role=Role.UNIT_HANDLER)
    store_photos(appeal, event, checked, actor)
    title = _("Appeal %(no)s is resolved — please rate it") % {"no": appeal.tracking_no}
    _tell_resident(appeal, title, result)
    for merged in appeal.merged.select_related("resident"):
        _tell_resident(merged, title, result)
    return appeal


@transaction.atomic
def return_to_dispatcher(actor: User, appeal: Appeal, *, reason: str) -> Appeal:
    """退单: the unit says the case is not theirs."""
    appeal = _lock(appeal)
    states.check("return", appeal.state)
    _require_handler(actor, appeal)
    reason = _required(reason, "reason", _("Please say why this is not your unit's case."))
    before, unit = appeal.state, appeal.unit
    appeal.state, appeal.unit = State.ACCEPTED, None
    appeal.return_count = F("return_count") + 1
    appeal.sign_deadline = appeal.resolve_deadline = None
    _lapse_pending_extensions(appeal)
    _save(appeal)
    _log(
        appeal,
        actor,
        "return",
        before,
        note=reason,
        role=Role.UNIT_HANDLER,
        public=False,
        unit=unit,
    )
    _notify_dispatchers(
        appeal,
        _("Appeal %(no)s was returned by %(unit)s")
        % {"no": appeal.tracking_no, "unit": unit.name if unit else ""},
    )
    return appeal


@transaction.atomic
def request_extension(actor: User, appeal: Appeal, *, days: float, reason: str) -> ExtensionRequest:
    appeal = _lock(appeal)
    states.check("request_extension", appeal.state)
    _require_handler(actor, appeal)
    reason = _required(reason, "reason", _("Please give the reason for the extension."))
    valid_number = isinstance(days, int | float) and not isinstance(days, bool)
    if not (valid_number and math.isfinite(days) and 0 < days <= 30):
        raise ActionError(_("Extension must be between 0 and 30 working days."), field="days")
    if appeal.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise ActionError(
            _("An extension request is already waiting for a decision."),
            field="days",
            code=ErrorCode.DUPLICATE,
        )
    request = ExtensionRequest.objects.create(
        appeal=appeal, requested_by=actor, days=days, reason=reason
    )
    _log(
        appeal,
        actor,
        "request_extension",
        appeal.state,
        note=reason,
        role=Role.UNIT_HANDLER,
        public=False,
        data={"days": days},
    )
    _notify_dispatchers(appeal, _("Extension requested for %(no)s") % {"no": appeal.tracking_no})
    return request


# --- Resident's steps -----------------------------------------------------------------------


def satisfaction_of(rating: int) -> str:
    return (
        Satisfaction.SATISFIED
        if rating >= 4
        else Satisfaction.BASIC
        if rating == 3
        else Satisfaction.UNSATISFIED
    )


@transaction.atomic
def rate(actor: User, appeal: Appeal, *, rating: int, comment: str = "") -> Appeal:
    """回访评价. Satisfied or basically satisfied closes the case; not satisfied reopens it."""
    appeal = _lock(appeal)
    role = _require_rater(actor, appeal)
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ActionError(_("The rating must be a whole number from 1 to 5."), field="rating")
    now = timezone.now()
    if appeal.state == State.MERGED:
        return _rate_merged(actor, appeal, rating, comment, role, now)
    if appeal.state == State.CLOSED and appeal.rated_at:
        raise ActionError(
            _("This appeal has already been rated."), field="rating", code=ErrorCode.DUPLICATE
        )
    states.check("rate", appeal.state)
    appeal.rating, appeal.satisfaction = rating, satisfaction_of(rating)
    appeal.feedback, appeal.rated_at = (comment or "").strip(), now
    data = {"rating": rating, "satisfaction": appeal.satisfaction}
    if appeal.satisfaction == Satisfaction.UNSATISFIED:
        _log(appeal, actor, "rate", State.RESOLVED, note=appeal.feedback, role=role, data=data)
        _reopen(
            appeal, actor, note=appeal.feedback or _("The resident is not satisfied."), role=role
        )
    else:
        appeal.state, appeal.closed_at = State.CLOSED, now
        _save(appeal)
        _log(appeal, actor, "rate", State.RESOLVED, note=appeal.feedback, role=role, data=data)
    return appeal


def _rate_merged(actor, appeal: Appeal, rating: int, comment: str, role: str, now) -> Appeal:
    master = appeal.merged_into
    if master is None or master.state not in (State.RESOLVED, State.CLOSED):
        raise ActionError(
            _("You can rate once the appeal it was merged into is resolved."),
            field="rating",
            code=ErrorCode.INVALID_STATE,
        )
    if appeal.rated_at and appeal.rated_at >= (master.resolved_at or now):
        raise ActionError(
            _("This appeal has already been rated."), field="rating", code=ErrorCode.DUPLICATE
        )
    appeal.rating, appeal.satisfaction = rating, satisfaction_of(rating)
    appeal.feedback, appeal.rated_at = (comment or "").strip(), now
    _save(appeal)
    _log(
        appeal,
        actor,
        "rate",
        State.MERGED,
        note=appeal.feedback,
        role=role,
        data={"rating": rating, "satisfaction": appeal.satisfaction},
    )
    return appeal


@transaction.atomic
def withdraw(actor: User, appeal: Appeal, *, reason: str = "") -> Appeal:
    appeal = _lock(appeal)
    if actor is None or appeal.resident_id != actor.pk:
        raise PermissionRefused(_("Only the resident who raised the appeal can withdraw it."))
    states.check("withdraw", appeal.state)
    before = appeal.state
    appeal.state, appeal.closed_at = State.WITHDRAWN, timezone.now()
    appeal.overdue = False
    _lapse_pending_extensions(appeal)
    _save(appeal)
    _log(appeal, actor, "withdraw", before, note=reason, role=Role.RESIDENT)
    if appeal.unit_id:
        _notify_unit(
            appeal,
            _("Appeal %(no)s was withdrawn by the resident") % {"no": appeal.tracking_no},
            reason,
        )
    return appeal


# --- SLA job --------------------------------------------------------------------------------


def mark_overdue(now: dt.datetime | None = None) -> dict[str, int]:
    """Flag appeals past a deadline and warn those near one; notify once each. Idempotent."""
    now = now or timezone.now()
    counts = {"overdue": 0, "warned": 0}
    late = Appeal.objects.filter(overdue=False).filter(
        Q(state=State.DISPATCHED, sign_deadline__lt=now)
        | Q(state__in=[State.DISPATCHED, State.SIGNED, State.HANDLING], resolve_deadline__lt=now)
    )
    for pk in late.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            appeal = Appeal.objects.select_for_update().get(pk=pk)
            if appeal.overdue or not _refresh_overdue(appeal, now):
                continue
            _save(appeal)
            _log(appeal, None, "overdue", appeal.state, public=False, automatic=True)
            title = _("Appeal %(no)s is overdue") % {"no": appeal.tracking_no}
            _notify_unit(appeal, title, "")
            _notify_dispatchers(appeal, title)
            counts["overdue"] += 1
    calendar = WorkCalendar()
    near = Appeal.objects.filter(
        overdue=False,
        warned_at=None,
        state__in=[State.DISPATCHED, State.SIGNED, State.HANDLING],
        resolve_deadline__gt=now,
    )
    for appeal in near.iterator():
        if appeal.resolve_deadline is None:  # excluded by the query; narrows the type
            continue
        rule = sla.sla_for(appeal.category, appeal.priority)
        total = calendar.working_hours_between(
            appeal.dispatched_at or appeal.received_at, appeal.resolve_deadline
        )
        used = calendar.working_hours_between(appeal.dispatched_at or appeal.received_at, now)
        if total > 0 and used / total >= rule.warn_ratio:
            with transaction.atomic():
                updated = Appeal.objects.filter(pk=appeal.pk, warned_at=None).update(warned_at=now)
                if updated:
                    _notify_unit(
                        appeal,
                        _("Appeal %(no)s is near its deadline") % {"no": appeal.tracking_no},
                        "",
                    )
                    counts["warned"] += 1
    return counts


# --- internals ------------------------------------------------------------------------------


def _do_accept(
    appeal: Appeal, actor, *, note: str, role: str = "", automatic: bool = False
) -> None:
    _apply_accept(appeal, timezone.now())
    _save(appeal)
    _log(appeal, actor, "accept", State.RECEIVED, note=note, role=role, automatic=automatic)
    _tell_resident(appeal, _accepted_title(appeal))


def _apply_accept(appeal: Appeal, now: dt.datetime) -> None:
    appeal.state, appeal.accepted_at = State.ACCEPTED, now


def _do_dispatch(
    appeal: Appeal,
    actor,
    unit: Unit,
    *,
    note: str,
    role: str = "",
    automatic: bool = False,
    verb: str = "dispatch",
) -> None:
    now = timezone.now()
    before = appeal.state
    rule = sla.sla_for(appeal.category, appeal.priority)
    data = _apply_dispatch(appeal, unit, now, sla.deadlines(now, rule))
    _save(appeal)
    _log(
        appeal, actor, verb, before, note=note, role=role, automatic=automatic, unit=unit, data=data
    )
    _notify_unit(appeal, _new_for_unit_title(appeal), appeal.title)


def _apply_dispatch(
    appeal: Appeal, unit: Unit, now: dt.datetime, deadlines: tuple[dt.datetime, dt.datetime]
) -> dict:
    """Hand the appeal to `unit` with fresh deadlines; returns the timeline/audit data."""
    appeal.sign_deadline, appeal.resolve_deadline = deadlines
    appeal.state, appeal.unit, appeal.dispatched_at = State.DISPATCHED, unit, now
    appeal.first_dispatched_at = appeal.first_dispatched_at or now
    appeal.signed_at = appeal.signed_in_time = None
    appeal.overdue, appeal.warned_at = False, None
    return {
        "unit": unit.code,
        "sign_deadline": appeal.sign_deadline.isoformat(),
        "resolve_deadline": appeal.resolve_deadline.isoformat(),
    }


def _lapse_pending_extensions(appeal: Appeal) -> None:
    """The unit's handling ended (resolved, returned, transferred, escalated, withdrawn, merged):
    an undecided extension request of that unit no longer applies. Left pending it could later
    be approved against another unit's deadline, and it would block that unit's own request.
    It is closed as refused with no decider (the system), and audited.
    """
    now = timezone.now()
    pending = ExtensionRequest.objects.select_for_update().filter(
        appeal_id=appeal.pk, status=ExtensionRequest.Status.PENDING
    )
    for request in pending:
        request.status, request.decided_at = ExtensionRequest.Status.REJECTED, now
        request.save(update_fields=["status", "decided_at"])
        audit.record(
            None,
            "appeal.extension_lapsed",
            request,
            label=appeal.tracking_no,
            before={"status": "pending"},
            after={"status": request.status, "automatic": True},
        )


def _reopen(appeal: Appeal, actor, *, note: str, role: str) -> None:
    """重办: back to the same unit with fresh deadlines, counted."""
    states.check("reopen", appeal.state)
    appeal.reopen_count = F("reopen_count") + 1
    appeal.resolved_at = appeal.resolved_in_time = None
    unit = appeal.unit
    if unit is None:
        raise ActionError(_("The appeal has no unit to send it back to."), field="unit")
    _do_dispatch(appeal, actor, unit, note=note, role=role, verb="reopen")


def _lift_overdue_if_on_time(appeal: Appeal, now: dt.datetime) -> None:
    """After deadlines moved later (resume, extension): clear the flag if nothing is late now.

    Never sets it: flagging is `mark_overdue`'s job, which also records the timeline event and
    tells the unit and dispatchers. Setting it here silently would hide the appeal from that
    job (it only looks at appeals not yet flagged), so nobody would ever be told.
    """
    if appeal.overdue:
        _refresh_overdue(appeal, now)


def _refresh_overdue(appeal: Appeal, now: dt.datetime) -> bool:
    late_sign = (
        appeal.state == State.DISPATCHED and appeal.sign_deadline and appeal.sign_deadline < now
    )
    late_resolve = (
        appeal.state in (State.DISPATCHED, State.SIGNED, State.HANDLING)
        and appeal.resolve_deadline
        and appeal.resolve_deadline < now
    )
    appeal.overdue = bool(late_sign or late_resolve)
    return appeal.overdue


def _lock(appeal: Appeal) -> Appeal:
    # of=("self",): lock only the appeal row. The related rows come through LEFT OUTER JOINs
    # (nullable FKs), which PostgreSQL refuses to lock ("FOR UPDATE cannot be applied to the
    # nullable side of an outer join").
    return (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("category", "unit", "merged_into")
        .get(pk=appeal.pk)
    )


def _save(appeal: Appeal) -> None:
    appeal.version = F("version") + 1
    appeal.save()
    appeal.refresh_from_db(
        fields=["version", "reopen_count", "return_count", "transfer_count", "supervise_count"]
    )


def _log(
    appeal: Appeal,
    actor,
    verb: str,
    from_state: str,
    *,
    note: str = "",
    role: str = "",
    public: bool = True,
    automatic: bool = False,
    unit: Unit | None = None,
    data: dict | None = None,
) -> AppealEvent:
    event = _event(
        appeal,
        actor,
        verb,
        from_state,
        note=note,
        role=role,
        public=public,
        automatic=automatic,
        unit=unit,
        data=data,
    )
    audit.record(
        actor, f"appeal.{verb}", appeal, **_step_audit(appeal, from_state, data, automatic)
    )
    return event


def _step_audit(appeal: Appeal, from_state: str, data: dict | None, automatic: bool) -> dict:
    """The audit `before`/`after` of one timeline step (call right after the change)."""
    return {
        "before": {"state": from_state},
        "after": {
            "state": appeal.state,
            **(data or {}),
            **({"automatic": True} if automatic else {}),
        },
    }


def _event(
    appeal: Appeal,
    actor,
    verb: str,
    from_state: str,
    *,
    note: str = "",
    role: str = "",
    public: bool = True,
    automatic: bool = False,
    unit: Unit | None = None,
    data: dict | None = None,
) -> AppealEvent:
    event = _event_row(
        appeal,
        actor,
        verb,
        from_state,
        at=timezone.now(),
        note=note,
        role=role,
        public=public,
        automatic=automatic,
        unit=unit,
        data=data,
    )
    event.save(force_insert=True)
    return event


def _event_row(
    appeal: Appeal,
    actor,
    verb: str,
    from_state: str,
    *,
    at: dt.datetime,
    note: str = "",
    role: str = "",
    public: bool = True,
    automatic: bool = False,
    unit: Unit | None = None,
    data: dict | None = None,
) -> AppealEvent:
    """An unsaved timeline event for the appeal as it is now (its state is the `to_state`)."""
    return AppealEvent(
        appeal=appeal,
        at=at,
        actor=actor if actor is not None and actor.pk else None,
        actor_role=role,
        verb=verb,
        from_state=from_state,
        to_state=appeal.state,
        note=note or "",
        public=public,
        automatic=automatic,
        unit=unit or appeal.unit,
        data=data or {},
    )


def _required(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ActionError(message, field=field_name, code=ErrorCode.REQUIRED)
    return value


def _require_staff(actor: User | None, appeal: Appeal, roles: set[str]) -> str:
    """The role under which `actor` may act on `appeal` (its jurisdiction covers the appeal)."""
    if actor is None or not actor.is_authenticated:
        raise PermissionRefused(_("Please log in first."))
    held = [m for m in scope.memberships(actor) if m.role in roles and m.place is not None]
    if not held:
        raise PermissionRefused(_("Your role does not allow this action."))
    for m in held:
        if m.place is not None and appeal.place_code.startswith(m.place.code):
            return m.role
    raise PermissionRefused(_("This appeal is outside your jurisdiction."))


def _require_handler(actor: User | None, appeal: Appeal) -> None:
    if actor is None or not any(
        m.role == Role.UNIT_HANDLER and m.unit_id == appeal.unit_id
        for m in scope.memberships(actor)
    ):
        raise PermissionRefused(_("Only the handling unit can do this."))


def _require_staff_or_handler(actor: User, appeal: Appeal) -> str:
    if any(
        m.role == Role.UNIT_HANDLER and m.unit_id == appeal.unit_id
        for m in scope.memberships(actor)
    ):
        return Role.UNIT_HANDLER
    return _require_staff(actor, appeal, INTAKE_STAFF | SUPERVISE_ROLES)


def _require_rater(actor: User, appeal: Appeal) -> str:
    if appeal.resident_id is not None:
        if appeal.resident_id != actor.pk:
            raise PermissionRefused(_("Only the resident who raised the appeal can rate it."))
        return Role.RESIDENT
    # No resident account (hotline, import…): staff record the callback result.
    return _require_staff(actor, appeal, DISPATCH_ROLES)


def _check_unit(unit: Unit | None, appeal: Appeal, actor: User, roles: set[str]) -> None:
    """`unit` may take the case: active, and serving its place or the actor's jurisdiction.

    A unit reads the resident's name and phone once it has the case, so a dispatcher must not
    hand a case to a company of another street (issue 23 #5). A unit serves the case when one
    of its places is the case's place or above it (a district water bureau), or lies inside
    the jurisdiction under which the actor dispatches (a street office's own contractor).
    """
    if unit is None:
        raise ActionError(
            _("Please choose a handling unit."), field="unit", code=ErrorCode.REQUIRED
        )
    if not unit.active:
        raise ActionError(_("This unit is not active."), field="unit")
    if not unit_serves(unit, appeal.place_code, _acting_codes(actor, appeal, roles)):
        raise ActionError(
            _("“%(unit)s” does not serve the place of this appeal.") % {"unit": unit.name},
            field="unit",
        )


def unit_serves(unit: Unit, place_code: str, jurisdiction: list[str]) -> bool:
    """Whether one of `unit`'s places covers `place_code` or lies inside `jurisdiction`."""
    for code in unit.places.values_list("code", flat=True):
        if place_code.startswith(code) or any(code.startswith(j) for j in jurisdiction):
            return True
    return False


def _acting_codes(actor: User, appeal: Appeal, roles: set[str]) -> list[str]:
    """Codes of the actor's places under `roles` that cover the appeal (where they act)."""
    return [
        m.place.code
        for m in scope.memberships(actor)
        if m.role in roles and m.place is not None and appeal.place_code.startswith(m.place.code)
    ]


def _message(appeal: Appeal, title: str, body: str = "") -> notify.Message:
    return notify.Message(
        kind="appeal",
        title=title,
        body=body,
        link=f"/appeals/{appeal.tracking_no}/",
        object_type="appeals.appeal",
        object_id=appeal.tracking_no,
    )


def _tell_resident(appeal: Appeal, title: str, body: str = "") -> None:
    if appeal.resident is not None:
        notify.notify(appeal.resident, _message(appeal, title, body))


def _notify_unit(appeal: Appeal, title: str, body: str) -> None:
    if not appeal.unit_id:
        return
    notify.notify(_unit_handlers(appeal.unit_id), _message(appeal, title, body))


def _unit_handlers(unit_id: int) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(role=Role.UNIT_HANDLER, unit_id=unit_id).select_related(
            "user"
        )
        if m.user.is_active
    ]


def _notify_dispatchers(appeal: Appeal, title: str, *, district: bool = False) -> None:
    notify.notify(
        _dispatchers(_dispatcher_codes(appeal.place_code, district)), _message(appeal, title)
    )


def _dispatcher_codes(place_code: str, district: bool = False) -> tuple[str, ...]:
    return (place_code[:6],) if district else (place_code[:6], place_code[:9])


def _dispatchers(codes: tuple[str, ...]) -> list[User]:
    members = Membership.objects.filter(role=Role.DISPATCHER, place__code__in=codes)
    return [m.user for m in members.select_related("user") if m.user.is_active]


def _metres(lat1: float, lng1: float, lat2: float | None, lng2: float | None) -> float:
    if lat2 is None or lng2 is None:
        return math.inf
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
