"""Configuration of appeals: the category tree, the routing table and SLA rules (admin).

Who may change what:
- categories and SLA rules apply to the whole system, so only a system administrator without a
  jurisdiction (global admin) changes them;
- a routing rule belongs to a place, so an administrator whose jurisdiction covers that place
  may add or remove it (`Perm.MANAGE_UNITS` over the place).

Like every action: permission first, then every input problem at once as field errors, then one
transaction with an audit event. Nothing is deleted except routing rules and SLA rules, which
are pure configuration (the audit event keeps what they were).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from renzhi.appeals.models import Category, Priority, RoutingRule, SlaRule
from renzhi.core import audit, scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, Unit, UnitKind, User
from renzhi.core.permissions import Perm, has_perm, require

__all__ = [
    "LoadResult",
    "create_category",
    "create_routing_rule",
    "deactivate_category",
    "delete_routing_rule",
    "delete_sla_rule",
    "load_categories",
    "may_configure",
    "update_category",
    "upsert_sla_rule",
]

CODE_RE = re.compile(r"^[0-9A-Za-z]{1,16}$")
MAX_SIGN_HOURS = 24 * 30
MAX_RESOLVE_DAYS = 365
_UNSET = object()


def may_configure(user: User | None) -> bool:
    """True for any administrator (global or of a place): they see the configuration pages."""
    return has_perm(user, Perm.MANAGE_UNITS)


# --- Categories -----------------------------------------------------------------------------


@transaction.atomic
def create_category(
    actor: User,
    *,
    code: str,
    name: str,
    parent: Category | None = None,
    default_unit_kind: str = "",
    keywords: str = "",
    description: str = "",
    public: bool = True,
    open311_public: bool = False,
    sort: int = 0,
) -> Category:
    _require_global_admin(actor)
    code = (code or "").strip()
    errors = _category_errors(
        name=name,
        default_unit_kind=default_unit_kind,
        keywords=keywords,
        description=description,
        sort=sort,
    )
    if not CODE_RE.match(code):
        errors.append(
            FieldError(
                "code", ErrorCode.INVALID, _("A category code has 1 to 16 letters or digits.")
            )
        )
    elif Category.objects.filter(code=code).exists():
        errors.append(_duplicate_category(code))
    if parent is not None:
        if parent.parent_id is not None:
            errors.append(
                FieldError(
                    "parent_code",
                    ErrorCode.INVALID,
                    _("Categories have two levels; choose a first-level parent."),
                )
            )
        elif not parent.active:
            errors.append(
                FieldError(
                    "parent_code", ErrorCode.INVALID, _("This category is no longer in use.")
                )
            )
        if code and not (code.startswith(parent.code) and len(code) > len(parent.code)):
            errors.append(
                FieldError(
                    "code",
                    ErrorCode.INVALID,
                    _("A subcategory's code starts with its parent's code %(code)s.")
                    % {"code": parent.code},
                )
            )
    if errors:
        raise ActionError(errors=errors)
    category = Category(
        code=code,
        name=name.strip(),
        parent=parent,
        default_unit_kind=default_unit_kind or "",
        keywords=(keywords or "").strip(),
        description=(description or "").strip(),
        public=public,
        open311_public=bool(open311_public),
        sort=sort,
    )
    try:
        with transaction.atomic():
            category.save(force_insert=True)
    except IntegrityError as exc:
        raise ActionError(errors=[_duplicate_category(code)]) from exc
    audit.record(actor, "appeal_category.create", category, after=_category_summary(category))
    return category


@transaction.atomic
def update_category(
    actor: User,
    category: Category,
    *,
    name=_UNSET,
    default_unit_kind=_UNSET,
    keywords=_UNSET,
    description=_UNSET,
    public=_UNSET,
    open311_public=_UNSET,
    sort=_UNSET,
    active=_UNSET,
) -> Category:
    """Change the given fields (others stay). The code and the parent never change: appeals and
    statistics refer to them."""
    _require_global_admin(actor)
    category = (
        Category.objects.select_for_update(of=("self",))
        .select_related("parent")
        .get(pk=category.pk)
    )
    before = _category_summary(category)
    given = {
        k: v
        for k, v in {
            "name": name,
            "default_unit_kind": default_unit_kind,
            "keywords": keywords,
            "description": description,
            "public": public,
            "open311_public": open311_public,
            "sort": sort,
            "active": active,
        }.items()
        if v is not _UNSET and v is not None
    }
    errors = _category_errors(
        name=given.get("name", category.name),
        default_unit_kind=given.get("default_unit_kind", category.default_unit_kind),
        keywords=given.get("keywords", category.keywords),
        description=given.get("description", category.description),
        sort=given.get("sort", category.sort),
    )
    if given.get("active") and category.parent is not None and not category.parent.active:
        errors.append(
            FieldError(
                "active",
                ErrorCode.INVALID,
                _("Reactivate the parent category “%(name)s” first.")
                % {"name": category.parent.name},
            )
        )
    if errors:
        raise ActionError(errors=errors)
    for key, value in given.items():
        setattr(category, key, value.strip() if isinstance(value, str) else value)
    category.save()
    if given.get("active") is False:
        category.children.update(active=False)
    audit.record(
        actor, "appeal_category.update", category, before=before, after=_category_summary(category)
    )
    return category


def deactivate_category(actor: User, category: Category) -> Category:
    """Retire a category (and its subcategories): residents can no longer choose it; appeals
    already filed under it keep it."""
    return update_category(actor, category, active=False)


def _category_errors(*, name, default_unit_kind, keywords, description, sort) -> list[FieldError]:
    errors = []
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Please enter a name.")))
    elif len(name) > 100:
        errors.append(
            FieldError("name", ErrorCode.INVALID, _("At most %(n)d characters.") % {"n": 100})
        )
    if default_unit_kind and default_unit_kind not in UnitKind.values:
        errors.append(FieldError("default_unit_kind", ErrorCode.INVALID, _("Unknown unit kind.")))
    for field, value in (("keywords", keywords), ("description", description)):
        if len((value or "").strip()) > 300:
            errors.append(
                FieldError(field, ErrorCode.INVALID, _("At most %(n)d characters.") % {"n": 300})
            )
    if not isinstance(sort, int) or isinstance(sort, bool) or sort < 0:
        errors.append(
            FieldError(
                "sort", ErrorCode.INVALID, _("The order must be a whole number of 0 or more.")
            )
        )
    return errors


def _duplicate_category(code: str) -> FieldError:
    return FieldError(
        "code",
        ErrorCode.DUPLICATE,
        _("The code %(code)s is already used by another category.") % {"code": code},
    )


def _category_summary(c: Category) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "parent": c.parent.code if c.parent is not None else None,
        "default_unit_kind": c.default_unit_kind,
        "public": c.public,
        "open311_public": c.open311_public,
        "active": c.active,
        "sort": c.sort,
    }


# --- Loading the demo / standard tree -------------------------------------------------------


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@transaction.atomic
def load_categories(actor: User | None, data: list[dict]) -> LoadResult:
    """Create or update the two-level tree from plain data (see `renzhi.demo.categories`).

    Idempotent: a second run with the same data changes nothing and records nothing. Existing
    categories keep their `active`/`public` flags (an administrator's retirement is respected);
    names, unit kinds, keywords and order follow the data. `actor=None` is the system (the demo
    generator, a management command); a person must be a global administrator.
    """
    if actor is not None:
        _require_global_admin(actor)
    result = LoadResult()
    existing = {c.code: c for c in Category.objects.select_for_update()}
    sort = 0
    for top in data:
        sort += 1
        parent = _load_one(
            existing,
            result,
            code=top["code"],
            name=top["name"],
            parent=None,
            unit_kind=top.get("unit_kind", ""),
            keywords=top.get("keywords", []),
            sort=sort,
        )
        for child in top.get("children", []):
            sort += 1
            _load_one(
                existing,
                result,
                code=child["code"],
                name=child["name"],
                parent=parent,
                unit_kind=child.get("unit_kind", ""),
                keywords=child.get("keywords", []),
                sort=sort,
            )
    if result.created or result.updated:
        audit.record(
            actor,
            "appeal_category.load",
            None,
            object_type="appeals.category",
            after={"created": result.created, "updated": result.updated},
        )
    return result


def _load_one(
    existing: dict[str, Category],
    result: LoadResult,
    *,
    code: str,
    name: str,
    parent: Category | None,
    unit_kind: str,
    keywords,
    sort: int,
) -> Category:
    if not CODE_RE.match(code or ""):
        raise ActionError(_("A category code has 1 to 16 letters or digits."), field="code")
    if unit_kind and unit_kind not in UnitKind.values:
        raise ActionError(_("Unknown unit kind."), field="default_unit_kind")
    wanted = {
        "name": name.strip()[:100],
        "parent_id": parent.pk if parent else None,
        "default_unit_kind": unit_kind or "",
        "sort": sort,
        "keywords": (
            " ".join(keywords) if isinstance(keywords, list | tuple) else str(keywords or "")
        )[:300],
    }
    category = existing.get(code)
    if category is None:
        category = Category.objects.create(code=code, **wanted)
        existing[code] = category
        result.created += 1
        return category
    changed = [k for k, v in wanted.items() if getattr(category, k) != v]
    if changed:
        for k in changed:
            setattr(category, k, wanted[k])
        category.save(update_fields=[k.removesuffix("_id") for k in changed])
        result.updated += 1
    else:
        result.unchanged += 1
    return category


# --- Routing table --------------------------------------------------------------------------


@transaction.atomic
def create_routing_rule(
    actor: User, *, place: Place, unit: Unit, category: Category | None = None
) -> RoutingRule:
    """category × place → unit. Without a category the rule is the place's default."""
    require(actor, Perm.MANAGE_UNITS, place)
    errors = []
    if category is not None and not category.active:
        errors.append(
            FieldError("category_code", ErrorCode.INVALID, _("This category is no longer in use."))
        )
    if not unit.active:
        errors.append(FieldError("unit_code", ErrorCode.INVALID, _("This unit is not active.")))
    elif not _unit_serves(unit, place):
        errors.append(
            FieldError(
                "unit_code",
                ErrorCode.INVALID,
                _(
                    "“%(unit)s” does not serve “%(place)s”; add the place to the "
                    "unit's coverage first."
                )
                % {"unit": unit.name, "place": place.name},
            )
        )
    duplicate = RoutingRule.objects.filter(place=place, unit=unit, category=category).exists()
    if duplicate:
        errors.append(FieldError("unit_code", ErrorCode.DUPLICATE, _("This rule already exists.")))
    if errors:
        raise ActionError(errors=errors)
    try:
        with transaction.atomic():
            rule = RoutingRule.objects.create(place=place, unit=unit, category=category)
    except IntegrityError as exc:
        raise ActionError(
            _("This rule already exists."), field="unit_code", code=ErrorCode.DUPLICATE
        ) from exc
    audit.record(actor, "routing_rule.create", rule, after=_rule_summary(rule))
    return rule


@transaction.atomic
def delete_routing_rule(actor: User, rule: RoutingRule) -> None:
    rule = (
        RoutingRule.objects.select_for_update(of=("self",))
        .select_related("place", "unit", "category")
        .get(pk=rule.pk)
    )
    require(actor, Perm.MANAGE_UNITS, rule.place)
    summary = _rule_summary(rule)
    pk = rule.pk
    rule.delete()
    audit.record(
        actor,
        "routing_rule.delete",
        None,
        object_type="appeals.routingrule",
        object_id=str(pk),
        label=str(summary),
        before=summary,
    )


def _unit_serves(unit: Unit, place: Place) -> bool:
    """A unit without a coverage list serves anywhere; otherwise its coverage must overlap the
    rule's place (a covered place is the rule's place, above it, or inside it)."""
    codes = list(unit.places.values_list("code", flat=True))
    if not codes:
        return True
    return any(place.code.startswith(c) or c.startswith(place.code) for c in codes)


def _rule_summary(rule: RoutingRule) -> dict:
    return {
        "category": rule.category.code if rule.category is not None else None,
        "place": rule.place.code,
        "unit": rule.unit.code,
    }


# --- SLA rules ------------------------------------------------------------------------------


@transaction.atomic
def upsert_sla_rule(
    actor: User,
    *,
    category: Category | None,
    priority: str,
    sign_hours,
    resolve_days,
    warn_ratio=0.8,
) -> tuple[SlaRule, bool]:
    """Set the deadlines for a category (or the default, `category=None`) and priority.

    Returns (rule, created). Deadlines of appeals already dispatched do not move.
    """
    _require_global_admin(actor)
    errors = []
    if priority not in Priority.values:
        errors.append(FieldError("priority", ErrorCode.INVALID, _("Unknown priority.")))
    if not _number_in(sign_hours, 0, MAX_SIGN_HOURS):
        errors.append(
            FieldError(
                "sign_hours",
                ErrorCode.INVALID,
                _("Sign-for time must be more than 0 and at most %(n)d working hours.")
                % {"n": MAX_SIGN_HOURS},
            )
        )
    if not _number_in(resolve_days, 0, MAX_RESOLVE_DAYS):
        errors.append(
            FieldError(
                "resolve_days",
                ErrorCode.INVALID,
                _("Resolve time must be more than 0 and at most %(n)d working days.")
                % {"n": MAX_RESOLVE_DAYS},
            )
        )
    if not _number_in(warn_ratio, 0, 1) or warn_ratio >= 1:
        errors.append(
            FieldError(
                "warn_ratio",
                ErrorCode.INVALID,
                _("The warning point must be a share between 0 and 1, e.g. 0.8."),
            )
        )
    if category is not None and not category.active:
        errors.append(
            FieldError("category_code", ErrorCode.INVALID, _("This category is no longer in use."))
        )
    if errors:
        raise ActionError(errors=errors)
    rule = SlaRule.objects.select_for_update().filter(category=category, priority=priority).first()
    before = _sla_summary(rule) if rule else None
    created = rule is None
    if rule is None:
        rule = SlaRule(category=category, priority=priority)
    rule.sign_hours, rule.resolve_days, rule.warn_ratio = (
        float(sign_hours),
        float(resolve_days),
        float(warn_ratio),
    )
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:  # a concurrent insert of the same (category, priority)
        raise ActionError(
            _("This rule was just created by someone else; reload and retry."),
            field="priority",
            code=ErrorCode.CONFLICT,
        ) from exc
    audit.record(
        actor,
        "sla_rule.create" if created else "sla_rule.update",
        rule,
        before=before,
        after=_sla_summary(rule),
    )
    return rule, created


@transaction.atomic
def delete_sla_rule(actor: User, rule: SlaRule) -> None:
    _require_global_admin(actor)
    rule = (
        SlaRule.objects.select_for_update(of=("self",)).select_related("category").get(pk=rule.pk)
    )
    summary, pk = _sla_summary(rule), rule.pk
    rule.delete()
    audit.record(
        actor,
        "sla_rule.delete",
        None,
        object_type="appeals.slarule",
        object_id=str(pk),
        label=str(summary),
        before=summary,
    )


def _number_in(value, low: float, high: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low < value <= high
    )


def _sla_summary(rule: SlaRule) -> dict:
    return {
        "category": rule.category.code if rule.category is not None else None,
        "priority": rule.priority,
        "sign_hours": rule.sign_hours,
        "resolve_days": rule.resolve_days,
        "warn_ratio": rule.warn_ratio,
    }


# --- permission -----------------------------------------------------------------------------


def _require_global_admin(actor: User | None) -> None:
    require(actor, Perm.MANAGE_UNITS)
    if not scope.is_global_admin(actor):
        raise PermissionRefused(
            _(
                "Only a system administrator without a jurisdiction can change "
                "categories and SLA rules."
            )
        )
