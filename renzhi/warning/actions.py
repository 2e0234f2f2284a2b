"""Every state change of a warning, a signal, a subscription or a webhook: one function per verb.

Each locks the row it changes, checks the state it expects after locking, checks the actor's
role and data scope (`renzhi.warning.rules`), writes an audit event, and — for the public
steps (publish, update, cancel) — issues a CAP message and hands it to distribution, which sends
after commit. Lifecycle: draft → submitted → approved → published → updated … → cancelled or
expired; a submitted warning can be sent back to draft.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.core import audit, datebounds, outbound, scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, PlaceLevel, User
from renzhi.warning import cap, distribution, rules
from renzhi.warning.models import (
    LIVE_STATUSES,
    CapCategory,
    CapMessage,
    DetectorConfig,
    Level,
    Origin,
    Signal,
    SignalStatus,
    Status,
    Subscription,
    Warning,
    Webhook,
)

__all__ = [
    "WarningInput",
    "approve",
    "cancel",
    "create_warning",
    "create_webhook",
    "delete_webhook",
    "dismiss_signal",
    "edit_warning",
    "expire_due",
    "import_cap",
    "propose_from_signal",
    "publish",
    "reject",
    "submit",
    "subscribe",
    "unsubscribe",
    "update",
]

MAX_HEADLINE = 160
# Onset within five years either way (imported alerts may be old); a warning lasts at most a
# year: an expiry further ahead is a typo or an attack on the pages (issue 23 #4).
ONSET_PAST = ONSET_FUTURE = EXPIRY_PAST = datebounds.DEFAULT_SPAN
EXPIRY_FUTURE = datebounds.YEAR
EDITABLE = ("draft",)


@dataclass
class WarningInput:
    """What a person types for a warning; every field optional on edit (None = unchanged)."""

    level: int | None = None
    headline: str | None = None
    headline_en: str | None = None
    event: str | None = None
    description: str | None = None
    description_en: str | None = None
    instructions: str | None = None
    instructions_en: str | None = None
    cap_category: str | None = None
    category_id: int | None = None
    area_codes: list[str] | None = None
    onset_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None


# --- drafting -------------------------------------------------------------------------------


def create_warning(
    actor: User,
    data: WarningInput,
    *,
    origin: str = Origin.MANUAL,
    source: str = "",
    external_identifier: str = "",
    signals: Iterable[Signal] = (),
) -> Warning:
    """A new draft owned by the actor's jurisdiction (the first one that covers the area)."""
    if not rules.is_warning_staff(actor):
        raise PermissionRefused(_("Only staff may draft warnings."))
    errors: list[FieldError] = []
    if data.level is None:
        errors.append(FieldError("level", ErrorCode.REQUIRED, _("Choose a level.")))
    if not (data.headline or "").strip():
        errors.append(FieldError("headline", ErrorCode.REQUIRED, _("Write a headline.")))
    if errors:
        raise ActionError(errors=errors)
    with transaction.atomic():
        areas = _areas(actor, data.area_codes or [])
        warning = Warning(
            level=Level.IV,
            headline="",
            owner_place=_owner_place(actor, areas),
            origin=origin,
            source=source[:200],
            external_identifier=external_identifier[:200],
            created_by=actor,
        )
        _apply(warning, data)
        warning.save()
        warning.areas.set(areas)
        warning.editors.add(actor)
        linked = [s.pk for s in signals]
        if linked:
            Signal.objects.filter(pk__in=linked).update(
                status=SignalStatus.PROPOSED,
                warning=warning,
                decided_by=actor,
                decided_at=timezone.now(),
            )
        audit.record(actor, "warning.create", warning, after=_snapshot(warning))
    return warning


def edit_warning(actor: User, warning_id: int, data: WarningInput) -> Warning:
    """Change a draft (only drafts change freely; published ones change through `update`)."""
    with transaction.atomic():
        warning = _lock(warning_id)
        _check_staff(actor, warning)
        _expect(warning, Status.DRAFT)
        before = _snapshot(warning)
        _apply(warning, data)
        warning.save()
        if data.area_codes is not None:
            warning.areas.set(_areas(actor, data.area_codes))
        warning.editors.add(actor)
        audit.record(actor, "warning.edit", warning, before=before, after=_snapshot(warning))
    return warning


