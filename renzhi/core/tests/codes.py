"""Test helper: a live registration code for a phone, as if step 1 had texted it."""

from __future__ import annotations

from django.utils import timezone

from renzhi.core import phone_codes
from renzhi.core.models import PhoneCode

TEST_CODE = "246810"


def live_code(phone: str, code: str = TEST_CODE) -> str:
    """Store a fresh code for `phone` (bypassing the SMS and the limits) and return it."""
    now = timezone.now()
    PhoneCode.objects.create(
        phone=phone,
        code_hash=phone_codes._hash(phone, code),
        created_at=now,
        expires_at=now + phone_codes.CODE_LIFETIME,
    )
    return code
