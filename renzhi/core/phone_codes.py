"""One-time codes that prove a phone number belongs to the person registering with it.

Step 1 texts a 6-digit code (valid `CODE_LIFETIME`, at most `MAX_ATTEMPTS` guesses); step 2
redeems it together with the account details. Only a keyed hash of the code is stored, so a
copy of the database does not give away live codes.

Whether a number is registered is never revealed to the requester: both cases get the same
answer and count toward the same limits; the text itself (which only the number's owner reads)
says "already registered" instead of carrying a code. Requests are limited per number and per
client address, counted in the database (stateless app servers share the counts).

The text goes through the SMS sender of `settings.RENZHI_SMS_SENDER` (the notification sender
interface); the development stub logs it, code included.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from renzhi.core.errors import ActionError, ErrorCode
from renzhi.core.models import PhoneCode, User
from renzhi.core.notify import Message

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 5
WINDOW = dt.timedelta(hours=1)


def send_code(phone: str, *, ip: str | None) -> PhoneCode:
    """Text a registration code to `phone` (or, if it is registered, a notice saying so).

    The caller has checked the number's format. Raises ActionError (429) past a rate limit.
    """
    now = timezone.now()
    _check_limits(phone, ip or None, now)
    registered = User.objects.filter(Q(username=phone) | Q(phone=phone)).exists()
    code = "" if registered else f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = PhoneCode.objects.create(
        phone=phone,
        code_hash=_hash(phone, code) if code else "",
        ip=ip or None,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    if registered:
        text = _(
            "This number is already registered with Renzhi. Sign in with your password; if you "
            "forgot it, ask your community office to reset it."
        )
    else:
        text = _(
            "Your Renzhi registration code is %(code)s. It is valid for %(minutes)d minutes; "
            "do not share it with anyone."
        ) % {"code": code, "minutes": CODE_LIFETIME.seconds // 60}
    sender = import_string(settings.RENZHI_SMS_SENDER)()
    recipient = User(username=phone, phone=phone)  # not saved: the sender needs only the number
    message = Message(kind="phone_code", title=text)
    transaction.on_commit(lambda: sender.send(recipient, message))
    return row


def code_sent_message() -> str:
    """The one answer to step 1, whether or not the number is registered."""
    return _(
        "If this number can register, a text message with a 6-digit code is on its way. "
        "The code is valid for 10 minutes."
    )


def redeem(phone: str, code: str) -> bool:
    """True, once, for the latest live code of `phone`; every wrong guess uses up an attempt.

    Runs in its own transaction so a wrong guess is counted even though the caller then
    refuses the registration.
    """
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, used_at=None, expires_at__gt=now)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None or not row.code_hash or row.attempts >= MAX_ATTEMPTS:
            return False
        if len(code) != CODE_DIGITS or not constant_time_compare(row.code_hash, _hash(phone, code)):
            PhoneCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            return False
        PhoneCode.objects.filter(pk=row.pk).update(used_at=now)
        return True


def _check_limits(phone: str, ip: str | None, now: dt.datetime) -> None:
    since = now - WINDOW
    recent = PhoneCode.objects.filter(created_at__gte=since)
    last = recent.filter(phone=phone).order_by("-created_at").first()
    interval = dt.timedelta(seconds=settings.RENZHI_PHONE_CODE_INTERVAL_SECONDS)
    too_soon = last is not None and now - last.created_at < interval
    per_number = recent.filter(phone=phone).count() >= settings.RENZHI_PHONE_CODES_PER_NUMBER
    per_ip = ip is not None and recent.filter(ip=ip).count() >= settings.RENZHI_PHONE_CODES_PER_IP
    if too_soon or per_number or per_ip:
        raise ActionError(
            _("Too many codes requested. Please wait a while before asking for another."),
            field="phone",
            code=ErrorCode.RATE_LIMITED,
        )


def _hash(phone: str, code: str) -> str:
    return salted_hmac("renzhi.core.phone_codes", f"{phone}:{code}", algorithm="sha256").hexdigest()
