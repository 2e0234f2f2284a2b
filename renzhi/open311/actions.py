"""Every state change of the adapter: keys, attributes, and filing an appeal for a partner.

Filing goes through `renzhi.appeals.actions.submit_appeal` with channel open311, so routing,
duplicate lookup, SLA deadlines, timeline and audit are those of every other channel; this
module only adds the link to the partner key and the attribute answers, in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals.actions import submit_appeal
from renzhi.appeals.models import Appeal, Category, Channel
from renzhi.core import audit, scope
from renzhi.core.errors import ActionError, ErrorCode, FieldError, PermissionRefused
from renzhi.core.models import Place, PlaceLevel, Role, User
from renzhi.open311 import keys, rules
from renzhi.open311.models import (
    LIST_DATATYPES,
    Datatype,
    PartnerKey,
    PartnerRequest,
    ServiceAttribute,
)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_\-.]{1,50}$")
MAX_RATE_LIMIT = 10_000


# --- Partner keys -----------------------------------------------------------------------------


@transaction.atomic
def issue_key(
    actor: User, *, name: str, place: Place | None = None, rate_limit: int = 60
) -> tuple[PartnerKey, str]:
    """A new key and its service account; the raw key is returned once and never stored."""
    if not rules.may_manage_keys(actor):
        raise PermissionRefused(_("Only an administrator can issue partner keys."))
    errors: list[FieldError] = []
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", ErrorCode.REQUIRED, _("Please name the partner system.")))
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        errors.append(
            FieldError(
                "rate_limit",
                ErrorCode.INVALID,
                _("The rate limit must be between 1 and %(n)d requests per minute.")
                % {"n": MAX_RATE_LIMIT},
            )
        )
    if place is None and not scope.is_global_admin(actor):
        errors.append(
            FieldError(
                "place",
                ErrorCode.REQUIRED,
                _("Please choose the street or district the partner serves."),
            )
        )
    elif place is not None:
        if place.level not in (PlaceLevel.DISTRICT, PlaceLevel.STREET, PlaceLevel.COMMUNITY):
            errors.append(
                FieldError("place", ErrorCode.INVALID, _("Please choose a district or street."))
            )
        elif not scope.covers(actor, place, roles_allowed={Role.ADMIN}):
            errors.append(
                FieldError(
                    "place",
                    ErrorCode.OUT_OF_SCOPE,
                    _("“%(place)s” is outside your jurisdiction.") % {"place": place.name},
                )
            )
    if errors:
        raise ActionError(errors=errors)
    account = User(
        username=f"open311-{secrets.token_hex(6)}",
        display_name=name[:50],
        is_active=False,  # a service account: it files appeals but never logs in
    )
    account.set_unusable_password()
    account.save()
    raw = keys.new_raw_key()
    key = PartnerKey.objects.create(
        name=name[:100],
        user=account,
        prefix=raw[:10],
        key_hash=keys.hash_key(raw),
        place=place,
        rate_limit=rate_limit,
        created_by=actor,
    )
    audit.record(
        actor,
        "open311.key_issue",
        key,
        after={
            "name": key.name,
            "prefix": key.prefix,
            "place": place.code if place else None,
            "rate_limit": rate_limit,
        },
    )
    return key, raw


@transaction.atomic
def revoke_key(actor: User, key: PartnerKey) -> PartnerKey:
    key = PartnerKey.objects.select_for_update().get(pk=key.pk)
    if not rules.keys_for(actor).filter(pk=key.pk).exists():
        raise PermissionRefused(_("This key is outside your jurisdiction."))
    if key.revoked_at is not None:
        raise ActionError(
            _("This key is already revoked."), field="key", code=ErrorCode.INVALID_STATE
        )
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit.record(actor, "open311.key_revoke", key, after={"prefix": key.prefix})
    return key


# --- Service attributes -----------------------------------------------------------------------


@dataclass
class AttributeFields:
    code: str
    description: str
    datatype: str
    required: bool = False
    variable: bool = True
    order: int | None = None
    datatype_description: str = ""
    values: list[dict] = field(default_factory=list)


@transaction.atomic
def save_attribute(
    actor: User,
    category: Category,
    fields: AttributeFields,
    attribute: ServiceAttribute | None = None,
) -> ServiceAttribute:
    """Add a question to a category (attribute None) or change one."""
    if not rules.may_define_attributes(actor):
        raise PermissionRefused(
            _("Only a system administrator without a jurisdiction can change service attributes.")
        )
    if attribute is not None:
        attribute = ServiceAttribute.objects.select_for_update().get(pk=attribute.pk)
        if attribute.category_id != category.pk:
            raise ActionError(_("This attribute belongs to another category."), field="category")
    siblings = ServiceAttribute.objects.filter(category=category)
    if attribute is not None:
        siblings = siblings.exclude(pk=attribute.pk)
    errors = _attribute_errors(fields, siblings)
    if errors:
        raise ActionError(errors=errors)
    before = _attribute_audit(attribute) if attribute is not None else None
    order = fields.order or (max((s.order for s in siblings), default=0) + 1)
    if attribute is None:
        attribute = ServiceAttribute(category=category)
    attribute.code = fields.code.strip()
    attribute.description = fields.description.strip()
    attribute.datatype = fields.datatype
    attribute.required = fields.required and fields.variable
    attribute.variable = fields.variable
    attribute.order = order
    attribute.datatype_description = fields.datatype_description.strip()
    attribute.values = fields.values if fields.datatype in LIST_DATATYPES else []
    attribute.save()
    audit.record(
        actor,
        "open311.attribute_save",
        attribute,
        before=before,
        after=_attribute_audit(attribute),
    )
    return attribute


@transaction.atomic
def delete_attribute(actor: User, attribute: ServiceAttribute) -> None:
    if not rules.may_define_attributes(actor):
        raise PermissionRefused(
            _("Only a system administrator without a jurisdiction can change service attributes.")
        )
    attribute = ServiceAttribute.objects.select_for_update().get(pk=attribute.pk)
    audit.record(actor, "open311.attribute_delete", attribute, before=_attribute_audit(attribute))
    attribute.delete()


def _attribute_errors(fields: AttributeFields, siblings) -> list[FieldError]:
    errors: list[FieldError] = []
    code = (fields.code or "").strip()
    if not CODE_PATTERN.match(code):
        errors.append(
            FieldError(
                "code",
                ErrorCode.INVALID,
                _("Use 1 to 50 letters, digits, “_”, “-” or “.” for the code."),
            )
        )
    elif siblings.filter(code=code).exists():
        errors.append(
            FieldError(
                "code",
                ErrorCode.DUPLICATE,
                _("This category already has an attribute with this code."),
            )
        )
    if not (fields.description or "").strip():
        errors.append(
            FieldError("description", ErrorCode.REQUIRED, _("Please write the question."))
        )
    if fields.datatype not in Datatype.values:
        errors.append(FieldError("datatype", ErrorCode.INVALID, _("Unknown datatype.")))
    if fields.order is not None:
        if fields.order < 1:
            errors.append(FieldError("order", ErrorCode.INVALID, _("The order must be 1 or more.")))
        elif siblings.filter(order=fields.order).exists():
            errors.append(
                FieldError(
                    "order", ErrorCode.DUPLICATE, _("Another attribute already has this order.")
                )
            )
    if fields.datatype in LIST_DATATYPES:
        keys_seen = [str(v.get("key", "")).strip() for v in fields.values]
        if not fields.values:
            errors.append(
                FieldError(
                    "values", ErrorCode.REQUIRED, _("Please list the values to choose from.")
                )
            )
        elif any(not k for k in keys_seen) or any(
            not str(v.get("name", "")).strip() for v in fields.values
        ):
            errors.append(
                FieldError("values", ErrorCode.INVALID, _("Every value needs a key and a name."))
            )
        elif len(set(keys_seen)) != len(keys_seen):
            errors.append(
                FieldError("values", ErrorCode.DUPLICATE, _("Two values have the same key."))
            )
    return errors


def _attribute_audit(a: ServiceAttribute) -> dict:
    return {
        "category": a.category.code,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "order": a.order,
        "values": a.values,
    }


# --- Filing a request -------------------------------------------------------------------------


@dataclass
class Filing:
    """A checked POST requests.{fmt}: where, what, who (private: never shown by GET)."""

    category: Category
    description: str
    attributes: dict[str, object]
    attribute_lines: list[str]
    lat: float | None = None
    lng: float | None = None
    place: Place | None = None
    address: str = ""
    address_id: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    # When the request was made; None: now. Only the demo, replaying history, sets it.
    received_at: dt.datetime | None = None


def file_request(key: PartnerKey, filing: Filing) -> tuple[Appeal, PartnerRequest]:
    """Create the appeal for the partner and link it to the key (all or nothing)."""
    description = filing.description.strip() or filing.category.name
    if filing.attribute_lines:
        description += (
            "\n\n" + _("Additional information:") + "\n" + "\n".join(filing.attribute_lines)
        )
    private = {
        "partner": key.name,
        "key_prefix": key.prefix,
        "first_name": filing.first_name,
        "last_name": filing.last_name,
        "email": filing.email,
        "device_id": filing.device_id,
        "account_id": filing.account_id,
        "attributes": filing.attributes,
    }
    contact_name = " ".join(n for n in (filing.first_name, filing.last_name) if n)
    with transaction.atomic():
        result = submit_appeal(
            key.user,
            channel=Channel.OPEN311,
            description=description,
            category=filing.category,
            lat=filing.lat,
            lng=filing.lng,
            place=filing.place,
            address=filing.address,
            contact_name=contact_name,
            contact_phone=filing.phone,
            extra={"open311": {k: v for k, v in private.items() if v}},
            received_at=filing.received_at,
        )
        appeal = result.appeal
        link = PartnerRequest.objects.create(
            appeal=appeal,
            key=key,
            attributes=filing.attributes,
            media_url=filing.media_url,
            address_id=filing.address_id,
        )
        audit.record(
            key.user,
            "open311.request",
            appeal,
            after={
                "partner": key.name,
                "key_prefix": key.prefix,
                "service_code": filing.category.code,
                "attributes": sorted(filing.attributes),
            },
        )
        keys.mark_used(key)
    appeal.refresh_from_db()
    return appeal, link


def record_refusal(
    key: PartnerKey | None, *, presented: str, endpoint: str, problems: list[str]
) -> None:
    """Audit a refused call that presented an api_key (valid, revoked or unknown)."""
    with transaction.atomic():
        audit.record(
            key.user if key is not None else None,
            "open311.refused",
            key,
            label=str(key) if key is not None else _("unknown Open311 key"),
            object_type="open311.partnerkey",
            object_id=str(key.pk) if key is not None else "",
            after={
                "endpoint": endpoint,
                "key_prefix": presented[:10],
                "known_key": key is not None,
                "problems": problems[:10],
            },
        )
