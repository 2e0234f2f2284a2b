"""The secret ballot: checking a choice, and the voter's receipt for changing it.

When a vote allows changes, the voter gets a random receipt once, at casting. The ballot keeps
only HMAC-SHA256(server key, vote id + receipt); the server never stores the receipt, so neither
the database nor the server key alone links a ballot to a person. Presenting the receipt finds
the ballot to replace. A lost receipt means the vote cannot be changed (it still counts).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from django.conf import settings
from django.utils.translation import gettext as _

from renzhi.commons.models import Vote, VoteMethod
from renzhi.core.errors import ActionError

RECEIPT_BYTES = 9  # 12 characters of URL-safe base64: 72 bits


def new_receipt() -> str:
    return secrets.token_urlsafe(RECEIPT_BYTES)


def receipt_hash(vote: Vote, receipt: str) -> str:
    key = hashlib.sha256(f"commons.ballot:{settings.SECRET_KEY}".encode()).digest()
    message = f"{vote.pk}:{receipt.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def clean_choice(
    vote: Vote, choice: Sequence[int] | int | None, positions: Sequence[int]
) -> list[int]:
    """The choice as stored: a list of option positions, valid for the vote's method."""
    if isinstance(choice, int):
        choice = [choice]
    picked = list(choice or [])
    valid = set(positions)
    if not picked or any(not isinstance(p, int) or p not in valid for p in picked):
        raise ActionError(_("Choose one of the vote's options."), field="choice")
    if len(set(picked)) != len(picked):
        raise ActionError(_("Each option may be chosen only once."), field="choice")
    if vote.method in (VoteMethod.YES_NO, VoteMethod.SINGLE) and len(picked) != 1:
        raise ActionError(_("Choose exactly one option."), field="choice")
    if vote.method == VoteMethod.APPROVAL:
        picked.sort()
    return picked