def submit(actor: User, warning_id: int) -> Warning:
    with transaction.atomic():
        warning = _lock(warning_id)
        _check_staff(actor, warning)
        _expect(warning, Status.DRAFT)
        warning.status = Status.SUBMITTED
        warning.submitted_by = actor
        warning.submitted_at = timezone.now()
        warning.rejection_note = ""
        warning.save()
        warning.editors.add(actor)
        audit.record(actor, "warning.submit", warning, after={"status": warning.status})
    return warning


def approve(actor: User, warning_id: int) -> Warning:
    """A leader's approval; levels II and I need a district leader; never one's own draft."""
    with transaction.atomic():
        warning = _lock(warning_id)
        _check_approver(actor, warning)
        _expect(warning, Status.SUBMITTED)
        warning.status = Status.APPROVED
        warning.approved_by = actor
        warning.approved_at = timezone.now()
        warning.save()
        audit.record(actor, "warning.approve", warning, after={"status": warning.status})
    return warning


def reject(actor: User, warning_id: int, note: str) -> Warning:
    """Send a submitted warning back to draft with the reason."""
    note = (note or "").strip()
    if not note:
        raise ActionError(
            _("Say why the warning goes back."), field="note", code=ErrorCode.REQUIRED
        )
    with transaction.atomic():
        warning = _lock(warning_id)
        _check_approver(actor, warning)
        _expect(warning, Status.SUBMITTED)
        warning.status = Status.DRAFT
        warning.rejection_note = note[:300]
        warning.save()
        audit.record(actor, "warning.reject", warning, after={"note": warning.rejection_note})
    return warning


def publish(actor: User, warning_id: int) -> Warning:
    """Make an approved warning public: CAP Alert, in-app banner and inbox, webhooks, MQTT."""
    with transaction.atomic():
        warning = _lock(warning_id)
        _check_staff(actor, warning)
        _expect(warning, Status.APPROVED)
        _check_publishable(warning)
        now = timezone.now()
        warning.status = Status.PUBLISHED
        warning.published_at = now
        warning.version = 1
        warning.save()
        message = cap.issue(warning, CapMessage.MsgType.ALERT, now)
        audit.record(
            actor,
            "warning.publish",
            warning,
            after={"status": warning.status, "cap": message.identifier},
        )
        distribution.dispatch(message)
    return warning


def update(actor: User, warning_id: int, data: WarningInput, note: str = "") -> Warning:
    """Change a live warning: a CAP Update referencing every earlier message.

    Public content changes carry the approver's authority: a leader covering the area (a
    district leader when the resulting level is II or I).
    """
    with transaction.atomic():
        warning = _lock(warning_id)
        _expect(warning, *LIVE_STATUSES)
        before = _snapshot(warning)
        _apply(warning, data)
        _check_leader(actor, warning, areas=_areas(actor, data.area_codes or []) or None)
        if data.area_codes is not None:
            warning.areas.set(_areas(actor, data.area_codes))
        _check_publishable(warning)
        now = timezone.now()
        warning.status = Status.UPDATED
        warning.updated_at = now
        warning.version += 1
        warning.save()
        message = cap.issue(warning, CapMessage.MsgType.UPDATE, now, note=note)
        audit.record(
            actor,
            "warning.update",
            warning,
            before=before,
            after={**_snapshot(warning), "cap": message.identifier},
        )
        distribution.dispatch(message)
    return warning


