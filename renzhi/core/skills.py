"""Skills and service hours written on behalf of other apps' actions.

These are building blocks, not actions: the caller (an action in `emergency` or `commons`) has
already checked the actor's permission and scope, runs them inside its own transaction and writes
its own audit event, which names what was granted or recorded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from renzhi.core.models import PersonSkill, Place, ServiceHours, Skill, SkillSource, User


def grant_skill(
    user: User,
    skill: Skill,
    *,
    source: str = SkillSource.TRAINING,
    certificate_no: str = "",
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> PersonSkill:
    """Give `user` the skill, or renew it when the new evidence lasts longer."""
    held, created = PersonSkill.objects.select_for_update().get_or_create(
        user=user,
        skill=skill,
        defaults={
            "source": source,
            "certificate_no": certificate_no,
            "valid_from": valid_from,
            "valid_until": valid_until,
        },
    )
    if not created and _lasts_longer(valid_until, held.valid_until):
        held.source = source
        held.certificate_no = certificate_no or held.certificate_no
        held.valid_from = valid_from
        held.valid_until = valid_until
        held.save()
    return held


def record_hours(
    user: User,
    place: Place,
    hours: Decimal,
    served_on: dt.date,
    *,
    source_type: str,
    source_id: str,
    note: str = "",
) -> ServiceHours:
    """Append one shift. The database refuses a second record for the same source."""
    return ServiceHours.objects.create(
        user=user,
        place=place,
        hours=hours,
        served_on=served_on,
        source_type=source_type,
        source_id=source_id,
        note=note,
    )


def total_hours(user: User) -> Decimal:
    total = ServiceHours.objects.filter(user=user).aggregate(total=Sum("hours"))["total"]
    return total or Decimal("0")


def holds_valid_skill(user: User, skill: Skill, on: dt.date) -> bool:
    return PersonSkill.objects.filter(user=user, skill=skill).exclude(valid_until__lt=on).exists()


def _lasts_longer(new: dt.date | None, old: dt.date | None) -> bool:
    if old is None:
        return new is None
    return new is None or new > old
