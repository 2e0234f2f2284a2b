"""Every state change of the triage app: one function per verb, audited, in one transaction.

- `train` fits a head and stores a new (inactive, or with `activate=True` active) version;
- `activate` / `rollback` switch the active version of a head atomically — the new file is
  loaded first, so a file that is not ours leaves the running model in place;
- `decide` is the dispatcher's one click in the triage queue: it takes the suggestion as is
  (accepted) or with another category/unit (corrected), sets the category when it changed and
  dispatches through the appeals actions; the choice is kept for the next training;
- `save_urgency_rule` edits the urgency phrase list.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.actions.cases import DISPATCH_ROLES
from renzhi.appeals.models import Appeal, Category
from renzhi.core import audit, scope
from renzhi.core.errors import ActionError, ErrorCode, PermissionRefused
from renzhi.core.models import Unit, User
from renzhi.triage import registry, training
from renzhi.triage.intake import ensure_suggestions
from renzhi.triage.model import ModelFormatError, TextClassifier
from renzhi.triage.models import Decision, Head, ModelVersion, TriageSuggestion, UrgencyRule
from renzhi.triage.queries import WAITING
from renzhi.triage.rules import may_manage_models


def train(
    actor: User | None,
    head: str,
    *,
    activate: bool = False,
    max_rows: int | None = training.DEFAULT_MAX_ROWS,
    target: float = training.DEFAULT_TARGET,
    progress: Callable[[str, int, int], None] | None = None,
    classifier: TextClassifier | None = None,
) -> ModelVersion:
    """Train a new version of `head` (system jobs pass `actor=None`)."""
    if actor is not None:
        _require_admin(actor)
    version = training.train(
        head,
        actor=actor,
        max_rows=max_rows,
        target=target,
        progress=progress,
        classifier=classifier,
    )
    with transaction.atomic():
        audit.record(
            actor,
            "triage.train",
            version,
            after={
                "head": head,
                "rows": version.rows,
                "accuracy": version.accuracy,
                "macro_f1": version.macro_f1,
                "classes": len(version.classes),
            },
        )
    if activate:
        return _activate(actor, version, verb="triage.activate")
    return version


def activate(actor: User | None, version: ModelVersion) -> ModelVersion:
    """Make `version` the active one of its head (the previous one stays for rollback)."""
    if actor is not None:
        _require_admin(actor)
    return _activate(actor, version, verb="triage.activate")


def rollback(actor: User | None, head: str) -> ModelVersion:
    """Back to the version that was active before the current one."""
    if actor is not None:
        _require_admin(actor)
    current = registry.active_version(head)
    earlier = ModelVersion.objects.filter(head=head, activated_at__isnull=False).exclude(
        active=True
    )
    if current is not None and current.activated_at is not None:
        earlier = earlier.filter(activated_at__lt=current.activated_at)
    previous = earlier.order_by("-activated_at", "-pk").first()
    if previous is None:
        raise ActionError(
            _("There is no earlier version of this model to roll back to."),
            field="head",
            code=ErrorCode.INVALID_STATE,
        )
    return _activate(actor, previous, verb="triage.rollback")


def decide(
    actor: User,
    appeal: Appeal,
    *,
    category: Category | None = None,
    unit: Unit | None = None,
    note: str = "",
) -> TriageSuggestion:
    """The dispatcher's decision on a queued appeal: category and unit, then dispatch.

    Without `category`/`unit` the top suggestion is taken (one click). Refused — nothing
    changed — outside the actor's jurisdiction, when the appeal is no longer waiting, or when
    no category or unit is given and none is suggested.
    """
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("category", "community")
            .get(pk=appeal.pk)
        )
        _require_dispatcher(actor, appeal)
        if appeal.state not in WAITING or appeal.unit_id is not None:
            raise ActionError(
                _("This appeal is no longer waiting for dispatch."),
                field="appeal",
                code=ErrorCode.INVALID_STATE,
            )
        suggestion = ensure_suggestions([appeal])[appeal.pk]
        suggestion = TriageSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        suggested_category = suggestion.categories[0][0] if suggestion.categories else None
        suggested_unit = suggestion.units[0][0] if suggestion.units else None
        category = category or _category(suggested_category) or appeal.category
        unit = unit or _unit(suggested_unit)
        if category is None:
            raise ActionError(
                _("Please choose a category."), field="category", code=ErrorCode.REQUIRED
            )
        if not category.active:
            raise ActionError(_("This category is no longer in use."), field="category")
        if unit is None:
            raise ActionError(
                _("Please choose a handling unit."), field="unit", code=ErrorCode.REQUIRED
            )
        corrected = category.code != suggested_category or unit.code != suggested_unit
        if appeal.category_id != category.pk:
            _set_category(actor, appeal, category)
        appeal_actions.dispatch(actor, appeal, unit=unit, note=note)
        before = {"status": suggestion.status}
        suggestion.status = Decision.CORRECTED if corrected else Decision.ACCEPTED
        suggestion.decided_by, suggestion.decided_at = actor, timezone.now()
        suggestion.final_category, suggestion.final_unit = category, unit
        suggestion.save()
        audit.record(
            actor,
            "triage.correct" if corrected else "triage.accept",
            suggestion,
            label=appeal.tracking_no,
            before=before,
            after={
                "status": suggestion.status,
                "category": category.code,
                "unit": unit.code,
                "suggested_category": suggested_category,
                "suggested_unit": suggested_unit,
            },
        )
        return suggestion


def save_urgency_rule(
    actor: User, *, phrase: str, weight: float = 1.0, enabled: bool = True, note: str = ""
) -> UrgencyRule:
    """Add or change one urgency phrase (global administrators)."""
    _require_admin(actor)
    phrase = (phrase or "").strip()
    if not phrase or len(phrase) > 50:
        raise ActionError(
            _("Please enter a phrase of 1 to 50 characters."),
            field="phrase",
            code=ErrorCode.REQUIRED if not phrase else ErrorCode.INVALID,
        )
    if not isinstance(weight, int | float) or not 0 < float(weight) <= 5:
        raise ActionError(_("The weight must be between 0 and 5."), field="weight")
    with transaction.atomic():
        rule = UrgencyRule.objects.select_for_update().filter(phrase=phrase).first()
        before = None if rule is None else {"weight": rule.weight, "enabled": rule.enabled}
        rule = rule or UrgencyRule(phrase=phrase)
        rule.weight, rule.enabled, rule.note = float(weight), bool(enabled), note[:200]
        rule.save()
        audit.record(
            actor,
            "triage.urgency_rule",
            rule,
            before=before,
            after={"weight": rule.weight, "enabled": rule.enabled},
        )
    return rule


# --- internals ----------------------------------------------------------------------------


def _activate(actor: User | None, version: ModelVersion, *, verb: str) -> ModelVersion:
    path = training.model_path(version)
    try:
        TextClassifier.load(path)
    except (ModelFormatError, OSError) as exc:
        raise ActionError(
            _(
                "The model file of this version cannot be used (%(reason)s); "
                "the running model stays."
            )
            % {"reason": exc},
            field="file",
            code=ErrorCode.INVALID,
        ) from exc
    with transaction.atomic():
        rows = list(ModelVersion.objects.select_for_update().filter(head=version.head))
        version = next(v for v in rows if v.pk == version.pk)
        previous = next((v for v in rows if v.active), None)
        if previous is not None and previous.pk != version.pk:
            ModelVersion.objects.filter(pk=previous.pk).update(active=False)
        version.active, version.activated_at = True, timezone.now()
        version.save(update_fields=["active", "activated_at"])
        audit.record(
            actor,
            verb,
            version,
            before={"active": previous.pk if previous else None},
            after={"active": version.pk, "head": version.head},
        )
    return version


def _set_category(actor: User, appeal: Appeal, category: Category) -> None:
    appeal_actions.classify(
        actor,
        appeal,
        category=category,
        note=_("Category set in the triage queue: %(category)s") % {"category": category},
    )
    appeal.refresh_from_db()


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    return Category.objects.select_related("parent").filter(code=code, active=True).first()


def _unit(code: str | None) -> Unit | None:
    if not code:
        return None
    return Unit.objects.filter(code=code, active=True).first()


def _dispatch_role(actor: User, appeal: Appeal) -> str:
    for m in scope.memberships(actor):
        if m.role in DISPATCH_ROLES and m.place and appeal.place_code.startswith(m.place.code):
            return m.role
    return ""


def _require_dispatcher(actor: User, appeal: Appeal) -> None:
    if actor is None or not actor.is_authenticated:
        raise PermissionRefused(_("Please log in first."))
    if not scope.has_role(actor, *DISPATCH_ROLES):
        raise PermissionRefused(_("Your role does not allow this action."))
    if not _dispatch_role(actor, appeal):
        raise ActionError(
            _("This appeal is outside your jurisdiction."),
            field="appeal",
            code=ErrorCode.NOT_FOUND,
        )


def _require_admin(actor: User) -> None:
    if not may_manage_models(actor):
        raise PermissionRefused(_("Only the system administrator manages triage models."))


__all__ = ["Head", "activate", "decide", "rollback", "save_urgency_rule", "train"]