def cancel(actor: User, warning_id: int, reason: str) -> Warning:
    """Withdraw a warning. A live one is cancelled publicly (CAP Cancel) by a leader."""
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(
            _("Give a reason for cancelling."), field="reason", code=ErrorCode.REQUIRED
        )
    with transaction.atomic():
        warning = _lock(warning_id)
        if warning.status in (Status.CANCELLED, Status.EXPIRED):
            raise ActionError(
                _("This warning is already %(status)s.") % {"status": warning.get_status_display()},
                field="status",
                code=ErrorCode.INVALID_STATE,
            )
        live = warning.status in LIVE_STATUSES
        if live:
            _check_leader(actor, warning)
        else:
            _check_staff(actor, warning)
        now = timezone.now()
        warning.status = Status.CANCELLED
        warning.cancelled_at = now
        warning.cancel_reason = reason[:300]
        if live:
            warning.version += 1
        warning.save()
        after: dict = {"status": warning.status, "reason": warning.cancel_reason}
        if live:
            message = cap.issue(warning, CapMessage.MsgType.CANCEL, now, note=reason)
            after["cap"] = message.identifier
            distribution.dispatch(message)
        audit.record(actor, "warning.cancel", warning, after=after)
    return warning


def expire_due(now: dt.datetime | None = None) -> int:
    """Mark live warnings past their expiry as expired (CAP consumers expire them by <expires>)."""
    now = now or timezone.now()
    count = 0
    due = Warning.objects.filter(status__in=LIVE_STATUSES, expires_at__lte=now)
    for warning_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            warning = _lock(warning_id)
            if warning.status not in LIVE_STATUSES or not warning.expires_at:
                continue
            if warning.expires_at > now:
                continue
            warning.status = Status.EXPIRED
            warning.save(update_fields=["status"])
            audit.record(None, "warning.expire", warning, after={"status": warning.status})
            count += 1
    return count


def import_cap(actor: User, data: bytes | str, *, source: str = "") -> list[Warning]:
    """Drafts from an external CAP 1.2 alert or an Atom feed of alerts.

    Every alert is validated against the OASIS schema first; one invalid alert refuses the
    whole import (the message names the schema error) and nothing is stored. Alerts already
    imported (same sender and identifier) are skipped.
    """
    if not rules.is_warning_staff(actor):
        raise PermissionRefused(_("Only staff may import warnings."))
    alerts = cap.parse_import(data)  # raises ActionError(field="cap") on any invalid alert
    created: list[Warning] = []
    with transaction.atomic():
        for alert in alerts:
            ref = f"{alert.sender},{alert.identifier}"
            if Warning.objects.filter(external_identifier=ref[:200]).exists():
                continue
            places = list(
                Place.objects.filter(code__in=alert.geocodes)
                if alert.geocodes
                else Place.objects.filter(name__in=alert.area_names)
            )
            places = [p for p in places if rules.staff_covers(actor, p)]
            warning = create_warning(
                actor,
                WarningInput(
                    level=alert.level,
                    headline=alert.headline[:MAX_HEADLINE] or alert.event[:MAX_HEADLINE],
                    event=alert.event[:100],
                    description=alert.description,
                    instructions=alert.instruction,
                    cap_category=alert.category,
                    area_codes=[p.code for p in places],
                    onset_at=alert.onset,
                    expires_at=alert.expires,
                ),
                origin=Origin.CAP_IMPORT,
                source=source or alert.sender_name or alert.sender,
                external_identifier=ref,
            )
            created.append(warning)
    return created


# --- signals --------------------------------------------------------------------------------


def propose_from_signal(actor: User, signal_id: int) -> Warning:
    """One click from a signal to a draft warning.

    The draft gathers every new signal of the same category and day inside the actor's
    jurisdiction (the spread), and takes its level from `proposals.level_for`.
    """
    from renzhi.warning import proposals

    with transaction.atomic():
        signal = (
            Signal.objects.select_for_update(of=("self",))
            .select_related("series__place", "series__category")
            .filter(pk=signal_id)
            .first()
        )
        if signal is None or not rules.staff_covers(actor, signal.series.place):
            raise ActionError(_("No such signal."), field="signal", code=ErrorCode.NOT_FOUND)
        if signal.status != SignalStatus.NEW:
            raise ActionError(
                _("This signal was already handled."),
                field="signal",
                code=ErrorCode.INVALID_STATE,
            )
        group = proposals.group_for(signal, visible=lambda p: rules.staff_covers(actor, p))
        proposal = proposals.build(group)
        return create_warning(
            actor,
            WarningInput(
                level=proposal.level,
                headline=proposal.headline,
                event=proposal.event,
                description=proposal.description,
                instructions=proposal.instructions,
                cap_category=proposal.cap_category,
                category_id=signal.series.category_id,
                area_codes=proposal.area_codes,
                expires_at=timezone.now() + dt.timedelta(days=3),
            ),
            origin=Origin.SIGNAL,
            source=_("Signal detection"),
            signals=group,
        )


