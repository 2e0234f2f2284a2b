"""How many appeals a resident may file in a while (issue 23 #10).

A resident filed ten appeals in under a second; each one costs a dispatcher's attention and
counts in the street's figures. Residents' own filings (the web form, the API as a resident,
Open311 on a resident's behalf) are counted in the database, per resident account and per
contact phone, over a short window and over a day (`settings.RENZHI_INTAKE_THROTTLE`).

Staff channels are not counted per caller: a hotline operator or grid worker records what
callers report (ten calls about one burst main are ten records that staff merge), an import is
a batch a person checked, and those staff are accountable through their role and the audit
log. Counting the caller's phone there would drop real reports.
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from renzhi.appeals.models import Appeal, Channel
from renzhi.core.errors import Throttled
from renzhi.core.models import User

# The channels through which residents file for themselves.
RESIDENT_CHANNELS = (Channel.WEB, Channel.OPEN311)

DEFAULTS = {"WINDOW_MINUTES": 10, "PER_WINDOW": 5, "PER_DAY": 30}


def check_intake_rate(
    actor: User | None, channel: str, phone: str, now: dt.datetime | None = None
) -> None:
    """Raise `Throttled` (field `description`) if this filing would pass a limit.

    On the web channel the resident account is counted; on both resident channels the phone
    is. Call it inside the intake transaction after locking the resident's row, so two
    simultaneous filings of one resident are counted one after the other.
    """
    if channel not in RESIDENT_CHANNELS:
        return
    counted = []
    if channel == Channel.WEB and actor is not None and actor.pk:
        counted.append(Q(resident=actor))
    if phone:
        counted.append(Q(contact_phone=phone, channel__in=RESIDENT_CHANNELS))
    if not counted:
        return
    who = counted[0] if len(counted) == 1 else counted[0] | counted[1]
    limits = {**DEFAULTS, **getattr(settings, "RENZHI_INTAKE_THROTTLE", {})}
    now = now or timezone.now()
    window = dt.timedelta(minutes=limits["WINDOW_MINUTES"])
    for span, most in ((window, limits["PER_WINDOW"]), (dt.timedelta(days=1), limits["PER_DAY"])):
        recent = list(
            Appeal.objects.filter(who, received_at__gt=now - span, received_at__lte=now)
            .order_by("-received_at")
            .values_list("received_at", flat=True)[:most]
        )
        if len(recent) >= most:
            wait = (recent[-1] + span - now).total_seconds()
            raise Throttled(
                _(
                    "You have filed %(n)d appeals in a short time. Please wait %(minutes)d "
                    "minutes before filing another; for an emergency call 110 or 12345."
                )
                % {"n": len(recent), "minutes": max(1, math.ceil(wait / 60))},
                retry_after=math.ceil(wait),
                field="description",
            )
