"""After-action review (复盘): write the review of a closed incident, then apply its plan
changes — which write a new version of each plan concerned (the learning loop).

The figures are measured from the record when the review is written and stored with it, so a
review reads the same years later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from renzhi.core import audit
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Skill, User
from renzhi.emergency import reviews as review_reads
from renzhi.emergency import rules
from renzhi.emergency.actions import plans as plan_actions
from renzhi.emergency.actions.incidents import log_line
from renzhi.emergency.models import (
    Incident,
    IncidentStatus,
    LogKind,
    Plan,
    PlanVersion,
    ResponseLevel,
    Review,
    ReviewAction,
    ReviewChange,
)

__all__ = ["ChangeSpec", "apply_changes", "write_review"]


@dataclass
class ChangeSpec:
    plan: Plan | None
    level: int | str | None
    change: str
    target: str
    role: str = ""
    quantity: Decimal | str | int | None = None


def write_review(
    actor: User,
    incident: Incident,
    *,
    summary: str,
    lessons: str,
    changes: Sequence[ChangeSpec] = (),
) -> Review:
    """The review of a closed incident with its measured figures and the plan changes asked."""
    errors: list[FieldError] = []
    summary, lessons = (summary or "").strip(), (lessons or "").strip()
    if not summary:
        errors.append(
            FieldError("summary", ErrorCode.REQUIRED, _("Please summarise the incident."))
        )
    if not lessons:
        errors.append(
            FieldError("lessons", ErrorCode.REQUIRED, _("Please write the lessons learnt."))
        )
    cleaned = [_clean(c, n, errors) for n, c in enumerate(changes, start=1)]
    if errors:
        raise ActionError(errors=errors)
    if not rules.may_review(actor, incident):
        raise PermissionRefused(_("You may not review this incident."))
    for c in cleaned:
        if c.plan is None or not rules.may_apply_to_plan(actor, c.plan):
            raise PermissionRefused(_("You may not change this plan."), field="changes")
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status != IncidentStatus.CLOSED:
            raise ActionError(
                _("Only a closed incident is reviewed."),
                field="incident",
                code=ErrorCode.INVALID_STATE,
            )
        if Review.objects.filter(incident=locked).exists():
            raise ActionError(
                _("This incident already has a review."), field="incident", code=ErrorCode.DUPLICATE
            )
        review = Review.objects.create(
            incident=locked,
            summary=summary,
            lessons=lessons,
            figures=review_reads.figures(locked),
            written_by=actor,
        )
        ReviewAction.objects.bulk_create(
            ReviewAction(
                review=review,
                plan=c.plan,
                level=int(c.level or 0),
                change=c.change,
                target=c.target,
                role=c.role,
                quantity=c.quantity,
            )
            for c in cleaned
        )
        log_line(locked, actor, LogKind.NOTE, _("After-action review written."))
        audit.record(
            actor,
            "emergency.review.write",
            review,
            after={"figures": review.figures, "changes": len(cleaned)},
        )
    return review


def apply_changes(actor: User, review: Review) -> list[PlanVersion]:
    """Write one new version per plan the review changes; each change remembers its version."""
    pending = list(review.actions.filter(applied_version=None).select_related("plan__place"))
    if not pending:
        raise ActionError(
            _("The review has no plan change left to apply."),
            field="changes",
            code=ErrorCode.INVALID_STATE,
        )
    by_plan: dict[int, list[ReviewAction]] = {}
    for a in pending:
        if not rules.may_apply_to_plan(actor, a.plan):
            raise PermissionRefused(_("You may not change this plan."), field="changes")
        by_plan.setdefault(a.plan_id, []).append(a)
    versions: list[PlanVersion] = []
    with transaction.atomic():
        Review.objects.select_for_update().get(pk=review.pk)
        for plan_id, changes in by_plan.items():
            plan = Plan.objects.select_for_update().get(pk=plan_id)
            current = plan.versions.order_by("-number").first()
            if current is None:
                raise ActionError(_("The plan has no version yet."), field="changes")
            specs = {s.level: s for s in plan_actions.level_specs_of(current)}
            for change in changes:
                _apply(specs[change.level], change)
            version = plan_actions.save_version(
                actor,
                plan,
                list(specs.values()),
                note=_("From the review of “%(i)s”.") % {"i": review.incident},
                source_review=review,
            )
            ReviewAction.objects.filter(pk__in=[c.pk for c in changes]).update(
                applied_version=version
            )
            versions.append(version)
        audit.record(
            actor, "emergency.review.apply", review, after={"versions": [v.pk for v in versions]}
        )
    return versions


def _apply(spec: plan_actions.LevelSpec, change: ReviewAction) -> None:
    if change.change == ReviewChange.ADD_ACTION:
        spec.actions.append(plan_actions.ActionSpec(change.target, change.role, 2))
    elif change.change == ReviewChange.SET_RESERVE:
        spec.reserves = [r for r in spec.reserves if r[0] != change.target]
        spec.reserves.append((change.target, Decimal(change.quantity or 0)))
    elif change.change == ReviewChange.SET_PEOPLE:
        spec.people = [p for p in spec.people if p[0] != change.target]
        spec.people.append((change.target, int(change.quantity or 0)))


def _clean(c: ChangeSpec, n: int, errors: list[FieldError]) -> ChangeSpec:
    field = f"changes.{n}"
    bad = len(errors)
    if c.plan is None:
        errors.append(
            FieldError(field, ErrorCode.REQUIRED, _("Change %(n)d: choose the plan.") % {"n": n})
        )
    try:
        level = int(c.level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        level = 0
    if level not in ResponseLevel.values:
        errors.append(
            FieldError(field, ErrorCode.INVALID, _("Change %(n)d: choose a level.") % {"n": n})
        )
    target = (c.target or "").strip()
    if not target:
        errors.append(
            FieldError(field, ErrorCode.REQUIRED, _("Change %(n)d: say what changes.") % {"n": n})
        )
    qty: Decimal | None = None
    if c.change == ReviewChange.ADD_ACTION:
        if c.role not in plan_actions.ACTION_ROLES:
            errors.append(
                FieldError(
                    field,
                    ErrorCode.INVALID,
                    _("Change %(n)d: choose the responsible role.") % {"n": n},
                )
            )
    elif c.change in (ReviewChange.SET_RESERVE, ReviewChange.SET_PEOPLE):
        try:
            qty = Decimal(str(c.quantity))
        except (InvalidOperation, ValueError):
            qty = None
        if (
            qty is None
            or not qty.is_finite()
            or qty <= 0
            or (c.change == ReviewChange.SET_PEOPLE and qty != qty.to_integral_value())
        ):
            errors.append(
                FieldError(
                    field,
                    ErrorCode.INVALID,
                    _("Change %(n)d: give a quantity above zero.") % {"n": n},
                )
            )
        if (
            c.change == ReviewChange.SET_PEOPLE
            and target
            and not Skill.objects.filter(code=target).exists()
        ):
            errors.append(
                FieldError(
                    field, ErrorCode.INVALID, _("Change %(n)d: unknown skill code.") % {"n": n}
                )
            )
        if c.change == ReviewChange.SET_RESERVE and target:
            known = plan_actions._known_item_codes()
            if known is not None and target not in known:
                errors.append(
                    FieldError(
                        field, ErrorCode.INVALID, _("Change %(n)d: unknown item code.") % {"n": n}
                    )
                )
    else:
        errors.append(
            FieldError(
                field, ErrorCode.INVALID, _("Change %(n)d: unknown kind of change.") % {"n": n}
            )
        )
    if len(errors) > bad:
        return c
    return ChangeSpec(
        c.plan,
        level,
        c.change,
        target[:200],
        c.role if c.change == ReviewChange.ADD_ACTION else "",
        qty,
    )