def dismiss_signal(actor: User, signal_id: int, reason: str) -> Signal:
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(
            _("Give a reason for dismissing."), field="reason", code=ErrorCode.REQUIRED
        )
    with transaction.atomic():
        signal = (
            Signal.objects.select_for_update(of=("self",))
            .select_related("series__place")
            .filter(pk=signal_id)
            .first()
        )
        if signal is None or not rules.staff_covers(actor, signal.series.place):
            raise ActionError(_("No such signal."), field="signal", code=ErrorCode.NOT_FOUND)
        if signal.status != SignalStatus.NEW:
            raise ActionError(
                _("This signal was already handled."),
                field="signal",
                code=ErrorCode.INVALID_STATE,
            )
        signal.status = SignalStatus.DISMISSED
        signal.dismiss_reason = reason[:300]
        signal.decided_by = actor
        signal.decided_at = timezone.now()
        signal.save()
        audit.record(actor, "signal.dismiss", signal, after={"reason": signal.dismiss_reason})
    return signal


def save_detector_config(
    actor: User,
    *,
    method: str,
    parameters: dict,
    category_id: int | None = None,
    min_count: int = 3,
    severity: int = Level.IV,
) -> DetectorConfig:
    """Create or change a category's detector; parameters are checked by the detector itself."""
    from renzhi.warning import detection

    if not scope.is_global_admin(actor):
        raise PermissionRefused(_("Only a system administrator may change detector settings."))
    detection.check_parameters(method, parameters)
    with transaction.atomic():
        lookup: dict[str, Any] = {"category_id": category_id, "method": method}
        config, _created = DetectorConfig.objects.select_for_update().get_or_create(**lookup)
        config.parameters = parameters
        config.min_count = min_count
        config.severity = severity
        config.save()
        audit.record(actor, "detector.save", config, after={"method": method, **parameters})
    return config


# --- subscriptions and webhooks --------------------------------------------------------------


def subscribe(
    actor: User, place_code: str, cap_category: str = "", min_level: int = Level.IV, sms=False
) -> Subscription:
    place = Place.objects.filter(code=place_code).first()
    if place is None:
        raise ActionError(_("No such place."), field="place", code=ErrorCode.NOT_FOUND)
    if cap_category and cap_category not in CapCategory.values:
        raise ActionError(_("Unknown category."), field="cap_category")
    if min_level not in Level.values:
        raise ActionError(_("Unknown level."), field="min_level")
    with transaction.atomic():
        sub, _created = Subscription.objects.update_or_create(
            user=actor,
            place=place,
            cap_category=cap_category,
            defaults={"min_level": min_level, "sms": bool(sms)},
        )
        audit.record(actor, "warning.subscribe", sub, label=place.name)
    return sub


def unsubscribe(actor: User, subscription_id: int) -> None:
    with transaction.atomic():
        sub = Subscription.objects.filter(pk=subscription_id, user=actor).first()
        if sub is None:
            raise ActionError(_("No such subscription."), field="id", code=ErrorCode.NOT_FOUND)
        audit.record(actor, "warning.unsubscribe", sub, label=sub.place.name)
        sub.delete()


