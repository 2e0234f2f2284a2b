"""Masking of personal numbers for lists and exports (138****1234)."""

from __future__ import annotations

import re


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(number: str | None) -> str:
    if not number:
        return ""
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


# Mainland mobile numbers and 18-character resident ID numbers inside free text, not inside
# longer digit runs (tracking numbers, coordinates).
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![\dXx])\d{17}[\dXx](?![\dXx])")


def redact_numbers(text: str) -> str:
    """Free text fit for a public reader: phone and ID numbers inside it are masked."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
