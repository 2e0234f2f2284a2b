"""Household records: a resident registers where they live; community staff verify it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.commons import rules
from renzhi.commons.actions.guards import forbid, locked, refuse, text
from renzhi.commons.models import Residence
from renzhi.core import audit
from renzhi.core.errors import ErrorCode
from renzhi.core.models import Place, PlaceLevel, User


def register_residence(
    actor: User,
    *,
    community: Place,
    building: str,
    room: str,
    area_m2: Decimal | str | float = 0,
    user: User | None = None,
    verify: bool = False,
) -> Residence:
    """A resident records their home; staff may record it for someone and verify at once."""
    person = user or actor
    staff = rules.is_staff_of(actor, community)
    if person != actor and not staff:
        forbid(_("Only community staff record a household for someone else."), "user")
    if community.level != PlaceLevel.COMMUNITY:
        refuse(_("Choose a community."), "community")
    if not staff and not rules.is_resident_of(actor, community):
        forbid(_("You can register only in your own community."), "community")
    area = _area(area_m2)
    with transaction.atomic():
        try:
            with transaction.atomic():
                residence = Residence.objects.create(
                    user=person,
                    community=community,
                    building=text(building, "building", max_length=20),
                    room=text(room, "room", max_length=20),
                    area_m2=area,
                    verified_by=actor if verify and staff else None,
                    verified_at=timezone.now() if verify and staff else None,
                )
        except IntegrityError:
            refuse(
                _("This person already has a household record in this community."),
                "user",
                ErrorCode.DUPLICATE,
            )
        audit.record(actor, "commons.residence.register", residence, after={"verified": verify})
    _forget_homes(person)
    return residence


def verify_residence(actor: User, residence: Residence) -> Residence:
    if not rules.is_staff_of(actor, residence.community):
        forbid(_("Only the community's staff verify household records."), "residence")
    with transaction.atomic():
        residence = locked(residence)
        if residence.verified_at is not None:
            refuse(
                _("This household record is already verified."),
                "residence",
                ErrorCode.INVALID_STATE,
            )
        residence.verified_by = actor
        residence.verified_at = timezone.now()
        residence.save(update_fields=["verified_by", "verified_at"])
        audit.record(actor, "commons.residence.verify", residence)
    return residence


def _area(value: Decimal | str | float) -> Decimal:
    try:
        area = Decimal(str(value or 0))
    except InvalidOperation:
        refuse(_("Please enter a number."), "area_m2")
    if area < 0 or area > Decimal("100000"):
        refuse(_("The floor area must be between 0 and 100,000 m²."), "area_m2")
    return area.quantize(Decimal("0.01"))


def _forget_homes(user: User) -> None:
    if hasattr(user, "_commons_homes"):
        del user._commons_homes  # type: ignore[attr-defined]