def create_webhook(actor: User, *, name: str, url: str, place_code: str) -> Webhook:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    if not rules.may_manage_webhooks(actor):
        raise PermissionRefused(_("Only administrators and leaders manage webhooks."))
    errors = []
    if not (name or "").strip():
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Name the webhook.")))
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors.append(FieldError("url", ErrorCode.INVALID, _("Enter a valid http(s) URL.")))
    else:
        try:  # checked again at every delivery (the name may later resolve elsewhere)
            outbound.validate_url(url)
        except outbound.OutboundError as exc:
            errors.append(FieldError("url", ErrorCode.INVALID, str(exc.message)))
    place = Place.objects.filter(code=place_code).first()
    if place is None or not scope.covers(actor, place):
        errors.append(FieldError("place", ErrorCode.OUT_OF_SCOPE, _("No such place in your area.")))
    if errors or place is None:
        raise ActionError(errors=errors)
    with transaction.atomic():
        hook = Webhook.objects.create(name=name.strip(), url=url, place=place, created_by=actor)
        audit.record(actor, "webhook.create", hook, after={"url": url, "place": place_code})
    return hook


def delete_webhook(actor: User, webhook_id: int) -> None:
    with transaction.atomic():
        hook = webhooks_visible(actor).select_for_update().filter(pk=webhook_id).first()
        if hook is None:
            raise ActionError(_("No such webhook."), field="id", code=ErrorCode.NOT_FOUND)
        hook.active = False
        hook.save(update_fields=["active"])
        audit.record(actor, "webhook.disable", hook)


def webhooks_visible(actor: User) -> QuerySet[Webhook]:
    if not rules.may_manage_webhooks(actor):
        return Webhook.objects.none()
    return scope.scope_queryset(actor, Webhook.objects.all(), place_field="place")


# --- helpers --------------------------------------------------------------------------------


def _lock(warning_id: int) -> Warning:
    warning = Warning.objects.select_for_update().filter(pk=warning_id).first()
    if warning is None:
        raise ActionError(_("No such warning."), field="warning", code=ErrorCode.NOT_FOUND)
    return warning


def _expect(warning: Warning, *statuses: str) -> None:
    if warning.status not in statuses:
        raise ActionError(
            _("This warning is %(status)s; the step is not possible now.")
            % {"status": warning.get_status_display()},
            field="status",
            code=ErrorCode.INVALID_STATE,
        )


def _check_staff(actor: User, warning: Warning) -> None:
    if not rules.is_warning_staff(actor) or not rules.staff_covers(actor, warning.owner_place):
        raise PermissionRefused(_("This warning is outside your jurisdiction."))


def _check_approver(actor: User, warning: Warning) -> None:
    """Four eyes: whoever drafted, edited or submitted a warning neither approves nor rejects it.

    Barring only the drafter let a leader edit someone else's draft (raise the level, widen the
    area) and approve it alone (issue 23 #8)."""
    if warning.created_by_id == actor.pk:
        raise PermissionRefused(_("You cannot approve a warning you drafted."))
    if warning.submitted_by_id == actor.pk or warning.editors.filter(pk=actor.pk).exists():
        raise PermissionRefused(_("You cannot approve a warning you edited or submitted."))
    _check_leader(actor, warning)


def _check_leader(actor: User, warning: Warning, areas: list[Place] | None = None) -> None:
    places = [warning.owner_place, *(areas if areas is not None else warning.areas.all())]
    if not rules.is_leader(actor):
        raise PermissionRefused(_("Only a leader may approve, change or cancel a warning."))
    if not all(rules.leader_covers(actor, p, warning.level) for p in places):
        if warning.level in rules.HIGH_LEVELS:
            raise PermissionRefused(
                _("Levels II and I need a leader of the district."), field="level"
            )
        raise PermissionRefused(_("This warning is outside your jurisdiction."))


def _check_publishable(warning: Warning) -> None:
    errors = []
    if not warning.areas.exists():
        errors.append(
            FieldError("areas", ErrorCode.REQUIRED, _("Choose the area the warning is for."))
        )
    if warning.expires_at is None:
        errors.append(FieldError("expires_at", ErrorCode.REQUIRED, _("Set when it expires.")))
    elif warning.expires_at <= timezone.now():
        errors.append(
            FieldError("expires_at", ErrorCode.INVALID, _("The expiry must be in the future."))
        )
    if not warning.instructions.strip():
        errors.append(
            FieldError("instructions", ErrorCode.REQUIRED, _("Tell residents what to do."))
        )
    if errors:
        raise ActionError(errors=errors)


