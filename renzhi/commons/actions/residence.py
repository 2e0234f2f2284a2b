"""Household records: a resident registers where they live; community staff verify it.

A verified record makes its holder an elector with its floor area as weight, so verification is
a four-eyes step: staff verify only someone else's record, in their own community, and confirm
the floor area then, within `COMMONS_FLOOR_AREA_BOUNDS` (default 1–1000 m²). Staff who record a
household for someone may do so only for a person whose registered home is in that community.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
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
    if verify and staff and person == actor:
        forbid(_("Nobody verifies their own household record."), "verify")
    if person != actor and not _lives_in(person, community):
        forbid(_("This person's registered home is in another community."), "user")
    area = _area(area_m2, confirmed=verify and staff)
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


def verify_residence(
    actor: User, residence: Residence, *, area_m2: Decimal | str | float | None = None
) -> Residence:
    """Staff confirm someone else's record and its floor area (`area_m2`, else the recorded one)."""
    if not rules.is_staff_of(actor, residence.community):
        forbid(_("Only the community's staff verify household records."), "residence")
    if residence.user_id == actor.pk:
        forbid(_("Nobody verifies their own household record."), "residence")
    area = _area(residence.area_m2 if area_m2 in (None, "") else area_m2, confirmed=True)
    with transaction.atomic():
        residence = locked(residence)
        if residence.verified_at is not None:
            refuse(
                _("This household record is already verified."),
                "residence",
                ErrorCode.INVALID_STATE,
            )
        before = str(residence.area_m2)
        residence.verified_by = actor
        residence.verified_at = timezone.now()
        residence.area_m2 = area
        residence.save(update_fields=["verified_by", "verified_at", "area_m2"])
        audit.record(
            actor,
            "commons.residence.verify",
            residence,
            before={"area_m2": before},
            after={"area_m2": str(area)},
        )
    return residence


def area_bounds() -> tuple[Decimal, Decimal]:
    low, high = getattr(settings, "COMMONS_FLOOR_AREA_BOUNDS", (1, 1000))
    return Decimal(str(low)), Decimal(str(high))


def _area(value: Decimal | str | float, *, confirmed: bool) -> Decimal:
    """A floor area within bounds; 0 (unknown) only while the record awaits verification."""
    try:
        area = Decimal(str(value or 0))
    except InvalidOperation:
        refuse(_("Please enter a number."), "area_m2")
    low, high = area_bounds()
    if not area.is_finite() or area > high or area < (low if confirmed else 0):
        refuse(
            _("The floor area must be between %(low)s and %(high)s m².")
            % {"low": low if confirmed else 0, "high": high},
            "area_m2",
        )
    return area.quantize(Decimal("0.01"))


def _lives_in(person: User, community: Place) -> bool:
    """A person staff record a household for: no registered home elsewhere."""
    if not person.home_place_id:
        return True
    home = Place.objects.filter(pk=person.home_place_id).first()
    while home is not None and home.level not in (PlaceLevel.COMMUNITY,) and home.parent_id:
        home = home.parent
    return home is not None and home.pk == community.pk


def _forget_homes(user: User) -> None:
    if hasattr(user, "_commons_homes"):
        del user._commons_homes  # type: ignore[attr-defined]