def _areas(actor: User, codes: list[str]) -> list[Place]:
    if not codes:
        return []
    found = {p.code: p for p in Place.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ActionError(
            _("Unknown place: %(codes)s") % {"codes": ", ".join(missing)}, field="areas"
        )
    outside = [p.name for p in found.values() if not rules.staff_covers(actor, p)]
    if outside:
        raise ActionError(
            _("Outside your jurisdiction: %(names)s") % {"names": ", ".join(outside)},
            field="areas",
            code=ErrorCode.OUT_OF_SCOPE,
        )
    return list(found.values())


def _owner_place(actor: User, areas: list[Place]) -> Place:
    """The smallest jurisdiction of the actor that contains every area place."""
    candidates = [
        m.place
        for m in scope.memberships(actor)
        if m.place is not None and m.role in rules.WARNING_STAFF
    ]
    candidates.sort(key=lambda p: -len(p.code))
    for place in candidates:
        if all(a.code.startswith(place.code) for a in areas):
            return place
    if areas:
        if scope.is_global_admin(actor):
            district = Place.objects.filter(code=areas[0].code[:6]).first()
            if district is not None:
                return district
        raise ActionError(_("The area is outside your jurisdiction."), field="areas")
    if candidates:
        return candidates[-1]
    district = Place.objects.filter(level=PlaceLevel.DISTRICT).order_by("code").first()
    if district is None:
        raise ActionError(_("There are no places yet."), field="areas")
    return district


def _apply(warning: Warning, data: WarningInput) -> None:
    errors: list[FieldError] = []
    if data.level is not None:
        if data.level not in Level.values:
            errors.append(FieldError("level", ErrorCode.INVALID, _("Unknown level.")))
        else:
            warning.level = data.level
    for name in (
        "headline",
        "headline_en",
        "event",
        "description",
        "description_en",
        "instructions",
        "instructions_en",
    ):
        value = getattr(data, name)
        if value is not None:
            setattr(warning, name, value.strip())
    if data.headline is not None and not data.headline.strip():
        errors.append(FieldError("headline", ErrorCode.REQUIRED, _("Write a headline.")))
    if len(warning.headline) > MAX_HEADLINE:
        errors.append(FieldError("headline", ErrorCode.INVALID, _("The headline is too long.")))
    if len(warning.event) > 100:
        errors.append(FieldError("event", ErrorCode.INVALID, _("The event name is too long.")))
    if data.cap_category is not None:
        if data.cap_category not in CapCategory.values:
            errors.append(FieldError("cap_category", ErrorCode.INVALID, _("Unknown category.")))
        else:
            warning.cap_category = data.cap_category
    if data.category_id is not None:
        warning.category_id = data.category_id or None
    bad_dates = datebounds.moment_errors(
        [
            ("onset_at", data.onset_at, ONSET_PAST, ONSET_FUTURE),
            ("expires_at", data.expires_at, EXPIRY_PAST, EXPIRY_FUTURE),
        ]
    )
    errors += bad_dates
    bad = {e.field for e in bad_dates}
    if data.onset_at is not None and "onset_at" not in bad:
        warning.onset_at = data.onset_at
    if data.expires_at is not None and "expires_at" not in bad:
        warning.expires_at = data.expires_at
    if warning.onset_at and warning.expires_at and warning.expires_at <= warning.onset_at:
        errors.append(
            FieldError("expires_at", ErrorCode.INVALID, _("The expiry must follow the onset."))
        )
    if errors:
        raise ActionError(errors=errors)


def _snapshot(warning: Warning) -> dict:
    return {
        "level": warning.level,
        "status": warning.status,
        "headline": warning.headline,
        "expires_at": warning.expires_at.isoformat() if warning.expires_at else None,
    }
